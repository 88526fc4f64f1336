"""Examples for the immutable model: work hours, calendar events, clinicians, appointments, policy.

Bad input is covered in test_errors.py; this file checks what valid input becomes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    EventKind,
    Origin,
    SchedulingMode,
    TimeRange,
    Weekday,
    WorkHours,
)
from selfsched.model import StatusValue

NEW_YORK = ZoneInfo("America/New_York")


def appointment(
    start: datetime,
    end: datetime,
    status: AppointmentStatus | StatusValue = AppointmentStatus.BOOKED,
) -> Appointment:
    """An appointment of client c1 with clinician dr-a."""
    return Appointment(
        id="a1", client_id="c1", clinician_id="dr-a", start=start, end=end, status=status
    )


# -- TimeRange ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "end_minute"),
    [
        ("09:00-17:00", time(9), time(17), 17 * 60),
        (" 9:30 - 12:15 ", time(9, 30), time(12, 15), 12 * 60 + 15),
        ("22:00-24:00", time(22), time(0), 24 * 60),
        ("00:00-00:15", time(0), time(0, 15), 15),
    ],
)
def test_time_range_parse(text: str, start: time, end: time, end_minute: int) -> None:
    """'HH:MM-HH:MM' text parses to wall times; '24:00' is midnight at the end of the day."""
    expected = (start, end, end_minute)

    parsed = TimeRange.parse(text)

    assert expected == (parsed.start, parsed.end, parsed.end_minute)


def test_time_range_accepts_time_objects() -> None:
    """A range can be built from time objects, and prints as text again."""
    expected = "08:45-24:00"

    assert expected == str(TimeRange(time(8, 45), time(0)))


def test_time_ranges_sort_by_start() -> None:
    """Ranges order by their start, so a day's ranges read in time order."""
    expected = [TimeRange.parse("08:00-09:00"), TimeRange.parse("13:00-17:00")]

    assert expected == sorted([TimeRange.parse("13:00-17:00"), TimeRange.parse("08:00-09:00")])


# -- WorkHours ------------------------------------------------------------------------------------


def test_work_hours_from_a_mapping_sorts_each_day() -> None:
    """A mapping of weekday to ranges gives each weekday its ranges sorted; others are empty."""
    hours = WorkHours({Weekday.MONDAY: ["13:00-17:00", ("09:00", "12:00")]})
    expected = (TimeRange.parse("09:00-12:00"), TimeRange.parse("13:00-17:00"))

    assert (expected, ()) == (hours.ranges(Weekday.MONDAY), hours.ranges(Weekday.TUESDAY))


def test_work_hours_from_seven_sequences() -> None:
    """Seven sequences are read Monday first."""
    hours = WorkHours([[], [], [], [], [], [], ["10:00-11:00"]])
    expected = (TimeRange.parse("10:00-11:00"),)

    assert (expected, ()) == (hours.ranges(Weekday.SUNDAY), hours.ranges(Weekday.MONDAY))


def test_work_hours_allow_back_to_back_ranges() -> None:
    """Ranges are half-open: 09:00-12:00 and 12:00-17:00 touch but do not overlap."""
    expected = (TimeRange.parse("09:00-12:00"), TimeRange.parse("12:00-17:00"))

    hours = WorkHours({Weekday.FRIDAY: ["12:00-17:00", "09:00-12:00"]})

    assert expected == hours.ranges(Weekday.FRIDAY)


def test_work_hours_weekdays_helper() -> None:
    """WorkHours.weekdays() gives Monday to Friday the same ranges and location; weekends off."""
    hours = WorkHours.weekdays("09:00-17:00", location="Main Street Office")
    nine_to_five = (TimeRange.parse("09:00-17:00"),)
    expected_ranges = (nine_to_five,) * 5 + ((), ())
    expected_locations = ("Main Street Office",) * 5 + (None, None)

    assert (expected_ranges, expected_locations) == (hours.days, hours.locations)


