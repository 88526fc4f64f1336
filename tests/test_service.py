"""The Scheduler service: each use case loads, re-checks, transitions and saves the appointment,
its outbox items and its audit entry in one unit of work; a refusal writes only its audit entry."""

# ruff: noqa: SIM300  (STYLE.md: tests read `expected == actual`)

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from selfsched.errors import InvalidHeader, NotFound, SelfschedError, TransitionNotAllowed
from selfsched.events import EmailMessage
from selfsched.model import Appointment, AppointmentStatus
from selfsched.service import DispatchReport
from service_fixtures import (
    AS_ALICE,
    AS_BOB,
    SCHEDULER,
    SLOT,
    TUESDAY_SLOT,
    World,
    build,
    snapshot,
)

S = AppointmentStatus


def refused_with_only_an_audit_entry(
    world: World, call: Callable[[], object], error: type[SelfschedError]
) -> SelfschedError:
    """Run *call*, expect *error*; check that the store gained exactly one audit entry, a refusal
    naming the error, and nothing else. Return the error."""
    appointments, outbox, audit = snapshot(world.store)
    sent, notes = list(world.mailer.sent), list(world.chart.notes)

    with pytest.raises(error) as caught:
        call()

    after_appointments, after_outbox, after_audit = snapshot(world.store)
    assert (appointments, outbox, audit) == (after_appointments, after_outbox, after_audit[:-1])
    assert ("refused", error.__name__) == (after_audit[-1].outcome, after_audit[-1].error)
    assert (sent, notes) == (world.mailer.sent, world.chart.notes)
    return caught.value


def request(world: World, start: object = SLOT) -> Appointment:
    """Alice requests *start* with Dr. Rivera."""
    return world.scheduler.book(AS_ALICE, "c1", start)  # type: ignore[arg-type]


# -- a client asking about another client's appointment --------------------------------------------

STAFF_CALLS: dict[str, Callable[[World, str], object]] = {
    "approve": lambda w, i: w.scheduler.approve(AS_BOB, i),
    "reject": lambda w, i: w.scheduler.reject(AS_BOB, i),
    "edit": lambda w, i: w.scheduler.edit(AS_BOB, i, location="Room 9"),
    "cancel_by_practice": lambda w, i: w.scheduler.cancel_by_practice(AS_BOB, i),
    "cancel": lambda w, i: w.scheduler.cancel(AS_BOB, i, "not mine"),
    "appointment_details": lambda w, i: w.scheduler.appointment_details(AS_BOB, i),
}


@pytest.mark.parametrize("name", sorted(STAFF_CALLS))
def test_another_clients_appointment_looks_missing(name: str) -> None:
    """Bob naming Alice's appointment in any call gets exactly what he gets for an id that does
    not exist: the same error type, the same message, the same audit refusal.

    Regression: the staff calls (approve, reject, edit, cancel_by_practice) answered a client
    with PermissionDenied for an existing id and NotFound for a missing one, so ids could be
    probed.
    """
    call = STAFF_CALLS[name]
    with_alices = build()
    alices = request(with_alices)
    empty = build()

    other = refused_with_only_an_audit_entry(
        with_alices, lambda: call(with_alices, alices.id), NotFound
    )
    missing = refused_with_only_an_audit_entry(empty, lambda: call(empty, alices.id), NotFound)

    assert (type(missing), str(missing)) == (type(other), str(other))
    assert "No appointment 'appointment-1' was found." == str(other)
    assert S.PENDING == with_alices.store.appointments()[0].status


# -- approval --------------------------------------------------------------------------------------


@pytest.mark.parametrize("after_start", [timedelta(0), timedelta(minutes=5), timedelta(days=2)])
def test_a_request_past_its_start_cannot_be_approved(after_start: timedelta) -> None:
    """A request nobody decided before its start has expired, even before the expiry sweep runs:
    approving it is refused and no "approved" email goes out.

    Regression: approval at or after the start booked a time already past and emailed the client
    that it was approved.
    """
    world = build()
    pending = request(world)
    world.clock.set(SLOT + after_start)

    error = refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(SCHEDULER, pending.id), TransitionNotAllowed
    )

    assert (
        "Cannot approve an appointment that is expired (undecided before its start or "
        "time-to-live). Reload the appointment and check its current status."
    ) == str(error)


def test_a_request_past_its_time_to_live_cannot_be_approved() -> None:
    """With a time-to-live, a request older than it has expired too: approval is refused."""
    world = build(pending_ttl=timedelta(hours=48))
    pending = request(world)
    world.clock.advance(timedelta(hours=48))

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(SCHEDULER, pending.id), TransitionNotAllowed
    )


