"""Examples for the slot calculator: what a client is offered and why staff see a slot as taken.

Unless a test says otherwise: clinician dr-a works in New York, Monday to Friday 09:00-12:00, with
a 60-minute service on the full-hour grid; the week is 2 June 2025 (EDT, UTC-4, so 09:00 local is
13:00 UTC); ``now`` is a week earlier, so notice and horizon stay out of the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    ExplainedSlot,
    Reason,
    Slot,
    SlotCheck,
    Weekday,
    WorkHours,
    available_slots,
    check_slot,
    explain,
    first_available,
)
from selfsched.errors import OffGrid

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2025, 6, 2)
TUESDAY = date(2025, 6, 3)
NOW = datetime(2025, 5, 26, 12, 0, tzinfo=UTC)
HOUR_GRID = ApprovalPolicy(grid_minutes=60)
NOTHING: frozenset[Reason] = frozenset()


def ny(hour: int, minute: int = 0, day: int = 2, month: int = 6) -> datetime:
    """An aware New York wall time in 2025 (2 June by default)."""
    return datetime(2025, month, day, hour, minute, tzinfo=NEW_YORK)


def clinician(
    *ranges: str,
    zone: str = "America/New_York",
    minutes: int = 60,
    id: str = "dr-a",  # noqa: A002
) -> Clinician:
    """A clinician working *ranges* (09:00-12:00 by default) Monday to Friday."""
    return Clinician(
        id=id,
        zone=zone,
        work_hours=WorkHours.weekdays(*(ranges or ("09:00-12:00",))),
        service_minutes=minutes,
    )


def appt(
    start: datetime,
    end: datetime,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    *,
    client: str = "c9",
    clinician_id: str = "dr-a",
    id: str = "",  # noqa: A002
) -> Appointment:
    """An appointment; by default another client's BOOKED appointment with dr-a."""
    return Appointment(
        id=id or f"{clinician_id}-{client}-{start.isoformat()}",
        client_id=client,
        clinician_id=clinician_id,
        start=start,
        end=end,
        status=status,
    )


def calendar(
    who: Clinician | None = None,
    *,
    events: Iterable[CalendarEvent] = (),
    appointments: Iterable[Appointment] = (),
) -> ClinicianCalendar:
    """dr-a's calendar (or *who*'s) with the given events and appointments."""
    return ClinicianCalendar(clinician=who or clinician(), events=events, appointments=appointments)


def offered(
    cal: ClinicianCalendar,
    policy: ApprovalPolicy = HOUR_GRID,
    *,
    first_day: date = MONDAY,
    last_day: date = MONDAY,
    now: datetime = NOW,
    fmt: str = "%H:%M",
    **client: object,
) -> list[tuple[str, bool]]:
    """The client view as (New York wall time, available) pairs."""
    slots = available_slots(
        cal,
        policy,
        first_day=first_day,
        last_day=last_day,
        now=now,
        **client,  # type: ignore[arg-type]
    )
    return [(s.start.astimezone(NEW_YORK).strftime(fmt), s.available) for s in slots]


def reasons(
    cal: ClinicianCalendar,
    policy: ApprovalPolicy = HOUR_GRID,
    *,
    first_day: date = MONDAY,
    last_day: date = MONDAY,
    now: datetime = NOW,
    fmt: str = "%H:%M",
    **client: object,
) -> dict[str, frozenset[Reason]]:
    """The staff view as New York wall time -> reasons."""
    slots = explain(
        cal,
        policy,
        first_day=first_day,
        last_day=last_day,
        now=now,
        **client,  # type: ignore[arg-type]
    )
    return {s.start.astimezone(NEW_YORK).strftime(fmt): s.reasons for s in slots}


def times(pairs: Sequence[tuple[str, bool]]) -> list[str]:
    """Just the wall times of (time, available) pairs."""
    return [t for t, _ in pairs]


# -- grid, length, work hours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "minutes", "expected"),
    [
        (60, 60, ["09:00", "10:00", "11:00"]),
        (30, 50, ["09:00", "09:30", "10:00", "10:30", "11:00"]),
        (
            15,
            45,
            [
                "09:00",
                "09:15",
                "09:30",
                "09:45",
                "10:00",
                "10:15",
                "10:30",
                "10:45",
                "11:00",
                "11:15",
            ],
        ),
        (30, 180, ["09:00"]),
        (60, 240, []),
    ],
    ids=["hour-60", "half-50", "quarter-45", "fills-the-range", "longer-than-the-range"],
)
def test_starts_lie_on_the_grid_and_the_slot_fits_the_range(
    grid: int, minutes: int, expected: list[str]
) -> None:
    """Starts are grid wall times whose whole service length fits inside 09:00-12:00."""
    cal = calendar(clinician(minutes=minutes))

    assert expected == times(offered(cal, ApprovalPolicy(grid_minutes=grid)))


