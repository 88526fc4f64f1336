"""``first_available`` (chunked, branch and bound) against the plain client view it shortcuts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given
from hypothesis import strategies as st

from selfsched import (
    ApprovalPolicy,
    Clinician,
    ClinicianCalendar,
    Slot,
    available_slots,
    first_available,
)
from selfsched.slots import NO_HORIZON_SEARCH
from selfsched.strategies import CLIENT_IDS, CLINICIAN_ID, clinician_calendars, local_dates, zones


@attrs.frozen
class Question:
    """Several clinicians' calendars, one policy, a moment and maybe a client."""

    calendars: tuple[ClinicianCalendar, ...]
    policy: ApprovalPolicy
    now: datetime
    client_id: str | None


def _renamed(calendar: ClinicianCalendar, clinician_id: str) -> ClinicianCalendar:
    appointments = [
        attrs.evolve(a, clinician_id=clinician_id) if a.clinician_id == CLINICIAN_ID else a
        for a in calendar.appointments
    ]
    return attrs.evolve(
        calendar,
        clinician=attrs.evolve(calendar.clinician, id=clinician_id),
        appointments=appointments,
    )


@st.composite
def questions(draw: st.DrawFn) -> Question:
    """1-3 clinicians (each in its own zone) busy around one date; ``now`` shortly before."""
    zone = draw(zones())
    around = draw(local_dates(zone))
    calendars = tuple(
        _renamed(draw(clinician_calendars(around=around)), f"clinician-{i}")
        for i in range(draw(st.integers(1, 3)))
    )
    notice = draw(st.sampled_from((1, 60, 24 * 60, 0))) * timedelta(minutes=1)
    days = draw(st.sampled_from((1, 3, 14, 60, None)))
    horizon = None if days is None else notice + days * timedelta(days=1)
    policy = ApprovalPolicy(
        grid_minutes=draw(st.sampled_from((30, 60, 15))),
        min_notice=notice,
        horizon=horizon,
        buffer_after=draw(st.sampled_from((0, 10))) * timedelta(minutes=1),
        daily_max=draw(st.sampled_from((None, 1, 2))),
    )
    start = datetime.combine(around, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    offset = draw(st.integers(-2 * 24 * 60, 24 * 60)) * timedelta(minutes=1)
    now = start - notice + offset + draw(st.integers(0, 999_999)) * timedelta(microseconds=1)
    return Question(calendars, policy, now, draw(st.sampled_from((None, *CLIENT_IDS))))


def _first_by_hand(question: Question) -> tuple[Clinician, Slot] | None:
    """Each clinician's first available slot over the dates from notice to horizon; earliest
    wins, ties to the clinician given first."""
    best: tuple[Clinician, Slot] | None = None
    policy = question.policy
    for calendar in question.calendars:
        z = calendar.clinician.tz
        slots = available_slots(
            calendar,
            policy,
            first_day=(question.now + policy.min_notice).astimezone(z).date(),
            last_day=(question.now + (policy.horizon or NO_HORIZON_SEARCH)).astimezone(z).date(),
            now=question.now,
            client_id=question.client_id,
        )
        found = next((s for s in slots if s.available), None)
        if found is not None and (best is None or found.start < best[1].start):
            best = (calendar.clinician, found)
    return best


@given(questions())
def test_first_available_is_the_earliest_available_slot(question: Question) -> None:
    """``first_available`` gives the earliest slot any clinician's client view offers."""
    expected = _first_by_hand(question)
    actual = first_available(
        question.calendars, question.policy, now=question.now, client_id=question.client_id
    )
    assert expected == actual
