"""Every error selfsched raises.

All of them derive from :class:`SelfschedError`, so ``except SelfschedError`` catches everything the
library raises on purpose. Errors about bad input also derive from :class:`ValueError`. Data that
explains the error lives on attributes; the message says what to do about it.

A refusal shown to a client (:class:`SlotUnavailable`, :class:`NotFound`) never says *why* a slot is
unavailable or whose appointment is in the way.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "Conflict",
    "DeliveryError",
    "DeliveryUncertain",
    "EmptyReason",
    "ExtraNotInstalled",
    "IdempotencyMismatch",
    "InvalidCalendarFile",
    "InvalidDocument",
    "InvalidHeader",
    "InvalidInput",
    "InvalidPolicy",
    "InvalidRange",
    "InvalidRecurrence",
    "InvalidTemplate",
    "MissingDetails",
    "NaiveDatetime",
    "NotFound",
    "OffGrid",
    "OverlappingWorkHours",
    "PermissionDenied",
    "SelfSchedulingDisabled",
    "SelfschedError",
    "SlotUnavailable",
    "StorageError",
    "TamperDetected",
    "TransitionNotAllowed",
    "UnknownTimeZone",
    "WrongType",
]


class SelfschedError(Exception):
    """Every error this library raises."""


# -- bad input ------------------------------------------------------------------------------------


class InvalidInput(SelfschedError, ValueError):
    """A value given to selfsched is malformed. Nothing was written."""


class WrongType(InvalidInput):
    """An argument or field got a value of the wrong type: a string where a date is needed,
    ``"false"`` where a boolean is, a number where an id is."""

    def __init__(self, name: str, expected: str, value: object, *, show: bool = True) -> None:
        self.name = name
        self.expected = expected
        self.got = type(value).__name__
        shown = f" {_short(value)}" if show else ""
        super().__init__(f"{name} must be {expected}, got {self.got}{shown}.")


def _short(value: object, limit: int = 40) -> str:
    """``repr`` of *value*, cut to *limit* characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NaiveDatetime(InvalidInput):
    """A naive datetime, or no datetime at all, was given where an aware instant is needed."""

    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = value
        problem = (
            "has no time zone"
            if isinstance(value, datetime)
            else f"is a {type(value).__name__}, not a datetime"
        )
        super().__init__(
            f"{name}={value!r} {problem}. Pass an aware datetime, for example "
            f"datetime(2026, 3, 9, 9, 0, tzinfo=ZoneInfo('America/New_York'))."
        )


class UnknownTimeZone(InvalidInput):
    """A time-zone key is not a valid IANA zone name."""

    def __init__(self, key: object) -> None:
        self.key = key
        super().__init__(
            f"{key!r} is not a known IANA time zone. Use a key such as 'America/New_York' or 'UTC'."
        )


class InvalidRange(InvalidInput):
    """An interval or window ends at or before its start, or a length is not positive."""


class OffGrid(InvalidInput):
    """A slot start does not lie on the practice's grid in the clinician's local time."""

    def __init__(self, start: object, grid_minutes: int, zone: str) -> None:
        self.start = start
        self.grid_minutes = grid_minutes
        self.zone = zone
        allowed = ", ".join(f":{m:02d}" for m in range(0, 60, grid_minutes))
        super().__init__(
            f"{start!r} is not on the {grid_minutes}-minute grid in {zone}: slot starts must be "
            f"at {allowed} past the hour, local time, with zero seconds."
        )


class OverlappingWorkHours(InvalidInput):
    """Two work-hour ranges of the same weekday overlap."""


class InvalidPolicy(InvalidInput):
    """A policy or clinician setting is out of range (grid, notice, horizon, lengths, caps)."""


class InvalidRecurrence(InvalidInput):
    """An RRULE or EXDATE text cannot be parsed or is not supported."""


class EmptyReason(InvalidInput):
    """A client cancellation was given no reason (or only white space), one too long, or one with
    a NUL character."""


class InvalidHeader(InvalidInput):
    """An email header value contains a line break or another character that would break it."""


class InvalidTemplate(InvalidInput):
    """An email template uses a placeholder that is not a template field, or has a ``$`` that
    starts none.

    ``part`` is the part of the template at fault (``"subject"``, ``"text"`` or ``"html"``),
    ``unknown`` the placeholders it uses that are not fields (empty for a stray ``$``), and
    ``allowed`` the fields there are.
    """

    def __init__(
        self, message: str, *, part: str, unknown: tuple[str, ...], allowed: tuple[str, ...]
    ) -> None:
        self.part = part
        self.unknown = unknown
        self.allowed = allowed
        super().__init__(message)


