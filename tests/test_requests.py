"""The request state machine: the transition table itself, and the pure transition functions."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from selfsched.errors import EmptyReason, InvalidInput, MissingDetails, TransitionNotAllowed
from selfsched.model import Appointment, AppointmentStatus, Origin, SchedulingMode
from selfsched.requests import (
    INITIAL,
    MAX_REASON_LENGTH,
    TERMINAL,
    TRANSITIONS,
    Action,
    apply,
    approve,
    cancel_by_client,
    clean_reason,
    is_late_cancellation,
    next_status,
)

S = AppointmentStatus
A = Action
START = datetime(2026, 4, 13, 14, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 6, 13, 0, tzinfo=UTC)


def appointment(
    status: AppointmentStatus = S.PENDING,
    *,
    origin: Origin = Origin.CLIENT,
    location: str | None = None,
    service_code: str | None = None,
    code_modifier: str | None = None,
) -> Appointment:
    """A request by Alice with Dr. Rivera on 13 April 2026, 14:00-14:50 UTC, version 1."""
    return Appointment(
        id="a-1",
        client_id="alice",
        clinician_id="c1",
        start=START,
        end=START + timedelta(minutes=50),
        status=status,
        location=location,
        service_code=service_code,
        code_modifier=code_modifier,
        origin=origin,
        created_at=NOW,
    )


# -- the table ------------------------------------------------------------------------------------


def test_table_is_exactly_the_specs_events() -> None:
    """The table holds SPEC §3's transitions and nothing else."""
    expected = {
        (None, A.BOOK): S.BOOKED,
        (None, A.REQUEST): S.PENDING,
        (None, A.STAFF_BOOK): S.BOOKED,
        (S.PENDING, A.APPROVE): S.BOOKED,
        (S.PENDING, A.REJECT): S.REJECTED,
        (S.BOOKED, A.REJECT): S.REJECTED,
        (S.PENDING, A.CANCEL_BY_CLIENT): S.MISSED,
        (S.BOOKED, A.CANCEL_BY_CLIENT): S.MISSED,
        (S.BOOKED, A.CANCEL_BY_PRACTICE): S.CANCELLED,
        (S.PENDING, A.EXPIRE): S.EXPIRED,
        (S.PENDING, A.EDIT): S.PENDING,
        (S.BOOKED, A.EDIT): S.BOOKED,
    }

    assert expected == dict(TRANSITIONS)


def test_one_initial_state_per_mode() -> None:
    """Each mode has exactly one starting status for a client's booking, reached by the client's
    own action: DISABLED none, INSTANT BOOKED (book), REQUIRES_APPROVAL PENDING (request)."""
    assert set(SchedulingMode) == set(INITIAL)
    assert None is INITIAL[SchedulingMode.DISABLED]
    assert S.BOOKED == INITIAL[SchedulingMode.INSTANT] == next_status(None, A.BOOK)
    assert S.PENDING == INITIAL[SchedulingMode.REQUIRES_APPROVAL] == next_status(None, A.REQUEST)


def test_only_creating_actions_start_from_nothing() -> None:
    """From "no appointment yet" only book, request and staff-book lead anywhere."""
    expected = {A.BOOK, A.REQUEST, A.STAFF_BOOK}

    assert expected == {action for (status, action) in TRANSITIONS if status is None}


def test_every_status_is_reachable_from_nothing() -> None:
    """A breadth-first walk of the table from "no appointment" visits every status."""
    seen: set[AppointmentStatus] = set()
    todo: deque[AppointmentStatus | None] = deque([None])
    while todo:
        here = todo.popleft()
        for (status, _action), target in TRANSITIONS.items():
            if status == here and target not in seen:
                seen.add(target)
                todo.append(target)

    assert set(AppointmentStatus) == seen


def test_terminal_states_are_final() -> None:
    """No transition leaves a terminal status."""
    assert set() == {key for key in TRANSITIONS if key[0] in TERMINAL}


def test_terminal_states_are_exactly_the_closed_ones() -> None:
    """Terminal means not open: every status but PENDING and BOOKED."""
    expected = {S.REJECTED, S.MISSED, S.CANCELLED, S.EXPIRED}

    assert expected == set(TERMINAL)
    assert expected == {s for s in AppointmentStatus if not s.is_open}


@pytest.mark.parametrize("status", [None, *AppointmentStatus])
@pytest.mark.parametrize("action", list(Action))
def test_nothing_else_is_possible(status: AppointmentStatus | None, action: Action) -> None:
    """Every pair outside the table raises TransitionNotAllowed; every pair inside succeeds."""
    if (status, action) in TRANSITIONS:
        assert TRANSITIONS[(status, action)] == next_status(status, action)
    else:
        with pytest.raises(TransitionNotAllowed) as caught:
            next_status(status, action)
        assert (status or "new", action) == (caught.value.status, caught.value.action)


