"""Examples for selfsched.recurrence: calendar events to busy intervals in POSIX seconds.

New York in 2025: EST (UTC-5) until 9 March 07:00 UTC, then EDT (UTC-4) until 2 November
06:00 UTC. Every expected instant below is worked out by hand from those offsets.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrule

from selfsched import CalendarEvent, recurrence
from selfsched.errors import InvalidRecurrence
from selfsched.recurrence import busy_intervals, occurrences, validate_rule

NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600


def posix(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """POSIX seconds of a UTC wall time, computed with plain arithmetic from the epoch."""
    days = (date(year, month, day) - date(1970, 1, 1)).days
    return days * 86_400 + hour * 3_600 + minute * 60


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An aware New York wall time."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


MARCH = (posix(2025, 3, 1), posix(2025, 3, 22))


def weekly_noon(rule: str = "FREQ=WEEKLY", exdates: tuple[datetime, ...] = ()) -> CalendarEvent:
    """A Monday 12:00-13:00 New York meeting from 3 March 2025."""
    return CalendarEvent.recurring(
        rule, start=ny(2025, 3, 3, 12), end=ny(2025, 3, 3, 13), exdates=exdates
    )


# -- validate_rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=WEEKLY;BYDAY=MO,WE"),
        ("RRULE:FREQ=DAILY;COUNT=3", "FREQ=DAILY;COUNT=3"),
        ("  FREQ=MONTHLY;BYMONTHDAY=1  ", "FREQ=MONTHLY;BYMONTHDAY=1"),
    ],
)
def test_validate_rule_returns_the_bare_rule(text: str, expected: str) -> None:
    """A valid rule comes back without an 'RRULE:' prefix or surrounding blanks."""
    assert expected == validate_rule(text)


# -- one-off and all-day --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (posix(2025, 6, 2), posix(2025, 6, 3), [(posix(2025, 6, 2, 14), posix(2025, 6, 2, 15))]),
        (
            posix(2025, 6, 2, 14, 30),
            posix(2025, 6, 2, 14, 45),
            [(posix(2025, 6, 2, 14), posix(2025, 6, 2, 15))],
        ),
        (posix(2025, 6, 2, 15), posix(2025, 6, 2, 16), []),
        (posix(2025, 6, 2, 13), posix(2025, 6, 2, 14), []),
    ],
    ids=["inside", "window-inside-event", "window-starts-at-end", "window-ends-at-start"],
)
def test_one_off_occurrence_is_half_open(lo: int, hi: int, expected: list[tuple[int, int]]) -> None:
    """A one-off 10:00-11:00 EDT event overlaps [lo, hi) only if they share an instant."""
    event = CalendarEvent.one_off(ny(2025, 6, 2, 10), ny(2025, 6, 2, 11))

    assert expected == occurrences(event, NEW_YORK, lo, hi)


@pytest.mark.parametrize(
    ("day", "days", "start", "end", "hours"),
    [
        (date(2025, 6, 2), 1, posix(2025, 6, 2, 4), posix(2025, 6, 3, 4), 24),
        (date(2025, 3, 9), 1, posix(2025, 3, 9, 5), posix(2025, 3, 10, 4), 23),
        (date(2025, 11, 2), 1, posix(2025, 11, 2, 4), posix(2025, 11, 3, 5), 25),
        (date(2025, 3, 8), 2, posix(2025, 3, 8, 5), posix(2025, 3, 10, 4), 47),
    ],
    ids=["ordinary", "spring-forward-23h", "fall-back-25h", "two-days-across-the-gap"],
)
def test_all_day_blocks_whole_local_dates(
    day: date, days: int, start: int, end: int, hours: int
) -> None:
    """An all-day event runs from local midnight to the local midnight after its last date."""
    event = CalendarEvent.all_day(day, days=days)

    found = occurrences(event, NEW_YORK, posix(2025, 1, 1), posix(2026, 1, 1))

    assert ([(start, end)], hours) == (found, (end - start) // HOUR)


def test_all_day_outside_the_window() -> None:
    """An all-day event on another date contributes nothing to the window."""
    event = CalendarEvent.all_day(date(2025, 6, 3))
    expected: list[tuple[int, int]] = []

    assert expected == occurrences(event, NEW_YORK, posix(2025, 6, 2, 4), posix(2025, 6, 3, 4))


# -- recurring ------------------------------------------------------------------------------------


def test_weekly_event_keeps_its_local_time_across_spring_forward() -> None:
    """12:00 EST is 17:00 UTC; after the change 12:00 EDT is 16:00 UTC. One hour each."""
    expected = [
        (posix(2025, 3, 3, 17), posix(2025, 3, 3, 18)),
        (posix(2025, 3, 10, 16), posix(2025, 3, 10, 17)),
        (posix(2025, 3, 17, 16), posix(2025, 3, 17, 17)),
    ]

    assert expected == occurrences(weekly_noon(), NEW_YORK, *MARCH)


@pytest.mark.parametrize(
    "exdate",
    [ny(2025, 3, 10, 12), datetime(2025, 3, 10, 16, 0, tzinfo=UTC)],
    ids=["local", "same-instant-in-utc"],
)
def test_exdate_removes_one_occurrence(exdate: datetime) -> None:
    """An EXDATE at an occurrence's start removes just that occurrence, however it is written."""
    expected = [
        (posix(2025, 3, 3, 17), posix(2025, 3, 3, 18)),
        (posix(2025, 3, 17, 16), posix(2025, 3, 17, 17)),
    ]

    assert expected == occurrences(weekly_noon(exdates=(exdate,)), NEW_YORK, *MARCH)