def test_slot_lasts_the_service_length() -> None:
    """A slot is [start, start + service length): 09:00-09:50 EDT for a 50-minute service."""
    expected = Slot(
        datetime(2025, 6, 2, 13, 0, tzinfo=UTC), datetime(2025, 6, 2, 13, 50, tzinfo=UTC), True
    )

    slots = available_slots(
        calendar(clinician(minutes=50)),
        ApprovalPolicy(),
        first_day=MONDAY,
        last_day=MONDAY,
        now=NOW,
    )

    assert expected == slots[0]


def test_range_off_the_grid_starts_at_the_next_grid_time() -> None:
    """A range starting 09:10 offers its first slot at 09:30 on the half-hour grid."""
    expected = ["09:30", "10:00", "10:30", "11:00", "11:30"]

    cal = calendar(clinician("09:10-12:00", minutes=30))

    assert expected == times(offered(cal, ApprovalPolicy(grid_minutes=30)))


def test_only_days_with_work_hours_have_slots() -> None:
    """Friday to Monday: the weekend has no work hours and so no slots."""
    expected = ["Fri 09:00", "Fri 10:00", "Fri 11:00", "Mon 09:00", "Mon 10:00", "Mon 11:00"]

    pairs = offered(
        calendar(), first_day=date(2025, 6, 6), last_day=date(2025, 6, 9), fmt="%a %H:%M"
    )

    assert expected == times(pairs)


def test_no_slot_spans_two_ranges() -> None:
    """With 09:00-10:30 and 13:00-14:00, a 60-minute slot never crosses the lunch gap."""
    expected = ["09:00", "09:30", "13:00"]

    cal = calendar(clinician("09:00-10:30", "13:00-14:00"))

    assert expected == times(offered(cal, ApprovalPolicy(grid_minutes=30)))


def test_range_to_midnight() -> None:
    """A range ending at 24:00 offers its last slot at 23:00."""
    expected = [("22:00", True), ("23:00", True)]

    assert expected == offered(calendar(clinician("22:00-24:00")))


def test_each_weekday_has_its_own_ranges() -> None:
    """Monday and Tuesday offer different times when their ranges differ."""
    who = Clinician(
        id="dr-a",
        zone="America/New_York",
        service_minutes=60,
        work_hours=WorkHours({Weekday.MONDAY: ["09:00-11:00"], Weekday.TUESDAY: ["14:00-16:00"]}),
    )
    expected = ["Mon 09:00", "Mon 10:00", "Tue 14:00", "Tue 15:00"]

    pairs = offered(calendar(who), first_day=MONDAY, last_day=TUESDAY, fmt="%a %H:%M")

    assert expected == times(pairs)


# -- half-open intervals --------------------------------------------------------------------------


def test_back_to_back_with_a_booked_appointment() -> None:
    """A booking 10:00-11:00 takes only the 10:00 slot: 09:00-10:00 and 11:00-12:00 touch it."""
    expected = [("09:00", True), ("10:00", False), ("11:00", True)]

    assert expected == offered(calendar(appointments=[appt(ny(10), ny(11))]))


def test_back_to_back_with_an_event() -> None:
    """An event 10:00-11:00 blocks only the slot it shares an instant with."""
    expected = [("09:00", True), ("10:00", False), ("11:00", True)]

    assert expected == offered(calendar(events=[CalendarEvent.one_off(ny(10), ny(11))]))


def test_a_short_event_blocks_every_slot_it_touches() -> None:
    """An event 09:45-10:15 overlaps both the 09:00 and the 10:00 slot."""
    expected = [("09:00", False), ("10:00", False), ("11:00", True)]

    cal = calendar(events=[CalendarEvent.one_off(ny(9, 45), ny(10, 15))])

    assert expected == offered(cal)


# -- calendar events ------------------------------------------------------------------------------


