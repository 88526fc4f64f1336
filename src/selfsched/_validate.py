"""Argument checks shared by the model's validators and the public entry points.

Each check takes the argument's name and value and returns the value (an instant normalised to
UTC) or raises a :class:`~selfsched.errors.SelfschedError` subclass that names the argument:
:class:`~selfsched.errors.WrongType` for a value of the wrong type (``"false"`` for a boolean,
``"2026-04-14"`` for a date), :class:`~selfsched.errors.InvalidRange` for a date or instant
outside the dates selfsched computes with, :class:`~selfsched.errors.NaiveDatetime` for an instant
without a zone. :func:`field` turns a check into an ``attrs`` validator.

Checks are exact about types: ``bool`` is not accepted where a whole number is, nor ``1`` where a
boolean is, nor a ``datetime`` where a ``date`` is.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any, TypeGuard, TypeVar

import attrs

from selfsched import _time
from selfsched.errors import InvalidHeader, InvalidInput, InvalidRange, WrongType

__all__ = [
    "address",
    "breaks_a_header",
    "conforms",
    "day",
    "field",
    "flag",
    "header",
    "identifier",
    "instance",
    "instant",
    "is_identifier",
    "length",
    "no_nul",
    "optional",
    "optional_text",
    "text",
    "tuple_of",
    "whole",
    "window",
]

_T = TypeVar("_T")

Check = Callable[[str, Any], Any]


NUL = "\x00"
"""The one character no text selfsched keeps may contain: PostgreSQL stores no U+0000 in text
or ``jsonb``, so a value holding one would be accepted here and refused by the store later."""


def no_nul(name: str, value: str) -> str:
    """*value* if it holds no NUL character (:data:`NUL`); :class:`InvalidInput` otherwise.

    The message names the field and the position, never the value (it may be PHI).
    """
    if NUL in value:
        raise InvalidInput(
            f"{name} contains a NUL character (U+0000) at position {value.index(NUL)}; no "
            f"database keeps one in text. Remove it."
        )
    return value


def text(name: str, value: object, *, show: bool = True) -> str:
    """A string, empty or not, without a NUL character (:func:`no_nul`). With ``show=False`` the
    message leaves the value out (PHI)."""
    if not isinstance(value, str):
        raise WrongType(name, "a string", value, show=show)
    return no_nul(name, value)


MAX_ID_LENGTH = 255
"""The longest id selfsched accepts, in characters."""


def is_identifier(value: object) -> TypeGuard[str]:
    """Whether *value* is a usable id: a string, not blank, at most :data:`MAX_ID_LENGTH` long."""
    return (
        isinstance(value, str)
        and bool(value.strip())
        and len(value) <= MAX_ID_LENGTH
        and NUL not in value
    )


def identifier(name: str, value: object) -> str:
    """A usable id of a clinician, client, appointment or outbox item (:func:`is_identifier`)."""
    if not isinstance(value, str) or not value.strip():
        raise WrongType(name, "a non-empty string (an id)", value)
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInput(
            f"{name} is {len(value)} characters long; an id has at most {MAX_ID_LENGTH}."
        )
    no_nul(name, value)
    return value


def optional_text(name: str, value: object, *, show: bool = True) -> str | None:
    """``None`` or a string."""
    return None if value is None else text(name, value, show=show)


def flag(name: str, value: object) -> bool:
    """``True`` or ``False``, nothing that merely looks like one (``"false"``, ``0``, ``[0]``)."""
    if not isinstance(value, bool):
        raise WrongType(name, "True or False", value)
    return value


def whole(name: str, value: object) -> int:
    """A whole number (an ``int``, not a ``bool``)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise WrongType(name, "a whole number", value)
    return value


def instance(name: str, value: object, kind: type[_T], noun: str) -> _T:
    """A value of *kind* (described to the reader as *noun*)."""
    if not isinstance(value, kind):
        raise WrongType(name, noun, value)
    return value


def conforms(name: str, value: object, protocol: type, noun: str) -> None:
    """*value* has what *protocol* (a ``runtime_checkable`` Protocol) asks for."""
    if not isinstance(value, protocol):
        raise WrongType(name, noun, value)


def tuple_of(name: str, value: object, kind: type[_T], noun: str) -> tuple[_T, ...]:
    """An iterable (not a string) of *kind* values, as a tuple; items are named ``name[i]``."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise WrongType(name, f"an iterable of {noun}", value)
    items = tuple(value)
    for index, item in enumerate(items):
        instance(f"{name}[{index}]", item, kind, noun)
    return items


def length(name: str, value: object) -> timedelta:
    """A ``timedelta``."""
    return instance(name, value, timedelta, "a timedelta")


def day(name: str, value: object) -> date:
    """A local date (not a ``datetime``) inside the dates selfsched computes with."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise WrongType(name, "a date (not a datetime or a string)", value)
    if not _time.FIRST_DAY <= value <= _time.LAST_DAY:
        raise InvalidRange(
            f"{name}={value} is outside the dates selfsched computes with; keep it between "
            f"{_time.FIRST_DAY} and {_time.LAST_DAY}."
        )
    return value


def window(first_day: object, last_day: object) -> tuple[date, date]:
    """Two local dates, the second not before the first."""
    first, last = day("first_day", first_day), day("last_day", last_day)
    if last < first:
        raise InvalidRange(
            f"the window ends on {last} before it starts on {first}; swap them or pass "
            f"last_day >= first_day."
        )
    return first, last


def instant(name: str, value: object) -> datetime:
    """An aware datetime inside the dates selfsched computes with, as the same instant in UTC."""
    return _time.in_span(name, value)


def breaks_a_header(ch: str) -> bool:
    """A C0 or C1 control, DEL, or a character ``str.splitlines`` splits on (U+2028, U+2029)."""
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or code in {0x2028, 0x2029}


def header(name: str, value: object) -> str:
    """A string that is safe as an email header value; :class:`InvalidHeader` otherwise.

    The check behind :func:`selfsched.emails.check_header`, here so that the model can use it
    too. The message names the field and the character, never the value (it may be PHI).
    """
    if not isinstance(value, str):
        raise WrongType(name, "a string", value, show=False)
    for position, ch in enumerate(value):
        if breaks_a_header(ch):
            raise InvalidHeader(
                f"The {name} contains a control character (U+{ord(ch):04X}) at position "
                f"{position}; remove it before sending email."
            )
    return value


def address(name: str, value: object) -> str:
    """An email address a header may carry: header-safe (:func:`header`), and read as an address
    (``desk@clinic.example``, or ``Front desk <desk@clinic.example>``) by the ``email`` package.

    Only for the practice's own addresses: the message quotes the value.
    """
    checked = header(name, value)
    local, at, domain = email.utils.parseaddr(checked)[1].rpartition("@")
    if not (local and at and domain):
        raise InvalidInput(
            f"{name}={checked!r} is not an email address; give one such as "
            f"'front-desk@clinic.example' or 'Riverside Counselling <front-desk@clinic.example>'."
        )
    return checked


def optional(check: Check) -> Check:
    """*check*, letting ``None`` through."""

    def checked(name: str, value: object) -> object:
        return None if value is None else check(name, value)

    return checked


def field(check: Check) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """An ``attrs`` validator that runs *check* on the field's value."""

    def validator(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        check(attribute.name, value)

    return validator
