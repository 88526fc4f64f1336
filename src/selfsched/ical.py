"""iCalendar in and out: appointments as events and invites, external calendars as busy time.

Needs the ``ical`` extra (``pip install 'selfsched[ical]'``: the ``icalendar`` and
``recurring-ical-events`` packages); importing this module without it raises
:class:`~selfsched.errors.ExtraNotInstalled`. Nothing here does I/O or reads a clock.

**Out.** :func:`appointment_event` is an appointment as a ``VEVENT`` in the clinician's zone,
:func:`invite` the same event as an iCalendar object with ``METHOD:REQUEST`` (a booked
appointment) or ``METHOD:CANCEL`` (one that was booked and no longer is), as client emails carry it
when ``Practice.calendar_invites`` is on, and :func:`feed` a clinician's appointments over a range
for staff. Every one says no more than the client's email does: the time, the clinician's name,
the location (or "No Location Set"), the practice's name and phone. Never a service code or
modifier, never a cancellation reason, never another client.

**In.** :func:`busy_from_ics` reads a clinician's external calendar (an ``.ics`` export from
Google Calendar, Outlook and the like) and returns its busy time over a window as one-off and
all-day :class:`~selfsched.model.CalendarEvent` values, ready for the slot calculator. Repeating
events are expanded by ``recurring-ical-events``, within the bound of :data:`MAX_EXPANSION`.
"""

from __future__ import annotations

import email.utils
import functools
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

from selfsched import _time, _validate
from selfsched.emails import NO_CLINICIAN_NAME, NO_LOCATION
from selfsched.errors import (
    ExtraNotInstalled,
    InvalidCalendarFile,
    InvalidInput,
    InvalidRange,
    InvalidRecurrence,
    UnknownTimeZone,
    WrongType,
)
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    CalendarEvent,
    Client,
    Clinician,
    Practice,
)
from selfsched.recurrence import _localise_until, validate_rule

try:
    import icalendar
    import recurring_ical_events
    from dateutil.rrule import rrulestr
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON
except ImportError as exc:  # pragma: no cover - the tests run with the extra installed
    raise ExtraNotInstalled(
        "ical",
        "selfsched.ical needs the icalendar and recurring-ical-events packages: install "
        "selfsched with its ical extra (pip install 'selfsched[ical]').",
    ) from exc

__all__ = [
    "MAX_EXPANSION",
    "PRODID",
    "appointment_event",
    "busy_from_ics",
    "feed",
    "invite",
    "method_for",
]

PRODID: Final = "-//selfsched//selfsched//EN"
"""The ``PRODID`` of every iCalendar object written here."""

MAX_EXPANSION: Final = 100_000
"""How many steps expanding one imported file's repeating events may take: its cost bound.

A repeating event is expanded from its first occurrence, so the work depends on how long ago
that was, not only on the window asked for. Each rule counts one step per period it runs through
(its years, months, weeks, days, hours or minutes, by ``FREQ`` and ``INTERVAL``) and one per
occurrence, from its ``DTSTART`` to the end of the window (or its ``UNTIL``). A file whose rules
together need more is refused with :class:`~selfsched.errors.InvalidCalendarFile` naming the rule
that crossed the bound, before anything is expanded: a weekly meeting since 2000 takes about
1,400 steps, a daily one since 2015 about 4,000; a rule every 15 minutes since 1970 would take
millions. Each rule is also held to what selfsched's own recurring events are
(:func:`selfsched.recurrence.validate_rule`): occurrences at least
:data:`~selfsched.recurrence.MIN_SPACING` apart, a ``COUNT`` of at most
:data:`~selfsched.recurrence.MAX_COUNT`, and a rule that never occurs refused.
"""

_CONFIRMED = AppointmentStatus.BOOKED
_STATUS = {
    AppointmentStatus.PENDING: "TENTATIVE",
    AppointmentStatus.BOOKED: "CONFIRMED",
}
"""A feed's ``STATUS`` by appointment status; every other status is ``CANCELLED``."""