def test_refusal_message_names_status_and_action() -> None:
    """The refusal tells the reader the action, the status, and to reload."""
    with pytest.raises(TransitionNotAllowed) as caught:
        next_status(S.MISSED, A.APPROVE)

    expected = (
        "Cannot approve an appointment that is missed. Reload the appointment and check its "
        "current status."
    )
    assert expected == str(caught.value)


def test_the_table_cannot_be_changed() -> None:
    """TRANSITIONS is a read-only mapping."""
    with pytest.raises(TypeError):
        TRANSITIONS[(S.MISSED, A.APPROVE)] = S.BOOKED  # type: ignore[index]


# -- apply ----------------------------------------------------------------------------------------


def test_apply_sets_status_and_bumps_version() -> None:
    """A transition returns a new value one version up with the table's status; the input is
    unchanged."""
    before = appointment(S.BOOKED)

    after = apply(before, A.CANCEL_BY_PRACTICE, at=NOW, by="clinician:c1")

    assert (S.CANCELLED, 2) == (after.status, after.version)
    assert (S.BOOKED, 1) == (before.status, before.version)


@pytest.mark.parametrize("action", [A.APPROVE, A.REJECT, A.EXPIRE])
def test_decisions_record_when_and_who(action: Action) -> None:
    """Approve, reject and expire record decided_at and decided_by."""
    after = apply(
        appointment(location="Room 1", service_code="90834"), action, at=NOW, by="staff:s1"
    )

    assert (NOW, "staff:s1") == (after.decided_at, after.decided_by)


@pytest.mark.parametrize("action", [A.EDIT, A.CANCEL_BY_CLIENT])
def test_other_actions_record_no_decision(action: Action) -> None:
    """Editing or cancelling is not a decision: decided_at and decided_by stay empty."""
    after = apply(appointment(), action, at=NOW, by="clinician:c1")

    assert (None, None) == (after.decided_at, after.decided_by)


def test_apply_sets_the_given_fields() -> None:
    """Field changes ride along with the transition."""
    after = apply(appointment(), A.EDIT, at=NOW, by="clinician:c1", location="Room 2")

    assert ("Room 2", S.PENDING, 2) == (after.location, after.status, after.version)


def test_self_booked_appointment_may_be_rejected() -> None:
    """A client's own INSTANT booking can be rejected by the practice."""
    assert S.REJECTED == apply(appointment(S.BOOKED), A.REJECT, at=NOW, by="c").status


def test_practice_booked_appointment_cannot_be_rejected() -> None:
    """An appointment the practice booked is not a request: rejecting it is refused (cancel it
    instead)."""
    with pytest.raises(TransitionNotAllowed):
        apply(appointment(S.BOOKED, origin=Origin.STAFF), A.REJECT, at=NOW, by="c")


def test_an_approved_request_cannot_be_rejected() -> None:
    """A request the practice approved is decided: rejecting it afterwards is refused (cancel it
    instead), so a second decision cannot silently overturn the first.

    Regression: an approved request (origin CLIENT) passed for "self-booked" and could be
    rejected, emailing "approved" and then "not approved".
    """
    approved = approve(appointment(location="Room 1", service_code="90834"), at=NOW, by="s1")

    with pytest.raises(TransitionNotAllowed) as caught:
        apply(approved, A.REJECT, at=NOW, by="s2")

    assert "booked (already approved)" == caught.value.status


# -- approve --------------------------------------------------------------------------------------


def test_approve_with_details_set_before() -> None:
    """Location and service code already on the request are enough; the modifier is optional."""
    after = approve(appointment(location="Room 1", service_code="90834"), at=NOW, by="c")

    assert (S.BOOKED, "Room 1", "90834", None) == (
        after.status,
        after.location,
        after.service_code,
        after.code_modifier,
    )


def test_approve_with_details_given_now() -> None:
    """Details given with the approval replace what was on the request, modifier included."""
    before = appointment(location="Room 1", service_code="90834", code_modifier="HJ")

    after = approve(
        before, at=NOW, by="c", location="Room 2", service_code="90837", code_modifier="95"
    )

    assert ("Room 2", "90837", "95") == (after.location, after.service_code, after.code_modifier)


def test_approve_keeps_modifier_when_none_is_given() -> None:
    """A modifier set before the approval survives an approval that names none."""
    before = appointment(location="Room 1", service_code="90834", code_modifier="HJ")

    assert "HJ" == approve(before, at=NOW, by="c").code_modifier


