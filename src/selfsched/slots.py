"""The pure slot calculator: what a client is offered, and why staff see a slot as unavailable.

No I/O and no clock: ``now`` is a parameter. The work is linear in the candidates plus
``log`` of them per busy interval:

1. *Candidates* (:mod:`selfsched._candidates`): for each local date of the window, the instants
   of that date whose wall time is on the grid and whose slot of the service's elapsed length
   fits inside a work range of its weekday, a range being the instants between its boundaries
   (so a skipped wall time is never a start, a repeated one may be two, and a start inside two
   ranges that share instants on a fall-back night is one), sorted. A date without a clock
   change is local midnight plus a per-weekday template of offsets; only a date with a
   transition resolves its wall times one by one.
2. *Busy intervals*: calendar events (recurrences expanded), ``BOOKED`` appointments, ``PENDING``
   requests (when they hold their slot), buffers around both, the client's own open appointments;
   unsorted.
3. *Marking*: each busy interval blocks the run of sorted candidates it overlaps (half-open:
   ``busy.start < slot.end and slot.start < busy.end``), found with two binary searches (the
   staff view merges each reason's intervals and sweeps instead).

Time rules (past, minimum notice, horizon) cut a prefix and a suffix of the sorted candidates;
the daily maximum removes whole days; the client cap blocks everything.

The client view compares aware UTC datetimes throughout (appointments and one-off events are
stored so; every one shares the ``UTC`` tzinfo, which keeps comparisons cheap); the staff view and
the rules that count work on integer POSIX seconds. Output datetimes are one base instant plus
cached offsets per week (``datetime + timedelta`` in C), shared between views of the same week.
"""

from __future__ import annotations

import bisect
import enum
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import accumulate, compress, repeat
from operator import not_

import attrs

from selfsched import _candidates, _time, _validate
from selfsched.errors import InvalidRange, OffGrid
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    Clinician,
    ClinicianCalendar,
    EventKind,
)
from selfsched.recurrence import busy_intervals, occurrences

__all__ = [
    "NO_HORIZON_SEARCH",
    "ExplainedSlot",
    "Reason",
    "Slot",
    "SlotCheck",
    "available_slots",
    "check_slot",
    "explain",
    "first_available",
]


class Reason(enum.StrEnum):
    """Why staff see a slot as unavailable. Never shown to clients."""

    OUTSIDE_WORK_HOURS = "outside_work_hours"
    CALENDAR_EVENT = "calendar_event"
    BOOKED = "booked"
    PENDING = "pending"
    PAST = "past"
    MIN_NOTICE = "min_notice"
    HORIZON = "horizon"
    BUFFER = "buffer"
    DAILY_MAX = "daily_max"
    CLIENT_CAP = "client_cap"
    CLIENT_OVERLAP = "client_overlap"
    OFF_GRID = "off_grid"
    """Only in settings dry runs: an existing start that the new grid would not offer."""
    SELF_SCHEDULING_DISABLED = "self_scheduling_disabled"
    """Only in settings dry runs: a client's pending request under a mode that is now off."""


def _in_zone(value: datetime, zone: str | tzinfo) -> datetime:
    # Never astimezone(None): that would read the machine's zone.
    return value.astimezone(zone if isinstance(zone, tzinfo) else _time.zone(zone))


@attrs.frozen(slots=True)
class Slot:
    """One offered slot as a client sees it: when, and whether it is available. Nothing else.

    ``start`` and ``end`` are aware UTC instants; :meth:`in_zone` shows them on any wall clock.
    """

    start: datetime
    end: datetime
    available: bool

    def in_zone(self, zone: str | tzinfo) -> Slot:
        """The same slot with ``start``/``end`` expressed in *zone* (an IANA key or tzinfo)."""
        return Slot(_in_zone(self.start, zone), _in_zone(self.end, zone), self.available)


