"""Regression tests for the defects an adversarial review found (one test, or more, per item).

Each test is named after its item and failed before the fix. The table test of malformed input
across every public entry point is in ``test_malformed_input.py``.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfsched import (
    Appointment,
    ApprovalPolicy,
    Client,
    Clinician,
    DispatchReport,
    Practice,
    StaffActor,
)
from selfsched.errors import (
    InvalidHeader,
    NotFound,
    PermissionDenied,
    SelfschedError,
    UnknownTimeZone,
    WrongType,
)
from selfsched.events import EmailMessage, redacted, verify_chain
from selfsched.outbox import RetrySchedule
from selfsched.permissions import ClientActor, ClinicianActor, Role, SystemActor
from service_fixtures import (
    ADMIN,
    ALICE,
    BACKOFF,
    FRONT_DESK,
    MONDAY,
    NOW,
    SCHEDULER,
    SLOT,
    World,
    at,
    build,
    dispatch_rounds,
    snapshot,
)

NOT_BOOLEANS = ["false", "0", "no", "", "true", [0], [], 0, 1, None, 0.0]


@pytest.mark.parametrize("value", NOT_BOOLEANS, ids=repr)
def test_item4_the_approval_checkbox_accepts_booleans_only(value: object) -> None:
    """``approves_requests`` is True or False: "false", "0", "no", [0] and 1 are refused.

    Regression (issue 7, item 4): any truthy value turned the checkbox on, so
    ``approves_requests="false"`` could approve.
    """
    with pytest.raises(WrongType) as caught:
        StaffActor(staff_id="s-1", role=Role.SCHEDULER, approves_requests=value)  # type: ignore[arg-type]

    assert "approves_requests" == caught.value.name
    assert str(caught.value).startswith("approves_requests must be True or False, got ")


def appointment(**changes: object) -> Appointment:
    """A booked hour with Dr. Rivera, with *changes* (possibly of the wrong type)."""
    fields: dict[str, object] = {
        "id": "a",
        "client_id": "c",
        "clinician_id": "d",
        "start": SLOT,
        "end": SLOT + timedelta(hours=1),
        "status": "booked",
    }
    return Appointment(**(fields | changes))  # type: ignore[arg-type]


TYPED_FIELDS: dict[str, Callable[[], object]] = {
    "Appointment.late_cancellation": lambda: appointment(late_cancellation="no"),
    "Appointment.client_id": lambda: appointment(client_id=7),
    "Appointment.location": lambda: appointment(location=["Room 1"]),
    "ApprovalPolicy.pending_holds_slot": lambda: ApprovalPolicy(pending_holds_slot="false"),  # type: ignore[arg-type]
    "Clinician.id": lambda: Clinician(id=None),  # type: ignore[arg-type]
    "Clinician.service_code": lambda: Clinician(id="d", service_code=90834),  # type: ignore[arg-type]
    "Client.email": lambda: Client(id="c", email=b"a@example.org"),  # type: ignore[arg-type]
    "Practice.policy": lambda: Practice(policy={"mode": "instant"}),  # type: ignore[arg-type]
    "Practice.clinician_policies": lambda: Practice(clinician_policies={"d": "instant"}),  # type: ignore[dict-item]
    "ClientActor.client_id": lambda: ClientActor(None),  # type: ignore[arg-type]
    "ClinicianActor.clinician_id": lambda: ClinicianActor(42),  # type: ignore[arg-type]
    "SystemActor.name": lambda: SystemActor(name=b"cron"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("build_it", TYPED_FIELDS.values(), ids=TYPED_FIELDS.keys())
def test_item4_typed_fields_of_public_values_accept_their_type_only(
    build_it: Callable[[], object],
) -> None:
    """Every typed field of the public values refuses a value of another type by name, as
    ``daily_max="3"`` always was."""
    with pytest.raises(WrongType) as caught:
        build_it()

    assert caught.value.name in str(caught.value)


def test_item4_a_client_address_of_the_wrong_type_is_not_shown() -> None:
    """The message about a client's email address names the field, never the address."""
    with pytest.raises(WrongType) as caught:
        Client(id="c", email=b"alice@example.org")  # type: ignore[arg-type]

    assert "email must be a string, got bytes." == str(caught.value)


def test_item5_a_control_character_in_the_address_is_refused_before_the_approval_commits() -> None:
    """A vertical tab in the client's address refuses the approval before anything commits: the
    request stays pending, no email is queued, and the refusal is audited.

    Regression (issue 7, item 5): the approval committed, then the email package refused the
    header and the message was given up after five attempts.
    """
    world = build()
    pending = world.scheduler.book(ClientActor(ALICE.id), "c1", SLOT)
    world.directory.clients[ALICE.id] = Client(
        id=ALICE.id, name=ALICE.name, email="alice@example.org\x0bBcc: x@example.org"
    )
    appointments, outbox, audit = snapshot(world.store)

    with pytest.raises(InvalidHeader) as caught:
        world.scheduler.approve(SCHEDULER, pending.id, location="Room 1")

    assert "example.org" not in str(caught.value)
    after = snapshot(world.store)
    assert (appointments, outbox) == after[:2]
    assert [("refused", "InvalidHeader")] == [(e.outcome, e.error) for e in after[2][len(audit) :]]
    assert NOW == world.clock.now()
    assert isinstance(caught.value, SelfschedError)


