"""Hypothesis strategies for selfsched values, to property-test code built on selfsched.

Install the ``[testing]`` extra (``pip install selfsched[testing]``) to get Hypothesis; importing
:mod:`selfsched` alone never imports it.

Every strategy shrinks toward the simplest case: the zone ``UTC``, Monday 2024-01-01, work hours
Monday 09:00-17:00 only, no events, no appointments and the default
:class:`~selfsched.ApprovalPolicy`.
Away from that, they draw the awkward cases often: zones with DST transitions (30-minute shifts,
transitions at local midnight, a skipped calendar day), dates and instants next to *real*
transitions (found by scanning the zone's UTC offset, see :func:`find_transitions`), wall times
that are skipped or repeated, recurring events across DST, and buffers, caps and limits.

Building blocks take the clinician's zone (an IANA key) and a local date to cluster around, so that
events and appointments land near the slots being asked about. :func:`slot_queries` bundles a
whole question (calendar, policy, window, ``now``, client) for :func:`selfsched.available_slots`,
:func:`selfsched.explain` and :func:`selfsched.check_slot`:

For exchanging and storing values, :func:`clients`, :func:`practices` (with email templates
and per-clinician policies), :func:`slots`, :func:`explained_slots`, :func:`slot_checks`,
:func:`email_messages`, :func:`chart_notes`, :func:`outbox_items` and :func:`audit_entries` draw
the rest of the public values, with any Unicode in their free text and instants at any UTC
offset where the model keeps them as given. Together with the ones above they draw every value
:mod:`selfsched.serialize` writes.

.. code-block:: python

    from hypothesis import given
    from selfsched import available_slots
    from selfsched.strategies import SlotQuery, slot_queries

    @given(slot_queries())
    def test_slots_are_in_time_order(query: SlotQuery) -> None:
        starts = [s.start for s in available_slots(query.calendar, query.policy, **query.window())]
        assert starts == sorted(starts)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, available_timezones

import attrs
from hypothesis import strategies as st

from selfsched.events import (
    AuditEntry,
    ChartNote,
    EmailKind,
    EmailMessage,
    OutboxItem,
    chain,
    changes_of,
)
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Client,
    Clinician,
    ClinicianCalendar,
    Origin,
    Practice,
    SchedulingMode,
    TimeRange,
    Weekday,
    WorkHours,
)
from selfsched.slots import ExplainedSlot, Reason, Slot, SlotCheck
from selfsched.wording import FIELDS, EmailTemplate

__all__ = [
    "BASE_DAY",
    "CLIENT_IDS",
    "CLINICIAN_ID",
    "DST_ZONES",
    "ZONES",
    "SlotQuery",
    "all_day_events",
    "appointments",
    "audit_entries",
    "aware_datetimes",
    "calendar_events",
    "chart_notes",
    "clients",
    "clinician_calendars",
    "clinicians",
    "email_messages",
    "email_templates",
    "explained_slots",
    "find_transitions",
    "local_dates",
    "one_off_events",
    "outbox_items",
    "policies",
    "practices",
    "recurring_events",
    "slot_checks",
    "slot_queries",
    "slots",
    "time_ranges",
    "transition_instants",
    "work_hours",
    "zones",
]

BASE_DAY = date(2024, 1, 1)
"""A Monday: the date every date strategy shrinks toward."""
FIRST_YEAR = 2000
"""Dates are drawn from 2000 to 2040 (``LAST_YEAR``), where zone offsets are whole minutes."""
LAST_YEAR = 2040
CLINICIAN_ID = "clinician-1"
"""The id of the clinician whose calendar the calendar strategies draw."""
CLIENT_IDS = ("client-1", "client-2", "client-3")
"""The clients whose appointments the strategies draw (few, so that they collide)."""

DST_ZONES = (
    "America/New_York",  # 02:00 gaps and folds, one hour
    "Europe/London",  # transitions at 01:00 UTC
    "Australia/Lord_Howe",  # a 30-minute shift
    "America/Santiago",  # forward from 00:00 to 01:00; back from 24:00 to 23:00
    "America/Havana",  # midnight skipped in spring, repeated in autumn
    "America/St_Johns",  # -03:30; until 2010 fell back at 00:01 to 23:01 the day before
    "Pacific/Chatham",  # +12:45/+13:45
    "Pacific/Apia",  # skipped the whole of 2011-12-30
    "Antarctica/Troll",  # a two-hour shift
)
"""Zones with transitions that are awkward for a slot calculator, each for the reason noted."""

ZONES = ("UTC", *DST_ZONES, "Asia/Kolkata", "Asia/Kathmandu")
"""What :func:`zones` draws from: UTC first, the DST zones, and two half-/quarter-hour offsets."""

_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)
_T = TypeVar("_T")

# Hypothesis shrinks toward the shortest sequence of choices, then toward smaller ones. So the
# simplest value of every strategy below is the one reached with the fewest draws, each of them
# the smallest. Internally values are drawn by plain functions from a few cached integer
# strategies, instead of building new strategy objects per example (Hypothesis validates each
# new one): that keeps drawing a whole calendar fast.


@functools.cache
def _integers(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


def _int(draw: st.DrawFn, lo: int, hi: int) -> int:
    return draw(_integers(lo, hi))


def _pick(draw: st.DrawFn, options: Sequence[_T]) -> _T:
    """One of *options*; shrinks toward the first."""
    return options[_int(draw, 0, len(options) - 1)]


def _flip(draw: st.DrawFn) -> bool:
    """A coin; shrinks toward ``False`` (the simpler branch)."""
    return bool(_int(draw, 0, 1))


# -- zones and transitions ------------------------------------------------------------------------


@functools.cache
def _all_zone_keys() -> tuple[str, ...]:
    keys = []
    for key in sorted(available_timezones()):
        try:
            ZoneInfo(key)
        except (ValueError, OSError):  # pragma: no cover - a broken key in the system database
            continue
        keys.append(key)
    return tuple(keys)


def zones(*, all_zones: bool = False) -> st.SearchStrategy[str]:
    """IANA zone keys. Shrinks to ``"UTC"``; draws a zone with DST transitions most of the time.

    With *all_zones*, half the time any key the system's zone database knows.
    """
    interesting = st.sampled_from(ZONES)
    if not all_zones:
        return interesting
    return st.one_of(interesting, st.sampled_from(_all_zone_keys()))


def _offset(instant: datetime, z: ZoneInfo) -> timedelta | None:
    return instant.astimezone(z).utcoffset()


@functools.lru_cache(maxsize=256)
def find_transitions(
    zone: str, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR
) -> tuple[datetime, ...]:
    """Every instant (UTC) in the years given at which *zone*'s UTC offset changes.

    Found by stepping a day at a time and bisecting to the second wherever ``utcoffset()``
    differs, so nothing is hard-coded. (Two changes within one day that cancel out are missed.)
    """
    z = ZoneInfo(zone)
    instant = datetime(first_year, 1, 1, tzinfo=UTC)
    stop = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    before = _offset(instant, z)
    found: list[datetime] = []
    while instant < stop:
        step = instant + _DAY
        after = _offset(step, z)
        if after != before:
            lo, hi = instant, step
            while hi - lo > timedelta(seconds=1):
                mid = (lo + (hi - lo) / 2).replace(microsecond=0)
                if _offset(mid, z) == before:
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
            before = after
        instant = step
    return tuple(found)


def transition_instants(zone: str) -> st.SearchStrategy[datetime]:
    """Real transition instants of *zone* (UTC), from :func:`find_transitions`.

    A zone without transitions gives ``st.nothing()``.
    """
    found = find_transitions(zone)
    return st.sampled_from(found) if found else st.nothing()


_LO_DAY = (date(FIRST_YEAR, 1, 1) - BASE_DAY).days
_HI_DAY = (date(LAST_YEAR, 12, 31) - BASE_DAY).days


def _local_date(draw: st.DrawFn, zone: str) -> date:
    found = find_transitions(zone)
    if found and _flip(draw):
        local = _pick(draw, found).astimezone(ZoneInfo(zone)).date()
        return local + timedelta(days=_int(draw, -1, 1))
    return BASE_DAY + timedelta(days=_int(draw, _LO_DAY, _HI_DAY))


@st.composite
def local_dates(draw: st.DrawFn, zone: str = "UTC") -> date:
    """Dates in 2000-2040; half the time the local date of a transition of *zone* or a neighbour.

    Shrinks toward Monday 2024-01-01.
    """
    return _local_date(draw, zone)


def _midnight(day: date, z: ZoneInfo) -> datetime:
    """About the first instant of *day* in *z* (an imaginary midnight resolves past the gap)."""
    return datetime.combine(day, time(), tzinfo=z).astimezone(UTC)


def _sub_minute(draw: st.DrawFn) -> timedelta:
    """Nothing, microseconds alone, or seconds and microseconds (a third of the time each)."""
    kind = _int(draw, 0, 2)
    if kind == 0:
        return timedelta(0)
    if kind == 1:
        return timedelta(microseconds=_int(draw, 1, 999_999))
    return timedelta(seconds=_int(draw, 1, 59), microseconds=_int(draw, 0, 999_999))


def _instant(draw: st.DrawFn, zone: str, around: date, *, whole_minutes: bool) -> datetime:
    """A UTC instant near local *around*: within 3 hours of a transition half the time."""
    base = _midnight(around, ZoneInfo(zone))
    near = [t for t in find_transitions(zone) if abs(t - base) < 3 * _DAY]
    if near and _flip(draw):
        instant = _pick(draw, near) + _int(draw, -180, 180) * _MINUTE
    else:
        instant = base + _int(draw, -24 * 60, 3 * 24 * 60) * _MINUTE
    if not whole_minutes:
        instant += _sub_minute(draw)
    return instant


@st.composite
def aware_datetimes(
    draw: st.DrawFn,
    zone: str | None = None,
    *,
    around: date | None = None,
    whole_minutes: bool = False,
) -> datetime:
    """Aware datetimes in *zone* (drawn if not given), near the local date *around*.

    Half the time (when *zone* has transitions nearby) within three hours of a real transition.
    Every value is a real instant shown in *zone* with the right ``fold``; seconds and
    microseconds are drawn unless *whole_minutes*. Shrinks toward midnight of *around* (drawn
    with :func:`local_dates` if not given, so toward 2024-01-01).
    """
    key = _pick(draw, ZONES) if zone is None else zone
    day = _local_date(draw, key) if around is None else around
    return _instant(draw, key, day, whole_minutes=whole_minutes).astimezone(ZoneInfo(key))


def _wall_time(draw: st.DrawFn, zone: str, around: date, *, spread: int = 1) -> datetime:
    """A wall time on the quarter hour within *spread* days, aware in *zone*, with a drawn fold.

    A third of the time 09:00 on *around* (the shrink target), a third any quarter hour, and a
    third close to a real transition (a few quarter hours either side of the wall time the
    clock shows when it changes) or, in a zone without one nearby, in the small hours. It may
    be a wall time the clock skips (inside a gap) or shows twice (the drawn ``fold`` picks).
    """
    z = ZoneInfo(zone)
    kind = _int(draw, 0, 2)
    if kind == 0:
        return datetime.combine(around, time(9), tzinfo=z)
    day = around + timedelta(days=_int(draw, -spread, spread))
    midnight = datetime.combine(day, time())
    if kind == 1:
        wall = midnight + _int(draw, 0, 95) * 15 * _MINUTE
    else:
        near = [t for t in find_transitions(zone) if abs(t - _midnight(day, z)) < 2 * _DAY]
        if near:
            shown = _pick(draw, near).astimezone(z).replace(tzinfo=None)
            quarters = (shown - midnight) // (15 * _MINUTE) + _int(draw, -6, 6)
            quarters = min(max(quarters, -4 * 24 * spread), 4 * 24 * (spread + 1) - 1)
            wall = midnight + quarters * 15 * _MINUTE
        else:
            wall = midnight + _int(draw, 0, 15) * 15 * _MINUTE
    return wall.replace(tzinfo=z, fold=_int(draw, 0, 1))


def _wall_instant(draw: st.DrawFn, zone: str, around: date, *, spread: int = 1) -> datetime:
    """The UTC instant of :func:`_wall_time`: a skipped wall time lands just past the gap."""
    return _wall_time(draw, zone, around, spread=spread).astimezone(UTC)


# -- work hours -----------------------------------------------------------------------------------


def _hhmm(minute: int) -> time:
    return time(0) if minute == 24 * 60 else time(minute // 60, minute % 60)


def _range(start: int, end: int) -> TimeRange:
    return TimeRange(_hhmm(start), _hhmm(end))


_OFFICE = (_range(9 * 60, 17 * 60),)
_CANNED = (
    ((0, 1440),),
    ((0, 240),),
    ((60, 180),),
    ((1320, 1440),),
    ((480, 720), (780, 1020)),
    ((0, 90), (120, 210), (1380, 1440)),
    ((1410, 1440),),
    ((0, 105), (1320, 1425)),
    ((90, 150),),
    ((1380, 1410),),
)
"""Day templates that cover the hours in which clocks change, and days that end at midnight."""
_CUTS = st.lists(st.integers(0, 96), min_size=2, max_size=6, unique=True)


def _odd(draw: st.DrawFn) -> int:
    """Usually 0; sometimes a few minutes, for ranges that do not start on the grid."""
    return _int(draw, 1, 14) if _flip(draw) else 0


def _day_ranges(draw: st.DrawFn) -> tuple[TimeRange, ...]:
    """Non-overlapping ranges for one day. Shrinks toward ``09:00-17:00``."""
    shape = _int(draw, 0, 3)
    if shape == 0:
        return _OFFICE
    if shape == 1:
        return tuple(_range(s, e) for s, e in _pick(draw, _CANNED))
    if shape == 2:
        points = sorted(15 * c for c in draw(_CUTS))
        pairs = [(s + _odd(draw), e) for s, e in zip(points[::2], points[1::2], strict=False)]
        return tuple(_range(s, e) for s, e in pairs if s < e)
    start = 540 + 15 * _int(draw, -36, 36) + _odd(draw)
    end = 1020 + 15 * _int(draw, -68, 28)
    if end <= start:
        end = min(1440, start + 15 * _int(draw, 1, 16))
    if _flip(draw):  # a break in the middle
        middle = (start + end) // 2
        pause = 15 * _int(draw, 0, 8)
        if start < middle and middle + pause < end:
            return (_range(start, middle), _range(middle + pause, end))
    return (_range(start, end),)


@st.composite
def time_ranges(draw: st.DrawFn) -> TimeRange:
    """One local work range. Shrinks toward ``09:00-17:00``."""
    ranges = _day_ranges(draw)
    return ranges[_int(draw, 0, len(ranges) - 1)] if ranges else _OFFICE[0]


_LOCATIONS = (None, "Main office", "Telehealth", "Annex")


def _work_hours(draw: st.DrawFn) -> WorkHours:
    monday = _day_ranges(draw)
    days: dict[Weekday, tuple[TimeRange, ...]] = {Weekday.MONDAY: monday}
    others = _int(draw, 0, 2)  # Monday only, the same every day, or each day its own
    for weekday in list(Weekday)[1:]:
        if others == 1:
            days[weekday] = monday
        elif others == 2:
            days[weekday] = _day_ranges(draw) if _flip(draw) else ()
    locations = [_pick(draw, _LOCATIONS) for _ in range(7)] if _flip(draw) else None
    return WorkHours(days, locations=locations)


@st.composite
def work_hours(draw: st.DrawFn) -> WorkHours:
    """Weekly templates. Shrinks toward Monday 09:00-17:00 only, without locations.

    A third of the time every day of the week gets Monday's ranges, so that the days on which
    clocks change (usually a Saturday or Sunday) have work hours.
    """
    return _work_hours(draw)


def _service_minutes(draw: st.DrawFn) -> int:
    if not _flip(draw):
        return 50
    return _pick(draw, (15, 30, 45, 60, 90)) if _flip(draw) else _int(draw, 15, 90)


def _clinician(draw: st.DrawFn, zone: str, clinician_id: str) -> Clinician:
    return Clinician(
        id=clinician_id,
        name="Dr Example",
        zone=zone,
        work_hours=_work_hours(draw),
        service_code=_pick(draw, (None, "90834", "90837", "90791")),
        service_minutes=_service_minutes(draw),
    )


@st.composite
def clinicians(
    draw: st.DrawFn,
    zone: str | None = None,
    *,
    id: str = CLINICIAN_ID,  # noqa: A002
) -> Clinician:
    """Clinicians in *zone* (drawn if not given) with a default service of 15-90 minutes.

    Shrinks toward a 50-minute service in UTC, Monday 09:00-17:00.
    """
    return _clinician(draw, _pick(draw, ZONES) if zone is None else zone, id)


# -- calendar events ------------------------------------------------------------------------------


def _one_off(draw: st.DrawFn, zone: str, around: date) -> CalendarEvent:
    if _flip(draw):
        start = _instant(draw, zone, around, whole_minutes=False)
    else:
        start = _wall_instant(draw, zone, around)
    length = _int(draw, 1, 600) * _MINUTE if _flip(draw) else 60 * _MINUTE
    return CalendarEvent.one_off(start, start + length, title="Supervision")


def _all_day(draw: st.DrawFn, around: date) -> CalendarEvent:
    day = around + timedelta(days=_int(draw, -2, 2))
    return CalendarEvent.all_day(day, days=_int(draw, 1, 3), title="Leave")


_FREQS = (
    "FREQ=DAILY",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;BYDAY={byday}",
    "FREQ=DAILY;INTERVAL=2",
    "FREQ=WEEKLY;INTERVAL=2",
    "FREQ=MONTHLY",
    "FREQ=HOURLY;INTERVAL={hours}",
    "FREQ=MINUTELY;INTERVAL={minutes}",
    "FREQ=DAILY;BYHOUR={byhour};BYMINUTE=0,30",
)
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _rule(draw: st.DrawFn, dtstart: datetime) -> str:
    """RRULE text for a first occurrence at the naive wall time *dtstart*."""
    rule = _pick(draw, _FREQS)
    if "{byday}" in rule:
        days = sorted({_int(draw, 0, 6) for _ in range(_int(draw, 1, 3))})
        rule = rule.format(byday=",".join(_BYDAY[d] for d in days))
    elif "{hours}" in rule:
        rule = rule.format(hours=_pick(draw, (1, 2, 5, 25)))
    elif "{minutes}" in rule:
        rule = rule.format(minutes=_pick(draw, (15, 45, 100)))
    elif "{byhour}" in rule:
        hours = sorted({_int(draw, 0, 23) for _ in range(_int(draw, 1, 3))})
        rule = rule.format(byhour=",".join(map(str, hours)))
    end = _int(draw, 0, 3)
    if end == 1:
        rule += f";COUNT={_int(draw, 1, 30)}"
    elif end == 2:
        until = dtstart + _int(draw, 0, 40) * _DAY
        rule += f";UNTIL={until:%Y%m%dT%H%M%S}"
    elif end == 3:
        until = dtstart + _int(draw, 0, 40) * _DAY + _int(draw, -14, 14) * timedelta(hours=1)
        rule += f";UNTIL={until:%Y%m%dT%H%M%S}Z"
    return rule


def _recurring(draw: st.DrawFn, zone: str, around: date) -> CalendarEvent:
    first_day = around - _int(draw, 1, 28) * _DAY if _flip(draw) else around
    written = _wall_time(draw, zone, first_day, spread=0)
    length = _int(draw, 5, 240) * _MINUTE if _flip(draw) else 60 * _MINUTE
    # How the start is written: as an instant (the rule keeps its wall time in the clinician's
    # zone), as the wall time in the clinician's zone (kept as written, also inside a gap), or as
    # a wall time in another zone, where the rule is then expanded.
    how = _int(draw, 0, 2)
    start: datetime = written.astimezone(UTC) if how == 0 else written
    if how == 2:
        start = _wall_time(draw, _pick(draw, ZONES), first_day, spread=0)
    z = ZoneInfo(zone) if how == 0 else start.tzinfo
    assert isinstance(z, ZoneInfo)  # noqa: S101  (for the type checker)
    dtstart = start.astimezone(z).replace(tzinfo=None) if how == 0 else start.replace(tzinfo=None)
    exdates = [
        (dtstart + _int(draw, 0, 40) * _DAY).replace(tzinfo=z, fold=_int(draw, 0, 1))
        for _ in range(_int(draw, 0, 3))
    ]
    return CalendarEvent.recurring(
        _rule(draw, dtstart), start=start, duration=length, exdates=exdates, title="Team"
    )


def _event(draw: st.DrawFn, zone: str, around: date) -> CalendarEvent:
    kind = _int(draw, 0, 2)
    if kind == 0:
        return _one_off(draw, zone, around)
    if kind == 1:
        return _all_day(draw, around)
    return _recurring(draw, zone, around)


@st.composite
def one_off_events(draw: st.DrawFn, zone: str = "UTC", *, around: date = BASE_DAY) -> CalendarEvent:
    """One-off events near *around*, 1 minute to 10 hours long (elapsed)."""
    return _one_off(draw, zone, around)


@st.composite
def all_day_events(
    draw: st.DrawFn,
    zone: str = "UTC",  # unused: all-day events are local dates; kept for a uniform signature
    *,
    around: date = BASE_DAY,
) -> CalendarEvent:
    """All-day events of 1-3 local dates starting within two days of *around*."""
    return _all_day(draw, around)


@st.composite
def recurring_events(
    draw: st.DrawFn, zone: str = "UTC", *, around: date = BASE_DAY
) -> CalendarEvent:
    """Recurring events whose first occurrence is on *around* or up to four weeks before.

    Wall times often fall in the small hours, so occurrences land in gaps and folds; rules are
    daily, weekly (some by weekday), fortnightly, monthly, every few hours, every 15 minutes or
    more, or a few times a day, open-ended or ended by ``COUNT``, a local ``UNTIL`` or a UTC
    ``UNTIL=...Z``; EXDATEs are drawn among the occurrence wall times, sometimes naming the
    second of a repeated time. The start is given as a UTC instant (the shrink target: the rule
    keeps its wall time in the clinician's zone), or as a ``ZoneInfo`` wall time, in *zone* or
    another zone, where the rule is then expanded; such a wall time may be one the clock skips.
    """
    return _recurring(draw, zone, around)


@st.composite
def calendar_events(
    draw: st.DrawFn, zone: str = "UTC", *, around: date = BASE_DAY
) -> CalendarEvent:
    """One-off, all-day and recurring events near *around* in the clinician's *zone*."""
    return _event(draw, zone, around)


# -- appointments and policies --------------------------------------------------------------------

_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.PENDING,
    AppointmentStatus.CANCELLED,
    AppointmentStatus.MISSED,
    AppointmentStatus.REJECTED,
    AppointmentStatus.EXPIRED,
)


