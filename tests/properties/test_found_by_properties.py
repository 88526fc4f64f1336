"""Regression tests for library bugs the property tests found, each as its shrunk example."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
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
        work_hours=WorkHours({day: ["09:00-17:00"] for day in days}),
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


def test_recurring_first_occurrence_at_the_second_of_a_repeated_time() -> None:
    """A series starting at 01:00 EST (the second 01:00 of a fall-back) blocks 01:00 EST."""
    ny = ZoneInfo("America/New_York")
    start = datetime(2025, 11, 2, 1, 0, tzinfo=ny, fold=1)
    event = CalendarEvent.recurring(
        "FREQ=DAILY;COUNT=2", start=start, end=start.astimezone(UTC) + timedelta(minutes=30)
    )
    clinician = Clinician(
        id="clinician-1",
        zone="America/New_York",
        work_hours=WorkHours({day: ["00:00-03:00"] for day in range(7)}),
        service_minutes=30,
    )
    calendar = ClinicianCalendar(clinician=clinician, events=[event])
    policy = ApprovalPolicy(min_notice=timedelta(minutes=1))
    staff = explain(
        calendar,
        policy,
        first_day=date(2025, 11, 2),
        last_day=date(2025, 11, 2),
        now=datetime(2025, 10, 1, tzinfo=UTC),
    )
    blocked = [s.start for s in staff if s.reasons]
    assert [start.astimezone(UTC)] == blocked


ST_JOHNS = ZoneInfo("America/St_Johns")
FALL_BACK_EVE = date(2006, 10, 28)  # at 00:01 NDT on the 29th the clocks went back to 23:01 NST


def _st_johns(ranges: dict[int, list[str]], minutes: int = 15) -> Clinician:
    return Clinician(
        id="clinician-1",
        zone="America/St_Johns",
        work_hours=WorkHours(ranges),
        service_minutes=minutes,
    )


def _st_johns_slots(calendar: ClinicianCalendar, last_day: date) -> list[tuple[str, bool]]:
    slots = available_slots(
        calendar,
        ApprovalPolicy(grid_minutes=15, min_notice=timedelta(minutes=1)),
        first_day=FALL_BACK_EVE,
        last_day=last_day,
        now=datetime(2006, 10, 1, tzinfo=UTC),
    )
    return [(s.start.astimezone(ST_JOHNS).isoformat(), s.available) for s in slots]


def test_a_late_hour_repeated_after_midnight_is_offered_twice() -> None:
    """St. John's repeated 23:01-23:59 after midnight: 23:30 is offered at both instants.

    The range ends at the second 23:45, so the first 23:45 (its slot ends at 00:00 NDT of the
    29th) lies inside it and is offered too (issue 7, item 10).
    """
    calendar = ClinicianCalendar(clinician=_st_johns({5: ["23:00-23:45"]}))
    expected = [
        ("2006-10-28T23:00:00-02:30", True),
        ("2006-10-28T23:15:00-02:30", True),
        ("2006-10-28T23:30:00-02:30", True),
        ("2006-10-28T23:45:00-02:30", True),
        ("2006-10-28T23:15:00-03:30", True),
        ("2006-10-28T23:30:00-03:30", True),
    ]
    assert expected == _st_johns_slots(calendar, FALL_BACK_EVE)


def test_a_late_repeated_slot_is_blocked_by_an_event_after_the_date_ends() -> None:
    """An event in the repeated hour, after the next date began, still blocks its slot."""
    second = datetime(2006, 10, 28, 23, 30, tzinfo=ST_JOHNS, fold=1)
    event = CalendarEvent.one_off(second, second.astimezone(UTC) + timedelta(minutes=5))
    calendar = ClinicianCalendar(clinician=_st_johns({5: ["23:00-23:45"]}), events=[event])
    assert ("2006-10-28T23:30:00-03:30", False) == _st_johns_slots(calendar, FALL_BACK_EVE)[-1]
    assert [True] * 5 == [ok for _, ok in _st_johns_slots(calendar, FALL_BACK_EVE)[:-1]]


def test_slots_stay_in_time_order_when_a_date_repeats_its_late_hour() -> None:
    """The repeated 23:30 of the 28th comes after 00:00 of the 29th, and is listed after it.

    (The 28th's range ends at the second 23:45, so it holds the first 23:45 too.)
    """
    calendar = ClinicianCalendar(clinician=_st_johns({5: ["23:15-23:45"], 6: ["00:00-00:30"]}))
    expected = [
        ("2006-10-28T23:15:00-02:30", True),
        ("2006-10-28T23:30:00-02:30", True),
        ("2006-10-28T23:45:00-02:30", True),
        ("2006-10-29T00:00:00-02:30", True),
        ("2006-10-28T23:15:00-03:30", True),
        ("2006-10-28T23:30:00-03:30", True),
        ("2006-10-29T00:00:00-03:30", True),
        ("2006-10-29T00:15:00-03:30", True),
    ]
    assert expected == _st_johns_slots(calendar, date(2006, 10, 29))


def _booked(start: datetime, end: datetime) -> Appointment:
    return Appointment(
        id="appointment-0",
        client_id="client-1",
        clinician_id="clinician-1",
        start=start,
        end=end,
        status=AppointmentStatus.BOOKED,
    )


def _monday_views(
    calendar: ClinicianCalendar, policy: ApprovalPolicy
) -> tuple[dict[str, frozenset[Reason]], dict[str, bool]]:
    """Monday's staff reasons and client availability, by UTC wall time."""
    now = datetime(2023, 12, 1, tzinfo=UTC)
    staff = explain(calendar, policy, first_day=MONDAY, last_day=MONDAY, now=now)
    client = available_slots(calendar, policy, first_day=MONDAY, last_day=MONDAY, now=now)
    return (
        {s.start.strftime("%H:%M"): s.reasons for s in staff},
        {s.start.strftime("%H:%M"): s.available for s in client},
    )


def test_buffer_of_an_appointment_with_microseconds_is_not_rounded_away() -> None:
    """A booking 10:00:00.000001-10:50:00.000001 with 60 s of buffer: its buffer before runs
    09:59:00.000001-10:00:00.000001, so it reaches 1 µs into the 10:00 slot. The start's
    microseconds were floored, the buffer ended at 10:00 and BUFFER was missing (found on New
    York's transition day in 2000; the shape needs no DST)."""
    start = datetime(2024, 1, 1, 10, 0, 0, 1, tzinfo=UTC)
    calendar = ClinicianCalendar(
        clinician=_office(), appointments=[_booked(start, start + timedelta(minutes=50))]
    )
    policy = ApprovalPolicy(buffer_after=timedelta(seconds=60))
    expected = {
        "09:00": frozenset(),
        "09:30": frozenset({Reason.BOOKED, Reason.BUFFER}),
        "10:00": frozenset({Reason.BOOKED, Reason.BUFFER}),
        "10:30": frozenset({Reason.BOOKED, Reason.BUFFER}),
        "11:00": frozenset(),
    }

    staff, client = _monday_views(calendar, policy)

    assert expected == {k: staff[k] for k in expected}
    assert {k: not v for k, v in expected.items()} == {k: client[k] for k in expected}


def test_a_buffer_under_one_second_still_keeps_its_time() -> None:
    """Half a second of buffer around a 10:00-10:45 booking blocks the 15-minute slots that
    touch it, 09:45 (ends 10:00) and 10:45; the buffer was truncated to zero whole seconds."""
    start = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    office = Clinician(
        id="clinician-1", work_hours=WorkHours({0: ["09:00-17:00"]}), service_minutes=15
    )
    calendar = ClinicianCalendar(
        clinician=office, appointments=[_booked(start, start + timedelta(minutes=45))]
    )
    policy = ApprovalPolicy(grid_minutes=15, buffer_after=timedelta(milliseconds=500))
    expected = {
        "09:30": frozenset(),
        "09:45": frozenset({Reason.BUFFER}),
        "10:00": frozenset({Reason.BOOKED}),
        "10:30": frozenset({Reason.BOOKED}),
        "10:45": frozenset({Reason.BUFFER}),
        "11:00": frozenset(),
    }

    staff, client = _monday_views(calendar, policy)

    assert expected == {k: staff[k] for k in expected}
    assert {k: not v for k, v in expected.items()} == {k: client[k] for k in expected}


def test_range_ending_where_lord_howe_falls_back_ends_at_the_first_0130() -> None:
    """Lord Howe, 26 March 2000: 02:00 (+11) became 01:30 (+10:30). A range 00:00-01:30 ends the
    first time the clock shows 01:30 (14:30 UTC): a 50-minute slot at 01:00 (+11) would run to
    01:50, past the range. The range end was taken as the second 01:30 (15:00 UTC)."""
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    sunday = date(2000, 3, 26)
    office = Clinician(
        id="clinician-1",
        zone="Australia/Lord_Howe",
        work_hours=WorkHours({6: ["00:00-01:30", "02:00-03:30"]}),
        service_minutes=50,
    )
    now = datetime(2000, 3, 24, tzinfo=lord_howe)
    expected = ["00:00+1100", "00:30+1100", "02:00+1030", "02:30+1030"]

    slots = available_slots(
        ClinicianCalendar(clinician=office),
        ApprovalPolicy(),
        first_day=sunday,
        last_day=sunday,
        now=now,
    )

    assert expected == [s.start.astimezone(lord_howe).strftime("%H:%M%z") for s in slots]
