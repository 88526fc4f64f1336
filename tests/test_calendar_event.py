"""CalendarEvent: how a recurring event records the wall time and zone it was written in, and
what the constructors refuse (issue 7, items 9 and 3).

New York in 2027: the clocks spring forward on 14 March at 02:00 EST (07:00 UTC) to 03:00 EDT,
so 02:00-02:59 does not exist that day; in 2026 they fall back on 1 November at 02:00 EDT
(06:00 UTC) to 01:00 EST, so 01:00-01:59 happens twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from selfsched import CalendarEvent, EventKind
from selfsched.errors import (
    InvalidPolicy,
    InvalidRange,
    InvalidRecurrence,
    NaiveDatetime,
    SelfschedError,
    UnknownTimeZone,
    WrongType,
)

NEW_YORK = ZoneInfo("America/New_York")
HALF_HOUR = timedelta(minutes=30)


def _any(value: object) -> Any:
    """*value*, typed as anything: what a caller without a type checker may pass."""
    return value


def ny(year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """An aware New York wall time (which may be skipped or repeated)."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- what CalendarEvent.recurring records ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (ny(2026, 3, 2, 9), (utc(2026, 3, 2, 14), datetime(2026, 3, 2, 9), "America/New_York")),
        (
            ny(2027, 3, 14, 2, 30),
            (utc(2027, 3, 14, 7, 30), datetime(2027, 3, 14, 2, 30), "America/New_York"),
        ),
        (
            ny(2027, 3, 14, 2, 30, fold=1),
            (utc(2027, 3, 14, 7, 30), datetime(2027, 3, 14, 2, 30), "America/New_York"),
        ),
        (
            ny(2026, 11, 1, 1, 30),
            (utc(2026, 11, 1, 5, 30), datetime(2026, 11, 1, 1, 30), "America/New_York"),
        ),
        (
            ny(2026, 11, 1, 1, 30, fold=1),
            (utc(2026, 11, 1, 6, 30), datetime(2026, 11, 1, 1, 30), "America/New_York"),
        ),
        (
            datetime(2026, 3, 2, 14, tzinfo=ZoneInfo("UTC")),
            (utc(2026, 3, 2, 14), datetime(2026, 3, 2, 14), "UTC"),
        ),
        (utc(2026, 3, 2, 14), (utc(2026, 3, 2, 14), None, None)),
        (
            datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=-5))),
            (utc(2026, 3, 2, 14), None, None),
        ),
    ],
    ids=[
        "zoneinfo",
        "skipped-reads-the-offset-before-the-gap",
        "skipped-whatever-the-fold",
        "repeated-first",
        "repeated-second-by-fold",
        "zoneinfo-utc-is-a-zone",
        "datetime-utc-records-nothing",
        "fixed-offset-records-nothing",
    ],
)
def test_recurring_records_the_wall_time_and_zone_of_a_zoneinfo_start(
    start: datetime, expected: tuple[datetime, datetime | None, str | None]
) -> None:
    """A start with a ZoneInfo records its naive wall time and zone key; the instant is RFC 5545's
    reading of it (a skipped wall time with the offset before the gap, a repeated one by fold).
    A start in UTC or at a fixed offset records nothing: its rule follows the clinician's zone."""
    event = CalendarEvent.recurring("FREQ=DAILY", start=start, duration=HALF_HOUR)

    assert expected == (event.start, event.wall_start, event.zone)


