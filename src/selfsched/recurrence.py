"""Calendar events to busy intervals, with RRULE/EXDATE expanded by python-dateutil.

A recurring event repeats the *local wall-clock* time of its first occurrence: a 12:00 Monday
meeting stays at 12:00 after the clocks change. The rule is expanded in the zone the event was
written in (:attr:`CalendarEvent.zone <selfsched.CalendarEvent.zone>`, from its wall time
``wall_start``, as RFC 5545 expands a ``DTSTART;TZID``), or, for an event whose start was given in
UTC or at a fixed offset, in the clinician's zone from the start's wall time there. Each
occurrence's wall time is turned into an instant the way RFC 5545 says: a skipped time uses the UTC
offset before the gap, a repeated time its first occurrence (Python's ``fold=0`` does both), except
for the event's own first occurrence, which is exactly its start. An occurrence lasts the first
occurrence's elapsed duration.

What a calendar rule may be: its occurrences are at least :data:`MIN_SPACING` apart (decided from
the rule's structure when the event is built), and a ``COUNT`` is at most :data:`MAX_COUNT`.
Expanding a window costs time in proportion to the window, not to the time since the first
occurrence: the expansion starts from the last period of the rule that begins at or before the
window (see :class:`_Pattern`).

All-day events block whole local dates: from the first instant of the date to the first instant of
the next, in the clinician's zone (23 or 25 hours on DST days).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
from collections.abc import Iterable
from datetime import MAXYEAR, UTC, datetime, time, timedelta, tzinfo
from typing import Any

import attrs
from dateutil.rrule import (
    DAILY,
    HOURLY,
    MINUTELY,
    MONTHLY,
    SECONDLY,
    WEEKLY,
    YEARLY,
    rrule,
    rrulestr,
    weekday,
)

from selfsched import _time
from selfsched.errors import InvalidRecurrence
from selfsched.model import CalendarEvent, EventKind

__all__ = ["MAX_COUNT", "MIN_SPACING", "busy_intervals", "occurrences", "validate_rule"]

MIN_SPACING = timedelta(minutes=15)
"""The closest two occurrences of a recurring event may come, in wall-clock time.

A block that recurs more often is not a calendar event, and its expansion would cost every page
load thousands of occurrences a week. Rules that could come closer are refused when the event is
built (:class:`~selfsched.errors.InvalidRecurrence`), judged from the rule's structure alone:

- ``FREQ=SECONDLY`` is refused; ``FREQ=MINUTELY`` needs ``INTERVAL=15`` or more and one second;
- the times of one period (``BYHOUR`` x ``BYMINUTE`` x ``BYSECOND``, each defaulting to the first
  start's) must be 15 minutes apart, and so must the last time of one period and the first of the
  next: of the next hour for ``FREQ=HOURLY`` (the next hour in ``BYHOUR``), of the next day for
  ``DAILY`` and longer periods (``BYHOUR=0,23;BYMINUTE=0,50`` comes 10 minutes apart across
  midnight, even in a weekly rule whose days are never consecutive).

``BYSETPOS`` and the day parts (``BYDAY``, ``BYMONTHDAY``, ...) only remove occurrences, so they
never make a rule denser and are not needed to decide. (The event's own first occurrence may be
closer to the rule's next one: it is one occurrence, not a pattern.)
"""

MAX_COUNT = 1000
"""The largest ``COUNT`` a rule may have; end a longer series with ``UNTIL``.

A ``COUNT`` can only be honoured by counting from the first occurrence, so the first expansion
of such a rule counts its occurrences once (at most this many) and then treats the rule as ending
at the last of them, like an ``UNTIL``: later windows cost what any other rule's do.
"""

_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)
_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)
_UNTIL_DATE = re.compile(r"UNTIL=(\d{8})(?=;|$)", re.IGNORECASE)
_WHOLE = re.compile(r"[0-9]+")
_FORBIDDEN = ("DTSTART", "\n", "\r", "RDATE", "EXRULE")


def _check_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        got = f", got {type(text).__name__} {text!r}" if text is not None else ""
        raise InvalidRecurrence(
            f"a recurring event needs an RRULE (rrule, a string) such as "
            f"'FREQ=WEEKLY;BYDAY=MO'{got}."
        )
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    upper = rule.upper()
    for word in _FORBIDDEN:
        if word in upper:
            shown = word.encode("unicode_escape").decode()
            raise InvalidRecurrence(
                f"RRULE {text!r} contains {shown!r}: give one RRULE line only; the first "
                f"occurrence is the event's start and exceptions go in `exdates`."
            )
    parts = dict(p.partition("=")[::2] for p in upper.split(";") if p)
    if "FREQ" not in parts:
        raise InvalidRecurrence(f"RRULE {text!r} has no FREQ; e.g. 'FREQ=WEEKLY;BYDAY=MO'.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidRecurrence(f"RRULE {text!r} has both COUNT and UNTIL; RFC 5545 allows one.")
    for key in ("INTERVAL", "COUNT"):
        value = parts.get(key, "1").strip()
        if not _WHOLE.fullmatch(value) or int(value) == 0:
            raise InvalidRecurrence(f"RRULE {text!r}: {key} must be a positive whole number.")
    if int(parts.get("COUNT", "1")) > MAX_COUNT:
        raise InvalidRecurrence(
            f"RRULE {text!r}: COUNT may be at most {MAX_COUNT}; end a longer series with UNTIL "
            f"(e.g. 'UNTIL=20301231')."
        )
    return rule


def _localise_until(rule: str, z: tzinfo) -> str:
    """Rewrite ``UNTIL=...Z`` (UTC) as the same instant's wall time in *z*, and a date-only
    ``UNTIL`` as the last second of that local date."""

    def local(match: re.Match[str]) -> str:
        instant = datetime.strptime(match[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return f"UNTIL={instant.astimezone(z):%Y%m%dT%H%M%S}"

    # A date-only UNTIL includes that whole day (dateutil would read it as its midnight).
    return _UNTIL_DATE.sub(r"UNTIL=\1T235959", _UNTIL_UTC.sub(local, rule))


@functools.lru_cache(maxsize=1024)
def _compiled(rule: str, dtstart: datetime, zone_key: str) -> rrule:
    try:
        text = _localise_until(rule, _time.zone(zone_key))
        parsed = rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise InvalidRecurrence(
            f"RRULE {rule!r} cannot be parsed ({exc}); write it as RFC 5545 text, e.g. "
            f"'FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20261231'."
        ) from exc
    if not isinstance(parsed, rrule):  # pragma: no cover - only a full rruleset text does this
        raise InvalidRecurrence(f"RRULE {rule!r} must be a single rule.")
    return parsed


_HOUR = timedelta(hours=1)
_MINUTE = timedelta(minutes=1)
_RESTART_AFTER = 16
"""Steps of a rule's periods before a window from which restarting it pays: a restart costs what
dateutil spends on three or four periods, and this many cost four times that."""


def _sorted(values: Iterable[int] | None) -> tuple[int, ...] | None:
    return None if values is None else tuple(sorted(values))


def _period_start(  # noqa: PLR0911  (one return per FREQ reads best)
    freq: int, interval: int, wkst: int, first: datetime, after: datetime
) -> datetime | None:
    """The latest start of a period of the rule at or before *after*, if later than *first*'s.

    A rule's periods are the year, month, week (from WKST), day, hour or minute of its first
    occurrence, and every *interval*-th one after it; occurrences lie inside their period. So
    every occurrence at or after *after* lies in the returned period or a later one, and the
    returned period is whole (it is not the first one, whose occurrences before the first start
    are cut). ``None`` when fewer than :data:`_RESTART_AFTER` steps of *interval* periods lie
    between them, where running on from *first* costs less than restarting (and for
    ``SECONDLY``, which no accepted rule has).
    """
    if freq == SECONDLY:
        return None
    if freq == YEARLY:
        k = (after.year - first.year) // interval
        return datetime(first.year + k * interval, 1, 1) if k >= _RESTART_AFTER else None  # noqa: DTZ001  (a wall time)
    if freq == MONTHLY:
        start = first.year * 12 + first.month - 1
        k = (after.year * 12 + after.month - 1 - start) // interval
        if k < _RESTART_AFTER:
            return None
        year, month = divmod(start + k * interval, 12)
        return datetime(year, month + 1, 1)  # noqa: DTZ001
    if freq == WEEKLY:
        week = first.date() - timedelta(days=(first.weekday() - wkst) % 7)
        after_week = after.date() - timedelta(days=(after.weekday() - wkst) % 7)
        k = (after_week - week).days // 7 // interval
        restart = week + timedelta(weeks=k * interval)
        return datetime.combine(restart, time()) if k >= _RESTART_AFTER else None
    if freq == DAILY:
        k = (after.date() - first.date()).days // interval
        restart = first.date() + timedelta(days=k * interval)
        return datetime.combine(restart, time()) if k >= _RESTART_AFTER else None
    unit = _HOUR if freq == HOURLY else _MINUTE
    origin = first.replace(minute=0 if freq == HOURLY else first.minute, second=0)
    k = (after - origin) // unit // interval
    return origin + k * interval * unit if k >= _RESTART_AFTER else None


def _parts(rule: rrule) -> dict[str, Any]:
    """A compiled rule's BY... parts with every default the first start gave it filled in.

    dateutil derives missing parts from DTSTART (a monthly rule's day of the month, a weekly
    rule's weekday, the time of day), so a rule restarted elsewhere must be given them all. They
    are read from the compiled rule's attributes, where dateutil keeps them.
    """
    state = vars(rule)
    weekdays = [
        *(state["_byweekday"] or ()),
        *(weekday(d, n) for d, n in state["_bynweekday"] or ()),
    ]
    monthdays = (*state["_bymonthday"], *state["_bynmonthday"])
    return {
        "wkst": state["_wkst"],
        "bysetpos": state["_bysetpos"],
        "bymonth": state["_bymonth"],
        "bymonthday": monthdays or None,
        "byyearday": state["_byyearday"],
        "byeaster": state["_byeaster"],
        "byweekno": state["_byweekno"],
        "byweekday": weekdays or None,
        "byhour": _sorted(state["_byhour"]),
        "byminute": _sorted(state["_byminute"]),
        "bysecond": _sorted(state["_bysecond"]),
    }


_NEVER = datetime.min  # noqa: DTZ901  (a wall time before every occurrence)


@attrs.frozen(eq=False)
class _Pattern:
    """A rule that can be expanded from any of its periods, not only from its first occurrence.

    dateutil's ``between`` runs the rule from DTSTART every time, so a window years after the
    first occurrence costs every occurrence since. A rule's occurrences repeat with its periods,
    though: restarted at the start of a later period (:func:`_period_start`), with every BY...
    part it took from DTSTART given explicitly, the rule yields exactly the occurrences of the
    original from that period on. ``COUNT`` is the one part that depends on what came before;
    it is replaced by an ``UNTIL`` at its last occurrence, found by counting once (at most
    :data:`MAX_COUNT`).
    """

    rule: rrule
    """The rule as compiled, from its first occurrence."""
    first: datetime
    freq: int
    interval: int
    wkst: int
    until: datetime | None

    @classmethod
    def of(cls, rule: rrule) -> _Pattern:
        """The pattern of a compiled rule (counts a ``COUNT`` rule's occurrences once)."""
        state = vars(rule)
        until: datetime | None = state["_until"]
        if state["_count"] is not None:
            last = _NEVER
            for last in rule:  # noqa: B007  (at most MAX_COUNT occurrences)
                pass
            until = last
        return cls(
            rule, state["_dtstart"], state["_freq"], state["_interval"], state["_wkst"], until
        )

    def between(self, after: datetime, before: datetime) -> list[datetime]:
        """Occurrence wall times in ``[after, before]``, as ``rule.between(..., inc=True)``."""
        if before < self.first or (self.until is not None and after > self.until):
            return []
        start = _period_start(self.freq, self.interval, self.wkst, self.first, after)
        if start is None:
            return self.rule.between(after, before, inc=True)
        restarted = self.rule.replace(
            dtstart=start, count=None, until=self.until, **_parts(self.rule)
        )
        return restarted.between(after, before, inc=True)


def _closest(offsets: Iterable[int]) -> int | None:
    """The least gap between sorted distinct *offsets*, or ``None`` for fewer than two."""
    return min((b - a for a, b in itertools.pairwise(offsets)), default=None)


def _spacing(rule: rrule) -> int:
    """A lower bound, in wall-clock seconds, of the time between two occurrences of *rule*.

    Within a period the occurrences are its times (``offsets`` from the start of the hour or
    day); between periods, the last time of one and the first of the next, the periods being at
    least ``apart`` units of ``unit`` seconds apart. See :data:`MIN_SPACING`.
    """
    state = vars(rule)
    freq, interval = state["_freq"], state["_interval"]
    if freq == SECONDLY:
        return 0
    seconds = sorted(state["_bysecond"])
    if freq == MINUTELY:
        offsets, unit, apart = seconds, 60, interval
    elif freq == HOURLY:
        offsets = sorted(60 * m + s for m in state["_byminute"] for s in seconds)
        hours = sorted(state["_byhour"] or range(24))
        cyclic = [*hours, hours[0] + 24]
        apart = max(interval, _closest(cyclic) or 24)
        unit = 3600
    else:
        offsets = sorted(
            3600 * h + 60 * m + s
            for h in state["_byhour"]
            for m in state["_byminute"]
            for s in seconds
        )
        unit, apart = 86_400, interval if freq == DAILY else 1
    across: int = apart * unit - (offsets[-1] - offsets[0])
    within = _closest(offsets)
    return across if within is None else min(within, across)


@attrs.frozen(eq=False)
class _Kept:
    """Occurrences of one rule over the wall-time window ``[lo, hi]``, and their instants."""

    lo: datetime
    hi: datetime
    walls: list[datetime]
    starts: list[int]


class _Expansion:
    """One rule's occurrences over the widest wall-time window asked for so far.

    Expanding an RRULE with dateutil costs microseconds per occurrence; the slot calculator asks
    the same rules about overlapping windows on every page load. The occurrences depend only on
    the rule text, the first wall time and the zone, so they are kept (with their instants) and
    sliced for narrower windows. A window that overlaps the kept one widens it; a disjoint one
    replaces it. A window not kept is expanded from the rule's last period before it
    (:class:`_Pattern`), so its cost does not grow with the time since the first occurrence.
    Updates replace one immutable snapshot, so concurrent readers never see a half-built state.
    """

    __slots__ = ("pattern", "rule", "state", "zone")

    def __init__(self, rule: rrule, z: tzinfo) -> None:
        self.rule = rule
        self.zone = z
        self.pattern: _Pattern | None = None
        self.state: _Kept | None = None

    def between(self, after: datetime, before: datetime) -> tuple[list[datetime], list[int]]:
        """Occurrence wall times in ``[after, before]`` and their instants (``fold=0``)."""
        state = self.state
        if state is None or after < state.lo or before > state.hi:
            lo, hi = after, before
            if state is not None and after <= state.hi and state.lo <= before:
                lo, hi = min(after, state.lo), max(before, state.hi)
            pattern = self.pattern
            if pattern is None:
                pattern = self.pattern = _Pattern.of(self.rule)
            z = self.zone
            walls = pattern.between(lo, hi)
            starts = [int(w.replace(tzinfo=z, fold=0).astimezone(UTC).timestamp()) for w in walls]
            fresh = _Kept(lo, hi, walls, starts)
            if _keep(len(walls), 0 if self.state is None else len(self.state.walls)):
                self.state = fresh
            state = fresh
        walls, starts = state.walls, state.starts
        i = bisect.bisect_left(walls, after)
        j = bisect.bisect_right(walls, before)
        return walls[i:j], starts[i:j]


# Kept occurrences across all rules; past this many the memo starts afresh (bounded memory).
_KEEP_AT_MOST = 200_000
_kept = [0]


def _keep(count: int, replaced: int) -> bool:
    """Whether to keep *count* new occurrences (replacing *replaced*) within the bound."""
    if count > _KEEP_AT_MOST // 16:
        return False
    _kept[0] += count - replaced
    if _kept[0] > _KEEP_AT_MOST:
        _expansion.cache_clear()
        _kept[0] = count
    return True


@functools.lru_cache(maxsize=4096)
def _expansion(rule: str, dtstart: datetime, zone_key: str, z: tzinfo) -> _Expansion:
    return _Expansion(_compiled(rule, dtstart, zone_key), z)


_CYCLE_YEARS = 400
"""The Gregorian calendar repeats every 400 years, weekdays and leap days included."""

_PERIODS_PER_CYCLE = {
    YEARLY: _CYCLE_YEARS,
    MONTHLY: 12 * _CYCLE_YEARS,
    WEEKLY: 146_097 // 7,
    DAILY: 146_097,
    HOURLY: 146_097 * 24,
    MINUTELY: 146_097 * 24 * 60,
    SECONDLY: 146_097 * 24 * 60 * 60,
}
"""How many of each FREQ's periods make one 400-year cycle (146,097 days, 20,871 weeks)."""


@functools.lru_cache(maxsize=1024)
def _never_occurs(text: str, first: datetime) -> bool:
    """Whether a rule's pattern yields no occurrence at all, decided in bounded time.

    dateutil checks COUNT and UNTIL only when a period yields an occurrence, so a rule that can
    never match (``BYMONTH=2;BYMONTHDAY=30``) scans every period up to the year 9999, seconds per
    call. What a period holds depends only on its place in the 400-year cycle, which is ``C``
    periods long; a rule with ``INTERVAL=n`` visits the periods ``i0 + k*n``, whose places are
    those congruent to ``i0`` modulo ``gcd(n, C)``. So it yields an occurrence if and only if the
    same rule with ``INTERVAL=gcd(n, C)`` does, and that rule repeats every 400 years: it is
    probed from the first occurrence moved by whole cycles to the last cycle before 9999, where
    the scan ends within one cycle. (A rule that does occur stops the scan at its first
    occurrence; the answer is kept per rule text and first wall time.)
    """
    rule = _compiled(text, first, "UTC")
    state = vars(rule)
    step = math.gcd(state["_interval"], _PERIODS_PER_CYCLE[state["_freq"]])
    shifts = (MAXYEAR - _CYCLE_YEARS - first.year) // _CYCLE_YEARS
    probe = rule.replace(
        dtstart=first.replace(year=first.year + shifts * _CYCLE_YEARS),
        interval=step,
        count=None,
        until=None,
    )
    return next(iter(probe), None) is None


def validate_rule(text: object, first: datetime | None = None) -> str:
    """Check an RRULE text and return it without an ``RRULE:`` prefix; raise if malformed.

    Also refuse a ``COUNT`` over :data:`MAX_COUNT` and a rule whose occurrences can come closer
    than :data:`MIN_SPACING`. With *first*, the first occurrence's wall time (naive, or aware and
    read as its own wall time), also refuse a rule that never occurs.
    """
    rule = _check_text(text)
    wall = first.replace(tzinfo=None) if first is not None else datetime(2000, 1, 3, 9)  # noqa: DTZ001  (dateutil wants a naive wall time)
    compiled = _compiled(rule, wall, "UTC")
    _check_spacing(rule, compiled)
    _check_setpos(rule, compiled)
    try:
        never = first is not None and _never_occurs(rule, wall)
    except (ValueError, IndexError, OverflowError) as exc:
        raise InvalidRecurrence(
            f"RRULE {rule!r} cannot be expanded ({exc}); check its BY... parts."
        ) from exc
    if never:
        raise InvalidRecurrence(
            f"RRULE {rule!r} never produces an occurrence (e.g. the 30th of February); check its "
            f"BY... parts."
        )
    return rule


def _check_setpos(text: str, compiled: rrule) -> None:
    """Refuse a daily or shorter rule whose BYSETPOS picks no time of its period.

    Such a period holds the same times each time (one day's ``BYHOUR`` x ``BYMINUTE`` x
    ``BYSECOND``, one hour's ``BYMINUTE`` x ``BYSECOND``, one minute's ``BYSECOND``), so the rule
    never occurs; found here from the rule's parts instead of by scanning 400 years of periods.
    """
    state = vars(compiled)
    positions, freq = state["_bysetpos"], state["_freq"]
    if not positions or freq < DAILY:
        return
    if freq == DAILY:
        size = len(state["_timeset"])
    elif freq == HOURLY:
        size = len(state["_byminute"]) * len(state["_bysecond"])
    else:
        size = len(state["_bysecond"])
    if not any(-size <= p <= size for p in positions):
        raise InvalidRecurrence(
            f"RRULE {text!r} never produces an occurrence: each period holds {size} time(s), and "
            f"BYSETPOS picks none of them; check its BYSETPOS."
        )


def _check_spacing(text: str, compiled: rrule) -> None:
    """Refuse a rule whose occurrences can come closer than :data:`MIN_SPACING`."""
    least = _spacing(compiled)
    if least >= MIN_SPACING // _SECOND:
        return
    every = f"{MIN_SPACING // timedelta(minutes=1)} minutes"
    if least == 0:
        found = "FREQ=SECONDLY is not a calendar rule"
    else:
        found = f"its occurrences can come {timedelta(seconds=least)} apart"
    raise InvalidRecurrence(
        f"RRULE {text!r}: {found}. A calendar event repeats at most every {every}: use "
        f"FREQ=MINUTELY with INTERVAL=15 or more (and one BYSECOND at most), or HOURLY and longer "
        f"periods whose BYHOUR/BYMINUTE/BYSECOND times are {every} apart, also from the last "
        f"time of one hour (or day) to the first of the next."
    )


def occurrences(event: CalendarEvent, z: tzinfo, lo: int, hi: int) -> list[tuple[int, int]]:
    """Busy intervals ``(start, end)`` in POSIX seconds of *event* overlapping ``[lo, hi)``."""
    if event.kind is EventKind.ALL_DAY:
        assert event.day is not None  # noqa: S101  (guaranteed by the model)
        start = _time.start_of_day(event.day, z)
        end = _time.start_of_day(event.day + timedelta(days=event.days), z)
        return [(start, end)] if start < hi and lo < end else []
    assert event.start is not None  # noqa: S101
    assert event.end is not None  # noqa: S101
    first = _time.ts(event.start)
    length = _time.ts_ceil(event.end) - first
    if event.kind is EventKind.ONE_OFF:
        end = first + length
        return [(first, end)] if first < hi and lo < end else []
    return _recurring(event, z, lo, hi, length)


@functools.lru_cache(maxsize=256)
def _window_walls(lo: int, hi: int, z: tzinfo) -> tuple[datetime, datetime]:
    """Wall times before and after ``[lo, hi)`` in *z*: two days before, one day after."""
    return _time.local_wall(lo, z) - 2 * _DAY, _time.local_wall(hi, z) + _DAY


def _recurring(
    event: CalendarEvent, z: tzinfo, lo: int, hi: int, length: int
) -> list[tuple[int, int]]:
    assert event.start is not None  # noqa: S101
    assert event.rrule is not None  # noqa: S101
    if event.zone is not None and event.wall_start is not None:
        # Written in a zone of its own: expanded there, from the wall time as written.
        key, z, dtstart = event.zone, _time.zone(event.zone), event.wall_start
    else:
        key = str(getattr(z, "key", "UTC"))
        dtstart = event.start.astimezone(z).replace(tzinfo=None)
    expansion = _expansion(event.rrule, dtstart, key, z)
    # Wall-time window, widened by a day either side (offsets never exceed a day), and by
    # another before it for the length: any wider window gives the same intervals below.
    after, before = _window_walls(lo, hi, z)
    after -= timedelta(0, length)
    try:
        walls, starts = expansion.between(after, before)
    except (ValueError, IndexError, OverflowError) as exc:
        # dateutil accepts some rules it cannot expand, e.g. 'FREQ=MONTHLY;BYDAY=+8MO'.
        raise InvalidRecurrence(
            f"RRULE {event.rrule!r} of event {event.title or event.id!r} cannot be expanded "
            f"({exc}); check its BY* values against RFC 5545."
        ) from exc
    if after <= dtstart <= before:
        # The first occurrence is the event as entered: its own start, also when that is the
        # second instant of a repeated wall time (which ``fold=0`` would move an hour earlier),
        # and also when the rule itself would not produce it (a Tuesday start, BYDAY=MO).
        first = _time.ts(event.start)
        if walls and walls[0] == dtstart:
            starts = [first, *starts[1:]]
        else:
            walls, starts = [dtstart, *walls], [first, *starts]
    if event.exdates:
        # An EXDATE matches an occurrence by its wall time or by its instant: the instant is what
        # matches when the occurrence's wall time was skipped and moved past a spring-forward gap.
        skipped = {e.astimezone(z).replace(tzinfo=None) for e in event.exdates}
        skipped_at = {_time.ts(e) for e in event.exdates}
        starts = [
            s
            for wall, s in zip(walls, starts, strict=True)
            if wall not in skipped and s not in skipped_at
        ]
    return [(s, s + length) for s in starts if s < hi and lo < s + length]


def busy_intervals(
    events: Iterable[CalendarEvent], z: tzinfo, lo: int, hi: int
) -> list[tuple[int, int]]:
    """All busy intervals of *events* overlapping ``[lo, hi)``, unsorted."""
    found: list[tuple[int, int]] = []
    append = found.append
    one_off = EventKind.ONE_OFF
    epoch, second = _time.EPOCH, _SECOND
    for event in events:
        if event.kind is one_off:  # inline :func:`occurrences` for the commonest kind
            start, end = event.start, event.end
            assert start is not None  # noqa: S101  (guaranteed by the model)
            assert end is not None  # noqa: S101
            s = (start - epoch) // second
            e = -((epoch - end) // second)
            if s < hi and lo < e:
                append((s, e))
        else:
            found.extend(occurrences(event, z, lo, hi))
    return found