def _appointment(
    draw: st.DrawFn,
    zone: str,
    around: date,
    *,
    clinician_id: str,
    client_ids: Sequence[str],
    minutes: int,
    appointment_id: str,
) -> Appointment:
    if _flip(draw):
        start = _instant(draw, zone, around, whole_minutes=False)
    else:
        start = _wall_instant(draw, zone, around)
    length = _int(draw, 5, 180) if _flip(draw) else minutes
    return Appointment(
        id=appointment_id,
        client_id=_pick(draw, client_ids),
        clinician_id=clinician_id,
        start=start,
        end=start + length * _MINUTE,
        status=_pick(draw, _STATUSES),
        origin=_pick(draw, (Origin.CLIENT, Origin.STAFF)),
    )


@st.composite
def appointments(
    draw: st.DrawFn,
    zone: str = "UTC",
    *,
    around: date = BASE_DAY,
    clinician_id: str = CLINICIAN_ID,
    client_ids: tuple[str, ...] = CLIENT_IDS,
    minutes: int = 50,
    id: str = "appointment-1",  # noqa: A002
) -> Appointment:
    """Appointments of *clinician_id* near *around*, in every status.

    Starts are usually on a quarter-hour wall time (so they meet slots edge to edge), sometimes
    at any instant; the length is usually *minutes*. Half the time the fields the slot
    calculator does not read are set too: service code and modifier, location, when it was
    made, decided and cancelled, by whom, a late cancellation, a higher version. Shrinks toward
    a ``BOOKED`` appointment at 09:00 without them.
    """
    placed = _appointment(
        draw,
        zone,
        around,
        clinician_id=clinician_id,
        client_ids=client_ids,
        minutes=minutes,
        appointment_id=id,
    )
    return _details(draw, placed)


