"""The Scheduler service: each use case loads, re-checks, transitions and saves the appointment,
its outbox items and its audit entry in one unit of work; a refusal writes only its audit entry."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest

from selfsched.errors import (
    Conflict,
    DeliveryError,
    DeliveryUncertain,
    EmptyReason,
    IdempotencyMismatch,
    InvalidHeader,
    InvalidRange,
    MissingDetails,
    NaiveDatetime,
    NotFound,
    OffGrid,
    PermissionDenied,
    SelfschedError,
    SelfSchedulingDisabled,
    SlotUnavailable,
    TransitionNotAllowed,
)
from selfsched.events import (
    ChartNote,
    EmailKind,
    EmailMessage,
    OutboxItem,
    redacted,
    verify_chain,
)
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Origin,
    SchedulingMode,
    WorkHours,
)
from selfsched.permissions import Actor, ClientActor
from selfsched.ports import Mailer
from selfsched.requests import MAX_REASON_LENGTH
from selfsched.service import (
    UNCHANGED,
    WITHHELD,
    DispatchReport,
    Display,
    ScheduleEntry,
    Scheduler,
)
from selfsched.slots import Reason, Slot
from selfsched.testing import FixedClock, RecordingChart, RecordingMailer, SequentialIds
from service_fixtures import (
    ADMIN,
    AS_ALICE,
    AS_BOB,
    AS_CAROL,
    AS_CHEN,
    AS_RIVERA,
    BACKOFF,
    DIRECTOR_OFF,
    FRONT_DESK,
    MONDAY,
    NOW,
    RIVERA,
    SCHEDULER,
    SLOT,
    SYSTEM,
    TUESDAY,
    TUESDAY_SLOT,
    World,
    at,
    build,
    dispatch_rounds,
    snapshot,
    use_settings,
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


def request(world: World, start: datetime = SLOT) -> Appointment:
    """Alice requests (or, in INSTANT mode, books) *start* with Dr. Rivera."""
    return world.scheduler.book(AS_ALICE, "c1", start)


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


# -- client: own appointments and slots ------------------------------------------------------------


def test_my_appointments_lists_only_the_clients_own_with_display() -> None:
    """A client sees its own appointments (any status, any clinician) with how each is drawn;
    never another client's."""
    world = build()
    pending = request(world)
    cancelled = request(world, TUESDAY_SLOT)
    world.scheduler.cancel(AS_ALICE, cancelled.id, "Work trip")
    world.scheduler.book(AS_BOB, "c2", SLOT)

    entries = world.scheduler.my_appointments(AS_ALICE)

    assert [(pending.id, Display.PLACEHOLDER), (cancelled.id, Display.MISSED)] == [
        (e.appointment.id, e.display) for e in entries
    ]


def test_my_appointments_is_not_audited() -> None:
    """A client reading its own list leaves no audit entry."""
    world = build()
    request(world)

    world.scheduler.my_appointments(AS_ALICE)

    assert 1 == len(world.store.audit_entries())


@pytest.mark.parametrize("actor", [AS_RIVERA, SCHEDULER, SYSTEM, None])
def test_my_appointments_needs_a_client(actor: Actor | None) -> None:
    """Only a signed-in client has "own appointments"; anyone else is refused and audited."""
    world = build()

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.my_appointments(actor), PermissionDenied
    )


def test_client_slots_say_only_available_or_unavailable() -> None:
    """A client sees every grid slot of the day, the ones overlapping Alice's request
    Unavailable, and nothing about why."""
    world = build()
    request(world)

    slots = world.scheduler.client_slots(AS_BOB, "c1", first_day=MONDAY, last_day=MONDAY)

    starts = [at(MONDAY, 9, 0) + timedelta(minutes=30 * i) for i in range(15)]
    taken = {at(MONDAY, 9, 30), at(MONDAY, 10), at(MONDAY, 10, 30)}
    expected = [Slot(s, s + timedelta(minutes=50), s not in taken) for s in starts]
    assert expected == list(slots)


def test_client_slot_lookups_are_not_audited() -> None:
    """SPEC §4: client slot look-ups are not recorded."""
    world = build()

    world.scheduler.client_slots(AS_BOB, "c1", first_day=MONDAY, last_day=TUESDAY)

    assert () == world.store.audit_entries()


def test_client_slots_of_an_unknown_clinician() -> None:
    """Asking for slots of a clinician that does not exist is NotFound, audited."""
    world = build()

    error = refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.client_slots(AS_BOB, "c9", first_day=MONDAY, last_day=MONDAY),
        NotFound,
    )

    assert "No clinician 'c9' was found." == str(error)


# -- client: booking -------------------------------------------------------------------------------


def test_instant_booking_is_booked_with_the_defaults() -> None:
    """INSTANT: the booking is BOOKED at once with the clinician's default service code and the
    weekday's default location, stamped with the clock's time."""
    world = build(SchedulingMode.INSTANT)

    booked = request(world)

    expected = Appointment(
        id="appointment-1",
        client_id="alice",
        clinician_id="c1",
        start=SLOT,
        end=SLOT + timedelta(minutes=50),
        status=S.BOOKED,
        service_code="90834",
        location="Main Street Office",
        origin=Origin.CLIENT,
        created_at=NOW,
    )
    assert expected == booked
    assert [expected] == world.store.appointments()


def test_booking_on_a_day_without_default_location_has_none() -> None:
    """No default location for Tuesday: the booking has no location ("No Location Set")."""
    world = build(SchedulingMode.INSTANT)

    assert None is request(world, TUESDAY_SLOT).location


def test_request_is_pending() -> None:
    """REQUIRES_APPROVAL: the booking is a PENDING request, with the same defaults."""
    world = build()

    pending = request(world)

    assert (S.PENDING, "90834", "Main Street Office") == (
        pending.status,
        pending.service_code,
        pending.location,
    )


@pytest.mark.parametrize(
    ("mode", "action", "status"),
    [
        (SchedulingMode.INSTANT, "book", "booked"),
        (SchedulingMode.REQUIRES_APPROVAL, "request", "pending"),
    ],
)
def test_booking_is_audited(mode: SchedulingMode, action: str, status: str) -> None:
    """One audit entry: the client, the action, nothing before, the new status, the clinician."""
    world = build(mode)

    request(world)

    (entry,) = world.store.audit_entries()
    assert (
        "client:alice",
        action,
        "ok",
        "appointment-1",
        None,
        status,
        (("clinician", "c1"),),
    ) == (
        entry.actor,
        entry.action,
        entry.outcome,
        entry.appointment_id,
        entry.before,
        entry.after,
        entry.changes,
    )


@pytest.mark.parametrize("mode", [SchedulingMode.INSTANT, SchedulingMode.REQUIRES_APPROVAL])
def test_booking_sends_no_email_by_default(mode: SchedulingMode) -> None:
    """Neither a booking nor a request emails anyone unless confirmations are switched on."""
    world = build(mode)

    request(world)

    assert ([], []) == (world.mailer.sent, world.store.outbox_items())


def test_instant_booking_confirmation_when_switched_on() -> None:
    """With send_confirmations, an INSTANT booking emails the client a confirmation."""
    world = build(SchedulingMode.INSTANT, send_confirmations=True)

    request(world)

    assert [(EmailKind.CONFIRMED, "alice@example.org")] == [
        (m.kind, m.to) for m in world.mailer.sent
    ]


def test_a_request_gets_no_confirmation_even_when_switched_on() -> None:
    """Confirmations are for INSTANT bookings; a request waits for its decision email."""
    world = build(send_confirmations=True)

    request(world)

    assert [] == world.mailer.sent


def test_a_taken_slot_is_refused_without_saying_why() -> None:
    """Bob asking for Alice's slot gets SlotUnavailable with a message that names nobody and
    no reason; only the refusal is written."""
    world = build()
    request(world)

    error = refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.book(AS_BOB, "c1", SLOT), SlotUnavailable
    )

    assert "This time is unavailable. Please choose another time from the available slots." == str(
        error
    )


@pytest.mark.parametrize(
    "start",
    [
        at(MONDAY, 8),  # before work hours
        at(MONDAY, 16, 30),  # would end after work hours
        NOW + timedelta(hours=2),  # inside the minimum notice
        at(MONDAY, 10) + timedelta(days=70),  # beyond the horizon
        at(date(2026, 4, 18), 10),  # a Saturday
    ],
)
def test_slots_the_client_is_not_offered_are_refused(start: datetime) -> None:
    """Every rule of the slot calculator is re-checked at write time, and the refusal says the
    same thing whatever the rule: never why."""
    world = build()

    error = refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.book(AS_ALICE, "c1", start), SlotUnavailable
    )

    assert "This time is unavailable. Please choose another time from the available slots." == str(
        error
    )


def test_a_calendar_event_blocks_booking() -> None:
    """A slot overlapping one of the clinician's calendar events cannot be booked."""
    event = CalendarEvent.one_off(at(MONDAY, 10, 30), at(MONDAY, 11), title="Supervision")
    world = build(events=[event])

    refused_with_only_an_audit_entry(world, lambda: request(world), SlotUnavailable)


def test_off_grid_start_is_refused_as_bad_input() -> None:
    """A start not on the practice's grid is OffGrid (bad input), audited."""
    world = build()

    refused_with_only_an_audit_entry(world, lambda: request(world, at(MONDAY, 10, 10)), OffGrid)


def test_naive_start_is_refused() -> None:
    """A start without a time zone is NaiveDatetime, audited."""
    world = build()

    refused_with_only_an_audit_entry(
        world, lambda: request(world, datetime(2026, 4, 13, 10)), NaiveDatetime
    )


def test_booking_with_an_unknown_clinician() -> None:
    """Booking with a clinician that does not exist is NotFound."""
    world = build()

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.book(AS_ALICE, "c9", SLOT), NotFound
    )


def test_a_client_cannot_hold_two_overlapping_appointments() -> None:
    """Alice holding 10:00 with Dr. Rivera cannot also take 10:30 with Dr. Chen."""
    world = build()
    request(world)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.book(AS_ALICE, "c2", at(MONDAY, 10, 30)), SlotUnavailable
    )


