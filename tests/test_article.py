"""One test per sentence of the help article (seed/client-self-scheduling.txt), quoted verbatim.

The file follows the article's parts, in order. Only sentences about what a client is offered,
which the core (model + slot calculator) can show, are here so far. The sentences about requests,
approvals, cancellations and who may approve belong to the request workflow and are added under
their part's header when that is tested.
"""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime
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
    SchedulingMode,
    Slot,
    Weekday,
    WorkHours,
    available_slots,
    check_slot,
    errors,
)
from selfsched.errors import InvalidPolicy

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2025, 6, 2)
TUESDAY = date(2025, 6, 3)
NOW = datetime(2025, 5, 26, 12, 0, tzinfo=UTC)


def ny(hour: int, minute: int = 0, day: int = 2) -> datetime:
    """An aware New York wall time in June 2025 (Monday 2 June by default)."""
    return datetime(2025, 6, day, hour, minute, tzinfo=NEW_YORK)


def clinician(work_hours: WorkHours | None = None, minutes: int = 60) -> Clinician:
    """dr-a in New York, by default Monday to Friday 09:00-12:00 with a 60-minute service."""
    return Clinician(
        id="dr-a",
        zone="America/New_York",
        work_hours=work_hours or WorkHours.weekdays("09:00-12:00"),
        service_minutes=minutes,
        service_code="90834",
    )


def offered(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    first_day: date = MONDAY,
    last_day: date = MONDAY,
) -> list[tuple[str, bool]]:
    """The client view as ("Day HH:MM" in New York, available) pairs."""
    found = available_slots(calendar, policy, first_day=first_day, last_day=last_day, now=NOW)
    return [(s.start.astimezone(NEW_YORK).strftime("%a %H:%M"), s.available) for s in found]


# == Introduction: the two methods, and turning them off ==========================================


def test_there_are_two_methods_and_an_off_switch() -> None:
    """- Client Self Scheduling without Clinician Approval
    - Client Self Scheduling requiring Clinician or Staff Approval
    Please review each of these methods in this article to determine which one will work best
    for you.
    """
    expected = {"instant", "requires_approval", "disabled"}

    assert expected == {str(mode) for mode in SchedulingMode}


def test_when_disabled_clients_can_change_nothing() -> None:
    """If either of these features are disabled, the client can view their appointments when
    they login to the Client Portal but they can't make any changes.

    What the core shows so far: a practice can switch self-scheduling off, and the refusal it
    will raise is a SelfschedError that is not an input error. Viewing and the refusal itself
    belong to the service layer.
    """
    policy = ApprovalPolicy(mode="disabled")
    expected = (SchedulingMode.DISABLED, True, False)

    assert expected == (
        policy.mode,
        issubclass(errors.SelfSchedulingDisabled, errors.SelfschedError),
        issubclass(errors.SelfSchedulingDisabled, ValueError),
    )


# == Client Self Scheduling without Clinician Approvals: what clients are offered =================


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        (60, ["Mon 09:00", "Mon 10:00", "Mon 11:00"]),
        (30, ["Mon 09:00", "Mon 09:30", "Mon 10:00", "Mon 10:30", "Mon 11:00"]),
        (
            15,
            [
                "Mon 09:00",
                "Mon 09:15",
                "Mon 09:30",
                "Mon 09:45",
                "Mon 10:00",
                "Mon 10:15",
                "Mon 10:30",
                "Mon 10:45",
                "Mon 11:00",
            ],
        ),
    ],
    ids=["full-hour", "half-hour", "quarter-hour"],
)
def test_full_half_or_quarter_hour(grid: int, expected: list[str]) -> None:
    """Clients can book appointments on the Full Hour, Half Hour or Quarter Hour."""
    calendar = ClinicianCalendar(clinician=clinician())

    actual = offered(calendar, ApprovalPolicy(grid_minutes=grid))

    assert expected == [when for when, _ in actual]


@pytest.mark.parametrize("grid", [5, 10, 20, 45])
def test_no_other_grid(grid: int) -> None:
    """Clients can book appointments on the Full Hour, Half Hour or Quarter Hour.

    (and on nothing else: any other grid is refused)
    """
    with pytest.raises(InvalidPolicy):
        ApprovalPolicy(grid_minutes=grid)


