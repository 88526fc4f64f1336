"""Test doubles for users: a fixed clock, sequential ids, a recording mailer and chart, and an
in-memory directory. Use them in your own tests and notebooks together with
:class:`selfsched.adapters.memory.InMemoryStore`.

Importing this package imports neither pytest nor Hypothesis. Its submodule
:mod:`selfsched.testing.contract` (which needs both: the ``[testing]`` extra) is the store
contract, a test class to run against your own :class:`~selfsched.ports.AppointmentStore`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from selfsched import _time
from selfsched.errors import DeliveryError, DeliveryUncertain
from selfsched.events import ChartNote, EmailMessage
from selfsched.model import CalendarEvent, Client, Clinician

__all__ = [
    "FixedClock",
    "InMemoryDirectory",
    "RecordingChart",
    "RecordingMailer",
    "SequentialIds",
]


class FixedClock:
    """A clock that says what it is told. ``advance`` moves it; it never moves on its own."""

    def __init__(self, now: datetime) -> None:
        self._now = _time.in_span("now", now)

    def now(self) -> datetime:
        """The current fixed instant (UTC)."""
        return self._now

    def set(self, now: datetime) -> None:
        """Jump to *now* (aware)."""
        self._now = _time.in_span("now", now)

    def advance(self, delta: timedelta) -> None:
        """Move forward (or back, with a negative delta) in elapsed time."""
        self._now += delta


class SequentialIds:
    """Ids ``"<kind>-1"``, ``"<kind>-2"``, ...: readable and reproducible.

    Safe to share between threads (and between schedulers racing over one store): ids never
    repeat, so two bookings that both get in show up as two appointments, not as a duplicate id.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def new_id(self, kind: str) -> str:
        """The next id of *kind*."""
        with self._lock:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            return f"{kind}-{self._counts[kind]}"


class RecordingMailer:
    """Keeps every email it is asked to send in :attr:`sent`.

    ``fail_next`` makes the next N sends raise :class:`~selfsched.errors.DeliveryError`;
    ``uncertain_next`` makes them raise :class:`~selfsched.errors.DeliveryUncertain` *after*
    recording the message (as if the server got it but the reply was lost).
    """

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_next = 0
        self.uncertain_next = 0

    def send(self, message: EmailMessage) -> None:
        """Record *message*, or fail as configured."""
        if self.fail_next:
            self.fail_next -= 1
            raise DeliveryError("RecordingMailer was told to fail this send.")
        self.sent.append(message)
        if self.uncertain_next:
            self.uncertain_next -= 1
            raise DeliveryUncertain("RecordingMailer was told the outcome is unknown.")


class RecordingChart:
    """Keeps every chart note in :attr:`notes`."""

    def __init__(self) -> None:
        self.notes: list[ChartNote] = []

    def add_note(self, note: ChartNote) -> None:
        """Record *note*."""
        self.notes.append(note)


@attrs.define
class InMemoryDirectory:
    """Clinicians, clients and calendar events held in dictionaries."""

    clinicians: dict[str, Clinician] = attrs.Factory(dict)
    clients: dict[str, Client] = attrs.Factory(dict)
    calendar: dict[str, list[CalendarEvent]] = attrs.Factory(dict)

    @classmethod
    def of(
        cls,
        clinicians: Iterable[Clinician] = (),
        clients: Iterable[Client] = (),
        events: dict[str, list[CalendarEvent]] | None = None,
    ) -> InMemoryDirectory:
        """Build a directory from lists."""
        return cls({c.id: c for c in clinicians}, {c.id: c for c in clients}, dict(events or {}))

    def clinician(self, clinician_id: str) -> Clinician | None:
        """The clinician with this id, if any."""
        return self.clinicians.get(clinician_id)

    def client(self, client_id: str) -> Client | None:
        """The client with this id, if any."""
        return self.clients.get(client_id)

    def events(self, clinician_id: str, start: datetime, end: datetime) -> list[CalendarEvent]:
        """All of the clinician's events (the slot calculator filters by time)."""
        del start, end
        return list(self.calendar.get(clinician_id, ()))
