"""Helpers for the adapter tests: the store contract's builders, under the names the tests use.

They live in the package (:mod:`selfsched.testing._builders`) so that the contract users run and
these tests build the same appointments, outbox items and scheduler worlds.
"""

from __future__ import annotations

from selfsched.testing import SequentialIds
from selfsched.testing._builders import (
    HOUR,
    NOW,
    SLOT,
    World,
    appointment,
    directory,
    draft,
    email_item,
    make_world,
    note_item,
)

__all__ = [
    "HOUR",
    "NOW",
    "SLOT",
    "SequentialIds",
    "World",
    "appointment",
    "directory",
    "draft",
    "email_item",
    "make_world",
    "note_item",
]
