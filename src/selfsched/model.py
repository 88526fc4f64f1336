"""The immutable domain model: frozen attrs values, validated when constructed.

Every instant here is an aware datetime, normalised to UTC on construction so that comparing
them is cheap and unambiguous. Local wall-clock values are ``time``/``date`` objects read in the
clinician's IANA zone, and one naive ``datetime``: a recurring event's ``wall_start``, read in the
event's own ``zone``. Changes are new values (``attrs.evolve``).
"""

from __future__ import annotations

import enum
import importlib.util
import itertools
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

import attrs

from selfsched import _time, _validate
from selfsched.errors import (
    ExtraNotInstalled,
    InvalidInput,
    InvalidPolicy,
    InvalidRange,
    InvalidRecurrence,
    OverlappingWorkHours,
    UnknownTimeZone,
    WrongType,
)
from selfsched.events import EmailKind
from selfsched.wording import EmailTemplate, templates_by_kind

__all__ = [
    "Appointment",
    "AppointmentStatus",
    "ApprovalPolicy",
    "CalendarEvent",
    "Client",
    "Clinician",
    "ClinicianCalendar",
    "EventKind",
    "EventKindValue",
    "ModeValue",
    "Origin",
    "OriginValue",
    "Practice",
    "SchedulingMode",
    "StatusValue",
    "TimeRange",
    "Weekday",
    "WorkHours",
]


class Weekday(enum.IntEnum):
    """Days of the week, numbered as ``date.weekday()`` does (Monday is 0)."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class SchedulingMode(enum.StrEnum):
    """How a practice (or one clinician) lets clients schedule."""

    DISABLED = "disabled"
    """Clients see their appointments but change nothing."""
    INSTANT = "instant"
    """Client bookings land on the schedule at once ("without clinician approval")."""
    REQUIRES_APPROVAL = "requires_approval"
    """Client bookings are requests that a clinician or authorised staff member decides."""


class AppointmentStatus(enum.StrEnum):
    """The states of an appointment or request. Stored values are these stable strings."""

    PENDING = "pending"
    """A request waiting for a decision; a grey placeholder on the schedules."""
    BOOKED = "booked"
    """On the clinician's schedule."""
    REJECTED = "rejected"
    """A request (or a self-booked appointment) the practice turned down."""
    MISSED = "missed"
    """Cancelled by the client (shown as missed on the clinician's schedule)."""
    CANCELLED = "cancelled"
    """Cancelled by the practice."""
    EXPIRED = "expired"
    """A request nobody decided before its start (or its time-to-live)."""

    @property
    def is_open(self) -> bool:
        """``PENDING`` and ``BOOKED`` are open; every other status is final."""
        return self in _OPEN


_OPEN = frozenset({AppointmentStatus.PENDING, AppointmentStatus.BOOKED})


class Origin(enum.StrEnum):
    """Who created an appointment."""

    CLIENT = "client"
    STAFF = "staff"


class EventKind(enum.StrEnum):
    """The three kinds of calendar event."""

    ONE_OFF = "one_off"
    ALL_DAY = "all_day"
    RECURRING = "recurring"


# -- validators and converters --------------------------------------------------------------------


def _normalise_instants(instance: object, *names: str) -> None:
    """Check that the named datetime fields are aware and store them in UTC."""
    for name in names:
        value = getattr(instance, name)
        if value is not None:
            object.__setattr__(instance, name, _time.in_span(name, value))


def _check_kind(attribute: attrs.Attribute[Any], value: object) -> bool:
    """Refuse a value of the wrong kind for a length (timedelta) or count (int) field.

    Returns whether there is a value to range-check (``None`` is allowed where the field's
    annotation allows it).
    """
    declared = str(attribute.type)
    if value is None and "None" in declared:
        return False
    kind, noun = (timedelta, "a timedelta") if "timedelta" in declared else (int, "a whole number")
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidPolicy(f"{attribute.name} must be {noun}, got {value!r}.")
    return True