_CANCELS = frozenset(
    {AppointmentStatus.CANCELLED, AppointmentStatus.REJECTED, AppointmentStatus.MISSED}
)
"""The statuses a booked appointment can leave for: an invite for one of them cancels."""


# -- out ------------------------------------------------------------------------------------------


def method_for(appointment: Appointment) -> str:
    """The ``METHOD`` of *appointment*'s invite: ``REQUEST`` for a booked appointment,
    ``CANCEL`` for one cancelled (by the practice or the client) or rejected.

    A pending request or an expired one was never on the client's calendar: asking for its
    invite raises :class:`~selfsched.errors.InvalidInput`.
    """
    _validate.instance("appointment", appointment, Appointment, "an Appointment")
    if appointment.status is _CONFIRMED:
        return "REQUEST"
    if appointment.status in _CANCELS:
        return "CANCEL"
    raise InvalidInput(
        f"Appointment {appointment.id!r} is {appointment.status}: it was never booked, so it is "
        f"on no calendar; an invite is sent when an appointment is booked (REQUEST) and when a "
        f"booked one is cancelled or rejected (CANCEL)."
    )


def _last_change(appointment: Appointment) -> datetime:
    """When *appointment* last changed, as far as it records: the default ``DTSTAMP``."""
    stamps = [
        t
        for t in (appointment.created_at, appointment.decided_at, appointment.cancelled_at)
        if t is not None
    ]
    return max(stamps, default=appointment.start)


def _uid(appointment: Appointment, domain: str) -> str:
    return f"{appointment.id}@{domain}"


def appointment_event(
    appointment: Appointment,
    *,
    clinician: Clinician,
    practice: Practice,
    client: Client | None = None,
    domain: str = "selfsched.invalid",
    stamp: datetime | None = None,
) -> icalendar.Event:
    """*appointment* as a ``VEVENT`` whose times are in the clinician's zone.

    ``UID`` is ``<appointment id>@<domain>`` (the same every time, so a later invite updates or
    cancels the event a client's calendar holds), ``SEQUENCE`` the appointment's ``version``,
    ``STATUS`` ``TENTATIVE`` (pending), ``CONFIRMED`` (booked) or ``CANCELLED`` (any final
    status), ``DTSTAMP`` *stamp* (by default the appointment's last recorded change).
    ``SUMMARY`` names the clinician, ``LOCATION`` is the location or "No Location Set", and
    ``DESCRIPTION`` adds the practice's name and phone. With *client* (an invite) the client's
    address is the ``ATTENDEE``, and ``Practice.reply_to``, when set, the ``ORGANIZER``.

    Add the clinician's ``VTIMEZONE`` yourself (``Calendar.add_missing_timezones()``) if you put
    the event in a calendar of your own; :func:`invite` and :func:`feed` do.
    """
    _validate.instance("appointment", appointment, Appointment, "an Appointment")
    _validate.instance("clinician", clinician, Clinician, "a Clinician")
    _validate.instance("practice", practice, Practice, "a Practice")
    _validate.optional(lambda n, v: _validate.instance(n, v, Client, "a Client"))("client", client)
    _validate.header("domain", domain)
    if appointment.clinician_id != clinician.id:
        raise InvalidInput(
            f"Appointment {appointment.id!r} is with clinician {appointment.clinician_id!r}, "
            f"not {clinician.id!r}; pass the appointment's own clinician."
        )
    when = _last_change(appointment) if stamp is None else _validate.instant("stamp", stamp)
    z = clinician.tz
    name = clinician.name or NO_CLINICIAN_NAME
    location = appointment.location or NO_LOCATION
    event = icalendar.Event()
    event.add("UID", _uid(appointment, domain))
    event.add("DTSTAMP", when.astimezone(UTC))
    event.add("DTSTART", appointment.start.astimezone(z))
    event.add("DTEND", appointment.end.astimezone(z))
    event.add("SEQUENCE", appointment.version)
    event.add("STATUS", _STATUS.get(appointment.status, "CANCELLED"))
    event.add("SUMMARY", f"Appointment with {name}")
    event.add("LOCATION", location)
    practice_line = practice.name + (f" · {practice.phone}" if practice.phone else "")
    event.add("DESCRIPTION", f"Clinician: {name}\nLocation: {location}\n{practice_line}")
    event.add("TRANSP", "OPAQUE" if appointment.is_open else "TRANSPARENT")
    if client is not None:
        if practice.reply_to is not None:
            shown, address = email.utils.parseaddr(practice.reply_to)
            organizer = icalendar.vCalAddress(f"mailto:{address}")
            organizer.params["CN"] = shown or practice.name
            event.add("ORGANIZER", organizer)
        if client.email:
            attendee = icalendar.vCalAddress(f"mailto:{email.utils.parseaddr(client.email)[1]}")
            attendee.params["ROLE"] = "REQ-PARTICIPANT"
            attendee.params["PARTSTAT"] = "ACCEPTED"
            attendee.params["RSVP"] = "FALSE"
            event.add("ATTENDEE", attendee)
    return event


