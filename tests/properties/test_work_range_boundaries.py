"""Work ranges whose start or end falls in a gap or a fold, in the zones where that is hardest.

The rule under test (docs/timezones.md, "Work-range boundaries in gaps and folds"): a work range
of a local date is the interval of instants ``[first, last)`` that its wall-time boundaries give
(``_time.wall_bound``; a ``24:00`` end is the next date's first instant), and a slot start is an
instant of that date whose wall time is on the grid and whose slot of elapsed length fits inside
such an interval: offered once, even where two ranges share instants on a fall-back night.

Transitions are real ones, found by scanning each zone's offsets
(:func:`selfsched.strategies.find_transitions`), and range boundaries are drawn on the quarter
hour within 90 minutes of the wall times the clock shows just before and just after the change,
so that they land before, inside and after every gap and fold (a quarter of them inside).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from slot_reference import reference_explain

from selfsched import (
    ApprovalPolicy,
    Clinician,
    ClinicianCalendar,
    WorkHours,
    _time,
    available_slots,
    explain,
)
from selfsched.strategies import find_transitions

HARD_ZONES = (
    "America/New_York",  # one-hour gaps and folds at 02:00
    "Europe/London",  # at 01:00 UTC
    "Australia/Lord_Howe",  # a 30-minute shift: the fold returns to 01:30, not to a full hour
    "America/St_Johns",  # until 2010 fell back at 00:01 to 23:01 of the day before
    "Pacific/Apia",  # skipped the whole of 2011-12-30
    "Pacific/Kiritimati",  # skipped the whole of 1994-12-31
    "Antarctica/Casey",  # three-hour shifts, some of them back across midnight
    "Antarctica/Troll",  # two-hour shifts
)
FIRST_YEAR = 1990
"""Early enough for Kiritimati's skipped day (offsets are whole minutes in every zone above)."""
LAST_YEAR = 2040
QUARTER = 15
NEAR = 6
"""How many quarter hours either side of a transition's wall times a boundary is drawn."""
SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class BoundaryCase:
    """A clinician's work ranges near one transition, and the window of dates asked about."""

    calendar: ClinicianCalendar
    policy: ApprovalPolicy
    first_day: date
    last_day: date

    @property
    def zone(self) -> ZoneInfo:
        """The clinician's zone."""
        return ZoneInfo(self.calendar.clinician.zone)

    @property
    def now(self) -> datetime:
        """Long before the window, so that no time rule blocks a slot."""
        return datetime(self.first_day.year - 1, 1, 1, tzinfo=UTC)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute_of(wall: datetime, day: date) -> int:
    """*wall*'s quarter hour (rounded down) in minutes after *day*'s midnight, within the day."""
    minutes = (wall - datetime.combine(day, time())) // timedelta(minutes=1)
    return min(max(0, minutes // QUARTER * QUARTER), 24 * 60)


@st.composite
def boundary_cases(draw: st.DrawFn) -> BoundaryCase:
    """Up to three ranges (touching or apart) on a date with a real transition, boundaries
    drawn at and around the wall times where the clock jumps."""
    zone = draw(st.sampled_from(HARD_ZONES))
    z = ZoneInfo(zone)
    t = draw(st.sampled_from(find_transitions(zone, FIRST_YEAR, LAST_YEAR)))
    before = (t - SECOND).astimezone(z).replace(tzinfo=None)  # the last wall time before
    after = t.astimezone(z).replace(tzinfo=None)  # the first wall time after
    # The dates either side of the change, and any it skipped whole (Apia, Kiritimati).
    first, last = sorted((before.date(), after.date()))
    day = first + timedelta(days=draw(st.integers(0, (last - first).days)))
    anchors = sorted({_minute_of(before + SECOND, day), _minute_of(after, day)})
    near = st.builds(
        lambda anchor, k: min(max(0, anchor + k * QUARTER), 24 * 60),
        st.sampled_from(anchors),
        st.integers(-NEAR, NEAR),
    )
    inside = st.integers(anchors[0] // QUARTER, anchors[-1] // QUARTER).map(lambda q: q * QUARTER)
    anywhere = st.integers(0, 24 * 60 // QUARTER).map(lambda q: q * QUARTER)
    points = sorted(
        draw(st.lists(st.one_of(inside, near, near, anywhere), min_size=2, max_size=4, unique=True))
    )
    pairs = list(itertools.pairwise(points))
    # Mostly kept, so that touching ranges (which share instants in a fold) are common.
    kept = [pair for pair in pairs if draw(st.integers(0, 3))] or pairs[:1]
    ranges = [f"{_clock(lo)}-{_clock(hi)}" for lo, hi in kept]
    every_day = draw(st.booleans())  # then the neighbouring dates' ranges meet this one's
    hours = WorkHours([ranges] * 7) if every_day else WorkHours({day.weekday(): ranges})
    clinician = Clinician(
        id="clinician-1",
        zone=zone,
        work_hours=hours,
        service_minutes=draw(st.sampled_from((15, 30, 45, 50, 60, 90))),
    )
    policy = ApprovalPolicy(
        grid_minutes=draw(st.sampled_from((15, 30, 60))),
        min_notice=timedelta(minutes=1),
        horizon=timedelta(days=4000),
    )
    first_day = day - timedelta(days=draw(st.integers(0, 1)))
    last_day = day + timedelta(days=draw(st.integers(0, 1)))
    return BoundaryCase(ClinicianCalendar(clinician=clinician), policy, first_day, last_day)


@given(boundary_cases())
def test_ranges_ending_in_gaps_and_folds_match_reference(case: BoundaryCase) -> None:
    """The staff view equals the brute-force reference, slot by slot and reason by reason."""
    first_day, last_day, now = case.first_day, case.last_day, case.now
    expected = [
        (s.start, s.end, s.reasons)
        for s in reference_explain(
            case.calendar, case.policy, first_day=first_day, last_day=last_day, now=now
        )
    ]
    actual = [
        (s.start, s.end, s.reasons)
        for s in explain(
            case.calendar, case.policy, first_day=first_day, last_day=last_day, now=now
        )
    ]
    assert expected == actual


class RangeSpan(NamedTuple):
    """A work range of one date as instants (POSIX seconds): ``[first, last)``."""

    first: int
    last: int


def _range_spans(case: BoundaryCase, day: date) -> list[RangeSpan]:
    """The instant interval of each of *day*'s work ranges, by the rule."""
    z = case.zone
    midnight = datetime.combine(day, time())
    spans = []
    for r in case.calendar.clinician.work_hours.ranges(day.weekday()):
        first = _time.wall_bound(midnight + timedelta(minutes=r.start_minute), z, end=False)
        if r.end_minute == 24 * 60:
            last = _time.start_of_day(day + timedelta(days=1), z)
        else:
            last = _time.wall_bound(midnight + timedelta(minutes=r.end_minute), z, end=True)
        spans.append(RangeSpan(first, last))
    return spans


def _starts_by_the_rule(case: BoundaryCase) -> list[int]:
    """Every instant the rule offers, found by walking each range's interval minute by minute:
    on the window's date whose range it is, on the grid by its wall time, its slot inside."""
    z = case.zone
    grid = case.policy.grid_minutes
    length = case.calendar.clinician.service_minutes * 60
    found: set[int] = set()
    day = case.first_day
    while day <= case.last_day:
        for first, last in _range_spans(case, day):
            for start in range(first, last - length + 1, 60):
                wall = _time.local_wall(start, z)
                if wall.date() == day and wall.second == 0 and wall.minute % grid == 0:
                    found.add(start)
        day += timedelta(days=1)
    return sorted(found)


@given(boundary_cases())
def test_ranges_ending_in_gaps_and_folds_offer_exactly_what_the_rule_allows(
    case: BoundaryCase,
) -> None:
    """Every offered start is on the grid of its date, with its whole slot inside one of that
    date's range intervals; every such instant is offered, and only once (equal lists, the
    offered one in time order with nothing repeated)."""
    slots = available_slots(
        case.calendar,
        case.policy,
        first_day=case.first_day,
        last_day=case.last_day,
        now=case.now,
    )
    length = timedelta(minutes=case.calendar.clinician.service_minutes)
    expected = (_starts_by_the_rule(case), [length] * len(slots))
    actual = ([_time.ts(s.start) for s in slots], [s.end - s.start for s in slots])
    assert expected == actual