def test_work_hours_location_per_weekday() -> None:
    """Each weekday has its own default location, or None ("No Location Set")."""
    hours = WorkHours(
        {Weekday.MONDAY: ["09:00-12:00"], Weekday.TUESDAY: ["09:00-12:00"]},
        locations={Weekday.MONDAY: "Room 4"},
    )
    expected = ("Room 4", None, None)

    assert expected == (
        hours.location(Weekday.MONDAY),
        hours.location(Weekday.TUESDAY),
        hours.location(Weekday.SUNDAY),
    )


# -- CalendarEvent --------------------------------------------------------------------------------


def test_one_off_event_is_stored_in_utc() -> None:
    """A one-off event keeps its instants, normalised to UTC; its duration is elapsed time."""
    event = CalendarEvent.one_off(
        datetime(2025, 6, 2, 9, 0, tzinfo=NEW_YORK),
        datetime(2025, 6, 2, 10, 30, tzinfo=NEW_YORK),
        title="Supervision",
    )
    expected = (
        EventKind.ONE_OFF,
        datetime(2025, 6, 2, 13, 0, tzinfo=UTC),
        datetime(2025, 6, 2, 14, 30, tzinfo=UTC),
        UTC,
        timedelta(minutes=90),
    )

    assert expected == (
        event.kind,
        event.start,
        event.end,
        event.start.tzinfo if event.start else None,
        event.duration,
    )


def test_all_day_event_spans_whole_days() -> None:
    """An all-day event is a local date and a number of days; its duration is whole days."""
    event = CalendarEvent.all_day(date(2025, 6, 2), days=3)
    expected = (EventKind.ALL_DAY, date(2025, 6, 2), 3, None, timedelta(days=3))

    assert expected == (event.kind, event.day, event.days, event.start, event.duration)


def test_recurring_event_keeps_rule_text_and_exdates_in_utc() -> None:
    """A recurring event stores its RRULE text (without an 'RRULE:' prefix) and UTC exdates."""
    event = CalendarEvent.recurring(
        "RRULE:FREQ=WEEKLY;BYDAY=MO",
        start=datetime(2025, 6, 2, 12, 0, tzinfo=NEW_YORK),
        end=datetime(2025, 6, 2, 13, 0, tzinfo=NEW_YORK),
        exdates=[datetime(2025, 6, 9, 12, 0, tzinfo=NEW_YORK)],
    )
    expected = ("FREQ=WEEKLY;BYDAY=MO", (datetime(2025, 6, 9, 16, 0, tzinfo=UTC),))

    assert expected == (event.rrule, event.exdates)


# -- Clinician ------------------------------------------------------------------------------------


def test_clinician_defaults() -> None:
    """A clinician defaults to UTC, no work hours, no service code and a 50-minute service."""
    clinician = Clinician(id="dr-a")
    expected = ("UTC", WorkHours({}), None, 50, timedelta(minutes=50))

    assert expected == (
        clinician.zone,
        clinician.work_hours,
        clinician.service_code,
        clinician.service_minutes,
        clinician.service_length,
    )


def test_clinician_zone_from_zoneinfo_is_stored_as_key() -> None:
    """A ZoneInfo given as zone is stored as its IANA key; tz gives the ZoneInfo back."""
    clinician = Clinician(id="dr-a", zone=NEW_YORK)
    expected = ("America/New_York", NEW_YORK)

    assert expected == (clinician.zone, clinician.tz)


# -- Appointment ----------------------------------------------------------------------------------


def test_appointment_is_normalised() -> None:
    """Instants are stored in UTC; status and origin strings become enum members."""
    appt = Appointment(
        id="a1",
        client_id="c1",
        clinician_id="dr-a",
        start=datetime(2025, 6, 2, 9, 0, tzinfo=NEW_YORK),
        end=datetime(2025, 6, 2, 9, 50, tzinfo=NEW_YORK),
        status="pending",
        origin="staff",
        created_at=datetime(2025, 5, 30, 8, 0, tzinfo=NEW_YORK),
    )
    expected = (
        datetime(2025, 6, 2, 13, 0, tzinfo=UTC),
        datetime(2025, 6, 2, 13, 50, tzinfo=UTC),
        datetime(2025, 5, 30, 12, 0, tzinfo=UTC),
        AppointmentStatus.PENDING,
        Origin.STAFF,
        1,
    )

    assert expected == (
        appt.start,
        appt.end,
        appt.created_at,
        appt.status,
        appt.origin,
        appt.version,
    )


