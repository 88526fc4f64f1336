"""One JSON form for every public value: :func:`to_dict` writes it, :func:`from_dict` reads it.

A value becomes a ``dict`` that :func:`json.dumps` takes as it is (only ``str``, ``int``,
``bool``, ``None``, ``list`` and ``dict``), and comes back equal. The SQL stores keep outbox
payloads in this form too (:mod:`selfsched.adapters.codec`): there is one codec, not two.

.. rubric:: The shape

Every value is a JSON object with the key ``"type"`` (which value it is: see :data:`TYPES`),
the key ``"schema_version"`` (the version of that type's shape: see :data:`VERSIONS`), and one
key per field of the value's class, named as the field is. A value inside another (the
clinician of a calendar, the payload of an outbox item, the policies of a practice) is the same
kind of object. Field values are written so:

- text, whole numbers, ``True``/``False`` and ``None`` as themselves;
- an instant (an aware ``datetime``) as RFC 3339 text with its UTC offset,
  ``"2026-03-09T14:00:00+00:00"``: seconds always, microseconds when there are any. The offset
  is the value's own. The model keeps appointments and events in UTC; it keeps the times of
  chart notes, outbox items and audit entries as they were given, so an audit entry's ``at``
  reads back to the very text its hash covers; a slot is in UTC unless it was shown in a zone.
  An instant shown in an IANA zone (its ``tzinfo`` a ``ZoneInfo``) also names the zone, as
  RFC 9557 extends RFC 3339: ``"2026-03-09T10:00:00-04:00[America/New_York]"``, and reads back
  in that zone; any other reads back at its fixed offset (a ``datetime.timezone``). (An offset
  of seconds, which only local mean times of the 1800s have, is written with its seconds, which
  RFC 3339 cannot say.) A recurring event's ``wall_start``, a wall time, is the same text
  without an offset;
- a date as ``"2026-03-09"``; a work range as ``"09:00-17:00"`` (``"24:00"`` ends a range at
  midnight);
- a length of time (a ``timedelta``) as an ISO 8601 duration in hours, minutes and seconds:
  ``"PT24H"``, ``"PT1H30M"``, ``"PT0.25S"``, ``"PT0S"``. Days are not used: an ISO 8601 day is a
  calendar day, and these lengths are elapsed time (sixty days is ``"PT1440H"``);
- an enum member as its value (``"booked"``, ``"requires_approval"``);
- a tuple as an array; a set (an explained slot's reasons) as a sorted array; a mapping as an
  object, keyed by the clinician id or the email kind's value; work hours' ``days`` and
  ``locations`` as arrays of seven entries, Monday first.

.. rubric:: Versions and keys

A type's ``"schema_version"`` goes up when its shape changes in a way an older document cannot
simply be read in: a key removed or renamed, a value written differently, a new key without a
default. A reader reads every version up to its own, the older ones converted, and refuses a
newer one, naming the version it reads. Adding a field that has a default keeps the version: a
document without the key reads as the default. Every type is at version 1.

A key that is not a field of the type is refused, not ignored: dropping it would lose what the
writer meant (it may be a typo, or a field of a newer selfsched). A key missing for a field
that has a default reads as the default; one missing for a field without a default is refused.

.. rubric:: Errors

:func:`from_dict` returns the whole value or raises :class:`~selfsched.errors.InvalidDocument`
(an :class:`~selfsched.errors.InvalidInput`), whose message starts with where in the document
the problem is (``appointments[2].start``) and says what was expected there. A value the model
itself refuses (an appointment that ends before it starts) is reported at the object that
holds it, with the model's message.
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final, NoReturn, TypeVar, overload
from zoneinfo import ZoneInfo

import attrs

from selfsched import _time
from selfsched.errors import InvalidDocument, InvalidInput, WrongType
from selfsched.events import AuditEntry, ChartNote, EmailMessage, OutboxItem
from selfsched.model import (
    Appointment,
    ApprovalPolicy,
    CalendarEvent,
    Client,
    Clinician,
    ClinicianCalendar,
    Practice,
    TimeRange,
    WorkHours,
)
from selfsched.slots import ExplainedSlot, Slot, SlotCheck
from selfsched.wording import EmailTemplate

__all__ = ["TYPES", "VERSIONS", "Value", "from_dict", "to_dict"]

Value = (
    Appointment
    | ApprovalPolicy
    | AuditEntry
    | CalendarEvent
    | ChartNote
    | Client
    | Clinician
    | ClinicianCalendar
    | EmailMessage
    | EmailTemplate
    | ExplainedSlot
    | OutboxItem
    | Practice
    | Slot
    | SlotCheck
    | WorkHours
)
"""Every value :func:`to_dict` writes and :func:`from_dict` reads: a type alias, the union of
the classes of :data:`TYPES`.