@pytest.mark.parametrize(
    ("location", "service_code", "missing"),
    [
        (None, None, "the location and the service code"),
        (None, "90834", "the location"),
        ("Room 1", None, "the service code"),
        ("   ", "90834", "the location"),
        ("Room 1", "", "the service code"),
    ],
)
def test_approve_needs_location_and_service_code(
    location: str | None, service_code: str | None, missing: str
) -> None:
    """Without a location or a service code (blank counts as none) the approval is refused,
    naming what is missing."""
    with pytest.raises(MissingDetails) as caught:
        approve(appointment(location=location, service_code=service_code), at=NOW, by="c")

    expected = f"Choose {missing} before approving this request (the code modifier is optional)."
    assert expected == str(caught.value)


def test_approve_of_a_booked_appointment_is_refused() -> None:
    """Only a PENDING request can be approved."""
    with pytest.raises(TransitionNotAllowed):
        approve(appointment(S.BOOKED, location="R", service_code="X"), at=NOW, by="c")


# -- cancellation ---------------------------------------------------------------------------------


def test_clean_reason_trims() -> None:
    """The reason is kept without surrounding white space."""
    assert "Feeling unwell" == clean_reason("  Feeling unwell\n")


@pytest.mark.parametrize("reason", ["", "   ", "\t\n ", None, 42])
def test_blank_or_missing_reason_is_refused(reason: object) -> None:
    """A reason that is blank after trimming (or not text at all) is EmptyReason, a ValueError."""
    with pytest.raises(EmptyReason) as caught:
        clean_reason(reason)

    assert isinstance(caught.value, InvalidInput)
    assert isinstance(caught.value, ValueError)


def test_longest_reason_is_accepted() -> None:
    """A reason of exactly MAX_REASON_LENGTH characters (after trimming) is fine."""
    text = "x" * MAX_REASON_LENGTH

    assert text == clean_reason(f"  {text}  ")


def test_too_long_reason_is_refused() -> None:
    """One character more than MAX_REASON_LENGTH is refused with a message saying so."""
    with pytest.raises(EmptyReason) as caught:
        clean_reason("x" * (MAX_REASON_LENGTH + 1))

    expected = (
        f"The cancellation reason is {MAX_REASON_LENGTH + 1} characters long; please shorten "
        f"it to at most {MAX_REASON_LENGTH}."
    )
    assert expected == str(caught.value)


@pytest.mark.parametrize(
    ("before_start", "late"),
    [
        (timedelta(hours=24), False),
        (timedelta(hours=24, seconds=1), False),
        (timedelta(hours=24) - timedelta(microseconds=1), True),
        (timedelta(hours=23), True),
        (timedelta(seconds=1), True),
    ],
)
def test_late_cancellation_boundary(before_start: timedelta, late: bool) -> None:
    """Late means strictly less than the window before the start: exactly 24 h ahead is on
    time."""
    assert late == is_late_cancellation(appointment(), START - before_start, timedelta(hours=24))


def test_zero_window_never_flags_late() -> None:
    """A practice without a late-cancellation window never flags a cancellation late."""
    assert False is is_late_cancellation(appointment(), START - timedelta(minutes=1), timedelta(0))


@pytest.mark.parametrize("status", [S.PENDING, S.BOOKED])
def test_cancel_by_client_marks_missed(status: AppointmentStatus) -> None:
    """A future PENDING or BOOKED appointment cancelled by the client becomes MISSED, with the
    time of cancellation and the late flag."""
    at = START - timedelta(hours=2)

    after = cancel_by_client(
        appointment(status), at=at, by="client:alice", late_window=timedelta(hours=24)
    )

    assert (S.MISSED, at, True, 2) == (
        after.status,
        after.cancelled_at,
        after.late_cancellation,
        after.version,
    )


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(minutes=10)])
def test_cancel_at_or_after_start_is_refused(offset: timedelta) -> None:
    """An appointment that has started (start is inclusive) can no longer be cancelled by the
    client."""
    with pytest.raises(TransitionNotAllowed):
        cancel_by_client(
            appointment(S.BOOKED), at=START + offset, by="client:alice", late_window=timedelta(0)
        )


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_cancel_of_a_closed_appointment_is_refused(status: AppointmentStatus) -> None:
    """A rejected, missed, cancelled or expired appointment cannot be cancelled again."""
    with pytest.raises(TransitionNotAllowed):
        cancel_by_client(appointment(status), at=NOW, by="client:alice", late_window=timedelta(0))
