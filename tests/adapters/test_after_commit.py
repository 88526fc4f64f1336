"""A change that committed is the caller's result, whatever happens to its delivery afterwards.

Regression (issue 7, item 1): with ``auto_dispatch`` the delivery runs after the commit, inside the
same call. When another instance held the store's lock at that moment, the call raised
``StorageError`` although the booking was stored, and the client's retry got ``SlotUnavailable``.

The interleaving is forced, on real databases: a store wrapper lets the change's own unit of work
commit, then has a second store on the same database (another backend instance) take the lock
and keep it while the call delivers. The scheduler's store gives up waiting after a fraction of a
second, as a store with a short lock timeout would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

import pytest

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    ClientActor,
    ClinicianActor,
    Practice,
    Scheduler,
    SchedulingMode,
)
from selfsched.ports import AppointmentStore, UnitOfWork
from selfsched.testing import FixedClock, RecordingChart, RecordingMailer

from .conftest import SHARED_BACKENDS, StoreFactory
from .support import NOW, SLOT, SequentialIds, directory

SHORT_WAIT = 0.2
"""Seconds the scheduler's store waits for the lock before it gives up."""


class BusyAfterCommit:
    """A store whose first unit of work commits normally; then another instance holds the lock.

    *blocker* opens a unit of work on the same database through another store object, which
    holds the database's write lock (SQLite) or the schema's advisory lock (PostgreSQL) until
    :meth:`release`.
    """

    def __init__(
        self, inner: AppointmentStore, blocker: Callable[[], AbstractContextManager[UnitOfWork]]
    ) -> None:
        self.inner = inner
        self.blocker = blocker
        self.units = 0
        self.held = ExitStack()

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """The inner store's unit; after the first one commits, the lock is taken elsewhere."""
        self.units += 1
        with self.inner.unit_of_work() as uow:
            yield uow
        if self.units == 1:
            self.held.enter_context(self.blocker())

    def release(self) -> None:
        """Let the other instance's unit of work end."""
        self.held.close()


def scheduler(store: AppointmentStore, mode: SchedulingMode) -> tuple[Scheduler, RecordingMailer]:
    """A scheduler that delivers right after each change (the default)."""
    mailer = RecordingMailer()
    return (
        Scheduler(
            store=store,
            directory=directory(),
            clock=FixedClock(NOW),
            ids=SequentialIds(),
            practice=Practice(name="Test Clinic", policy=ApprovalPolicy(mode=mode)),
            mailer=mailer,
            chart=RecordingChart(),
            send_confirmations=True,
            email_domain="clinic.example.test",
        ),
        mailer,
    )


@pytest.mark.parametrize("backend", SHARED_BACKENDS)
def test_item1_a_committed_booking_is_returned_when_the_delivery_cannot_get_the_lock(
    make_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The instant booking committed, the confirmation could not be delivered at once: the call
    returns the booking, the email waits in the outbox, a warning is logged, and the next
    dispatch delivers it once."""
    busy = BusyAfterCommit(make_store(wait=SHORT_WAIT), make_store().unit_of_work)
    world, mailer = scheduler(busy, SchedulingMode.INSTANT)

    with caplog.at_level(logging.WARNING, logger="selfsched"):
        booked = world.book(ClientActor("client-1"), "dr-a", SLOT)
    busy.release()

    assert AppointmentStatus.BOOKED == booked.status
    assert [] == mailer.sent
    logged = [(record.name, record.__dict__["selfsched"]) for record in caplog.records]
    assert [("selfsched.service", "after_commit", "book")] == [
        (name, fields["event"], fields["action"]) for name, fields in logged
    ]
    assert logged[0][1]["error"].startswith("StorageError: ")
    with make_store().unit_of_work() as uow:
        assert [booked] == uow.for_client("client-1")
        assert [booked.id] == [item.payload.appointment_id for item in uow.outbox()]
    assert 1 == world.dispatch().delivered
    assert [booked.id] == [message.appointment_id for message in mailer.sent]


@pytest.mark.parametrize("backend", SHARED_BACKENDS)
def test_item1_a_committed_approval_is_returned_when_the_delivery_cannot_get_the_lock(
    make_store: StoreFactory,
) -> None:
    """The same for a decision: the approval stands and is returned; the email follows later."""
    store = make_store(wait=SHORT_WAIT)
    setup, _ = scheduler(store, SchedulingMode.REQUIRES_APPROVAL)
    request = setup.book(ClientActor("client-1"), "dr-a", SLOT)
    busy = BusyAfterCommit(store, make_store().unit_of_work)
    world, mailer = scheduler(busy, SchedulingMode.REQUIRES_APPROVAL)

    approved: Appointment = world.approve(ClinicianActor("dr-a"), request.id)
    busy.release()

    assert AppointmentStatus.BOOKED == approved.status
    with make_store().unit_of_work() as uow:
        assert approved == uow.get(request.id)
    world.dispatch()
    assert [approved.id] == [message.appointment_id for message in mailer.sent]
