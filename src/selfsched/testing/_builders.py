"""Builders for the store contract: values, a scheduler over any store, and ways to race units.

Private to :mod:`selfsched.testing`: the contract (:mod:`selfsched.testing.contract`) and the
project's own adapter tests use them; their names and defaults may change without notice. Nothing
here imports pytest or Hypothesis.

Every builder has sensible defaults around one instant, :data:`NOW` (Monday 2 March 2026, 09:00
UTC), and one slot, :data:`SLOT` (the Wednesday after, 10:00 UTC), that a scheduler built by
:func:`make_world` accepts: inside work hours, on the grid, past the notice, inside the horizon.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from selfsched.events import AuditEntry, ChartNote, EmailKind, EmailMessage, OutboxItem
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Client,
    Clinician,
    Practice,
    SchedulingMode,
    WorkHours,
)
from selfsched.ports import AppointmentStore, IdGenerator, Mailer, UnitOfWork
from selfsched.service import Scheduler
from selfsched.testing import FixedClock, InMemoryDirectory, RecordingChart, SequentialIds

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Monday 2 March 2026, 09:00 UTC: the clock of every scheduler built here."""
SLOT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
"""Wednesday 10:00 UTC: inside work hours, on the grid, past the notice, inside the horizon."""
HOUR = timedelta(hours=1)
NEW_YORK = ZoneInfo("America/New_York")
"""A zone with an offset, for instants given outside UTC."""
EMAIL_DOMAIN = "clinic.example.test"
"""The right-hand side of the Message-IDs of a scheduler built by :func:`make_world`."""


# -- values ---------------------------------------------------------------------------------------


def at(hour: int, minute: int = 0, *, day: int = 4) -> datetime:
    """An instant in March 2026, UTC (Wednesday the 4th unless *day* says otherwise)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


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
    """A pending request of client-1 with Dr. Ada at :data:`SLOT`, unless told otherwise."""
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
    """An outbox item carrying an approval email (text with a dash, HTML with entities)."""
    message = EmailMessage(
        message_id=f"<{item_id}.approved.v2@{EMAIL_DOMAIN}>",
        kind=EmailKind.APPROVED,
        appointment_id="a-1",
        client_id="client-1",
        to="client-1@example.test",
        subject="Your appointment request was approved",
        text="Wednesday, March 4, 2026 at 10:00 AM — Dr. Ada, Main office",
        html="<p>Wednesday, March 4, 2026 at 10:00&nbsp;AM &mdash; Dr. Ada</p>",
    )
    return OutboxItem(id=item_id, payload=message, created_at=created_at)


def note_item(item_id: str, created_at: datetime = NOW) -> OutboxItem:
    """An outbox item carrying a late-cancellation chart note (created in New York time)."""
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
    """An audit entry not yet chained (``seq`` 0, no hashes): give it to ``events.chain``."""
    return AuditEntry(
        seq=0,
        at=at_,
        actor="client:client-1",
        action=action,
        outcome="ok",
        **fields,  # type: ignore[arg-type]
    )


# -- a scheduler world ----------------------------------------------------------------------------


@attrs.define
class SlowDirectory(InMemoryDirectory):
    """A directory whose calendar look-up takes a while, as a remote calendar would.

    The scheduler reads events inside its unit of work, between checking a slot and writing
    it: the delay widens the window in which a store that does not serialise its units would
    let two bookings in.
    """

    delay: float = 0.0

    def events(self, clinician_id: str, start: datetime, end: datetime) -> list[CalendarEvent]:
        """The clinician's events, after :attr:`delay` seconds."""
        time.sleep(self.delay)
        return super().events(clinician_id, start, end)


def client_ids(count: int) -> list[str]:
    """``client-1`` to ``client-<count>``."""
    return [f"client-{number}" for number in range(1, count + 1)]


