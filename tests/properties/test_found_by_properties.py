"""Regression tests for library bugs the property tests found, each as its shrunk example."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    Clinician,
    ClinicianCalendar,
    Reason,
    WorkHours,
    available_slots,
    check_slot,
    explain,
)

MONDAY = date(2024, 1, 1)


def _office(zone: str = "UTC", days: tuple[int, ...] = (0,)) -> Clinician:
    return Clinician(
        id="clinician-1",
        zone=zone,
        work_hours=WorkHours(dict.fromkeys(days, ["09:00-17:00"])),
        service_minutes=50,
    )


def test_min_notice_counts_the_microseconds_of_now() -> None:
    """A slot 1 µs short of the minimum notice is not offered (``now`` was rounded down)."""
    calendar = ClinicianCalendar(clinician=_office())
    now = datetime(2023, 12, 31, 9, 0, 0, 1, tzinfo=UTC)  # 24 h before 09:00, plus 1 µs
    slots = available_slots(calendar, ApprovalPolicy(), first_day=MONDAY, last_day=MONDAY, now=now)
    assert (datetime(2024, 1, 1, 9, 0, tzinfo=UTC), False) == (slots[0].start, slots[0].available)
    assert (datetime(2024, 1, 1, 9, 30, tzinfo=UTC), True) == (slots[1].start, slots[1].available)


def test_past_counts_the_microseconds_of_now() -> None:
    """A slot that started 1 µs ago is in the past for staff, not only too soon."""
    calendar = ClinicianCalendar(clinician=_office())
    now = datetime(2024, 1, 1, 9, 0, 0, 1, tzinfo=UTC)
    checked = check_slot(calendar, ApprovalPolicy(), datetime(2024, 1, 1, 9, tzinfo=UTC), now=now)
    assert frozenset({Reason.PAST}) == checked.reasons


def test_horizon_adds_microseconds_exactly() -> None:
    """``now + horizon`` is exact: sub-second parts of both add up to a whole second."""
    calendar = ClinicianCalendar(clinician=_office())
    policy = ApprovalPolicy(
        min_notice=timedelta(hours=1), horizon=timedelta(days=1, microseconds=600_000)
    )
    now = datetime(2023, 12, 31, 8, 59, 59, 500_000, tzinfo=UTC)  # + horizon = 09:00:00.1
    staff = explain(calendar, policy, first_day=MONDAY, last_day=MONDAY, now=now)
    assert (datetime(2024, 1, 1, 9, tzinfo=UTC), frozenset()) == (staff[0].start, staff[0].reasons)
    assert frozenset({Reason.HORIZON}) == staff[1].reasons


def test_client_cap_counts_an_appointment_starting_just_after_now() -> None:
    """An open appointment 0.5 s after ``now`` is a future one and counts against the cap."""
    calendar = ClinicianCalendar(clinician=_office())
    policy = ApprovalPolicy(client_open_cap=1)
    now = datetime(2023, 12, 25, 9, 0, 0, 100_000, tzinfo=UTC)
    soon = Appointment(
        id="a-1",
        client_id="client-1",
        clinician_id="clinician-9",
        start=datetime(2023, 12, 25, 9, 0, 0, 600_000, tzinfo=UTC),
        end=datetime(2023, 12, 25, 10, tzinfo=UTC),
        status=AppointmentStatus.BOOKED,
    )
    slots = available_slots(
        calendar,
        policy,
        first_day=MONDAY,
        last_day=MONDAY,
        now=now,
        client_id="client-1",
        client_appointments=[soon],
    )
    assert [False] * len(slots) == [s.available for s in slots]
