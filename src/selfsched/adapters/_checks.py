"""Argument checks shared by the shipped stores: a malformed argument is a typed error.

The Scheduler only hands a store well-formed values; these checks are for code that calls a store
directly (a migration, a notebook, another service), so that a mistake there raises a
:class:`~selfsched.errors.SelfschedError` naming the argument instead of a driver's ``TypeError``
or a silently wrong row.
"""

from __future__ import annotations

from datetime import datetime

from selfsched import _time, _validate
from selfsched.errors import Conflict
from selfsched.events import AuditEntry, OutboxItem
from selfsched.model import Appointment

__all__ = ["appointment", "entry", "follows", "identifier", "instant", "item", "text"]


def appointment(value: object) -> Appointment:
    """An :class:`~selfsched.model.Appointment`."""
    return _validate.instance("appointment", value, Appointment, "an Appointment")


def item(value: object) -> OutboxItem:
    """An :class:`~selfsched.events.OutboxItem`."""
    return _validate.instance("item", value, OutboxItem, "an OutboxItem")


def entry(value: object) -> AuditEntry:
    """An :class:`~selfsched.events.AuditEntry`."""
    return _validate.instance("entry", value, AuditEntry, "an AuditEntry")


def follows(entry: AuditEntry, last_seq: int | None) -> None:
    """:class:`~selfsched.errors.Conflict` unless *entry* is numbered one past *last_seq* (the
    last stored entry's, ``None`` for an empty record): the chain neither forks nor skips."""
    expected = 1 if last_seq is None else last_seq + 1
    if entry.seq != expected:
        raise Conflict(
            f"Audit entry {entry.seq} does not follow entry {expected - 1}; reload the last "
            f"entry and chain to it."
        )


def identifier(name: str, value: object) -> str:
    """An id (see :func:`selfsched._validate.identifier`)."""
    return _validate.identifier(name, value)


def text(name: str, value: object) -> str:
    """A string (an idempotency fingerprint)."""
    return _validate.text(name, value)


def instant(name: str, value: object) -> datetime:
    """An aware datetime, in UTC (query bounds may lie outside the span given values keep)."""
    return _time.to_utc(name, value)