def test_back_to_back_appointments_do_not_conflict() -> None:
    """Intervals are half-open: with 60-minute sessions Bob may start exactly when Alice's
    appointment ends."""
    world = build(SchedulingMode.INSTANT)
    world.directory.clinicians["c1"] = attrs.evolve(RIVERA, service_minutes=60)
    request(world)

    assert S.BOOKED == world.scheduler.book(AS_BOB, "c1", at(MONDAY, 11)).status


@pytest.mark.parametrize("actor", [AS_RIVERA, SCHEDULER, SYSTEM, None])
def test_only_clients_book_in_the_portal(actor: Actor | None) -> None:
    """Clinicians and staff book through book_for_client; book() refuses them."""
    world = build()

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.book(actor, "c1", SLOT), PermissionDenied
    )


def test_a_rejected_request_reopens_its_time() -> None:
    """REJECTED, MISSED, EXPIRED and CANCELLED appointments do not block: Bob can take the time
    of Alice's rejected request."""
    world = build()
    world.scheduler.reject(AS_RIVERA, request(world).id)

    assert S.PENDING == world.scheduler.book(AS_BOB, "c1", SLOT).status


def test_a_pending_request_holds_its_slot_by_default() -> None:
    """The grey placeholder blocks the slot for other clients."""
    world = build()
    request(world)

    with pytest.raises(SlotUnavailable):
        world.scheduler.book(AS_BOB, "c1", SLOT)


def test_a_pending_request_can_leave_its_slot_open() -> None:
    """With pending_holds_slot off, a second client may request the same slot."""
    world = build(pending_holds_slot=False)
    request(world)

    assert S.PENDING == world.scheduler.book(AS_BOB, "c1", SLOT).status


# -- idempotency -----------------------------------------------------------------------------------


def test_a_replay_returns_the_first_result_and_writes_nothing() -> None:
    """The same key and the same booking: the first appointment comes back, nothing is written
    (no appointment, no outbox row, no audit entry), no email goes out."""
    world = build(SchedulingMode.INSTANT, send_confirmations=True)
    first = world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k-1")
    before = snapshot(world.store)

    again = world.scheduler.book(AS_ALICE, "c1", SLOT.astimezone(UTC), idempotency_key="k-1")

    assert first == again
    assert before == snapshot(world.store)
    assert 1 == len(world.mailer.sent)


def test_a_replay_returns_the_appointment_as_it_is_now() -> None:
    """A replay after the request was approved returns the same appointment, now BOOKED."""
    world = build()
    first = world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k-1")
    world.scheduler.approve(SCHEDULER, first.id)

    again = world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k-1")

    assert (first.id, S.BOOKED) == (again.id, again.status)


@pytest.mark.parametrize(
    ("clinician", "start"), [("c1", TUESDAY_SLOT), ("c2", SLOT)], ids=["start", "clinician"]
)
def test_the_same_key_for_another_booking_is_a_mismatch(clinician: str, start: datetime) -> None:
    """Reusing a key with a different slot or clinician is IdempotencyMismatch; only the
    refusal is written."""
    world = build()
    world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k-1")

    error = refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.book(AS_ALICE, clinician, start, idempotency_key="k-1"),
        IdempotencyMismatch,
    )

    assert (
        "Idempotency key 'k-1' was first used for another booking; use a new key for a new booking."
    ) == str(error)


def test_keys_are_scoped_to_the_client() -> None:
    """Bob using Alice's key makes his own booking, not a replay of hers."""
    world = build()
    alices = world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k-1")

    bobs = world.scheduler.book(AS_BOB, "c1", TUESDAY_SLOT, idempotency_key="k-1")

    assert ("appointment-1", "appointment-2", "bob") == (alices.id, bobs.id, bobs.client_id)


def test_a_refused_booking_does_not_use_up_its_key() -> None:
    """A key whose first attempt was refused can be used again once the slot is free."""
    world = build()
    bobs = world.scheduler.book(AS_BOB, "c1", SLOT)
    with pytest.raises(SlotUnavailable):
        world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k-1")
    world.scheduler.cancel(AS_BOB, bobs.id, "Not needed")

    assert S.PENDING == world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k-1").status


def test_the_same_key_racing_in_two_threads_books_once() -> None:
    """A client's double-click arriving as two concurrent calls with one key: both get the same
    appointment, and only one is written and audited."""
    world = build()
    barrier = threading.Barrier(2)
    results: list[Appointment] = []

    def book() -> None:
        barrier.wait()
        results.append(world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k-1"))

    threads = [threading.Thread(target=book) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [results[0], results[0]] == results
    assert (1, 1) == (len(world.store.appointments()), len(world.store.audit_entries()))


def test_a_client_at_the_open_appointment_cap_cannot_book_more() -> None:
    """With a cap of one open appointment, Alice's second booking is refused until the first is
    cancelled."""
    world = build(client_open_cap=1)
    first = request(world)

    refused_with_only_an_audit_entry(world, lambda: request(world, TUESDAY_SLOT), SlotUnavailable)
    world.scheduler.cancel(AS_ALICE, first.id, "Rescheduling")

    assert S.PENDING == request(world, TUESDAY_SLOT).status


# -- client: cancelling ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [SchedulingMode.INSTANT, SchedulingMode.REQUIRES_APPROVAL])
def test_client_cancellation_marks_missed(mode: SchedulingMode) -> None:
    """A client cancels its booking or request: MISSED, with the time of cancellation."""
    world = build(mode)
    booked = request(world)

    cancelled = world.scheduler.cancel(AS_ALICE, booked.id, "Feeling better")

    assert (S.MISSED, NOW, False, 2) == (
        cancelled.status,
        cancelled.cancelled_at,
        cancelled.late_cancellation,
        cancelled.version,
    )


def test_cancellation_note_goes_to_the_chart_through_the_outbox() -> None:
    """One Appointment Cancellation Note with date, time, clinician and the trimmed reason,
    stored in the outbox with the change and delivered to the chart."""
    world = build(SchedulingMode.INSTANT)
    booked = request(world)

    world.scheduler.cancel(AS_ALICE, booked.id, "  Feeling better  ")

    expected = ChartNote(
        note_id="note-1",
        client_id="alice",
        appointment_id=booked.id,
        title="Appointment Cancellation Note",
        text=(
            "Appointment Cancellation Note\n"
            "Date: Monday, April 13, 2026\n"
            "Time: 10:00 EDT (America/New_York)\n"
            "Clinician: Dr. Rivera\n"
            "Reason given by the client: Feeling better"
        ),
        created_at=NOW,
        late=False,
    )
    assert [expected] == world.chart.notes
    # Delivered, the outbox keeps the note without its text (the reason lives in the chart only).
    assert [(redacted(expected), NOW)] == [
        (i.payload, i.delivered_at) for i in world.store.outbox_items()
    ]


def test_client_cancellation_emails_nobody() -> None:
    """No email to the clinician (nor to anyone else) when a client cancels: the outbox holds
    the booking's confirmation and the chart note, nothing more."""
    world = build(SchedulingMode.INSTANT, send_confirmations=True)
    booked = request(world)
    world.mailer.sent.clear()

    world.scheduler.cancel(AS_ALICE, booked.id, "Feeling better")

    assert [] == world.mailer.sent
    assert [EmailMessage, ChartNote] == [type(i.payload) for i in world.store.outbox_items()]


@pytest.mark.parametrize(
    ("before_start", "late"),
    [
        (timedelta(hours=25), False),
        (timedelta(hours=24), False),
        (timedelta(hours=24) - timedelta(seconds=1), True),
        (timedelta(minutes=1), True),
    ],
)
def test_late_cancellation_flag(before_start: timedelta, late: bool) -> None:
    """Inside the 24-hour late-cancellation window the cancellation and its chart note are
    flagged late; exactly 24 hours ahead is on time."""
    world = build(SchedulingMode.INSTANT)
    booked = request(world)
    world.clock.set(SLOT - before_start)

    cancelled = world.scheduler.cancel(AS_ALICE, booked.id, "Sick")

    (note,) = world.chart.notes
    flag_line = "Late cancellation: yes (inside the late-cancellation window)"
    assert (late, late, late) == (
        cancelled.late_cancellation,
        note.late,
        note.text.endswith(flag_line),
    )


def test_late_window_follows_the_policy() -> None:
    """With a 48-hour window, a cancellation 30 hours ahead is late."""
    world = build(SchedulingMode.INSTANT, late_cancellation_window=timedelta(hours=48))
    booked = request(world)
    world.clock.set(SLOT - timedelta(hours=30))

    assert True is world.scheduler.cancel(AS_ALICE, booked.id, "Sick").late_cancellation


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_a_blank_reason_is_refused(reason: str) -> None:
    """The client must give a reason: blank after trimming is EmptyReason; nothing changes."""
    world = build()
    pending = request(world)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.cancel(AS_ALICE, pending.id, reason), EmptyReason
    )


def test_an_overlong_reason_is_refused() -> None:
    """A reason over the maximum length is refused; nothing changes."""
    world = build()
    pending = request(world)

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.cancel(AS_ALICE, pending.id, "x" * (MAX_REASON_LENGTH + 1)),
        EmptyReason,
    )


def test_a_reason_with_a_nul_character_is_refused() -> None:
    """PostgreSQL keeps no NUL (U+0000) in text: a reason holding one is refused up front, with
    a message the client can act on, instead of failing in the store; nothing changes."""
    world = build()
    pending = request(world)

    caught = refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.cancel(AS_ALICE, pending.id, "Sick\x00 today"), EmptyReason
    )
    assert (
        "The cancellation reason contains a NUL character (U+0000), which cannot be kept in the "
        "chart; please retype it."
    ) == str(caught)


@pytest.mark.parametrize("after_start", [timedelta(0), timedelta(minutes=10)])
def test_an_appointment_that_has_started_cannot_be_cancelled(after_start: timedelta) -> None:
    """Client cancellation is for future appointments only."""
    world = build(SchedulingMode.INSTANT)
    booked = request(world)
    world.clock.set(SLOT + after_start)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.cancel(AS_ALICE, booked.id, "Too late"), TransitionNotAllowed
    )


