"""Row encoding shared by the SQL stores: instants, outbox payloads and audit changes.

- Instants are stored in UTC. SQLite keeps them as fixed-width ISO-8601 text
  (``2026-03-09T14:00:00.000000+00:00``), which sorts the same way as the instants do.
- An outbox payload is its :mod:`selfsched.serialize` JSON object, discriminated by ``"type"``:
  ``"email"`` for an :class:`~selfsched.events.EmailMessage`, ``"chart_note"`` for a
  :class:`~selfsched.events.ChartNote`. An outbox row also keeps the item's delivery state:
  its claim (``claimed_until``), its back-off (``not_before``) and when it was purged.
- Payloads stored before that form existed have no ``"schema_version"``; they read as version 1,
  the shape they have. An email's ``"client_id"`` and ``"reply_to"`` came later than its other
  keys. An email stored without them decodes with ``client_id=""`` (not recorded: the payload
  does not say who it was for, and the codec does not guess) and ``reply_to=None`` (no
  ``Reply-To`` header, as it was sent then). Nothing is rewritten: the row reads this way every
  time.
- An audit entry's ``changes`` are the array of ``[name, value]`` arrays of their
  :mod:`selfsched.serialize` form.
- An audit entry's ``at`` is stored as the exact ISO text its hash was computed over, so reading
  an entry back reproduces its digest (:func:`selfsched.events.verify_chain`).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from selfsched import _time, serialize
from selfsched.errors import InvalidDocument, SelfschedError, StorageError
from selfsched.events import AuditEntry, ChartNote, EmailMessage, OutboxItem
from selfsched.model import Appointment

__all__ = [
    "APPOINTMENT_COLUMNS",
    "NO_CLIENT_ID",
    "OUTBOX_COLUMNS",
    "appointment_from_row",
    "appointment_to_row",
    "changes_from_json",
    "changes_to_json",
    "instant_from_text",
    "instant_to_text",
    "outbox_from_row",
    "outbox_to_row",
    "payload_from_dict",
    "payload_kind",
    "payload_to_dict",
]


def instant_to_text(name: str, value: datetime) -> str:
    """Fixed-width UTC ISO-8601 text with microseconds; refuses naive datetimes."""
    return _time.to_utc(name, value).isoformat(timespec="microseconds")


def instant_from_text(text: str) -> datetime:
    """The aware UTC instant of text written by :func:`instant_to_text`."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise StorageError(
            f"A stored instant {text!r} has no offset; the row was not written by selfsched."
        )
    return value.astimezone(UTC)


APPOINTMENT_COLUMNS = (
    "id",
    "client_id",
    "clinician_id",
    "start_at",
    "end_at",
    "status",
    "service_code",
    "code_modifier",
    "location",
    "origin",
    "created_at",
    "decided_at",
    "decided_by",
    "cancelled_at",
    "late_cancellation",
    "version",
)
"""The appointment columns, in the order of :func:`appointment_to_row`."""


def appointment_to_row(a: Appointment, instant: Callable[[str, datetime], Any]) -> tuple[Any, ...]:
    """Column values of *a*; *instant* encodes each datetime (``None`` stays ``None``)."""

    def maybe(name: str, value: datetime | None) -> Any:  # noqa: ANN401  (a driver value)
        return None if value is None else instant(name, value)

    return (
        a.id,
        a.client_id,
        a.clinician_id,
        instant("start", a.start),
        instant("end", a.end),
        str(a.status),
        a.service_code,
        a.code_modifier,
        a.location,
        str(a.origin),
        maybe("created_at", a.created_at),
        maybe("decided_at", a.decided_at),
        a.decided_by,
        maybe("cancelled_at", a.cancelled_at),
        a.late_cancellation,
        a.version,
    )


def appointment_from_row(row: Sequence[Any], instant: Callable[[Any], datetime]) -> Appointment:
    """The appointment of a row in :data:`APPOINTMENT_COLUMNS` order; *instant* decodes times."""

    def maybe(value: object) -> datetime | None:
        return None if value is None else instant(value)

    try:
        return Appointment(
            id=row[0],
            client_id=row[1],
            clinician_id=row[2],
            start=instant(row[3]),
            end=instant(row[4]),
            status=row[5],
            service_code=row[6],
            code_modifier=row[7],
            location=row[8],
            origin=row[9],
            created_at=maybe(row[10]),
            decided_at=maybe(row[11]),
            decided_by=row[12],
            cancelled_at=maybe(row[13]),
            late_cancellation=bool(row[14]),
            version=int(row[15]),
        )
    except (SelfschedError, TypeError, ValueError) as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"A stored appointment {row[0]!r} is malformed: {exc}") from exc