def _details(draw: st.DrawFn, appointment: Appointment) -> Appointment:
    """Half the time, *appointment* with the fields a slot computation ignores set."""
    if not _flip(draw):
        return appointment
    made = appointment.start - _int(draw, 0, 30 * 24 * 60) * _MINUTE - _sub_minute(draw)
    decided = made + _int(draw, 0, 24 * 60) * _MINUTE if _flip(draw) else None
    cancelled = made + _int(draw, 0, 24 * 60) * _MINUTE if _flip(draw) else None
    return attrs.evolve(
        appointment,
        service_code=_pick(draw, (None, "90834", "90837", "90791")),
        code_modifier=_pick(draw, (None, "95", "GT")),
        location=_pick(draw, _LOCATIONS),
        created_at=made,
        decided_at=decided,
        decided_by=None if decided is None else "clinician-1",
        cancelled_at=cancelled,
        late_cancellation=cancelled is not None and _flip(draw),
        version=_int(draw, 1, 5),
    )


def _minutes(draw: st.DrawFn, lo: int, hi: int, default: timedelta) -> timedelta:
    """*default* half the time (the shrink target), else *lo* to *hi* minutes."""
    return _int(draw, lo, hi) * _MINUTE if _flip(draw) else default


_DEFAULT_HORIZON = timedelta(days=60)