def test_exdate_that_is_not_an_occurrence_changes_nothing() -> None:
    """An EXDATE at 13:00 does not match the 12:00 occurrence, so nothing is removed."""
    expected = 3

    event = weekly_noon(exdates=(ny(2025, 3, 10, 13),))

    assert expected == len(occurrences(event, NEW_YORK, *MARCH))


@pytest.mark.parametrize(
    ("rule", "starts"),
    [
        ("FREQ=WEEKLY;COUNT=2", [posix(2025, 3, 3, 17), posix(2025, 3, 10, 16)]),
        ("FREQ=WEEKLY;UNTIL=20250310T160000Z", [posix(2025, 3, 3, 17), posix(2025, 3, 10, 16)]),
        ("FREQ=WEEKLY;UNTIL=20250310T140000Z", [posix(2025, 3, 3, 17)]),
        ("FREQ=WEEKLY;UNTIL=20250310", [posix(2025, 3, 3, 17), posix(2025, 3, 10, 16)]),
        ("FREQ=WEEKLY;UNTIL=20250309", [posix(2025, 3, 3, 17)]),
        ("FREQ=WEEKLY;INTERVAL=2", [posix(2025, 3, 3, 17), posix(2025, 3, 17, 16)]),
    ],
    ids=[
        "count",
        "until-utc-inclusive",
        "until-utc-before",
        "until-date-includes-the-day",
        "until-date-before",
        "every-other-week",
    ],
)
def test_count_until_interval(rule: str, starts: list[int]) -> None:
    """COUNT, INTERVAL and UNTIL end the series; a UTC UNTIL is compared as an instant.

    UNTIL=...T140000Z is 10:00 EDT on 10 March, before that day's 12:00 occurrence. A date-only
    UNTIL includes its whole local day, so UNTIL=20250310 keeps the 10 March occurrence.
    """
    expected = [(s, s + HOUR) for s in starts]

    assert expected == occurrences(weekly_noon(rule), NEW_YORK, *MARCH)


def test_daily_occurrence_in_the_gap_uses_the_offset_before_it() -> None:
    """A daily 02:30 event: on 9 March 02:30 does not exist; RFC 5545 reads it with the offset
    before the gap (EST), giving 07:30 UTC (03:30 EDT). On 10 March 02:30 EDT is 06:30 UTC."""
    event = CalendarEvent.recurring(
        "FREQ=DAILY", start=ny(2025, 3, 8, 2, 30), end=ny(2025, 3, 8, 3, 0)
    )
    expected = [
        (posix(2025, 3, 8, 7, 30), posix(2025, 3, 8, 8)),
        (posix(2025, 3, 9, 7, 30), posix(2025, 3, 9, 8)),
        (posix(2025, 3, 10, 6, 30), posix(2025, 3, 10, 7)),
    ]

    assert expected == occurrences(event, NEW_YORK, posix(2025, 3, 8), posix(2025, 3, 11))