def test_a_cancelled_appointment_cannot_be_cancelled_again() -> None:
    """A second cancellation is refused and writes no second chart note."""
    world = build()
    pending = request(world)
    world.scheduler.cancel(AS_ALICE, pending.id, "Sick")

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.cancel(AS_ALICE, pending.id, "Sick"), TransitionNotAllowed
    )
    assert 1 == len(world.chart.notes)


def test_a_cancelled_time_reopens() -> None:
    """After Alice cancels, Bob can book her old slot."""
    world = build(SchedulingMode.INSTANT)
    world.scheduler.cancel(AS_ALICE, request(world).id, "Sick")

    assert S.BOOKED == world.scheduler.book(AS_BOB, "c1", SLOT).status


@pytest.mark.parametrize("actor", [AS_RIVERA, SCHEDULER, None])
def test_only_a_client_cancels_as_a_client(actor: Actor | None) -> None:
    """cancel() is the client's; the practice uses cancel_by_practice or reject."""
    world = build()
    pending = request(world)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.cancel(actor, pending.id, "Sick"), PermissionDenied
    )


def test_the_reason_never_reaches_the_audit_record() -> None:
    """The cancellation reason lives in the chart note only: no audit entry, of the change or
    of a refusal, contains it."""
    world = build()
    pending = request(world)
    reason = "Panic attacks since the medication change"
    with pytest.raises(PermissionDenied):
        world.scheduler.cancel(AS_RIVERA, pending.id, reason)

    world.scheduler.cancel(AS_ALICE, pending.id, reason)

    record = json.dumps([e.content() for e in world.store.audit_entries()])
    assert (False, False) == (reason in record, "medication" in record)
    assert 3 == len(world.store.audit_entries())


# -- DISABLED mode ---------------------------------------------------------------------------------


def disabled_with_one_booking() -> tuple[World, Appointment]:
    """A practice that booked Alice in INSTANT mode and then switched self-scheduling off."""
    world = build(SchedulingMode.INSTANT)
    booked = request(world)
    practice = attrs.evolve(
        world.scheduler.practice, policy=ApprovalPolicy(mode=SchedulingMode.DISABLED)
    )
    use_settings(world.scheduler, practice)
    return world, booked


def test_disabled_client_still_lists_and_views_own_appointments() -> None:
    """DISABLED: the client still lists and opens its appointments."""
    world, booked = disabled_with_one_booking()

    entries = world.scheduler.my_appointments(AS_ALICE)
    details = world.scheduler.appointment_details(AS_ALICE, booked.id)

    assert ([ScheduleEntry(booked, Display.BOOKED)], booked) == (entries, details)


def test_disabled_booking_is_refused() -> None:
    """DISABLED: booking raises SelfSchedulingDisabled and writes nothing but the refusal."""
    world, _ = disabled_with_one_booking()

    error = refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.book(AS_BOB, "c1", TUESDAY_SLOT), SelfSchedulingDisabled
    )

    assert "Online scheduling is turned off; please call the clinic to book." == str(error)


def test_disabled_cancellation_is_refused() -> None:
    """DISABLED: cancelling raises SelfSchedulingDisabled; no note reaches the chart."""
    world, booked = disabled_with_one_booking()

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.cancel(AS_ALICE, booked.id, "Sick"),
        SelfSchedulingDisabled,
    )


def test_disabled_slot_view_is_refused() -> None:
    """DISABLED: there is nothing to pick, so the slot view is refused too."""
    world, _ = disabled_with_one_booking()

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.client_slots(AS_BOB, "c1", first_day=MONDAY, last_day=MONDAY),
        SelfSchedulingDisabled,
    )


def test_disabled_for_one_clinician_only() -> None:
    """A per-clinician DISABLED override refuses bookings with that clinician only."""
    world = build(
        SchedulingMode.INSTANT,
        clinician_policies={"c2": ApprovalPolicy(mode=SchedulingMode.DISABLED)},
    )

    with pytest.raises(SelfSchedulingDisabled):
        world.scheduler.book(AS_ALICE, "c2", SLOT)
    assert S.BOOKED == request(world).status


def test_disabled_mode_does_not_stop_staff() -> None:
    """DISABLED limits clients; staff still decide what is waiting and book for clients."""
    world = build()
    pending = request(world)
    use_settings(
        world.scheduler,
        attrs.evolve(world.scheduler.practice, policy=ApprovalPolicy(mode=SchedulingMode.DISABLED)),
    )

    approved = world.scheduler.approve(SCHEDULER, pending.id)
    staff_booked = world.scheduler.book_for_client(
        SCHEDULER, client_id="bob", clinician_id="c1", start=TUESDAY_SLOT
    )

    assert (S.BOOKED, S.BOOKED) == (approved.status, staff_booked.status)


# -- clinician and staff: schedule, queue, badge ---------------------------------------------------


def test_schedule_shows_each_appointment_with_its_display() -> None:
    """The clinician's day: a pending request is a grey placeholder, an approved one booked, a
    client-cancelled one missed, a rejected one rejected; another clinician's are absent."""
    world = build()
    pending = request(world)
    approved = world.scheduler.book(AS_BOB, "c1", at(MONDAY, 12))
    world.scheduler.approve(AS_RIVERA, approved.id)
    missed = world.scheduler.book(AS_CAROL, "c1", at(MONDAY, 14))
    world.scheduler.cancel(AS_CAROL, missed.id, "Sick")
    rejected = world.scheduler.book(AS_ALICE, "c1", at(MONDAY, 16))
    world.scheduler.reject(AS_RIVERA, rejected.id)
    world.scheduler.book(AS_BOB, "c2", at(MONDAY, 15))

    entries = world.scheduler.schedule(AS_RIVERA, "c1", first_day=MONDAY, last_day=MONDAY)

    assert [
        (pending.id, Display.PLACEHOLDER),
        (approved.id, Display.BOOKED),
        (missed.id, Display.MISSED),
        (rejected.id, Display.REJECTED),
    ] == [(e.appointment.id, e.display) for e in entries]


def test_schedule_covers_whole_local_days() -> None:
    """first_day..last_day are local dates of the clinician: Tuesday's appointment is outside
    a Monday-only view and inside a Monday-Tuesday one."""
    world = build()
    request(world)
    request(world, TUESDAY_SLOT)

    monday = world.scheduler.schedule(AS_RIVERA, "c1", first_day=MONDAY, last_day=MONDAY)
    both = world.scheduler.schedule(AS_RIVERA, "c1", first_day=MONDAY, last_day=TUESDAY)

    assert (1, 2) == (len(monday), len(both))


def test_schedule_views_are_audited() -> None:
    """A staff view of a schedule leaves one "viewed" entry naming the viewer."""
    world = build()

    world.scheduler.schedule(SCHEDULER, "c1", first_day=MONDAY, last_day=MONDAY)

    (entry,) = world.store.audit_entries()
    assert ("staff:s-sched:scheduler", "view_schedule", "viewed") == (
        entry.actor,
        entry.action,
        entry.outcome,
    )


@pytest.mark.parametrize("actor", [AS_CHEN, AS_ALICE, None])
def test_schedule_is_for_the_clinician_and_staff(actor: Actor | None) -> None:
    """Another clinician, a client or nobody cannot see Dr. Rivera's schedule."""
    world = build()

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.schedule(actor, "c1", first_day=MONDAY, last_day=MONDAY),
        PermissionDenied,
    )


def three_requests() -> tuple[World, list[Appointment]]:
    """Requests: Alice with Dr. Rivera on Tuesday, Bob with Dr. Chen on Monday, Carol with Dr.
    Rivera on Monday; and one booked (not pending) appointment."""
    world = build()
    made = [
        world.scheduler.book(AS_ALICE, "c1", TUESDAY_SLOT),
        world.scheduler.book(AS_BOB, "c2", SLOT),
        world.scheduler.book(AS_CAROL, "c1", at(MONDAY, 13)),
    ]
    world.scheduler.book_for_client(
        AS_RIVERA, client_id="bob", clinician_id="c1", start=at(MONDAY, 15)
    )
    return world, made


def test_queue_for_an_approver_holds_every_pending_request_soonest_first() -> None:
    """Staff who may approve see all requests, soonest first; the badge counts them."""
    world, (alices, bobs, carols) = three_requests()

    queue = world.scheduler.approval_queue(SCHEDULER)

    assert [bobs.id, carols.id, alices.id] == [a.id for a in queue]
    assert 3 == world.scheduler.queue_count(SCHEDULER)


def test_queue_for_a_clinician_holds_only_their_requests() -> None:
    """A clinician's queue and badge hold only requests on their own calendar."""
    world, (alices, bobs, carols) = three_requests()

    assert ([carols.id, alices.id], 2) == (
        [a.id for a in world.scheduler.approval_queue(AS_RIVERA)],
        world.scheduler.queue_count(AS_RIVERA),
    )
    assert ([bobs.id], 1) == (
        [a.id for a in world.scheduler.approval_queue(AS_CHEN)],
        world.scheduler.queue_count(AS_CHEN),
    )


def test_the_badge_goes_down_as_requests_are_decided() -> None:
    """Approving, rejecting and cancelling take requests off the badge."""
    world, (alices, bobs, carols) = three_requests()

    counts = [world.scheduler.queue_count(SCHEDULER)]
    world.scheduler.approve(SCHEDULER, alices.id, location="Room 1")
    counts.append(world.scheduler.queue_count(SCHEDULER))
    world.scheduler.reject(SCHEDULER, bobs.id)
    counts.append(world.scheduler.queue_count(SCHEDULER))
    world.scheduler.cancel(AS_CAROL, carols.id, "Sick")
    counts.append(world.scheduler.queue_count(SCHEDULER))

    assert [3, 2, 1, 0] == counts


@pytest.mark.parametrize("actor", [DIRECTOR_OFF, FRONT_DESK, AS_ALICE, None])
def test_no_queue_for_those_who_cannot_approve(actor: Actor | None) -> None:
    """Whoever decides nothing has a badge of 0 and is refused the queue (audited)."""
    world, _ = three_requests()

    assert 0 == world.scheduler.queue_count(actor)
    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approval_queue(actor), PermissionDenied
    )