def test_recurring_takes_a_duration_instead_of_an_end() -> None:
    """duration= is the elapsed length of the first occurrence, from its resolved instant: 02:30
    on the spring-forward day plus 30 minutes ends at 04:00 EDT (08:00 UTC)."""
    event = CalendarEvent.recurring("FREQ=DAILY", start=ny(2027, 3, 14, 2, 30), duration=HALF_HOUR)

    assert (utc(2027, 3, 14, 8), HALF_HOUR) == (event.end, event.duration)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of the two"),
        ({"end": ny(2026, 3, 2, 10), "duration": HALF_HOUR}, "exactly one of the two"),
        ({"duration": timedelta(0)}, "duration must be positive"),
        ({"duration": -HALF_HOUR}, "duration must be positive"),
        ({"end": ny(2026, 3, 2, 9)}, "give the first occurrence's length as duration="),
    ],
    ids=["neither", "both", "zero", "negative", "end-not-after-start"],
)
def test_recurring_needs_exactly_one_positive_length(
    kwargs: dict[str, object], message: str
) -> None:
    """Neither end nor duration, both, or a length that is not positive is InvalidRange."""
    with pytest.raises(InvalidRange) as caught:
        CalendarEvent.recurring("FREQ=DAILY", start=ny(2026, 3, 2, 9), **kwargs)  # type: ignore[arg-type]

    assert message in str(caught.value)


def test_an_end_written_in_the_gap_suggests_a_duration() -> None:
    """Written 02:30-03:30 on the spring-forward day, both ends are the instant 07:30 UTC: the
    error says the start's wall time is skipped and to give duration= instead."""
    with pytest.raises(InvalidRange) as caught:
        CalendarEvent.recurring(
            "FREQ=DAILY", start=ny(2027, 3, 14, 2, 30), end=ny(2027, 3, 14, 3, 30)
        )

    message = str(caught.value)
    assert (True, True) == ("the clocks skip" in message, "duration=timedelta" in message)


def test_duration_must_be_a_timedelta() -> None:
    """duration=30 (minutes? seconds?) is refused by name."""
    with pytest.raises(WrongType) as caught:
        CalendarEvent.recurring("FREQ=DAILY", start=ny(2026, 3, 2, 9), duration=_any(30))

    assert "duration" == caught.value.name


# -- a directly built event is consistent ---------------------------------------------------------


def test_a_directly_built_recurring_event_equals_the_one_recurring_builds() -> None:
    """The fields recurring() records can be given directly (as a store would): the same value."""
    built = CalendarEvent.recurring("FREQ=DAILY", start=ny(2027, 3, 14, 2, 30), duration=HALF_HOUR)

    direct = CalendarEvent(
        kind="recurring",
        rrule="FREQ=DAILY",
        start=utc(2027, 3, 14, 7, 30),
        end=utc(2027, 3, 14, 8),
        wall_start=datetime(2027, 3, 14, 2, 30),
        zone="America/New_York",
    )

    assert built == direct


def daily_event(**fields: Any) -> CalendarEvent:
    """A daily recurring event at 14:00-15:00 UTC on 2 March 2026, built directly with *fields*."""
    base: dict[str, Any] = {
        "kind": "recurring",
        "rrule": "FREQ=DAILY",
        "start": utc(2026, 3, 2, 14),
        "end": utc(2026, 3, 2, 15),
    }
    return CalendarEvent(**(base | fields))


