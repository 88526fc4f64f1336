"""Bad input: each mistake raises its own SelfschedError subclass with a message that names it.

Input errors are also ValueErrors. Nothing here may escape as a bare ValueError, KeyError or
TypeError from inside the library.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from selfsched import (
    Appointment,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    ExplainedSlot,
    Slot,
    TimeRange,
    Weekday,
    WorkHours,
    available_slots,
    check_slot,
    errors,
    explain,
    first_available,
)
from selfsched.errors import (
    InvalidInput,
    InvalidPolicy,
    InvalidRange,
    InvalidRecurrence,
    NaiveDatetime,
    OffGrid,
    OverlappingWorkHours,
    SelfschedError,
    UnknownTimeZone,
)

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2025, 6, 2)
AWARE = datetime(2025, 6, 2, 9, 0, tzinfo=NEW_YORK)
LATER = datetime(2025, 6, 2, 10, 0, tzinfo=NEW_YORK)
NAIVE = datetime(2025, 6, 2, 9, 0)
NOW = datetime(2025, 5, 26, 12, 0, tzinfo=UTC)

CLINICIAN = Clinician(
    id="dr-a",
    zone="America/New_York",
    work_hours=WorkHours.weekdays("09:00-12:00"),
    service_minutes=60,
)
CALENDAR = ClinicianCalendar(clinician=CLINICIAN)
POLICY = ApprovalPolicy(grid_minutes=30)

Call = Callable[[], object]


def appointment(start: object = AWARE, end: object = LATER, **changes: object) -> Appointment:
    """An appointment with the given (possibly bad) values."""
    fields: dict[str, object] = {
        "id": "a1",
        "client_id": "c1",
        "clinician_id": "dr-a",
        "start": start,
        "end": end,
        "status": "booked",
        **changes,
    }
    return Appointment(**fields)  # type: ignore[arg-type]


def slots(now: object = NOW, first_day: object = MONDAY, last_day: object = MONDAY) -> object:
    """available_slots on the standard calendar with the given (possibly bad) arguments."""
    return available_slots(
        CALENDAR,
        POLICY,
        first_day=first_day,  # type: ignore[arg-type]
        last_day=last_day,  # type: ignore[arg-type]
        now=now,  # type: ignore[arg-type]
    )


# -- the tree -------------------------------------------------------------------------------------

INPUT_ERRORS = [
    errors.InvalidInput,
    errors.NaiveDatetime,
    errors.UnknownTimeZone,
    errors.InvalidRange,
    errors.OffGrid,
    errors.OverlappingWorkHours,
    errors.InvalidPolicy,
    errors.InvalidRecurrence,
    errors.EmptyReason,
    errors.InvalidHeader,
    errors.InvalidTemplate,
    errors.MissingDetails,
    errors.IdempotencyMismatch,
]
REFUSALS = [
    errors.SelfSchedulingDisabled,
    errors.SlotUnavailable,
    errors.NotFound,
    errors.PermissionDenied,
    errors.Conflict,
    errors.TransitionNotAllowed,
    errors.StorageError,
    errors.DeliveryError,
]


@pytest.mark.parametrize("error", INPUT_ERRORS, ids=lambda e: e.__name__)
def test_input_errors_are_selfsched_errors_and_value_errors(error: type[Exception]) -> None:
    """Every input error can be caught as SelfschedError, InvalidInput or ValueError."""
    expected = (True, True, True)

    assert expected == (
        issubclass(error, SelfschedError),
        issubclass(error, InvalidInput),
        issubclass(error, ValueError),
    )


@pytest.mark.parametrize("error", REFUSALS, ids=lambda e: e.__name__)
def test_refusals_are_selfsched_errors_but_not_value_errors(error: type[Exception]) -> None:
    """A refusal is not bad input: it is a SelfschedError and not a ValueError."""
    expected = (True, False)

    assert expected == (issubclass(error, SelfschedError), issubclass(error, ValueError))


def test_every_public_error_is_a_selfsched_error() -> None:
    """Everything errors.__all__ names derives from SelfschedError (the base included)."""
    not_ours = [
        name
        for name in errors.__all__
        if not issubclass(getattr(errors, name), errors.SelfschedError)
    ]

    expected: list[str] = []
    assert expected == not_ours


# -- naive datetimes ------------------------------------------------------------------------------

NAIVE_CASES: dict[str, tuple[str, Call]] = {
    "appointment start": ("start", lambda: appointment(start=NAIVE)),
    "appointment end": ("end", lambda: appointment(end=NAIVE)),
    "appointment created_at": ("created_at", lambda: appointment(created_at=NAIVE)),
    "Appointment.overlaps start": ("start", lambda: appointment().overlaps(NAIVE, LATER)),
    "Appointment.overlaps end": ("end", lambda: appointment().overlaps(AWARE, NAIVE)),
    "one_off start": ("start", lambda: CalendarEvent.one_off(NAIVE, LATER)),
    "one_off end": ("end", lambda: CalendarEvent.one_off(AWARE, NAIVE)),
    "recurring start": (
        "start",
        lambda: CalendarEvent.recurring("FREQ=WEEKLY", start=NAIVE, end=LATER),
    ),
    "recurring exdates": (
        "exdates[0]",
        lambda: CalendarEvent.recurring("FREQ=WEEKLY", start=AWARE, end=LATER, exdates=[NAIVE]),
    ),
    "available_slots now": ("now", lambda: slots(now=NAIVE)),
    "explain now": (
        "now",
        lambda: explain(CALENDAR, POLICY, first_day=MONDAY, last_day=MONDAY, now=NAIVE),
    ),
    "check_slot start": ("start", lambda: check_slot(CALENDAR, POLICY, NAIVE, now=NOW)),
    "check_slot now": ("now", lambda: check_slot(CALENDAR, POLICY, AWARE, now=NAIVE)),
    "first_available now": ("now", lambda: first_available([CALENDAR], POLICY, now=NAIVE)),
}


@pytest.mark.parametrize(("name", "call"), NAIVE_CASES.values(), ids=NAIVE_CASES.keys())
def test_naive_datetime_is_refused_at_every_entry_point(name: str, call: Call) -> None:
    """A naive datetime raises NaiveDatetime naming the parameter and showing the value."""
    with pytest.raises(NaiveDatetime) as caught:
        call()

    expected = (name, NAIVE, f"{name}={NAIVE!r} has no time zone")
    message = str(caught.value)
    assert expected == (caught.value.name, caught.value.value, message[: len(expected[2])])


NOT_A_DATETIME: dict[str, tuple[str, object, Call]] = {
    "appointment start None": ("start", None, lambda: appointment(start=None)),
    "appointment end str": ("end", "10:00", lambda: appointment(end="10:00")),
    "exdate as a date": (
        "exdates[0]",
        date(2025, 6, 9),
        lambda: CalendarEvent.recurring(
            "FREQ=WEEKLY",
            start=AWARE,
            end=LATER,
            exdates=[date(2025, 6, 9)],  # type: ignore[list-item]
        ),
    ),
    "now None": ("now", None, lambda: slots(now=None)),
    "check_slot start str": (
        "start",
        "2025-06-02T09:00",
        lambda: check_slot(CALENDAR, POLICY, "2025-06-02T09:00", now=NOW),  # type: ignore[arg-type]
    ),
    "first_available now as a date": (
        "now",
        MONDAY,
        lambda: first_available([CALENDAR], POLICY, now=MONDAY),  # type: ignore[arg-type]
    ),
}


@pytest.mark.parametrize(
    ("name", "value", "call"), NOT_A_DATETIME.values(), ids=NOT_A_DATETIME.keys()
)
def test_a_value_that_is_not_a_datetime_is_refused(name: str, value: object, call: Call) -> None:
    """None, text or a date where an instant is needed raise NaiveDatetime, not TypeError."""
    with pytest.raises(NaiveDatetime) as caught:
        call()

    expected = (name, f"{name}={value!r} is a {type(value).__name__}, not a datetime")
    message = str(caught.value)
    assert expected == (caught.value.name, message[: len(expected[1])])


# -- time zones -----------------------------------------------------------------------------------

BAD_ZONES = [
    "Mars/Olympus",
    "",
    "../../etc/passwd",
    "/etc/passwd",
    "America/New_York/../../../etc/passwd",
    "America",
    "America/New_York ",
    "america/new_york\x00",
    None,
    0,
]


@pytest.mark.parametrize("key", BAD_ZONES, ids=repr)
def test_unknown_zone_for_a_clinician(key: object) -> None:
    """A clinician's zone must be an IANA key; anything else raises UnknownTimeZone."""
    with pytest.raises(UnknownTimeZone) as caught:
        Clinician(id="dr-a", zone=key)  # type: ignore[arg-type]

    expected = (key, f"{key!r} is not a known IANA time zone")
    assert expected == (caught.value.key, str(caught.value)[: len(expected[1])])


