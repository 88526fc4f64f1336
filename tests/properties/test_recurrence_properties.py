"""Expanding a rule from a later period gives the occurrences dateutil gives from the first one.

selfsched expands a window of a recurring event from the rule's last period that starts at or
before the window (``recurrence._Pattern``), so that the cost does not grow with the time since
the first occurrence. These properties hold it to dateutil's own expansion from DTSTART, for
rules built from every RRULE part selfsched accepts, first starts on awkward dates (the 29th to
31st, 29 February, the wall times at which real DST transitions happen) and windows far after
them, often around a real transition. They also check that an accepted rule's occurrences are
never closer than ``MIN_SPACING``, the structural bound the refusal is decided by.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from hypothesis import assume, event, given
from hypothesis import strategies as st

from selfsched import recurrence
from selfsched.errors import InvalidRecurrence
from selfsched.strategies import DST_ZONES, find_transitions

_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FREQS = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY")
_REACH = {
    "YEARLY": timedelta(days=366 * 80),
    "MONTHLY": timedelta(days=366 * 40),
    "WEEKLY": timedelta(days=366 * 15),
    "DAILY": timedelta(days=366 * 4),
    "HOURLY": timedelta(days=90),
    "MINUTELY": timedelta(days=30),
}
"""How far after the first start a window may begin: far, yet cheap for the unshifted reference."""
_SPAN = {
    "YEARLY": timedelta(days=366 * 8),
    "MONTHLY": timedelta(days=366 * 2),
    "WEEKLY": timedelta(days=366),
    "DAILY": timedelta(days=120),
    "HOURLY": timedelta(days=20),
    "MINUTELY": timedelta(days=3),
}
"""How long a window may be: long enough to catch a sparse rule's occurrences."""


def _transition_walls() -> list[datetime]:
    """Wall times at which real transitions happen (either side), in the DST zones, 2000-2040."""
    walls = []
    for zone in DST_ZONES:
        z = ZoneInfo(zone)
        for t in find_transitions(zone):
            walls.append((t - timedelta(seconds=1)).astimezone(z).replace(tzinfo=None))
            walls.append(t.astimezone(z).replace(tzinfo=None))
    return walls


TRANSITION_WALLS = _transition_walls()


def _values(draw: st.DrawFn, lo: int, hi: int, *, most: int = 3, zero: bool = True) -> str:
    found = draw(st.lists(st.integers(lo, hi), min_size=1, max_size=most, unique=True))
    return ",".join(str(v) for v in found if zero or v)


@st.composite
def rules(draw: st.DrawFn) -> str:
    """RRULE text with any of the parts selfsched accepts (not always a rule that occurs)."""
    freq = draw(st.sampled_from(_FREQS))
    parts = [f"FREQ={freq}"]
    if freq == "MINUTELY":
        parts.append(f"INTERVAL={draw(st.integers(15, 200))}")
    elif draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(2, 5))}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(_DAYS))}")
    if draw(st.integers(0, 3)) == 0:
        parts.append(f"BYMONTH={_values(draw, 1, 12)}")
    if draw(st.integers(0, 3)) == 0:
        days = [draw(st.sampled_from([1, 15, 28, 29, 30, 31, -1, -2, -31]))]
        parts.append(f"BYMONTHDAY={','.join(map(str, days))}")
    if draw(st.integers(0, 2)) == 0:
        chosen = draw(st.lists(st.sampled_from(_DAYS), min_size=1, max_size=3, unique=True))
        if freq in {"MONTHLY", "YEARLY"} and draw(st.booleans()):
            chosen = [
                f"{draw(st.sampled_from([1, 2, -1, 5, 53 if freq == 'YEARLY' else 4]))}{d}"
                for d in chosen
            ]
        parts.append(f"BYDAY={','.join(chosen)}")
    if freq == "YEARLY" and draw(st.integers(0, 3)) == 0:
        parts.append(f"BYWEEKNO={draw(st.sampled_from([1, 2, 26, 52, 53, -1]))}")
    if freq in {"YEARLY", "MONTHLY", "DAILY"} and draw(st.integers(0, 4)) == 0:
        parts.append(f"BYYEARDAY={draw(st.sampled_from([1, 59, 60, 100, 365, 366, -1, -366]))}")
    if draw(st.integers(0, 2)) == 0:
        parts.append(f"BYHOUR={_values(draw, 0, 23)}")
    if draw(st.integers(0, 2)) == 0:
        parts.append(f"BYMINUTE={_values(draw, 0, 59, most=2)}")
    if draw(st.integers(0, 4)) == 0:
        parts.append(f"BYSECOND={draw(st.integers(0, 59))}")
    if draw(st.integers(0, 4)) == 0:
        parts.append(f"BYSETPOS={draw(st.sampled_from([1, 2, -1, 3, -2]))}")
    ending = draw(st.integers(0, 5))
    if ending == 1:
        parts.append(f"COUNT={draw(st.integers(1, 60))}")
    elif ending == 2:
        parts.append("UNTIL={until}")
    return ";".join(parts)


