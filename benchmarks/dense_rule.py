"""One week of ``available_slots`` with the densest rule a calendar event may have (issue 7, 2).

``FREQ=MINUTELY;INTERVAL=15`` (:data:`selfsched.recurrence.MIN_SPACING` apart, the densest rule
selfsched accepts) that began on Monday 2020-01-06 09:00 New York, six years before the window,
added to W1's calendar; the window is the week of Monday 2026-03-02 (the clocks change on its
Sunday). Before the fix such a rule was expanded from its first occurrence on every cold call;
now from its last period before the window, so its cost follows the window.

- ``WEEK ordinary``: W1's calendar over that week (its 3 weekly rules, one-off and all-day
  events and appointments);
- ``WEEK dense rule cold``: the same with the dense event, built anew in every call (so the
  event, the rule and its validation are new) with its first start moved back by another
  15 minutes each time: the same occurrences, but no memo of selfsched's has seen the rule;
- ``WEEK dense rule cold, 1 week old``: the same, the rule begun on 2026-02-23 (a week before
  the window): cold cost that would grow with the time since the first start would show here;
- ``WEEK dense rule warm``: one event object, built once (the rule's memo kept between calls).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from workloads import ZONE, Workload

import selfsched
from selfsched import CalendarEvent, ClinicianCalendar, Slot

RULE = "FREQ=MINUTELY;INTERVAL=15"
LENGTH = timedelta(minutes=5)
QUARTER = timedelta(minutes=15)
FIRST_DAY = date(2026, 3, 2)
LAST_DAY = date(2026, 3, 8)
OLD_START = datetime(2020, 1, 6, 9, 0, tzinfo=ZoneInfo(ZONE))
RECENT_START = datetime(2026, 2, 23, 9, 0, tzinfo=ZoneInfo(ZONE))
NAMES = (
    "WEEK ordinary",
    "WEEK dense rule cold",
    "WEEK dense rule cold, 1 week old",
    "WEEK dense rule warm",
)


def week(w1: Workload) -> Workload:
    """W1's calendar, asked about one week."""
    return attrs.evolve(w1, name="WEEK", first_day=FIRST_DAY, last_day=LAST_DAY)


def dense(start: datetime) -> CalendarEvent:
    """The densest accepted rule, first starting at *start*."""
    return CalendarEvent.recurring(RULE, start=start, duration=LENGTH, title="dense", id="dense")


def with_event(w: Workload, event: CalendarEvent) -> Workload:
    """*w* with *event* added to its calendar."""
    cal = w.calendar
    calendar = ClinicianCalendar(
        clinician=cal.clinician, events=(*cal.events, event), appointments=cal.appointments
    )
    return attrs.evolve(w, name="WEEK+dense", calendar=calendar)


def _view(w: Workload) -> tuple[Slot, ...]:
    return selfsched.available_slots(
        w.calendar, w.policy, first_day=w.first_day, last_day=w.last_day, now=w.now
    )


def contenders(w1: Workload) -> dict[str, Callable[[], object]]:
    """Timed callables, one week of the client view each."""
    plain = week(w1)
    warm = with_event(plain, dense(OLD_START))
    steps = itertools.count(1)

    def cold(first: datetime) -> Callable[[], object]:
        def call() -> object:
            # A first start 15 minutes earlier each call: the same occurrences, a new rule.
            return _view(with_event(plain, dense(first - next(steps) * QUARTER)))

        return call

    return {
        NAMES[0]: lambda: _view(plain),
        NAMES[1]: cold(OLD_START),
        NAMES[2]: cold(RECENT_START),
        NAMES[3]: lambda: _view(warm),
    }


def gate_workload(w1: Workload) -> Workload:
    """The dense week, for the correctness gate (selfsched against the baseline)."""
    return with_event(week(w1), dense(OLD_START))


def report(timings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The four medians (CPU clock) side by side."""
    per = {name: timings[name]["cpu"]["median"] for name in NAMES if name in timings}
    ordinary = per[NAMES[0]]
    text = "One week of available_slots, FREQ=MINUTELY;INTERVAL=15 begun six years before: " + (
        ", ".join(
            f"{name.removeprefix('WEEK ')} {seconds * 1e3:.2f} ms ({seconds / ordinary:.1f}x)"
            for name, seconds in per.items()
        )
    )
    return {"seconds": per, "text": text}
