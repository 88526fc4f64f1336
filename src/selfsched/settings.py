"""Practice settings that change while the backend runs, and dry runs of a change.

- :class:`LiveSettings` holds the practice's current :class:`~selfsched.Practice` and replaces it
  atomically: a use case reads one whole value, never half of a change.
- :func:`no_longer_allowed`, pure: would new settings still allow an appointment that already
  exists? The :class:`~selfsched.Scheduler` loads each future open client booking with its
  neighbours and asks it (:meth:`~selfsched.Scheduler.dry_run`); nothing here reads a store or a
  clock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

import attrs

from selfsched import _validate
from selfsched.errors import Conflict, OffGrid
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    ClinicianCalendar,
    Practice,
    SchedulingMode,
)
from selfsched.slots import Reason, check_slot

__all__ = ["KEPT_REGARDLESS", "LiveSettings", "no_longer_allowed"]


class LiveSettings:
    """The practice settings of a running backend: read whole, replaced atomically.

    A :class:`~selfsched.Scheduler` built with a plain :class:`~selfsched.Practice` keeps it in
    one of these (``scheduler.settings``). Safe to share between threads: :meth:`current` returns
    the value in place at that moment; :meth:`replace` swaps it under a lock, and with
    ``expected`` refuses to overwrite a change someone else made since you read the settings.
    """

    def __init__(self, practice: Practice) -> None:
        self._practice = _validate.instance("practice", practice, Practice, "a Practice")
        self._lock = threading.Lock()

    def current(self) -> Practice:
        """The settings in force now."""
        return self._practice

    def replace(self, practice: Practice, *, expected: Practice | None = None) -> Practice:
        """Put *practice* in force; return the settings it replaced.

        With *expected* (the value you read and changed), :class:`~selfsched.errors.Conflict`
        when the settings in force are no longer that value.
        """
        _validate.instance("practice", practice, Practice, "a Practice")
        _validate.optional(lambda n, v: _validate.instance(n, v, Practice, "a Practice"))(
            "expected", expected
        )
        with self._lock:
            previous = self._practice
            if expected is not None and previous != expected:
                raise Conflict(
                    "The practice settings changed since you read them; read them again and "
                    "make your change on the new value."
                )
            self._practice = practice
            return previous


KEPT_REGARDLESS = frozenset({Reason.MIN_NOTICE, Reason.HORIZON, Reason.PAST, Reason.CLIENT_CAP})
"""Reasons about booking *now*: an appointment already made keeps its place despite them."""


def no_longer_allowed(
    appointment: Appointment,
    calendar: ClinicianCalendar,
    policy: ApprovalPolicy,
    *,
    now: datetime,
    client_appointments: Iterable[Appointment] = (),
) -> frozenset[Reason]:
    """Why *policy* and *calendar* would not let the client book *appointment* (empty: they would).

    *calendar* holds the clinician under the new settings and the clinician's other appointments;
    *client_appointments* the client's others. The appointment is judged as it is, with its own
    length, not the clinician's (possibly changed) default service's. A pending request under a
    mode that is now ``DISABLED`` gives ``SELF_SCHEDULING_DISABLED``; a start off the new grid
    ``OFF_GRID``; :data:`KEPT_REGARDLESS` reasons are left out.
    """
    if policy.mode is SchedulingMode.DISABLED and appointment.status is AppointmentStatus.PENDING:
        return frozenset({Reason.SELF_SCHEDULING_DISABLED})
    minutes = int((appointment.end - appointment.start).total_seconds() // 60)
    clinician = attrs.evolve(calendar.clinician, service_minutes=max(minutes, 1))
    others = [a for a in calendar.appointments if a.id != appointment.id]
    own = [a for a in client_appointments if a.id != appointment.id]
    try:
        check = check_slot(
            attrs.evolve(calendar, clinician=clinician, appointments=others),
            policy,
            appointment.start,
            now=now,
            client_id=appointment.client_id,
            client_appointments=own,
        )
    except OffGrid:
        return frozenset({Reason.OFF_GRID})
    return check.reasons - KEPT_REGARDLESS
