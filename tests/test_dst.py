"""Example-based DST cases: skipped wall times are not offered, repeated ones are offered twice.

All dates are in 2025 (already in the past, so the tz database will not change under them).
Transitions used, from the published rules (offsets in brackets):

- America/New_York: 9 Mar 02:00 EST [-5] -> 03:00 EDT [-4] at 07:00 UTC;
  2 Nov 02:00 EDT -> 01:00 EST at 06:00 UTC.
- Europe/London: 30 Mar 01:00 GMT [0] -> 02:00 BST [+1] at 01:00 UTC;
  26 Oct 02:00 BST -> 01:00 GMT at 01:00 UTC.
- Australia/Lord_Howe (a 30-minute shift): 6 Apr 02:00 [+11] -> 01:30 [+10:30] at 15:00 UTC on
  5 Apr; 5 Oct 02:00 [+10:30] -> 02:30 [+11] at 15:30 UTC on 4 Oct.
- America/Santiago (at midnight): 5 Apr 24:00 [-3] -> 23:00 [-4] at 03:00 UTC on 6 Apr;
  7 Sep 00:00 [-4] -> 01:00 [-3] at 04:00 UTC.
- America/Havana (at midnight): 9 Mar 00:00 CST [-5] -> 01:00 CDT [-4] at 05:00 UTC;
  2 Nov 01:00 CDT -> 00:00 CST at 05:00 UTC.
- Asia/Kolkata: +05:30 all year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from selfsched import (
    Appointment,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    Reason,
    Slot,
    Weekday,
    WorkHours,
    available_slots,
    check_slot,
    explain,
)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in 2025, written in UTC."""
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


def calendar(
    zone: str,
    hours: Mapping[Weekday, list[str]],
    *,
    minutes: int,
    events: Iterable[CalendarEvent] = (),
    appointments: Iterable[Appointment] = (),
) -> ClinicianCalendar:
    """A calendar for a clinician in *zone* working *hours*."""
    clinician = Clinician(
        id="dr-a", zone=zone, work_hours=WorkHours(hours), service_minutes=minutes
    )
    return ClinicianCalendar(clinician=clinician, events=events, appointments=appointments)


def slots(
    cal: ClinicianCalendar, grid: int, first_day: date, last_day: date | None = None
) -> tuple[Slot, ...]:
    """The client view, with ``now`` a week before the window so time rules stay out of it."""
    now = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC) - timedelta(days=7)
    return available_slots(
        cal,
        ApprovalPolicy(grid_minutes=grid),
        first_day=first_day,
        last_day=last_day or first_day,
        now=now,
    )


def starts(found: Iterable[Slot]) -> list[datetime]:
    """The start instants of slots."""
    return [s.start for s in found]


def walls(found: Iterable[Slot], zone: str) -> list[tuple[int, int, int]]:
    """(hour, minute, fold) of each slot start on the clinician's wall clock."""
    z = ZoneInfo(zone)
    return [(w.hour, w.minute, w.fold) for w in (s.start.astimezone(z) for s in found)]


SUNDAY = Weekday.SUNDAY
SATURDAY = Weekday.SATURDAY
MONDAY = Weekday.MONDAY


# -- America/New_York -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sunday", "expected"),
    [
        (date(2025, 3, 2), [utc(3, 2, 7), utc(3, 2, 7, 30)]),
        (date(2025, 3, 9), []),
    ],
    ids=["ordinary-sunday", "spring-forward"],
)
def test_new_york_range_inside_the_gap_offers_nothing(
    sunday: date, expected: list[datetime]
) -> None:
    """A 02:00-03:00 range offers 02:00 and 02:30 on an ordinary Sunday, and nothing on
    9 March, when 02:00-02:59 does not exist."""
    cal = calendar("America/New_York", {SUNDAY: ["02:00-03:00"]}, minutes=30)

    assert expected == starts(slots(cal, 30, sunday))


