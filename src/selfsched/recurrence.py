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

All-day events block whole local dates: from the first instant of the date to the first instant of
the next, in the clinician's zone (23 or 25 hours on DST days).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from datetime import MAXYEAR, UTC, datetime, timedelta, tzinfo

from dateutil.rrule import rrule, rrulestr

from selfsched import _time
from selfsched.errors import InvalidRecurrence
from selfsched.model import CalendarEvent, EventKind

__all__ = ["busy_intervals", "occurrences", "validate_rule"]

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


class _Expansion:
    """One rule's occurrences over the widest wall-time window asked for so far.

    Expanding an RRULE with dateutil costs microseconds per occurrence and restarts from the
    first occurrence on every call; the slot calculator asks the same rules about overlapping
    windows on every page load. The occurrences depend only on the rule text, the first wall time
    and the zone, so they are kept (with their instants) and sliced for narrower windows. A
    window that overlaps the kept one widens it; a disjoint one replaces it. Updates replace one
    immutable snapshot, so concurrent readers never see a half-built state.
    """

    __slots__ = ("rule", "state", "zone")

    def __init__(self, rule: rrule, z: tzinfo) -> None:
        self.rule = rule
        self.zone = z
        self.state: tuple[datetime, datetime, list[datetime], list[int]] | None = None

    def between(self, after: datetime, before: datetime) -> tuple[list[datetime], list[int]]:
        """Occurrence wall times in ``[after, before]`` and their instants (``fold=0``)."""
        state = self.state
        if state is None or after < state[0] or before > state[1]:
            lo, hi = after, before
            if state is not None and after <= state[1] and state[0] <= before:
                lo, hi = min(after, state[0]), max(before, state[1])
            z = self.zone
            walls = self.rule.between(lo, hi, inc=True)
            starts = [int(w.replace(tzinfo=z, fold=0).astimezone(UTC).timestamp()) for w in walls]
            if _keep(len(walls), 0 if self.state is None else len(self.state[2])):
                self.state = (lo, hi, walls, starts)
            state = (lo, hi, walls, starts)
        walls, starts = state[2], state[3]
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


def _never_occurs(rule: rrule, first: datetime, interval: int) -> bool:
    """Whether a rule's pattern yields no occurrence at all, decided in bounded time.

    dateutil checks COUNT and UNTIL only when a period yields an occurrence, so a rule that can
    never match (``BYMONTH=2;BYMONTHDAY=30``) scans every period up to the year 9999, seconds per
    call. The pattern without COUNT/UNTIL repeats every ``400 * INTERVAL`` years, so it is probed
    from a first occurrence moved forward by whole cycles, close enough to 9999 that the scan ends
    after one or two cycles. A rule whose cycle does not fit is not probed.
    """
    cycle = _CYCLE_YEARS * interval
    shifts = (MAXYEAR - cycle - first.year) // cycle
    if shifts < 0:
        return False
    probe = rule.replace(
        dtstart=first.replace(year=first.year + shifts * cycle), count=None, until=None
    )
    return next(iter(probe), None) is None


def validate_rule(text: object, first: datetime | None = None) -> str:
    """Check an RRULE text and return it without an ``RRULE:`` prefix; raise if malformed.

    With *first*, the first occurrence's wall time (naive, or aware and read as its own wall
    time), also refuse a rule that never occurs.
    """
    rule = _check_text(text)
    wall = first.replace(tzinfo=None) if first is not None else datetime(2000, 1, 3, 9)  # noqa: DTZ001  (dateutil wants a naive wall time)
    compiled = _compiled(rule, wall, "UTC")
    interval = int(dict(p.partition("=")[::2] for p in rule.upper().split(";")).get("INTERVAL", 1))
    try:
        never = first is not None and _never_occurs(compiled, wall, interval)
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