@pytest.mark.parametrize("key", BAD_ZONES, ids=repr)
def test_unknown_zone_for_a_client_view(key: object) -> None:
    """Slot.in_zone and ExplainedSlot.in_zone refuse what is not a zone (None included)."""
    slot = Slot(AWARE, LATER, True)
    explained = ExplainedSlot(AWARE, LATER, frozenset())

    with pytest.raises(UnknownTimeZone):
        slot.in_zone(key)  # type: ignore[arg-type]
    with pytest.raises(UnknownTimeZone) as caught:
        explained.in_zone(key)  # type: ignore[arg-type]

    assert key == caught.value.key


# -- ranges that end before they start ------------------------------------------------------------

BACKWARDS: dict[str, tuple[Call, str]] = {
    "appointment end before start": (
        lambda: appointment(start=LATER, end=AWARE),
        (
            "appointment 'a1' ends at 2025-06-02T13:00:00+00:00, at or before its start "
            "2025-06-02T14:00:00+00:00"
        ),
    ),
    "appointment of zero length": (
        lambda: appointment(start=AWARE, end=AWARE),
        "at or before its start 2025-06-02T13:00:00+00:00",
    ),
    "one_off end before start": (
        lambda: CalendarEvent.one_off(LATER, AWARE, title="Lunch"),
        (
            "event 'Lunch' ends at 2025-06-02T13:00:00+00:00, at or before its start "
            "2025-06-02T14:00:00+00:00"
        ),
    ),
    "recurring of zero length": (
        lambda: CalendarEvent.recurring("FREQ=DAILY", start=AWARE, end=AWARE, id="ev-7"),
        "event 'ev-7' ends at",
    ),
    "time range backwards": (
        lambda: TimeRange("17:00", "09:00"),
        "Work range 17:00-09:00 ends at or before it starts",
    ),
    "time range empty": (lambda: TimeRange.parse("09:00-09:00"), "Work range 09:00-09:00"),
    "work hours backwards": (
        lambda: WorkHours({Weekday.MONDAY: ["12:00-08:00"]}),
        "Work range 12:00-08:00",
    ),
    "window backwards": (
        lambda: slots(first_day=date(2025, 6, 6), last_day=date(2025, 6, 2)),
        "the window ends on 2025-06-02 before it starts on 2025-06-06",
    ),
    "explain window backwards": (
        lambda: explain(
            CALENDAR, POLICY, first_day=date(2025, 6, 6), last_day=date(2025, 6, 5), now=NOW
        ),
        "the window ends on 2025-06-05 before it starts on 2025-06-06",
    ),
}


