"""What every *Available* slot satisfies, checked one rule at a time (SPEC §2).

Each test states one rule and checks the library's client view against it directly; the work
ranges and busy intervals come from the brute-force helpers in ``slot_reference.py``.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

from hypothesis import given
from slot_reference import Blockers, WorkRange, blockers, timeline, work_ranges

from selfsched import Slot, available_slots
from selfsched.strategies import SlotQuery, slot_queries


def _available(query: SlotQuery) -> list[Slot]:
    slots = available_slots(query.calendar, query.policy, **query.window())
    return [s for s in slots if s.available]


def _ranges(query: SlotQuery) -> dict[date, list[WorkRange]]:
    line = timeline(query.zone, query.first_day, query.last_day)
    return work_ranges(query.calendar, query.first_day, query.last_day, line)


def _blockers(query: SlotQuery) -> Blockers:
    return blockers(
        query.calendar,
        query.policy,
        last_day=query.last_day,
        now=query.now.astimezone(UTC),
        client_id=query.client_id,
        client_appointments=query.client_appointments,
        line=timeline(query.zone, query.first_day, query.last_day),
    )


@given(slot_queries())
def test_available_slots_start_on_the_grid(query: SlotQuery) -> None:
    """Every available slot starts at a whole grid minute of the clinician's wall clock."""
    grid = query.policy.grid_minutes
    starts = [s.start.astimezone(query.zone) for s in _available(query)]
    expected = [(0, 0, 0)] * len(starts)
    assert expected == [(t.minute % grid, t.second, t.microsecond) for t in starts]


@given(slot_queries())
def test_available_slots_lie_inside_one_work_range(query: SlotQuery) -> None:
    """Each available slot lies within one work range of its local date, start to end."""
    ranges = _ranges(query)
    inside = []
    for slot in _available(query):
        day = slot.start.astimezone(query.zone).date()
        fits = [r for r in ranges.get(day, ()) if r.first <= slot.start and slot.end <= r.last]
        inside.append(len(fits))
    assert [1] * len(inside) == inside


@given(slot_queries())
def test_available_slots_overlap_no_busy_interval(query: SlotQuery) -> None:
    """No available slot shares an instant with an event, a holding appointment, a buffer or
    the client's own open appointments; touching one edge to edge is fine (half-open)."""
    found = _blockers(query)
    clashes = [
        (slot.start, reason, (s, e))
        for slot in _available(query)
        for reason, intervals in found.busy.items()
        for s, e in intervals
        if s < slot.end and slot.start < e
    ]
    assert [] == clashes


@given(slot_queries())
def test_available_slots_respect_notice_and_horizon(query: SlotQuery) -> None:
    """Available slots start no sooner than ``now + min_notice`` and no later than the horizon."""
    now = query.now.astimezone(UTC)
    earliest = now + query.policy.min_notice
    horizon = query.policy.horizon
    starts = [s.start for s in _available(query)]
    assert [True] * len(starts) == [
        earliest <= t and (horizon is None or t <= now + horizon) for t in starts
    ]


@given(slot_queries())
def test_available_slots_respect_the_daily_maximum_and_the_client_cap(query: SlotQuery) -> None:
    """No slot is available on a full day, and none at all for a client at its cap."""
    found = _blockers(query)
    cap = query.policy.daily_max
    days = [s.start.astimezone(query.zone).date() for s in _available(query)]
    full = [cap is not None and found.per_day.get(d, 0) >= cap for d in days]
    assert [False] * len(days) == full
    if found.client_full:
        assert [] == days


@given(slot_queries())
def test_slots_last_the_service_length(query: SlotQuery) -> None:
    """Every slot, available or not, lasts the clinician's service length in elapsed time."""
    length = timedelta(minutes=query.calendar.clinician.service_minutes)
    slots = available_slots(query.calendar, query.policy, **query.window())
    assert [length] * len(slots) == [s.end - s.start for s in slots]