# -- item 8: retries back off ---------------------------------------------------------------------


def eight_approvals_with_the_mail_server_down() -> World:
    """Eight requests approved at one instant while every send fails (auto-dispatch on)."""
    world = build()
    world.mailer.fail_next = 1_000
    for hour in range(9, 17):
        request = world.scheduler.book(ClientActor(ALICE.id), "c1", at(MONDAY, hour))
        world.scheduler.approve(SCHEDULER, request.id, location="Room 1")
    return world


def test_item8_a_mail_server_that_is_down_sees_one_attempt_per_email_not_a_burst() -> None:
    """Eight approvals with the server down: each email is tried once, right after its change;
    dispatching again at the same instant tries none, and none is given up.

    Regression (issue 7, item 8): 8 approvals made 34 mailer calls in the same instant and 6 of
    the 8 emails were given up with all five attempts spent in a burst.
    """
    world = eight_approvals_with_the_mail_server_down()
    calls_after_the_changes = 1_000 - world.mailer.fail_next

    reports = [world.scheduler.dispatch() for _ in range(5)]

    assert 8 == calls_after_the_changes
    assert [DispatchReport()] * 5 == reports
    assert 8 == 1_000 - world.mailer.fail_next
    items = world.store.outbox_items()
    assert [(1, False)] * 8 == [(item.attempts, item.failed) for item in items]
    assert all(item.not_before is not None and item.not_before > NOW for item in items)


def test_item8_each_retry_waits_for_its_due_time_and_the_schedule_spreads_the_items() -> None:
    """An item is retried only once its ``not_before`` has come; items that failed together get
    different due times (jitter), each within the documented window for its attempt."""
    world = eight_approvals_with_the_mail_server_down()
    schedule = world.scheduler.retry
    dues = sorted(item.not_before for item in world.store.outbox_items() if item.not_before)

    assert 8 == len(set(dues))
    assert all(
        NOW + schedule.first * (1 - schedule.jitter) <= due <= NOW + schedule.first for due in dues
    )
    world.clock.set(dues[2])
    assert DispatchReport(retrying=3) == world.scheduler.dispatch()
    assert 8 + 3 == 1_000 - world.mailer.fail_next


def test_item8_a_recovered_server_gets_every_email_once_and_nothing_is_given_up() -> None:
    """With the server back before the attempts run out, every email arrives exactly once."""
    world = eight_approvals_with_the_mail_server_down()
    world.clock.advance(timedelta(minutes=5))
    world.scheduler.dispatch()  # the second attempt of each, failing too
    world.mailer.fail_next = 0
    world.clock.advance(timedelta(minutes=5))  # past the second wait (2 to 4 minutes)

    reports = dispatch_rounds(world, 3)

    assert [DispatchReport(delivered=8), DispatchReport(), DispatchReport()] == reports
    assert 8 == len({message.message_id for message in world.mailer.sent}) == len(world.mailer.sent)


