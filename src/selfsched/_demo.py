"""A demo clinic bundled with the package, for ``selfsched preview`` and the docs.

One clinician in ``America/New_York`` with a realistic week: split work hours, a default location
on some weekdays, a weekly team meeting, an all-day training day, a one-off supervision hour and a
handful of appointments. The appointments and the one-off events are placed *relative to the week
being previewed*, so whatever week is shown has a mix of available and unavailable slots.

Everything here is fiction; nothing is read from disk or the network.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    Origin,
    Weekday,
    WorkHours,
)

__all__ = ["DEMO_CLINICIAN", "DEMO_POLICY", "demo_calendar", "on_or_after"]

ZONE = "America/New_York"
_TZ = ZoneInfo(ZONE)

DEMO_CLINICIAN = Clinician(
    id="clinician-demo",
    name="Dr. Avery Quinn",
    zone=ZONE,
    work_hours=WorkHours(
        {Weekday(day): ("09:00-12:00", "13:00-17:00") for day in range(5)},
        locations={
            Weekday.MONDAY: "Main Street Office",
            Weekday.WEDNESDAY: "Main Street Office",
            Weekday.THURSDAY: "Telehealth",
        },
    ),
    service_code="90834",
    service_minutes=50,
)
"""Mon-Fri 09:00-12:00 and 13:00-17:00, 50-minute sessions; no default location Tue and Fri."""

DEMO_POLICY = ApprovalPolicy()
"""The library's defaults: approval required, half-hour grid, 24 h notice, 60-day horizon."""

# A weekly meeting anchored in the past: it keeps 09:00 local time across every DST change.
_TEAM_MEETING = CalendarEvent.recurring(
    "FREQ=WEEKLY;BYDAY=WE",
    start=datetime(2025, 1, 1, 9, 0, tzinfo=_TZ),
    end=datetime(2025, 1, 1, 10, 0, tzinfo=_TZ),
    title="Team meeting",
    id="event-team-meeting",
)


def on_or_after(day: date, weekday: Weekday) -> date:
    """The first date on or after *day* that falls on *weekday*."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=_TZ)


def _appointment(
    number: int,
    day: date,
    hour: int,
    status: AppointmentStatus,
    *,
    client: str,
    origin: Origin = Origin.CLIENT,
) -> Appointment:
    start = _at(day, hour)
    return Appointment(
        id=f"appointment-demo-{number}",
        client_id=client,
        clinician_id=DEMO_CLINICIAN.id,
        start=start,
        end=start + DEMO_CLINICIAN.service_length,
        status=status,
        service_code=DEMO_CLINICIAN.service_code,
        location=DEMO_CLINICIAN.work_hours.location(day.weekday()),
        origin=origin,
    )


def demo_calendar(first_day: date) -> ClinicianCalendar:
    """The demo clinician's events and appointments for the 7 days from *first_day*.

    Relative to *first_day* (each on the first such weekday on or after it):

    - Monday 10:00 ``BOOKED``, Tuesday 13:00 ``BOOKED`` (booked by staff),
      Tuesday 15:00 ``PENDING`` (holds its slot), Thursday 09:00 ``BOOKED``;
    - Wednesday 11:00 ``MISSED`` and Thursday 14:00 ``CANCELLED``: these do not block;
    - Thursday 15:00-16:30 a one-off supervision hour, Friday an all-day training day;
    - and every Wednesday 09:00-10:00 the recurring team meeting.
    """
    monday = on_or_after(first_day, Weekday.MONDAY)
    tuesday = on_or_after(first_day, Weekday.TUESDAY)
    wednesday = on_or_after(first_day, Weekday.WEDNESDAY)
    thursday = on_or_after(first_day, Weekday.THURSDAY)
    friday = on_or_after(first_day, Weekday.FRIDAY)
    events = (
        _TEAM_MEETING,
        CalendarEvent.one_off(
            _at(thursday, 15),
            _at(thursday, 16, 30),
            title="Clinical supervision",
            id="event-supervision",
        ),
        CalendarEvent.all_day(friday, title="Training day", id="event-training"),
    )
    booked, pending = AppointmentStatus.BOOKED, AppointmentStatus.PENDING
    appointments = (
        _appointment(1, monday, 10, booked, client="client-a"),
        _appointment(2, tuesday, 13, booked, client="client-b", origin=Origin.STAFF),
        _appointment(3, tuesday, 15, pending, client="client-c"),
        _appointment(4, thursday, 9, booked, client="client-d"),
        _appointment(5, wednesday, 11, AppointmentStatus.MISSED, client="client-e"),
        _appointment(6, thursday, 14, AppointmentStatus.CANCELLED, client="client-f"),
    )
    return ClinicianCalendar(clinician=DEMO_CLINICIAN, events=events, appointments=appointments)