def test_queue_views_are_audited_but_the_badge_is_not() -> None:
    """Opening the queue leaves a "viewed" entry; reading the badge leaves none."""
    world, _ = three_requests()
    before = len(world.store.audit_entries())

    world.scheduler.queue_count(SCHEDULER)
    world.scheduler.approval_queue(SCHEDULER)

    assert [("view_queue", "viewed")] == [
        (e.action, e.outcome) for e in world.store.audit_entries()[before:]
    ]


def test_staff_see_appointment_details_and_are_audited() -> None:
    """Staff and the clinician open any appointment of the clinician; each view is recorded."""
    world = build()
    pending = request(world)

    seen = [world.scheduler.appointment_details(a, pending.id) for a in (AS_RIVERA, FRONT_DESK)]

    assert [pending, pending] == seen
    assert [("view_appointment", "viewed", pending.id)] * 2 == [
        (e.action, e.outcome, e.appointment_id) for e in world.store.audit_entries()[1:]
    ]


def test_client_sees_own_appointment_details_unaudited() -> None:
    """A client opening its own appointment gets it; no audit entry is written."""
    world = build()
    pending = request(world)

    assert pending == world.scheduler.appointment_details(AS_ALICE, pending.id)
    assert 1 == len(world.store.audit_entries())


# -- approve ---------------------------------------------------------------------------------------


def test_approval_books_the_request_and_emails_the_client() -> None:
    """Approve: BOOKED, decided by and when, the approver's audit entry with the details, and
    the "approved" email to the client (and nobody else)."""
    world = build()
    pending = request(world)
    world.clock.advance(timedelta(hours=1))

    approved = world.scheduler.approve(SCHEDULER, pending.id, code_modifier="HJ")

    assert (
        attrs.evolve(
            pending,
            status=S.BOOKED,
            code_modifier="HJ",
            decided_at=NOW + timedelta(hours=1),
            decided_by="staff:s-sched:scheduler",
            version=2,
        )
        == approved
    )
    entry = world.store.audit_entries()[-1]
    assert ("approve", "pending", "booked") == (entry.action, entry.before, entry.after)
    assert (
        ("code_modifier", "HJ"),
        ("location", "Main Street Office"),
        ("service_code", "90834"),
    ) == entry.changes
    assert [(EmailKind.APPROVED, "alice@example.org", pending.id)] == [
        (m.kind, m.to, m.appointment_id) for m in world.mailer.sent
    ]


def test_approval_needs_a_location_when_none_is_set() -> None:
    """On a day without default location the approval must name one: refused without it,
    accepted with it."""
    world = build()
    pending = request(world, TUESDAY_SLOT)

    error = refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(AS_RIVERA, pending.id), MissingDetails
    )
    approved = world.scheduler.approve(AS_RIVERA, pending.id, location="Telehealth")

    assert (
        "Choose the location before approving this request (the code modifier is optional)."
        == str(error)
    )
    assert ("Telehealth", S.BOOKED) == (approved.location, approved.status)


def test_approval_uses_details_set_earlier_by_an_edit() -> None:
    """Location and service code set by an edit before are enough to approve."""
    world = build()
    pending = request(world, TUESDAY_SLOT)
    world.scheduler.edit(AS_RIVERA, pending.id, location="Room 4", service_code="90837")

    approved = world.scheduler.approve(AS_RIVERA, pending.id)

    assert ("Room 4", "90837", 3) == (approved.location, approved.service_code, approved.version)


def test_approval_rechecks_that_nothing_else_holds_the_time() -> None:
    """With pending requests leaving their slot open, two clients may request one time; once
    one is approved, approving the other is SlotUnavailable and changes nothing."""
    world = build(pending_holds_slot=False)
    alices = request(world)
    bobs = world.scheduler.book(AS_BOB, "c1", at(MONDAY, 10, 30))
    world.scheduler.approve(SCHEDULER, alices.id)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(SCHEDULER, bobs.id), SlotUnavailable
    )


def test_approval_rechecks_the_clients_other_appointments() -> None:
    """A request whose client meanwhile holds an overlapping open appointment (stored by other
    means) is not approved."""
    world = build()
    pending = request(world)
    with world.store.unit_of_work() as uow:
        uow.add(
            attrs.evolve(pending, id="elsewhere", clinician_id="c2", status=S.BOOKED, version=1)
        )

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(SCHEDULER, pending.id), SlotUnavailable
    )


def test_approving_an_approved_request_is_refused() -> None:
    """A decided request is not decided again (Conflict: someone decided first); no second
    email goes out."""
    world = build()
    pending = request(world)
    world.scheduler.approve(SCHEDULER, pending.id)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(SCHEDULER, pending.id), Conflict
    )
    assert 1 == len(world.mailer.sent)


def test_approving_a_staff_booking_is_refused() -> None:
    """Approval is for PENDING requests only: a staff booking, never decided, is not one."""
    world = build()
    booked = world.scheduler.book_for_client(
        AS_RIVERA, client_id="alice", clinician_id="c1", start=SLOT
    )

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(SCHEDULER, booked.id), TransitionNotAllowed
    )


@pytest.mark.parametrize("actor", [AS_CHEN, DIRECTOR_OFF, FRONT_DESK, SYSTEM, None])
def test_approval_needs_the_clinician_or_an_approver(actor: Actor | None) -> None:
    """Another clinician, staff without the permission or role, the system and nobody are
    refused with a message saying who may decide."""
    world = build()
    pending = request(world)

    error = refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(actor, pending.id), PermissionDenied
    )

    assert (
        "Only the appointment's clinician, or staff whose role allows it and whose 'approve "
        "appointment requests' permission is on, can decide this request."
    ) == str(error)


def test_client_approving_own_request_is_refused() -> None:
    """A client cannot approve even its own request (it is its own, so no NotFound)."""
    world = build()
    pending = request(world)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(AS_ALICE, pending.id), PermissionDenied
    )


def test_a_client_without_email_is_approved_without_email() -> None:
    """Carol has no address: her request is approved, audited, and nothing is queued."""
    world = build()
    pending = world.scheduler.book(AS_CAROL, "c1", SLOT)

    approved = world.scheduler.approve(SCHEDULER, pending.id)

    assert (S.BOOKED, [], []) == (approved.status, world.store.outbox_items(), world.mailer.sent)


def test_a_broken_client_address_refuses_the_change_before_anything_is_queued() -> None:
    """A client address with a line break (header injection) is refused before the email is
    queued; the approval is not saved either, so a change is never without its email."""
    world = build()
    pending = request(world)
    world.directory.clients["alice"] = attrs.evolve(
        world.directory.clients["alice"], email="alice@example.org\r\nBcc: all@example.org"
    )

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.approve(SCHEDULER, pending.id), InvalidHeader
    )


def test_approval_email_is_in_the_clients_zone() -> None:
    """Bob reads his approval in Los Angeles time, the zone named."""
    world = build()
    pending = world.scheduler.book(AS_BOB, "c1", SLOT)

    world.scheduler.approve(SCHEDULER, pending.id)

    assert "Time: 7:00 AM PDT (America/Los_Angeles)" in world.mailer.sent[0].text.splitlines()


# -- reject ----------------------------------------------------------------------------------------


def test_rejection_emails_the_client_to_call() -> None:
    """Reject a request: REJECTED, decided by the clinician, and the "not approved" email."""
    world = build()
    pending = request(world)

    rejected = world.scheduler.reject(AS_RIVERA, pending.id)

    assert (S.REJECTED, "clinician:c1", NOW) == (
        rejected.status,
        rejected.decided_by,
        rejected.decided_at,
    )
    assert [EmailKind.REJECTED] == [m.kind for m in world.mailer.sent]
    assert (
        "Please call your clinician or the clinic at 555-0100 for assistance."
        in world.mailer.sent[0].text
    )


def test_a_self_booked_appointment_can_be_rejected() -> None:
    """INSTANT: the practice may reject what a client booked; the client is emailed."""
    world = build(SchedulingMode.INSTANT)
    booked = request(world)

    rejected = world.scheduler.reject(SCHEDULER, booked.id)

    assert (S.REJECTED, [EmailKind.REJECTED]) == (
        rejected.status,
        [m.kind for m in world.mailer.sent],
    )


def test_a_staff_booked_appointment_cannot_be_rejected() -> None:
    """What the practice booked itself is cancelled, not rejected."""
    world = build()
    booked = world.scheduler.book_for_client(
        AS_RIVERA, client_id="alice", clinician_id="c1", start=SLOT
    )

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.reject(AS_RIVERA, booked.id), TransitionNotAllowed
    )


def test_reject_needs_the_clinician_or_an_approver() -> None:
    """Front desk staff cannot reject."""
    world = build()
    pending = request(world)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.reject(FRONT_DESK, pending.id), PermissionDenied
    )


# -- two staff deciding one request ----------------------------------------------------------------


def test_a_stale_decision_is_a_conflict() -> None:
    """Two staff loaded version 1; the first approves; the second's reject with
    expected_version=1 is Conflict, telling them to reload."""
    world = build()
    pending = request(world)
    world.scheduler.approve(SCHEDULER, pending.id, expected_version=pending.version)

    error = refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.reject(AS_RIVERA, pending.id, expected_version=pending.version),
        Conflict,
    )

    assert (
        "Appointment 'appointment-1' was already decided (booked) at "
        f"{world.clock.now().isoformat()}; reload it to see the decision."
    ) == str(error)


def test_a_stale_edit_is_a_conflict() -> None:
    """Staff loaded version 1; the request was edited meanwhile; an edit with
    expected_version=1 is Conflict, telling them to reload."""
    world = build()
    pending = request(world)
    world.scheduler.edit(SCHEDULER, pending.id, location="Room 2")

    error = refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.edit(
            AS_RIVERA, pending.id, location="Room 3", expected_version=pending.version
        ),
        Conflict,
    )

    assert (
        "Appointment 'appointment-1' changed since you loaded it (version 1, now 2); reload it "
        "and decide again."
    ) == str(error)