def test_recurring_event_with_exdate() -> None:
    """A weekly Monday 10:00-11:00 meeting, skipped on 9 June, blocks 2 and 16 June only."""
    meeting = CalendarEvent.recurring(
        "FREQ=WEEKLY;BYDAY=MO", start=ny(10), end=ny(11), exdates=[ny(10, day=9)]
    )
    expected = {
        "06-02 10:00": frozenset({Reason.CALENDAR_EVENT}),
        "06-09 10:00": NOTHING,
        "06-16 10:00": frozenset({Reason.CALENDAR_EVENT}),
    }

    found = reasons(
        calendar(events=[meeting]),
        first_day=MONDAY,
        last_day=date(2025, 6, 16),
        fmt="%m-%d %H:%M",
    )

    assert expected == {k: found[k] for k in expected}


def test_all_day_event_blocks_its_date_only() -> None:
    """An all-day event on Tuesday blocks every Tuesday slot and nothing on Monday or Wednesday."""
    expected = [("Mon", True)] * 3 + [("Tue", False)] * 3 + [("Wed", True)] * 3

    pairs = offered(
        calendar(events=[CalendarEvent.all_day(TUESDAY)]),
        first_day=MONDAY,
        last_day=date(2025, 6, 4),
        fmt="%a",
    )

    assert expected == pairs


@pytest.mark.parametrize(
    ("sunday", "count"),
    [(date(2025, 3, 9), 23), (date(2025, 11, 2), 25)],
    ids=["spring-forward-23h", "fall-back-25h"],
)
def test_all_day_event_blocks_a_23_or_25_hour_day(sunday: date, count: int) -> None:
    """On a DST Sunday worked round the clock, an all-day event blocks all of its 23 or 25
    hourly slots, and neither Saturday's last slot nor Monday's first."""
    who = Clinician(
        id="dr-a",
        zone="America/New_York",
        service_minutes=60,
        work_hours=WorkHours([["00:00-24:00"]] * 7),
    )
    cal = calendar(who, events=[CalendarEvent.all_day(sunday)])
    saturday, monday = sunday - timedelta(days=1), sunday + timedelta(days=1)
    a_week_before = datetime.combine(saturday - timedelta(days=7), time(), tzinfo=UTC)

    slots = available_slots(cal, HOUR_GRID, first_day=saturday, last_day=monday, now=a_week_before)
    on_sunday = [s for s in slots if s.start.astimezone(NEW_YORK).date() == sunday]
    before = [s for s in slots if s.end <= on_sunday[0].start]
    after = [s for s in slots if s.start >= on_sunday[-1].end]

    expected = (count, [False] * count, True, True, 24, 24)
    assert expected == (
        len(on_sunday),
        [s.available for s in on_sunday],
        before[-1].available,
        after[0].available,
        len(before),
        len(after),
    )


# -- appointments and requests --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (AppointmentStatus.BOOKED, frozenset({Reason.BOOKED})),
        (AppointmentStatus.PENDING, frozenset({Reason.PENDING})),
        (AppointmentStatus.MISSED, NOTHING),
        (AppointmentStatus.REJECTED, NOTHING),
        (AppointmentStatus.EXPIRED, NOTHING),
        (AppointmentStatus.CANCELLED, NOTHING),
    ],
)
def test_which_statuses_take_a_slot(status: AppointmentStatus, expected: frozenset[Reason]) -> None:
    """BOOKED and PENDING take their slot; MISSED, REJECTED, EXPIRED and CANCELLED reopen it."""
    cal = calendar(appointments=[appt(ny(10), ny(11), status)])

    found = reasons(cal)

    assert (expected, not expected) == (found["10:00"], dict(offered(cal))["10:00"])


def test_pending_does_not_hold_the_slot_when_the_policy_says_so() -> None:
    """With pending_holds_slot=False a PENDING request leaves its slot open to others."""
    policy = ApprovalPolicy(grid_minutes=60, pending_holds_slot=False)
    cal = calendar(appointments=[appt(ny(10), ny(11), AppointmentStatus.PENDING)])
    expected = [("09:00", True), ("10:00", True), ("11:00", True)]

    assert expected == offered(cal, policy)


def test_another_clinicians_appointment_in_the_calendar_is_ignored() -> None:
    """Only the calendar's own clinician's appointments take its slots."""
    other = appt(ny(10), ny(11), clinician_id="dr-b")
    expected = [("09:00", True), ("10:00", True), ("11:00", True)]

    assert expected == offered(calendar(appointments=[other]))


# -- time rules -----------------------------------------------------------------------------------