@pytest.mark.parametrize(("call", "message"), BACKWARDS.values(), ids=BACKWARDS.keys())
def test_end_not_after_start_is_invalid_range(call: Call, message: str) -> None:
    """Anything that ends at or before its start raises InvalidRange, naming the values."""
    with pytest.raises(InvalidRange) as caught:
        call()

    assert message in str(caught.value)


MALFORMED_RANGES: dict[str, tuple[Call, str]] = {
    "not a time": (lambda: TimeRange("9am", "17:00"), "start='9am' is not a time"),
    "hour 25": (lambda: TimeRange("09:00", "25:00"), "end='25:00' is not a time of day"),
    "starting at 24:00": (
        lambda: TimeRange.parse("24:00-24:00"),
        "start='24:00': '24:00' is the end of the day",
    ),
    "no dash": (lambda: TimeRange.parse("0900"), "'0900' is not a range"),
    "not a pair": (
        lambda: WorkHours({Weekday.MONDAY: [("09:00", "10:00", "11:00")]}),
        "('09:00', '10:00', '11:00') is not a work range",
    ),
    "a number": (lambda: WorkHours({Weekday.MONDAY: [9]}), "9 is not a work range"),
    "six days": (lambda: WorkHours([[]] * 6), "work hours need a mapping of weekday"),
    "unknown weekday": (
        lambda: WorkHours({"monday": ["09:00-10:00"]}),
        "'monday' is not a valid Weekday",
    ),
    "unknown weekday for a location": (
        lambda: WorkHours({}, locations={7: "Room 4"}),
        "7 is not a valid Weekday",
    ),
    "all-day as text": (
        lambda: CalendarEvent.all_day("2025-06-02"),  # type: ignore[arg-type]
        "an all-day event needs `day`, a date",
    ),
    "all-day as datetime": (
        lambda: CalendarEvent.all_day(AWARE),
        "an all-day event needs `day`, a date",
    ),
    "window of datetimes": (lambda: slots(first_day=AWARE), "must be dates, not datetimes"),
    "window of text": (lambda: slots(last_day="2025-06-02"), "must be dates"),
    "window in year 1": (
        lambda: slots(first_day=date(1, 1, 1)),
        "the window 0001-01-01 to 2025-06-02 reaches past the dates",
    ),
    "window in year 9999": (
        lambda: slots(last_day=date(9999, 12, 31)),
        "the window 2025-06-02 to 9999-12-31 reaches past the dates",
    ),
    "first_available past datetime.max": (
        lambda: first_available([CALENDAR], POLICY, now=datetime(9998, 12, 1, tzinfo=UTC)),
        "plus the horizon (60 days, 0:00:00) is past the last date",
    ),
}


