"""The caller's side: small ``typing.Protocol`` interfaces the scheduler service talks through.

Storage, email delivery, chart notes, the clock, ids and the directory of clinicians and clients
all belong to the caller. selfsched ships implementations to start with: an in-memory store
(:mod:`selfsched.adapters.memory`) and test doubles (:mod:`selfsched.testing`).

A store hands out *units of work*. Everything one use case reads and writes happens inside one
unit: the store guarantees that two units that both check a slot and then write to it cannot
interleave (the in-memory store holds one lock for the whole unit), and that either everything a
unit wrote is kept (the block ends normally) or nothing is (it raises).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from selfsched.events import AuditEntry, ChartNote, EmailMessage, OutboxItem
from selfsched.model import Appointment, CalendarEvent, Client, Clinician, Practice

__all__ = [
    "AppointmentStore",
    "Chart",
    "Clock",
    "Directory",
    "IdGenerator",
    "Mailer",
    "SettingsSource",
    "UnitOfWork",
]


@runtime_checkable
class Clock(Protocol):
    """Where ``now`` comes from. Must return an aware datetime."""

    def now(self) -> datetime: ...


@runtime_checkable
class IdGenerator(Protocol):
    """New unique ids for appointments, outbox items and chart notes."""

    def new_id(self, kind: str) -> str: ...


@runtime_checkable
class Mailer(Protocol):
    """Delivers one email.

    Raise :class:`~selfsched.errors.DeliveryError` when it surely did not go out (it will be
    retried) and :class:`~selfsched.errors.DeliveryUncertain` when it cannot be known (it will be
    sent again at most once, with the same Message-ID).
    """

    def send(self, message: EmailMessage) -> None: ...


@runtime_checkable
class Chart(Protocol):
    """Adds a note to a client's chart (Notes and Documents)."""

    def add_note(self, note: ChartNote) -> None: ...


@runtime_checkable
class SettingsSource(Protocol):
    """Where the practice settings come from while the backend runs (its settings screen).

    :class:`selfsched.settings.LiveSettings` is one you can replace atomically. The scheduler
    calls :meth:`current` whenever a use case needs the settings, from any thread: return a whole
    :class:`~selfsched.Practice` value, never one being changed in place (it is frozen anyway).
    """

    def current(self) -> Practice: ...


@runtime_checkable
class Directory(Protocol):
    """Looks up clinicians, clients and the clinician's calendar events."""

    def clinician(self, clinician_id: str) -> Clinician | None: ...

    def client(self, client_id: str) -> Client | None: ...

    def events(self, clinician_id: str, start: datetime, end: datetime) -> Iterable[CalendarEvent]:
        """Events of the clinician that may overlap ``[start, end)`` (recurring ones whole)."""
        ...


class UnitOfWork(Protocol):
    """Reads and writes of one use case, kept or discarded together."""

    def get(self, appointment_id: str) -> Appointment | None: ...

    def for_clinician(self, clinician_id: str, start: datetime, end: datetime) -> list[Appointment]:
        """The clinician's appointments (any status) overlapping ``[start, end)``."""
        ...

    def for_client(self, client_id: str) -> list[Appointment]:
        """All of the client's appointments, any status, with any clinician."""
        ...

    def pending(self) -> list[Appointment]:
        """Every ``PENDING`` request, soonest start first."""
        ...

    def open_after(self, instant: datetime) -> list[Appointment]:
        """Every ``PENDING`` or ``BOOKED`` appointment starting after *instant*, soonest first."""
        ...

    def add(self, appointment: Appointment) -> None:
        """Store a new appointment; :class:`~selfsched.errors.Conflict` if the id exists."""
        ...

    def replace(self, appointment: Appointment) -> None:
        """Store a changed appointment whose stored version is ``appointment.version - 1``.

        Raises :class:`~selfsched.errors.Conflict` when the stored version differs (someone
        else changed it first) and :class:`~selfsched.errors.NotFound` when it is missing.
        """
        ...

    def idempotent(self, client_id: str, key: str) -> tuple[str, str] | None:
        """``(fingerprint, appointment_id)`` remembered for the client's key, if any."""
        ...

    def remember(self, client_id: str, key: str, fingerprint: str, appointment_id: str) -> None:
        """Remember the result of an idempotent call."""
        ...

    def add_outbox(self, item: OutboxItem) -> None:
        """Store a new outbox item; :class:`~selfsched.errors.Conflict` if the id exists."""
        ...

    def outbox(self) -> list[OutboxItem]:
        """Items not yet delivered nor given up on, oldest first, claimed ones included."""
        ...

    def failed_outbox(self) -> list[OutboxItem]:
        """Items given up on (``failed``) and not purged (``purged_at`` unset), oldest first."""
        ...

    def update_outbox(self, item: OutboxItem) -> None:
        """Store the item's new state, every field (``claimed_until`` too) as given."""
        ...

    def last_audit(self) -> AuditEntry | None: ...

    def append_audit(self, entry: AuditEntry) -> None:
        """Append an entry chained to :meth:`last_audit` (the caller builds the chain).

        Raises :class:`~selfsched.errors.Conflict` unless ``entry.seq`` is one more than the last
        entry's, so two writers can never fork the chain.
        """
        ...

    def audit(self) -> Sequence[AuditEntry]:
        """The whole audit record in order."""
        ...


class AppointmentStore(Protocol):
    """Hands out units of work."""

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A unit: kept when the ``with`` block ends normally, discarded when it raises."""
        ...
