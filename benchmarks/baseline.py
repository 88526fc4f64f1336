"""The naive baseline: check every candidate slot against every busy interval.

This is what a careful developer writes first: correct (same rules, same DST handling, same
half-open overlap), with aware UTC datetimes throughout, but quadratic: each of C candidate
slots is compared with each of B busy intervals (``any`` stops at the first hit). It lives here,
never in the package, and serves the correctness gate and the G3/G8 ratios.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from inputs import Interval, busy, candidates, days, window

from selfsched import ApprovalPolicy, ClinicianCalendar
from selfsched.slots import NO_HORIZON_SEARCH


def free_slots(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[Interval]:
    """Every available slot ``(start, end)`` in UTC, in time order."""
    clinician = calendar.clinician
    lo, hi = window(clinician, first_day, last_day)
    blocked = busy(calendar, policy, lo - timedelta(days=1), hi + timedelta(days=1))
    earliest = now + policy.min_notice
    latest = now + (policy.horizon or NO_HORIZON_SEARCH)
    free: list[Interval] = []
    for day in days(first_day, last_day):
        for start, end in candidates(clinician, policy.grid_minutes, day):
            if start < earliest or start > latest:
                continue
            if any(b_start < end and start < b_end for b_start, b_end in blocked):
                continue
            free.append((start, end))
    return free


def first_available(
    calendars: list[ClinicianCalendar],
    policy: ApprovalPolicy,
    first_day: date,
    last_day: date,
    now: datetime,
) -> tuple[str, datetime] | None:
    """Naive first available: every clinician's free slots, then the earliest (first wins ties)."""
    best: tuple[str, datetime] | None = None
    for calendar in calendars:
        free = free_slots(calendar, policy, first_day, last_day, now)
        if free and (best is None or free[0][0] < best[1]):
            best = (calendar.clinician.id, free[0][0])
    return best