@pytest.mark.parametrize(
    ("call", "message"), MALFORMED_RANGES.values(), ids=MALFORMED_RANGES.keys()
)
def test_malformed_ranges_and_windows_are_invalid_range(call: Call, message: str) -> None:
    """Malformed work ranges, all-day dates and windows raise InvalidRange naming the value."""
    with pytest.raises(InvalidRange) as caught:
        call()

    assert message in str(caught.value)


# -- overlapping work hours -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ranges", "shown"),
    [
        (["09:00-12:00", "11:00-13:00"], "09:00-12:00 and 11:00-13:00"),
        (["13:00-17:00", "09:00-13:30"], "09:00-13:30 and 13:00-17:00"),
        (["09:00-17:00", "12:00-13:00"], "09:00-17:00 and 12:00-13:00"),
        (["09:00-12:00", "09:00-12:00"], "09:00-12:00 and 09:00-12:00"),
        (["22:00-24:00", "23:00-23:30"], "22:00-24:00 and 23:00-23:30"),
    ],
    ids=["partial", "unsorted", "contained", "identical", "to-midnight"],
)
def test_overlapping_ranges_on_one_weekday(ranges: list[str], shown: str) -> None:
    """Two ranges of one weekday that share a minute raise OverlappingWorkHours naming both."""
    with pytest.raises(OverlappingWorkHours) as caught:
        WorkHours({Weekday.WEDNESDAY: ranges})

    expected = f"On Wednesday the work ranges {shown} overlap"
    assert expected == str(caught.value)[: len(expected)]


def test_same_ranges_on_different_weekdays_do_not_overlap() -> None:
    """Overlap is judged within one weekday only."""
    hours = WorkHours({Weekday.MONDAY: ["09:00-12:00"], Weekday.TUESDAY: ["09:00-12:00"]})
    expected = (TimeRange.parse("09:00-12:00"),)

    assert (expected, expected) == (hours.ranges(Weekday.MONDAY), hours.ranges(Weekday.TUESDAY))


# -- policy and clinician settings ----------------------------------------------------------------


@pytest.mark.parametrize("grid", [0, 5, 10, 20, 45, 90, 120, -30, "30", 30.0, None, True])
def test_grid_other_than_15_30_60_is_invalid_policy(grid: object) -> None:
    """Only the quarter hour, half hour and full hour are grids (an int, not '30' or 30.0)."""
    with pytest.raises(InvalidPolicy) as caught:
        ApprovalPolicy(grid_minutes=grid)  # type: ignore[arg-type]

    expected = (
        f"grid_minutes must be 60 (full hour), 30 (half hour) or 15 (quarter hour), got {grid!r}."
    )
    assert expected == str(caught.value)


