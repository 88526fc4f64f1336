"""An in-memory appointment store: thread-safe, transactional, for tests, notebooks and demos.

One lock is held for the whole unit of work, so check-then-write sequences of two units never
interleave. A unit works on copies of the tables and swaps them in only when it ends normally:
an exception leaves the store exactly as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import attrs

from selfsched.adapters import _checks
from selfsched.errors import Conflict, NotFound
from selfsched.events import AuditEntry, OutboxItem
from selfsched.model import Appointment, AppointmentStatus

__all__ = ["InMemoryStore"]


@attrs.define
class _Tables:
    appointments: dict[str, Appointment] = attrs.Factory(dict)
    keys: dict[tuple[str, str], tuple[str, str]] = attrs.Factory(dict)
    outbox: dict[str, OutboxItem] = attrs.Factory(dict)
    audit: list[AuditEntry] = attrs.Factory(list)

    def copy(self) -> _Tables:
        return _Tables(
            dict(self.appointments), dict(self.keys), dict(self.outbox), list(self.audit)
        )


class _Unit:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def get(self, appointment_id: str) -> Appointment | None:
        return self._t.appointments.get(_checks.identifier("appointment_id", appointment_id))

    def for_clinician(self, clinician_id: str, start: datetime, end: datetime) -> list[Appointment]:
        _checks.identifier("clinician_id", clinician_id)
        start, end = _checks.instant("start", start), _checks.instant("end", end)
        found = [
            a
            for a in self._t.appointments.values()
            if a.clinician_id == clinician_id and a.start < end and start < a.end
        ]
        return sorted(found, key=lambda a: (a.start, a.id))

    def for_client(self, client_id: str) -> list[Appointment]:
        _checks.identifier("client_id", client_id)
        found = [a for a in self._t.appointments.values() if a.client_id == client_id]
        return sorted(found, key=lambda a: (a.start, a.id))

    def pending(self) -> list[Appointment]:
        found = [a for a in self._t.appointments.values() if a.status is AppointmentStatus.PENDING]
        return sorted(found, key=lambda a: (a.start, a.id))

    def open_after(self, instant: datetime) -> list[Appointment]:
        instant = _checks.instant("instant", instant)
        found = [a for a in self._t.appointments.values() if a.is_open and a.start > instant]
        return sorted(found, key=lambda a: (a.start, a.id))

    def add(self, appointment: Appointment) -> None:
        _checks.appointment(appointment)
        if appointment.id in self._t.appointments:
            raise Conflict(f"An appointment with id {appointment.id!r} already exists.")
        self._t.appointments[appointment.id] = appointment

    def replace(self, appointment: Appointment) -> None:
        stored = self._t.appointments.get(_checks.appointment(appointment).id)
        if stored is None:
            raise NotFound(appointment.id)
        if stored.version != appointment.version - 1:
            raise Conflict(
                f"Appointment {appointment.id!r} was changed by someone else (version "
                f"{stored.version}); reload it and try again."
            )
        self._t.appointments[appointment.id] = appointment

    def idempotent(self, client_id: str, key: str) -> tuple[str, str] | None:
        _checks.identifier("client_id", client_id)
        return self._t.keys.get((client_id, _checks.identifier("key", key)))

    def remember(self, client_id: str, key: str, fingerprint: str, appointment_id: str) -> None:
        _checks.identifier("client_id", client_id)
        _checks.identifier("key", key)
        _checks.text("fingerprint", fingerprint)
        _checks.identifier("appointment_id", appointment_id)
        self._t.keys[(client_id, key)] = (fingerprint, appointment_id)

    def add_outbox(self, item: OutboxItem) -> None:
        if _checks.item(item).id in self._t.outbox:
            raise Conflict(f"An outbox item with id {item.id!r} already exists.")
        self._t.outbox[item.id] = item

    def outbox(self) -> list[OutboxItem]:
        waiting = [i for i in self._t.outbox.values() if i.delivered_at is None and not i.failed]
        return sorted(waiting, key=lambda i: (i.created_at, i.id))

    def failed_outbox(self) -> list[OutboxItem]:
        failed = [i for i in self._t.outbox.values() if i.failed and i.purged_at is None]
        return sorted(failed, key=lambda i: (i.created_at, i.id))

    def update_outbox(self, item: OutboxItem) -> None:
        self._t.outbox[_checks.item(item).id] = item

    def last_audit(self) -> AuditEntry | None:
        return self._t.audit[-1] if self._t.audit else None

    def append_audit(self, entry: AuditEntry) -> None:
        expected = len(self._t.audit) + 1
        if _checks.entry(entry).seq != expected:
            raise Conflict(
                f"Audit entry {entry.seq} does not follow entry {expected - 1}; reload the last "
                f"entry and chain to it."
            )
        self._t.audit.append(entry)

    def audit(self) -> Sequence[AuditEntry]:
        return tuple(self._t.audit)


class InMemoryStore:
    """A store that keeps everything in this process. Safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tables = _Tables()

    @contextmanager
    def unit_of_work(self) -> Iterator[_Unit]:
        """Hold the store's lock for the unit; keep its writes only if it ends normally."""
        with self._lock:
            working = self._tables.copy()
            yield _Unit(working)
            self._tables = working

    def appointments(self) -> list[Appointment]:
        """Every stored appointment (for tests and notebooks)."""
        with self._lock:
            return sorted(self._tables.appointments.values(), key=lambda a: (a.start, a.id))

    def outbox_items(self) -> list[OutboxItem]:
        """Every outbox item, delivered or not (for tests and notebooks)."""
        with self._lock:
            return sorted(self._tables.outbox.values(), key=lambda i: (i.created_at, i.id))

    def audit_entries(self) -> tuple[AuditEntry, ...]:
        """The whole audit record (for tests and notebooks)."""
        with self._lock:
            return tuple(self._tables.audit)