def directory(delay: float = 0.0, *, clients: int = 2) -> SlowDirectory:
    """Dr. Ada and Dr. Bo (UTC, weekdays 09:00-17:00, Main office) and *clients* clients, each
    with an email address."""
    hours = WorkHours.weekdays("09:00-17:00", location="Main office")
    clinicians = [
        Clinician(id=cid, name=name, work_hours=hours, service_code="90834")
        for cid, name in (("dr-a", "Dr. Ada"), ("dr-b", "Dr. Bo"))
    ]
    people = [Client(id=cid, email=f"{cid}@example.test") for cid in client_ids(clients)]
    return SlowDirectory({c.id: c for c in clinicians}, {c.id: c for c in people}, {}, delay=delay)


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
    ids: IdGenerator | None = None,
    clients: int = 2,
) -> World:
    """A scheduler for a practice in *mode* over *store*, at :data:`NOW`, dispatching only when
    told to (``auto_dispatch=False``).

    Schedulers racing each other should share one *ids* (a
    :class:`~selfsched.testing.SequentialIds`), as the backend instances of one practice share a
    source of unique ids.
    """
    clock = FixedClock(NOW)
    found = directory(delay, clients=clients)
    scheduler = Scheduler(
        store=store,
        directory=found,
        clock=clock,
        ids=ids if ids is not None else SequentialIds(),
        practice=Practice(name="Test Clinic", policy=ApprovalPolicy(mode=mode)),
        mailer=mailer,
        chart=RecordingChart(),
        send_confirmations=send_confirmations,
        email_domain=EMAIL_DOMAIN,
        auto_dispatch=False,
        max_attempts=max_attempts,
    )
    return World(scheduler, clock, found)


# -- races ----------------------------------------------------------------------------------------


class RaceTimeout(AssertionError):
    """A racing call did not finish in time: a unit that never got the store, or a deadlock."""


def race(*calls: Callable[[], object], timeout: float = 20.0) -> list[object]:
    """Run *calls* in threads released together; each one's result, or the exception it raised.

    Raises :class:`RaceTimeout` if a call has not finished within *timeout* seconds.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait(timeout)
        try:
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001  (the outcome under test)
            outcomes[index] = exc

    threads = [
        threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
        if thread.is_alive():
            raise RaceTimeout(f"a racing call did not finish within {timeout} s")
    return outcomes


class PausingStore:
    """Wraps a store; the first unit that reads the outbox runs :attr:`on_outbox_read` right after.

    Put it under a :class:`~selfsched.Scheduler` to hold a dispatch's claim between its read of
    the outbox and its writes, while another dispatch tries its own.
    """

    def __init__(self, inner: AppointmentStore, on_outbox_read: Callable[[], None]) -> None:
        self.inner = inner
        self.on_outbox_read = on_outbox_read
        self._armed = True
        self._lock = threading.Lock()

    def fire(self) -> None:
        """Run :attr:`on_outbox_read` the first time only."""
        with self._lock:
            armed, self._armed = self._armed, False
        if armed:
            self.on_outbox_read()

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """The inner store's unit, its outbox reads watched."""
        with self.inner.unit_of_work() as uow:
            yield _PausingUnit(uow, self)


class _PausingUnit:
    """A unit of the inner store: every call passed through, :meth:`outbox` then pauses."""

    def __init__(self, inner: UnitOfWork, store: PausingStore) -> None:
        self._inner = inner
        self._store = store

    def get(self, appointment_id: str) -> Appointment | None:
        return self._inner.get(appointment_id)

    def for_clinician(self, clinician_id: str, start: datetime, end: datetime) -> list[Appointment]:
        return self._inner.for_clinician(clinician_id, start, end)

    def for_client(self, client_id: str) -> list[Appointment]:
        return self._inner.for_client(client_id)

    def pending(self) -> list[Appointment]:
        return self._inner.pending()

    def open_after(self, instant: datetime) -> list[Appointment]:
        return self._inner.open_after(instant)

    def add(self, appointment: Appointment) -> None:
        self._inner.add(appointment)

    def replace(self, appointment: Appointment) -> None:
        self._inner.replace(appointment)

    def idempotent(self, client_id: str, key: str) -> tuple[str, str] | None:
        return self._inner.idempotent(client_id, key)

    def remember(self, client_id: str, key: str, fingerprint: str, appointment_id: str) -> None:
        self._inner.remember(client_id, key, fingerprint, appointment_id)

    def add_outbox(self, item: OutboxItem) -> None:
        self._inner.add_outbox(item)

    def outbox(self) -> list[OutboxItem]:
        waiting = self._inner.outbox()
        self._store.fire()
        return waiting

    def failed_outbox(self) -> list[OutboxItem]:
        return self._inner.failed_outbox()

    def update_outbox(self, item: OutboxItem) -> None:
        self._inner.update_outbox(item)

    def last_audit(self) -> AuditEntry | None:
        return self._inner.last_audit()

    def append_audit(self, entry: AuditEntry) -> None:
        self._inner.append_audit(entry)

    def audit(self) -> Sequence[AuditEntry]:
        return self._inner.audit()