SETTINGS: dict[str, tuple[Call, str]] = {
    "negative notice": (
        lambda: ApprovalPolicy(min_notice=timedelta(hours=-1)),
        "min_notice must not be negative, got datetime.timedelta(days=-1, seconds=82800).",
    ),
    "zero horizon": (lambda: ApprovalPolicy(horizon=timedelta(0)), "horizon must be positive"),
    "negative horizon": (
        lambda: ApprovalPolicy(horizon=timedelta(days=-60)),
        "horizon must be positive, got datetime.timedelta(days=-60).",
    ),
    "horizon not past notice": (
        lambda: ApprovalPolicy(min_notice=timedelta(days=2), horizon=timedelta(days=2)),
        "horizon (2 days, 0:00:00) must be longer than min_notice (2 days, 0:00:00)",
    ),
    "negative buffer before": (
        lambda: ApprovalPolicy(buffer_before=timedelta(minutes=-10)),
        "buffer_before must not be negative",
    ),
    "negative buffer after": (
        lambda: ApprovalPolicy(buffer_after=timedelta(minutes=-10)),
        "buffer_after must not be negative",
    ),
    "negative late window": (
        lambda: ApprovalPolicy(late_cancellation_window=timedelta(hours=-1)),
        "late_cancellation_window must not be negative",
    ),
    "zero daily max": (lambda: ApprovalPolicy(daily_max=0), "daily_max must be positive, got 0."),
    "negative client cap": (
        lambda: ApprovalPolicy(client_open_cap=-1),
        "client_open_cap must be positive, got -1.",
    ),
    "zero pending ttl": (
        lambda: ApprovalPolicy(pending_ttl=timedelta(0)),
        "pending_ttl must be positive",
    ),
    "notice as a number": (
        lambda: ApprovalPolicy(min_notice=24),  # type: ignore[arg-type]
        "min_notice must be a timedelta, got 24.",
    ),
    "horizon a number": (
        lambda: ApprovalPolicy(horizon=60),  # type: ignore[arg-type]
        "horizon must be a timedelta, got 60.",
    ),
    "daily max as text": (
        lambda: ApprovalPolicy(daily_max="3"),  # type: ignore[arg-type]
        "daily_max must be a whole number, got '3'.",
    ),
    "unknown mode": (
        lambda: ApprovalPolicy(mode="sometimes"),  # type: ignore[arg-type]
        (
            "'sometimes' is not a valid SchedulingMode; use one of 'disabled', 'instant', "
            "'requires_approval'."
        ),
    ),
    "zero service length": (
        lambda: Clinician(id="dr-a", service_minutes=0),
        "service_minutes must be positive, got 0.",
    ),
    "negative service length": (
        lambda: Clinician(id="dr-a", service_minutes=-50),
        "service_minutes must be positive, got -50.",
    ),
    "fractional service length": (
        lambda: Clinician(id="dr-a", service_minutes=50.5),  # type: ignore[arg-type]
        "service_minutes must be a whole number, got 50.5.",
    ),
    "boolean service length": (
        lambda: Clinician(id="dr-a", service_minutes=True),
        "service_minutes must be a whole number, got True.",
    ),
    "all-day of zero days": (
        lambda: CalendarEvent.all_day(MONDAY, days=0),
        "days must be positive, got 0.",
    ),
    "all-day of negative days": (
        lambda: CalendarEvent.all_day(MONDAY, days=-2),
        "days must be positive, got -2.",
    ),
}


@pytest.mark.parametrize(("call", "message"), SETTINGS.values(), ids=SETTINGS.keys())
def test_out_of_range_settings_are_invalid_policy(call: Call, message: str) -> None:
    """Zero or negative lengths, notice, horizon, caps, and wrong types raise InvalidPolicy."""
    with pytest.raises(InvalidPolicy) as caught:
        call()

    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: appointment(status="confirmed"), "'confirmed' is not a valid AppointmentStatus"),
        (lambda: appointment(origin="robot"), "'robot' is not a valid Origin"),
        (
            lambda: CalendarEvent(kind="weekly", start=AWARE, end=LATER),  # type: ignore[arg-type]
            "'weekly' is not a valid EventKind; use one of 'one_off', 'all_day', 'recurring'.",
        ),
    ],
    ids=["status", "origin", "event kind"],
)
def test_unknown_enum_values_are_invalid_input(call: Call, message: str) -> None:
    """An unknown status, origin or event kind raises InvalidInput listing the valid values."""
    with pytest.raises(InvalidInput) as caught:
        call()

    assert message in str(caught.value)


# -- recurrence -----------------------------------------------------------------------------------

MALFORMED_RULES = [
    "",
    "   ",
    None,
    5,
    "garbage",
    "FREQ",
    "FREQ==WEEKLY",
    "FREQ=WEEKLY;;",
    "FREQ=SOMETIMES",
    "BYDAY=MO",
    "FREQ=WEEKLY;BYDAY=XX",
    "FREQ=WEEKLY;BYHOUR=25",
    "FREQ=WEEKLY;FOO=1",
    "FREQ=WEEKLY;INTERVAL=0",
    "FREQ=WEEKLY;INTERVAL=-1",
    "FREQ=WEEKLY;COUNT=0",
    "FREQ=WEEKLY;COUNT=abc",
    "FREQ=WEEKLY;COUNT=2;UNTIL=20251231",
    "FREQ=WEEKLY;UNTIL=notadate",
    "FREQ=WEEKLY;UNTIL=20251340T000000Z",
    "FREQ=DAILY;BYSETPOS=0",
    "DTSTART:20250602T090000\nRRULE:FREQ=WEEKLY",
    "FREQ=WEEKLY\nRDATE:20250603T090000",
    "FREQ=WEEKLY;WKST=ZZ",
]