def test_new_york_range_spanning_the_gap_skips_02xx() -> None:
    """01:00-04:00 on 9 March offers 01:00, 01:30, 03:00 and 03:30; no 02:xx start."""
    cal = calendar("America/New_York", {SUNDAY: ["01:00-04:00"]}, minutes=30)
    expected = (
        [utc(3, 9, 6), utc(3, 9, 6, 30), utc(3, 9, 7), utc(3, 9, 7, 30)],
        [(1, 0, 0), (1, 30, 0), (3, 0, 0), (3, 30, 0)],
    )

    found = slots(cal, 30, date(2025, 3, 9))

    assert expected == (starts(found), walls(found, "America/New_York"))


def test_fifty_minute_slot_across_the_gap_lasts_fifty_minutes() -> None:
    """The 01:30 EST slot of 50 minutes ends at 03:20 EDT: 50 elapsed minutes, not 110.

    03:30 would end at 04:20, past the range's end at 04:00, so it is not offered.
    """
    cal = calendar("America/New_York", {SUNDAY: ["01:00-04:00"]}, minutes=50)
    fifty = timedelta(minutes=50)
    expected = (
        [
            Slot(utc(3, 9, 6), utc(3, 9, 6, 50), True),
            Slot(utc(3, 9, 6, 30), utc(3, 9, 7, 20), True),
            Slot(utc(3, 9, 7), utc(3, 9, 7, 50), True),
        ],
        [fifty, fifty, fifty],
        (3, 20),
    )

    found = slots(cal, 30, date(2025, 3, 9))
    end = found[1].in_zone("America/New_York").end

    assert expected == (list(found), [s.end - s.start for s in found], (end.hour, end.minute))


def test_new_york_fall_back_offers_repeated_times_twice_in_order() -> None:
    """00:00-03:00 on 2 November: 01:00 and 01:30 are offered at both instants, in time order."""
    cal = calendar("America/New_York", {SUNDAY: ["00:00-03:00"]}, minutes=30)
    expected = (
        [utc(11, 2, 4) + timedelta(minutes=30 * i) for i in range(8)],
        [
            (0, 0, 0),
            (0, 30, 0),
            (1, 0, 0),
            (1, 30, 0),
            (1, 0, 1),
            (1, 30, 1),
            (2, 0, 0),
            (2, 30, 0),
        ],
    )

    found = slots(cal, 30, date(2025, 11, 2))

    assert expected == (starts(found), walls(found, "America/New_York"))


def test_new_york_fall_back_each_repeated_instant_is_its_own_slot() -> None:
    """A booking at 01:00 EDT takes that instant only; 01:00 EST stays bookable."""
    booked = Appointment(
        id="a1",
        client_id="c1",
        clinician_id="dr-a",
        start=utc(11, 2, 5),
        end=utc(11, 2, 5, 30),
        status="booked",
    )
    cal = calendar("America/New_York", {SUNDAY: ["00:00-03:00"]}, minutes=30, appointments=[booked])
    policy = ApprovalPolicy(grid_minutes=30)
    now = utc(10, 26, 0)
    expected: tuple[frozenset[Reason], frozenset[Reason]] = (
        frozenset({Reason.BOOKED}),
        frozenset(),
    )

    first = check_slot(cal, policy, utc(11, 2, 5), now=now)
    second = check_slot(cal, policy, utc(11, 2, 6), now=now)

    assert expected == (first.reasons, second.reasons)


# Work ranges that end or start inside the repeated hour (issue 7, item 10). The issue names the
# 2026 fall-back night (1 November); 2 November 2025 is the same night a year earlier, in the past.


def test_item10_range_ending_in_a_fold_offers_the_0130_edt_slot() -> None:
    """00:00-01:30 on the fall-back night is [04:00Z, 06:30Z): 01:30 EDT (05:30Z-06:00Z) fits
    and is offered, as is 01:00 EST (06:00Z-06:30Z); 01:30 EST would end past 06:30Z."""
    cal = calendar("America/New_York", {SUNDAY: ["00:00-01:30"]}, minutes=30)
    expected = (
        [utc(11, 2, 4), utc(11, 2, 4, 30), utc(11, 2, 5), utc(11, 2, 5, 30), utc(11, 2, 6)],
        [(0, 0, 0), (0, 30, 0), (1, 0, 0), (1, 30, 0), (1, 0, 1)],
    )

    found = slots(cal, 30, date(2025, 11, 2))

    assert expected == (starts(found), walls(found, "America/New_York"))