def test_past_and_minimum_notice() -> None:
    """At 10:30 with 2 hours' notice: 09:00 and 10:00 are past, 11:00 and 12:00 too soon."""
    cal = calendar(clinician("09:00-15:00"))
    policy = ApprovalPolicy(grid_minutes=60, min_notice=timedelta(hours=2))
    expected = {
        "09:00": frozenset({Reason.PAST}),
        "10:00": frozenset({Reason.PAST}),
        "11:00": frozenset({Reason.MIN_NOTICE}),
        "12:00": frozenset({Reason.MIN_NOTICE}),
        "13:00": NOTHING,
        "14:00": NOTHING,
    }

    assert expected == reasons(cal, policy, now=ny(10, 30))


def test_notice_and_horizon_boundaries_are_inclusive() -> None:
    """At 08:00 with 1 hour's notice and a 3-hour horizon, 09:00 to 11:00 may be booked:
    a start exactly at now + notice or exactly at now + horizon is allowed."""
    cal = calendar(clinician("09:00-14:00"))
    policy = ApprovalPolicy(
        grid_minutes=60, min_notice=timedelta(hours=1), horizon=timedelta(hours=3)
    )
    expected = {
        "09:00": NOTHING,
        "10:00": NOTHING,
        "11:00": NOTHING,
        "12:00": frozenset({Reason.HORIZON}),
        "13:00": frozenset({Reason.HORIZON}),
    }

    assert expected == reasons(cal, policy, now=ny(8))


def test_default_notice_and_horizon() -> None:
    """Defaults: nothing within 24 hours and nothing more than 60 days ahead.

    At Monday 10:00: 09:00 is past, 10:00 (now itself) and Tuesday 09:00 are too soon, Tuesday
    10:00 is exactly 24 hours ahead; Friday 1 August 10:00 is exactly 60 days ahead, 11:00 is not.
    """
    now = ny(10)  # Monday 2 June
    policy = ApprovalPolicy(grid_minutes=60)
    expected = {
        "06-02 09:00": frozenset({Reason.PAST}),
        "06-02 10:00": frozenset({Reason.MIN_NOTICE}),
        "06-03 09:00": frozenset({Reason.MIN_NOTICE}),
        "06-03 10:00": NOTHING,
        "08-01 10:00": NOTHING,
        "08-01 11:00": frozenset({Reason.HORIZON}),
    }

    found = reasons(
        calendar(), policy, first_day=MONDAY, last_day=date(2025, 8, 1), now=now, fmt="%m-%d %H:%M"
    )

    assert expected == {k: found[k] for k in expected}


# -- buffers --------------------------------------------------------------------------------------


def test_buffer_before_and_after_an_appointment() -> None:
    """30 minutes before and 15 after every appointment, the new one's too: a 30-minute slot
    needs 45 minutes between it and the 12:00-13:00 booking on either side."""
    cal = calendar(clinician("09:00-17:00", minutes=30), appointments=[appt(ny(12), ny(13))])
    policy = ApprovalPolicy(
        grid_minutes=30, buffer_before=timedelta(minutes=30), buffer_after=timedelta(minutes=15)
    )
    expected = {
        "10:30": NOTHING,  # ends 11:00: its 15 after and the booking's 30 before both fit
        "11:00": frozenset({Reason.BUFFER}),  # ends 11:30: only 30 minutes to 12:00
        "11:30": frozenset({Reason.BUFFER}),
        "12:00": frozenset({Reason.BOOKED}),
        "12:30": frozenset({Reason.BOOKED}),
        "13:00": frozenset({Reason.BUFFER}),
        "13:30": frozenset({Reason.BUFFER}),  # 30 minutes after 13:00: 15 + 30 do not fit
        "14:00": NOTHING,
    }

    found = reasons(cal, policy)

    assert expected == {k: found[k] for k in expected}


def test_buffers_do_not_depend_on_which_appointment_came_first() -> None:
    """With 10 minutes before and 20 after, 09:00-09:30 and 10:00-10:30 are 30 minutes apart:
    enough whichever of the two is booked first (the old rule allowed 20 in one order only)."""
    policy = ApprovalPolicy(
        grid_minutes=30, buffer_before=timedelta(minutes=10), buffer_after=timedelta(minutes=20)
    )
    early_booked = calendar(
        clinician("09:00-17:00", minutes=30), appointments=[appt(ny(9), ny(9, 30))]
    )
    late_booked = calendar(
        clinician("09:00-17:00", minutes=30), appointments=[appt(ny(10), ny(10, 30))]
    )

    assert NOTHING == reasons(early_booked, policy)["10:00"]
    assert NOTHING == reasons(late_booked, policy)["09:00"]
    assert frozenset({Reason.BUFFER}) == reasons(early_booked, policy)["09:30"]
    assert frozenset({Reason.BUFFER}) == reasons(late_booked, policy)["09:30"]