def _policy(draw: st.DrawFn) -> ApprovalPolicy:
    default = ApprovalPolicy()
    min_notice = _minutes(draw, 0, 7 * 24 * 60, default.min_notice)
    horizon: timedelta | None = None
    if not (_flip(draw) and _flip(draw)):  # no horizon a quarter of the time
        horizon = _minutes(draw, 1, 90 * 24 * 60, _DEFAULT_HORIZON)
        if horizon <= min_notice:
            horizon += min_notice
    return ApprovalPolicy(
        mode=_pick(
            draw,
            (SchedulingMode.REQUIRES_APPROVAL, SchedulingMode.INSTANT, SchedulingMode.DISABLED),
        ),
        grid_minutes=_pick(draw, (30, 60, 15)),
        min_notice=min_notice,
        horizon=horizon,
        buffer_before=_minutes(draw, 1, 120, timedelta(0)),
        buffer_after=_minutes(draw, 1, 120, timedelta(0)),
        daily_max=_int(draw, 1, 4) if _flip(draw) else None,
        client_open_cap=_int(draw, 1, 3) if _flip(draw) else None,
        pending_holds_slot=not _flip(draw),
        late_cancellation_window=_minutes(draw, 0, 72 * 60, default.late_cancellation_window),
        pending_ttl=_minutes(draw, 1, 7 * 24 * 60, timedelta(0)) or None,
    )