@pytest.mark.parametrize("second", ["approve", "reject"])
def test_a_second_decision_without_expected_version_is_a_conflict(second: str) -> None:
    """One staff member approves; another, deciding the same request a moment later without
    expected_version, gets a clear Conflict (SPEC §3): the appointment stays BOOKED, one email.

    Regression: the rejection went through and the client got "approved" then "not approved".
    """
    world = build()
    pending = request(world)
    world.scheduler.approve(SCHEDULER, pending.id)

    error = refused_with_only_an_audit_entry(
        world, lambda: getattr(world.scheduler, second)(AS_RIVERA, pending.id), Conflict
    )
    assert "was already decided (booked)" in str(error)
    assert [EmailKind.APPROVED] == [m.kind for m in world.mailer.sent]


def test_two_staff_deciding_at_once_one_wins() -> None:
    """Two threads approve and reject the same request at once with expected_version: exactly
    one succeeds, the other gets Conflict, and exactly one email goes out."""
    world = build()
    pending = request(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(call: Callable[[], Appointment]) -> None:
        barrier.wait()
        try:
            outcomes.append(str(call().status))
        except Conflict:
            outcomes.append("conflict")

    threads = [
        threading.Thread(
            target=decide,
            args=(lambda: world.scheduler.approve(SCHEDULER, pending.id, expected_version=1),),
        ),
        threading.Thread(
            target=decide,
            args=(lambda: world.scheduler.reject(ADMIN, pending.id, expected_version=1),),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    (winner,) = (o for o in outcomes if o != "conflict")
    assert ["conflict"] == [o for o in outcomes if o == "conflict"]
    assert winner == world.store.appointments()[0].status
    assert 1 == len(world.mailer.sent)


def test_two_clients_racing_for_one_slot_one_wins() -> None:
    """Many threads book the same slot at once: exactly one booking, every other caller gets
    SlotUnavailable, and only one appointment exists."""
    world = build(SchedulingMode.INSTANT)
    actors = [AS_ALICE, AS_BOB, AS_CAROL]
    barrier = threading.Barrier(len(actors))
    won: list[str] = []
    lost: list[str] = []

    def race(actor: ClientActor) -> None:
        barrier.wait()
        try:
            won.append(world.scheduler.book(actor, "c1", SLOT).client_id)
        except SlotUnavailable:
            lost.append(actor.client_id)

    threads = [threading.Thread(target=race, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert (1, 2) == (len(won), len(lost))
    assert [(won[0], S.BOOKED)] == [(a.client_id, a.status) for a in world.store.appointments()]
    verify_chain(world.store.audit_entries())


# -- edit and practice cancellation ----------------------------------------------------------------


def test_edit_changes_only_what_is_given() -> None:
    """Edit sets location and modifier, keeps the service code, stays PENDING, is audited with
    what changed, and emails nobody."""
    world = build()
    pending = request(world)

    edited = world.scheduler.edit(AS_RIVERA, pending.id, location="Room 2", code_modifier="95")

    assert ("Room 2", "90834", "95", S.PENDING, 2) == (
        edited.location,
        edited.service_code,
        edited.code_modifier,
        edited.status,
        edited.version,
    )
    entry = world.store.audit_entries()[-1]
    assert ("edit", "pending", "pending", (("code_modifier", "95"), ("location", "Room 2"))) == (
        entry.action,
        entry.before,
        entry.after,
        entry.changes,
    )
    assert [] == world.mailer.sent


def test_edit_can_clear_a_field() -> None:
    """None clears a field ("No Location Set"); UNCHANGED keeps it."""
    world = build(SchedulingMode.INSTANT)
    booked = request(world)

    edited = world.scheduler.edit(
        SCHEDULER, booked.id, location=None, service_code=UNCHANGED, code_modifier=UNCHANGED
    )

    assert (None, "90834", S.BOOKED) == (edited.location, edited.service_code, edited.status)


def test_edit_of_a_closed_appointment_is_refused() -> None:
    """A missed appointment is not edited."""
    world = build()
    pending = request(world)
    world.scheduler.cancel(AS_ALICE, pending.id, "Sick")

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.edit(AS_RIVERA, pending.id, location="X"),
        TransitionNotAllowed,
    )


def test_edit_with_a_line_break_is_refused() -> None:
    """A location with a line break is refused: it would end up in an email."""
    world = build()
    pending = request(world)

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.edit(AS_RIVERA, pending.id, location="A\nB"),
        InvalidHeader,
    )


@pytest.mark.parametrize("actor", [AS_CHEN, FRONT_DESK, AS_ALICE])
def test_edit_needs_the_clinician_or_an_approver(actor: Actor) -> None:
    """Another clinician, front desk staff, and the client herself cannot edit."""
    world = build()
    pending = request(world)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.edit(actor, pending.id, location="X"), PermissionDenied
    )


def test_practice_cancellation() -> None:
    """The practice cancels a booked appointment: CANCELLED, no chart note, no email; the time
    reopens."""
    world = build(SchedulingMode.INSTANT)
    booked = request(world)

    cancelled = world.scheduler.cancel_by_practice(AS_RIVERA, booked.id)

    assert (S.CANCELLED, [], []) == (cancelled.status, world.mailer.sent, world.chart.notes)
    assert S.BOOKED == world.scheduler.book(AS_BOB, "c1", SLOT).status


def test_practice_cancels_booked_appointments_only() -> None:
    """A pending request is rejected, not cancelled by the practice."""
    world = build()
    pending = request(world)

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.cancel_by_practice(AS_RIVERA, pending.id),
        TransitionNotAllowed,
    )


# -- booking on a client's behalf ------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        NOW + timedelta(hours=2),  # inside the minimum notice
        at(MONDAY, 7),  # before work hours
        at(MONDAY, 10, 10),  # off the grid
        at(date(2026, 4, 18), 10),  # Saturday
        at(MONDAY, 10) + timedelta(days=90),  # beyond the horizon
    ],
)
def test_staff_book_without_the_client_facing_limits(start: datetime) -> None:
    """book_for_client ignores notice, work hours, grid, weekends and the horizon."""
    world = build()

    booked = world.scheduler.book_for_client(
        SCHEDULER, client_id="alice", clinician_id="c1", start=start
    )

    assert (S.BOOKED, Origin.STAFF, start) == (booked.status, booked.origin, booked.start)


def test_staff_book_over_a_calendar_event_and_in_disabled_mode() -> None:
    """A calendar event and a DISABLED mode do not stop the clinician booking a client."""
    event = CalendarEvent.one_off(at(MONDAY, 9), at(MONDAY, 12), title="Blocked")
    world = build(SchedulingMode.DISABLED, events=[event])

    booked = world.scheduler.book_for_client(
        AS_RIVERA, client_id="alice", clinician_id="c1", start=SLOT
    )

    assert S.BOOKED == booked.status


def test_staff_booking_fills_defaults_or_takes_details() -> None:
    """Defaults: the clinician's service code and length and the weekday's location; or what
    staff give."""
    world = build()

    default = world.scheduler.book_for_client(
        SCHEDULER, client_id="alice", clinician_id="c1", start=SLOT
    )
    given = world.scheduler.book_for_client(
        SCHEDULER,
        client_id="bob",
        clinician_id="c1",
        start=TUESDAY_SLOT,
        minutes=90,
        location="Room 3",
        service_code="90847",
        code_modifier="HJ",
    )

    assert (SLOT + timedelta(minutes=50), "90834", "Main Street Office", None) == (
        default.end,
        default.service_code,
        default.location,
        default.code_modifier,
    )
    assert (TUESDAY_SLOT + timedelta(minutes=90), "90847", "Room 3", "HJ") == (
        given.end,
        given.service_code,
        given.location,
        given.code_modifier,
    )


def test_staff_booking_still_prevents_double_booking() -> None:
    """The clinician's held time, and the client's own open appointments, still block."""
    world = build()
    request(world)

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.book_for_client(
            SCHEDULER, client_id="bob", clinician_id="c1", start=at(MONDAY, 10, 30)
        ),
        SlotUnavailable,
    )
    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.book_for_client(
            SCHEDULER, client_id="alice", clinician_id="c2", start=at(MONDAY, 10, 30)
        ),
        SlotUnavailable,
    )


def test_staff_booking_sends_no_email() -> None:
    """Booking on a client's behalf emails nobody."""
    world = build(SchedulingMode.INSTANT, send_confirmations=True)

    world.scheduler.book_for_client(AS_RIVERA, client_id="alice", clinician_id="c1", start=SLOT)

    assert [] == world.mailer.sent


@pytest.mark.parametrize("actor", [AS_CHEN, FRONT_DESK, DIRECTOR_OFF, AS_ALICE, SYSTEM])
def test_staff_booking_needs_the_clinician_or_an_approver(actor: Actor) -> None:
    """Only Dr. Rivera herself or staff who may approve can book on her calendar."""
    world = build()

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.book_for_client(
            actor, client_id="alice", clinician_id="c1", start=SLOT
        ),
        PermissionDenied,
    )


@pytest.mark.parametrize("minutes", [0, -30])
def test_staff_booking_needs_a_positive_length(minutes: int) -> None:
    """A zero or negative length is InvalidRange."""
    world = build()

    refused_with_only_an_audit_entry(
        world,
        lambda: world.scheduler.book_for_client(
            SCHEDULER, client_id="alice", clinician_id="c1", start=SLOT, minutes=minutes
        ),
        InvalidRange,
    )


# -- expiry ----------------------------------------------------------------------------------------


def test_a_request_expires_at_its_start_and_the_client_is_told_once() -> None:
    """Undecided at its start: EXPIRED, decided by the system, one "not approved" email; a
    second sweep does nothing."""
    world = build()
    pending = request(world)
    world.clock.set(SLOT)

    expired = world.scheduler.expire_due()
    again = world.scheduler.expire_due()

    assert [(pending.id, S.EXPIRED, "system:system", SLOT)] == [
        (a.id, a.status, a.decided_by, a.decided_at) for a in expired
    ]
    assert [] == again
    assert [(EmailKind.EXPIRED, "Your appointment request was not approved")] == [
        (m.kind, m.subject) for m in world.mailer.sent
    ]
    assert ("expire", "pending", "expired", "system:system") == (
        world.store.audit_entries()[-1].action,
        world.store.audit_entries()[-1].before,
        world.store.audit_entries()[-1].after,
        world.store.audit_entries()[-1].actor,
    )


def test_nothing_expires_before_its_start() -> None:
    """One second before the start, without a time-to-live, nothing expires."""
    world = build()
    request(world)
    world.clock.set(SLOT - timedelta(seconds=1))

    assert ([], 1) == (world.scheduler.expire_due(), len(world.store.audit_entries()))