@pytest.mark.parametrize(
    "exdate",
    [ny(2025, 3, 9, 2, 30), datetime(2025, 3, 9, 7, 30, tzinfo=UTC)],
    ids=["as-written-02:30", "the-instant-07:30-utc"],
)
def test_exdate_removes_an_occurrence_moved_by_the_gap(exdate: datetime) -> None:
    """The 9 March occurrence of a daily 02:30 event happens at 07:30 UTC; an EXDATE for it,
    written as 02:30 New York or as that instant, removes it."""
    event = CalendarEvent.recurring(
        "FREQ=DAILY", start=ny(2025, 3, 8, 2, 30), end=ny(2025, 3, 8, 3, 0), exdates=[exdate]
    )
    expected = [
        (posix(2025, 3, 8, 7, 30), posix(2025, 3, 8, 8)),
        (posix(2025, 3, 10, 6, 30), posix(2025, 3, 10, 7)),
    ]

    assert expected == occurrences(event, NEW_YORK, posix(2025, 3, 8), posix(2025, 3, 11))


@pytest.mark.parametrize(
    "exdate",
    [ny(2025, 11, 2, 1, 30), datetime(2025, 11, 2, 5, 30, tzinfo=UTC)],
    ids=["as-written-01:30", "the-instant-05:30-utc"],
)
def test_exdate_removes_an_occurrence_in_the_fold(exdate: datetime) -> None:
    """The 2 November occurrence of a daily 01:30 event (the first 01:30, 05:30 UTC) is removed
    by an EXDATE written as 01:30 New York or as that instant."""
    event = CalendarEvent.recurring(
        "FREQ=DAILY", start=ny(2025, 11, 1, 1, 30), end=ny(2025, 11, 1, 2, 0), exdates=[exdate]
    )
    expected = [
        (posix(2025, 11, 1, 5, 30), posix(2025, 11, 1, 6)),
        (posix(2025, 11, 3, 6, 30), posix(2025, 11, 3, 7)),
    ]

    assert expected == occurrences(event, NEW_YORK, posix(2025, 11, 1), posix(2025, 11, 4))


def test_daily_occurrence_in_the_fold_uses_its_first_instant() -> None:
    """A daily 01:30 event happens once on 2 November, at the first 01:30 (EDT, 05:30 UTC)."""
    event = CalendarEvent.recurring(
        "FREQ=DAILY", start=ny(2025, 11, 1, 1, 30), end=ny(2025, 11, 1, 2, 0)
    )
    expected = [
        (posix(2025, 11, 1, 5, 30), posix(2025, 11, 1, 6)),
        (posix(2025, 11, 2, 5, 30), posix(2025, 11, 2, 6)),
        (posix(2025, 11, 3, 6, 30), posix(2025, 11, 3, 7)),
    ]

    assert expected == occurrences(event, NEW_YORK, posix(2025, 11, 1), posix(2025, 11, 4))


def test_recurrence_of_a_utc_start_is_expanded_in_the_zone_given() -> None:
    """A start given in UTC (no zone of its own) keeps its wall time in the clinician's zone: the
    zone given. 17:00 UTC expanded in UTC stays 17:00 UTC; in New York (12:00 EST) it becomes
    16:00 UTC after the change."""
    event = CalendarEvent.recurring(
        "FREQ=WEEKLY",
        start=datetime(2025, 3, 3, 17, tzinfo=UTC),
        end=datetime(2025, 3, 3, 18, tzinfo=UTC),
    )
    in_utc = [posix(2025, 3, d, 17) for d in (3, 10, 17)]
    in_new_york = [posix(2025, 3, 3, 17), posix(2025, 3, 10, 16), posix(2025, 3, 17, 16)]
    expected = ([(s, s + HOUR) for s in in_utc], [(s, s + HOUR) for s in in_new_york])

    assert expected == (
        occurrences(event, ZoneInfo("UTC"), *MARCH),
        occurrences(event, NEW_YORK, *MARCH),
    )


