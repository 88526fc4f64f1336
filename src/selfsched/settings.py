"""Settings dry runs, pure: would new settings still allow an appointment that already exists?

The :class:`~selfsched.Scheduler` loads each future open client booking with its neighbours and
asks :func:`no_longer_allowed`; nothing here reads a store or a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from selfsched.errors import OffGrid
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    ClinicianCalendar,
    SchedulingMode,
)
from selfsched.slots import Reason, check_slot

__all__ = ["KEPT_REGARDLESS", "no_longer_allowed"]

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