@st.composite
def policies(draw: st.DrawFn) -> ApprovalPolicy:
    """Approval policies on every grid, with or without buffers, caps and limits.

    Each setting keeps its documented default half of the time; shrinks toward
    ``ApprovalPolicy()``.
    """
    return _policy(draw)


# -- whole calendars and questions ----------------------------------------------------------------


def _calendar(
    draw: st.DrawFn, zone: str, around: date, max_events: int, max_appointments: int
) -> ClinicianCalendar:
    clinician = _clinician(draw, zone, CLINICIAN_ID)
    events = [_event(draw, zone, around) for _ in range(_int(draw, 0, max_events))]
    placed = [
        _appointment(
            draw,
            zone,
            around,
            # Now and then another clinician's: it must not block this one's slots.
            clinician_id="clinician-2" if _flip(draw) else clinician.id,
            client_ids=CLIENT_IDS,
            minutes=clinician.service_minutes,
            appointment_id=f"appointment-{i}",
        )
        for i in range(_int(draw, 0, max_appointments))
    ]
    return ClinicianCalendar(clinician=clinician, events=events, appointments=placed)


@st.composite
def clinician_calendars(
    draw: st.DrawFn,
    zone: str | None = None,
    *,
    around: date | None = None,
    max_events: int = 4,
    max_appointments: int = 6,
) -> ClinicianCalendar:
    """A clinician with events and appointments clustered around the local date *around*.

    *zone* and *around* are drawn when not given (often a DST zone and a transition date).
    Appointment ids are unique; a few appointments belong to another clinician. Shrinks toward
    UTC, Monday 09:00-17:00, no events, no appointments.
    """
    key = _pick(draw, ZONES) if zone is None else zone
    day = _local_date(draw, key) if around is None else around
    return _calendar(draw, key, day, max_events, max_appointments)


