"""Several backend instances dispatching one outbox: each item is sent by exactly one of them.

Each instance is a :class:`selfsched.Scheduler` over its own store object on the shared database
(a SQLite file, a PostgreSQL schema; the in-memory store is one object shared by both), with its
own mailer and clock, as two processes would have. The mailers hold every ``send`` until a gate
opens, so both dispatches are in flight at once.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from selfsched import ClientActor, ClinicianActor, DispatchReport, EmailMessage
from selfsched.testing import RecordingMailer

from .conftest import StoreFactory
from .support import SLOT, World, make_world

LEASE = timedelta(minutes=5)
"""The default ``dispatch_lease``."""
WAIT = 10.0
"""Seconds a test waits for a thread before it fails."""


class GatedMailer(RecordingMailer):
    """Records each message once the gate is open; :attr:`entered` is set when a send starts."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate
        self.entered = threading.Event()

    def send(self, message: EmailMessage) -> None:
        """Wait for the gate, then record *message*."""
        self.entered.set()
        assert self.gate.wait(WAIT), "the gate was never opened"
        super().send(message)


class Crash(BaseException):
    """The process dying in the middle of a delivery: nothing the dispatch could catch."""


class CrashingMailer(RecordingMailer):
    """Hands the message over, then the process dies before the outcome is recorded."""

    def send(self, message: EmailMessage) -> None:
        """Record *message*, then crash."""
        super().send(message)
        raise Crash


def approve(world: World, hours: tuple[int, ...]) -> list[str]:
    """Requests by client-1 with Dr. Ada at SLOT + each of *hours*, approved; their emails'
    Message-IDs, in order."""
    ids = []
    client, clinician = ClientActor("client-1"), ClinicianActor("dr-a")
    for hour in hours:
        request = world.scheduler.book(client, "dr-a", SLOT + timedelta(hours=hour))
        approved = world.scheduler.approve(clinician, request.id)
        ids.append(f"<{approved.id}.approved.v{approved.version}@clinic.example.test>")
    return ids


def start(call: Callable[[], DispatchReport], into: list[DispatchReport]) -> threading.Thread:
    """Run *call* in a thread that appends its report to *into*."""
    thread = threading.Thread(target=lambda: into.append(call()), daemon=True)
    thread.start()
    return thread


def eventually(condition: Callable[[], bool]) -> bool:
    """Whether *condition* holds within :data:`WAIT` seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def sent_ids(*mailers: RecordingMailer) -> list[list[str]]:
    """The Message-IDs each mailer sent."""
    return [[m.message_id for m in mailer.sent] for mailer in mailers]


def test_two_instances_dispatching_at_once_send_each_item_once(make_store: StoreFactory) -> None:
    """Both start together: one claims every waiting item and sends them all; the other finds
    them claimed and sends nothing, though it dispatched while they were being sent."""
    gate = threading.Event()
    mailers = GatedMailer(gate), GatedMailer(gate)
    worlds = [make_world(make_store(), mailer=mailer) for mailer in mailers]
    expected = approve(worlds[0], (0, 2, 4))
    barrier = threading.Barrier(2)
    reports: list[DispatchReport] = []

    def dispatch(world: World) -> DispatchReport:
        barrier.wait()
        return world.scheduler.dispatch()

    threads = [start(functools.partial(dispatch, world), reports) for world in worlds]
    assert eventually(lambda: any(m.entered.is_set() for m in mailers) and len(reports) == 1)
    gate.set()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive()

    assert [DispatchReport(), DispatchReport(delivered=3)] == reports
    assert sorted([[], expected]) == sorted(sent_ids(*mailers))
    with worlds[1].scheduler.store.unit_of_work() as uow:
        assert [] == uow.outbox()


def test_an_instance_takes_only_what_the_other_has_not_claimed(make_store: StoreFactory) -> None:
    """While the first instance is sending two items, a third is queued: the second instance
    claims and sends only that one, at the same time. Each item goes out once."""
    gate = threading.Event()
    first_mailer, second_mailer = GatedMailer(gate), GatedMailer(gate)
    first = make_world(make_store(), mailer=first_mailer)
    second = make_world(make_store(), mailer=second_mailer)
    early = approve(first, (0, 2))
    first_reports: list[DispatchReport] = []
    second_reports: list[DispatchReport] = []

    one = start(first.scheduler.dispatch, first_reports)
    assert first_mailer.entered.wait(WAIT)
    late = approve(first, (4,))
    two = start(second.scheduler.dispatch, second_reports)
    assert second_mailer.entered.wait(WAIT)  # both are sending now
    gate.set()
    for thread in (one, two):
        thread.join(WAIT)
        assert not thread.is_alive()

    assert ([DispatchReport(delivered=2)], [DispatchReport(delivered=1)]) == (
        first_reports,
        second_reports,
    )
    assert [early, late] == sent_ids(first_mailer, second_mailer)
    with first.scheduler.store.unit_of_work() as uow:
        assert [] == uow.outbox()


def test_a_crashed_instances_claim_lapses_and_the_other_sends(make_store: StoreFactory) -> None:
    """The first instance dies after handing the email over, before recording it. Its claim
    holds the item for the lease; then the second instance sends it again, with the same
    Message-ID: the at-least-once edge of a crash."""
    first_mailer, second_mailer = CrashingMailer(), RecordingMailer()
    first = make_world(make_store(), mailer=first_mailer)
    second = make_world(make_store(), mailer=second_mailer)
    expected = approve(first, (0,))
    try:
        first.scheduler.dispatch()
    except Crash:
        pass
    else:  # pragma: no cover
        raise AssertionError("the first instance did not crash")

    second.clock.advance(LEASE - timedelta(microseconds=1))
    assert DispatchReport() == second.scheduler.dispatch()
    second.clock.advance(timedelta(microseconds=1))
    assert DispatchReport(delivered=1) == second.scheduler.dispatch()

    assert [expected, expected] == sent_ids(first_mailer, second_mailer)
    with second.scheduler.store.unit_of_work() as uow:
        assert [] == uow.outbox()
    assert DispatchReport() == first.scheduler.dispatch()