@given(
    item_id=st.text(min_size=1, max_size=20),
    attempts=st.integers(min_value=1, max_value=200),
    first=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(hours=1)),
    factor=st.integers(min_value=1, max_value=10),
    cap=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=2)),
    jitter=st.floats(min_value=0, max_value=0.99),
)
def test_item8_every_wait_lies_in_its_window(
    item_id: str, attempts: int, first: timedelta, factor: int, cap: timedelta, jitter: float
) -> None:
    """The wait after attempt n is the capped exponential ``first * factor**(n-1)``, less at most
    ``jitter`` of it, and the same every time it is asked for."""
    schedule = RetrySchedule(first=first, factor=factor, cap=cap, jitter=jitter)
    micro = timedelta(microseconds=1)
    base = min(cap // micro, first // micro * factor ** (attempts - 1)) * micro

    wait = schedule.wait(item_id, attempts)

    assert base * (1 - jitter) - micro <= wait <= base
    assert wait == schedule.wait(item_id, attempts)


# -- item 6: what the outbox keeps -----------------------------------------------------------------


def test_item6_a_delivered_email_keeps_only_what_the_audit_needs() -> None:
    """Once delivered, the stored email keeps its ids, kind and Message-ID, nothing else: no
    address, no subject, no text.

    Regression (issue 7, item 6): a delivered outbox row kept everything it sent, forever.
    """
    world = build()
    approved = world.scheduler.approve(
        SCHEDULER, world.scheduler.book(ClientActor(ALICE.id), "c1", SLOT).id
    )

    (item,) = world.store.outbox_items()

    (sent,) = world.mailer.sent
    assert isinstance(item.payload, EmailMessage)
    assert (sent.message_id, sent.kind, approved.id, "", "", "", "") == (
        item.payload.message_id,
        item.payload.kind,
        item.payload.appointment_id,
        item.payload.to,
        item.payload.subject,
        item.payload.text,
        item.payload.html,
    )
    assert NOW == item.delivered_at


def test_item6_a_delivered_chart_note_keeps_no_reason() -> None:
    """The chart gets the cancellation note whole; the outbox keeps it without its text, so the
    chart is the only place the client's reason is kept."""
    world = build()
    request = world.scheduler.book(ClientActor(ALICE.id), "c1", SLOT)
    world.scheduler.cancel(ClientActor(ALICE.id), request.id, "Chest pain since Tuesday")

    (item,) = world.store.outbox_items()

    (note,) = world.chart.notes
    assert "Chest pain since Tuesday" in note.text
    assert redacted(note) == item.payload
    assert "Chest pain" not in repr(world.store.outbox_items())


def given_up_email() -> World:
    """Alice's approval email, given up on after five sure failures."""
    world = build()
    world.mailer.fail_next = 5
    world.scheduler.approve(SCHEDULER, world.scheduler.book(ClientActor(ALICE.id), "c1", SLOT).id)
    world.clock.advance(BACKOFF)
    dispatch_rounds(world, 4)
    assert world.store.outbox_items()[0].failed
    return world


def test_item6_staff_purge_a_given_up_item() -> None:
    """Purging a given-up email drops its content, takes it off the failed list for good (no
    retry), and is audited with the item's id only."""
    world = given_up_email()
    (failed,) = world.scheduler.failed_deliveries(ADMIN)

    purged = world.scheduler.purge_failed_delivery(FRONT_DESK, failed.id)

    assert attrs.evolve(failed, payload=redacted(failed.payload), purged_at=world.clock.now()) == (
        purged
    )
    assert [purged] == world.store.outbox_items()
    assert [] == world.scheduler.failed_deliveries(ADMIN)
    with pytest.raises(NotFound):
        world.scheduler.retry_delivery(ADMIN, failed.id)
    entry = next(e for e in world.store.audit_entries() if e.action == "purge_delivery")
    assert ("staff:s-desk:front_desk", "ok", (("outbox_item", failed.id),)) == (
        entry.actor,
        entry.outcome,
        entry.changes,
    )
    verify_chain(world.store.audit_entries())


@pytest.mark.parametrize(
    "actor", [ClientActor(ALICE.id), ClinicianActor("c1"), SystemActor(), None], ids=repr
)
def test_item6_only_practice_staff_purge(actor: object) -> None:
    """Clients, clinicians and the system may not purge; the refusal is audited, nothing
    changes."""
    world = given_up_email()
    (failed,) = world.scheduler.failed_deliveries(ADMIN)
    appointments, outbox, audit = snapshot(world.store)

    with pytest.raises(PermissionDenied):
        world.scheduler.purge_failed_delivery(actor, failed.id)  # type: ignore[arg-type]

    after = snapshot(world.store)
    assert (appointments, outbox) == after[:2]
    assert [("refused", "PermissionDenied")] == [
        (e.outcome, e.error) for e in after[2][len(audit) :]
    ]


@pytest.mark.parametrize("which", ["missing", "waiting", "delivered", "purged"])
def test_item6_only_a_given_up_item_can_be_purged(which: str) -> None:
    """An id that is not a given-up, unpurged item is NotFound."""
    world = given_up_email()
    (failed,) = world.scheduler.failed_deliveries(ADMIN)
    world.scheduler.purge_failed_delivery(ADMIN, failed.id)
    world.mailer.fail_next = 0
    world.scheduler.approve(
        SCHEDULER, world.scheduler.book(ClientActor(ALICE.id), "c1", at(MONDAY, 14)).id
    )
    delivered = world.store.outbox_items()[-1]
    world.scheduler.auto_dispatch = False
    world.scheduler.approve(
        SCHEDULER, world.scheduler.book(ClientActor(ALICE.id), "c1", at(MONDAY, 15)).id
    )
    waiting = world.store.outbox_items()[-1]
    item_id = {
        "missing": "outbox-99",
        "waiting": waiting.id,
        "delivered": delivered.id,
        "purged": failed.id,
    }[which]

    with pytest.raises(NotFound):
        world.scheduler.purge_failed_delivery(ADMIN, item_id)


def test_item3_a_zone_without_a_key_is_refused() -> None:
    """A ``ZoneInfo`` read from a file has no IANA key; a clinician or client given one is refused
    instead of being stored with the zone "None"."""
    paris = importlib.resources.files("tzdata.zoneinfo").joinpath("Europe", "Paris")
    with paris.open("rb") as file:  # tzdata, a dependency: there on every machine
        keyless = ZoneInfo.from_file(file)

    with pytest.raises(UnknownTimeZone):
        Clinician(id="c9", zone=keyless)
    with pytest.raises(UnknownTimeZone):
        Client(id="k9", zone=keyless)