@attrs.frozen(kw_only=True)
class SlotQuery:
    """A whole question for the slot calculator: whose calendar, which policy, when, for whom."""

    calendar: ClinicianCalendar
    policy: ApprovalPolicy
    first_day: date
    last_day: date
    now: datetime
    client_id: str | None = None
    client_appointments: tuple[Appointment, ...] = ()

    def window(self) -> dict[str, Any]:
        """Keyword arguments for ``available_slots`` and ``explain``.

        (``check_slot`` takes the same but ``first_day`` and ``last_day``.)
        """
        return {
            "first_day": self.first_day,
            "last_day": self.last_day,
            "now": self.now,
            "client_id": self.client_id,
            "client_appointments": self.client_appointments,
        }

    @property
    def zone(self) -> ZoneInfo:
        """The clinician's zone."""
        return self.calendar.clinician.tz


@st.composite
def slot_queries(
    draw: st.DrawFn,
    zone: str | None = None,
    *,
    around: date | None = None,
    max_days: int = 3,
    calendars: st.SearchStrategy[ClinicianCalendar] | None = None,
    policy: st.SearchStrategy[ApprovalPolicy] | None = None,
) -> SlotQuery:
    """Questions for the slot calculator, with ``now`` placed where the time rules bite.

    The window is 1 to *max_days* local dates at or just before *around* (drawn with
    :func:`local_dates` if not given), where the calendar's events and appointments cluster.
    ``now`` is, in turn: well
    before the window (the shrink target: nothing is too soon); such that the minimum notice or
    the horizon ends inside the window, often exactly on a quarter hour; or inside the window;
    it often has microseconds. Half the time a client asks, with its own appointments at
    another clinician. *calendars* and *policy* replace the default strategies for those parts
    (a calendar drawn from *calendars* is not clustered around the window).
    """
    key = _pick(draw, ZONES) if zone is None else zone
    z = ZoneInfo(key)
    if around is None:
        around = _local_date(draw, key)
    if calendars is None:
        calendar = _calendar(draw, key, around, max_events=4, max_appointments=6)
    else:
        calendar = draw(calendars)
    rules = _policy(draw) if policy is None else draw(policy)
    first_day = around - _int(draw, 0, 1) * _DAY
    days = _int(draw, 1, max_days)
    last_day = first_day + (days - 1) * _DAY
    start = _midnight(first_day, z)
    where = _int(draw, 0, 3)
    inside = _int(draw, 0, days * 24 * 4) * 15 * _MINUTE if where else timedelta(0)
    if where == 0:
        now = start - rules.min_notice - _DAY
    elif where == 1:
        now = start - rules.min_notice + inside
    elif where == 2:
        now = start - (rules.horizon or _DEFAULT_HORIZON) + inside
    else:
        now = start + inside
    now += _sub_minute(draw)
    client_id = _pick(draw, CLIENT_IDS) if _flip(draw) else None
    own: tuple[Appointment, ...] = ()
    if client_id is not None:
        own = tuple(
            _appointment(
                draw,
                key,
                around,
                clinician_id="clinician-9",
                client_ids=(client_id,),
                minutes=50,
                appointment_id=f"elsewhere-{i}",
            )
            for i in range(_int(draw, 0, 3))
        )
    return SlotQuery(
        calendar=calendar,
        policy=rules,
        first_day=first_day,
        last_day=last_day,
        now=now.astimezone(UTC if _flip(draw) else z),
        client_id=client_id,
        client_appointments=own,
    )