def _positive(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:  # noqa: ANN401
    if _check_kind(attribute, value) and value <= type(value)(0):
        raise InvalidPolicy(f"{attribute.name} must be positive, got {value!r}.")


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:  # noqa: ANN401
    if _check_kind(attribute, value) and value < type(value)(0):
        raise InvalidPolicy(f"{attribute.name} must not be negative, got {value!r}.")


_E = TypeVar("_E", bound=enum.Enum)

_ID = _validate.field(_validate.identifier)
_TEXT = _validate.field(_validate.text)
_OPTIONAL_TEXT = _validate.field(_validate.optional(_validate.text))
_FLAG = _validate.field(_validate.flag)


def _private_text(name: str, value: object) -> str:
    """A string whose value is never shown in an error message (a client's name or address)."""
    return _validate.text(name, value, show=False)


def _to_enum(kind: type[_E], value: object, error: type[InvalidInput]) -> _E:
    """Convert *value* to *kind*, or raise *error* naming the allowed values."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in kind)
        msg = f"{value!r} is not a valid {kind.__name__}; use one of {allowed}."
        raise error(msg) from None


# The converters' parameter types are what attrs gives the constructors: an enum member or one of
# its documented string values, so a type checker refuses ``status="bookd"`` in the caller's code.
# At run time a wrong value still raises, naming the valid choices.
EventKindValue = Literal["one_off", "all_day", "recurring"]
StatusValue = Literal["pending", "booked", "rejected", "missed", "cancelled", "expired"]
OriginValue = Literal["client", "staff"]
ModeValue = Literal["disabled", "instant", "requires_approval"]


def _to_kind(value: EventKind | EventKindValue) -> EventKind:
    return _to_enum(EventKind, value, InvalidInput)


def _to_status(value: AppointmentStatus | StatusValue) -> AppointmentStatus:
    return _to_enum(AppointmentStatus, value, InvalidInput)


def _to_origin(value: Origin | OriginValue) -> Origin:
    return _to_enum(Origin, value, InvalidInput)


def _to_mode(value: SchedulingMode | ModeValue) -> SchedulingMode:
    return _to_enum(SchedulingMode, value, InvalidPolicy)


def _weekday(key: object) -> int:
    return int(_to_enum(Weekday, key, InvalidRange))


def _minutes(t: time, *, end: bool) -> int:
    minutes = t.hour * 60 + t.minute
    return 24 * 60 if end and minutes == 0 else minutes


_HHMM = re.compile(r"(\d{1,2}):(\d{2})")


def _parse_time(value: time | str, name: str) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise InvalidRange(f"{name} is a local wall time and must not carry a tzinfo.")
        if value.second or value.microsecond:
            raise InvalidRange(f"{name}={value!r}: work hours are whole minutes.")
        return value
    match = _HHMM.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidRange(f"{name}={value!r} is not a time; write it as 'HH:MM', e.g. '09:00'.")
    hour, minute = int(match[1]), int(match[2])
    if hour == 24 and minute == 0:
        if name == "start":
            raise InvalidRange(
                f"start={value!r}: '24:00' is the end of the day; a range starting at midnight "
                f"starts at '00:00'."
            )
        return time(0)
    if hour > 23 or minute > 59:
        raise InvalidRange(f"{name}={value!r} is not a time of day.")
    return time(hour, minute)


def _parse_start(value: time | str) -> time:
    return _parse_time(value, "start")


def _parse_end(value: time | str) -> time:
    return _parse_time(value, "end")


# -- work hours -----------------------------------------------------------------------------------


@attrs.frozen(order=True)
class TimeRange:
    """A local wall-clock range ``[start, end)`` within one day.

    ``end`` of ``time(0)`` (or the string ``"24:00"``) means midnight at the end of the day.
    """

    start: time = attrs.field(converter=_parse_start)
    end: time = attrs.field(converter=_parse_end)

    def __attrs_post_init__(self) -> None:
        if self.end_minute <= self.start_minute:
            raise InvalidRange(
                f"Work range {self.start:%H:%M}-{self.end:%H:%M} ends at or before it starts; "
                f"a range must lie within one day (use '24:00' for midnight)."
            )

    @property
    def start_minute(self) -> int:
        """Minutes after local midnight at which the range starts."""
        return _minutes(self.start, end=False)

    @property
    def end_minute(self) -> int:
        """Minutes after local midnight at which the range ends (1440 for midnight)."""
        return _minutes(self.end, end=True)

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Parse ``"09:00-17:00"``."""
        start, sep, end = text.partition("-")
        if not sep:
            raise InvalidRange(f"{text!r} is not a range; write it as 'HH:MM-HH:MM'.")
        return cls(start.strip(), end.strip())

    def __str__(self) -> str:
        end = "24:00" if self.end_minute == 24 * 60 else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"


RangeLike = TimeRange | str | tuple[time | str, time | str]


def _to_range(value: RangeLike) -> TimeRange:
    if isinstance(value, TimeRange):
        return value
    if isinstance(value, str):
        return TimeRange.parse(value)
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise InvalidRange(
            f"{value!r} is not a work range; write it as 'HH:MM-HH:MM' or a (start, end) pair."
        )
    start, end = value
    return TimeRange(start, end)


def _range_list(weekday: object, ranges: object) -> list[RangeLike]:
    """One weekday's ranges as a list; a lone string is a mistake worth naming."""
    if isinstance(ranges, str | bytes) or not isinstance(ranges, Iterable):
        raise WrongType(
            f"the ranges of weekday {weekday!r}", "a list of ranges such as ['09:00-12:00']", ranges
        )
    return list(ranges)


def _seven_days(value: object) -> tuple[tuple[TimeRange, ...], ...]:
    if isinstance(value, Mapping):
        days: list[list[RangeLike]] = [[] for _ in range(7)]
        for key, ranges in value.items():
            days[_weekday(key)] = _range_list(key, ranges)
    elif isinstance(value, tuple | list) and len(value) == 7:
        days = [_range_list(weekday, ranges) for weekday, ranges in enumerate(value)]
    else:
        raise InvalidRange(
            "work hours need a mapping of weekday to ranges, or seven sequences (Monday first)."
        )
    result: list[tuple[TimeRange, ...]] = []
    for weekday, ranges in enumerate(days):
        parsed = sorted(_to_range(r) for r in ranges)
        for before, after in itertools.pairwise(parsed):
            if after.start_minute < before.end_minute:
                raise OverlappingWorkHours(
                    f"On {Weekday(weekday).name.title()} the work ranges {before} and {after} "
                    f"overlap; merge them or make one end before the other starts."
                )
        result.append(tuple(parsed))
    return tuple(result)


def _seven_locations(value: object) -> tuple[str | None, ...]:
    if value is None:
        return (None,) * 7
    if isinstance(value, Mapping):
        locations: list[str | None] = [None] * 7
        for key, location in value.items():
            locations[_weekday(key)] = _validate.optional_text(f"location of {key!r}", location)
        return tuple(locations)
    if isinstance(value, tuple | list) and len(value) == 7:
        return tuple(
            _validate.optional_text(f"location of weekday {weekday}", location)
            for weekday, location in enumerate(value)
        )
    raise InvalidRange("locations need a mapping of weekday to location, or seven entries.")


@attrs.frozen
class WorkHours:
    """A clinician's weekly template: local time ranges and a default location per weekday.

    >>> WorkHours({Weekday.MONDAY: ["09:00-12:00", "13:00-17:00"]}).ranges(Weekday.MONDAY)
    (TimeRange(start=datetime.time(9, 0), end=datetime.time(12, 0)), ...)
    """

    days: tuple[tuple[TimeRange, ...], ...] = attrs.field(converter=_seven_days)
    locations: tuple[str | None, ...] = attrs.field(
        default=None, converter=_seven_locations, kw_only=True
    )

    @classmethod
    def weekdays(cls, *ranges: RangeLike, location: str | None = None) -> WorkHours:
        """The same ranges (and location) Monday to Friday; weekends off."""
        days = {Weekday(d): list(ranges) for d in range(5)}
        return cls(days, locations=dict.fromkeys(range(5), location))

    def ranges(self, weekday: int) -> tuple[TimeRange, ...]:
        """The ranges of a weekday (Monday is 0), sorted."""
        return self.days[weekday]

    def location(self, weekday: int) -> str | None:
        """The default service location of a weekday, or ``None`` ("No Location Set")."""
        return self.locations[weekday]


# -- calendar events ------------------------------------------------------------------------------


def _exdates(value: object) -> tuple[datetime, ...]:
    """EXDATEs as UTC instants: an iterable of aware datetimes, each refused by its index."""
    if isinstance(value, str | bytes | datetime) or not isinstance(value, Iterable):
        raise WrongType("exdates", "an iterable of aware datetimes", value)
    return tuple(_validate.instant(f"exdates[{i}]", v) for i, v in enumerate(value))


def _optional_zone(value: str | ZoneInfo | None) -> str | None:
    """``None``, or an IANA key given as a key or a ``ZoneInfo`` that has one."""
    if value is None:
        return None
    if isinstance(value, ZoneInfo) and value.key is None:
        raise UnknownTimeZone(value)
    return _time.zone_key(value)


def _resolve(wall: datetime, z: ZoneInfo, fold: int) -> datetime:
    """The instant (UTC) a wall time names in *z*, as RFC 5545 reads a ``DTSTART;TZID``.

    A repeated wall time is the occurrence *fold* picks; a skipped one is read with the UTC offset
    before the gap (``fold=0``), which puts 02:30 on a spring-forward night at 03:30 summer time.
    """
    chosen = wall.replace(tzinfo=z, fold=fold).astimezone(UTC)
    if chosen.astimezone(z).replace(tzinfo=None) == wall:
        return chosen
    return wall.replace(tzinfo=z, fold=0).astimezone(UTC)


def _check_span(name: str, day: date) -> None:
    if not _time.FIRST_DAY <= day <= _time.LAST_DAY:
        raise InvalidRange(
            f"{name} on {day} is outside the dates selfsched computes with; keep it between "
            f"{_time.FIRST_DAY} and {_time.LAST_DAY}."
        )


@attrs.frozen(kw_only=True)
class CalendarEvent:
    """Time a clinician is not available: one-off, all-day, or recurring (RRULE).

    Build one with :meth:`one_off`, :meth:`all_day` or :meth:`recurring`. A recurring event keeps
    the wall-clock time of its first occurrence across DST, in the zone it was written in
    (``zone``, when its start carried a ``ZoneInfo``) or else in the clinician's; its rule is
    stored as RFC 5545 text and expanded with python-dateutil when slots are computed.
    """

    kind: EventKind = attrs.field(converter=_to_kind)
    id: str = attrs.field(default="", validator=_TEXT)
    title: str = attrs.field(default="", validator=_TEXT)
    start: datetime | None = None
    """The (first) occurrence's start, in UTC."""
    end: datetime | None = None
    """The (first) occurrence's end, in UTC."""
    day: date | None = None
    days: int = attrs.field(default=1, validator=_positive)
    rrule: str | None = None
    exdates: tuple[datetime, ...] = attrs.field(default=(), converter=_exdates)
    wall_start: datetime | None = None
    """A recurring event's first start as its wall clock showed it (naive), in ``zone``; the
    rule repeats this wall time there. ``None`` when the start was given in UTC or at a fixed
    offset: then the rule repeats the start's wall time in the clinician's zone."""
    zone: str | None = attrs.field(default=None, converter=_optional_zone)
    """The IANA key of the zone ``wall_start`` is read in, and the rule expanded in."""

    def __attrs_post_init__(self) -> None:
        _normalise_instants(self, "start", "end")
        if self.kind is not EventKind.RECURRING:
            self._check_not_recurring()
        if self.kind is EventKind.ALL_DAY:
            self._check_days()
            return
        if self.start is None or self.end is None:
            raise InvalidRange(f"a {self.kind} event needs an aware `start` and `end`.")
        if self.day is not None:
            raise InvalidRange(
                f"a {self.kind} event has a `start` and an `end`, not a `day`; whole dates are "
                f"an all-day event (CalendarEvent.all_day)."
            )
        if self.end <= self.start:
            raise InvalidRange(
                f"event {self.title or self.id!r} ends at {self.end.isoformat()}, at or before "
                f"its start {self.start.isoformat()}."
            )
        if self.kind is EventKind.RECURRING:
            from selfsched.recurrence import validate_rule  # noqa: PLC0415  (cycle)

            self._check_wall_start()
            first = self.start if self.wall_start is None else self.wall_start
            object.__setattr__(self, "rrule", validate_rule(self.rrule, first))

    def _check_not_recurring(self) -> None:
        for name in ("rrule", "wall_start", "zone"):
            if getattr(self, name) is not None:
                raise InvalidRecurrence(
                    f"{name} belongs to recurring events; a {self.kind} event has none "
                    f"(build a recurring one with CalendarEvent.recurring)."
                )
        if self.exdates:
            raise InvalidRecurrence(
                f"exdates belong to recurring events; a {self.kind} event has none."
            )

    def _check_days(self) -> None:
        day = self.day
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidRange("an all-day event needs `day`, a date (not a datetime).")
        if self.start is not None or self.end is not None:
            raise InvalidRange(
                "an all-day event has a `day` and a number of `days`, not a `start` and an `end`."
            )
        _check_span("day", day)
        if self.days > (_time.LAST_DAY - day).days:
            raise InvalidRange(
                f"days={self.days} from {day} runs past {_time.LAST_DAY}, the last date selfsched "
                f"computes with; end the event sooner."
            )

    def _check_wall_start(self) -> None:
        wall, key = self.wall_start, self.zone
        if wall is None and key is None:
            return
        if wall is None or key is None:
            raise InvalidRecurrence(
                "wall_start and zone go together (the first start's wall time and the zone it is "
                "read in); build the event with CalendarEvent.recurring(start=...) and a start "
                "that carries a ZoneInfo."
            )
        if not isinstance(wall, datetime) or wall.tzinfo is not None:
            raise WrongType("wall_start", "a naive datetime (the wall time in `zone`)", wall)
        _check_span("wall_start", wall.date())
        wall = wall.replace(fold=0)
        object.__setattr__(self, "wall_start", wall)
        z = _time.zone(key)
        if self.start not in (_resolve(wall, z, 0), _resolve(wall, z, 1)):
            assert self.start is not None  # noqa: S101  (checked by the caller)
            raise InvalidRange(
                f"start={self.start.isoformat()} is not wall_start={wall.isoformat()} in {key}; "
                f"build the event with CalendarEvent.recurring(start=...) and a start that "
                f"carries a ZoneInfo, which records both."
            )

    @classmethod
    def one_off(
        cls,
        start: datetime,
        end: datetime,
        *,
        title: str = "",
        id: str = "",  # noqa: A002
    ) -> CalendarEvent:
        """Block ``[start, end)``."""
        return cls(kind=EventKind.ONE_OFF, start=start, end=end, title=title, id=id)

    @classmethod
    def all_day(
        cls,
        day: date,
        *,
        days: int = 1,
        title: str = "",
        id: str = "",  # noqa: A002
    ) -> CalendarEvent:
        """Block whole local dates in the clinician's zone, ``day`` and the ``days - 1`` after."""
        return cls(kind=EventKind.ALL_DAY, day=day, days=days, title=title, id=id)

    @classmethod
    def recurring(
        cls,
        rrule: str,
        *,
        start: datetime,
        end: datetime | None = None,
        duration: timedelta | None = None,
        exdates: Iterable[datetime] = (),
        title: str = "",
        id: str = "",  # noqa: A002
    ) -> CalendarEvent:
        """Repeat the first occurrence by an RFC 5545 RRULE, e.g. ``"FREQ=WEEKLY;BYDAY=MO,WE"``.

        *start* is the first occurrence's start; give its end as *end* or its elapsed length as
        *duration* (exactly one). *exdates* are occurrence starts to skip.

        The zone of *start* says where the rule repeats its wall time, as ``DTSTART;TZID`` does
        in RFC 5545. A ``ZoneInfo`` start (``datetime(2027, 3, 14, 2, 30, tzinfo=ZoneInfo(
        "America/New_York"))``) records that wall time and zone in ``wall_start`` and ``zone``:
        the rule, its ``UNTIL`` and the *exdates* are read there, whatever the clinician's zone.
        ``ZoneInfo("UTC")`` is such a zone too: the series keeps its UTC time of day. A start in
        ``datetime.UTC`` or at a fixed offset records nothing, and the rule repeats the start's
        wall time in the clinician's zone.

        A start whose wall time is skipped (in a spring-forward gap) begins at the instant RFC
        5545 gives it, with the UTC offset before the gap (02:30 is 03:30 summer time); later
        occurrences keep 02:30. Such a start can put a written *end* at or before it: give
        *duration* instead.
        """
        first = _validate.instant("start", start)
        wall: datetime | None = None
        key: str | None = None
        z = start.tzinfo
        if isinstance(z, ZoneInfo) and z.key is not None:
            key = _time.zone_key(z)
            wall = start.replace(tzinfo=None, fold=0)
            first = _resolve(wall, z, start.fold)
        if (end is None) == (duration is None):
            raise InvalidRange(
                "a recurring event needs the first occurrence's end= or its duration= (a "
                "timedelta), exactly one of the two."
            )
        if duration is not None:
            length = _validate.length("duration", duration)
            if length <= timedelta(0):
                raise InvalidRange(f"duration must be positive, got {length!r}.")
            try:
                last = first + length
            except OverflowError:
                raise InvalidRange(
                    f"duration={length!r} from {first.isoformat()} runs past the last date "
                    f"selfsched computes with, {_time.LAST_DAY}."
                ) from None
        else:
            last = _validate.instant("end", end)
            if last <= first and wall is not None:
                skipped = first.astimezone(z).replace(tzinfo=None) != wall
                raise InvalidRange(
                    f"event {title or id!r} ends at {last.isoformat()}, at or before its start "
                    f"{first.isoformat()} ({wall:%Y-%m-%d %H:%M} in {key}"
                    + (", a wall time the clocks skip: it begins after the gap" if skipped else "")
                    + "); give the first occurrence's length as duration=timedelta(...) instead "
                    "of end."
                )
        return cls(
            kind=EventKind.RECURRING,
            rrule=rrule,
            start=first,
            end=last,
            wall_start=wall,
            zone=key,
            exdates=exdates,
            title=title,
            id=id,
        )

    @property
    def duration(self) -> timedelta:
        """Elapsed length of one occurrence (all-day events: whole days)."""
        if self.start is None or self.end is None:
            return timedelta(days=self.days)
        return self.end - self.start


# -- clinicians, appointments, policy -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Clinician:
    """A provider whose calendar clients book: zone, weekly work hours and default service."""

    id: str = attrs.field(validator=_ID)
    name: str = attrs.field(default="", validator=_TEXT)
    zone: str = attrs.field(default="UTC", converter=_time.zone_key)
    work_hours: WorkHours = attrs.field(
        factory=lambda: WorkHours({}),
        validator=_validate.field(lambda n, v: _validate.instance(n, v, WorkHours, "WorkHours")),
    )
    service_code: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    service_minutes: int = attrs.field(default=50, validator=_positive)

    @property
    def tz(self) -> ZoneInfo:
        """The clinician's ``ZoneInfo``."""
        return _time.zone(self.zone)

    @property
    def service_length(self) -> timedelta:
        """The default service's length, as elapsed time."""
        return timedelta(minutes=self.service_minutes)


@attrs.frozen(kw_only=True)
class Appointment:
    """A booking or a request. Immutable: a change is a new value with a higher ``version``."""

    id: str = attrs.field(validator=_ID)
    client_id: str = attrs.field(validator=_ID)
    clinician_id: str = attrs.field(validator=_ID)
    start: datetime = attrs.field()
    end: datetime = attrs.field()
    status: AppointmentStatus = attrs.field(converter=_to_status)
    service_code: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    code_modifier: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    location: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    origin: Origin = attrs.field(default=Origin.CLIENT, converter=_to_origin)
    created_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    cancelled_at: datetime | None = None
    late_cancellation: bool = attrs.field(default=False, validator=_FLAG)
    version: int = attrs.field(default=1, validator=_not_negative)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "start", _time.in_span("start", self.start))
        object.__setattr__(self, "end", _time.in_span("end", self.end))
        _normalise_instants(self, "created_at", "decided_at", "cancelled_at")
        if self.end <= self.start:
            raise InvalidRange(
                f"appointment {self.id!r} ends at {self.end.isoformat()}, at or before its "
                f"start {self.start.isoformat()}."
            )

    @property
    def is_open(self) -> bool:
        """``PENDING`` or ``BOOKED``."""
        return self.status.is_open

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether ``[self.start, self.end)`` and ``[start, end)`` share an instant."""
        start, end = _time.to_utc("start", start), _time.to_utc("end", end)
        return self.start < end and start < self.end


_GRIDS = (15, 30, 60)


def _grid(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if type(value) is not int or value not in _GRIDS:
        raise InvalidPolicy(
            f"grid_minutes must be 60 (full hour), 30 (half hour) or 15 (quarter hour), "
            f"got {value!r}."
        )


@attrs.frozen(kw_only=True)
class ApprovalPolicy:
    """A practice's (or one clinician's) self-scheduling settings. Every field has a default."""

    mode: SchedulingMode = attrs.field(default=SchedulingMode.REQUIRES_APPROVAL, converter=_to_mode)
    """Default: requests wait for approval, so nothing reaches a schedule unreviewed."""
    grid_minutes: int = attrs.field(default=30, validator=_grid)
    """Slot starts at :00 (60), :00/:30 (30) or every quarter hour (15). Default 30."""
    min_notice: timedelta = attrs.field(default=timedelta(hours=24), validator=_not_negative)
    """No slot starts sooner than this after ``now``. Default 24 hours; ``timedelta(0)`` lets a
    client book any slot that has not started yet."""
    horizon: timedelta | None = attrs.field(default=timedelta(days=60), validator=_positive)
    """No slot starts later than this after ``now``. Default 60 days; ``None`` is no horizon
    (:func:`~selfsched.first_available` then looks :data:`~selfsched.slots.NO_HORIZON_SEARCH`
    ahead)."""
    buffer_before: timedelta = attrs.field(default=timedelta(0), validator=_not_negative)
    """Free time before every appointment (the one being booked too). Default none.

    Two appointments are at least ``buffer_after + buffer_before`` apart, whichever came first.
    """
    buffer_after: timedelta = attrs.field(default=timedelta(0), validator=_not_negative)
    """Free time after every appointment (the one being booked too). Default none."""
    daily_max: int | None = attrs.field(default=None, validator=_positive)
    """At most this many holding appointments per clinician per local day. Default unlimited."""
    client_open_cap: int | None = attrs.field(default=None, validator=_positive)
    """At most this many open future appointments per client. Default unlimited."""
    pending_holds_slot: bool = attrs.field(default=True, validator=_FLAG)
    """A ``PENDING`` request blocks its slot for others (the grey placeholder). Default yes."""
    late_cancellation_window: timedelta = attrs.field(
        default=timedelta(hours=24), validator=_not_negative
    )
    """A client cancellation this close to the start is flagged late. Default 24 hours."""
    pending_ttl: timedelta | None = attrs.field(default=None, validator=_positive)
    """An undecided request expires this long after it was made (and always at its start)."""

    def __attrs_post_init__(self) -> None:
        if self.horizon is not None and self.horizon <= self.min_notice:
            raise InvalidPolicy(
                f"horizon ({self.horizon}) must be longer than min_notice ({self.min_notice}), "
                f"or no slot could ever be offered."
            )


def _events(value: Iterable[CalendarEvent]) -> tuple[CalendarEvent, ...]:
    return _validate.tuple_of("events", value, CalendarEvent, "CalendarEvent")


def _appointments(value: Iterable[Appointment]) -> tuple[Appointment, ...]:
    return _validate.tuple_of("appointments", value, Appointment, "Appointment")


@attrs.frozen(kw_only=True)
class ClinicianCalendar:
    """What the slot calculator needs about one clinician: profile, events and appointments.

    ``appointments`` are the clinician's own; appointments of other clinicians are ignored.
    """

    clinician: Clinician = attrs.field(
        validator=_validate.field(lambda n, v: _validate.instance(n, v, Clinician, "a Clinician"))
    )
    events: tuple[CalendarEvent, ...] = attrs.field(default=(), converter=_events)
    appointments: tuple[Appointment, ...] = attrs.field(default=(), converter=_appointments)


@attrs.frozen(kw_only=True)
class Client:
    """What selfsched needs to know about a client: how to reach them and their time zone.

    ``zone`` is the zone the client reads times in; ``None`` means the practice's zone.
    """

    id: str = attrs.field(validator=_ID)
    name: str = attrs.field(default="", validator=_validate.field(_private_text))
    email: str | None = attrs.field(
        default=None, validator=_validate.field(_validate.optional(_private_text))
    )
    zone: str | None = attrs.field(
        default=None, converter=attrs.converters.optional(_time.zone_key)
    )


def _invites(name: str, value: object) -> bool:
    """``True`` or ``False``; ``True`` only when the ``ical`` extra is installed."""
    if _validate.flag(name, value) and importlib.util.find_spec("icalendar") is None:
        raise ExtraNotInstalled(
            "ical",
            f"{name}=True needs the icalendar package, which is not installed: install "
            f"selfsched with its ical extra (pip install 'selfsched[ical]'), or leave "
            f"{name} off.",
        )
    return bool(value)


def _policies(value: Mapping[str, ApprovalPolicy] | None) -> Mapping[str, ApprovalPolicy]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise WrongType("clinician_policies", "a mapping of clinician id to ApprovalPolicy", value)
    for key, policy in value.items():
        _validate.identifier("clinician_policies key", key)
        name = f"clinician_policies[{key!r}]"
        _validate.instance(name, policy, ApprovalPolicy, "an ApprovalPolicy")
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class Practice:
    """The clinic's settings: its zone, its contact details, its policy, per-clinician policy
    overrides, and the wording of its emails to clients."""

    name: str = attrs.field(default="the clinic", validator=_TEXT)
    zone: str = attrs.field(default="UTC", converter=_time.zone_key)
    phone: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    """The number clients call; emails name it (``$practice_phone``)."""
    reply_to: str | None = attrs.field(
        default=None, validator=_validate.field(_validate.optional(_validate.address))
    )
    """Where clients' replies to emails go (their ``Reply-To`` header), such as
    ``front-desk@clinic.example``; ``None`` for the mailer's sender address. Refused unless it
    reads as an email address and is safe as a header."""
    policy: ApprovalPolicy = attrs.field(
        factory=ApprovalPolicy,
        validator=_validate.field(
            lambda n, v: _validate.instance(n, v, ApprovalPolicy, "an ApprovalPolicy")
        ),
    )
    clinician_policies: Mapping[str, ApprovalPolicy] = attrs.field(
        factory=dict, converter=_policies, hash=False
    )
    email_templates: Mapping[EmailKind, EmailTemplate] = attrs.field(
        factory=dict, converter=templates_by_kind, hash=False
    )
    """The practice's own wording of client emails, by kind (an
    :class:`~selfsched.wording.EmailTemplate` each; keys may also be the kinds' values, such as
    ``"rejected"``). A kind left out is written in the article's words
    (:func:`~selfsched.wording.default_template`)."""
    calendar_invites: bool = attrs.field(default=False, validator=_validate.field(_invites))
    """Whether client emails carry a calendar invite (``selfsched[ical]``, see
    :mod:`selfsched.ical`): the approval and booking confirmation a ``METHOD:REQUEST``, a
    practice cancellation or a rejection of a booked appointment a ``METHOD:CANCEL``; with it on,
    a practice cancellation emails the client (:attr:`~selfsched.events.EmailKind.CANCELLED`).
    Default off. Turning it on without the ``icalendar`` package installed raises
    :class:`~selfsched.errors.ExtraNotInstalled`."""

    def policy_for(self, clinician_id: str) -> ApprovalPolicy:
        """The clinician's override if there is one, else the practice's policy."""
        return self.clinician_policies.get(clinician_id, self.policy)

    def with_policy(self, clinician_id: str | None = None, **changes: Any) -> Practice:  # noqa: ANN401
        """These settings with some policy fields changed; ``self`` is left as it is.

        Without *clinician_id* the practice's policy changes (clinicians with an override keep
        theirs). With one, that clinician's override changes, starting from the policy they
        follow now. Unknown field names raise :class:`~selfsched.errors.InvalidPolicy` naming
        the fields there are; values are checked as :class:`ApprovalPolicy` checks them.
        """
        fields = attrs.fields_dict(ApprovalPolicy)
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise InvalidPolicy(
                f"ApprovalPolicy has no field {', '.join(map(repr, unknown))}; the fields are "
                f"{', '.join(fields)}."
            )
        if clinician_id is None:
            return attrs.evolve(self, policy=attrs.evolve(self.policy, **changes))
        _validate.identifier("clinician_id", clinician_id)
        changed = attrs.evolve(self.policy_for(clinician_id), **changes)
        return attrs.evolve(
            self, clinician_policies={**self.clinician_policies, clinician_id: changed}
        )