@pytest.mark.parametrize(
    ("age", "expired"),
    [(timedelta(hours=48) - timedelta(seconds=1), False), (timedelta(hours=48), True)],
)
def test_a_request_expires_after_its_time_to_live(age: timedelta, expired: bool) -> None:
    """With a 48-hour time-to-live a request expires 48 hours after it was made, well before its
    start."""
    world = build(pending_ttl=timedelta(hours=48))
    request(world)
    world.clock.advance(age)

    assert expired == bool(world.scheduler.expire_due())


def test_expiry_leaves_booked_appointments_alone() -> None:
    """Only PENDING requests expire; a booked appointment that started stays BOOKED."""
    world = build(SchedulingMode.INSTANT)
    request(world)
    world.clock.set(SLOT + timedelta(hours=1))

    assert ([], [S.BOOKED]) == (
        world.scheduler.expire_due(),
        [a.status for a in world.store.appointments()],
    )


def test_an_expired_request_reopens_its_time() -> None:
    """After a time-to-live expiry, Bob can request Alice's former slot."""
    world = build(pending_ttl=timedelta(hours=48))
    request(world)
    world.clock.advance(timedelta(hours=48))
    world.scheduler.expire_due()

    assert S.PENDING == world.scheduler.book(AS_BOB, "c1", SLOT).status


def test_one_request_that_cannot_expire_does_not_stop_the_sweep() -> None:
    """Alice's address turned malformed, so her expiry email cannot be queued: her request is
    audited as refused and left PENDING, and Bob's still expires.

    Regression: the sweep stopped at the first failure, so no later request ever expired.
    """
    world = build()
    request(world)
    bobs = world.scheduler.book(AS_BOB, "c1", TUESDAY_SLOT)
    world.directory.clients["alice"] = attrs.evolve(
        world.directory.clients["alice"], email="alice@example.org\r\nBcc: x@example.org"
    )
    world.clock.set(TUESDAY_SLOT)

    expired = world.scheduler.expire_due()

    assert [bobs.id] == [a.id for a in expired]
    assert [S.PENDING, S.EXPIRED] == [a.status for a in world.store.appointments()]
    assert [("refused", "InvalidHeader"), ("ok", None)] == [
        (e.outcome, e.error) for e in world.store.audit_entries()[2:]
    ]


@pytest.mark.parametrize("actor", [SCHEDULER, AS_RIVERA, AS_ALICE])
def test_only_the_system_expires(actor: Actor) -> None:
    """People decide requests; expiry is the system's, and anyone else is refused."""
    world = build()
    request(world)
    world.clock.set(SLOT)

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.expire_due(actor), PermissionDenied
    )


# -- outbox dispatch -------------------------------------------------------------------------------


def approved_without_dispatch(max_attempts: int = 5) -> World:
    """Alice's request approved, its email waiting in the outbox."""
    world = build(auto_dispatch=False, max_attempts=max_attempts)
    world.scheduler.approve(SCHEDULER, request(world).id)
    return world


def test_the_email_waits_in_the_outbox_until_dispatch() -> None:
    """Without auto-dispatch the change is saved with its email queued, and dispatch sends it."""
    world = approved_without_dispatch()
    (queued,) = world.store.outbox_items()

    assert ([], None) == (world.mailer.sent, queued.delivered_at)
    assert DispatchReport(delivered=1) == world.scheduler.dispatch()
    assert [queued.payload] == world.mailer.sent
    assert DispatchReport() == world.scheduler.dispatch()


def test_a_failed_delivery_is_retried_up_to_max_attempts_then_given_up() -> None:
    """DeliveryError: retried on each dispatch; after max_attempts it is marked failed and
    nothing more is tried. The approval stands."""
    world = approved_without_dispatch(max_attempts=3)
    world.mailer.fail_next = 10

    reports = dispatch_rounds(world, 4)

    assert [
        DispatchReport(retrying=1),
        DispatchReport(retrying=1),
        DispatchReport(failed=1),
        DispatchReport(),
    ] == reports
    (item,) = world.store.outbox_items()
    assert (3, True, "DeliveryError: RecordingMailer was told to fail this send.") == (
        item.attempts,
        item.failed,
        item.last_error,
    )
    assert ([], S.BOOKED) == (world.mailer.sent, world.store.appointments()[0].status)


def test_a_retried_delivery_goes_out_once() -> None:
    """Two failures, then success: the email is sent exactly once."""
    world = approved_without_dispatch()
    world.mailer.fail_next = 2

    reports = dispatch_rounds(world, 4)

    assert [DispatchReport(retrying=1)] * 2 + [DispatchReport(delivered=1), DispatchReport()] == (
        reports
    )
    assert 1 == len(world.mailer.sent)


def test_an_uncertain_delivery_is_resent_once_with_the_same_message_id() -> None:
    """DeliveryUncertain: sent again once, the same message with the same Message-ID."""
    world = approved_without_dispatch()
    world.mailer.uncertain_next = 1

    reports = dispatch_rounds(world, 3)

    assert [DispatchReport(retrying=1), DispatchReport(delivered=1), DispatchReport()] == reports
    first, second = world.mailer.sent
    assert (first, "<appointment-1.approved.v2@selfsched.invalid>") == (second, second.message_id)


def test_an_uncertain_delivery_is_given_up_after_its_one_resend() -> None:
    """Uncertain twice: given up; never a third send."""
    world = approved_without_dispatch()
    world.mailer.uncertain_next = 5

    reports = dispatch_rounds(world, 3)

    assert [DispatchReport(retrying=1), DispatchReport(failed=1), DispatchReport()] == reports
    assert 2 == len(world.mailer.sent)


def test_an_uncertain_then_failed_resend_is_given_up() -> None:
    """Uncertain, then a sure failure on the resend: given up, not retried further."""
    world = approved_without_dispatch()

    def uncertain_then_fail(message: EmailMessage) -> None:
        del message
        if calls:
            raise DeliveryError("connection refused")
        calls.append(1)
        raise DeliveryUncertain("timeout after DATA")

    calls: list[int] = []
    world.mailer.send = uncertain_then_fail  # type: ignore[method-assign]

    reports = dispatch_rounds(world, 3)

    assert [DispatchReport(retrying=1), DispatchReport(failed=1), DispatchReport()] == reports


def test_a_delivery_failure_never_undoes_the_change() -> None:
    """With auto-dispatch, a failing mailer leaves the approval saved and the email queued for
    the next dispatch, which the next change triggers."""
    world = build()
    world.mailer.fail_next = 1
    first = world.scheduler.approve(SCHEDULER, request(world).id)
    world.clock.advance(BACKOFF)  # the failed email is due again

    world.scheduler.reject(SCHEDULER, world.scheduler.book(AS_BOB, "c1", TUESDAY_SLOT).id)

    assert S.BOOKED == world.store.appointments()[0].status == first.status
    assert [EmailKind.APPROVED, EmailKind.REJECTED] == [m.kind for m in world.mailer.sent]


def test_a_mailer_raising_anything_is_retried() -> None:
    """A caller's mailer raising a non-selfsched error counts as a failed attempt."""
    world = approved_without_dispatch()

    def broken(message: EmailMessage) -> None:
        raise OSError("network down")

    world.mailer.send = broken  # type: ignore[method-assign]

    assert DispatchReport(retrying=1) == world.scheduler.dispatch()
    assert "OSError: network down" == world.store.outbox_items()[0].last_error


def test_chart_notes_are_retried_too() -> None:
    """A chart that fails once gets the cancellation note on the next dispatch, once."""
    world = build(auto_dispatch=False)
    world.scheduler.cancel(AS_ALICE, request(world).id, "Sick")
    add_note = world.chart.add_note
    failures = [OSError("chart offline")]

    def flaky(note: ChartNote) -> None:
        if failures:
            raise failures.pop()
        add_note(note)

    world.chart.add_note = flaky  # type: ignore[method-assign]

    reports = dispatch_rounds(world, 3)

    assert [DispatchReport(retrying=1), DispatchReport(delivered=1), DispatchReport()] == reports
    assert 1 == len(world.chart.notes)


# -- claims: dispatches of several schedulers over one store ---------------------------------------

LEASE = timedelta(minutes=5)
"""The default ``dispatch_lease``."""


class Crash(BaseException):
    """The process dying in the middle of a delivery: nothing the dispatch could catch."""


def other_instance(
    world: World, mailer: Mailer | None, clock: FixedClock | None = None
) -> Scheduler:
    """A second scheduler over *world*'s store (another backend instance), with its own mailer
    and clock (by default, stopped at the world's present)."""
    return Scheduler(
        store=world.store,
        directory=world.directory,
        clock=clock if clock is not None else FixedClock(world.clock.now()),
        ids=SequentialIds(),
        practice=world.scheduler.practice,
        mailer=mailer,
        chart=RecordingChart(),
        auto_dispatch=False,
    )


def three_approvals() -> World:
    """Three approved requests (Alice Monday and Tuesday, Bob Tuesday), their emails waiting."""
    world = build(auto_dispatch=False)
    for actor, start in ((AS_ALICE, SLOT), (AS_BOB, TUESDAY_SLOT), (AS_ALICE, at(TUESDAY, 14))):
        booked = world.scheduler.book(actor, "c1", start)
        world.scheduler.approve(SCHEDULER, booked.id, location="Room 2")
    assert 3 == len(world.store.outbox_items())
    return world


def test_a_dispatch_claims_what_it_delivers_for_the_lease() -> None:
    """An item being delivered is claimed until now + the lease; its outcome ends the claim."""
    world = approved_without_dispatch()
    seen: list[OutboxItem] = []
    send = world.mailer.send

    def look_then_send(message: EmailMessage) -> None:
        seen.extend(world.store.outbox_items())
        send(message)

    world.mailer.send = look_then_send  # type: ignore[method-assign]

    assert DispatchReport(delivered=1) == world.scheduler.dispatch()
    assert [NOW + LEASE] == [item.claimed_until for item in seen]
    (item,) = world.store.outbox_items()
    assert (None, NOW, 1) == (item.claimed_until, item.delivered_at, item.attempts)


