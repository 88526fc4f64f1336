"""Aware-only time helpers: zone keys, local wall time to instants, UTC arithmetic.

Vocabulary (borrowed from ``whenever``): an *instant* is an exact point on the UTC time line; a
*wall time* is what a clock on the clinician's wall shows (a naive ``datetime`` used only inside
this module and the slot calculator). A wall time may be *skipped* (inside a spring-forward gap,
no instant shows it) or *repeated* (inside a fall-back fold, two instants show it).

Internally instants are integer POSIX seconds: comparing and adding ints is an order of magnitude
cheaper than comparing aware datetimes that carry different ``tzinfo`` objects.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from selfsched.errors import InvalidRange, NaiveDatetime, UnknownTimeZone

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = 86_400

FIRST_DAY = date(2, 1, 1)
"""The first date selfsched computes with: a day's margin either side of any local date (UTC
offsets are under a day) must stay inside ``datetime``'s range in every zone."""
LAST_DAY = date(9998, 12, 31)
"""The last date selfsched computes with (see :data:`FIRST_DAY`)."""

# IANA keys are ASCII path components: letters, digits, '_', '-', '+', separated by '/'.
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


@functools.lru_cache(maxsize=512)
def _load_zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UnknownTimeZone(key) from exc


def zone(key: str | ZoneInfo) -> ZoneInfo:
    """Return the ``ZoneInfo`` for an IANA key, or raise :class:`UnknownTimeZone`."""
    if isinstance(key, ZoneInfo):
        return key
    if not isinstance(key, str) or not _ZONE_KEY.fullmatch(key) or ".." in key:
        raise UnknownTimeZone(key)
    return _load_zone(key)


def zone_key(value: str | ZoneInfo) -> str:
    """Validate a zone given as key or ``ZoneInfo`` and return its IANA key.

    A ``ZoneInfo`` without a key (``ZoneInfo.from_file``) is refused: selfsched stores zones as
    keys, and such a zone has none to store.
    """
    z = zone(value)
    if z.key is None:
        raise UnknownTimeZone(value)
    return str(z.key)


def require_aware(name: str, value: object) -> datetime:
    """Return *value* if it is an aware datetime; raise :class:`NaiveDatetime` otherwise."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(name, value)
    return value


def to_utc(name: str, value: object) -> datetime:
    """Validate an aware datetime and return the same instant in UTC.

    An instant that UTC cannot show (hours before the year 1 or after 9999) is
    :class:`InvalidRange`. Values given to selfsched are held to :data:`FIRST_DAY` and
    :data:`LAST_DAY` by :func:`in_span`; this function also serves computed bounds around them.
    """
    aware = require_aware(name, value)
    try:
        return aware.astimezone(UTC)
    except OverflowError:
        raise InvalidRange(
            f"{name}={aware.isoformat()} is outside the dates selfsched computes with; keep "
            f"instants between {FIRST_DAY} and {LAST_DAY} (UTC)."
        ) from None


def in_span(name: str, value: object) -> datetime:
    """:func:`to_utc` for an instant given to selfsched: its UTC date must lie between
    :data:`FIRST_DAY` and :data:`LAST_DAY`, so a day either side of it exists in every zone."""
    utc = to_utc(name, value)
    if not FIRST_DAY <= utc.date() <= LAST_DAY:
        raise InvalidRange(
            f"{name}={utc.isoformat()} is outside the dates selfsched computes with; keep "
            f"instants between {FIRST_DAY} and {LAST_DAY} (UTC)."
        )
    return utc


def optional_utc(name: str, value: object) -> datetime | None:
    """:func:`to_utc` that lets ``None`` through."""
    return None if value is None else to_utc(name, value)


_SECOND = timedelta(seconds=1)


def ts(instant: datetime) -> int:
    """Integer POSIX seconds of an aware instant, rounded down (exact: no float on the way)."""
    return (instant - EPOCH) // _SECOND


def ts_ceil(instant: datetime) -> int:
    """Integer POSIX seconds of an aware instant, rounded up (for the end of a busy interval)."""
    return -((EPOCH - instant) // _SECOND)


def from_ts(seconds: int) -> datetime:
    """The UTC datetime for integer POSIX seconds."""
    return EPOCH + timedelta(0, seconds)


def wall_instants(wall: datetime, z: tzinfo) -> tuple[int, ...]:
    """Every instant (POSIX seconds) whose local wall time in *z* is *wall*, in time order.

    Empty for a skipped wall time, two entries for a repeated one.
    """
    first = wall.replace(tzinfo=z, fold=0)
    second = wall.replace(tzinfo=z, fold=1)
    found: list[int] = []
    for candidate in (first, second):
        utc = candidate.astimezone(UTC)
        if utc.astimezone(z).replace(tzinfo=None) == wall:
            seconds = int(utc.timestamp())
            if seconds not in found:
                found.append(seconds)
    found.sort()
    return tuple(found)


def _transition_in(z: tzinfo, lo: int, hi: int) -> int:
    """The first instant in ``(lo, hi]`` whose UTC offset differs from the offset at *lo*."""
    base = from_ts(lo).astimezone(z).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if from_ts(mid).astimezone(z).utcoffset() == base:
            lo = mid
        else:
            hi = mid
    return hi


def wall_bound(wall: datetime, z: tzinfo, *, end: bool) -> int:
    """The instant a range of wall times ``[.., wall)`` ends at, or ``[wall, ..)`` starts at.

    A start is the first instant whose clock shows *wall* or later. An end is the last instant
    before which the clock still shows less than *wall*: for a wall time repeated by a
    fall-back, the later one when the clock goes back to below *wall* (New York's 01:30, inside
    the repeated 01:00-02:00), the earlier one when it goes back to *wall* itself (Lord Howe's
    01:30, where 02:00 becomes 01:30). A skipped wall time is the transition instant that ends
    the gap, where the clock jumps past it.
    """
    found = wall_instants(wall, z)
    if found:
        if end:
            for instant in reversed(found):
                if local_wall(instant - 1, z) < wall:
                    return instant
        return found[0]
    # In a gap, fold=1 gives an instant before the transition and fold=0 one after it.
    before = int(wall.replace(tzinfo=z, fold=1).astimezone(UTC).timestamp())
    after = int(wall.replace(tzinfo=z, fold=0).astimezone(UTC).timestamp())
    lo, hi = min(before, after), max(before, after)
    return _transition_in(z, lo, hi)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def start_of_day(day: date, z: tzinfo) -> int:
    """The first instant (POSIX seconds) whose local date in *z* is *day*."""
    wall = datetime.combine(day, time())
    if isinstance(z, ZoneInfo | timezone):
        # Both folds read the same offset only where the wall time exists exactly once (these
        # zones honour fold): then midnight is simply shifted by it.
        offset = z.utcoffset(wall)
        if offset is not None and offset == z.utcoffset(wall.replace(fold=1)):
            return (day.toordinal() - _EPOCH_ORDINAL) * DAY - offset // _SECOND
    return wall_bound(wall, z, end=False)


def local_wall(seconds: int, z: tzinfo) -> datetime:
    """The naive local wall time in *z* of an instant given as POSIX seconds."""
    return from_ts(seconds).astimezone(z).replace(tzinfo=None)


def utc_offset_at(seconds: int, z: tzinfo) -> int:
    """The UTC offset, in seconds, of *z* at an instant."""
    offset = from_ts(seconds).astimezone(z).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())
