"""Slots on the days clocks change, in zones chosen for awkward transitions.

Dates are real transitions found by scanning each zone's UTC offset
(:func:`selfsched.strategies.find_transitions`), not a hard-coded list; grids are 15, 30 and 60
minutes and services 15-90 minutes, as the policy and clinician strategies draw them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given
from hypothesis import strategies as st
from slot_reference import reference_explain

from selfsched import (
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    Reason,
    Slot,
    WorkHours,
    available_slots,
    explain,
)
from selfsched.strategies import (
    ZONES,
    SlotQuery,
    find_transitions,
    local_dates,
    slot_queries,
    zones,
)

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


def _transitions() -> list[tuple[str, datetime]]:
    """Every transition of every zone the strategies draw, 2000-2040, found by scanning."""
    return [(zone, t) for zone in ZONES for t in find_transitions(zone)]


def _goes_back_across_midnight(zone: str, t: datetime) -> bool:
    z = ZoneInfo(zone)
    return (t - SECOND).astimezone(z).date() > t.astimezone(z).date()


TRANSITIONS = _transitions()
ACROSS_MIDNIGHT = [(zone, t) for zone, t in TRANSITIONS if _goes_back_across_midnight(zone, t)]
"""Fall-backs that show the previous date's late hour again after midnight (St. John's)."""


@st.composite
def transition_queries(draw: st.DrawFn) -> SlotQuery:
    """Questions about the local dates around a real transition, with work hours every day.

    Zones without transitions (UTC, Asia/Kolkata, Asia/Kathmandu) get an ordinary date.
    """
    zone = draw(st.sampled_from(ZONES))
    found = find_transitions(zone)
    if found:
        instant = draw(st.sampled_from(found))
        day = instant.astimezone(ZoneInfo(zone)).date() + timedelta(days=draw(st.integers(-1, 0)))
    else:
        day = draw(local_dates(zone))
    query = draw(slot_queries(zone, around=day, max_days=2))
    clinician = query.calendar.clinician
    every_day = WorkHours([clinician.work_hours.ranges(0)] * 7)
    calendar = attrs.evolve(query.calendar, clinician=attrs.evolve(clinician, work_hours=every_day))
    return attrs.evolve(query, calendar=calendar)


@given(transition_queries())
def test_transition_days_match_reference(query: SlotQuery) -> None:
    """On transition days the staff view equals the reference, slot by slot, reason by reason."""
    expected = [
        (s.start, s.end, s.reasons)
        for s in reference_explain(
            query.calendar,
            query.policy,
            first_day=query.first_day,
            last_day=query.last_day,
            now=query.now,
            client_id=query.client_id,
            client_appointments=query.client_appointments,
        )
    ]
    actual = [
        (s.start, s.end, s.reasons) for s in explain(query.calendar, query.policy, **query.window())
    ]
    assert expected == actual


@given(transition_queries())
def test_no_slot_starts_at_a_nonexistent_wall_time(query: SlotQuery) -> None:
    """Every slot start shows an existing wall time on the grid, with the fold it really has."""
    z = query.zone
    grid = query.policy.grid_minutes
    for slot in available_slots(query.calendar, query.policy, **query.window()):
        local = slot.start.astimezone(z)
        wall = local.replace(tzinfo=None)
        placed = wall.replace(tzinfo=z, fold=local.fold).astimezone(UTC)
        assert (slot.start, 0, 0, 0) == (
            placed,
            local.minute % grid,
            local.second,
            local.microsecond,
        )


@st.composite
def any_zone_queries(draw: st.DrawFn) -> tuple[SlotQuery, str]:
    """A question in any zone the system knows, and a client zone to view the answer in."""
    zone = draw(zones(all_zones=True))
    query = draw(slot_queries(zone, max_days=2))
    return query, draw(zones(all_zones=True))


@given(any_zone_queries())
def test_every_slot_round_trips_utc_local_utc(pair: tuple[SlotQuery, str]) -> None:
    """UTC -> clinician's wall clock -> UTC, and via the client's zone, gives the same instants."""
    query, client_zone = pair
    slots = available_slots(query.calendar, query.policy, **query.window())
    expected = [(s.start, s.end) for s in slots]
    via_clinician = [s.in_zone(query.zone) for s in slots]
    via_client = [s.in_zone(client_zone) for s in slots]
    for shown in (via_clinician, via_client):
        assert expected == [(s.start.astimezone(UTC), s.end.astimezone(UTC)) for s in shown]
    assert [str(query.zone)] * len(slots) == [str(s.start.tzinfo) for s in via_clinician]


@given(transition_queries())
def test_slots_last_the_service_length_in_elapsed_time(query: SlotQuery) -> None:
    """Across a transition a slot still lasts the service's minutes of real time."""
    length = timedelta(minutes=query.calendar.clinician.service_minutes)
    slots = available_slots(query.calendar, query.policy, **query.window())
    assert [length] * len(slots) == [s.end - s.start for s in slots]