@pytest.mark.parametrize("clinician_zone", ["UTC", "Europe/London", "America/New_York"])
def test_recurrence_of_a_zoneinfo_start_is_expanded_in_its_own_zone(clinician_zone: str) -> None:
    """A start written in New York (a ZoneInfo) records its wall time and zone: the meeting stays
    at 12:00 New York (17:00 UTC, then 16:00 UTC) whatever the clinician's zone."""
    event = weekly_noon()
    expected = [
        (posix(2025, 3, 3, 17), posix(2025, 3, 3, 18)),
        (posix(2025, 3, 10, 16), posix(2025, 3, 10, 17)),
        (posix(2025, 3, 17, 16), posix(2025, 3, 17, 17)),
    ]

    assert (datetime(2025, 3, 3, 12), "America/New_York") == (event.wall_start, event.zone)
    assert expected == occurrences(event, ZoneInfo(clinician_zone), *MARCH)


def test_occurrence_overlapping_the_window_start_is_kept() -> None:
    """An occurrence that began before the window but is still running is part of it."""
    expected = [(posix(2025, 3, 10, 16), posix(2025, 3, 10, 17))]

    found = occurrences(weekly_noon(), NEW_YORK, posix(2025, 3, 10, 16, 30), posix(2025, 3, 10, 18))

    assert expected == found


def test_busy_intervals_collects_every_event() -> None:
    """busy_intervals gathers the intervals of all events in the window."""
    events = [
        weekly_noon(),
        CalendarEvent.all_day(date(2025, 3, 11)),
        CalendarEvent.one_off(ny(2025, 3, 12, 9), ny(2025, 3, 12, 9, 30)),
    ]
    expected = [
        (posix(2025, 3, 10, 16), posix(2025, 3, 10, 17)),
        (posix(2025, 3, 11, 4), posix(2025, 3, 12, 4)),
        (posix(2025, 3, 12, 13), posix(2025, 3, 12, 13, 30)),
    ]

    found = busy_intervals(events, NEW_YORK, posix(2025, 3, 10, 4), posix(2025, 3, 13, 4))

    assert expected == sorted(found)


def test_first_occurrence_blocks_even_when_the_rule_skips_it() -> None:
    """An event entered on Tuesday 4 March 12:00 repeating on Mondays still blocks that Tuesday."""
    event = CalendarEvent.recurring(
        "FREQ=WEEKLY;BYDAY=MO", start=ny(2025, 3, 4, 12), end=ny(2025, 3, 4, 13)
    )
    expected = [
        (posix(2025, 3, 4, 17), posix(2025, 3, 4, 18)),
        (posix(2025, 3, 10, 16), posix(2025, 3, 10, 17)),
        (posix(2025, 3, 17, 16), posix(2025, 3, 17, 17)),
    ]

    assert expected == occurrences(event, NEW_YORK, *MARCH)


# -- issue 7, item 9: a first occurrence in a gap ------------------------------------------------


def test_item9_recurring_event_entered_in_a_gap_keeps_its_wall_time() -> None:
    """Issue 7 item 9: a daily 02:30-03:00 event entered on 14 March 2027, when 02:30 does not
    exist in New York, happens at 03:30 EDT (07:30 UTC, the offset before the gap) that day and
    at 02:30 EDT (06:30 UTC) on every later day, as RFC 5545 and dateutil place the series.

    (The end is written as 04:00 EDT: 03:00 does not exist either, and the elapsed half hour
    from the resolved start ends at 04:00 EDT.)
    """
    event = CalendarEvent.recurring(
        "FREQ=DAILY", start=ny(2027, 3, 14, 2, 30), end=ny(2027, 3, 14, 4, 0)
    )
    expected = [
        (posix(2027, 3, 14, 7, 30), posix(2027, 3, 14, 8)),
        (posix(2027, 3, 15, 6, 30), posix(2027, 3, 15, 7)),
        (posix(2027, 3, 16, 6, 30), posix(2027, 3, 16, 7)),
    ]

    assert expected == occurrences(event, NEW_YORK, posix(2027, 3, 14), posix(2027, 3, 17))