# -- clients, practices and email templates -------------------------------------------------------


@functools.cache
def _texts(max_size: int, *, line: bool, literal: bool) -> st.SearchStrategy[str]:
    """Any Unicode text selfsched keeps (no surrogates, no NUL); with *line*, none that would
    break a header line; with *literal*, no ``$``."""
    excluded = "\x00$" if literal else "\x00"
    characters = (
        st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"], exclude_characters=excluded)
        if line
        else st.characters(exclude_categories=["Cs"], exclude_characters=excluded)
    )
    return st.text(characters, max_size=max_size)


def _text(draw: st.DrawFn, max_size: int = 20, *, line: bool = False, literal: bool = False) -> str:
    """Text; shrinks toward ``""``."""
    return draw(_texts(max_size, line=line, literal=literal))


_REPLY_TOS = ("desk@clinic.example.test", "Front desk <desk@clinic.example.test>")


def _client(draw: st.DrawFn, client_id: str) -> Client:
    return Client(
        id=client_id,
        name=_text(draw),
        email=_text(draw) if _flip(draw) else None,
        zone=_pick(draw, ZONES) if _flip(draw) else None,
    )


@st.composite
def clients(draw: st.DrawFn, *, id: str | None = None) -> Client:  # noqa: A002
    """Clients with any name and email text, in a zone of their own or not.

    *id* is drawn from :data:`CLIENT_IDS` when not given. Shrinks toward a client without a name,
    an address or a zone.
    """
    return _client(draw, _pick(draw, CLIENT_IDS) if id is None else id)


def _template_text(draw: st.DrawFn, *, line: bool) -> str:
    """Literal text, ``${field}`` placeholders and ``$$`` dollar signs, in any order."""
    parts = []
    for _ in range(_int(draw, 0, 4)):
        part = _int(draw, 0, 2)
        if part == 0:
            parts.append(_text(draw, 12, line=line, literal=True))
        elif part == 1:
            parts.append(f"${{{_pick(draw, FIELDS)}}}")
        else:
            parts.append("$$")
    return "".join(parts)


def _template(draw: st.DrawFn) -> EmailTemplate:
    return EmailTemplate(
        subject=_template_text(draw, line=True),
        text=_template_text(draw, line=False),
        html=_template_text(draw, line=False) if _flip(draw) else None,
    )


@st.composite
def email_templates(draw: st.DrawFn) -> EmailTemplate:
    """Valid email templates: literal text, every placeholder and ``$$``; an HTML part or not.

    Shrinks toward an empty subject and text without HTML.
    """
    return _template(draw)


def _practice(draw: st.DrawFn) -> Practice:
    default = Practice()
    return Practice(
        name=_text(draw) if _flip(draw) else default.name,
        zone=_pick(draw, ZONES),
        phone=_text(draw, line=True) if _flip(draw) else None,
        reply_to=_pick(draw, _REPLY_TOS) if _flip(draw) else None,
        policy=_policy(draw),
        clinician_policies={
            f"clinician-{i}": _policy(draw) for i in range(1, _int(draw, 0, 2) + 1)
        },
        email_templates={kind: _template(draw) for kind in EmailKind if _flip(draw)},
    )


@st.composite
def practices(draw: st.DrawFn) -> Practice:
    """Practice settings: a zone, contact details, a policy (:func:`policies`), policy overrides
    for up to two clinicians, and templates for some kinds of email.

    Shrinks toward ``Practice()``.
    """
    return _practice(draw)


# -- slots ----------------------------------------------------------------------------------------


def _span(draw: st.DrawFn) -> tuple[datetime, datetime]:
    """A start and an end, in UTC or shown in their zone, as the slot calculator returns them."""
    key = _pick(draw, ZONES)
    start = _instant(draw, key, _local_date(draw, key), whole_minutes=not _flip(draw))
    end = start + (_int(draw, 15, 180) if _flip(draw) else 50) * _MINUTE
    if _flip(draw):
        z = ZoneInfo(key)
        return start.astimezone(z), end.astimezone(z)
    return start, end