def test_another_scheduler_leaves_claimed_items_alone() -> None:
    """A second scheduler on the same store dispatching while the first delivers sends nothing."""
    world = approved_without_dispatch()
    other_mailer = RecordingMailer()
    other = other_instance(world, other_mailer)
    meanwhile: list[DispatchReport] = []
    send = world.mailer.send

    def other_dispatches_meanwhile(message: EmailMessage) -> None:
        meanwhile.append(other.dispatch())
        send(message)

    world.mailer.send = other_dispatches_meanwhile  # type: ignore[method-assign]

    assert DispatchReport(delivered=1) == world.scheduler.dispatch()
    assert ([DispatchReport()], [], 1) == (meanwhile, other_mailer.sent, len(world.mailer.sent))


def test_a_claim_left_by_a_crashed_dispatch_lapses_after_the_lease() -> None:
    """A dispatch that dies after sending leaves its claim: nobody sends the item until the lease
    ends, then another scheduler sends it again, with the same Message-ID (at least once)."""
    world = approved_without_dispatch()
    send = world.mailer.send

    def send_then_die(message: EmailMessage) -> None:
        send(message)
        raise Crash

    world.mailer.send = send_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        world.scheduler.dispatch()
    other_mailer, other_clock = RecordingMailer(), FixedClock(NOW)
    other = other_instance(world, other_mailer, other_clock)

    other_clock.advance(LEASE - timedelta(microseconds=1))
    assert DispatchReport() == other.dispatch()
    other_clock.advance(timedelta(microseconds=1))
    assert DispatchReport(delivered=1) == other.dispatch()

    assert world.mailer.sent == other_mailer.sent
    assert "<appointment-1.approved.v2@selfsched.invalid>" == other_mailer.sent[0].message_id
    (item,) = world.store.outbox_items()
    assert (1, None, NOW + LEASE) == (item.attempts, item.claimed_until, item.delivered_at)


def test_claims_are_renewed_when_half_the_lease_has_passed() -> None:
    """A dispatch slower than the lease renews the claims on what it has still to send."""
    world = three_approvals()
    claims: list[list[datetime | None]] = []
    send = world.mailer.send

    def slow_send(message: EmailMessage) -> None:
        claims.append([i.claimed_until for i in world.store.outbox_items() if not i.delivered_at])
        send(message)
        world.clock.advance(timedelta(minutes=3))

    world.mailer.send = slow_send  # type: ignore[method-assign]

    assert DispatchReport(delivered=3) == world.scheduler.dispatch()
    minutes = [[(c - NOW) // timedelta(minutes=1) for c in row if c] for row in claims]
    assert [[5, 5, 5], [8, 8], [11]] == minutes
    assert [None] * 3 == [item.claimed_until for item in world.store.outbox_items()]


def test_a_dispatch_whose_lease_ran_out_stops() -> None:
    """A delivery that outlasts the lease ends the dispatch: the claims on the rest have lapsed
    (another scheduler may have them now), so they are left to the next dispatch."""
    world = three_approvals()
    send = world.mailer.send

    def send_for_six_minutes(message: EmailMessage) -> None:
        send(message)
        if len(world.mailer.sent) == 1:
            world.clock.advance(timedelta(minutes=6))

    world.mailer.send = send_for_six_minutes  # type: ignore[method-assign]

    assert DispatchReport(delivered=1) == world.scheduler.dispatch()
    waiting = [i.claimed_until for i in world.store.outbox_items() if i.delivered_at is None]
    assert [NOW + LEASE] * 2 == waiting
    assert DispatchReport(delivered=2) == world.scheduler.dispatch()
    assert 3 == len({m.message_id for m in world.mailer.sent}) == len(world.mailer.sent)


@pytest.mark.parametrize("first_delivers", [False, True], ids=["first-fails", "first-delivers"])
def test_a_lapsed_claim_records_only_a_delivery_over_another_dispatch(
    first_delivers: bool,
) -> None:
    """A send that hangs past the lease: another scheduler takes the item meanwhile. When the
    first send ends, its failure is not recorded over the other's work; its delivery is."""
    world = approved_without_dispatch()
    other_mailer = RecordingMailer()
    other_mailer.fail_next = 0 if not first_delivers else 1
    other = other_instance(world, other_mailer, FixedClock(NOW + LEASE))
    meanwhile: list[DispatchReport] = []
    send = world.mailer.send

    def hang_past_the_lease(message: EmailMessage) -> None:
        world.clock.advance(LEASE)
        meanwhile.append(other.dispatch())
        if not first_delivers:
            raise DeliveryError("timed out")
        send(message)

    world.mailer.send = hang_past_the_lease  # type: ignore[method-assign]
    report = world.scheduler.dispatch()

    (item,) = world.store.outbox_items()
    delivered_by = NOW if first_delivers else NOW + LEASE  # each dispatch's clock at its send
    assert (delivered_by, None) == (item.delivered_at, item.claimed_until)
    if first_delivers:
        assert (DispatchReport(delivered=1), [DispatchReport(retrying=1)]) == (report, meanwhile)
    else:
        assert (DispatchReport(retrying=1), [DispatchReport(delivered=1)]) == (report, meanwhile)
    assert DispatchReport() == world.scheduler.dispatch() == other.dispatch()


def test_a_scheduler_without_a_mailer_claims_no_email() -> None:
    """An instance that cannot send emails leaves them unclaimed for one that can."""
    world = approved_without_dispatch()
    mute = other_instance(world, None)

    assert DispatchReport() == mute.dispatch()
    assert [None] == [item.claimed_until for item in world.store.outbox_items()]
    assert DispatchReport(delivered=1) == world.scheduler.dispatch()


@pytest.mark.parametrize("lease", [timedelta(0), timedelta(seconds=-1)])
def test_the_dispatch_lease_must_be_positive(lease: timedelta) -> None:
    """A lease of no length would let every dispatch take every item."""
    world = build()
    with pytest.raises(InvalidRange, match="dispatch_lease"):
        Scheduler(
            store=world.store,
            directory=world.directory,
            clock=world.clock,
            ids=SequentialIds(),
            practice=world.scheduler.practice,
            dispatch_lease=lease,
        )


# -- deliveries given up on ------------------------------------------------------------------------


def given_up(max_attempts: int = 1) -> World:
    """Alice's approval email given up on (a sure failure on each of *max_attempts* attempts)."""
    world = approved_without_dispatch(max_attempts=max_attempts)
    world.mailer.fail_next = max_attempts
    dispatch_rounds(world, max_attempts)
    assert world.store.outbox_items()[0].failed
    return world


@pytest.mark.parametrize("staff", [FRONT_DESK, DIRECTOR_OFF, ADMIN], ids=lambda s: s.role)
def test_staff_see_failed_deliveries_and_are_audited(staff: Actor) -> None:
    """Staff of any role see the items given up on, oldest first, each with its last error."""
    world = given_up()
    world.scheduler.cancel(AS_BOB, world.scheduler.book(AS_BOB, "c1", TUESDAY_SLOT).id, "Ill")

    def chart_offline(note: ChartNote) -> None:
        raise OSError("chart offline")

    world.chart.add_note = chart_offline  # type: ignore[method-assign]
    for _ in range(5):
        world.scheduler.dispatch()

    listed = world.scheduler.failed_deliveries(staff)

    assert [EmailKind.APPROVED, "Appointment Cancellation Note"] == [
        i.payload.kind if isinstance(i.payload, EmailMessage) else i.payload.title for i in listed
    ]
    stored = world.store.outbox_items()
    assert stored[0] == listed[0]
    note = stored[1].payload
    assert isinstance(note, ChartNote)
    assert "Ill" in note.text  # the reason is kept for the chart ...
    assert attrs.evolve(stored[1], payload=attrs.evolve(note, text=WITHHELD)) == listed[1]
    assert all("Ill" not in str(i) for i in listed)  # ... and not shown in this staff view
    assert [
        "DeliveryError: RecordingMailer was told to fail this send.",
        "OSError: chart offline",
    ] == [i.last_error for i in listed]
    entry = world.store.audit_entries()[-1]
    assert ("view_failed_deliveries", "viewed", None) == (
        entry.action,
        entry.outcome,
        entry.appointment_id,
    )


def test_no_failed_deliveries_is_an_empty_list() -> None:
    """Nothing given up on: an empty list (still recorded as a staff view)."""
    world = approved_without_dispatch()
    assert [] == world.scheduler.failed_deliveries(FRONT_DESK)
    assert "viewed" == world.store.audit_entries()[-1].outcome


@pytest.mark.parametrize("actor", [AS_ALICE, AS_RIVERA, SYSTEM, None], ids=str)
def test_only_staff_see_or_retry_failed_deliveries(actor: Actor | None) -> None:
    """Clients, clinicians, the system and no one are refused both, and the refusal recorded."""
    world = given_up()
    item_id = world.store.outbox_items()[0].id
    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.failed_deliveries(actor), PermissionDenied
    )
    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.retry_delivery(actor, item_id), PermissionDenied
    )


def test_retry_puts_a_failed_item_back_in_the_queue() -> None:
    """Retrying resets the attempts and clears ``failed``; the next dispatch sends it; audited."""
    world = given_up(max_attempts=2)
    (failed,) = world.scheduler.failed_deliveries(ADMIN)

    queued = world.scheduler.retry_delivery(FRONT_DESK, failed.id)

    assert attrs.evolve(failed, attempts=0, failed=False) == queued
    assert ([], [queued]) == (world.scheduler.failed_deliveries(ADMIN), world.store.outbox_items())
    assert DispatchReport(delivered=1) == world.scheduler.dispatch()
    (entry,) = [e for e in world.store.audit_entries() if e.action == "retry_delivery"]
    assert (
        "staff:s-desk:front_desk",
        "retry_delivery",
        "ok",
        queued.payload.appointment_id,
        (("outbox_item", failed.id),),
    ) == (entry.actor, entry.action, entry.outcome, entry.appointment_id, entry.changes)
    verify_chain(world.store.audit_entries())