def _local_days(slots: tuple[Slot, ...], z: ZoneInfo) -> list[date]:
    return [s.start.astimezone(z).date() for s in slots]


@given(transition_queries())
def test_slots_are_in_time_order_and_in_the_window(query: SlotQuery) -> None:
    """Slots come in strictly increasing time order, each on a local date of the window."""
    slots = available_slots(query.calendar, query.policy, **query.window())
    starts = [s.start for s in slots]
    assert sorted(set(starts)) == starts
    days = _local_days(slots, query.zone)
    assert [True] * len(days) == [query.first_day <= d <= query.last_day for d in days]


StaffRow = tuple[datetime, datetime, frozenset[Reason]]


def _reference_staff_view(
    calendar: ClinicianCalendar, policy: ApprovalPolicy, first_day: date, last_day: date
) -> tuple[list[StaffRow], list[StaffRow]]:
    """The reference's and the library's staff views of a window, with ``now`` long before."""
    now = datetime(first_day.year - 1, 1, 1, tzinfo=UTC)
    expected = [
        (s.start, s.end, s.reasons)
        for s in reference_explain(
            calendar, policy, first_day=first_day, last_day=last_day, now=now
        )
    ]
    actual = [
        (s.start, s.end, s.reasons)
        for s in explain(calendar, policy, first_day=first_day, last_day=last_day, now=now)
    ]
    return expected, actual


_LONG_AHEAD = ApprovalPolicy(min_notice=timedelta(minutes=1), horizon=timedelta(days=4000))


@given(
    st.sampled_from(ACROSS_MIDNIGHT),
    st.sampled_from((15, 30, 60)),
    st.sampled_from((15, 30, 45, 90)),
    st.integers(20 * 4, 24 * 4 - 1),
    st.integers(1, 16),
    st.integers(0, 8),
)
def test_late_hours_repeated_after_midnight_match_reference(
    transition: tuple[str, datetime],
    grid: int,
    minutes: int,
    start: int,
    length: int,
    next_day: int,
) -> None:
    """An evening range on a date whose late hour repeats after midnight: as the reference."""
    zone, t = transition
    evening = (t - SECOND).astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
    end = min(start + length, 24 * 4)
    ranges = [f"{start // 4:02d}:{start % 4 * 15:02d}-{end // 4:02d}:{end % 4 * 15:02d}"]
    morning = [f"00:00-{next_day // 4:02d}:{next_day % 4 * 15:02d}"] if next_day else []
    days = {evening.weekday(): ranges, (evening.weekday() + 1) % 7: morning}
    clinician = Clinician(
        id="clinician-1", zone=zone, work_hours=WorkHours(days), service_minutes=minutes
    )
    policy = attrs.evolve(_LONG_AHEAD, grid_minutes=grid)
    calendar = ClinicianCalendar(clinician=clinician)
    expected, actual = _reference_staff_view(calendar, policy, evening, evening + timedelta(days=1))
    assert expected == actual


@st.composite
def events_at_transitions(draw: st.DrawFn) -> tuple[ClinicianCalendar, ApprovalPolicy, date]:
    """An event (one-off or a series starting there) at a wall time next to a real transition.

    The wall time is drawn within an hour either side of the wall time the clock shows right
    after the change, with either ``fold``: so inside gaps and folds, as both instants of a
    repeated time, and just outside them.
    """
    zone, t = draw(st.sampled_from(TRANSITIONS))
    z = ZoneInfo(zone)
    shown = t.astimezone(z).replace(tzinfo=None)
    wall = shown.replace(minute=shown.minute // 15 * 15) + draw(st.integers(-4, 4)) * 15 * MINUTE
    start = wall.replace(tzinfo=z, fold=draw(st.sampled_from((0, 1)))).astimezone(UTC)
    end = start + draw(st.sampled_from((15, 30, 50, 60, 120))) * MINUTE
    if draw(st.booleans()):
        rule = draw(st.sampled_from(("FREQ=DAILY", "FREQ=DAILY;COUNT=1", "FREQ=WEEKLY")))
        event = CalendarEvent.recurring(rule, start=start, end=end)
    else:
        event = CalendarEvent.one_off(start, end)
    clinician = Clinician(
        id="clinician-1",
        zone=zone,
        work_hours=WorkHours([["00:00-24:00"]] * 7),
        service_minutes=draw(st.sampled_from((15, 30, 50, 90))),
    )
    policy = attrs.evolve(_LONG_AHEAD, grid_minutes=draw(st.sampled_from((15, 30, 60))))
    return ClinicianCalendar(clinician=clinician, events=[event]), policy, wall.date()


@given(events_at_transitions())
def test_events_at_transition_wall_times_match_reference(
    case: tuple[ClinicianCalendar, ApprovalPolicy, date],
) -> None:
    """Events in and next to gaps and folds block exactly the slots the reference says."""
    calendar, policy, day = case
    expected, actual = _reference_staff_view(calendar, policy, day, day)
    assert expected == actual