def test_item10_fifty_minute_slots_in_a_range_ending_in_a_fold() -> None:
    """The same range with 50-minute sessions: 01:30 EDT runs to 01:20 EST (06:20Z), inside
    [04:00Z, 06:30Z), and is offered like 01:00 EDT, whose slot crosses the same half hour."""
    cal = calendar("America/New_York", {SUNDAY: ["00:00-01:30"]}, minutes=50)
    expected = [utc(11, 2, 4), utc(11, 2, 4, 30), utc(11, 2, 5), utc(11, 2, 5, 30)]

    assert expected == starts(slots(cal, 30, date(2025, 11, 2)))


def test_item10_range_starting_in_a_fold_offers_0100_est() -> None:
    """01:30-03:00 on the fall-back night is [05:30Z, 08:00Z): 01:00 EST (06:00Z) lies inside
    it and is offered, although its wall time is before the range's start."""
    cal = calendar("America/New_York", {SUNDAY: ["01:30-03:00"]}, minutes=30)
    expected = (
        [utc(11, 2, 5, 30), utc(11, 2, 6), utc(11, 2, 6, 30), utc(11, 2, 7), utc(11, 2, 7, 30)],
        [(1, 30, 0), (1, 0, 1), (1, 30, 1), (2, 0, 0), (2, 30, 0)],
    )

    found = slots(cal, 30, date(2025, 11, 2))

    assert expected == (starts(found), walls(found, "America/New_York"))


def test_item10_touching_ranges_in_a_fold_offer_each_start_once() -> None:
    """00:00-01:30 and 01:30-03:00 share [05:30Z, 06:30Z) on the fall-back night; 01:30 EDT and
    01:00 EST fit in both, and each is one slot, in both views."""
    cal = calendar("America/New_York", {SUNDAY: ["00:00-01:30", "01:30-03:00"]}, minutes=30)
    every_half_hour = [utc(11, 2, 4) + timedelta(minutes=30 * i) for i in range(8)]
    expected = (every_half_hour, every_half_hour)

    found = slots(cal, 30, date(2025, 11, 2))
    staff = explain(
        cal,
        ApprovalPolicy(grid_minutes=30),
        first_day=date(2025, 11, 2),
        last_day=date(2025, 11, 2),
        now=utc(10, 26, 0),
    )

    assert expected == (starts(found), [s.start for s in staff])


def test_item10_lord_howe_range_starting_in_the_half_hour_fold_offers_the_second_0130() -> None:
    """On 6 April 2025 Lord Howe goes from 02:00 (+11) back to 01:30 (+10:30). 01:45-03:00
    starts at the first 01:45 (14:45Z) and so holds the second 01:30 (15:00Z) too."""
    cal = calendar("Australia/Lord_Howe", {SUNDAY: ["01:45-03:00"]}, minutes=15)
    expected = (
        [utc(4, 5, 14, 45) + timedelta(minutes=15 * i) for i in range(7)],
        [(1, 45, 0), (1, 30, 1), (1, 45, 1), (2, 0, 0), (2, 15, 0), (2, 30, 0), (2, 45, 0)],
    )

    found = slots(cal, 15, date(2025, 4, 6))

    assert expected == (starts(found), walls(found, "Australia/Lord_Howe"))