def _calendar(events: Iterable[icalendar.Event], method: str | None, z: ZoneInfo) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    if method is not None:
        calendar.add("METHOD", method)
    years = [0]
    for event in events:
        calendar.add_component(event)
        years.extend(event.decoded(name).astimezone(z).year for name in ("DTSTART", "DTEND"))
    for zone in _timezones(z.key, min(years[1:], default=2000), max(years)):
        calendar.subcomponents.insert(0, zone)
    return bytes(calendar.to_ical())


@functools.lru_cache(maxsize=256)
def _timezone(key: str, first_year: int, last_year: int) -> icalendar.Timezone:
    return icalendar.Timezone.from_tzinfo(
        ZoneInfo(key),
        tzid=key,
        first_date=date(first_year, 1, 1),
        last_date=date(last_year + 1, 1, 1),
    )


def _timezones(key: str, first_year: int, last_year: int) -> list[icalendar.Timezone]:
    """The clinician's ``VTIMEZONE``, covering the years the events fall in (none for UTC,
    whose times are written with ``Z``)."""
    if key in {"UTC", "Etc/UTC"}:
        return []
    return [_timezone(key, first_year, last_year)]


def invite(
    appointment: Appointment,
    *,
    client: Client,
    clinician: Clinician,
    practice: Practice,
    domain: str = "selfsched.invalid",
    stamp: datetime | None = None,
) -> str:
    """The calendar invite for *appointment*: an iCalendar object with ``METHOD:REQUEST`` (a
    booked appointment) or ``METHOD:CANCEL`` (cancelled or rejected after it was booked; see
    :func:`method_for`), the event of :func:`appointment_event` and the clinician's
    ``VTIMEZONE``.

    This is what a client email carries as its ``text/calendar`` part when
    ``Practice.calendar_invites`` is on (:attr:`~selfsched.events.EmailMessage.calendar`).
    """
    _validate.instance("client", client, Client, "a Client")
    method = method_for(appointment)
    event = appointment_event(
        appointment,
        clinician=clinician,
        practice=practice,
        client=client,
        domain=domain,
        stamp=stamp,
    )
    return _calendar([event], method, clinician.tz).decode("utf-8")


