"""Slots on the days clocks change, in zones chosen for awkward transitions.

Dates are real transitions found by scanning each zone's UTC offset
(:func:`selfsched.strategies.find_transitions`), not a hard-coded list; grids are 15, 30 and 60
minutes and services 15-90 minutes, as the policy and clinician strategies draw them.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import attrs
from hypothesis import given
from hypothesis import strategies as st
from slot_reference import reference_explain

from selfsched import Slot, WorkHours, available_slots, explain
from selfsched.strategies import (
    ZONES,
    SlotQuery,
    find_transitions,
    local_dates,
    slot_queries,
    zones,
)


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