NO_CLIENT_ID = ""
"""The ``client_id`` of an email stored before emails carried one: not recorded."""


def payload_kind(payload: EmailMessage | ChartNote) -> str:
    """``"email"`` or ``"chart_note"``."""
    return "email" if isinstance(payload, EmailMessage) else "chart_note"


def payload_to_dict(payload: EmailMessage | ChartNote) -> dict[str, object]:
    """A JSON-ready object for an outbox payload: its :func:`selfsched.serialize.to_dict`."""
    return serialize.to_dict(payload)


def payload_from_dict(data: Mapping[str, Any]) -> EmailMessage | ChartNote:
    """The payload :func:`payload_to_dict` encoded; :class:`StorageError` if it is malformed.

    A payload stored without ``"schema_version"`` reads as version 1; an email without
    ``client_id`` or ``reply_to`` decodes with ``client_id=""`` and ``reply_to=None`` (see the
    module's docstring).
    """
    if not isinstance(data, Mapping):
        raise StorageError(f"A stored outbox payload is a {type(data).__name__}, not an object.")
    stored = {"schema_version": 1, **data}
    if stored.get("type") == "email":
        stored = {"client_id": NO_CLIENT_ID, **stored}
    try:
        payload = serialize.from_dict(stored)
    except InvalidDocument as exc:
        raise StorageError(f"A stored outbox payload is malformed: {exc}") from exc
    if not isinstance(payload, EmailMessage | ChartNote):
        raise StorageError(
            f"A stored outbox payload has type {stored['type']!r}; an outbox payload is an "
            f"'email' or a 'chart_note'."
        )
    return payload


OUTBOX_COLUMNS = (
    "id",
    "kind",
    "payload",
    "created_at",
    "attempts",
    "uncertain",
    "delivered_at",
    "failed",
    "last_error",
    "claimed_until",
    "not_before",
    "purged_at",
)
"""The outbox columns, in the order of :func:`outbox_to_row`."""


def outbox_to_row(
    item: OutboxItem,
    instant: Callable[[str, datetime], Any],
    payload: Callable[[dict[str, object]], Any],
) -> tuple[Any, ...]:
    """Column values of *item*; *instant* encodes each datetime, *payload* the payload's dict."""

    def maybe(name: str, value: datetime | None) -> Any:  # noqa: ANN401  (a driver value)
        return None if value is None else instant(name, value)

    return (
        item.id,
        payload_kind(item.payload),
        payload(payload_to_dict(item.payload)),
        instant("created_at", item.created_at),
        item.attempts,
        item.uncertain,
        maybe("delivered_at", item.delivered_at),
        item.failed,
        item.last_error,
        maybe("claimed_until", item.claimed_until),
        maybe("not_before", item.not_before),
        maybe("purged_at", item.purged_at),
    )


def outbox_from_row(
    row: Sequence[Any],
    instant: Callable[[Any], datetime],
    payload: Callable[[Any], Mapping[str, Any]],
) -> OutboxItem:
    """The item of a row in :data:`OUTBOX_COLUMNS` order; *payload* decodes the payload column.

    :class:`StorageError` if the row is malformed.
    """

    def maybe(value: object) -> datetime | None:
        return None if value is None else instant(value)

    try:
        data = payload(row[2])
    except (TypeError, ValueError) as exc:
        raise StorageError(f"Outbox item {row[0]!r} has a malformed payload.") from exc
    try:
        return OutboxItem(
            id=row[0],
            payload=payload_from_dict(data),
            created_at=instant(row[3]),
            attempts=int(row[4]),
            uncertain=bool(row[5]),
            delivered_at=maybe(row[6]),
            failed=bool(row[7]),
            last_error=row[8],
            claimed_until=maybe(row[9]),
            not_before=maybe(row[10]),
            purged_at=maybe(row[11]),
        )
    except (SelfschedError, TypeError, ValueError) as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"A stored outbox item {row[0]!r} is malformed: {exc}") from exc


def changes_to_json(changes: tuple[tuple[str, str], ...]) -> str:
    """Audit ``changes`` pairs as a JSON array of ``[name, value]`` arrays."""
    return json.dumps(serialize.field_to_json(AuditEntry, "changes", changes))


def changes_from_json(data: str | list[list[str]]) -> tuple[tuple[str, str], ...]:
    """The pairs :func:`changes_to_json` encoded (text, or already decoded JSON);
    :class:`StorageError` if they are malformed."""
    try:
        pairs = json.loads(data) if isinstance(data, str) else data
        changes = serialize.field_from_json(AuditEntry, "changes", pairs)
    except (ValueError, InvalidDocument) as exc:
        raise StorageError(f"A stored audit entry's changes are malformed: {exc}") from exc
    return typing.cast("tuple[tuple[str, str], ...]", changes)