:meta hide-value:
"""

_V = TypeVar("_V", bound=Value)

TYPES: Final[Mapping[str, type[Value]]] = types.MappingProxyType(
    {
        "appointment": Appointment,
        "approval_policy": ApprovalPolicy,
        "audit_entry": AuditEntry,
        "calendar_event": CalendarEvent,
        "chart_note": ChartNote,
        "client": Client,
        "clinician": Clinician,
        "clinician_calendar": ClinicianCalendar,
        "email": EmailMessage,
        "email_template": EmailTemplate,
        "explained_slot": ExplainedSlot,
        "outbox_item": OutboxItem,
        "practice": Practice,
        "slot": Slot,
        "slot_check": SlotCheck,
        "work_hours": WorkHours,
    }
)
"""The ``"type"`` of each value's JSON object, and its class. The name is the class's in snake
case, but ``"email"`` for an :class:`~selfsched.events.EmailMessage`: the name the outbox has
always stored it under.

:meta hide-value:
"""

VERSIONS: Final[Mapping[str, int]] = types.MappingProxyType(dict.fromkeys(TYPES, 1))
"""The ``"schema_version"`` :func:`to_dict` writes for each ``"type"``, the newest
:func:`from_dict` reads (every type is at 1).

:meta hide-value:
"""

_TYPE = "type"
_VERSION = "schema_version"


# -- errors ---------------------------------------------------------------------------------------


def _where(path: str) -> str:
    return path or "the document"


def _got(data: object, *, show: bool) -> str:
    """What a refused value is: its Python type (``null`` for ``None``), and a short ``repr``
    when *show*."""
    kind = "null" if data is None else type(data).__name__
    if not show or data is None:
        return kind
    text = repr(data)
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"


def _refuse(path: str, expected: str, data: object, *, show: bool = True) -> NoReturn:
    """Raise :class:`InvalidDocument`: *path* must be *expected*, and is *data*.

    With ``show=False`` (the text fields: their value may be a client's name) only *data*'s
    type is named; otherwise its ``repr`` too, cut short.
    """
    raise InvalidDocument(path, f"{_where(path)} must be {expected}, got {_got(data, show=show)}.")


def _refused_by_model(path: str, exc: InvalidInput) -> NoReturn:
    raise InvalidDocument(path, f"{_where(path)} is refused: {exc}") from exc


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# -- forms: how each type of field is written -----------------------------------------------------


@attrs.frozen
class _Form:
    """How one type of field is written in JSON (*encode*) and read back (*decode*).

    *decode* takes the JSON value and its path in the document, and raises
    :class:`InvalidDocument` naming the path.
    """

    encode: Callable[[Any], object]
    decode: Callable[[object, str], object]


def _exact(kind: type, expected: str, *, show: bool = True) -> _Form:
    """A value of exactly *kind* (``True`` is not a whole number), written as it is."""

    def decode(data: object, path: str) -> object:
        if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
            _refuse(path, expected, data, show=show)
        return data

    # Encoding calls str(), int() or bool(): a plain value, also from a subclass such as an enum.
    return _Form(encode=kind, decode=decode)


def _text_form(
    expected: str, pattern: str, parse: Callable[[str], object]
) -> Callable[[object, str], object]:
    """A decoder of text that must match *pattern* and that *parse* then reads."""
    compiled = re.compile(pattern)

    def decode(data: object, path: str) -> object:
        if not isinstance(data, str) or not compiled.fullmatch(data):
            _refuse(path, expected, data)
        try:
            return parse(data)
        except (ValueError, OverflowError):
            _refuse(path, expected, data)

    return decode


_FRACTION = r"(?:\.\d{1,6})?"
_LOCAL = rf"\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}{_FRACTION}"

_INSTANT_TEXT = re.compile(
    rf"({_LOCAL})(?:Z|([+-])(\d{{2}}):(\d{{2}})(?::(\d{{2}})(?:\.(\d{{1,6}}))?)?)(?:\[([^\]]+)\])?"
)
_INSTANT_EXPECTED = "an instant with its UTC offset (RFC 3339), such as '2026-03-09T14:00:00+00:00'"


def _write_instant(value: datetime) -> str:
    """RFC 3339 text; an instant shown in an IANA zone also names it, as RFC 9557 does."""
    zone = value.tzinfo
    named = f"[{zone.key}]" if isinstance(zone, ZoneInfo) and zone.key is not None else ""
    return value.isoformat() + named


def _read_instant(data: object, path: str) -> datetime:
    match = _INSTANT_TEXT.fullmatch(data) if isinstance(data, str) else None
    if match is None:
        _refuse(path, _INSTANT_EXPECTED, data)
    local, sign, hours, minutes, seconds, micro, key = match.groups()
    offset = timedelta(
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
        microseconds=int((micro or "0").ljust(6, "0")),
    )
    try:
        instant = datetime.fromisoformat(local).replace(
            tzinfo=timezone(-offset if sign == "-" else offset)
        )
    except ValueError:
        _refuse(path, _INSTANT_EXPECTED, data)
    if key is None:
        return instant
    try:
        zone = _time.zone(key)
    except InvalidInput as exc:
        _refused_by_model(path, exc)
    # The wall time in the zone, with the fold that gives the written offset: no arithmetic, so
    # an instant at the very ends of what datetime holds reads back too.
    wall = instant.replace(tzinfo=None)
    for fold in (0, 1):
        shown = wall.replace(tzinfo=zone, fold=fold)
        if shown.utcoffset() == instant.utcoffset():
            return shown
    raise InvalidDocument(
        path,
        f"{_where(path)} is refused: {key} is never at UTC offset "
        f"{match[0][len(local) : match.start(7) - 1]} at {local}; "
        f"write the offset the zone has then, or leave the zone out.",
    )


_INSTANT = _Form(encode=_write_instant, decode=_read_instant)
_WALL_TIME = _Form(
    encode=datetime.isoformat,
    decode=_text_form(
        "a wall time without an offset, such as '2026-03-09T09:00:00'",
        _LOCAL,
        datetime.fromisoformat,
    ),
)
_DATE = _Form(
    encode=date.isoformat,
    decode=_text_form("a date, such as '2026-03-09'", r"\d{4}-\d{2}-\d{2}", date.fromisoformat),
)

_MICROSECOND = timedelta(microseconds=1)
_DURATION_TEXT = re.compile(
    r"(-)?PT(?:(\d{1,15})H)?(?:(\d{1,15})M)?(?:(\d{1,15})(?:\.(\d{1,6}))?S)?"
)


def _write_duration(value: timedelta) -> str:
    """``"PT1H30M"``: hours, minutes and seconds, each only when not zero (``"PT0S"`` for none)."""
    micro = value // _MICROSECOND
    sign = "-" if micro < 0 else ""
    seconds, micro = divmod(abs(micro), 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or micro or not text:
        fraction = f".{micro:06d}".rstrip("0") if micro else ""
        text += f"{seconds}{fraction}S"
    return f"{sign}PT{text}"


def _read_duration(text: str) -> timedelta:
    match = _DURATION_TEXT.fullmatch(text)
    if match is None or match.group(2, 3, 4) == (None, None, None):
        msg = "not a duration"
        raise ValueError(msg)
    sign, hours, minutes, seconds, fraction = match.groups()
    value = timedelta(
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
        microseconds=int((fraction or "0").ljust(6, "0")),
    )
    return -value if sign else value


_DURATION = _Form(
    encode=_write_duration,
    decode=_text_form(
        "a length of time as an ISO 8601 duration in hours, minutes and seconds, such as "
        "'PT24H' or 'PT1H30M'",
        r"-?PT[0-9HMS.]+",
        _read_duration,
    ),
)


def _read_range(data: object, path: str) -> TimeRange:
    if not isinstance(data, str):
        _refuse(path, "a work range such as '09:00-17:00'", data)
    try:
        return TimeRange.parse(data)
    except InvalidInput as exc:
        _refused_by_model(path, exc)


_RANGE = _Form(encode=str, decode=_read_range)


def _enum(kind: type[enum.Enum]) -> _Form:
    allowed = ", ".join(repr(member.value) for member in kind)

    def decode(data: object, path: str) -> object:
        if isinstance(data, str | int) and not isinstance(data, bool):
            try:
                return kind(data)
            except ValueError:
                pass
        _refuse(path, f"one of {allowed}", data)

    return _Form(encode=lambda member: member.value, decode=decode)


def _optional(inner: _Form) -> _Form:
    return _Form(
        encode=lambda value: None if value is None else inner.encode(value),
        decode=lambda data, path: None if data is None else inner.decode(data, path),
    )


def _array(data: object, path: str, what: str) -> list[object] | tuple[object, ...]:
    if not isinstance(data, list | tuple):
        _refuse(path, f"an array of {what}", data)
    return data


def _sequence(inner: _Form, what: str) -> _Form:
    def decode(data: object, path: str) -> object:
        items = _array(data, path, what)
        return tuple(inner.decode(item, f"{path}[{i}]") for i, item in enumerate(items))

    return _Form(encode=lambda value: [inner.encode(item) for item in value], decode=decode)


def _set(inner: _Form, what: str) -> _Form:
    def decode(data: object, path: str) -> object:
        items = _array(data, path, what)
        decoded = [inner.decode(item, f"{path}[{i}]") for i, item in enumerate(items)]
        if len(set(decoded)) != len(decoded):
            _refuse(path, f"an array of {what}, each once", data)
        return frozenset(decoded)

    return _Form(
        encode=lambda value: sorted((inner.encode(item) for item in value), key=str),
        decode=decode,
    )


def _fixed(inners: tuple[_Form, ...], what: str) -> _Form:
    def decode(data: object, path: str) -> object:
        items = _array(data, path, what)
        if len(items) != len(inners):
            _refuse(path, f"an array of {len(inners)} {what}", data)
        return tuple(
            f.decode(item, f"{path}[{i}]")
            for i, (f, item) in enumerate(zip(inners, items, strict=True))
        )

    return _Form(
        encode=lambda value: [f.encode(item) for f, item in zip(inners, value, strict=True)],
        decode=decode,
    )


def _mapping(key: _Form, inner: _Form, what: str) -> _Form:
    def encode(value: Mapping[object, object]) -> object:
        return {str(key.encode(k)): inner.encode(v) for k, v in value.items()}

    def decode(data: object, path: str) -> object:
        if not isinstance(data, Mapping):
            _refuse(path, f"an object of {what}", data)
        return {
            key.decode(k, f"{path}[{k!r}]"): inner.decode(v, f"{path}[{k!r}]")
            for k, v in data.items()
        }

    return _Form(encode=encode, decode=decode)


_LEAVES: Final[Mapping[object, _Form]] = {
    str: _exact(str, "a string", show=False),
    int: _exact(int, "a whole number"),
    bool: _exact(bool, "true or false"),
    datetime: _INSTANT,
    date: _DATE,
    timedelta: _DURATION,
    TimeRange: _RANGE,
}
"""The forms of the types that are written as one JSON value (a string, number or boolean)."""

_EXCEPTIONS: Final[Mapping[tuple[type, str], _Form]] = {
    (CalendarEvent, "wall_start"): _optional(_WALL_TIME),
}
"""Fields whose type alone does not say their form: the naive wall time of a recurring event."""


def _form(hint: object) -> _Form:  # noqa: PLR0911  (one return for each kind of type)
    """The form of a field annotated *hint*; the one place that decides how a type is written."""
    if hint in _LEAVES:
        return _LEAVES[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in {typing.Union, types.UnionType}:
        present = tuple(arg for arg in args if arg is not types.NoneType)
        inner = _form(present[0]) if len(present) == 1 else _nested(present)
        return _optional(inner) if len(present) < len(args) else inner
    if origin is tuple and args[1:] == (Ellipsis,):
        return _sequence(_form(args[0]), _describe(args[0]))
    if origin is tuple:
        return _fixed(tuple(_form(arg) for arg in args), _describe(args[0]))
    if origin is frozenset:
        return _set(_form(args[0]), _describe(args[0]))
    if origin is Mapping:
        return _mapping(_form(args[0]), _form(args[1]), _describe(args[1]))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(hint)
    if isinstance(hint, type) and hint in TYPES.values():
        return _nested((hint,))
    msg = f"selfsched.serialize has no JSON form for {hint!r}"
    raise TypeError(msg)


def _describe(hint: object) -> str:
    """How the items of an array are named in a message: ``work ranges``, ``slot objects``."""
    if hint in _CLASS_NAMES:
        return f"{_CLASS_NAMES[hint]} objects"  # type: ignore[index]
    if typing.get_origin(hint) is tuple:
        return "arrays"
    return _ITEM_NAMES.get(hint, "values")


_ITEM_NAMES: Final[Mapping[object, str]] = {
    str: "strings",
    datetime: "instants",
    TimeRange: "work ranges",
}

_CLASS_NAMES: Final[Mapping[type, str]] = {cls: name for name, cls in TYPES.items()}


# -- types: their fields and forms ----------------------------------------------------------------


@attrs.frozen
class _Field:
    name: str
    alias: str
    form: _Form
    required: bool


@attrs.frozen
class _Type:
    name: str
    cls: type
    version: int
    fields: tuple[_Field, ...]

    @property
    def keys(self) -> str:
        return ", ".join(f.name for f in self.fields)


def _fields(cls: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls)
    found = []
    for attribute in attrs.fields(cls):
        if not attribute.init:
            continue
        if attribute.name in {_TYPE, _VERSION}:  # pragma: no cover - a guard for a new field
            msg = f"{cls.__name__}.{attribute.name} would clash with the document's own key"
            raise TypeError(msg)
        form = _EXCEPTIONS.get((cls, attribute.name)) or _form(hints[attribute.name])
        required = attribute.default is attrs.NOTHING
        found.append(_Field(attribute.name, attribute.alias or attribute.name, form, required))
    return tuple(found)


def _encode(value: object) -> dict[str, object]:
    kind = _BY_CLASS.get(type(value))
    if kind is None:
        raise WrongType(
            "value", f"a value of one of {', '.join(sorted(_CLASS_NAMES.values()))}", value
        )
    data: dict[str, object] = {_TYPE: kind.name, _VERSION: kind.version}
    for field in kind.fields:
        data[field.name] = field.form.encode(getattr(value, field.name))
    return data


def _decode(data: object, path: str, classes: tuple[type, ...]) -> object:
    if not isinstance(data, Mapping):
        _refuse(path, "a JSON object", data)
    names = [_CLASS_NAMES[cls] for cls in classes]
    if _TYPE not in data:
        raise InvalidDocument(
            _at(path, _TYPE), f"{_at(path, _TYPE)} is missing; it says which value the object is."
        )
    named = data[_TYPE]
    kind = _BY_NAME.get(named) if isinstance(named, str) else None
    if kind is None or kind.cls not in classes:
        expected = repr(names[0]) if len(names) == 1 else f"one of {', '.join(map(repr, names))}"
        _refuse(_at(path, _TYPE), expected, named)
    where = _at(path, _VERSION)
    if _VERSION not in data:
        raise InvalidDocument(
            where, f"{where} is missing; type {kind.name!r} is at version {kind.version}."
        )
    version = data[_VERSION]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _refuse(where, "a whole number from 1", version)
    if version > kind.version:
        raise InvalidDocument(
            where,
            f"{where} is {version}, newer than this selfsched reads for type {kind.name!r} "
            f"({kind.version}); read the document with the selfsched that wrote it, or a newer "
            f"one.",
        )
    known = {_TYPE, _VERSION, *(f.name for f in kind.fields)}
    for key in data:
        if key not in known:
            raise InvalidDocument(
                _at(path, str(key)),
                f"{_at(path, str(key))} is not a key of type {kind.name!r}; its keys are "
                f"type, schema_version, {kind.keys}.",
            )
    values: dict[str, object] = {}
    for field in kind.fields:
        if field.name in data:
            values[field.alias] = field.form.decode(data[field.name], _at(path, field.name))
        elif field.required:
            where = _at(path, field.name)
            raise InvalidDocument(where, f"{where} is missing; type {kind.name!r} needs it.")
    try:
        return kind.cls(**values)
    except InvalidInput as exc:
        _refused_by_model(path, exc)


def _nested(classes: tuple[type, ...]) -> _Form:
    """A value of one of *classes*, written as its own JSON object."""
    return _Form(encode=_encode, decode=lambda data, path: _decode(data, path, classes))


_BY_NAME: Final[Mapping[str, _Type]] = {
    name: _Type(name, cls, VERSIONS[name], _fields(cls)) for name, cls in TYPES.items()
}
_BY_CLASS: Final[Mapping[type, _Type]] = {kind.cls: kind for kind in _BY_NAME.values()}


# -- the public functions -------------------------------------------------------------------------


def to_dict(value: Value) -> dict[str, object]:
    """*value* as a JSON-ready ``dict``: ``json.dumps(to_dict(value))`` is its JSON text.

    Raises :class:`~selfsched.errors.WrongType` for anything but the values of :data:`TYPES`.
    """
    return _encode(value)


@overload
def from_dict(data: Mapping[str, object], kind: None = None) -> Value: ...
@overload
def from_dict(data: Mapping[str, object], kind: type[_V]) -> _V: ...
def from_dict(data: Mapping[str, object], kind: type[object] | None = None) -> Value:
    """The value :func:`to_dict` wrote as *data* (for instance ``json.loads`` of its text).

    With *kind*, a class of :data:`TYPES`, *data* must be a value of that class; the type
    checker then knows the result's class. Raises :class:`~selfsched.errors.InvalidDocument`,
    naming where and what, when *data* is not such a value.
    """
    classes: tuple[type, ...]
    if kind is None:
        classes = tuple(TYPES.values())
    elif kind in _CLASS_NAMES:
        classes = (kind,)
    else:
        raise WrongType("kind", "a class of selfsched.serialize.TYPES, or None", kind)
    return typing.cast("Value", _decode(data, "", classes))


def field_to_json(cls: type, name: str, value: object) -> object:
    """The JSON value of field *name* of *cls* (for the stores, which keep some fields in
    columns of their own)."""
    return _field(cls, name).form.encode(value)


def field_from_json(cls: type, name: str, data: object) -> object:
    """The field value :func:`field_to_json` wrote; :class:`InvalidDocument` naming *name*."""
    return _field(cls, name).form.decode(data, name)


def _field(cls: type, name: str) -> _Field:
    return next(f for f in _BY_CLASS[cls].fields if f.name == name)