class InvalidCalendarFile(InvalidInput):
    """An iCalendar file given to :func:`selfsched.ical.busy_from_ics` cannot be read, or says
    something selfsched does not compute (a rule that repeats too often, more occurrences to
    expand than the bound allows). Nothing of the file was used.

    ``component`` names the component at fault, such as ``"VEVENT 'Team meeting'"`` (or
    ``"VCALENDAR"`` for the file as a whole), ``property`` the property (``"DTSTART"``,
    ``"RRULE"``; ``None`` for a whole line or component). The message starts with both.
    """

    def __init__(self, component: str, property: str | None, problem: str) -> None:  # noqa: A002
        self.component = component
        self.property = property
        where = component if property is None else f"{component} {property}"
        super().__init__(f"{where}: {problem}")


class MissingDetails(InvalidInput):
    """An approval lacks a location or a service code (set neither before nor now)."""


class IdempotencyMismatch(InvalidInput):
    """An idempotency key was reused with different parameters."""


class InvalidFhirResource(InvalidInput):
    """A FHIR resource given to :mod:`selfsched.fhir` cannot be read: another resource type, a
    missing or malformed element, a naive instant, or a status selfsched has no meaning for.

    ``path`` is the element at fault, written as FHIRPath (``Appointment.start``,
    ``Bundle.entry[2].resource.participant[1].actor.reference``); the message starts with it.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}")


class InvalidDocument(InvalidInput):
    """A JSON document given to :func:`selfsched.serialize.from_dict` is not one selfsched
    reads: a key missing or unknown, a value of the wrong form, an unknown ``"type"``, a newer
    ``"schema_version"``, or a value the model refuses.

    ``path`` is where in the document: ``"appointments[2].start"``, or ``""`` for the document
    itself. The message starts with it.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(message)


# -- refusals -------------------------------------------------------------------------------------


class SelfSchedulingDisabled(SelfschedError):
    """The practice (or clinician) has client self-scheduling turned off."""


class SlotUnavailable(SelfschedError):
    """The requested slot cannot be booked. Deliberately says nothing about why."""

    def __init__(self, start: object = None) -> None:
        self.start = start
        super().__init__(
            "This time is unavailable. Please choose another time from the available slots."
        )


class NotFound(SelfschedError, LookupError):
    """No such appointment for this actor (also raised for another client's appointment)."""

    def __init__(self, appointment_id: object, what: str = "appointment") -> None:
        self.appointment_id = appointment_id
        self.what = what
        super().__init__(f"No {what} {appointment_id!r} was found.")


class PermissionDenied(SelfschedError):
    """The actor may not perform this action."""


class Conflict(SelfschedError):
    """The appointment changed since it was read (someone else decided it first)."""


class TransitionNotAllowed(SelfschedError):
    """The action is not allowed from the appointment's current status."""

    def __init__(self, status: object, action: object) -> None:
        self.status = status
        self.action = action
        super().__init__(
            f"Cannot {action} an appointment that is {status}. Reload the appointment and check "
            f"its current status."
        )


class ExtraNotInstalled(SelfschedError, ImportError):
    """A feature needs an optional extra that is not installed, such as ``selfsched[ical]`` for
    calendar invites and :mod:`selfsched.ical`. ``extra`` is its name."""

    def __init__(self, extra: str, message: str) -> None:
        self.extra = extra
        super().__init__(message)


# -- adapters -------------------------------------------------------------------------------------


class StorageError(SelfschedError):
    """The store failed; raised from the underlying driver error."""


class DeliveryError(SelfschedError):
    """An email could not be delivered; raised from the underlying transport error."""


class DeliveryUncertain(DeliveryError):
    """The transport cannot tell whether the message went through (e.g. a timeout after the
    final dot of SMTP DATA). The outbox sends it again at most once, with the same Message-ID."""


class TamperDetected(SelfschedError):
    """The audit record's hash chain is broken: an entry was edited, removed or reordered."""

    def __init__(self, index: int) -> None:
        self.index = index
        super().__init__(
            f"The audit record is broken at entry {index}: an entry was edited, removed or "
            f"reordered. Restore the record from a backup and investigate."
        )