@pytest.mark.parametrize("rule", MALFORMED_RULES, ids=repr)
def test_malformed_rrule_is_invalid_recurrence(rule: object) -> None:
    """A rule that is empty, unparsable or not one RRULE line raises InvalidRecurrence."""
    with pytest.raises(InvalidRecurrence) as caught:
        CalendarEvent.recurring(rule, start=AWARE, end=LATER)  # type: ignore[arg-type]

    message = str(caught.value)
    shown = repr(rule) if isinstance(rule, str) and rule.strip() else "needs an RRULE"
    assert shown in message


def test_rule_dateutil_cannot_expand_is_invalid_recurrence() -> None:
    """dateutil parses 'FREQ=MONTHLY;BYDAY=+8MO' but fails expanding it: refused when built."""
    with pytest.raises(InvalidRecurrence) as caught:
        CalendarEvent.recurring(
            "FREQ=MONTHLY;BYDAY=+8MO", start=AWARE, end=LATER, title="Impossible"
        )

    expected = "RRULE 'FREQ=MONTHLY;BYDAY=+8MO' cannot be expanded"
    assert expected == str(caught.value)[: len(expected)]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYDAY=+6MO",
        "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31;COUNT=2",
        "FREQ=WEEKLY;BYMONTH=9;BYMONTHDAY=31;UNTIL=20301231",
    ],
)
def test_rule_that_never_occurs_is_refused_when_built(rule: str) -> None:
    """A rule with no occurrence at all is refused at once, not scanned to year 9999 per listing."""
    with pytest.raises(InvalidRecurrence) as caught:
        CalendarEvent.recurring(rule, start=AWARE, end=LATER)

    assert "never produces an occurrence" in str(caught.value)


def test_rare_but_possible_rule_is_accepted() -> None:
    """29 February on a Monday happens (every few decades): such a rule is kept."""
    event = CalendarEvent.recurring(
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", start=AWARE, end=LATER
    )

    assert "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO" == event.rrule


# -- off the grid ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "grid"),
    [
        (datetime(2025, 6, 2, 9, 10, tzinfo=NEW_YORK), 30),
        (datetime(2025, 6, 2, 9, 15, tzinfo=NEW_YORK), 30),
        (datetime(2025, 6, 2, 9, 30, tzinfo=NEW_YORK), 60),
        (datetime(2025, 6, 2, 9, 0, 1, tzinfo=NEW_YORK), 15),
        (datetime(2025, 6, 2, 9, 0, 0, 1, tzinfo=NEW_YORK), 15),
        # 13:00 UTC on the grid of UTC, but 18:30 in Kolkata, off a 60-minute grid there.
        (datetime(2025, 6, 2, 13, 0, tzinfo=UTC), 60),
    ],
    ids=["minute-10", "quarter-on-half", "half-on-hour", "a-second", "a-microsecond", "kolkata"],
)
def test_check_slot_off_the_grid(start: datetime, grid: int) -> None:
    """A start that is not on the grid in the clinician's local time raises OffGrid."""
    zone = "Asia/Kolkata" if start.tzinfo is UTC else "America/New_York"
    calendar = ClinicianCalendar(
        clinician=Clinician(id="dr-a", zone=zone, work_hours=WorkHours.weekdays("09:00-17:00"))
    )

    with pytest.raises(OffGrid) as caught:
        check_slot(calendar, ApprovalPolicy(grid_minutes=grid), start, now=NOW)

    expected = (start, grid, zone, f"{start!r} is not on the {grid}-minute grid in {zone}")
    error = caught.value
    assert expected == (error.start, error.grid_minutes, error.zone, str(error)[: len(expected[3])])


def test_off_grid_message_lists_the_allowed_minutes() -> None:
    """The OffGrid message says which minutes past the hour are allowed."""
    start = datetime(2025, 6, 2, 9, 5, tzinfo=NEW_YORK)

    with pytest.raises(OffGrid) as caught:
        check_slot(CALENDAR, ApprovalPolicy(grid_minutes=15), start, now=NOW)

    assert "slot starts must be at :00, :15, :30, :45 past the hour" in str(caught.value)