@pytest.mark.parametrize(
    ("status", "buffered"),
    [(AppointmentStatus.PENDING, True), (AppointmentStatus.CANCELLED, False)],
)
def test_buffer_follows_holding_appointments_only(
    status: AppointmentStatus, buffered: bool
) -> None:
    """A pending request gets the buffer too; a cancelled appointment gets none."""
    cal = calendar(
        clinician("09:00-17:00", minutes=30), appointments=[appt(ny(12), ny(13), status)]
    )
    policy = ApprovalPolicy(grid_minutes=30, buffer_after=timedelta(minutes=30))
    expected = frozenset({Reason.BUFFER}) if buffered else NOTHING

    assert expected == reasons(cal, policy)["13:00"]


# -- daily maximum --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "monday_full"),
    [
        ((AppointmentStatus.BOOKED, AppointmentStatus.BOOKED), True),
        ((AppointmentStatus.BOOKED, AppointmentStatus.PENDING), True),
        ((AppointmentStatus.BOOKED,), False),
        ((AppointmentStatus.BOOKED, AppointmentStatus.MISSED), False),
    ],
    ids=["two-booked", "booked-and-pending", "one", "one-and-a-missed"],
)
def test_daily_max(statuses: tuple[AppointmentStatus, ...], monday_full: bool) -> None:
    """daily_max=2: two holding appointments on Monday close Monday; Tuesday stays open."""
    who = clinician("09:00-17:00")
    booked = [appt(ny(9 + i), ny(10 + i), s) for i, s in enumerate(statuses)]
    policy = ApprovalPolicy(grid_minutes=60, daily_max=2)

    found = reasons(calendar(who, appointments=booked), policy, last_day=TUESDAY, fmt="%a %H:%M")

    expected = (
        frozenset({Reason.DAILY_MAX}) if monday_full else NOTHING,
        NOTHING,
    )
    assert expected == (found["Mon 16:00"], found["Tue 16:00"])


# -- the client's own appointments ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("theirs", "capped"),
    [
        (appt(ny(10, day=10), ny(11, day=10), client="c1", clinician_id="dr-b"), True),
        (
            appt(
                ny(10, day=10),
                ny(11, day=10),
                AppointmentStatus.PENDING,
                client="c1",
                clinician_id="dr-b",
            ),
            True,
        ),
        (
            appt(
                ny(10, day=10),
                ny(11, day=10),
                AppointmentStatus.MISSED,
                client="c1",
                clinician_id="dr-b",
            ),
            False,
        ),
        (appt(ny(10, day=20, month=5), ny(11, day=20, month=5), client="c1"), False),
    ],
    ids=["future-booked", "future-pending", "missed", "in-the-past"],
)
def test_client_open_cap(theirs: Appointment, capped: bool) -> None:
    """client_open_cap=1: one future BOOKED or PENDING appointment, with any clinician, blocks
    every slot for that client; a missed or past one does not."""
    policy = ApprovalPolicy(grid_minutes=60, client_open_cap=1)
    cal = calendar(appointments=[theirs] if theirs.clinician_id == "dr-a" else [])
    extra = [theirs] if theirs.clinician_id != "dr-a" else []

    found = reasons(cal, policy, client_id="c1", client_appointments=extra)

    expected = frozenset({Reason.CLIENT_CAP}) if capped else NOTHING
    assert expected == found["09:00"]


def test_client_cap_is_per_client() -> None:
    """Another client's open appointments do not count against this client's cap."""
    theirs = appt(ny(10, day=10), ny(11, day=10), client="c2", clinician_id="dr-b")
    policy = ApprovalPolicy(grid_minutes=60, client_open_cap=1)
    expected = [("09:00", True), ("10:00", True), ("11:00", True)]

    assert expected == offered(calendar(), policy, client_id="c1", client_appointments=[theirs])