# -- Europe/London --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sunday", "expected_starts", "expected_walls"),
    [
        (date(2025, 3, 30), [utc(3, 30, 0), utc(3, 30, 1)], [(0, 0, 0), (2, 0, 0)]),
        (
            date(2025, 10, 26),
            [utc(10, 25, 23), utc(10, 26, 0), utc(10, 26, 1), utc(10, 26, 2)],
            [(0, 0, 0), (1, 0, 0), (1, 0, 1), (2, 0, 0)],
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_london(
    sunday: date, expected_starts: list[datetime], expected_walls: list[tuple[int, int, int]]
) -> None:
    """00:00-03:00 in London: 01:00 is skipped in March and offered twice in October."""
    cal = calendar("Europe/London", {SUNDAY: ["00:00-03:00"]}, minutes=60)

    found = slots(cal, 60, sunday)

    assert (expected_starts, expected_walls) == (starts(found), walls(found, "Europe/London"))


# -- Australia/Lord_Howe: a 30-minute shift --------------------------------------------------------


def test_lord_howe_fall_back_repeats_half_an_hour() -> None:
    """On 6 April 01:30 and 01:45 happen twice (first at +11, then at +10:30)."""
    cal = calendar("Australia/Lord_Howe", {SUNDAY: ["01:00-02:00"]}, minutes=15)
    expected = (
        [utc(4, 5, 14) + timedelta(minutes=15 * i) for i in range(6)],
        [(1, 0, 0), (1, 15, 0), (1, 30, 0), (1, 45, 0), (1, 30, 1), (1, 45, 1)],
    )

    found = slots(cal, 15, date(2025, 4, 6))

    assert expected == (starts(found), walls(found, "Australia/Lord_Howe"))


@pytest.mark.parametrize(
    ("grid", "expected_starts", "expected_walls"),
    [
        (
            15,
            [utc(10, 4, 15), utc(10, 4, 15, 15), utc(10, 4, 15, 30), utc(10, 4, 15, 45)],
            [(1, 30, 0), (1, 45, 0), (2, 30, 0), (2, 45, 0)],
        ),
        (30, [utc(10, 4, 15), utc(10, 4, 15, 30)], [(1, 30, 0), (2, 30, 0)]),
    ],
    ids=["quarter-hour", "half-hour"],
)
def test_lord_howe_spring_forward_skips_half_an_hour(
    grid: int, expected_starts: list[datetime], expected_walls: list[tuple[int, int, int]]
) -> None:
    """On 5 October 02:00 and 02:15 do not exist; 02:30 does (UTC 15:30, +11)."""
    cal = calendar("Australia/Lord_Howe", {SUNDAY: ["01:30-03:00"]}, minutes=grid)

    found = slots(cal, grid, date(2025, 10, 5))

    assert (expected_starts, expected_walls) == (
        starts(found),
        walls(found, "Australia/Lord_Howe"),
    )


# -- midnight transitions: America/Santiago and America/Havana ------------------------------------


def test_santiago_range_starting_at_a_skipped_midnight() -> None:
    """On Sunday 7 September 00:00 does not exist; a 00:00-03:00 range starts at 01:00 (-3)."""
    cal = calendar("America/Santiago", {SUNDAY: ["00:00-03:00"]}, minutes=60)
    expected = ([utc(9, 7, 4), utc(9, 7, 5)], [(1, 0, 0), (2, 0, 0)])

    found = slots(cal, 60, date(2025, 9, 7))

    assert expected == (starts(found), walls(found, "America/Santiago"))


def test_santiago_all_day_event_on_a_23_hour_day() -> None:
    """An all-day event on 7 September blocks 01:00 to the next midnight, not Saturday night
    (22:00 and 23:00 at -4) and not Monday 00:00 (-3)."""
    cal = calendar(
        "America/Santiago",
        {SATURDAY: ["22:00-24:00"], SUNDAY: ["00:00-03:00"], MONDAY: ["00:00-01:00"]},
        minutes=60,
        events=[CalendarEvent.all_day(date(2025, 9, 7))],
    )
    expected = [
        Slot(utc(9, 7, 2), utc(9, 7, 3), True),
        Slot(utc(9, 7, 3), utc(9, 7, 4), True),
        Slot(utc(9, 7, 4), utc(9, 7, 5), False),
        Slot(utc(9, 7, 5), utc(9, 7, 6), False),
        Slot(utc(9, 8, 3), utc(9, 8, 4), True),
    ]

    assert expected == list(slots(cal, 60, date(2025, 9, 6), date(2025, 9, 8)))


def test_santiago_all_day_event_on_a_25_hour_day() -> None:
    """Saturday 5 April has 23:00 twice; an all-day event blocks all three late slots
    (22:00 -3, 23:00 -3, 23:00 -4) and not Sunday 00:00 (-4)."""
    cal = calendar(
        "America/Santiago",
        {SATURDAY: ["22:00-24:00"], SUNDAY: ["00:00-01:00"]},
        minutes=60,
        events=[CalendarEvent.all_day(date(2025, 4, 5))],
    )
    expected = [
        Slot(utc(4, 6, 1), utc(4, 6, 2), False),
        Slot(utc(4, 6, 2), utc(4, 6, 3), False),
        Slot(utc(4, 6, 3), utc(4, 6, 4), False),
        Slot(utc(4, 6, 4), utc(4, 6, 5), True),
    ]

    assert expected == list(slots(cal, 60, date(2025, 4, 5), date(2025, 4, 6)))


def test_havana_spring_forward_at_midnight() -> None:
    """On 9 March 00:00 and 00:30 do not exist in Havana; the day's first slot is 01:00 CDT.
    An all-day event on that date blocks from 01:00, not Saturday's 23:00 slot."""
    hours = {SATURDAY: ["23:00-24:00"], SUNDAY: ["00:00-02:00"]}
    open_cal = calendar("America/Havana", hours, minutes=30)
    blocked_cal = calendar(
        "America/Havana", hours, minutes=30, events=[CalendarEvent.all_day(date(2025, 3, 9))]
    )
    saturday_night = [utc(3, 9, 4), utc(3, 9, 4, 30)]
    sunday = [utc(3, 9, 5), utc(3, 9, 5, 30)]
    expected = (saturday_night + sunday, [True, True, False, False])

    found = slots(open_cal, 30, date(2025, 3, 8), date(2025, 3, 9))
    blocked = slots(blocked_cal, 30, date(2025, 3, 8), date(2025, 3, 9))

    assert expected == (starts(found), [s.available for s in blocked])


def test_havana_fall_back_repeats_midnight() -> None:
    """On 2 November 00:00-00:59 happens twice: 00:00 and 00:30 are each offered twice."""
    cal = calendar("America/Havana", {SUNDAY: ["00:00-01:00"]}, minutes=30)
    expected = (
        [utc(11, 2, 4), utc(11, 2, 4, 30), utc(11, 2, 5), utc(11, 2, 5, 30)],
        [(0, 0, 0), (0, 30, 0), (0, 0, 1), (0, 30, 1)],
    )

    found = slots(cal, 30, date(2025, 11, 2))

    assert expected == (starts(found), walls(found, "America/Havana"))


# -- Asia/Kolkata: a half-hour offset -------------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        (30, [utc(6, 2, 3, 30), utc(6, 2, 4), utc(6, 2, 4, 30), utc(6, 2, 5)]),
        (60, [utc(6, 2, 3, 30), utc(6, 2, 4, 30)]),
    ],
)
def test_kolkata_grid_is_in_local_time(grid: int, expected: list[datetime]) -> None:
    """09:00-11:00 IST is 03:30-05:30 UTC: the grid is local, so full hours fall on :30 UTC."""
    cal = calendar("Asia/Kolkata", {MONDAY: ["09:00-11:00"]}, minutes=30)

    assert expected == starts(slots(cal, grid, date(2025, 6, 2)))


