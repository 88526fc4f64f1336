"""A small, fixed practice for scheduler tests: one factory, ``build``, and named people.

``build(mode=..., **policy)`` returns a :class:`World`: a :class:`~selfsched.service.Scheduler`
over an :class:`~selfsched.adapters.memory.InMemoryStore`, with a fixed clock, a recording mailer
and chart, and an in-memory directory. ``World`` is a ``NamedTuple``, so both ``world.scheduler``
and ``scheduler, store, clock, mailer, chart, directory = build()`` work.

The practice runs in New York. ``NOW`` is Monday 6 April 2026, 09:00 EDT (no DST change within
the next months' test dates). Dr. Rivera (``c1``) works 09:00-17:00 Monday to Friday, 50-minute
sessions (service code ``90834``), with a default location on Mondays only ("Main Street
Office"); Dr. Chen (``c2``) keeps the same hours and has no default location. Alice reads times
in the practice's zone, Bob in Los Angeles, Carol has no email address.

This module is shared with other test modules: add to it, but do not change what is here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from selfsched.adapters.memory import InMemoryStore
from selfsched.events import AuditEntry, OutboxItem
from selfsched.model import (
    Appointment,
    ApprovalPolicy,
    CalendarEvent,
    Client,
    Clinician,
    Practice,
    SchedulingMode,
    Weekday,
    WorkHours,
)
from selfsched.outbox import DispatchReport, RetrySchedule
from selfsched.permissions import ClientActor, ClinicianActor, Role, StaffActor, SystemActor
from selfsched.service import Scheduler
from selfsched.settings import LiveSettings
from selfsched.testing import (
    FixedClock,
    InMemoryDirectory,
    RecordingChart,
    RecordingMailer,
    SequentialIds,
)

__all__ = [
    "ADMIN",
    "ALICE",
    "AS_ALICE",
    "AS_BOB",
    "AS_CAROL",
    "AS_CHEN",
    "AS_RIVERA",
    "BACKOFF",
    "BILLER",
    "BOB",
    "CAROL",
    "CHEN",
    "CLINIC_ZONE",
    "DIRECTOR_OFF",
    "FRONT_DESK",
    "MONDAY",
    "NOW",
    "NY",
    "PRACTICE_NAME",
    "RIVERA",
    "SCHEDULER",
    "SLOT",
    "SYSTEM",
    "TUESDAY",
    "TUESDAY_SLOT",
    "World",
    "at",
    "build",
    "dispatch_rounds",
    "snapshot",
    "use_settings",
]

CLINIC_ZONE = "America/New_York"
NY = ZoneInfo(CLINIC_ZONE)
PRACTICE_NAME = "Riverside Counselling"

NOW = datetime(2026, 4, 6, 9, 0, tzinfo=NY)
"""Monday 6 April 2026, 09:00 EDT (13:00 UTC)."""

MONDAY = date(2026, 4, 13)
"""A week after ``NOW``: Dr. Rivera's default location applies."""
TUESDAY = date(2026, 4, 14)
"""No default location on Tuesdays: "No Location Set"."""


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NY) -> datetime:
    """The aware instant of a wall-clock time on *day* in *zone* (New York by default)."""
    return datetime.combine(day, time(hour, minute), zone)


SLOT = at(MONDAY, 10)
"""Monday 13 April 2026, 10:00 EDT: a free, bookable slot with Dr. Rivera."""
TUESDAY_SLOT = at(TUESDAY, 10)
"""Tuesday 14 April 2026, 10:00 EDT: free, bookable, no default location."""

_WEEKDAYS = {Weekday(d): ["09:00-17:00"] for d in range(5)}

RIVERA = Clinician(
    id="c1",
    name="Dr. Rivera",
    zone=CLINIC_ZONE,
    work_hours=WorkHours(_WEEKDAYS, locations={Weekday.MONDAY: "Main Street Office"}),
    service_code="90834",
    service_minutes=50,
)
CHEN = Clinician(
    id="c2",
    name="Dr. Chen",
    zone=CLINIC_ZONE,
    work_hours=WorkHours(_WEEKDAYS),
    service_code="90837",
    service_minutes=50,
)

