"""No text selfsched keeps may hold a NUL character (U+0000).

PostgreSQL keeps no NUL in ``text`` or ``jsonb``. A value holding one used to be accepted by the
model and then fail in the PostgreSQL store (a ``StorageError`` on booking, cancelling or sending
an email), so a client whose name held one could not book there. Now the value is refused where
it is built, with a typed error naming the field and the position, never the value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from selfsched import (
    Appointment,
    CalendarEvent,
    ChartNote,
    Client,
    Clinician,
    EmailKind,
    EmailMessage,
    Practice,
)
from selfsched.errors import InvalidInput

AT = datetime(2026, 3, 9, 14, tzinfo=UTC)
HOUR_LATER = datetime(2026, 3, 9, 15, tzinfo=UTC)


def email(**changes: str) -> EmailMessage:
    fields = {
        "message_id": "<a-1.approved.v2@clinic.example.test>",
        "appointment_id": "a-1",
        "client_id": "alice",
        "to": "alice@example.test",
        "subject": "Your appointment was approved",
        "text": "See you then.",
        "html": "",
    } | changes
    return EmailMessage(kind=EmailKind.APPROVED, **fields)


BUILDERS: dict[str, tuple[str, Callable[[str], object]]] = {
    "clinician id": ("id", lambda v: Clinician(id=v)),
    "clinician name": ("name", lambda v: Clinician(id="dr-a", name=v)),
    "client name": ("name", lambda v: Client(id="alice", name=v)),
    "appointment location": (
        "location",
        lambda v: Appointment(
            id="a-1", client_id="alice", clinician_id="dr-a", start=AT, end=HOUR_LATER,
            status="booked", location=v,
        ),
    ),
    "appointment client id": (
        "client_id",
        lambda v: Appointment(
            id="a-1", client_id=v, clinician_id="dr-a", start=AT, end=HOUR_LATER, status="booked"
        ),
    ),
    "event title": ("title", lambda v: CalendarEvent.one_off(AT, HOUR_LATER, title=v)),
    "practice name": ("name", lambda v: Practice(name=v)),
    "email text": ("text", lambda v: email(text=v)),
    "email invite": ("calendar", lambda v: email(calendar=v)),
    "chart note text": (
        "text",
        lambda v: ChartNote(
            note_id="n-1", client_id="alice", appointment_id="a-1", title="Cancellation",
            text=v, created_at=AT,
        ),
    ),
}  # fmt: skip


@pytest.mark.parametrize("where", sorted(BUILDERS))
def test_a_nul_character_in_kept_text_is_refused(where: str) -> None:
    field, build = BUILDERS[where]
    build("plain")  # the same value without the NUL is fine

    with pytest.raises(InvalidInput) as caught:
        build("Ada\x00 Lovelace")

    message = str(caught.value)
    assert f"{field} contains a NUL character (U+0000) at position 3" in message
    assert "Lovelace" not in message  # the value itself is never shown (it may be PHI)