def test_work_hours_decide_the_slots_of_each_day() -> None:
    """1. Configure each clinician's work hours settings so clients can only see the desired time
    slots that are available for each day.
    """
    hours = WorkHours({Weekday.MONDAY: ["09:00-11:00"], Weekday.TUESDAY: ["14:00-15:00"]})
    calendar = ClinicianCalendar(clinician=clinician(hours))
    expected = [
        ("Mon 09:00", True),
        ("Mon 10:00", True),
        ("Tue 14:00", True),
    ]

    assert expected == offered(calendar, ApprovalPolicy(grid_minutes=60), MONDAY, TUESDAY)


def test_calendar_events_block_time_slots() -> None:
    """If a clinician doesn’t want certain time slots available they should create Calendar
    Events to block them out so clients can't schedule during those time slots.
    """  # noqa: RUF002  (the article's own apostrophe, quoted verbatim)
    lunch = CalendarEvent.one_off(ny(10), ny(11), title="Blocked")
    calendar = ClinicianCalendar(clinician=clinician(), events=[lunch])
    policy = ApprovalPolicy(grid_minutes=60)
    expected = (
        [("Mon 09:00", True), ("Mon 10:00", False), ("Mon 11:00", True)],
        False,
    )

    assert expected == (
        offered(calendar, policy),
        check_slot(calendar, policy, ny(10), now=NOW).bookable,
    )


@pytest.mark.parametrize("status", [AppointmentStatus.BOOKED, AppointmentStatus.PENDING])
def test_a_taken_slot_shows_unavailable(status: AppointmentStatus) -> None:
    """If a time slot is taken, the client will see "Unavailable".

    The slot stays in the list, marked not available, rather than disappearing.
    """
    taken = Appointment(
        id="a1",
        client_id="someone-else",
        clinician_id="dr-a",
        start=ny(10),
        end=ny(11),
        status=status,
    )
    calendar = ClinicianCalendar(clinician=clinician(), appointments=[taken])
    expected = [("Mon 09:00", True), ("Mon 10:00", False), ("Mon 11:00", True)]

    assert expected == offered(calendar, ApprovalPolicy(grid_minutes=60))


def test_client_never_sees_or_picks_a_service_code() -> None:
    """The service code used for the appointment will automatically default to whatever the
    clinician has designated in their clinician service code settings. The client will not see
    the service code or be able to pick a service code.

    The clinician carries the designated code; what a client is shown (a Slot) has no field for
    it, and nothing the client asks through (available_slots, check_slot) takes one.
    """
    slot_fields = [f.name for f in attrs.fields(Slot)]
    parameters = set(inspect.signature(available_slots).parameters) | set(
        inspect.signature(check_slot).parameters
    )
    expected: tuple[str, list[str], set[str]] = ("90834", ["start", "end", "available"], set())

    assert expected == (
        clinician().service_code,
        slot_fields,
        {p for p in parameters if "service" in p or "code" in p},
    )


def test_location_is_the_weekday_default_or_none() -> None:
    """The service locations shown on the client's appointment creation window will show "No
    Location Set" unless the clinician has set a default for each day of the week in their
    Clinician Work Hours settings.

    None stands for "No Location Set".
    """
    hours = WorkHours(
        {Weekday.MONDAY: ["09:00-12:00"], Weekday.TUESDAY: ["09:00-12:00"]},
        locations={Weekday.MONDAY: "Main Street Office"},
    )
    expected = ["Main Street Office", None, None, None, None, None, None]

    assert expected == [hours.location(day) for day in Weekday]


# Still to come in this part, with the booking and request workflow: "This method allows a client
# to login ... added to the clinician's schedule immediately ...", "Both the service location and
# service code can be updated later ..." and "If a client later cancels their appointment ...".


# == Client Self Scheduling Requiring Clinician or Staff Approval ==================================
# (request, approval, rejection and cancellation sentences: added with the request workflow)


# == Who can approve appointment requests? =========================================================
# (roles and the approve permission: added with the permissions tests)