# -- recurring events across DST ------------------------------------------------------------------


def test_weekly_event_keeps_noon_local_across_both_transitions() -> None:
    """A Monday 12:00-13:00 New York meeting from 3 March blocks 12:00 local every week:
    17:00 UTC in EST (3 March, 3 November), 16:00 UTC in EDT (10 March, 27 October)."""
    meeting = CalendarEvent.recurring(
        "FREQ=WEEKLY",
        start=datetime(2025, 3, 3, 12, 0, tzinfo=ZoneInfo("America/New_York")),
        end=datetime(2025, 3, 3, 13, 0, tzinfo=ZoneInfo("America/New_York")),
    )
    cal = calendar("America/New_York", {MONDAY: ["11:00-14:00"]}, minutes=60, events=[meeting])
    policy = ApprovalPolicy(grid_minutes=60, horizon=timedelta(days=300))
    now = utc(2, 24, 0)
    blocked: list[datetime] = []
    for monday in (date(2025, 3, 3), date(2025, 3, 10), date(2025, 10, 27), date(2025, 11, 3)):
        found = explain(cal, policy, first_day=monday, last_day=monday, now=now)
        blocked.extend(s.start for s in found if Reason.CALENDAR_EVENT in s.reasons)
    expected = [utc(3, 3, 17), utc(3, 10, 16), utc(10, 27, 16), utc(11, 3, 17)]

    assert expected == blocked