def feed(
    appointments: Iterable[Appointment],
    clinician: Clinician,
    start: datetime,
    end: datetime,
    *,
    practice: Practice,
    domain: str = "selfsched.invalid",
) -> bytes:
    """The clinician's appointments that overlap ``[start, end)`` as an iCalendar file for staff
    (``text/calendar``, to subscribe to or import), sorted by start.

    Appointments of other clinicians are left out. Each is the event of
    :func:`appointment_event` without attendee or organiser: a pending request is
    ``TENTATIVE``, a booked appointment ``CONFIRMED``, any other ``CANCELLED`` (and does not
    block time), so a calendar that follows the feed drops it.
    """
    _validate.instance("clinician", clinician, Clinician, "a Clinician")
    lo, hi = _window(start, end)
    chosen = sorted(
        (
            a
            for a in _validate.tuple_of("appointments", appointments, Appointment, "Appointment")
            if a.clinician_id == clinician.id and a.overlaps(lo, hi)
        ),
        key=lambda a: (a.start, a.id),
    )
    events = [
        appointment_event(a, clinician=clinician, practice=practice, domain=domain) for a in chosen
    ]
    return _calendar(events, None, clinician.tz)


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    lo, hi = _validate.instant("start", start), _validate.instant("end", end)
    if hi <= lo:
        raise InvalidRange(
            f"end={end.isoformat()} is at or before start={start.isoformat()}; the window must "
            f"end after it starts."
        )
    return lo, hi


# -- in -------------------------------------------------------------------------------------------

_CHECKED = frozenset({"VCALENDAR", "VEVENT", "VTIMEZONE", "STANDARD", "DAYLIGHT"})
"""Components whose malformed properties refuse the file; errors elsewhere (an alarm, a to-do)
cannot change busy time. Malformed ``X-`` properties are ignored everywhere."""

_TIMED = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")

_UNIT = {
    "YEARLY": timedelta(days=365),
    "MONTHLY": timedelta(days=28),
    "WEEKLY": timedelta(weeks=1),
    "DAILY": timedelta(days=1),
    "HOURLY": timedelta(hours=1),
    "MINUTELY": timedelta(minutes=1),
}
"""The shortest length of each ``FREQ``'s period, for counting how many a rule runs through."""

_QUOTED = re.compile(r'^"(.*)"$')


def _label(component: Any, index: int) -> str:  # noqa: ANN401  (an icalendar component)
    """How a message names a component: its SUMMARY, its UID, or its place in the file."""
    name = str(component.name)
    summary = component.get("SUMMARY")
    if summary:
        return f"{name} {str(summary)!r}"
    uid = component.get("UID")
    if uid:
        return f"{name} with UID {str(uid)!r}"
    return f"{name} #{index + 1}"


class _Zones:
    """The file's ``TZID`` values resolved to zones, each once.

    An IANA key is its ``ZoneInfo``, and so is a Windows zone name (``Eastern Standard Time``, as
    Outlook writes them) by the Unicode CLDR table icalendar ships; any other ``TZID`` is the
    file's own ``VTIMEZONE`` of that name. The file's ``VTIMEZONE`` for a name that is an IANA or
    Windows zone is not used: the IANA zone has the whole history of the zone's offsets, which an
    exported ``VTIMEZONE`` often lacks.
    """

    def __init__(self, calendar: Any) -> None:  # noqa: ANN401
        self._own = {
            str(zone["TZID"]).strip(): (zone, i)
            for i, zone in enumerate(calendar.walk("VTIMEZONE"))
            if "TZID" in zone
        }
        self._resolved: dict[str, tzinfo] = {}

    def resolve(self, tzid: str, where: str, prop: str) -> tzinfo:
        key = _QUOTED.sub(r"\1", tzid.strip()).strip("/").strip()
        found = self._resolved.get(key)
        if found is None:
            found = self._lookup(key, tzid, where, prop)
            self._resolved[key] = found
        return found

    def _lookup(self, key: str, tzid: str, where: str, prop: str) -> tzinfo:
        for candidate in (key, WINDOWS_TO_OLSON.get(key)):
            if candidate is None:
                continue
            try:
                return _time.zone(candidate)
            except UnknownTimeZone:
                continue
        own = self._own.get(key)
        if own is None:
            raise InvalidCalendarFile(
                where,
                prop,
                f"TZID {tzid!r} is not an IANA time zone, a Windows time zone name or a "
                f"VTIMEZONE of this file; add its VTIMEZONE to the file or use a zone such as "
                f"'America/New_York'.",
            )
        component, index = own
        label = _label(component, index)
        for part in component.subcomponents:
            for rule in _rules(part):
                if rule.get("FREQ") != ["YEARLY"]:
                    raise InvalidCalendarFile(
                        f"{label} {part.name}",
                        "RRULE",
                        f"{rule.to_ical().decode()!r}: a time zone's changes repeat yearly "
                        f"(FREQ=YEARLY).",
                    )
        try:
            made: tzinfo = component.to_tz(lookup_tzid=False)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise InvalidCalendarFile(
                label, None, f"cannot be read as a time zone ({exc})."
            ) from exc
        return made


