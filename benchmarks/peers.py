"""What a Python developer could pick instead of selfsched, built to give the same free slots.

- ``slotify``: slotify-scheduling 0.5.1. A ``SlotGenerator`` over a weekly ``Schedule`` (the work
  ranges, 15-minute interval, 50-minute duration, skipped wall times skipped, repeated ones kept
  both), an ``AvailabilityEngine`` whose ``BookingPolicy`` carries the minimum notice, the horizon
  and every busy interval as a ``BusyPeriod``; ``engine.available_slots(first, last, now=now)``.
- ``portion``: portion 2.6.3. ``free = work - busy`` with ``closedopen`` intervals of aware UTC
  datetimes, then each atomic free interval is cut into grid slots (the first grid mark in local
  time at or after its start, every 15 minutes while the 50 minutes fit).

Both read busy intervals through :mod:`inputs` (the same code the baseline uses); each returns a
list of ``(start, end)`` in UTC, in time order. A peer that is not installed is skipped.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from inputs import Interval, busy, days, window, work_ranges

from selfsched import ApprovalPolicy, ClinicianCalendar
from selfsched.slots import NO_HORIZON_SEARCH

FreeSlots = Callable[[ClinicianCalendar, ApprovalPolicy, date, date, datetime], list[Interval]]


def slotify_free_slots(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[Interval]:
    """Free slots computed by slotify-scheduling."""
    import slotify  # noqa: PLC0415  (optional peer)

    clinician = calendar.clinician
    weekly: dict[int, list[tuple[Any, Any]]] = {
        weekday: [(r.start, r.end) for r in ranges]
        for weekday, ranges in enumerate(clinician.work_hours.days)
        if ranges
    }
    generator = slotify.SlotGenerator(
        schedule=slotify.Schedule(weekly=weekly),
        duration=clinician.service_minutes,
        interval=policy.grid_minutes,
        timezone=clinician.zone,
        dst_ambiguous="both",
        dst_nonexistent="skip",
    )
    lo, hi = window(clinician, first_day, last_day)
    periods = tuple(
        slotify.BusyPeriod(s, e)
        for s, e in busy(calendar, policy, lo - timedelta(days=1), hi + timedelta(days=1))
    )
    engine = slotify.AvailabilityEngine(
        generator,
        policy=slotify.BookingPolicy(
            minimum_notice=policy.min_notice,
            maximum_horizon=policy.horizon,
            busy_periods=periods,
        ),
    )
    slots = engine.available_slots(first_day, last_day, now=now)
    return [(s.start.astimezone(UTC), s.end.astimezone(UTC)) for s in slots]


def portion_free_slots(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[Interval]:
    """Free slots composed with portion: ``free = work - busy``, cut into grid slots."""
    import portion as P  # noqa: N812, PLC0415  (optional peer; its documented alias)

    clinician = calendar.clinician
    z = ZoneInfo(clinician.zone)
    lo, hi = window(clinician, first_day, last_day)
    work = P.Interval(
        *(
            P.closedopen(s, e)
            for day in days(first_day, last_day)
            for s, e in work_ranges(clinician, day)
        )
    )
    blocked = P.Interval(
        *(
            P.closedopen(s, e)
            for s, e in busy(calendar, policy, lo - timedelta(days=1), hi + timedelta(days=1))
        )
    )
    free = work - blocked
    length = timedelta(minutes=clinician.service_minutes)
    grid = timedelta(minutes=policy.grid_minutes)
    grid_s = policy.grid_minutes * 60
    earliest = now + policy.min_notice
    latest = now + (policy.horizon or NO_HORIZON_SEARCH)
    result: list[Interval] = []
    for atomic in free:
        start: datetime = atomic.lower
        end: datetime = atomic.upper
        local = start.astimezone(z)
        into = (local.minute * 60 + local.second) % grid_s
        if into or local.microsecond:
            start += timedelta(seconds=grid_s - into, microseconds=-local.microsecond)
        while start + length <= end:
            if earliest <= start <= latest:
                result.append((start, start + length))
            start += grid
    return result


def installed() -> dict[str, FreeSlots]:
    """The peers importable in this environment, by name."""
    found: dict[str, FreeSlots] = {}
    if importlib.util.find_spec("slotify") is not None:
        found["slotify"] = slotify_free_slots
    if importlib.util.find_spec("portion") is not None:
        found["portion"] = portion_free_slots
    return found
