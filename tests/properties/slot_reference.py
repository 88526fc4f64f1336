"""A deliberately simple reference slot calculator, for the property tests to compare against.

It shares no code with ``selfsched.slots``, ``selfsched._time`` or ``selfsched.recurrence``: it
only reads the input values. Everything local is found by brute force on a *timeline*: every UTC
minute around the window, each with the wall time ``zoneinfo`` shows for it. (Modern tzdata
changes offsets only on whole minutes, which :func:`timeline` checks, so minute steps see every
instant that matters.) Then every candidate slot is checked against every busy interval.

The rules it encodes are the library's documented decisions (SPEC §2):

- a work range of date *D* is the instants from its first (the earliest instant showing the
  start wall time, or, if that is skipped, the moment the clock jumps past it) up to its last
  (the end of the last minute that still shows less than the end wall time, or the jump past it;
  a ``24:00`` end is the first instant of the next local date); a candidate is an instant whose
  wall time, on date *D*, lies on the grid, and whose slot ``[start, start + length)`` lies in a
  work range of *D*'s weekday. Only the instants decide: on a fall-back night a start's wall time
  may lie outside the range's wall times. A start in two ranges (they can share instants on
  such a night) is one candidate;
- busy: one-off events, all-day events (whole local dates), recurring events (dateutil on the
  naive wall time of the first occurrence, in the zone the event was written in when it has one
  (``zone``, from ``wall_start``) and else in the clinician's zone, later occurrences placed in
  that zone with ``fold=0``, the first
  exactly at the event's start even when the rule would skip it, an EXDATE matching an
  occurrence's wall time or its instant, ``UNTIL=...Z`` read as that instant's wall time and a
  date-only ``UNTIL`` as the end of that date), the clinician's ``BOOKED`` and (by policy)
  ``PENDING`` appointments, buffers of ``before + after`` on both sides of each (so that every
  appointment, the candidate's too, keeps its own), and the client's own open appointments;
  intervals are half-open;
- time rules compare exact instants; the daily maximum counts holding appointments by the local
  date of their start; the client cap counts the client's open appointments that start after now.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    ClinicianCalendar,
    EventKind,
    Reason,
)

MINUTE = timedelta(minutes=1)
MARGIN = timedelta(hours=20)
"""How far the timeline reaches beyond the window's dates: offsets span -12..+14 hours, and a
wall time can be shown up to 3 hours after the first instant of the next date (a fall-back
across midnight)."""


@dataclass(frozen=True)
class RefSlot:
    """A candidate slot and every reason it is unavailable (empty when available)."""

    start: datetime
    end: datetime
    day: date
    reasons: frozenset[Reason]

    @property
    def available(self) -> bool:
        """True when nothing blocks the slot."""
        return not self.reasons


@dataclass(frozen=True)
class Timeline:
    """Every whole UTC minute from ``first`` on, with the wall time shown in the zone."""

    zone: ZoneInfo
    first: datetime
    walls: tuple[datetime, ...]

    def instant(self, index: int) -> datetime:
        """The UTC instant of a timeline index."""
        return self.first + index * MINUTE

    def first_reaching(self, wall: datetime) -> datetime:
        """The first instant whose wall time is at or after *wall* (a start bound)."""
        for i, shown in enumerate(self.walls):
            if shown >= wall:
                return self.instant(i)
        msg = f"{wall} is beyond the timeline"
        raise AssertionError(msg)

    def last_before_end(self, wall: datetime) -> datetime:
        """One minute after the last instant whose wall time is before *wall* (an end bound)."""
        for i in range(len(self.walls) - 1, -1, -1):
            if self.walls[i] < wall:
                return self.instant(i + 1)
        msg = f"{wall} is before the timeline"
        raise AssertionError(msg)


@functools.lru_cache(maxsize=64)
def timeline(zone: ZoneInfo, first_day: date, last_day: date) -> Timeline:
    """The timeline of *zone* covering the local dates *first_day*..*last_day* with margin."""
    start = datetime.combine(first_day, time(), tzinfo=UTC) - MARGIN
    stop = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=UTC) + MARGIN
    walls = []
    instant = start
    while instant < stop:
        local = instant.astimezone(zone)
        # An offset with seconds would show here; the minute steps would then miss instants.
        assert local.second == 0, "the reference needs whole-minute offsets"
        walls.append(local.replace(tzinfo=None))
        instant += MINUTE
    return Timeline(zone, start, tuple(walls))


def _minutes(value: time, *, end: bool) -> int:
    minutes = value.hour * 60 + value.minute
    return 24 * 60 if end and minutes == 0 else minutes


@dataclass(frozen=True)
class WorkRange:
    """One work range of one local date: its wall minutes and its first and last instants."""

    start_minute: int
    end_minute: int
    first: datetime
    last: datetime


def work_ranges(
    calendar: ClinicianCalendar, first_day: date, last_day: date, line: Timeline
) -> dict[date, list[WorkRange]]:
    """The work ranges of each local date of the window, placed on the time line."""
    ranges: dict[date, list[WorkRange]] = {}
    day = first_day
    while day <= last_day:
        midnight = datetime.combine(day, time())
        for r in calendar.clinician.work_hours.days[day.weekday()]:
            lo_minute = _minutes(r.start, end=False)
            hi_minute = _minutes(r.end, end=True)
            lo = line.first_reaching(midnight + timedelta(minutes=lo_minute))
            if hi_minute == 24 * 60:
                hi = line.first_reaching(midnight + timedelta(days=1))
            else:
                hi = line.last_before_end(midnight + timedelta(minutes=hi_minute))
            ranges.setdefault(day, []).append(WorkRange(lo_minute, hi_minute, lo, hi))
        day += timedelta(days=1)
    return ranges


def candidates(
    calendar: ClinicianCalendar, grid: int, first_day: date, last_day: date, line: Timeline
) -> list[tuple[datetime, date]]:
    """Every offered slot start with its local date, in time order."""
    length = timedelta(minutes=calendar.clinician.service_minutes)
    ranges = work_ranges(calendar, first_day, last_day, line)
    found: list[tuple[datetime, date]] = []
    for i, wall in enumerate(line.walls):
        minute = wall.hour * 60 + wall.minute
        if minute % grid:
            continue
        start = line.instant(i)
        if any(r.first <= start <= r.last - length for r in ranges.get(wall.date(), ())):
            found.append((start, wall.date()))
    return found


_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)


def _event_intervals(
    event: CalendarEvent, zone: ZoneInfo, line: Timeline, until: datetime
) -> list[tuple[datetime, datetime]]:
    """Busy intervals of one event; recurrences are expanded up to the wall time *until*."""
    if event.kind is EventKind.ALL_DAY:
        assert event.day is not None
        first = datetime.combine(event.day, time())
        after = datetime.combine(event.day + timedelta(days=event.days), time())
        if after < line.walls[0] + timedelta(days=1) or first > line.walls[-1] - timedelta(days=1):
            return []  # far from the window: cannot touch a slot
        # Clip to the timeline, which reaches well beyond every slot.
        start = line.first_reaching(first) if first > line.walls[0] else line.instant(0)
        if after > line.walls[-1]:
            return [(start, line.instant(len(line.walls)))]
        return [(start, line.first_reaching(after))]
    assert event.start is not None
    assert event.end is not None
    if event.kind is EventKind.ONE_OFF:
        return [(event.start, event.end)]
    assert event.rrule is not None
    duration = event.end - event.start
    # The zone the rule repeats its wall time in: its own if the start was written with one.
    rule_zone = zone if event.zone is None else ZoneInfo(event.zone)
    if event.wall_start is None:
        dtstart = event.start.astimezone(rule_zone).replace(tzinfo=None)
    else:
        dtstart = event.wall_start
    # *until* is a wall time in the clinician's zone; a day more covers any other zone's.
    until = until.replace(tzinfo=zone).astimezone(rule_zone).replace(tzinfo=None) + timedelta(1)

    def local_until(match: re.Match[str]) -> str:
        instant = datetime.strptime(match[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return f"UNTIL={instant.astimezone(rule_zone):%Y%m%dT%H%M%S}"

    text = _UNTIL_UTC.sub(local_until, event.rrule)
    text = re.sub(r"UNTIL=(\d{8})(?=;|$)", r"UNTIL=\1T235959", text, flags=re.IGNORECASE)
    rule = rrulestr(text, dtstart=dtstart)
    skipped = {e.astimezone(rule_zone).replace(tzinfo=None) for e in event.exdates}
    found = []
    walls = list(itertools.takewhile(lambda w: w <= until, rule))
    if not walls or walls[0] != dtstart:
        walls.insert(0, dtstart)  # the event as entered is always its first occurrence
    near = line.first - duration  # occurrences that end before the timeline cannot matter
    for wall in walls:
        if wall > until:
            break
        start = wall.replace(tzinfo=rule_zone, fold=0).astimezone(UTC)  # `+` is elapsed time
        if wall == dtstart:
            start = event.start
        if wall in skipped or start in event.exdates or start < near:
            continue
        found.append((start, start + duration))
    return found


def _overlaps(
    start: datetime, end: datetime, intervals: Iterable[tuple[datetime, datetime]]
) -> bool:
    return any(s < end and start < e for s, e in intervals)


@dataclass(frozen=True)
class Blockers:
    """What can make a slot unavailable, apart from the time rules."""

    busy: dict[Reason, list[tuple[datetime, datetime]]]
    """Busy intervals (half-open) by the reason they give."""
    per_day: dict[date, int]
    """Holding appointments by the local date of their start, for the daily maximum."""
    client_full: bool
    """Whether the client already has as many open future appointments as the cap allows."""


def blockers(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    *,
    last_day: date,
    now: datetime,
    client_id: str | None,
    client_appointments: Sequence[Appointment],
    line: Timeline,
) -> Blockers:
    """Busy intervals, daily counts and the client cap of a window ending on *last_day*."""
    clinician = calendar.clinician
    zone = line.zone
    until = datetime.combine(last_day, time()) + timedelta(days=3)
    busy: dict[Reason, list[tuple[datetime, datetime]]] = {r: [] for r in Reason}
    for event in calendar.events:
        busy[Reason.CALENDAR_EVENT].extend(_event_intervals(event, zone, line, until))
    per_day: dict[date, int] = {}
    for a in calendar.appointments:
        if a.clinician_id != clinician.id:
            continue
        if a.status is AppointmentStatus.BOOKED:
            reason = Reason.BOOKED
        elif a.status is AppointmentStatus.PENDING and policy.pending_holds_slot:
            reason = Reason.PENDING
        else:
            continue
        busy[reason].append((a.start, a.end))
        gap = policy.buffer_before + policy.buffer_after
        if gap:
            # Each appointment keeps its buffers, the candidate too: [a.start - before, a.end +
            # after) and [slot.start - before, slot.end + after) must not overlap.
            busy[Reason.BUFFER].append((a.start - gap, a.start))
            busy[Reason.BUFFER].append((a.end, a.end + gap))
        local_day = a.start.astimezone(zone).date()
        per_day[local_day] = per_day.get(local_day, 0) + 1
    own: dict[str, Appointment] = {}
    if client_id is not None:
        for a in (*client_appointments, *calendar.appointments):
            if a.client_id == client_id and a.status.is_open and a.id not in own:
                own[a.id] = a
    busy[Reason.CLIENT_OVERLAP] = [(a.start, a.end) for a in own.values()]
    client_full = policy.client_open_cap is not None and (
        sum(1 for a in own.values() if a.start > now) >= policy.client_open_cap
    )
    return Blockers(busy, per_day, client_full)


def reference_explain(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    *,
    first_day: date,
    last_day: date,
    now: datetime,
    client_id: str | None = None,
    client_appointments: Sequence[Appointment] = (),
) -> list[RefSlot]:
    """Every candidate slot of the window with its reasons, computed the slow, obvious way."""
    now = now.astimezone(UTC)  # in one zone, `now + timedelta` would be wall-clock arithmetic
    line = timeline(ZoneInfo(calendar.clinician.zone), first_day, last_day)
    length = timedelta(minutes=calendar.clinician.service_minutes)
    found = blockers(
        calendar,
        policy,
        last_day=last_day,
        now=now,
        client_id=client_id,
        client_appointments=client_appointments,
        line=line,
    )
    result = []
    for start, day in candidates(calendar, policy.grid_minutes, first_day, last_day, line):
        end = start + length
        reasons = {r for r, intervals in found.busy.items() if _overlaps(start, end, intervals)}
        if start < now:
            reasons.add(Reason.PAST)
        elif start < now + policy.min_notice:
            reasons.add(Reason.MIN_NOTICE)
        if policy.horizon is not None and start > now + policy.horizon:
            reasons.add(Reason.HORIZON)
        if policy.daily_max is not None and found.per_day.get(day, 0) >= policy.daily_max:
            reasons.add(Reason.DAILY_MAX)
        if found.client_full:
            reasons.add(Reason.CLIENT_CAP)
        result.append(RefSlot(start, end, day, frozenset(reasons)))
    return result