def test_retry_with_auto_dispatch_sends_at_once() -> None:
    """With auto-dispatch the retried item goes out before the call returns."""
    world = build()
    world.mailer.fail_next = 5
    world.scheduler.approve(SCHEDULER, request(world).id)  # the first attempt
    world.clock.advance(BACKOFF)
    dispatch_rounds(world, 4)
    (failed,) = world.scheduler.failed_deliveries(ADMIN)

    world.scheduler.retry_delivery(ADMIN, failed.id)

    assert [failed.payload] == world.mailer.sent
    assert world.clock.now() == world.store.outbox_items()[0].delivered_at


def test_a_retried_uncertain_item_is_sent_at_most_once_more() -> None:
    """An item given up on after an uncertain send and resend stays uncertain when retried: one
    more send, and if that is uncertain too it is given up again."""
    world = approved_without_dispatch()
    world.mailer.uncertain_next = 3
    dispatch_rounds(world, 2)
    (failed,) = world.scheduler.failed_deliveries(ADMIN)
    assert (2, True) == (failed.attempts, failed.uncertain)

    queued = world.scheduler.retry_delivery(ADMIN, failed.id)
    reports = dispatch_rounds(world, 2)

    assert (0, True, False) == (queued.attempts, queued.uncertain, queued.failed)
    assert [DispatchReport(failed=1), DispatchReport()] == reports
    assert 3 == len(world.mailer.sent)
    assert 1 == len({m.message_id for m in world.mailer.sent})


@pytest.mark.parametrize("which", ["missing", "waiting", "delivered"])
def test_only_a_failed_item_can_be_retried(which: str) -> None:
    """An id that names no item given up on is NotFound, and the refusal recorded."""
    world = approved_without_dispatch()
    if which == "delivered":
        world.scheduler.dispatch()
    item_id = "outbox-999" if which == "missing" else world.store.outbox_items()[0].id
    error = refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.retry_delivery(ADMIN, item_id), NotFound
    )
    assert f"No failed delivery '{item_id}' was found." == str(error)


# -- settings dry run ------------------------------------------------------------------------------


def booked_week() -> tuple[World, list[Appointment]]:
    """INSTANT practice: Alice Monday 10:00, Bob Monday 13:00, Carol Tuesday 09:30 (all client
    bookings), and a staff booking Tuesday 12:10."""
    world = build(SchedulingMode.INSTANT)
    made = [
        request(world),
        world.scheduler.book(AS_BOB, "c1", at(MONDAY, 13)),
        world.scheduler.book(AS_CAROL, "c1", at(TUESDAY, 9, 30)),
        world.scheduler.book_for_client(
            AS_RIVERA, client_id="alice", clinician_id="c1", start=at(TUESDAY, 12, 10)
        ),
    ]
    return world, made


def dry_run(world: World, **policy: Any) -> list[tuple[str, frozenset[Reason]]]:
    """The dry run of the practice policy changed by *policy* keywords, as (id, reasons)."""
    current = world.scheduler.practice
    changed = attrs.evolve(current, policy=attrs.evolve(current.policy, **policy))
    return [(a.appointment.id, a.reasons) for a in world.scheduler.dry_run(ADMIN, practice=changed)]


def test_dry_run_of_unchanged_settings_affects_nothing() -> None:
    """The current settings allow every existing appointment."""
    world, _ = booked_week()

    assert [] == dry_run(world)


def test_dry_run_writes_nothing() -> None:
    """A dry run changes no appointment and queues nothing; it only records the staff view."""
    world, _ = booked_week()
    appointments, items, audit = snapshot(world.store)

    dry_run(world, grid_minutes=60, buffer_after=timedelta(hours=3), daily_max=1)

    after_appointments, after_items, after_audit = snapshot(world.store)
    assert (appointments, items) == (after_appointments, after_items)
    assert audit == after_audit[:-1]
    assert ("dry_run", "viewed") == (after_audit[-1].action, after_audit[-1].outcome)


def test_dry_run_of_a_coarser_grid() -> None:
    """Moving to full hours: Carol's 09:30 is off the new grid. The staff booking at 12:10 is
    not a client's and is not listed."""
    world, (_, _, carols, _) = booked_week()

    assert [(carols.id, frozenset({Reason.OFF_GRID}))] == dry_run(world, grid_minutes=60)


def test_dry_run_of_new_work_hours() -> None:
    """Dr. Rivera starting at noon: Alice's and Carol's mornings fall outside."""
    world, (alices, _, carols, _) = booked_week()
    afternoons = attrs.evolve(RIVERA, work_hours=WorkHours.weekdays("12:00-17:00"))

    affected = world.scheduler.dry_run(ADMIN, clinicians=[afternoons])

    assert [
        (alices.id, frozenset({Reason.OUTSIDE_WORK_HOURS})),
        (carols.id, frozenset({Reason.OUTSIDE_WORK_HOURS})),
    ] == [(a.appointment.id, a.reasons) for a in affected]


def test_dry_run_of_a_buffer() -> None:
    """Three hours' rest after each appointment: Alice's 10:00 (ends 10:50) and Bob's 13:00 are
    too close to each other, and Carol's 09:30 (ends 10:20) to the staff booking at 12:10. Each
    side of a too-short gap is listed; the staff booking itself is not a client's."""
    world, (alices, bobs, carols, _) = booked_week()

    assert [
        (alices.id, frozenset({Reason.BUFFER})),
        (bobs.id, frozenset({Reason.BUFFER})),
        (carols.id, frozenset({Reason.BUFFER})),
    ] == dry_run(world, buffer_after=timedelta(hours=3))


def test_dry_run_of_a_daily_maximum_lists_every_appointment_of_a_full_day() -> None:
    """One appointment a day: each of Monday's two is over the limit given the other, so both
    are listed for staff to choose whom to call (Tuesday has one client booking plus the staff
    booking, which counts)."""
    world, (alices, bobs, carols, _) = booked_week()

    assert [
        (alices.id, frozenset({Reason.DAILY_MAX})),
        (bobs.id, frozenset({Reason.DAILY_MAX})),
        (carols.id, frozenset({Reason.DAILY_MAX})),
    ] == dry_run(world, daily_max=1)


def test_dry_run_ignores_notice_and_horizon() -> None:
    """Notice and horizon are about booking now: an existing appointment keeps its place."""
    world, _ = booked_week()

    assert [] == dry_run(world, min_notice=timedelta(days=30), horizon=timedelta(days=90))


def test_dry_run_of_disabling_lists_pending_requests_only() -> None:
    """Switching self-scheduling off: pending requests are affected, booked appointments stay."""
    world = build()
    pending = request(world)
    world.scheduler.book_for_client(
        SCHEDULER, client_id="bob", clinician_id="c1", start=SLOT + timedelta(hours=3)
    )
    booked = world.scheduler.book(AS_CAROL, "c1", TUESDAY_SLOT)
    world.scheduler.approve(SCHEDULER, booked.id, location="Room 1")

    assert [(pending.id, frozenset({Reason.SELF_SCHEDULING_DISABLED}))] == dry_run(
        world, mode=SchedulingMode.DISABLED
    )


def test_dry_run_skips_past_and_closed_appointments() -> None:
    """Only future PENDING and BOOKED appointments are judged: Alice's is cancelled, Bob's is
    past, and Carol's starts right now."""
    world, (alices, _, _, _) = booked_week()
    world.scheduler.cancel(AS_ALICE, alices.id, "Sick")
    world.clock.set(at(TUESDAY, 9, 30))

    assert [] == dry_run(world, grid_minutes=60, daily_max=1)


@pytest.mark.parametrize("actor", [AS_RIVERA, AS_ALICE, SYSTEM, None])
def test_dry_run_is_for_practice_staff(actor: Actor | None) -> None:
    """Clinicians, clients, the system and nobody cannot preview practice settings."""
    world, _ = booked_week()

    refused_with_only_an_audit_entry(
        world, lambda: world.scheduler.dry_run(actor), PermissionDenied
    )


# -- the audit record over a whole story -----------------------------------------------------------


def test_every_change_and_refusal_is_recorded_in_an_intact_chain() -> None:
    """A story of requests, decisions, edits, cancellations, expiry and refusals: one entry per
    call, in order, the chain intact."""
    world = build()
    a = request(world)
    b = world.scheduler.book(AS_BOB, "c1", TUESDAY_SLOT)
    with pytest.raises(SlotUnavailable):
        world.scheduler.book(AS_CAROL, "c1", SLOT)
    world.scheduler.edit(AS_RIVERA, b.id, location="Room 2")
    world.scheduler.approve(SCHEDULER, a.id)
    with pytest.raises(PermissionDenied):
        world.scheduler.reject(FRONT_DESK, b.id)
    world.scheduler.approval_queue(AS_RIVERA)
    world.scheduler.cancel(AS_ALICE, a.id, "Sick")
    world.clock.set(TUESDAY_SLOT)
    world.scheduler.expire_due()

    entries = world.store.audit_entries()

    assert [
        ("client:alice", "request", "ok", None),
        ("client:bob", "request", "ok", None),
        ("client:carol", "request", "refused", "SlotUnavailable"),
        ("clinician:c1", "edit", "ok", None),
        ("staff:s-sched:scheduler", "approve", "ok", None),
        ("staff:s-desk:front_desk", "reject", "refused", "PermissionDenied"),
        ("clinician:c1", "view_queue", "viewed", None),
        ("client:alice", "cancel_by_client", "ok", None),
        ("system:system", "expire", "ok", None),
    ] == [(e.actor, e.action, e.outcome, e.error) for e in entries]
    assert list(range(1, 10)) == [e.seq for e in entries]
    verify_chain(entries)


def test_set_approval_permission_is_audited() -> None:
    """Switching the checkbox is recorded with who and for whom; a refused switch too."""
    world = build()
    member = attrs.evolve(DIRECTOR_OFF)

    changed = world.scheduler.set_approval_permission(ADMIN, member, enabled=True)
    with pytest.raises(PermissionDenied):
        world.scheduler.set_approval_permission(SCHEDULER, member, enabled=True)

    assert True is changed.approves_requests
    assert [
        ("staff:s-admin:system_administrator", "ok", (("enabled", "True"), ("staff", "s-dir"))),
        ("staff:s-sched:scheduler", "refused", ()),
    ] == [(e.actor, e.outcome, e.changes) for e in world.store.audit_entries()]
