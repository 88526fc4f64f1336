"""What RRULE expansion costs per clinician, against dateutil's own parse-and-expand floor.

For each N200 clinician, its recurring events over its 90-day window:

- ``RRULE selfsched``: ``selfsched.recurrence.busy_intervals`` as the slot engine calls it
  (rule parsed once and memoised; occurrences localised to UTC instants, EXDATEs applied);
- ``RRULE selfsched cold``: the same with selfsched's rule memo cleared before every clinician,
  i.e. the first page load after a restart;
- ``RRULE dateutil floor``: ``rrulestr(rule, dtstart=...).between(after, before, inc=True)`` on
  naive wall times: parsing and expanding only, no zone, no EXDATE, no instants.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from dateutil.rrule import rrulestr
from workloads import Practice

from selfsched import CalendarEvent, EventKind, recurrence
from selfsched import _time as selfsched_time

_Row = tuple[
    tuple[CalendarEvent, ...], tzinfo, int, int, list[tuple[str, datetime, datetime, datetime]]
]


def _inputs(practice: Practice) -> list[_Row]:
    rows: list[_Row] = []
    for w in practice.workloads:
        z = w.calendar.clinician.tz
        events = tuple(e for e in w.calendar.events if e.kind is EventKind.RECURRING)
        lo = selfsched_time.start_of_day(w.first_day, z)
        hi = selfsched_time.start_of_day(w.last_day + timedelta(days=1), z)
        floor_args = []
        for e in events:
            assert e.start is not None  # noqa: S101
            assert e.end is not None  # noqa: S101
            assert e.rrule is not None  # noqa: S101
            wall = e.start.astimezone(z).replace(tzinfo=None)
            after = selfsched_time.local_wall(lo, z) - (e.end - e.start)
            before = selfsched_time.local_wall(hi, z)
            floor_args.append((e.rrule, wall, after, before))
        rows.append((events, z, lo, hi, floor_args))
    return rows


def contenders(practice: Practice) -> dict[str, Callable[[], object]]:
    """Timed callables; each covers every clinician of the practice once."""
    rows = _inputs(practice)

    def warm() -> None:
        for events, z, lo, hi, _ in rows:
            recurrence.busy_intervals(events, z, lo, hi)

    def cold() -> None:
        for events, z, lo, hi, _ in rows:
            _clear()
            recurrence.busy_intervals(events, z, lo, hi)

    def floor() -> None:
        for *_, args in rows:
            for rule, wall, after, before in args:
                rrulestr(rule, dtstart=wall).between(after, before, inc=True)

    return {"RRULE selfsched": warm, "RRULE selfsched cold": cold, "RRULE dateutil floor": floor}


_MEMOS = [
    memo
    for memo in vars(recurrence).values()
    if callable(memo) and callable(getattr(memo, "cache_clear", None))
]
"""recurrence's memos, found once: scanning the module in every call would be timed with it."""


def _clear() -> None:
    for memo in _MEMOS:
        memo.cache_clear()


def report(timings: dict[str, dict[str, Any]], practice: Practice) -> dict[str, Any]:
    """Per-clinician medians and their ratios to the dateutil floor."""
    n = len(practice.workloads)
    per = {
        name: timings[name]["cpu"]["median"] / n
        for name in ("RRULE selfsched", "RRULE selfsched cold", "RRULE dateutil floor")
    }
    floor = per["RRULE dateutil floor"]
    text = (
        f"RRULE expansion per clinician (3 weekly rules, 90 days): selfsched "
        f"{per['RRULE selfsched'] * 1e6:.1f} us ({per['RRULE selfsched'] / floor:.2f}x floor), "
        f"cold {per['RRULE selfsched cold'] * 1e6:.1f} us "
        f"({per['RRULE selfsched cold'] / floor:.2f}x floor); dateutil parse-and-expand floor "
        f"{floor * 1e6:.1f} us"
    )
    return {"per_clinician_seconds": per, "text": text}
