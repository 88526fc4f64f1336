"""Plain-Python readings of a calendar shared by the baseline and the peers (never by selfsched).

These re-derive the SPEC's rules independently of ``selfsched``'s internals so that the
correctness gate compares two implementations, not one implementation with itself:

- busy intervals as aware UTC datetimes (``BOOKED`` and holding ``PENDING`` appointments with
  their buffers; one-off, all-day and recurring events; RRULEs expanded with dateutil in the
  clinician's zone keeping the wall-clock time, skipped and repeated times resolved with
  ``fold=0`` as RFC 5545 says);
- each day's work ranges as UTC instants, and the candidate slot starts of each range
  (skipped wall times dropped, repeated ones kept twice).

RRULE expansion is memoised (``functools.lru_cache``): it depends only on the rule text, the
first occurrence, the zone and the window, never on appointments. The same memo serves every
comparator that uses this module; selfsched keeps its own (see README).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from selfsched import (
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    EventKind,
)

Interval = tuple[datetime, datetime]


def instants(wall: datetime, z: tzinfo) -> list[datetime]:
    """Every UTC instant whose wall time in *z* is *wall*: none, one, or two (in order)."""
    found: list[datetime] = []
    for fold in (0, 1):
        candidate = wall.replace(tzinfo=z, fold=fold).astimezone(UTC)
        if candidate.astimezone(z).replace(tzinfo=None) == wall and candidate not in found:
            found.append(candidate)
    return sorted(found)


def bound(wall: datetime, z: tzinfo, *, latest: bool) -> datetime:
    """A range boundary: the earliest (or latest) instant showing *wall*, or the gap's end."""
    found = instants(wall, z)
    if found:
        return found[-1] if latest else found[0]
    # Skipped: the transition instant, i.e. the later of the two fold readings.
    a = wall.replace(tzinfo=z, fold=0).astimezone(UTC)
    b = wall.replace(tzinfo=z, fold=1).astimezone(UTC)
    lo, hi = min(a, b), max(a, b)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid.astimezone(z).utcoffset() == lo.astimezone(z).utcoffset():
            lo = mid
        else:
            hi = mid
    return hi


def day_start(day: date, z: tzinfo) -> datetime:
    """The first UTC instant of a local date."""
    return bound(datetime.combine(day, time()), z, latest=False)


def days(first_day: date, last_day: date) -> Iterator[date]:
    """Every date from *first_day* to *last_day*, inclusive."""
    day = first_day
    while day <= last_day:
        yield day
        day += timedelta(days=1)


def work_ranges(clinician: Clinician, day: date) -> list[Interval]:
    """The day's work ranges as ``(start, end)`` UTC instants."""
    z = ZoneInfo(clinician.zone)
    midnight = datetime.combine(day, time())
    result: list[Interval] = []
    for r in clinician.work_hours.days[day.weekday()]:
        lo = bound(midnight + timedelta(minutes=r.start_minute), z, latest=False)
        if r.end_minute == 24 * 60:
            hi = day_start(day + timedelta(days=1), z)
        else:
            hi = bound(midnight + timedelta(minutes=r.end_minute), z, latest=True)
        result.append((lo, hi))
    return result


def candidates(clinician: Clinician, grid: int, day: date) -> list[Interval]:
    """Every grid slot ``(start, end)`` of one local date that lies inside one work range."""
    z = ZoneInfo(clinician.zone)
    length = timedelta(minutes=clinician.service_minutes)
    midnight = datetime.combine(day, time())
    found: list[Interval] = []
    for r, (lo, hi) in zip(
        clinician.work_hours.days[day.weekday()], work_ranges(clinician, day), strict=True
    ):
        first = -(-r.start_minute // grid) * grid
        for minute in range(first, r.end_minute, grid):
            found.extend(
                (start, start + length)
                for start in instants(midnight + timedelta(minutes=minute), z)
                if lo <= start and start + length <= hi
            )
    return sorted(set(found))


@functools.lru_cache(maxsize=4096)
def _expand(
    rule: str,
    first: datetime,
    last: datetime,
    written: datetime | None,
    exdates: tuple[datetime, ...],
    zone: str,
    lo: datetime,
    hi: datetime,
) -> tuple[Interval, ...]:
    z = ZoneInfo(zone)
    length = last - first
    dtstart = first.astimezone(z).replace(tzinfo=None) if written is None else written
    skipped = {e.astimezone(z).replace(tzinfo=None) for e in exdates}
    after = (lo - length).astimezone(z).replace(tzinfo=None) - timedelta(days=1)
    before = hi.astimezone(z).replace(tzinfo=None) + timedelta(days=1)
    found: list[Interval] = []
    for wall in rrulestr(rule, dtstart=dtstart).between(after, before, inc=True):
        if wall in skipped:
            continue
        start = wall.replace(tzinfo=z, fold=0).astimezone(UTC)
        if start < hi and lo < start + length:
            found.append((start, start + length))
    return tuple(found)


def event_intervals(event: CalendarEvent, zone: str, lo: datetime, hi: datetime) -> list[Interval]:
    """Busy intervals of one calendar event that overlap ``[lo, hi)``."""
    z = ZoneInfo(zone)
    if event.kind is EventKind.ALL_DAY:
        assert event.day is not None  # noqa: S101
        span = (day_start(event.day, z), day_start(event.day + timedelta(days=event.days), z))
    else:
        assert event.start is not None  # noqa: S101
        assert event.end is not None  # noqa: S101
        if event.kind is EventKind.RECURRING:
            assert event.rrule is not None  # noqa: S101
            # A rule written with a zone of its own repeats its wall time there (DTSTART;TZID).
            own = zone if event.zone is None else event.zone
            return list(
                _expand(
                    event.rrule,
                    event.start,
                    event.end,
                    event.wall_start,
                    event.exdates,
                    own,
                    lo,
                    hi,
                )
            )
        span = (event.start, event.end)
    return [span] if span[0] < hi and lo < span[1] else []


def busy(
    calendar: ClinicianCalendar, policy: ApprovalPolicy, lo: datetime, hi: datetime
) -> list[Interval]:
    """Busy intervals (appointments with buffers, events) overlapping ``[lo, hi)``, unsorted."""
    holding = {AppointmentStatus.BOOKED}
    if policy.pending_holds_slot:
        holding.add(AppointmentStatus.PENDING)
    cid = calendar.clinician.id
    before, after = policy.buffer_before, policy.buffer_after
    found: list[Interval] = [
        (a.start - before, a.end + after)
        for a in calendar.appointments
        if a.clinician_id == cid and a.status in holding
    ]
    found = [(s, e) for s, e in found if s < hi and lo < e]
    zone = calendar.clinician.zone
    for event in calendar.events:
        found.extend(event_intervals(event, zone, lo, hi))
    return found


def window(clinician: Clinician, first_day: date, last_day: date) -> Interval:
    """The UTC instants bounding a window of local dates."""
    z = ZoneInfo(clinician.zone)
    return day_start(first_day, z), day_start(last_day + timedelta(days=1), z)