INCONSISTENT: dict[str, tuple[type[SelfschedError], str, Callable[[], object]]] = {
    "wall_start without zone": (
        InvalidRecurrence,
        "wall_start and zone go together",
        lambda: daily_event(wall_start=datetime(2026, 3, 2, 9)),
    ),
    "zone without wall_start": (
        InvalidRecurrence,
        "wall_start and zone go together",
        lambda: daily_event(zone="America/New_York"),
    ),
    "aware wall_start": (
        WrongType,
        "wall_start must be a naive datetime",
        lambda: daily_event(wall_start=ny(2026, 3, 2, 9), zone="America/New_York"),
    ),
    "wall_start as text": (
        WrongType,
        "wall_start must be a naive datetime",
        lambda: daily_event(wall_start=_any("2026-03-02T09:00"), zone="America/New_York"),
    ),
    "wall_start that is not the start": (
        InvalidRange,
        "is not wall_start=2026-03-02T10:00:00 in America/New_York",
        lambda: daily_event(wall_start=datetime(2026, 3, 2, 10), zone="America/New_York"),
    ),
    "a skipped wall_start read after the gap": (
        InvalidRange,
        "is not wall_start=2027-03-14T02:30:00",
        lambda: daily_event(
            start=utc(2027, 3, 14, 6, 30),
            end=utc(2027, 3, 14, 7, 30),
            wall_start=datetime(2027, 3, 14, 2, 30),
            zone="America/New_York",
        ),
    ),
    "unknown zone": (
        UnknownTimeZone,
        "'Mars/Olympus' is not a known IANA time zone",
        lambda: daily_event(wall_start=datetime(2026, 3, 2, 9), zone="Mars/Olympus"),
    ),
    "a one-off with a zone": (
        InvalidRecurrence,
        "zone belongs to recurring events",
        lambda: CalendarEvent(
            kind="one_off", start=utc(2026, 3, 2, 14), end=utc(2026, 3, 2, 15), zone="UTC"
        ),
    ),
    "a one-off with a rule": (
        InvalidRecurrence,
        "rrule belongs to recurring events",
        lambda: CalendarEvent(
            kind="one_off", start=utc(2026, 3, 2, 14), end=utc(2026, 3, 2, 15), rrule="FREQ=DAILY"
        ),
    ),
    "an all-day event with exdates": (
        InvalidRecurrence,
        "exdates belong to recurring events",
        lambda: CalendarEvent(kind="all_day", day=date(2026, 3, 2), exdates=[utc(2026, 3, 2, 14)]),
    ),
    "an all-day event with a start": (
        InvalidRange,
        "an all-day event has a `day`",
        lambda: CalendarEvent(kind="all_day", day=date(2026, 3, 2), start=utc(2026, 3, 2, 14)),
    ),
    "a one-off with a day": (
        InvalidRange,
        "not a `day`",
        lambda: CalendarEvent(
            kind="one_off", start=utc(2026, 3, 2, 14), end=utc(2026, 3, 2, 15), day=date(2026, 3, 2)
        ),
    ),
}


@pytest.mark.parametrize(
    ("error", "message", "build"), INCONSISTENT.values(), ids=INCONSISTENT.keys()
)
def test_a_directly_built_event_cannot_be_inconsistent(
    error: type[SelfschedError], message: str, build: Callable[[], object]
) -> None:
    """wall_start and zone come together, name the start, and belong to recurring events only;
    an all-day event has a day and no instants, a timed one instants and no day."""
    with pytest.raises(error) as caught:
        build()

    assert message in str(caught.value)


# -- issue 7, item 3: the dates selfsched computes with, and typed fields ------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: CalendarEvent.all_day(date(2026, 3, 2), days=3_000_000), "days=3000000"),
        (lambda: CalendarEvent.all_day(date(9998, 12, 31)), "days=1 from 9998-12-31"),
        (lambda: CalendarEvent.all_day(date(1, 12, 31)), "day on 0001-12-31"),
        (
            lambda: CalendarEvent.one_off(
                datetime(1, 1, 1, 12, tzinfo=UTC), datetime(1, 1, 1, 13, tzinfo=UTC)
            ),
            "start=",
        ),
        (
            lambda: CalendarEvent.one_off(utc(2026, 3, 2, 14), datetime(9999, 6, 1, tzinfo=UTC)),
            "end=",
        ),
        (
            lambda: CalendarEvent.recurring(
                "FREQ=DAILY",
                start=ny(2026, 3, 2, 9),
                duration=HALF_HOUR,
                exdates=[datetime(9999, 3, 2, 9, tzinfo=UTC)],
            ),
            "exdates[0]=",
        ),
        (
            lambda: CalendarEvent.recurring(
                "FREQ=DAILY", start=ny(2026, 3, 2, 9), duration=timedelta(days=3_000_000)
            ),
            "duration=",
        ),
    ],
    ids=[
        "all-day-days-past-9998",
        "all-day-on-the-last-date",
        "all-day-in-year-1",
        "one-off-in-year-1",
        "one-off-ending-in-9999",
        "exdate-in-9999",
        "recurring-duration-past-9999",
    ],
)
def test_item3_events_stay_inside_the_dates_selfsched_computes(
    build: Callable[[], object], field: str
) -> None:
    """Issue 7 item 3: CalendarEvent.all_day(day, days=3_000_000) was accepted and broke every
    later slot computation with OverflowError. Dates and instants outside 0002-01-01..9998-12-31
    (an all-day event up to and including the day after its last) are InvalidRange naming the
    field."""
    with pytest.raises(InvalidRange) as caught:
        build()

    assert field in str(caught.value)


