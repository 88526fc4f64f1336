"""Where slots start: the sorted candidate starts of a window, for the slot calculator.

A candidate is an instant of a local date whose wall time is on the grid and whose slot of the
service's elapsed length fits inside a work range of its weekday, each range being the interval
of instants its wall-time boundaries give (:func:`selfsched._time.wall_bound`). A skipped wall
time has no instant; a repeated one has two, each judged on its own; a start inside two ranges
(they can share instants on a fall-back night) is one candidate. Dates without a clock change
come from cached week templates (two zone lookups per date), where a range's instants are simply
its wall times; only dates with a transition resolve wall times one by one. Output datetimes of
a week template are shared between views (a bounded memo): instants are immutable values, so
handing out the same objects is safe.

Private: :mod:`selfsched.slots` is the public face.
"""

from __future__ import annotations

import contextlib
import functools
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import repeat
from operator import add
from typing import NamedTuple

from selfsched import _time
from selfsched.model import Clinician, TimeRange

__all__ = ["SECOND", "Candidates", "candidates"]

_FOLD_REACH = 4 * 3600
"""Longer than any fall-back in the zone database (Antarctica/Casey went back 3 hours)."""


def _day_candidates(
    day: date, clinician: Clinician, z: tzinfo, grid: int, length: int
) -> list[int]:
    """Sorted slot starts (POSIX seconds) of one local date that fit inside a work range."""
    ranges = clinician.work_hours.days[day.weekday()]
    if not ranges:
        return []
    day0 = _time.start_of_day(day, z)
    day1 = _time.start_of_day(day + timedelta(days=1), z)
    offset = _time.utc_offset_at(day0, z)
    regular = (
        offset == _time.utc_offset_at(day1 - 1, z)
        # A fall-back just after midnight can show this date's late wall times again after day1
        # (America/St_Johns until 2010: 00:01 back to 23:01): no transition may follow closely.
        and offset == _time.utc_offset_at(day1 + _FOLD_REACH, z)
        and _time.local_wall(day0, z).time() == time()
    )
    minutes = length // 60
    starts: list[int] = []
    if regular:
        for r in ranges:
            first = -(-r.start_minute // grid) * grid
            starts.extend(
                range(day0 + first * 60, day0 + (r.end_minute - minutes) * 60 + 1, grid * 60)
            )
        return starts
    # A day with a transition: the rule itself, wall time by wall time. Each range is an
    # interval of instants, and a start is an instant of this date, on the grid by its wall time,
    # whose slot fits inside one of them. The wall time alone does not say: on a fall-back night
    # 00:00-01:30 holds 01:30 EDT, and 01:30-03:00 holds 01:00 EST. Two such intervals may share
    # instants there; a start that fits in both is still one start.
    midnight = datetime.combine(day, time())
    spans = [_instant_span(r, midnight, day1, z) for r in ranges]
    # An instant inside a range shows a wall time less than one fall-back away from the range's
    # own wall times, so grid times further than _FOLD_REACH from every range (sorted, apart) are
    # not looked up.
    reach = _FOLD_REACH // 60
    first = -(-max(0, ranges[0].start_minute - reach) // grid) * grid
    stop = min(24 * 60, ranges[-1].end_minute + reach)
    for minute in range(first, stop, grid):
        instants = _time.wall_instants(midnight + timedelta(minutes=minute), z)
        starts.extend(s for s in instants if any(span.holds(s, length) for span in spans))
    return sorted(starts)


class _InstantSpan(NamedTuple):
    """A work range of one date as instants (POSIX seconds): ``[start, end)``."""

    start: int
    end: int

    def holds(self, start: int, length: int) -> bool:
        """Whether a slot from *start* lasting *length* seconds lies inside the span."""
        return self.start <= start <= self.end - length


def _instant_span(r: TimeRange, midnight: datetime, day1: int, z: tzinfo) -> _InstantSpan:
    """The instants a work range covers on the date of *midnight* (a naive wall time).

    Its boundaries are wall times placed by :func:`_time.wall_bound`; ``24:00`` is *day1*, the
    first instant of the next date.
    """
    start = _time.wall_bound(midnight + timedelta(minutes=r.start_minute), z, end=False)
    if r.end_minute == 24 * 60:
        return _InstantSpan(start, day1)
    end = _time.wall_bound(midnight + timedelta(minutes=r.end_minute), z, end=True)
    return _InstantSpan(start, end)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
SECOND = timedelta(seconds=1)
_FOLD_REACH_WALL = timedelta(seconds=_FOLD_REACH)
_WEEK = 7 * _time.DAY

# A week of slot starts from a given weekday, for dates without a clock change: seconds after the
# first local midnight, the same as timedeltas, and where each date's starts begin (8 entries).
_Week = tuple[
    tuple[int, ...], tuple[timedelta, ...], tuple[int, ...], tuple[tuple[timedelta, ...], ...]
]


@functools.lru_cache(maxsize=256)
def _weeks(days: tuple[tuple[TimeRange, ...], ...], grid: int, minutes: int) -> tuple[_Week, ...]:
    """The seven week templates (one per first weekday) of a weekly work-hours template."""
    per_day: list[list[int]] = []
    for ranges in days:
        offsets: list[int] = []
        for r in ranges:
            first = -(-r.start_minute // grid) * grid
            offsets.extend(range(first * 60, (r.end_minute - minutes) * 60 + 1, grid * 60))
        per_day.append(offsets)
    weeks: list[_Week] = []
    for weekday in range(7):
        seconds: list[int] = []
        edges = [0]
        for d in range(7):
            seconds.extend(d * _time.DAY + s for s in per_day[(weekday + d) % 7])
            edges.append(len(seconds))
        deltas = tuple(timedelta(0, s) for s in seconds)
        # The offsets of the first d dates, d = 0..7: kept, so that each is one stable object.
        heads = (*(deltas[:stop] for stop in edges[:-1]), deltas)
        weeks.append((tuple(seconds), deltas, tuple(edges), heads))
    return tuple(weeks)


@functools.lru_cache(maxsize=64)
def _day_steps(count: int) -> tuple[timedelta, ...]:
    return tuple(timedelta(days=i) for i in range(count))


# A run of slot starts: base instant, the starts as seconds after it and as timedeltas, the index
# of its first date, where each of its dates' starts begin within it, and whether the timedeltas
# are a kept template (so that its datetimes may be shared, see _shared_times).
_Block = tuple[int, tuple[int, ...], tuple[timedelta, ...], int, tuple[int, ...], bool]

_SharedTimes = tuple[tuple[timedelta, ...], tuple[datetime, ...], tuple[datetime, ...]]
_SHARED: dict[tuple[int, int, int], _SharedTimes] = {}
# At most this many weeks of datetimes: ~11 KB each for 22 slots a day, ~70 KB for a week worked
# round the clock on the quarter hour, so at worst ~18 MB.
_SHARED_AT_MOST = 256


def _shared_times(
    base: int, deltas: tuple[timedelta, ...], length: int
) -> tuple[tuple[datetime, ...], tuple[datetime, ...]]:
    """The start and end datetimes of a week template's slots from *base*, shared.

    Instants are immutable values, so every view of the same week (the next page load, another
    clinician with the same hours in the same zone) can hand out the same datetime objects
    instead of allocating two per slot. Keyed by the template's identity, which the entry keeps
    alive (so the id cannot be reused while the entry exists); the oldest entry goes first.
    """
    key = (base, id(deltas), length)
    kept = _SHARED.get(key)
    if kept is not None and kept[0] is deltas:
        return kept[1], kept[2]
    starts = tuple(map(add, repeat(_time.EPOCH + timedelta(0, base)), deltas))
    ends = tuple(map(add, starts, repeat(timedelta(0, length))))
    if len(_SHARED) >= _SHARED_AT_MOST:
        with contextlib.suppress(KeyError, RuntimeError, StopIteration):  # a racing thread
            del _SHARED[next(iter(_SHARED))]
    _SHARED[key] = (deltas, starts, ends)
    return starts, ends


class Candidates:
    """The sorted slot starts of a window, kept as blocks that turn into values cheaply.

    Each block is a base instant with offsets from it (up to a week of dates without a clock
    change, or one date with one): the output datetimes are one ``base + offset`` addition each,
    and the integer starts are only built when a caller needs them.
    """

    __slots__ = ("_starts", "blocks", "first_day")

    def __init__(self, first_day: date, blocks: list[_Block]) -> None:
        self.first_day = first_day
        self.blocks = blocks
        self._starts: list[int] | None = None

    @property
    def starts(self) -> list[int]:
        """Every start in POSIX seconds, sorted."""
        if self._starts is None:
            starts: list[int] = []
            for base, seconds, _, _, _, _ in self.blocks:
                starts.extend(map(add, repeat(base), seconds))
            self._starts = starts
        return self._starts

    def last(self) -> int | None:
        """The last start, if any."""
        if not self.blocks:
            return None
        base, seconds, _, _, _, _ = self.blocks[-1]
        return base + seconds[-1]

    def times(self, length: int) -> tuple[list[datetime], list[datetime]]:
        """The starts, and the ends *length* seconds later, as aware UTC datetimes."""
        starts: list[datetime] = []
        ends: list[datetime] = []
        epoch = _time.EPOCH
        elapsed = timedelta(0, length)
        for base, _, offsets, _, _, shared in self.blocks:
            if shared:
                block_starts, block_ends = _shared_times(base, offsets, length)
                starts.extend(block_starts)
                ends.extend(block_ends)
            else:
                block = list(map(add, repeat(epoch + timedelta(0, base)), offsets))
                starts.extend(block)
                ends.extend(map(add, block, repeat(elapsed)))
        return starts, ends

    def day_spans(self) -> list[tuple[date, int, int]]:
        """Each local date with slots and its slice ``[i, j)`` of the starts."""
        spans: list[tuple[date, int, int]] = []
        done = 0
        for _, seconds, _, index, edges, _ in self.blocks:
            for d in range(len(edges) - 1):
                i, j = done + edges[d], done + edges[d + 1]
                if i < j:
                    spans.append((self.first_day + timedelta(index + d), i, j))
            done += len(seconds)
        return spans


def candidates(
    clinician: Clinician, z: tzinfo, first_day: date, last_day: date, grid: int, length: int
) -> Candidates:
    """Every candidate slot start of the window, sorted.

    A date whose local midnight, the next one and ``_FOLD_REACH`` after that all have the same UTC
    offset (fold=0) has no clock change that matters: the test ``_day_candidates`` makes, from two
    zone lookups per date. A run of such dates is its first instant plus week templates. Other
    dates resolve their wall times one by one (and may come out of order).
    """
    weeks = _weeks(clinician.work_hours.days, grid, length // 60)
    count = (last_day - first_day).days + 1
    walls = list(map(add, repeat(datetime.combine(first_day, time())), _day_steps(count + 1)))
    # ZoneInfo.utcoffset reads a naive wall time as fold=0: the offset at each local midnight,
    # and _FOLD_REACH later (a fall-back just after midnight repeats the previous date's hour).
    offsets = list(map(z.utcoffset, walls))
    later = list(map(z.utcoffset, map(add, walls, repeat(_FOLD_REACH_WALL))))
    weekday = first_day.weekday()
    midnight = (first_day.toordinal() - _EPOCH_ORDINAL) * _time.DAY
    blocks: list[_Block] = []
    previous: int | None = None  # the last start so far
    in_order = True
    index = 0
    while index < count:
        offset = offsets[index]
        if index == 0 and offsets.count(offset) == count + 1 and later.count(offset) == count + 1:
            end = count  # the usual case: no clock change anywhere in the window
        else:
            end = index
            while end < count and offsets[end + 1] == offset and later[end + 1] == offset:
                end += 1
        if end > index:
            # Dates index .. end-1 have no clock change: whole weeks from their first instant.
            base = midnight + index * _time.DAY - (0 if offset is None else offset // SECOND)
            seconds, deltas, edges, heads = weeks[(weekday + index) % 7]
            for first in range(index, end, 7):
                days = min(7, end - first)
                stop = edges[days]
                if stop:
                    if previous is not None and base + seconds[0] <= previous:
                        in_order = False
                    previous = base + seconds[stop - 1]
                    if days < 7:
                        block = (base, seconds[:stop], heads[days], first, edges[: days + 1], True)
                    else:
                        block = (base, seconds, deltas, first, edges, True)
                    blocks.append(block)
                base += _WEEK
            index = end
            continue
        if clinician.work_hours.days[(weekday + index) % 7]:
            found = _day_candidates(first_day + timedelta(index), clinician, z, grid, length)
            if found:
                if previous is not None and found[0] <= previous:
                    in_order = False  # a date's repeated late hour came after the next date began
                previous = found[-1]
                head = found[0]
                seconds = tuple(s - head for s in found)
                deltas = tuple(timedelta(0, s) for s in seconds)
                blocks.append((head, seconds, deltas, index, (0, len(found)), False))
        index += 1
    candidates = Candidates(first_day, blocks)
    if not in_order:
        # Rare (America/St_Johns until 2010): sort, one block per start, keeping each one's date.
        starts = candidates.starts
        pairs = sorted((s, d) for d, i, j in candidates.day_spans() for s in starts[i:j])
        one = ((0,), (timedelta(0),))
        blocks = [(s, *one, (d - first_day).days, (0, 1), False) for s, d in pairs]
        candidates = Candidates(first_day, blocks)
    return candidates
