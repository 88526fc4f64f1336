"""selfsched.settings.no_longer_allowed: would new settings still allow an existing booking?"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    Clinician,
    ClinicianCalendar,
    Reason,
    SchedulingMode,
    WorkHours,
)
from selfsched.settings import no_longer_allowed

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2025, 6, 2, 8, 0, tzinfo=NEW_YORK)  # Monday morning
DOCTOR = Clinician(
    id="dr",
    zone="America/New_York",
    work_hours=WorkHours.weekdays("09:00-17:00"),
    service_minutes=50,
)


def booking(
    hour: int,
    minute: int = 0,
    *,
    minutes: int = 50,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    appointment_id: str = "a-1",
    client_id: str = "client",
) -> Appointment:
    """A client's booking on Wednesday 4 June 2025 at *hour*:*minute* New York time."""
    start = datetime(2025, 6, 4, hour, minute, tzinfo=NEW_YORK)
    return Appointment(
        id=appointment_id,
        client_id=client_id,
        clinician_id="dr",
        start=start,
        end=start + timedelta(minutes=minutes),
        status=status,
    )


def test_unchanged_settings_allow_the_booking_and_it_does_not_block_itself() -> None:
    """The booking is in the calendar too; it does not count against itself."""
    mine = booking(10)
    calendar = ClinicianCalendar(clinician=DOCTOR, appointments=[mine])

    assert frozenset() == no_longer_allowed(
        mine, calendar, ApprovalPolicy(), now=NOW, client_appointments=[mine]
    )


def test_a_coarser_grid_makes_a_half_hour_start_off_grid() -> None:
    """10:30 is not on a full-hour grid."""
    mine = booking(10, 30)
    calendar = ClinicianCalendar(clinician=DOCTOR, appointments=[mine])

    assert frozenset({Reason.OFF_GRID}) == no_longer_allowed(
        mine, calendar, ApprovalPolicy(grid_minutes=60), now=NOW
    )


def test_new_work_hours_leave_a_morning_booking_outside() -> None:
    """Afternoons only: the 10:00 booking is outside the work hours."""
    mine = booking(10)
    afternoons = ClinicianCalendar(
        clinician=Clinician(
            id="dr", zone="America/New_York", work_hours=WorkHours.weekdays("12:00-17:00")
        )
    )

    assert frozenset({Reason.OUTSIDE_WORK_HOURS}) == no_longer_allowed(
        mine, afternoons, ApprovalPolicy(), now=NOW
    )


def test_the_booking_is_judged_with_its_own_length() -> None:
    """A 50-minute booking at 16:00 fits 09:00-17:00 even if the default service is now 90."""
    mine = booking(16)
    longer = ClinicianCalendar(
        clinician=Clinician(
            id="dr",
            zone="America/New_York",
            work_hours=WorkHours.weekdays("09:00-17:00"),
            service_minutes=90,
        )
    )

    assert frozenset() == no_longer_allowed(mine, longer, ApprovalPolicy(), now=NOW)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (AppointmentStatus.PENDING, frozenset({Reason.SELF_SCHEDULING_DISABLED})),
        (AppointmentStatus.BOOKED, frozenset()),
    ],
)
def test_disabling_self_scheduling_affects_pending_requests_only(
    status: AppointmentStatus, expected: frozenset[Reason]
) -> None:
    """A waiting request cannot stand when clients may not book; a booked one stays."""
    mine = booking(10, status=status)
    calendar = ClinicianCalendar(clinician=DOCTOR, appointments=[mine])
    policy = ApprovalPolicy(mode=SchedulingMode.DISABLED)

    assert expected == no_longer_allowed(mine, calendar, policy, now=NOW)


def test_rules_about_booking_now_do_not_unsettle_existing_bookings() -> None:
    """A week's notice, a one-day horizon and a cap of one: the Wednesday booking stays."""
    mine = booking(10)
    other = booking(14, appointment_id="a-2")
    calendar = ClinicianCalendar(clinician=DOCTOR, appointments=[mine, other])
    policy = ApprovalPolicy(
        min_notice=timedelta(days=7), horizon=timedelta(days=8), client_open_cap=1
    )

    assert frozenset() == no_longer_allowed(
        mine, calendar, policy, now=NOW, client_appointments=[mine, other]
    )


def test_a_new_buffer_is_judged_against_the_neighbours() -> None:
    """Two hours' rest after each appointment: 10:00 (ends 10:50) is too close to 12:00."""
    mine = booking(10)
    neighbour = booking(12, appointment_id="a-2", client_id="someone-else")
    calendar = ClinicianCalendar(clinician=DOCTOR, appointments=[mine, neighbour])

    assert frozenset({Reason.BUFFER}) == no_longer_allowed(
        mine, calendar, ApprovalPolicy(buffer_after=timedelta(hours=2)), now=NOW
    )
