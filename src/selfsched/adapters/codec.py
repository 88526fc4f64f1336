"""What a store of your own needs to keep outbox payloads and audit changes as JSON.

A store (:class:`~selfsched.ports.AppointmentStore`) keeps two kinds of values that are not
plain columns: an outbox item's payload, an :class:`~selfsched.events.EmailMessage` or a
:class:`~selfsched.events.ChartNote`, and an audit entry's ``changes`` pairs. These functions turn
them into JSON and back, the same way the shipped SQLite and PostgreSQL stores do (the
SQLAlchemy store example in the repository's ``examples/`` uses them too). The JSON is the
values' :mod:`selfsched.serialize` form: one codec for the stores and for exchanging values.

Payloads written by an earlier selfsched still decode. One stored before that form existed has
no ``"schema_version"`` and reads as version 1. An email stored before emails carried the client
id and the practice's reply-to address reads back with ``client_id == ""`` (not recorded; the
codec does not guess whom it was for) and ``reply_to`` ``None`` (no ``Reply-To`` header, as it
was written). Every email written now has both keys.

Everything else a store keeps is plain: appointment fields are strings, instants, booleans and a
version number (a status or an origin is a string enum: store its value). Keep an audit
entry's ``at`` as the text ``entry.at.isoformat()``, which is what its hash covers, and read it
back with ``datetime.fromisoformat``, so that :func:`~selfsched.events.verify_chain` still
accepts the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from selfsched.adapters import _codec
from selfsched.events import ChartNote, EmailMessage

__all__ = ["changes_from_json", "changes_to_json", "payload_from_dict", "payload_to_dict"]


def payload_to_dict(payload: EmailMessage | ChartNote) -> dict[str, object]:
    """A JSON-ready ``dict`` of an outbox payload: :func:`selfsched.serialize.to_dict`.

    Its ``"type"`` is ``"email"`` or ``"chart_note"``, the payload's kind; store the ``dict`` in a
    JSON column, or as text with :func:`json.dumps`.
    """
    return _codec.payload_to_dict(payload)


def payload_from_dict(data: Mapping[str, Any]) -> EmailMessage | ChartNote:
    """The payload :func:`payload_to_dict` encoded.

    Raises :class:`~selfsched.errors.StorageError` when *data* is not such a payload (an unknown
    ``"type"``, a missing or malformed field), from the
    :class:`~selfsched.errors.InvalidDocument` that names the field. A payload without
    ``"schema_version"`` reads as version 1; an email without ``"client_id"`` or
    ``"reply_to"``, written before emails carried them, decodes with ``client_id=""`` and
    ``reply_to=None``.
    """
    return _codec.payload_from_dict(data)


def changes_to_json(changes: tuple[tuple[str, str], ...]) -> str:
    """An audit entry's ``changes`` as JSON text: an array of ``[name, value]`` arrays."""
    return _codec.changes_to_json(changes)


def changes_from_json(data: str | list[list[str]]) -> tuple[tuple[str, str], ...]:
    """The ``changes`` pairs of JSON text from :func:`changes_to_json`.

    *data* may also be the array already decoded, as a driver returns a JSON column's value.
    Raises :class:`~selfsched.errors.StorageError` when it is not an array of ``[name, value]``
    string pairs.
    """
    return _codec.changes_from_json(data)