@pytest.mark.parametrize(
    ("start_hour", "end_hour", "overlaps"),
    [
        (8, 9, False),  # ends where the appointment starts
        (10, 11, False),  # starts where the appointment ends
        (8, 10, True),
        (9, 10, True),
        (9, 9.5, True),
        (7, 12, True),
        (11, 12, False),
    ],
)
def test_appointment_overlaps_is_half_open(
    start_hour: int, end_hour: float, overlaps: bool
) -> None:
    """An appointment 09:00-10:00 overlaps [start, end) only if they share an instant."""
    day = datetime(2025, 6, 2, tzinfo=UTC)
    appt = appointment(day + timedelta(hours=9), day + timedelta(hours=10))

    actual = appt.overlaps(day + timedelta(hours=start_hour), day + timedelta(hours=end_hour))

    assert overlaps == actual


@pytest.mark.parametrize(
    ("status", "is_open"),
    [
        (AppointmentStatus.PENDING, True),
        (AppointmentStatus.BOOKED, True),
        (AppointmentStatus.REJECTED, False),
        (AppointmentStatus.MISSED, False),
        (AppointmentStatus.CANCELLED, False),
        (AppointmentStatus.EXPIRED, False),
    ],
)
def test_open_statuses(status: AppointmentStatus, is_open: bool) -> None:
    """PENDING and BOOKED are open; every other status is final."""
    start = datetime(2025, 6, 2, 13, 0, tzinfo=UTC)
    appt = appointment(start, start + timedelta(minutes=50), status)

    assert (is_open, is_open) == (status.is_open, appt.is_open)


def test_status_values_are_stable_strings() -> None:
    """Stored status values are these exact strings."""
    expected = ["pending", "booked", "rejected", "missed", "cancelled", "expired"]

    assert expected == [str(s) for s in AppointmentStatus]


# -- ApprovalPolicy -------------------------------------------------------------------------------


def test_policy_documented_defaults() -> None:
    """Every setting has the documented default."""
    policy = ApprovalPolicy()
    expected = {
        "mode": SchedulingMode.REQUIRES_APPROVAL,
        "grid_minutes": 30,
        "min_notice": timedelta(hours=24),
        "horizon": timedelta(days=60),
        "buffer_before": timedelta(0),
        "buffer_after": timedelta(0),
        "daily_max": None,
        "client_open_cap": None,
        "pending_holds_slot": True,
        "late_cancellation_window": timedelta(hours=24),
        "pending_ttl": None,
    }

    assert expected == attrs.asdict(policy, recurse=False)


@pytest.mark.parametrize("grid", [15, 30, 60])
def test_policy_accepts_the_three_grids(grid: int) -> None:
    """Quarter hour, half hour and full hour are the grids a practice may choose."""
    assert grid == ApprovalPolicy(grid_minutes=grid).grid_minutes


def test_policy_mode_from_string() -> None:
    """A mode given as its stored string becomes the enum member."""
    expected = SchedulingMode.DISABLED

    assert expected is ApprovalPolicy(mode="disabled").mode


# -- immutability ---------------------------------------------------------------------------------


def test_values_are_frozen() -> None:
    """Model values cannot be changed in place; changes go through attrs.evolve."""
    policy = ApprovalPolicy()

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        policy.grid_minutes = 15  # type: ignore[misc]

    expected = 15
    assert expected == attrs.evolve(policy, grid_minutes=15).grid_minutes


def test_calendar_collections_become_tuples() -> None:
    """A calendar turns its events and appointments into tuples, so it cannot change later."""
    event = CalendarEvent.all_day(date(2025, 6, 2))
    calendar = ClinicianCalendar(clinician=Clinician(id="dr-a"), events=[event])
    expected = ((event,), ())

    assert expected == (calendar.events, calendar.appointments)