def _reasons(draw: st.DrawFn) -> frozenset[Reason]:
    return frozenset(_pick(draw, tuple(Reason)) for _ in range(_int(draw, 0, 3)))


@st.composite
def slots(draw: st.DrawFn) -> Slot:
    """Slots as a client sees them, in UTC or in a zone (:meth:`~selfsched.Slot.in_zone`).

    Shrinks toward an available 50-minute slot at midnight UTC on the base Monday.
    """
    start, end = _span(draw)
    return Slot(start, end, available=not _flip(draw))


@st.composite
def explained_slots(draw: st.DrawFn) -> ExplainedSlot:
    """Slots as staff see them, with up to three reasons. Shrinks toward an available slot."""
    start, end = _span(draw)
    return ExplainedSlot(start, end, _reasons(draw))


@st.composite
def slot_checks(draw: st.DrawFn) -> SlotCheck:
    """Answers of :func:`~selfsched.check_slot`, with up to three reasons. Shrinks toward a
    bookable slot."""
    start, end = _span(draw)
    return SlotCheck(start, end, _reasons(draw))


# -- emails, chart notes, the outbox and the audit ------------------------------------------------


def _as_given(draw: st.DrawFn) -> datetime:
    """An instant shown in a drawn zone, at its offset there: the model keeps these as given."""
    key = _pick(draw, ZONES)
    instant = _instant(draw, key, _local_date(draw, key), whole_minutes=False)
    return instant.astimezone(ZoneInfo(key))


def _email(draw: st.DrawFn) -> EmailMessage:
    kind = _pick(draw, tuple(EmailKind))
    return EmailMessage(
        message_id=f"<appointment-1.{kind}.v1@clinic.example.test>",
        kind=kind,
        appointment_id="appointment-1",
        client_id=_pick(draw, CLIENT_IDS),
        to=_text(draw),
        subject=_text(draw, line=True),
        text=_text(draw),
        html=_text(draw),
        reply_to=_pick(draw, _REPLY_TOS) if _flip(draw) else None,
        calendar=_text(draw) if _flip(draw) else None,
    )


@st.composite
def email_messages(draw: st.DrawFn) -> EmailMessage:
    """Rendered client emails of every kind, with any text, sometimes with a reply-to address
    or a calendar invite (any text: what a store keeps, not what :mod:`selfsched.ical` writes).
    Shrinks toward an empty approval."""
    return _email(draw)


def _note(draw: st.DrawFn) -> ChartNote:
    return ChartNote(
        note_id="note-1",
        client_id=_pick(draw, CLIENT_IDS),
        appointment_id="appointment-1",
        title="Appointment Cancellation Note",
        text=_text(draw),
        created_at=_as_given(draw),
        late=_flip(draw),
    )


@st.composite
def chart_notes(draw: st.DrawFn) -> ChartNote:
    """Cancellation notes with any text, made at an instant shown at any UTC offset."""
    return _note(draw)


def _maybe_at(draw: st.DrawFn) -> datetime | None:
    return _as_given(draw) if _flip(draw) else None


@st.composite
def outbox_items(draw: st.DrawFn) -> OutboxItem:
    """Outbox items carrying an email or a chart note, in every delivery state (attempts, an
    uncertain delivery, a claim, a back-off, delivered, failed, purged).

    Shrinks toward an email waiting for its first attempt.
    """
    payload: EmailMessage | ChartNote = _note(draw) if _flip(draw) else _email(draw)
    return OutboxItem(
        id="outbox-1",
        payload=payload,
        created_at=_as_given(draw),
        attempts=_int(draw, 0, 5),
        uncertain=_flip(draw),
        delivered_at=_maybe_at(draw),
        failed=_flip(draw),
        last_error=_text(draw) if _flip(draw) else None,
        claimed_until=_maybe_at(draw),
        not_before=_maybe_at(draw),
        purged_at=_maybe_at(draw),
    )


_ACTORS = ("client:client-1", "clinician:clinician-1", "staff:staff-1", "system")
_ACTIONS = ("book", "approve", "reject", "cancel", "view", "change_settings")
_CHANGED = ("location", "service_code", "code_modifier", "start", "end")


def _audit_draft(draw: st.DrawFn) -> AuditEntry:
    statuses = tuple(str(status) for status in AppointmentStatus)
    return AuditEntry(
        seq=1,
        at=_as_given(draw),
        actor=_pick(draw, _ACTORS),
        action=_pick(draw, _ACTIONS),
        outcome=_pick(draw, ("ok", "refused", "viewed")),
        appointment_id="appointment-1" if _flip(draw) else None,
        error="PermissionDenied" if _flip(draw) else None,
        before=_pick(draw, statuses) if _flip(draw) else None,
        after=_pick(draw, statuses) if _flip(draw) else None,
        changes=changes_of({_pick(draw, _CHANGED): _text(draw) for _ in range(_int(draw, 0, 3))}),
    )


@st.composite
def audit_entries(draw: st.DrawFn) -> AuditEntry:
    """Sealed audit entries (:func:`~selfsched.events.chain`): the first of a record, or the
    second; at an instant shown at any UTC offset, which the hash covers as written.

    Shrinks toward the first entry of a record, a booking by a client.
    """
    previous = chain(None, _audit_draft(draw)) if _flip(draw) else None
    return chain(previous, _audit_draft(draw))
