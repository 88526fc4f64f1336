"""Calendar invites on the wire: the real SMTP server on loopback receives them, and what it
received is parsed back with the ``email`` package and ``icalendar``."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from zoneinfo import ZoneInfo

import attrs
import icalendar

from selfsched import ClientActor, ClinicianActor, LiveSettings
from selfsched.adapters.memory import InMemoryStore
from selfsched.events import EmailKind, EmailMessage

from .support import World, make_world
from .test_smtp import Handler, handler, mailer, port

__all__ = ["handler", "port"]  # the fixtures, used by name

NY_SLOT = datetime(2026, 3, 9, 14, tzinfo=UTC)
"""Monday 9 March, 10:00 in New York (after the clocks went forward)."""


def invites_world(port: int) -> World:
    """The adapter tests' world delivering through the test server: Dr. Ada in New York, the
    practice sending invites, with a reply-to address (the invite's organiser)."""
    built = make_world(InMemoryStore(), mailer=mailer(port))
    ada = built.directory.clinicians["dr-a"]
    built.directory.clinicians["dr-a"] = attrs.evolve(ada, zone="America/New_York")
    live = built.scheduler.settings
    assert isinstance(live, LiveSettings)
    live.replace(
        attrs.evolve(live.current(), calendar_invites=True, reply_to="desk@clinic.example.test")
    )
    return built


def invite_of(message: MimeMessage) -> tuple[str, icalendar.Calendar]:
    """The ``method`` parameter of the message's text/calendar part, and the part parsed."""
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert isinstance(part, MimeMessage)
    assert "utf-8" == part.get_content_charset()
    return str(part.get_param("method")), icalendar.Calendar.from_ical(part.get_content())


def test_an_approval_and_a_practice_cancellation_arrive_with_their_invites(
    port: int, handler: Handler
) -> None:
    built = invites_world(port)
    ada = ClinicianActor("dr-a")
    request = built.scheduler.book(ClientActor("client-1"), "dr-a", NY_SLOT)
    approved = built.scheduler.approve(ada, request.id)
    cancelled = built.scheduler.cancel_by_practice(ada, request.id)
    assert 2 == built.scheduler.dispatch().delivered

    first, second = handler.received
    assert ["text/plain", "text/html", "text/calendar"] == [
        p.get_content_type() for p in first.iter_parts()
    ]
    assert "Your appointment was cancelled" == second["Subject"]
    found = []
    for message in (first, second):
        method, calendar = invite_of(message)
        [event] = calendar.walk("VEVENT")
        [zone] = calendar.walk("VTIMEZONE")
        found.append(
            (
                method,
                calendar["METHOD"],
                event["UID"],
                event["SEQUENCE"],
                event["STATUS"],
                event["DTSTART"].params["TZID"],
                zone["TZID"],
                event.decoded("DTSTART"),
                event["ATTENDEE"],
                event["ORGANIZER"],
            )
        )
    uid = f"{request.id}@clinic.example.test"
    ten = datetime(2026, 3, 9, 10, tzinfo=ZoneInfo("America/New_York"))
    common = ("America/New_York", "America/New_York", ten, "mailto:client-1@example.test")
    assert [
        ("REQUEST", "REQUEST", uid, approved.version, "CONFIRMED", *common),
        ("CANCEL", "CANCEL", uid, cancelled.version, "CANCELLED", *common),
    ] == [row[:-1] for row in found]
    assert all(row[-1] == "mailto:desk@clinic.example.test" for row in found)
    assert [EmailKind.APPROVED, EmailKind.CANCELLED] == [
        EmailKind(m["Message-ID"].split(".")[1]) for m in handler.received
    ]


def test_an_email_without_html_still_carries_its_invite(port: int, handler: Handler) -> None:
    """The invite is an alternative to the plain text when there is no HTML."""
    built = invites_world(port)
    request = built.scheduler.book(ClientActor("client-1"), "dr-a", NY_SLOT)
    built.scheduler.approve(ClinicianActor("dr-a"), request.id)
    store = built.scheduler.store
    assert isinstance(store, InMemoryStore)
    [item] = store.outbox_items()
    assert isinstance(item.payload, EmailMessage)
    mailer(port).send(attrs.evolve(item.payload, html=""))
    [received] = handler.received
    assert ["text/plain", "text/calendar"] == [p.get_content_type() for p in received.iter_parts()]
    method, calendar = invite_of(received)
    assert ("REQUEST", "REQUEST") == (method, calendar["METHOD"])