@attrs.frozen(slots=True)
class ExplainedSlot:
    """A slot with every reason it is unavailable (empty when it is available). Staff only."""

    start: datetime
    end: datetime
    reasons: frozenset[Reason]

    @property
    def available(self) -> bool:
        """True when nothing stands in the way."""
        return not self.reasons

    def in_zone(self, zone: str | tzinfo) -> ExplainedSlot:
        """The same slot with ``start``/``end`` expressed in *zone*."""
        return ExplainedSlot(_in_zone(self.start, zone), _in_zone(self.end, zone), self.reasons)


@attrs.frozen(slots=True)
class SlotCheck:
    """The answer to "may this client book this start?", with the reasons when not."""

    start: datetime
    end: datetime
    reasons: frozenset[Reason]

    @property
    def bookable(self) -> bool:
        """True when the slot may be booked."""
        return not self.reasons


# -- busy intervals -------------------------------------------------------------------------------


def _merge(intervals: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sort and merge half-open intervals; return parallel start and end lists."""
    intervals.sort()
    starts: list[int] = []
    ends: list[int] = []
    for s, e in intervals:
        if ends and s <= ends[-1]:
            ends[-1] = max(ends[-1], e)
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


def _blocked(
    candidates: Sequence[int], length: int, busy: tuple[list[int], list[int]]
) -> list[bool]:
    """For sorted slot starts, whether each slot overlaps any merged busy interval (half-open)."""
    busy_starts, busy_ends = busy
    n = len(busy_starts)
    j = 0
    result: list[bool] = []
    append = result.append
    for s in candidates:
        while j < n and busy_ends[j] <= s:
            j += 1
        append(j < n and busy_starts[j] < s + length)
    return result


@attrs.frozen
class _Inputs:
    """Busy intervals and counts for one clinician over ``[lo, hi)``, grouped by reason."""

    by_reason: dict[Reason, list[tuple[int, int]]]
    day_counts: dict[date, int]
    client_full: bool
    flat: tuple[list[datetime], list[datetime]] | None = None
    """The client view's form: every blocking interval as parallel start and end lists, with no
    reasons (``by_reason`` is then empty); an appointment and its buffers are one interval."""


def _gap(policy: ApprovalPolicy) -> timedelta:
    """The buffer each holding appointment keeps free on either side, exactly (not rounded)."""
    return policy.buffer_before + policy.buffer_after


def _holding(status: AppointmentStatus, policy: ApprovalPolicy) -> Reason | None:
    if status is AppointmentStatus.BOOKED:
        return Reason.BOOKED
    if status is AppointmentStatus.PENDING and policy.pending_holds_slot:
        return Reason.PENDING
    return None


def _client_appointments(
    calendar: ClinicianCalendar, client_id: str | None, extra: Iterable[Appointment]
) -> list[Appointment]:
    if client_id is None:
        return []
    seen: dict[str, Appointment] = {}
    for a in (*extra, *calendar.appointments):
        if a.client_id == client_id and a.status.is_open:
            seen.setdefault(a.id, a)
    return list(seen.values())


def _gather(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    z: tzinfo,
    lo: int,
    hi: int,
    now: datetime,
    client_id: str | None,
    client_appointments: Iterable[Appointment],
) -> _Inputs:
    gap = _gap(policy)
    by_reason: dict[Reason, list[tuple[int, int]]] = {
        Reason.CALENDAR_EVENT: busy_intervals(calendar.events, z, lo, hi),
        Reason.BOOKED: [],
        Reason.PENDING: [],
        Reason.BUFFER: [],
        Reason.CLIENT_OVERLAP: [],
    }
    day_counts: dict[date, int] = {}
    clinician_id = calendar.clinician.id
    holding = {
        status: by_reason[reason]
        for status in (AppointmentStatus.BOOKED, AppointmentStatus.PENDING)
        if (reason := _holding(status, policy)) is not None
    }
    buffers = by_reason[Reason.BUFFER]
    counting = policy.daily_max is not None
    # Whether an appointment reaches [lo - gap, hi + gap) is decided on its datetimes, so
    # only those that do are converted to seconds (floor of the start, ceiling of the end).
    near, far = _instant(lo) - gap, _instant(hi) + gap
    epoch, second = _time.EPOCH, _candidates.SECOND
    for a in calendar.appointments:
        found = holding.get(a.status)
        if found is None or a.clinician_id != clinician_id:
            continue
        if counting:
            local_day = _time.local_wall(_time.ts(a.start), z).date()
            day_counts[local_day] = day_counts.get(local_day, 0) + 1
        if a.end <= near or a.start >= far:
            continue
        s = (a.start - epoch) // second
        e = -((epoch - a.end) // second)
        found.append((s, e))
        if gap:
            # Every appointment keeps its own buffers, the new one too: between any two, the
            # earlier one's time after and the later one's time before, whichever is booked first.
            # Slot bounds are whole seconds, so [a, b) blocks them as [floor(a), ceil(b)) does.
            buffers.append(((a.start - gap - epoch) // second, -((epoch - a.start) // second)))
            buffers.append(((a.end - epoch) // second, -((epoch - a.end - gap) // second)))
    overlap, client_full = _client(calendar, policy, lo, hi, now, client_id, client_appointments)
    by_reason[Reason.CLIENT_OVERLAP].extend(overlap)
    return _Inputs(by_reason, day_counts, client_full)


def _client(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    lo: int,
    hi: int,
    now: datetime,
    client_id: str | None,
    client_appointments: Iterable[Appointment],
) -> tuple[list[tuple[int, int]], bool]:
    """The client's own open appointments overlapping ``[lo, hi)``, and whether its cap is hit."""
    client_open = 0
    overlap: list[tuple[int, int]] = []
    for a in _client_appointments(calendar, client_id, client_appointments):
        s, e = _time.ts(a.start), _time.ts_ceil(a.end)
        if a.start > now:  # exact: `now` usually has microseconds
            client_open += 1
        if s < hi and lo < e:
            overlap.append((s, e))
    cap = policy.client_open_cap
    return overlap, cap is not None and client_open >= cap


def _gather_flat(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    z: tzinfo,
    lo: int,
    hi: int,
    now: datetime,
    client_id: str | None,
    client_appointments: Iterable[Appointment],
) -> _Inputs:
    """What :func:`_gather` finds, as the client view needs it: one flat list, no reasons.

    Intervals stay aware UTC datetimes (appointments and one-off events are stored so): their
    bounds are compared with whole-second slot bounds, where the exact instants and the floor of
    a start or ceiling of an end that :func:`_gather` uses decide every overlap alike. An
    appointment and its buffers (:func:`_gap` either side, as in :func:`_gather`) are one
    interval.
    """
    gap = _gap(policy)
    near, far = _instant(lo) - gap, _instant(hi) + gap
    lo_at, hi_at = _instant(lo), _instant(hi)
    starts: list[datetime] = []
    ends: list[datetime] = []
    add_start, add_end = starts.append, ends.append
    others: list[tuple[int, int]] = []
    one_off = EventKind.ONE_OFF
    for event in calendar.events:
        if event.kind is one_off:
            start, end = event.start, event.end
            assert start is not None  # noqa: S101  (guaranteed by the model)
            assert end is not None  # noqa: S101
            if start < hi_at and lo_at < end:
                add_start(start)
                add_end(end)
        else:
            others.extend(occurrences(event, z, lo, hi))
    overlap, client_full = _client(calendar, policy, lo, hi, now, client_id, client_appointments)
    others.extend(overlap)
    fromtimestamp = datetime.fromtimestamp
    for s, e in others:
        start = fromtimestamp(s, UTC)  # exact for whole seconds, tzinfo the same UTC object
        add_start(start)
        add_end(start + timedelta(0, e - s))
    day_counts: dict[date, int] = {}
    clinician_id = calendar.clinician.id
    holding = {
        status
        for status in (AppointmentStatus.BOOKED, AppointmentStatus.PENDING)
        if _holding(status, policy) is not None
    }
    counting = policy.daily_max is not None
    for a in calendar.appointments:
        if a.status not in holding or a.clinician_id != clinician_id:
            continue
        start, end = a.start, a.end
        if counting:
            local_day = _time.local_wall(_time.ts(start), z).date()
            day_counts[local_day] = day_counts.get(local_day, 0) + 1
        if end <= near or start >= far:
            continue
        if gap:
            add_start(start - gap)
            add_end(end + gap)
        else:
            add_start(start)
            add_end(end)
    return _Inputs({}, day_counts, client_full, (starts, ends))


def _instant(seconds: int) -> datetime:
    """:func:`_time.from_ts`, clamped to the datetimes that exist."""
    try:
        return _time.from_ts(seconds)
    except OverflowError:
        if seconds < 0:
            return datetime.min.replace(tzinfo=UTC)
        return datetime.max.replace(tzinfo=UTC)


def _check_inputs(
    calendar: object, policy: object, client_id: object, client_appointments: object
) -> tuple[Appointment, ...]:
    """Refuse inputs of the wrong type by name; return the client's appointments as a tuple."""
    _validate.instance("calendar", calendar, ClinicianCalendar, "a ClinicianCalendar")
    _validate.instance("policy", policy, ApprovalPolicy, "an ApprovalPolicy")
    _validate.optional(_validate.identifier)("client_id", client_id)
    return _validate.tuple_of(
        "client_appointments", client_appointments, Appointment, "an Appointment"
    )


def _window(first_day: date, last_day: date) -> None:
    if not isinstance(first_day, date) or not isinstance(last_day, date):
        raise InvalidRange("first_day and last_day must be dates (local to the clinician).")
    if isinstance(first_day, datetime) or isinstance(last_day, datetime):
        raise InvalidRange("first_day and last_day must be dates, not datetimes.")
    if last_day < first_day:
        raise InvalidRange(
            f"the window ends on {last_day} before it starts on {first_day}; "
            f"swap them or pass last_day >= first_day."
        )
    if first_day < _time.FIRST_DAY or last_day > _time.LAST_DAY:
        raise InvalidRange(
            f"the window {first_day} to {last_day} reaches past the dates selfsched can compute; "
            f"keep it between {_time.FIRST_DAY} and {_time.LAST_DAY}."
        )


_MICROSECOND = timedelta(microseconds=1)


@attrs.frozen
class _Run:
    """Candidates for a window and the inputs needed to judge them."""

    candidates: _candidates.Candidates
    length: int
    inputs: _Inputs
    now: int
    """``now`` rounded up to a whole second: an integer start is before ``now`` iff before this."""
    notice_end: int
    """``now + min_notice``, rounded up (the same reasoning)."""
    horizon_end: int
    """``now + horizon``, rounded down: an integer start is after it iff after this."""

    @property
    def starts(self) -> list[int]:
        """The sorted candidate starts, in POSIX seconds."""
        return self.candidates.starts

    def times(self) -> tuple[list[datetime], list[datetime]]:
        """The candidate slots' starts and ends as aware UTC datetimes (elapsed length)."""
        return self.candidates.times(self.length)


NO_HORIZON_SEARCH = timedelta(days=366)
"""How far :func:`first_available` looks ahead for a policy without a horizon: a year."""

_NO_HORIZON_END = _time.ts(datetime.combine(_time.LAST_DAY, datetime.max.time(), UTC))
"""``_Run.horizon_end`` without a horizon: after every start selfsched can compute."""


def _bounds(now_utc: datetime, policy: ApprovalPolicy) -> tuple[int, int, int]:
    """``_Run.now``, ``_Run.notice_end`` and ``_Run.horizon_end`` for an aware UTC ``now``."""
    now_us = (now_utc - _time.EPOCH) // _MICROSECOND
    horizon_end = (
        _NO_HORIZON_END
        if policy.horizon is None
        else (now_us + policy.horizon // _MICROSECOND) // 1_000_000
    )
    return (
        -(-now_us // 1_000_000),
        -(-(now_us + policy.min_notice // _MICROSECOND) // 1_000_000),
        horizon_end,
    )


def _prepare(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    first_day: date,
    last_day: date,
    now: datetime,
    client_id: str | None,
    client_appointments: Iterable[Appointment],
    candidates: _candidates.Candidates | None = None,
    *,
    flat: bool = False,
) -> _Run:
    client_appointments = _check_inputs(calendar, policy, client_id, client_appointments)
    _window(first_day, last_day)
    now_utc = _time.in_span("now", now)
    clinician = calendar.clinician
    z = clinician.tz
    length = clinician.service_minutes * 60
    grid = policy.grid_minutes
    if candidates is None:
        candidates = _candidates.candidates(clinician, z, first_day, last_day, grid, length)
    lo = _time.start_of_day(first_day, z)
    hi = _time.start_of_day(last_day + timedelta(days=1), z)
    last = candidates.last()
    if last is not None:
        hi = max(hi, last + length)  # a date's repeated late hour may end after the last date
    gather = _gather_flat if flat else _gather
    inputs = gather(calendar, policy, z, lo, hi, now_utc, client_id, client_appointments)
    now_s, notice_end, horizon_end = _bounds(now_utc, policy)
    return _Run(
        candidates=candidates,
        length=length,
        inputs=inputs,
        now=now_s,
        notice_end=notice_end,
        horizon_end=horizon_end,
    )


def _full_days(run: _Run, policy: ApprovalPolicy) -> set[date]:
    cap = policy.daily_max
    if cap is None:
        return set()
    return {day for day, count in run.inputs.day_counts.items() if count >= cap}


def _full_spans(run: _Run, policy: ApprovalPolicy) -> list[tuple[int, int]]:
    """The slices of ``run.starts`` that lie on dates the daily maximum has filled."""
    full = _full_days(run, policy)
    if not full:
        return []
    return [(i, j) for day, i, j in run.candidates.day_spans() if day in full]


def _slices(
    starts: list[datetime],
    ends: list[datetime],
    busy_starts: list[datetime],
    busy_ends: list[datetime],
) -> tuple[Iterator[int], Iterator[int]]:
    """For each busy interval ``[s, e)``, the slice ``[i, j)`` of sorted slots that it blocks.

    Half-open: *i* is the first slot that ends after *s*, *j* the first that starts at or after
    *e* (so ``i <= j``). Two binary searches each, in C.
    """
    return (
        map(bisect.bisect_right, repeat(ends), busy_starts),
        map(bisect.bisect_left, repeat(starts), busy_ends),
    )


def _available_flags(
    run: _Run, policy: ApprovalPolicy, starts: list[datetime], ends: list[datetime]
) -> list[bool]:
    """Whether each slot ``[starts[k], ends[k])`` is available (the run has flat inputs)."""
    n = len(starts)
    flat = run.inputs.flat
    if run.inputs.client_full or not n or flat is None:
        return [False] * n
    # Time rules cut a prefix (past, notice) and a suffix (horizon) of the sorted starts.
    head = bisect.bisect_left(starts, _instant(run.notice_end))
    tail = bisect.bisect_right(starts, _instant(run.horizon_end))
    if head >= tail:
        return [False] * n
    busy_starts, busy_ends = flat
    firsts, stops = _slices(starts, ends, busy_starts, busy_ends)
    count = len(busy_starts)
    if 4 * count < n:
        # Few intervals: clear each slice.
        flags = [False] * head + [True] * (tail - head) + [False] * (n - tail)
        for i, j in zip(firsts, stops, strict=True):
            if i < j:
                flags[i:j] = [False] * (j - i)
    else:
        # Many: count the slices covering each start (+1 at each i, -1 at each j, running sums);
        # with many more intervals than starts, most land on the same few indices.
        cover = [0] * (n + 1)
        if count > 2 * n:
            for i, times in Counter(firsts).items():
                cover[i] += times
            for j, times in Counter(stops).items():
                cover[j] -= times
        else:
            for i in firsts:
                cover[i] += 1
            for j in stops:
                cover[j] -= 1
        flags = list(map(not_, accumulate(cover[:n])))
        flags[:head] = [False] * head
        flags[tail:] = [False] * (n - tail)
    for i, j in _full_spans(run, policy):
        flags[i:j] = [False] * (j - i)
    return flags


def available_slots(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    *,
    first_day: date,
    last_day: date,
    now: datetime,
    client_id: str | None = None,
    client_appointments: Iterable[Appointment] = (),
) -> tuple[Slot, ...]:
    """The client view: every grid slot inside work hours from *first_day* to *last_day*.

    Dates are local to the clinician and inclusive. Each slot is only ``available`` or not;
    nothing says why. With *client_id*, the client's own open appointments (from
    *client_appointments* and the calendar) count against its cap and may not overlap.
    """
    run = _prepare(
        calendar, policy, first_day, last_day, now, client_id, client_appointments, flat=True
    )
    starts, ends = run.times()
    return tuple(map(Slot, starts, ends, _available_flags(run, policy, starts, ends)))


_BIT = {reason: 1 << i for i, reason in enumerate(Reason)}


def _reasons(run: _Run, policy: ApprovalPolicy) -> list[frozenset[Reason]]:
    """Every slot's reasons: a bit per reason; equal sets share one frozenset.

    Each reason's intervals are merged and swept against the candidates with ``_blocked``, the
    plain sweep; the client view binary-searches each interval's slice. Both follow the same
    half-open rule, and the tests hold the two views to the same answers.
    """
    starts = run.starts
    n = len(starts)
    masks = [0] * n
    for reason, intervals in run.inputs.by_reason.items():
        if not intervals:
            continue
        bit = _BIT[reason]
        for i in compress(range(n), _blocked(starts, run.length, _merge(list(intervals)))):
            masks[i] |= bit
    # Time rules: past, else minimum notice (a prefix); horizon (a suffix); daily maximum (dates).
    past = bisect.bisect_left(starts, run.now)
    notice = max(past, bisect.bisect_left(starts, run.notice_end))
    horizon = bisect.bisect_right(starts, run.horizon_end)
    spans = [
        (_BIT[Reason.PAST], [(0, past)]),
        (_BIT[Reason.MIN_NOTICE], [(past, notice)]),
        (_BIT[Reason.HORIZON], [(horizon, n)]),
        (_BIT[Reason.DAILY_MAX], _full_spans(run, policy)),
    ]
    if run.inputs.client_full:
        spans.append((_BIT[Reason.CLIENT_CAP], [(0, n)]))
    for bit, found in spans:
        for i, j in found:
            for k in range(i, j):
                masks[k] |= bit
    sets = {mask: frozenset(r for r, b in _BIT.items() if mask & b) for mask in set(masks)}
    return list(map(sets.__getitem__, masks))


def explain(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    *,
    first_day: date,
    last_day: date,
    now: datetime,
    client_id: str | None = None,
    client_appointments: Iterable[Appointment] = (),
) -> tuple[ExplainedSlot, ...]:
    """The staff view: the same slots as :func:`available_slots`, each with every reason.

    A slot is available in one view exactly when it is available in the other.
    """
    run = _prepare(calendar, policy, first_day, last_day, now, client_id, client_appointments)
    reasons = _reasons(run, policy)
    starts, ends = run.times()
    return tuple(map(ExplainedSlot, starts, ends, reasons))


def check_slot(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    start: datetime,
    *,
    now: datetime,
    client_id: str | None = None,
    client_appointments: Iterable[Appointment] = (),
) -> SlotCheck:
    """May *client_id* book the slot that starts at *start*? With every reason when not.

    Raises :class:`~selfsched.errors.OffGrid` when *start* is not on the grid in the clinician's
    zone. A start on the grid but outside the work hours gives ``OUTSIDE_WORK_HOURS``.
    """
    client_appointments = _check_inputs(calendar, policy, client_id, client_appointments)
    start_utc = _time.in_span("start", start)
    clinician = calendar.clinician
    z = clinician.tz
    local = start_utc.astimezone(z)
    if local.second or local.microsecond or local.minute % policy.grid_minutes:
        raise OffGrid(start, policy.grid_minutes, clinician.zone)
    day = local.date()
    run = _prepare(calendar, policy, day, day, now, client_id, client_appointments)
    end = start_utc + timedelta(seconds=run.length)
    s = _time.ts(start_utc)
    i = bisect.bisect_left(run.starts, s)
    if i == len(run.starts) or run.starts[i] != s:
        return SlotCheck(start_utc, end, frozenset({Reason.OUTSIDE_WORK_HOURS}))
    return SlotCheck(start_utc, end, frozenset(_reasons(run, policy)[i]))


def first_available(
    calendars: Iterable[ClinicianCalendar],
    policy: ApprovalPolicy,
    *,
    now: datetime,
    client_id: str | None = None,
    client_appointments: Iterable[Appointment] = (),
) -> tuple[Clinician, Slot] | None:
    """The earliest available slot across clinicians, or ``None`` within the horizon.

    With no horizon (``policy.horizon is None``) it looks :data:`NO_HORIZON_SEARCH` ahead.

    Each clinician's days are examined in growing chunks (1, 2, 4, ... days) from the first day
    the minimum notice allows, so a clinician with an opening soon costs only a few days' work.
    Ties go to the clinician given first.
    """
    _validate.instance("policy", policy, ApprovalPolicy, "an ApprovalPolicy")
    _validate.optional(_validate.identifier)("client_id", client_id)
    calendars = _validate.tuple_of("calendars", calendars, ClinicianCalendar, "a ClinicianCalendar")
    now_utc = _time.in_span("now", now)
    ahead = NO_HORIZON_SEARCH if policy.horizon is None else policy.horizon
    try:
        latest: datetime | None = now_utc + ahead
    except OverflowError:
        latest = None
    if latest is None or latest.date() >= _time.LAST_DAY:
        raise InvalidRange(
            f"now={now!r} plus the horizon ({ahead}) is past the last date selfsched "
            f"can compute; pass a realistic now and horizon."
        )
    earliest = now_utc + policy.min_notice  # the horizon is longer than the notice
    extra = _validate.tuple_of(
        "client_appointments", client_appointments, Appointment, "an Appointment"
    )
    best: tuple[Clinician, Slot] | None = None
    beat: int | None = None  # the best start so far: only an earlier slot can win
    for calendar in calendars:
        z = calendar.clinician.tz
        day = earliest.astimezone(z).date()
        last = latest.astimezone(z).date()
        chunk = 1
        while day <= last:
            if beat is not None and _time.start_of_day(day, z) >= beat:
                break
            until = last if (last - day).days < chunk else day + timedelta(days=chunk - 1)
            found = _first_free(calendar, policy, day, until, now_utc, client_id, extra, beat)
            if found is not None:
                if best is None or found.start < best[1].start:
                    best = (calendar.clinician, found)
                    beat = _time.ts(found.start)
                break
            day = until + timedelta(days=1)
            chunk *= 2
    return best


def _first_free(
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    first_day: date,
    last_day: date,
    now: datetime,
    client_id: str | None,
    client_appointments: Iterable[Appointment],
    beat: int | None,
) -> Slot | None:
    """The first available slot of the window that starts before *beat*, or ``None``.

    The same answer as the first available slot of :func:`available_slots`, restricted to starts
    before *beat*; when the work hours and time rules leave no such start, no busy interval is
    gathered at all (branch and bound: most clinicians cannot beat an early best).
    """
    _window(first_day, last_day)
    clinician = calendar.clinician
    length = clinician.service_minutes * 60
    z = clinician.tz
    grid = policy.grid_minutes
    candidates = _candidates.candidates(clinician, z, first_day, last_day, grid, length)
    starts = candidates.starts
    _, notice_end, horizon_end = _bounds(_time.to_utc("now", now), policy)
    head = bisect.bisect_left(starts, notice_end)
    stop = bisect.bisect_right(starts, horizon_end)
    if beat is not None:
        stop = min(stop, bisect.bisect_left(starts, beat))
    if head >= stop:
        return None
    run = _prepare(
        calendar,
        policy,
        first_day,
        last_day,
        now,
        client_id,
        client_appointments,
        candidates,
        flat=True,
    )
    times, ends = run.times()
    try:
        k = _available_flags(run, policy, times, ends).index(True, head, stop)
    except ValueError:
        return None
    return Slot(times[k], ends[k], True)