# -- issue 7, item 2: sub-daily rules -------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SECONDLY",
        "FREQ=SECONDLY;INTERVAL=900",
        "FREQ=MINUTELY",
        "FREQ=MINUTELY;INTERVAL=14",
        "FREQ=MINUTELY;INTERVAL=15;BYSECOND=0,30",
        "FREQ=HOURLY;BYMINUTE=0,5,10",
        "FREQ=HOURLY;BYMINUTE=0,50",
        "FREQ=HOURLY;BYSECOND=0,59",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,1,2",
        "FREQ=DAILY;BYHOUR=0,23;BYMINUTE=0,50",
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0,1",
        "FREQ=YEARLY;BYMONTH=1;BYHOUR=9,10;BYMINUTE=0,55",
    ],
)
def test_item2_sub_daily_rules_are_refused(rule: str) -> None:
    """Issue 7 item 2: a rule whose occurrences can come less than 15 minutes apart (by its FREQ
    and INTERVAL, or by BYHOUR/BYMINUTE/BYSECOND lists, across midnight too) is refused when the
    event is built, with a message that says what is allowed."""
    with pytest.raises(InvalidRecurrence, match="15 minutes"):
        CalendarEvent.recurring(rule, start=ny(2026, 1, 5, 9), end=ny(2026, 1, 5, 9, 10))


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MINUTELY;INTERVAL=15",
        "FREQ=MINUTELY;INTERVAL=90;BYHOUR=9,10,11",
        "FREQ=HOURLY;BYMINUTE=0,15,30,45",
        "FREQ=HOURLY;BYHOUR=9,17;BYMINUTE=0,50",
        "FREQ=HOURLY;INTERVAL=2;BYMINUTE=0,59",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,15",
        "FREQ=DAILY;INTERVAL=2;BYHOUR=0,23;BYMINUTE=0,55",
    ],
)
def test_item2_rules_at_least_15_minutes_apart_are_accepted(rule: str) -> None:
    """Issue 7 item 2: rules whose occurrences are always at least 15 minutes apart are built."""
    event = CalendarEvent.recurring(rule, start=ny(2026, 1, 5, 9), end=ny(2026, 1, 5, 9, 10))

    assert rule == event.rrule


def _generated(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Record every occurrence dateutil generates from now on (a deterministic cost measure)."""
    seen: list[datetime] = []
    original = vars(rrule)["_iter"]  # the one generator every expansion goes through

    def counting(self: rrule) -> Iterator[datetime]:
        for found in original(self):
            seen.append(found)
            yield found

    monkeypatch.setattr(rrule, "_iter", counting)
    return seen


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MINUTELY;INTERVAL=15",
        "FREQ=HOURLY;BYMINUTE=0,30",
        "FREQ=DAILY",
        "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TH",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=MINUTELY;INTERVAL=15;COUNT=1000",
    ],
)
def test_item2_expansion_cost_does_not_grow_with_time_since_dtstart(
    rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 7 item 2: expanding one week of a rule that began six years earlier makes dateutil
    generate about as many occurrences as one that began a week earlier (the same periods, give
    or take one either side of the window), not every occurrence since the first."""
    recurrence._expansion.cache_clear()  # a cold expansion
    seen = _generated(monkeypatch)
    week = (posix(2026, 1, 12, 5), posix(2026, 1, 19, 5))
    counts = []
    for first in (ny(2026, 1, 5, 9, 7), ny(2020, 1, 6, 9, 7)):
        event = CalendarEvent.recurring(rule, start=first, end=first + timedelta(minutes=10))
        seen.clear()
        occurrences(event, NEW_YORK, *week)
        counts.append(len(seen))
    near, far = counts

    assert far <= near + 4, (near, far)