@pytest.mark.parametrize(
    ("client_id", "expected"),
    [
        ("c1", [("09:00", True), ("10:00", False), ("11:00", True)]),
        ("c2", [("09:00", True), ("10:00", True), ("11:00", True)]),
        (None, [("09:00", True), ("10:00", True), ("11:00", True)]),
    ],
    ids=["same-client", "other-client", "anonymous"],
)
def test_client_overlap_across_clinicians(
    client_id: str | None, expected: list[tuple[str, bool]]
) -> None:
    """c1 holds 10:00-11:00 with dr-b, so dr-a's 10:00 is unavailable to c1 (and only to c1)."""
    theirs = appt(ny(10), ny(11), client="c1", clinician_id="dr-b")

    actual = offered(calendar(), client_id=client_id, client_appointments=[theirs])

    assert expected == actual


def test_client_overlap_reason_and_partial_overlap() -> None:
    """A 10:30-11:30 appointment elsewhere blocks the client's 10:00 and 11:00 slots."""
    theirs = appt(ny(10, 30), ny(11, 30), client="c1", clinician_id="dr-b")
    expected = {
        "09:00": NOTHING,
        "10:00": frozenset({Reason.CLIENT_OVERLAP}),
        "11:00": frozenset({Reason.CLIENT_OVERLAP}),
    }

    assert expected == reasons(calendar(), client_id="c1", client_appointments=[theirs])


def test_clients_cancelled_appointment_elsewhere_does_not_block() -> None:
    """Only the client's open appointments get in the way."""
    theirs = appt(ny(10), ny(11), AppointmentStatus.CANCELLED, client="c1", clinician_id="dr-b")
    expected = [("09:00", True), ("10:00", True), ("11:00", True)]

    assert expected == offered(calendar(), client_id="c1", client_appointments=[theirs])


# -- explain --------------------------------------------------------------------------------------


def test_explain_gives_every_reason() -> None:
    """A booked slot inside the notice period has both reasons."""
    cal = calendar(appointments=[appt(ny(10), ny(11))])
    policy = ApprovalPolicy(grid_minutes=60, min_notice=timedelta(hours=3))
    expected = {
        "09:00": frozenset({Reason.MIN_NOTICE}),
        "10:00": frozenset({Reason.BOOKED, Reason.MIN_NOTICE}),
        "11:00": NOTHING,
    }

    assert expected == reasons(cal, policy, now=ny(8))


def test_explain_and_the_client_view_agree() -> None:
    """Both views offer the same slots, available in the same places.

    50-minute slots on the half hour, 09:00-17:00: a booking 10:00-10:50 and a request
    15:00-15:50, each followed by a 10-minute buffer, and an event 13:00-14:00. The buffers end
    exactly at 11:00 and 16:00, so those slots stay available.
    """
    cal = calendar(
        clinician("09:00-17:00", minutes=50),
        events=[CalendarEvent.one_off(ny(13), ny(14))],
        appointments=[
            appt(ny(10), ny(10, 50)),
            appt(ny(15), ny(15, 50), AppointmentStatus.PENDING),
        ],
    )
    policy = ApprovalPolicy(grid_minutes=30, buffer_after=timedelta(minutes=10), daily_max=5)
    free, taken = True, False
    expected = [
        ("09:00", free),
        ("09:30", taken),
        ("10:00", taken),
        ("10:30", taken),
        ("11:00", free),
        ("11:30", free),
        ("12:00", free),
        ("12:30", taken),
        ("13:00", taken),
        ("13:30", taken),
        ("14:00", free),
        ("14:30", taken),
        ("15:00", taken),
        ("15:30", taken),
        ("16:00", free),
    ]

    client_view = offered(cal, policy)
    staff_view = [(when, not why) for when, why in reasons(cal, policy).items()]

    assert (expected, expected) == (client_view, staff_view)


def test_client_slot_carries_no_reason() -> None:
    """The client view has when and whether, nothing about why."""
    expected = ("start", "end", "available")

    assert expected == tuple(f.name for f in attrs.fields(Slot))


# -- check_slot -----------------------------------------------------------------------------------


