"""Deterministic benchmark workloads, built once before any timing.

Every workload is a clinician in America/New_York working Monday to Friday 09:00-12:00 and
13:00-17:00, a 15-minute grid and a 50-minute service. Random choices come from
``random.Random(seed)`` only, so the same seed gives the same calendar on every machine.

- **W1**: 90 days from Monday 2026-02-16 (across the DST start on 2026-03-08): about 400
  appointments (mixed statuses, about 85 % of them holding their slot), about 60 one-off events
  (two of them all-day) and 3 weekly recurring events (RRULE, one with an EXDATE).
- **W0**: W1 with only the recurring events: almost every candidate is free (output-heavy).
- **W365**: W1's density over 365 days (both DST transitions of 2026).
- **W1x100**: W1 with 100 times the appointments, one-off and recurring events.
- **N200**: 200 clinicians, each a W1 with its own seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    WorkHours,
)

ZONE = "America/New_York"
FIRST_DAY = date(2026, 2, 16)  # a Monday; the DST start (2026-03-08) is three weeks later
NOW = datetime(2026, 2, 15, 12, 0, tzinfo=ZoneInfo(ZONE))
SERVICE_MINUTES = 50
GRID_MINUTES = 15
RANGES = ((time(9), time(12)), (time(13), time(17)))

# Status mix of existing appointments: BOOKED and PENDING hold their slot, the others reopen it.
_STATUSES = (
    (AppointmentStatus.BOOKED, 70),
    (AppointmentStatus.PENDING, 14),
    (AppointmentStatus.CANCELLED, 6),
    (AppointmentStatus.MISSED, 5),
    (AppointmentStatus.REJECTED, 3),
    (AppointmentStatus.EXPIRED, 2),
)
_RULES = (
    "FREQ=WEEKLY;BYDAY={day}",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY={day}",
    "FREQ=WEEKLY;BYDAY={day};WKST=SU",
)
_DAYS = ("MO", "TU", "WE", "TH", "FR")


@attrs.frozen
class Workload:
    """One clinician's calendar plus the question asked of it."""

    name: str
    calendar: ClinicianCalendar
    policy: ApprovalPolicy
    first_day: date
    last_day: date
    now: datetime

    @property
    def days(self) -> int:
        """Length of the window in days."""
        return (self.last_day - self.first_day).days + 1


@attrs.frozen
class Practice:
    """Many clinicians asked the same question (all slots, or the first available)."""

    name: str
    workloads: tuple[Workload, ...]
    policy: ApprovalPolicy
    now: datetime


def _policy(days: int) -> ApprovalPolicy:
    # The horizon covers the whole window, so the time rules only cut the day before it.
    return ApprovalPolicy(
        grid_minutes=GRID_MINUTES,
        min_notice=timedelta(hours=24),
        horizon=timedelta(days=days + 2),
    )


def _workdays(first_day: date, days: int) -> list[date]:
    every = (first_day + timedelta(days=i) for i in range(days))
    return [d for d in every if d.weekday() < 5]


def _local(day: date, minute: int, z: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=z) + timedelta(minutes=minute)


def _appointments(
    rng: random.Random,
    clinician_id: str,
    workdays: Sequence[date],
    target: int,
    z: ZoneInfo,
    *,
    overlap: bool,
) -> list[Appointment]:
    """About *target* grid-aligned appointments; without *overlap*, holding ones never collide."""
    statuses = [s for s, _ in _STATUSES]
    weights = [w for _, w in _STATUSES]
    starts = [
        m
        for lo, hi in RANGES
        for m in range(lo.hour * 60, hi.hour * 60 - SERVICE_MINUTES + 1, GRID_MINUTES)
    ]
    per_day = target / len(workdays)
    result: list[Appointment] = []
    for day in workdays:
        wanted = int(per_day) + (rng.random() < per_day - int(per_day))
        taken: list[int] = []
        for _ in range(wanted * 20):
            if len(taken) >= wanted:
                break
            minute = rng.choice(starts)
            if not overlap and any(abs(minute - t) < SERVICE_MINUTES for t in taken):
                continue
            taken.append(minute)
        for minute in taken:
            start = _local(day, minute, z)
            result.append(
                Appointment(
                    id=f"{clinician_id}-a{len(result)}",
                    client_id=f"client-{rng.randrange(300)}",
                    clinician_id=clinician_id,
                    start=start,
                    end=start + timedelta(minutes=SERVICE_MINUTES),
                    status=rng.choices(statuses, weights)[0],
                )
            )
    return result


