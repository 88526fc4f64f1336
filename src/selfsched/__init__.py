"""selfsched: what a client may book, and how a booking request travels to a decision.

The public API is exactly what ``__all__`` names. Errors live in :mod:`selfsched.errors`,
hypothesis strategies in :mod:`selfsched.strategies` (the ``[testing]`` extra), test doubles in
:mod:`selfsched.testing`, stores in :mod:`selfsched.adapters`.
"""

from selfsched.errors import SelfschedError
from selfsched.events import (
    AuditEntry,
    ChartNote,
    EmailKind,
    EmailMessage,
    OutboxItem,
    verify_chain,
)
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Client,
    Clinician,
    ClinicianCalendar,
    EventKind,
    Origin,
    Practice,
    SchedulingMode,
    TimeRange,
    Weekday,
    WorkHours,
)
from selfsched.permissions import (
    APPROVER_ROLES,
    Actor,
    ClientActor,
    ClinicianActor,
    Role,
    StaffActor,
    SystemActor,
)
from selfsched.requests import TRANSITIONS, Action
from selfsched.service import (
    UNCHANGED,
    Affected,
    DispatchReport,
    Display,
    ScheduleEntry,
    Scheduler,
    display_state,
)
from selfsched.settings import LiveSettings
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
from selfsched.wording import EmailTemplate

__all__ = [
    "APPROVER_ROLES",
    "TRANSITIONS",
    "UNCHANGED",
    "Action",
    "Actor",
    "Affected",
    "Appointment",
    "AppointmentStatus",
    "ApprovalPolicy",
    "AuditEntry",
    "CalendarEvent",
    "ChartNote",
    "Client",
    "ClientActor",
    "Clinician",
    "ClinicianActor",
    "ClinicianCalendar",
    "DispatchReport",
    "Display",
    "EmailKind",
    "EmailMessage",
    "EmailTemplate",
    "EventKind",
    "ExplainedSlot",
    "LiveSettings",
    "Origin",
    "OutboxItem",
    "Practice",
    "Reason",
    "Role",
    "ScheduleEntry",
    "Scheduler",
    "SchedulingMode",
    "SelfschedError",
    "Slot",
    "SlotCheck",
    "StaffActor",
    "SystemActor",
    "TimeRange",
    "Weekday",
    "WorkHours",
    "available_slots",
    "check_slot",
    "display_state",
    "explain",
    "first_available",
    "verify_chain",
]
