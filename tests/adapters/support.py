"""Helpers for the adapter tests: a scheduler world over any store, and a race runner."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Client,
    Clinician,
    Practice,
    Scheduler,
    SchedulingMode,
    WorkHours,
)
from selfsched.events import AuditEntry, ChartNote, EmailKind, EmailMessage, OutboxItem
from selfsched.ports import AppointmentStore, Mailer
from selfsched.testing import FixedClock, InMemoryDirectory, RecordingChart

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Monday 2 March 2026, 09:00 UTC: the clock of every scheduler test."""
SLOT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
"""Wednesday 10:00 UTC: inside work hours, on the grid, past the notice, inside the horizon."""
HOUR = timedelta(hours=1)
NEW_YORK = ZoneInfo("America/New_York")
"""A zone with an offset, for instants given outside UTC."""


def appointment(
    appointment_id: str = "a-1",
    *,
    start: datetime = SLOT,
    minutes: int = 50,
    clinician_id: str = "dr-a",
    client_id: str = "client-1",
    status: AppointmentStatus = AppointmentStatus.PENDING,
    **fields: object,
) -> Appointment:
    """An appointment with sensible defaults."""
    return Appointment(
        id=appointment_id,
        client_id=client_id,
        clinician_id=clinician_id,
        start=start,
        end=start + timedelta(minutes=minutes),
        status=status,
        **fields,  # type: ignore[arg-type]
    )


def email_item(item_id: str, created_at: datetime = NOW) -> OutboxItem:
    """An outbox item carrying an email."""
    message = EmailMessage(
        message_id=f"<{item_id}.approved.v2@clinic.example.test>",
        kind=EmailKind.APPROVED,
        appointment_id="a-1",
        to="client-1@example.test",
        subject="Your appointment request was approved",
        text="Wednesday, March 4, 2026 at 10:00 AM — Dr. Ada, Main office",
        html="<p>Wednesday, March 4, 2026 at 10:00&nbsp;AM &mdash; Dr. Ada</p>",
    )
    return OutboxItem(id=item_id, payload=message, created_at=created_at)


def note_item(item_id: str, created_at: datetime = NOW) -> OutboxItem:
    """An outbox item carrying a chart note (created in New York time)."""
    note = ChartNote(
        note_id=f"note-{item_id}",
        client_id="client-1",
        appointment_id="a-1",
        title="Appointment Cancellation Note",
        text="Reason given by the client: a fever — 38.5 °C",
        created_at=created_at.astimezone(NEW_YORK),
        late=True,
    )
    return OutboxItem(id=item_id, payload=note, created_at=created_at)


def draft(action: str, at_: datetime = NOW, **fields: object) -> AuditEntry:
    """An unchained audit entry."""
    return AuditEntry(seq=0, at=at_, actor="client:client-1", action=action, outcome="ok", **fields)  # type: ignore[arg-type]


# -- a scheduler world ----------------------------------------------------------------------------


@attrs.define
class SlowDirectory(InMemoryDirectory):
    """A directory whose calendar look-up takes a while, as a remote calendar would.

    The scheduler reads events inside its unit of work, between checking a slot and writing
    it: the delay widens the window in which an unserialised store would let two bookings in.
    """

    delay: float = 0.0

    def events(self, clinician_id: str, start: datetime, end: datetime) -> list[CalendarEvent]:
        """The clinician's events, after :attr:`delay` seconds."""
        time.sleep(self.delay)
        return super().events(clinician_id, start, end)


class ThreadSafeIds:
    """Ids ``"<kind>-1"``, ``"<kind>-2"``, ... that two threads may draw at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def new_id(self, kind: str) -> str:
        """The next id of *kind*."""
        with self._lock:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            return f"{kind}-{self._counts[kind]}"


def directory(delay: float = 0.0) -> SlowDirectory:
    """Two clinicians (UTC, weekdays 09:00-17:00) and two clients with email addresses."""
    hours = WorkHours.weekdays("09:00-17:00", location="Main office")
    clinicians = [
        Clinician(id=cid, name=name, work_hours=hours, service_code="90834")
        for cid, name in (("dr-a", "Dr. Ada"), ("dr-b", "Dr. Bo"))
    ]
    clients = [Client(id=cid, email=f"{cid}@example.test") for cid in ("client-1", "client-2")]
    return SlowDirectory({c.id: c for c in clinicians}, {c.id: c for c in clients}, {}, delay=delay)


@attrs.define
class World:
    """A scheduler over one store, with the clock and directory it uses."""

    scheduler: Scheduler
    clock: FixedClock
    directory: SlowDirectory


def make_world(
    store: AppointmentStore,
    *,
    mode: SchedulingMode = SchedulingMode.REQUIRES_APPROVAL,
    delay: float = 0.0,
    mailer: Mailer | None = None,
    send_confirmations: bool = False,
    max_attempts: int = 5,
) -> World:
    """A scheduler for a practice in *mode*, dispatching only when told to."""
    clock = FixedClock(NOW)
    found = directory(delay)
    scheduler = Scheduler(
        store=store,
        directory=found,
        clock=clock,
        ids=ThreadSafeIds(),
        practice=Practice(name="Test Clinic", policy=ApprovalPolicy(mode=mode)),
        mailer=mailer,
        chart=RecordingChart(),
        send_confirmations=send_confirmations,
        email_domain="clinic.example.test",
        auto_dispatch=False,
        max_attempts=max_attempts,
    )
    return World(scheduler, clock, found)


# -- races ----------------------------------------------------------------------------------------


def race(*calls: Callable[[], object], timeout: float = 20.0) -> list[object]:
    """Run *calls* in threads released together; each result, or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001  (the outcome under test)
            outcomes[index] = exc

    threads = [
        threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a racing call did not finish"
    return outcomes


def at(hour: int, minute: int = 0, *, day: int = 4) -> datetime:
    """An instant in March 2026, UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


HOUR = timedelta(hours=1)