def test_check_slot_bookable() -> None:
    """09:00 EDT is free: bookable, with its UTC start and end."""
    expected = SlotCheck(
        datetime(2025, 6, 2, 13, 0, tzinfo=UTC), datetime(2025, 6, 2, 14, 0, tzinfo=UTC), NOTHING
    )

    actual = check_slot(calendar(), HOUR_GRID, ny(9), now=NOW)

    assert (expected, True) == (actual, actual.bookable)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (ny(10), frozenset({Reason.BOOKED})),
        (ny(11), frozenset({Reason.CALENDAR_EVENT})),
        (ny(12), frozenset({Reason.OUTSIDE_WORK_HOURS})),
        (ny(8), frozenset({Reason.OUTSIDE_WORK_HOURS})),
        (ny(10, day=7), frozenset({Reason.OUTSIDE_WORK_HOURS})),
    ],
    ids=["booked", "event", "after-hours", "before-hours", "saturday"],
)
def test_check_slot_reasons(start: datetime, expected: frozenset[Reason]) -> None:
    """check_slot gives the reasons a grid start cannot be booked, OUTSIDE_WORK_HOURS included."""
    cal = calendar(
        appointments=[appt(ny(10), ny(11))], events=[CalendarEvent.one_off(ny(11), ny(12))]
    )

    actual = check_slot(cal, HOUR_GRID, start, now=NOW)

    assert (expected, False) == (actual.reasons, actual.bookable)


def test_check_slot_past() -> None:
    """A start inside work hours but before now is PAST."""
    expected = frozenset({Reason.PAST})

    assert expected == check_slot(calendar(), HOUR_GRID, ny(9), now=ny(9, 30)).reasons


def test_check_slot_that_does_not_fit_the_range() -> None:
    """11:30 is on the half-hour grid but a 60-minute slot would end after 12:00."""
    expected = frozenset({Reason.OUTSIDE_WORK_HOURS})

    actual = check_slot(calendar(), ApprovalPolicy(grid_minutes=30), ny(11, 30), now=NOW)

    assert expected == actual.reasons


def test_check_slot_accepts_any_zone_for_the_same_instant() -> None:
    """13:00 UTC is 09:00 in New York: the same slot, whichever zone the caller uses."""
    start = datetime(2025, 6, 2, 13, 0, tzinfo=UTC)
    expected = SlotCheck(start, start + timedelta(hours=1), NOTHING)
    as_london = start.astimezone(ZoneInfo("Europe/London"))

    assert (expected, expected, expected) == (
        check_slot(calendar(), HOUR_GRID, ny(9), now=NOW),
        check_slot(calendar(), HOUR_GRID, start, now=NOW),
        check_slot(calendar(), HOUR_GRID, as_london, now=NOW),
    )


def test_check_slot_client_overlap() -> None:
    """check_slot applies the client's own appointments too."""
    theirs = appt(ny(9, 30), ny(10, 30), client="c1", clinician_id="dr-b")
    expected = frozenset({Reason.CLIENT_OVERLAP})

    actual = check_slot(
        calendar(), HOUR_GRID, ny(9), now=NOW, client_id="c1", client_appointments=[theirs]
    )

    assert expected == actual.reasons


def test_check_slot_off_grid() -> None:
    """09:30 is not on the full-hour grid: OffGrid, not merely unbookable."""
    with pytest.raises(OffGrid):
        check_slot(calendar(), HOUR_GRID, ny(9, 30), now=NOW)


# -- first_available ------------------------------------------------------------------------------

# Sunday 1 June 2025 12:00 UTC with 24 hours' notice: nothing before Monday 12:00 UTC.
SUNDAY_NOON = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
NY_DOC = clinician("09:00-17:00", id="dr-ny")
TOKYO_DOC = clinician("09:00-17:00", zone="Asia/Tokyo", id="dr-tokyo")
LONDON_DOC = clinician("09:00-17:00", zone="Europe/London", id="dr-london")


@pytest.mark.parametrize(
    ("blocked", "winner", "start"),
    [
        ((), "dr-london", datetime(2025, 6, 2, 12, 0, tzinfo=UTC)),
        (("dr-london",), "dr-ny", datetime(2025, 6, 2, 13, 0, tzinfo=UTC)),
        (("dr-london", "dr-ny"), "dr-tokyo", datetime(2025, 6, 3, 0, 0, tzinfo=UTC)),
    ],
    ids=["london-13-bst", "new-york-09-edt", "tokyo-tuesday-09-jst"],
)
def test_first_available_earliest_instant_wins_across_zones(
    blocked: tuple[str, ...], winner: str, start: datetime
) -> None:
    """From Monday 12:00 UTC: London's 13:00 BST (12:00 UTC) beats New York's 09:00 EDT
    (13:00 UTC); Tokyo's Monday is over, its next is Tuesday 09:00 JST (Monday 24:00 UTC).
    An all-day event on Monday takes a clinician out of the race for that day."""
    calendars = [
        calendar(
            doc,
            events=[CalendarEvent.all_day(MONDAY)] if doc.id in blocked else [],
        )
        for doc in (NY_DOC, TOKYO_DOC, LONDON_DOC)
    ]

    found = first_available(calendars, HOUR_GRID, now=SUNDAY_NOON)

    expected = (winner, Slot(start, start + timedelta(hours=1), True))
    assert found is not None
    assert expected == (found[0].id, found[1])