def _each(prop: Any) -> list[Any]:  # noqa: ANN401  (icalendar properties)
    """Each occurrence of a property that may occur more than once (icalendar gives a list
    then, else the one value); none when it is absent."""
    if prop is None:
        return []
    return list(prop) if isinstance(prop, list) else [prop]


def _anchor(event: Any, where: str, zones: _Zones) -> None:  # noqa: ANN401
    """Put each time of *event* that names a ``TZID`` in the zone :class:`_Zones` gives it, as
    the same wall time; floating times stay as they are (read in the clinician's zone later)."""
    for prop_name in _TIMED:
        for item in _each(event.get(prop_name)):
            tzid = item.params.get("TZID")
            if tzid is None:
                continue
            z = zones.resolve(str(tzid), where, prop_name)
            for value in getattr(item, "dts", [item]):
                value.dt = _in_zone(value.dt, z)


def _in_zone(value: Any, z: tzinfo) -> Any:  # noqa: ANN401  (a date, a datetime or a period)
    if isinstance(value, tuple):
        return tuple(_in_zone(v, z) for v in value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).replace(tzinfo=z)
    return value


def _first(event: Any, where: str) -> date | datetime:  # noqa: ANN401
    start = event.get("DTSTART")
    if start is None:
        raise InvalidCalendarFile(where, "DTSTART", "missing; every event needs a start.")
    value = start.dt
    if not isinstance(value, date):
        raise InvalidCalendarFile(where, "DTSTART", f"{value!r} is not a date or a date-time.")
    end = event.get("DTEND")
    if end is not None:
        if isinstance(end.dt, datetime) != isinstance(value, datetime):
            raise InvalidCalendarFile(
                where, "DTEND", "is a date where DTSTART is a date-time, or the other way round."
            )
        if _comparable(end.dt) < _comparable(value):
            raise InvalidCalendarFile(where, "DTEND", "is before DTSTART.")
    duration = event.get("DURATION")
    if duration is not None and (
        not isinstance(duration.dt, timedelta) or duration.dt < timedelta(0)
    ):
        raise InvalidCalendarFile(where, "DURATION", "must be a positive length of time.")
    return value