ALICE = Client(id="alice", name="Alice Adams", email="alice@example.org")
BOB = Client(id="bob", name="Bob Brown", email="bob@example.org", zone="America/Los_Angeles")
CAROL = Client(id="carol", name="Carol Cole")

AS_ALICE = ClientActor("alice")
AS_BOB = ClientActor("bob")
AS_CAROL = ClientActor("carol")
AS_RIVERA = ClinicianActor("c1")
AS_CHEN = ClinicianActor("c2")
SYSTEM = SystemActor()

SCHEDULER = StaffActor(staff_id="s-sched", role=Role.SCHEDULER, approves_requests=True)
"""A Scheduler with the "approve appointment requests" checkbox on."""
ADMIN = StaffActor(staff_id="s-admin", role=Role.SYSTEM_ADMINISTRATOR, approves_requests=True)
"""A System Administrator with the checkbox on."""
DIRECTOR_OFF = StaffActor(staff_id="s-dir", role=Role.CLINICAL_DIRECTOR, approves_requests=False)
"""A Clinical Director whose checkbox is off."""
FRONT_DESK = StaffActor(staff_id="s-desk", role=Role.FRONT_DESK, approves_requests=True)
"""Front desk: the checkbox is inactive for this role, whatever its value."""
BILLER = StaffActor(staff_id="s-bill", role=Role.BILLER)


class World(NamedTuple):
    """Everything one test needs, built fresh by :func:`build`."""

    scheduler: Scheduler
    store: InMemoryStore
    clock: FixedClock
    mailer: RecordingMailer
    chart: RecordingChart
    directory: InMemoryDirectory


def build(
    mode: SchedulingMode = SchedulingMode.REQUIRES_APPROVAL,
    *,
    send_confirmations: bool = False,
    auto_dispatch: bool = True,
    max_attempts: int = 5,
    events: Iterable[CalendarEvent] = (),
    clinician_policies: Mapping[str, ApprovalPolicy] | None = None,
    now: datetime = NOW,
    **policy: Any,
) -> World:
    """A fresh practice in *mode*; *policy* keywords go to the practice's ``ApprovalPolicy``.

    *events* are Dr. Rivera's calendar events; *clinician_policies* override the policy per
    clinician id.
    """
    practice = Practice(
        name=PRACTICE_NAME,
        zone=CLINIC_ZONE,
        phone="555-0100",
        policy=ApprovalPolicy(mode=mode, **policy),
        clinician_policies=clinician_policies,
    )
    directory = InMemoryDirectory.of(
        clinicians=[RIVERA, CHEN],
        clients=[ALICE, BOB, CAROL],
        events={RIVERA.id: list(events)},
    )
    store = InMemoryStore()
    clock = FixedClock(now)
    mailer = RecordingMailer()
    chart = RecordingChart()
    scheduler = Scheduler(
        store=store,
        directory=directory,
        clock=clock,
        ids=SequentialIds(),
        practice=practice,
        mailer=mailer,
        chart=chart,
        send_confirmations=send_confirmations,
        auto_dispatch=auto_dispatch,
        max_attempts=max_attempts,
    )
    return World(scheduler, store, clock, mailer, chart, directory)


def use_settings(scheduler: Scheduler, practice: Practice) -> None:
    """Put *practice* in force behind the scheduler's back: no actor, no audit entry (tests only;
    a backend calls :meth:`Scheduler.change_settings`)."""
    settings = scheduler.settings
    assert isinstance(settings, LiveSettings)
    settings.replace(practice)


def snapshot(
    store: InMemoryStore,
) -> tuple[list[Appointment], list[OutboxItem], tuple[AuditEntry, ...]]:
    """Everything *store* holds: appointments, outbox items (any state), audit entries."""
    return store.appointments(), store.outbox_items(), store.audit_entries()


BACKOFF = RetrySchedule().cap
"""No wait of the default retry schedule is longer: after it every failed item is due again."""


def dispatch_rounds(world: World, rounds: int) -> list[DispatchReport]:
    """Dispatch *rounds* times, moving the clock past any retry's back-off after each."""
    reports: list[DispatchReport] = []
    for _ in range(rounds):
        reports.append(world.scheduler.dispatch())
        world.clock.advance(BACKOFF)
    return reports