@st.composite
def first_starts(draw: st.DrawFn) -> datetime:
    """A first start (naive wall time): any, at the end of a month, or at a real transition."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.datetimes(datetime(2000, 1, 1), datetime(2040, 12, 31)))
    if kind == 1:
        year = draw(st.integers(2000, 2040))
        month, day = draw(st.sampled_from([(1, 31), (2, 29), (2, 28), (3, 31), (4, 30), (12, 31)]))
        if (month, day) == (2, 29) and year % 4:
            year -= year % 4
        at = draw(st.times())
        return datetime(year, month, day, at.hour, at.minute, at.second)
    return draw(st.sampled_from(TRANSITION_WALLS)) + draw(st.integers(-90, 90)) * timedelta(
        minutes=1
    )


@st.composite
def windows(draw: st.DrawFn, freq: str, first: datetime) -> tuple[datetime, datetime]:
    """A window far after *first* (often around a real transition), or across it."""
    reach, span = _REACH[freq], _SPAN[freq]
    kind = draw(st.integers(0, 3))
    if kind == 0:
        after = first + draw(st.timedeltas(-span, span))
    else:
        after = first + draw(st.timedeltas(timedelta(0), reach))
        if kind == 1:
            near = [w for w in TRANSITION_WALLS if first < w < first + reach]
            if near:
                after = draw(st.sampled_from(near)) - draw(st.timedeltas(timedelta(0), span))
    return after, after + draw(st.timedeltas(timedelta(0), span))


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, datetime, datetime, datetime]:
    """An accepted rule, its first start and a window."""
    text = draw(rules())
    first = draw(first_starts())
    freq = text.split(";")[0].removeprefix("FREQ=")
    until = first + draw(st.timedeltas(timedelta(0), _REACH[freq] + _SPAN[freq]))
    text = text.format(until=f"{until:%Y%m%dT%H%M%S}")
    try:
        recurrence.validate_rule(text, first)
    except InvalidRecurrence:
        assume(False)
    after, before = draw(windows(freq, first))
    return text, first, after, before


@given(cases())
def test_expanding_from_a_later_period_gives_dateutils_occurrences(
    case: tuple[str, datetime, datetime, datetime],
) -> None:
    """The occurrences in a window, expanded from the rule's last period before it, are those
    dateutil expands from DTSTART, for every accepted rule, first start and window."""
    text, first, after, before = case
    expected = rrulestr(text, dtstart=first).between(after, before, inc=True)

    rule = rrulestr(text, dtstart=first)
    assert isinstance(rule, rrule)
    pattern = recurrence._Pattern.of(rule)
    start = recurrence._period_start(pattern.freq, pattern.interval, pattern.wkst, first, after)
    event(
        f"{'restarted from a later period' if start else 'expanded from the first period'}, "
        f"{'occurrences' if expected else 'no occurrence'} in the window"
    )

    assert expected == pattern.between(after, before)


@given(cases())
def test_accepted_rules_keep_their_occurrences_min_spacing_apart(
    case: tuple[str, datetime, datetime, datetime],
) -> None:
    """Two occurrences of an accepted rule are never closer than MIN_SPACING (wall time)."""
    text, first, after, before = case
    walls = rrulestr(text, dtstart=first).between(after, before, inc=True)

    gaps = [b - a for a, b in itertools.pairwise(walls)]

    assert all(gap >= recurrence.MIN_SPACING for gap in gaps), (text, min(gaps))