def _comparable(value: date | datetime) -> datetime:
    """A date or a (naive or aware) date-time as something that compares with its like."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _rules(event: Any) -> list[Any]:  # noqa: ANN401
    return _each(event.get("RRULE"))


def _steps(
    rule: Any,  # noqa: ANN401  (an icalendar vRecur)
    first: date | datetime,
    until_wall: datetime,
    budget: int,
    where: str,
    z: tzinfo,
) -> int:
    """Steps expanding *rule* from *first* to *until_wall* takes (see :data:`MAX_EXPANSION`),
    counted no further than *budget* + 1."""
    text = rule.to_ical().decode()
    wall = first if isinstance(first, datetime) else datetime.combine(first, time())
    if wall.tzinfo is not None:
        wall = wall.replace(tzinfo=None)
    try:
        text = validate_rule(text, wall)
    except InvalidRecurrence as exc:
        raise InvalidCalendarFile(where, "RRULE", str(exc)) from exc
    freq = str(rule.get("FREQ", [""])[0]).upper()
    interval = int(rule.get("INTERVAL", [1])[0])
    periods = max(0, (until_wall - wall) // (_UNIT[freq] * interval)) + 1
    if periods > budget:
        return periods
    localised = _localise_until(text, z)
    occurrences = 0
    for occurrence in rrulestr(localised, dtstart=wall):
        if occurrence > until_wall or periods + occurrences > budget:
            break
        occurrences += 1
    return periods + occurrences


def busy_from_ics(
    data: bytes,
    *,
    clinician_zone: str | ZoneInfo,
    start: datetime,
    end: datetime,
) -> tuple[CalendarEvent, ...]:
    """The busy time of an external calendar file that overlaps ``[start, end)``.

    *data* is the file's bytes (an ``.ics`` export). Returned, sorted: a one-off
    :class:`~selfsched.model.CalendarEvent` for each timed occurrence (in UTC), and an all-day
    one for each all-day occurrence (its dates, which block whole days in the clinician's zone),
    each titled by its ``SUMMARY`` with the id ``<UID>/<start as written>``. What the file
    says and is honoured:

    - ``DTSTART``/``DTEND``/``DURATION``, with ``TZID`` (an IANA zone, a Windows zone name as
      Outlook writes them, or the file's own ``VTIMEZONE``), in UTC (``Z``), or floating (no
      zone: read in *clinician_zone*); all-day events (``VALUE=DATE``);
    - repeating events: ``RRULE``, ``EXDATE``, ``RDATE`` (dates, date-times and periods),
      ``RECURRENCE-ID`` overrides (also ``RANGE=THISANDFUTURE``) and cancelled instances,
      expanded by ``recurring-ical-events``;
    - ``TRANSP:TRANSPARENT`` (shown as free) and ``STATUS:CANCELLED`` block nothing, and neither
      does an event without length.

    ``X-WR-TIMEZONE`` is not: times in UTC are instants, and floating times are read in the
    clinician's zone. ``VTODO``, ``VJOURNAL`` and ``VFREEBUSY`` components are ignored.

    A file that cannot be read raises :class:`~selfsched.errors.InvalidCalendarFile` naming
    the component and property at fault, and nothing of it is returned; so does one whose
    repeating events would take more than :data:`MAX_EXPANSION` steps to expand.
    """
    if not isinstance(data, bytes | bytearray):
        raise WrongType("data", "the bytes of an iCalendar file", data)
    z = _time.zone(clinician_zone)
    lo, hi = _window(start, end)
    calendar = _parse(bytes(data))
    _check_errors(calendar)
    zones = _Zones(calendar)
    events = list(calendar.walk("VEVENT"))
    limit = hi.astimezone(z).replace(tzinfo=None) + timedelta(days=2)
    spent = 0
    for index, event in enumerate(events):
        where = _label(event, index)
        _anchor(event, where, zones)
        first = _first(event, where)
        if "RECURRENCE-ID" in event:
            continue
        for rule in _rules(event):
            until = rule.get("UNTIL", [None])[0]
            rule_limit = limit
            if until is not None:
                until_wall = (
                    until.astimezone(_series_zone(first, z)).replace(tzinfo=None)
                    if isinstance(until, datetime) and until.tzinfo is not None
                    else _comparable(until)
                )
                rule_limit = min(limit, until_wall + timedelta(days=1))
            spent += _steps(
                rule, first, rule_limit, MAX_EXPANSION - spent, where, _series_zone(first, z)
            )
            if spent > MAX_EXPANSION:
                raise InvalidCalendarFile(
                    where,
                    "RRULE",
                    f"expanding the file's repeating events from their first occurrences to "
                    f"{hi.astimezone(z):%Y-%m-%d} takes more than {MAX_EXPANSION} steps, the "
                    f"most selfsched spends on one file (this rule's start is "
                    f"{_comparable(first):%Y-%m-%d}); export a shorter range or end old series.",
                )
    return _expand(calendar, z, lo, hi, events)


def _series_zone(first: date | datetime, z: tzinfo) -> tzinfo:
    """The zone a series' wall times are read in: its start's, else the clinician's."""
    if isinstance(first, datetime) and first.tzinfo is not None:
        return first.tzinfo
    return z


def _parse(data: bytes) -> Any:  # noqa: ANN401
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, TypeError, KeyError, IndexError, UnicodeError) as exc:
        raise InvalidCalendarFile(
            "VCALENDAR", None, f"the file cannot be read as iCalendar ({exc})."
        ) from exc
    if getattr(calendar, "name", None) != "VCALENDAR":
        raise InvalidCalendarFile(
            "VCALENDAR", None, "the file holds no VCALENDAR; export the calendar as .ics."
        )
    return calendar