def test_a_request_just_inside_its_time_to_live_can_be_approved() -> None:
    """One second before the time-to-live runs out the request can still be approved."""
    world = build(pending_ttl=timedelta(hours=48))
    pending = request(world)
    world.clock.advance(timedelta(hours=48) - timedelta(seconds=1))

    assert S.BOOKED == world.scheduler.approve(SCHEDULER, pending.id).status


@pytest.mark.parametrize("field", ["location", "service_code", "code_modifier"])
def test_approval_details_with_line_breaks_are_refused(field: str) -> None:
    """Details given with an approval are checked like an edit's: a line break is refused before
    anything is queued.

    Regression: edit refused them but approve stored them and put them into the email.
    """
    world = build()
    pending = request(world, TUESDAY_SLOT)
    details: dict[str, Any] = {"location": "Room 1", "service_code": "90834"}
    details[field] = "Room 1\r\nBcc: x@y"

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(SCHEDULER, pending.id, **details), InvalidHeader
    )


# -- expiry and dispatch under concurrency ---------------------------------------------------------


def test_expiry_sweep_leaves_a_request_decided_meanwhile() -> None:
    """A request the sweep listed as due but that changed before its turn (here Bob cancels his
    while Alice's expiry email goes out) is left alone: the sweep finishes, expires the rest, and
    records no refusal.

    Regression: the sweep raised TransitionNotAllowed half-way and audited a refusal.
    """
    world = build(pending_ttl=timedelta(hours=48))
    alices = request(world)
    bobs = world.scheduler.book(AS_BOB, "c1", TUESDAY_SLOT)
    world.clock.advance(timedelta(hours=48))
    send = world.mailer.send

    def send_then_bob_cancels(message: EmailMessage) -> None:
        send(message)
        if message.appointment_id == alices.id and bobs.id not in cancelled:
            cancelled.append(bobs.id)
            world.scheduler.cancel(AS_BOB, bobs.id, "Found another time")

    cancelled: list[str] = []
    world.mailer.send = send_then_bob_cancels  # type: ignore[method-assign]

    expired = world.scheduler.expire_due()

    assert [(alices.id, S.EXPIRED)] == [(a.id, a.status) for a in expired]
    assert [S.EXPIRED, S.MISSED] == [a.status for a in world.store.appointments()]
    assert ["ok"] * 4 == [e.outcome for e in world.store.audit_entries()]
    assert [f"<{alices.id}.expired.v2@selfsched.invalid>"] == [
        m.message_id for m in world.mailer.sent
    ]


def test_concurrent_dispatches_send_each_item_once() -> None:
    """Two threads dispatching at once (two changes finishing together) send every email once.

    Regression: both read the same waiting items and both sent them.
    """
    world = build(auto_dispatch=False)
    first, second = request(world), world.scheduler.book(AS_BOB, "c1", TUESDAY_SLOT)
    world.scheduler.approve(SCHEDULER, first.id)
    world.scheduler.approve(SCHEDULER, second.id, location="Room 2")
    inside = threading.Event()
    send = world.mailer.send

    def slow_first_send(message: EmailMessage) -> None:
        if not inside.is_set():
            inside.set()
            time.sleep(0.2)  # the other thread's dispatch starts meanwhile
        send(message)

    world.mailer.send = slow_first_send  # type: ignore[method-assign]
    one = threading.Thread(target=world.scheduler.dispatch)
    one.start()
    inside.wait()
    two = threading.Thread(target=world.scheduler.dispatch)
    two.start()
    one.join()
    two.join()

    expected = [
        "<appointment-1.approved.v2@selfsched.invalid>",
        "<appointment-2.approved.v2@selfsched.invalid>",
    ]
    assert expected == [m.message_id for m in world.mailer.sent]


def test_dispatch_from_inside_a_delivery_does_nothing() -> None:
    """A mailer that calls back into dispatch gets an empty report and nothing goes twice."""
    world = build(auto_dispatch=False)
    world.scheduler.approve(SCHEDULER, request(world).id)
    send = world.mailer.send
    nested: list[DispatchReport] = []

    def send_and_dispatch(message: EmailMessage) -> None:
        send(message)
        nested.append(world.scheduler.dispatch())

    world.mailer.send = send_and_dispatch  # type: ignore[method-assign]

    report = world.scheduler.dispatch()

    assert (DispatchReport(delivered=1), [DispatchReport()]) == (report, nested)
    assert 1 == len(world.mailer.sent)