def test_first_available_tie_goes_to_the_first_clinician() -> None:
    """Two clinicians free at the same instant: the one given first is chosen."""
    twin = attrs.evolve(NY_DOC, id="dr-ny-2")

    found = first_available([calendar(twin), calendar(NY_DOC)], HOUR_GRID, now=SUNDAY_NOON)

    expected = "dr-ny-2"
    assert found is not None
    assert expected == found[0].id


def test_first_available_respects_the_clients_own_appointments() -> None:
    """The client is busy 12:00-13:00 UTC Monday, so London's 12:00 UTC is not theirs; the next
    instant, 13:00 UTC, is free at both and goes to the clinician given first."""
    busy = appt(
        datetime(2025, 6, 2, 12, 0, tzinfo=UTC),
        datetime(2025, 6, 2, 13, 0, tzinfo=UTC),
        client="c1",
        clinician_id="dr-elsewhere",
    )

    found = first_available(
        [calendar(LONDON_DOC), calendar(NY_DOC)],
        HOUR_GRID,
        now=SUNDAY_NOON,
        client_id="c1",
        client_appointments=[busy],
    )

    expected = ("dr-london", datetime(2025, 6, 2, 13, 0, tzinfo=UTC))
    assert found is not None
    assert expected == (found[0].id, found[1].start)


def test_first_available_none_without_any_opening() -> None:
    """A clinician without work hours has nothing within the horizon."""
    idle = Clinician(id="dr-idle", zone="America/New_York")

    assert first_available([calendar(idle)], HOUR_GRID, now=SUNDAY_NOON) is None


def test_first_available_skips_days_until_an_opening() -> None:
    """A clinician away for two weeks is first available on the Monday after."""
    away = CalendarEvent.all_day(MONDAY, days=14)
    expected = datetime(2025, 6, 16, 13, 0, tzinfo=UTC)

    found = first_available([calendar(NY_DOC, events=[away])], HOUR_GRID, now=SUNDAY_NOON)

    assert found is not None
    assert expected == found[1].start


# -- the client's zone ----------------------------------------------------------------------------


def test_slot_in_zone_shows_the_same_instant_on_another_clock() -> None:
    """09:00 EDT shown to a client in Kolkata reads 18:30 IST, and is the same instant."""
    slot = Slot(
        datetime(2025, 6, 2, 13, 0, tzinfo=UTC), datetime(2025, 6, 2, 14, 0, tzinfo=UTC), True
    )
    kolkata = ZoneInfo("Asia/Kolkata")

    shown = slot.in_zone("Asia/Kolkata")

    expected = (slot, (18, 30), (19, 30), kolkata)
    assert expected == (
        shown,
        (shown.start.hour, shown.start.minute),
        (shown.end.hour, shown.end.minute),
        shown.start.tzinfo,
    )


def test_client_sees_times_in_its_own_zone() -> None:
    """A New York clinician's 09:00-12:00 reads 14:00, 15:00, 16:00 to a client in London."""
    london = ZoneInfo("Europe/London")
    expected = ["14:00", "15:00", "16:00"]

    slots = available_slots(calendar(), HOUR_GRID, first_day=MONDAY, last_day=MONDAY, now=NOW)

    assert expected == [s.in_zone(london).start.strftime("%H:%M") for s in slots]


def test_explained_slot_in_zone_keeps_its_reasons() -> None:
    """The staff view converts zones the same way and keeps the reasons."""
    slot = ExplainedSlot(
        datetime(2025, 6, 2, 13, 0, tzinfo=UTC),
        datetime(2025, 6, 2, 14, 0, tzinfo=UTC),
        frozenset({Reason.BOOKED}),
    )
    expected = (9, frozenset({Reason.BOOKED}), False)

    shown = slot.in_zone(NEW_YORK)

    assert expected == (shown.start.hour, shown.reasons, shown.available)