def test_item3_the_last_all_day_event_selfsched_computes_with_is_accepted() -> None:
    """The latest all-day event allowed ends the day before 9998-12-31 ends: 9998-12-30."""
    event = CalendarEvent.all_day(date(9998, 12, 28), days=3)

    assert (EventKind.ALL_DAY, 3) == (event.kind, event.days)


WRONG_TYPES: dict[str, tuple[type[SelfschedError], str, Callable[[], object]]] = {
    "title": (WrongType, "title", lambda: CalendarEvent.all_day(date(2026, 3, 2), title=_any(5))),
    "id": (
        WrongType,
        "id",
        lambda: CalendarEvent.one_off(utc(2026, 3, 2, 14), utc(2026, 3, 2, 15), id=_any(None)),
    ),
    "days as bool": (
        InvalidPolicy,
        "days",
        lambda: CalendarEvent.all_day(date(2026, 3, 2), days=True),
    ),
    "days as text": (
        InvalidPolicy,
        "days",
        lambda: CalendarEvent.all_day(date(2026, 3, 2), days=_any("3")),
    ),
    "day as text": (InvalidRange, "`day`", lambda: CalendarEvent.all_day(_any("2026-03-02"))),
    "exdates as a number": (
        WrongType,
        "exdates",
        lambda: CalendarEvent.recurring(
            "FREQ=DAILY", start=ny(2026, 3, 2, 9), duration=HALF_HOUR, exdates=_any(5)
        ),
    ),
    "exdates as one datetime": (
        WrongType,
        "exdates",
        lambda: CalendarEvent.recurring(
            "FREQ=DAILY",
            start=ny(2026, 3, 2, 9),
            duration=HALF_HOUR,
            exdates=_any(ny(2026, 3, 3, 9)),
        ),
    ),
    "exdates as text": (
        WrongType,
        "exdates",
        lambda: CalendarEvent.recurring(
            "FREQ=DAILY", start=ny(2026, 3, 2, 9), duration=HALF_HOUR, exdates=_any("20260303")
        ),
    ),
    "an exdate as text": (
        NaiveDatetime,
        "exdates[1]",
        lambda: CalendarEvent.recurring(
            "FREQ=DAILY",
            start=ny(2026, 3, 2, 9),
            duration=HALF_HOUR,
            exdates=[ny(2026, 3, 3, 9), _any("2026-03-04T09:00")],
        ),
    ),
    "rrule as a number": (
        InvalidRecurrence,
        "rrule, a string",
        lambda: CalendarEvent.recurring(_any(7), start=ny(2026, 3, 2, 9), duration=HALF_HOUR),
    ),
    "start as text": (
        NaiveDatetime,
        "start",
        lambda: CalendarEvent.recurring(
            "FREQ=DAILY", start=_any("2026-03-02T09:00"), duration=HALF_HOUR
        ),
    ),
}


@pytest.mark.parametrize(("error", "field", "build"), WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_item3_calendar_event_fields_accept_their_type_only(
    error: type[SelfschedError], field: str, build: Callable[[], object]
) -> None:
    """Issue 7 item 3: every field of CalendarEvent refuses a value of another type with a
    SelfschedError that names the field (never a raw TypeError or AttributeError)."""
    with pytest.raises(error) as caught:
        build()

    assert field in str(caught.value)
