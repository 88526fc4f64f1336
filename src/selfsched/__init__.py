"""selfsched: what a client may book, and how a booking request travels to a decision.

The public API is exactly what ``__all__`` names. Errors live in :mod:`selfsched.errors`,
hypothesis strategies in :mod:`selfsched.strategies` (the ``[testing]`` extra).
"""

from selfsched.errors import SelfschedError
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    EventKind,
    Origin,
    SchedulingMode,
    TimeRange,
    Weekday,
    WorkHours,
)
from selfsched.slots import (
    ExplainedSlot,
    Reason,
    Slot,
    SlotCheck,
    available_slots,
    check_slot,
    explain,
    first_available,
)

__all__ = [
    "Appointment",
    "AppointmentStatus",
    "ApprovalPolicy",
    "CalendarEvent",
    "Clinician",
    "ClinicianCalendar",
    "EventKind",
    "ExplainedSlot",
    "Origin",
    "Reason",
    "SchedulingMode",
    "SelfschedError",
    "Slot",
    "SlotCheck",
    "TimeRange",
    "Weekday",
    "WorkHours",
    "available_slots",
    "check_slot",
    "explain",
    "first_available",
]