def _check_errors(calendar: Any) -> None:  # noqa: ANN401
    counts: dict[str, int] = {}
    for component in calendar.walk():
        name = str(component.name)
        index = counts.get(name, 0)
        counts[name] = index + 1
        if name not in _CHECKED:
            continue
        for prop, problem in component.errors:
            if prop is not None and str(prop).upper().startswith("X-"):
                continue
            raise InvalidCalendarFile(_label(component, index), prop, f"{problem}.")


def _expand(
    calendar: Any,  # noqa: ANN401
    z: ZoneInfo,
    lo: datetime,
    hi: datetime,
    events: list[Any],
) -> tuple[CalendarEvent, ...]:
    query = recurring_ical_events.CalendarQuery(
        calendar, keep_recurrence_attributes=False, components=("VEVENT",), skip_bad_series=False
    )
    try:
        occurrences = list(query.between(lo.astimezone(z), hi.astimezone(z)))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise InvalidCalendarFile(
            "VCALENDAR", None, f"its repeating events cannot be expanded ({exc})."
        ) from exc
    busy: list[tuple[int, str, CalendarEvent]] = []
    for occurrence in occurrences:
        if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if str(occurrence.get("TRANSP", "")).upper() == "TRANSPARENT":
            continue
        found = _busy(occurrence, z, events)
        if found is not None:
            first = (
                _time.start_of_day(found.day, z) if found.day is not None else _time.ts(found.start)  # type: ignore[arg-type]
            )
            busy.append((first, found.id, found))
    busy.sort(key=lambda item: item[:2])
    return tuple(event for _, _, event in busy)


def _busy(occurrence: Any, z: ZoneInfo, events: list[Any]) -> CalendarEvent | None:  # noqa: ANN401
    first, last = occurrence["DTSTART"].dt, occurrence["DTEND"].dt
    title = str(occurrence.get("SUMMARY", ""))
    uid = str(occurrence.get("UID", ""))
    ident = f"{uid}/{first.isoformat()}"
    try:
        if not isinstance(first, datetime):
            days = (last - first).days
            return (
                CalendarEvent.all_day(first, days=days, title=title, id=ident) if days > 0 else None
            )
        begins, ends = _instant(first, z), _instant(last, z)
        if ends <= begins:
            return None
        return CalendarEvent.one_off(begins, ends, title=title, id=ident)
    except InvalidInput as exc:
        index = next((i for i, e in enumerate(events) if str(e.get("UID", "")) == uid), 0)
        raise InvalidCalendarFile(
            _label(occurrence, index), "DTSTART", f"an occurrence cannot be used ({exc})"
        ) from exc


def _instant(value: datetime, z: ZoneInfo) -> datetime:
    """A date-time as written (aware, or floating and read in *z*) as an instant in UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=z)
    return value.astimezone(UTC)
