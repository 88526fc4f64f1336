"""The request state machine: one declarative table plus pure transition functions.

``TRANSITIONS[(status, action)]`` is the status an action leads to; a pair that is not in the
table is not allowed. ``None`` stands for "no appointment yet". The functions here check the
table, build the new :class:`~selfsched.model.Appointment` and return it with the side effects to
carry out, as values; they read no clock and do no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import attrs

from selfsched import _validate
from selfsched.errors import EmptyReason, MissingDetails, TransitionNotAllowed
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    Origin,
    SchedulingMode,
)

__all__ = [
    "INITIAL",
    "MAX_REASON_LENGTH",
    "TERMINAL",
    "TRANSITIONS",
    "Action",
    "apply",
    "approve",
    "cancel_by_client",
    "clean_reason",
    "is_late_cancellation",
    "next_status",
]

S = AppointmentStatus


class Action(enum.StrEnum):
    """Everything that can happen to an appointment."""

    BOOK = "book"
    """A client books in ``INSTANT`` mode."""
    REQUEST = "request"
    """A client requests in ``REQUIRES_APPROVAL`` mode."""
    STAFF_BOOK = "staff_book"
    """A clinician or staff member books on a client's behalf."""
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL_BY_CLIENT = "cancel_by_client"
    CANCEL_BY_PRACTICE = "cancel_by_practice"
    EXPIRE = "expire"
    EDIT = "edit"
    """Change location, service code or code modifier."""


TRANSITIONS: Mapping[tuple[AppointmentStatus | None, Action], AppointmentStatus] = MappingProxyType(
    {
        (None, Action.BOOK): S.BOOKED,
        (None, Action.REQUEST): S.PENDING,
        (None, Action.STAFF_BOOK): S.BOOKED,
        (S.PENDING, Action.APPROVE): S.BOOKED,
        (S.PENDING, Action.REJECT): S.REJECTED,
        (S.BOOKED, Action.REJECT): S.REJECTED,
        (S.PENDING, Action.CANCEL_BY_CLIENT): S.MISSED,
        (S.BOOKED, Action.CANCEL_BY_CLIENT): S.MISSED,
        (S.BOOKED, Action.CANCEL_BY_PRACTICE): S.CANCELLED,
        (S.PENDING, Action.EXPIRE): S.EXPIRED,
        (S.PENDING, Action.EDIT): S.PENDING,
        (S.BOOKED, Action.EDIT): S.BOOKED,
    }
)
"""``(status or None, action) -> new status``. Anything absent is refused."""

INITIAL: Mapping[SchedulingMode, AppointmentStatus | None] = MappingProxyType(
    {
        SchedulingMode.DISABLED: None,
        SchedulingMode.INSTANT: S.BOOKED,
        SchedulingMode.REQUIRES_APPROVAL: S.PENDING,
    }
)
"""The status a client's booking starts in, per mode (``None``: clients cannot book)."""

TERMINAL = frozenset({S.REJECTED, S.MISSED, S.CANCELLED, S.EXPIRED})
"""Statuses nothing leads out of."""

MAX_REASON_LENGTH = 1000
"""Longest cancellation reason accepted, in characters after trimming."""


def next_status(status: AppointmentStatus | None, action: Action) -> AppointmentStatus:
    """The status *action* leads to from *status*; :class:`TransitionNotAllowed` otherwise."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionNotAllowed(status or "new", action) from None


def apply(
    appointment: Appointment, action: Action, *, at: datetime, by: str, **changes: object
) -> Appointment:
    """*appointment* after *action*: new status, version + 1, any field *changes*.

    Decisions (approve, reject, expire) record ``decided_at``/``decided_by``.
    A self-booked ``BOOKED`` appointment (an ``INSTANT`` booking) may be rejected; one the
    practice booked, or a request the practice already approved, may not: that decision is made
    (cancel it instead), and a second decision must not silently overturn the first.
    """
    if action is Action.REJECT and appointment.status is S.BOOKED:
        if appointment.origin is not Origin.CLIENT:
            raise TransitionNotAllowed(f"{appointment.status} (booked by the practice)", action)
        if appointment.decided_at is not None:
            raise TransitionNotAllowed(f"{appointment.status} (already approved)", action)
    fields: dict[str, Any] = dict(changes)
    fields["status"] = next_status(appointment.status, action)
    fields["version"] = appointment.version + 1
    if action in {Action.APPROVE, Action.REJECT, Action.EXPIRE}:
        fields.update(decided_at=at, decided_by=by)
    return attrs.evolve(appointment, **fields)


def approve(
    appointment: Appointment,
    *,
    at: datetime,
    by: str,
    location: str | None = None,
    service_code: str | None = None,
    code_modifier: str | None = None,
) -> Appointment:
    """Approve a ``PENDING`` request. Location and service code must be set before or now."""
    location = location if location is not None else appointment.location
    service_code = service_code if service_code is not None else appointment.service_code
    missing = [
        name
        for name, value in (("location", location), ("service code", service_code))
        if not (value and value.strip())
    ]
    if missing:
        raise MissingDetails(
            f"Choose the {' and the '.join(missing)} before approving this request "
            f"(the code modifier is optional)."
        )
    return apply(
        appointment,
        Action.APPROVE,
        at=at,
        by=by,
        location=location,
        service_code=service_code,
        code_modifier=code_modifier if code_modifier is not None else appointment.code_modifier,
    )


def clean_reason(reason: object) -> str:
    """A client's cancellation reason, trimmed; :class:`EmptyReason` when blank, too long, or
    holding a NUL character (which no database keeps in text)."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise EmptyReason("Please tell us why you are cancelling (the reason cannot be empty).")
    if len(text) > MAX_REASON_LENGTH:
        raise EmptyReason(
            f"The cancellation reason is {len(text)} characters long; please shorten it "
            f"to at most {MAX_REASON_LENGTH}."
        )
    if _validate.NUL in text:
        raise EmptyReason(
            "The cancellation reason contains a NUL character (U+0000), which cannot be kept "
            "in the chart; please retype it."
        )
    return text


def is_late_cancellation(appointment: Appointment, at: datetime, window: timedelta) -> bool:
    """Whether a cancellation at *at* falls inside the late-cancellation *window*."""
    return bool(window) and appointment.start - at < window


def cancel_by_client(
    appointment: Appointment, *, at: datetime, by: str, late_window: timedelta
) -> Appointment:
    """A client cancels a future ``PENDING`` or ``BOOKED`` appointment: it becomes ``MISSED``."""
    if appointment.start <= at:
        raise TransitionNotAllowed(
            f"{appointment.status} (already started)", Action.CANCEL_BY_CLIENT
        )
    return apply(
        appointment,
        Action.CANCEL_BY_CLIENT,
        at=at,
        by=by,
        cancelled_at=at,
        late_cancellation=is_late_cancellation(appointment, at, late_window),
    )