def _one_offs(
    rng: random.Random, workdays: Sequence[date], count: int, z: ZoneInfo, *, all_day: int
) -> list[CalendarEvent]:
    events: list[CalendarEvent] = [
        CalendarEvent.all_day(rng.choice(workdays), title="leave", id=f"d{i}")
        for i in range(all_day)
    ]
    for i in range(count - all_day):
        day = rng.choice(workdays)
        start = _local(day, rng.randrange(8 * 12, 17 * 12) * 5, z)  # any 5-minute mark
        length = timedelta(minutes=rng.randrange(3, 25) * 5)
        events.append(CalendarEvent.one_off(start, start + length, title="event", id=f"e{i}"))
    return events


def _recurring(rng: random.Random, first_day: date, count: int, z: ZoneInfo) -> list[CalendarEvent]:
    """Weekly events that began a few weeks before the window (dtstart is their first Monday)."""
    events: list[CalendarEvent] = []
    for i in range(count):
        weekday = rng.randrange(5)
        anchor = first_day - timedelta(weeks=rng.randrange(1, 8))
        day = anchor + timedelta(days=weekday)
        start = _local(day, rng.randrange(9 * 4, 16 * 4) * 15, z)
        length = timedelta(minutes=rng.choice((30, 45, 60, 90)))
        exdates = [start + timedelta(weeks=rng.randrange(3, 10))] if i % 3 == 0 else []
        rule = _RULES[i % len(_RULES)].format(day=_DAYS[weekday])
        events.append(
            CalendarEvent.recurring(
                rule, start=start, end=start + length, exdates=exdates, title="meeting", id=f"r{i}"
            )
        )
    return events


def clinician_workload(
    name: str,
    seed: int,
    *,
    days: int = 90,
    scale: int = 1,
    appointments: bool = True,
    one_offs: bool = True,
    clinician_id: str | None = None,
) -> Workload:
    """A W1-like workload of *days* days; *scale* multiplies every kind of busy interval."""
    rng = random.Random(seed)
    z = ZoneInfo(ZONE)
    cid = clinician_id or f"c{seed}"
    clinician = Clinician(
        id=cid,
        name=f"Clinician {seed}",
        zone=ZONE,
        work_hours=WorkHours.weekdays("09:00-12:00", "13:00-17:00", location="Main St"),
        service_code="90834",
        service_minutes=SERVICE_MINUTES,
    )
    # Appointments and events spill a week past both ends of the window, as real calendars do.
    span = _workdays(FIRST_DAY - timedelta(days=7), days + 14)
    inside = _workdays(FIRST_DAY, days)
    density = days / 90 * scale
    wanted = round(460 * days / 90)
    if scale > 1:
        # Scale what the unscaled calendar really holds (a full day fits fewer than asked for).
        plain = _appointments(random.Random(seed), cid, span, wanted, z, overlap=False)
        wanted = len(plain)
    appts = (
        _appointments(rng, cid, span, wanted * scale, z, overlap=scale > 1) if appointments else []
    )
    events = (
        _one_offs(rng, inside, round(60 * density), z, all_day=round(2 * density))
        if one_offs
        else []
    )
    events += _recurring(rng, FIRST_DAY, 3 * scale, z)
    return Workload(
        name=name,
        calendar=ClinicianCalendar(clinician=clinician, events=events, appointments=appts),
        policy=_policy(days),
        first_day=FIRST_DAY,
        last_day=FIRST_DAY + timedelta(days=days - 1),
        now=NOW,
    )


def w1() -> Workload:
    """W1: one clinician, 90 days."""
    return clinician_workload("W1", 1)


def w0() -> Workload:
    """W0: W1 with only the recurring events."""
    return clinician_workload("W0", 1, appointments=False, one_offs=False)


def w365() -> Workload:
    """W365: W1's density over 365 days."""
    return clinician_workload("W365", 1, days=365)


def w1x100() -> Workload:
    """W1x100: W1 with 100 times the busy intervals."""
    return clinician_workload("W1x100", 1, scale=100)


def n200(count: int = 200) -> Practice:
    """N200: *count* clinicians, each like W1 with its own seed (1000, 1001, ...)."""
    workloads = tuple(clinician_workload(f"N{count}[{i}]", 1000 + i) for i in range(count))
    return Practice(name=f"N{count}", workloads=workloads, policy=_policy(90), now=NOW)


def describe(workload: Workload) -> dict[str, int]:
    """Counts that say what a workload holds (printed with the results)."""
    cal = workload.calendar
    holding = sum(a.status.is_open for a in cal.appointments)
    kinds = [e.kind.value for e in cal.events]
    return {
        "days": workload.days,
        "appointments": len(cal.appointments),
        "holding": holding,
        "one_off": kinds.count("one_off"),
        "all_day": kinds.count("all_day"),
        "recurring": kinds.count("recurring"),
    }


def utc(value: datetime) -> datetime:
    """The same instant in UTC (helper for comparators)."""
    return value.astimezone(UTC)
