"""Malformed input at every public entry point: a typed error, fast, nothing written, audited.

Regression (issue 7, item 3): dates in the years 1 and 9999 raised ``OverflowError`` from the
Scheduler, strings where dates, numbers or actors belong raised ``TypeError`` or
``AttributeError``, an all-day event of three million days broke every later slot look-up, and
none of these refusals was audited.

The table feeds each entry point (constructors, the pure functions, every Scheduler method,
``verify_chain``, the stores) values of the wrong type and out of range. Each call must raise a
:class:`~selfsched.errors.SelfschedError` subclass within 100 ms of the calling thread's CPU
time (CPU time, so a busy machine cannot fail the test; what it guards against is work that
grows with the input, such as expanding a rule for years). A Scheduler call must also leave the
store as it was, apart from exactly one audit entry recording the refusal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import pytest

from selfsched import (
    Appointment,
    ApprovalPolicy,
    AuditEntry,
    CalendarEvent,
    Client,
    ClientActor,
    Clinician,
    ClinicianActor,
    ClinicianCalendar,
    Practice,
    Scheduler,
    StaffActor,
    SystemActor,
    TimeRange,
    WorkHours,
    available_slots,
    check_slot,
    display_state,
    explain,
    first_available,
    verify_chain,
)
from selfsched.adapters.memory import InMemoryStore
from selfsched.errors import SelfschedError
from selfsched.events import ChartNote, EmailMessage, OutboxItem
from selfsched.outbox import RetrySchedule
from selfsched.permissions import Role
from selfsched.testing import FixedClock, InMemoryDirectory, SequentialIds
from service_fixtures import (
    ADMIN,
    AS_ALICE,
    AS_RIVERA,
    NOW,
    NY,
    RIVERA,
    SCHEDULER,
    SLOT,
    TUESDAY,
    TUESDAY_SLOT,
    World,
    build,
    snapshot,
)

CPU_BUDGET = 0.1
"""Seconds of the calling thread's CPU time a refusal may take."""

NAIVE = datetime(2026, 4, 13, 10, 0)
YEAR_1 = datetime(1, 1, 1, 12, 0, tzinfo=UTC)
YEAR_9999 = datetime(9999, 12, 31, 12, 0, tzinfo=UTC)
YEAR_1_NY = datetime(1, 1, 1, 0, 0, tzinfo=NY)

BAD_ACTORS: dict[str, Any] = {
    "str": "alice",
    "int": 42,
    "dict": {"client_id": "alice"},
    "Clinician": RIVERA,
}
BAD_IDS: dict[str, Any] = {
    "None": None,
    "int": 42,
    "empty": "",
    "blank": "   ",
    "300 chars": "x" * 300,
    "list": ["c1"],
    "bytes": b"c1",
}
BAD_DAYS: dict[str, Any] = {
    "text": "2026-04-14",
    "naive datetime": NAIVE,
    "aware datetime": SLOT,
    "year 1": date(1, 1, 1),
    "year 9999": date(9999, 12, 31),
    "None": None,
    "int": 20260414,
}
BAD_INSTANTS: dict[str, Any] = {
    "naive": NAIVE,
    "text": "2026-04-13T10:00-04:00",
    "year 1 UTC": YEAR_1,
    "year 9999 UTC": YEAR_9999,
    "year 1 New York": YEAR_1_NY,
    "date": TUESDAY,
}
BAD_TEXTS: dict[str, Any] = {"int": 90834, "bytes": b"Room 1", "list": ["Room 1"], "bool": True}
BAD_VERSIONS: dict[str, Any] = {"text": "2", "float": 2.0, "bool": True, "list": [2]}


class Case(NamedTuple):
    """One malformed call: on the pure side (*world* unused) or through the Scheduler."""

    name: str
    call: Callable[[World], object]
    audited: bool


def pure(name: str, call: Callable[[], object]) -> Case:
    """A call that involves no Scheduler."""
    return Case(name, lambda _: call(), audited=False)


def scheduler(name: str, call: Callable[[Scheduler], object]) -> Case:
    """A call of a Scheduler method, which must audit its refusal."""
    return Case(name, lambda world: call(world.scheduler), audited=True)


CALENDAR = ClinicianCalendar(clinician=RIVERA)
POLICY = ApprovalPolicy()


def _appointment(**changes: Any) -> Appointment:
    fields: dict[str, Any] = {
        "id": "a-1",
        "client_id": "alice",
        "clinician_id": "c1",
        "start": SLOT,
        "end": SLOT + timedelta(minutes=50),
        "status": "booked",
    }
    return Appointment(**(fields | changes))


def constructor_cases() -> Iterator[Case]:
    """Model values, actors, effect records and ports built from bad values."""
    for label, value in BAD_IDS.items():
        yield pure(f"Clinician(id={label})", lambda v=value: Clinician(id=v))
        yield pure(f"Appointment(client_id={label})", lambda v=value: _appointment(client_id=v))
        yield pure(f"ClientActor({label})", lambda v=value: ClientActor(v))
        yield pure(f"ClinicianActor({label})", lambda v=value: ClinicianActor(v))
    for label, value in BAD_INSTANTS.items():
        if isinstance(value, date) and not isinstance(value, datetime):
            continue
        yield pure(f"Appointment(start={label})", lambda v=value: _appointment(start=v))
        yield pure(
            f"CalendarEvent.one_off({label})",
            lambda v=value: CalendarEvent.one_off(v, SLOT),
        )
        yield pure(f"FixedClock({label})", lambda v=value: FixedClock(v))
    for value in ["false", "0", "no", [0], 1]:
        yield pure(
            f"StaffActor(approves_requests={value!r})",
            lambda v=value: StaffActor(staff_id="s", role=Role.SCHEDULER, approves_requests=v),
        )
        yield pure(
            f"ApprovalPolicy(pending_holds_slot={value!r})",
            lambda v=value: ApprovalPolicy(pending_holds_slot=v),
        )
    yield from (
        pure("Appointment(late_cancellation='yes')", lambda: _appointment(late_cancellation="yes")),
        pure("Appointment(version='2')", lambda: _appointment(version="2")),
        pure("Appointment(status='done')", lambda: _appointment(status="done")),
        pure("Clinician(zone='Mars/Olympus')", lambda: Clinician(id="x", zone="Mars/Olympus")),
        pure("Clinician(zone=5)", lambda: Clinician(id="x", zone=5)),
        pure("Clinician(service_minutes='50')", lambda: Clinician(id="x", service_minutes="50")),
        pure("Clinician(service_code=90834)", lambda: Clinician(id="x", service_code=90834)),
        pure("Clinician(work_hours='09:00-17:00')", lambda: Clinician(id="x", work_hours="9-5")),
        pure("WorkHours('09:00-17:00')", lambda: WorkHours("09:00-17:00")),
        pure("WorkHours({0: '09:00-12:00'})", lambda: WorkHours({0: "09:00-12:00"})),
        pure("WorkHours({9: []})", lambda: WorkHours({9: []})),
        pure("WorkHours(locations={0: 7})", lambda: WorkHours({}, locations={0: 7})),
        pure("TimeRange('9', '17')", lambda: TimeRange("9", "17")),
        pure("TimeRange(9, 17)", lambda: TimeRange(9, 17)),
        pure("TimeRange.parse('09:00')", lambda: TimeRange.parse("09:00")),
        pure(
            "CalendarEvent.all_day(days=3_000_000)",
            lambda: CalendarEvent.all_day(TUESDAY, days=3_000_000),
        ),
        pure(
            "CalendarEvent.all_day(date(9998, 12, 31), days=5)",
            lambda: CalendarEvent.all_day(date(9998, 12, 31), days=5),
        ),
        pure("CalendarEvent.all_day('2026-04-14')", lambda: CalendarEvent.all_day("2026-04-14")),
        pure("CalendarEvent.all_day(days=True)", lambda: CalendarEvent.all_day(TUESDAY, days=True)),
        pure(
            "CalendarEvent.one_off(title=5)",
            lambda: CalendarEvent.one_off(SLOT, TUESDAY_SLOT, title=5),
        ),
        pure(
            "CalendarEvent.recurring('FREQ=SECONDLY')",
            lambda: CalendarEvent.recurring(
                "FREQ=SECONDLY", start=SLOT, end=SLOT + timedelta(minutes=30)
            ),
        ),
        pure(
            "CalendarEvent.recurring('FREQ=MINUTELY')",
            lambda: CalendarEvent.recurring(
                "FREQ=MINUTELY", start=SLOT, end=SLOT + timedelta(minutes=30)
            ),
        ),
        pure(
            "CalendarEvent.recurring(rrule=7)",
            lambda: CalendarEvent.recurring(7, start=SLOT, end=SLOT + timedelta(minutes=30)),
        ),
        pure(
            "CalendarEvent.recurring(exdates='x')",
            lambda: CalendarEvent.recurring(
                "FREQ=DAILY", start=SLOT, end=SLOT + timedelta(minutes=30), exdates="2026-04-14"
            ),
        ),
        pure("ApprovalPolicy(mode='sometimes')", lambda: ApprovalPolicy(mode="sometimes")),
        pure("ApprovalPolicy(grid_minutes='30')", lambda: ApprovalPolicy(grid_minutes="30")),
        pure("ApprovalPolicy(min_notice=24)", lambda: ApprovalPolicy(min_notice=24)),
        pure("ApprovalPolicy(daily_max=True)", lambda: ApprovalPolicy(daily_max=True)),
        pure("ClinicianCalendar(clinician='c1')", lambda: ClinicianCalendar(clinician="c1")),
        pure(
            "ClinicianCalendar(events='x')", lambda: ClinicianCalendar(clinician=RIVERA, events="x")
        ),
        pure(
            "ClinicianCalendar(appointments=[1])",
            lambda: ClinicianCalendar(clinician=RIVERA, appointments=[1]),
        ),
        pure("Client(email=b'...')", lambda: Client(id="c", email=b"a@example.org")),
        pure("Client(zone='Nowhere')", lambda: Client(id="c", zone="Nowhere")),
        pure("Practice(policy='instant')", lambda: Practice(policy="instant")),
        pure("Practice(clinician_policies=[])", lambda: Practice(clinician_policies=[1])),
        pure("Practice(name=None)", lambda: Practice(name=None)),
        pure("StaffActor(role='boss')", lambda: StaffActor(staff_id="s", role="boss")),
        pure("SystemActor(name=5)", lambda: SystemActor(name=5)),
        pure(
            "EmailMessage(kind='spam')",
            lambda: EmailMessage(
                message_id="<m>",
                kind="spam",
                appointment_id="a",
                client_id="client-1",
                to="x@y",
                subject="s",
                text="t",
                html="h",
            ),
        ),
        pure(
            "ChartNote(created_at=naive)",
            lambda: ChartNote(
                note_id="n",
                client_id="c",
                appointment_id="a",
                title="t",
                text="x",
                created_at=NAIVE,
            ),
        ),
        pure("OutboxItem(payload='x')", lambda: OutboxItem(id="o", payload="x", created_at=NOW)),
        pure(
            "OutboxItem(attempts='1')",
            lambda: OutboxItem(id="o", payload=_note(), created_at=NOW, attempts="1"),
        ),
        pure(
            "AuditEntry(seq='1')",
            lambda: AuditEntry(seq="1", at=NOW, actor="a", action="b", outcome="ok"),
        ),
        pure(
            "AuditEntry(changes=[('a', 1)])",
            lambda: AuditEntry(
                seq=1, at=NOW, actor="a", action="b", outcome="ok", changes=[("a", 1)]
            ),
        ),
        pure("RetrySchedule(first=60)", lambda: RetrySchedule(first=60)),
        pure("RetrySchedule(jitter=1.5)", lambda: RetrySchedule(jitter=1.5)),
        pure("Scheduler(store=None)", lambda: _scheduler(store=None)),
        pure("Scheduler(clock=datetime)", lambda: _scheduler(clock=NOW)),
        pure("Scheduler(practice='x')", lambda: _scheduler(practice="x")),
        pure("Scheduler(max_attempts=0)", lambda: _scheduler(max_attempts=0)),
        pure("Scheduler(max_attempts='5')", lambda: _scheduler(max_attempts="5")),
        pure("Scheduler(auto_dispatch='no')", lambda: _scheduler(auto_dispatch="no")),
        pure(
            "Scheduler(email_domain='x\\r\\nBcc: y')",
            lambda: _scheduler(email_domain="x\r\nBcc: y"),
        ),
        pure("Scheduler(dispatch_lease=300)", lambda: _scheduler(dispatch_lease=300)),
        pure("Scheduler(mailer='smtp')", lambda: _scheduler(mailer="smtp")),
    )


def _note() -> ChartNote:
    return ChartNote(
        note_id="n", client_id="c", appointment_id="a", title="t", text="x", created_at=NOW
    )


def _scheduler(**changes: Any) -> Scheduler:
    fields: dict[str, Any] = {
        "store": InMemoryStore(),
        "directory": InMemoryDirectory.of(),
        "clock": FixedClock(NOW),
        "ids": SequentialIds(),
        "practice": Practice(),
    }
    return Scheduler(**(fields | changes))


def pure_function_cases() -> Iterator[Case]:
    """The slot calculator, the audit check and the display helper, given bad arguments."""
    window = {"first_day": TUESDAY, "last_day": TUESDAY, "now": NOW}
    for view in (available_slots, explain):
        name = view.__name__
        for label, value in BAD_DAYS.items():
            yield pure(
                f"{name}(first_day={label})",
                lambda f=view, v=value: f(CALENDAR, POLICY, **(window | {"first_day": v})),
            )
        for label, value in BAD_INSTANTS.items():
            yield pure(
                f"{name}(now={label})",
                lambda f=view, v=value: f(CALENDAR, POLICY, **(window | {"now": v})),
            )
        yield pure(f"{name}(calendar=RIVERA)", lambda f=view: f(RIVERA, POLICY, **window))
        yield pure(f"{name}(policy=None)", lambda f=view: f(CALENDAR, None, **window))
        yield pure(
            f"{name}(client_id=5)", lambda f=view: f(CALENDAR, POLICY, **window, client_id=5)
        )
        yield pure(
            f"{name}(client_appointments='a')",
            lambda f=view: f(CALENDAR, POLICY, **window, client_appointments="a"),
        )
        yield pure(
            f"{name}(last_day < first_day)",
            lambda f=view: f(
                CALENDAR, POLICY, first_day=TUESDAY, last_day=TUESDAY - timedelta(days=1), now=NOW
            ),
        )
    for label, value in BAD_INSTANTS.items():
        yield pure(f"check_slot({label})", lambda v=value: check_slot(CALENDAR, POLICY, v, now=NOW))
        yield pure(
            f"first_available(now={label})",
            lambda v=value: first_available([CALENDAR], POLICY, now=v),
        )
    yield from (
        pure(
            "check_slot(off grid)",
            lambda: check_slot(CALENDAR, POLICY, SLOT + timedelta(minutes=7), now=NOW),
        ),
        pure("check_slot(calendar=None)", lambda: check_slot(None, POLICY, SLOT, now=NOW)),
        pure(
            "first_available(calendars=CALENDAR)",
            lambda: first_available(CALENDAR, POLICY, now=NOW),
        ),
        pure(
            "first_available(calendars=[RIVERA])",
            lambda: first_available([RIVERA], POLICY, now=NOW),
        ),
        pure("first_available(policy='x')", lambda: first_available([CALENDAR], "x", now=NOW)),
        pure("verify_chain(None)", lambda: verify_chain(None)),
        pure("verify_chain('abc')", lambda: verify_chain("abc")),
        pure("verify_chain([None])", lambda: verify_chain([None])),
        pure("verify_chain(head=5)", lambda: verify_chain([], head=5)),
        pure("display_state('booked')", lambda: display_state("booked")),
    )


def scheduler_cases() -> Iterator[Case]:
    """Every public Scheduler method, given bad arguments."""
    for label, actor in BAD_ACTORS.items():
        yield scheduler(f"my_appointments({label})", lambda s, a=actor: s.my_appointments(a))
        yield scheduler(f"approval_queue({label})", lambda s, a=actor: s.approval_queue(a))
        yield scheduler(f"queue_count({label})", lambda s, a=actor: s.queue_count(a))
        yield scheduler(f"failed_deliveries({label})", lambda s, a=actor: s.failed_deliveries(a))
        yield scheduler(f"expire_due({label})", lambda s, a=actor: s.expire_due(a))
        yield scheduler(f"approve(actor={label})", lambda s, a=actor: s.approve(a, "appointment-1"))
    for label, value in BAD_IDS.items():
        yield scheduler(
            f"client_slots(clinician_id={label})",
            lambda s, v=value: s.client_slots(AS_ALICE, v, first_day=TUESDAY, last_day=TUESDAY),
        )
        yield scheduler(f"book(clinician_id={label})", lambda s, v=value: s.book(AS_ALICE, v, SLOT))
        yield scheduler(
            f"cancel(appointment_id={label})", lambda s, v=value: s.cancel(AS_ALICE, v, "ill")
        )
        yield scheduler(
            f"approve(appointment_id={label})", lambda s, v=value: s.approve(SCHEDULER, v)
        )
        yield scheduler(
            f"appointment_details({label})",
            lambda s, v=value: s.appointment_details(ADMIN, v),
        )
        yield scheduler(
            f"book_for_client(client_id={label})",
            lambda s, v=value: s.book_for_client(
                SCHEDULER, client_id=v, clinician_id="c1", start=TUESDAY_SLOT
            ),
        )
        yield scheduler(f"retry_delivery({label})", lambda s, v=value: s.retry_delivery(ADMIN, v))
    for label, value in BAD_DAYS.items():
        yield scheduler(
            f"client_slots(first_day={label})",
            lambda s, v=value: s.client_slots(AS_ALICE, "c1", first_day=v, last_day=TUESDAY),
        )
        yield scheduler(
            f"schedule(last_day={label})",
            lambda s, v=value: s.schedule(AS_RIVERA, "c1", first_day=TUESDAY, last_day=v),
        )
        yield scheduler(
            f"explain_slots(first_day={label})",
            lambda s, v=value: s.explain_slots(ADMIN, "c1", first_day=v, last_day=TUESDAY),
        )
    for label, value in BAD_INSTANTS.items():
        yield scheduler(f"book(start={label})", lambda s, v=value: s.book(AS_ALICE, "c1", v))
        yield scheduler(
            f"book_for_client(start={label})",
            lambda s, v=value: s.book_for_client(
                SCHEDULER, client_id="alice", clinician_id="c1", start=v
            ),
        )
    for label, value in BAD_TEXTS.items():
        yield scheduler(
            f"approve(service_code={label})",
            lambda s, v=value: s.approve(SCHEDULER, "appointment-1", service_code=v),
        )
        yield scheduler(
            f"edit(location={label})",
            lambda s, v=value: s.edit(SCHEDULER, "appointment-1", location=v),
        )
        yield scheduler(
            f"book_for_client(code_modifier={label})",
            lambda s, v=value: s.book_for_client(
                SCHEDULER, client_id="alice", clinician_id="c1", start=TUESDAY_SLOT, code_modifier=v
            ),
        )
        yield scheduler(
            f"cancel(reason={label})", lambda s, v=value: s.cancel(AS_ALICE, "appointment-1", v)
        )
    for label, value in BAD_VERSIONS.items():
        yield scheduler(
            f"reject(expected_version={label})",
            lambda s, v=value: s.reject(SCHEDULER, "appointment-1", expected_version=v),
        )
        yield scheduler(
            f"cancel_by_practice(expected_version={label})",
            lambda s, v=value: s.cancel_by_practice(SCHEDULER, "appointment-1", expected_version=v),
        )
    yield from (
        scheduler(
            "schedule(first_day > last_day)",
            lambda s: s.schedule(
                AS_RIVERA, "c1", first_day=TUESDAY, last_day=TUESDAY - timedelta(days=1)
            ),
        ),
        scheduler(
            "client_slots(first_day > last_day)",
            lambda s: s.client_slots(
                AS_ALICE, "c1", first_day=TUESDAY, last_day=TUESDAY - timedelta(days=1)
            ),
        ),
        scheduler(
            "book(idempotency_key=5)", lambda s: s.book(AS_ALICE, "c1", SLOT, idempotency_key=5)
        ),
        scheduler(
            "book_for_client(minutes='30')",
            lambda s: s.book_for_client(
                SCHEDULER, client_id="alice", clinician_id="c1", start=TUESDAY_SLOT, minutes="30"
            ),
        ),
        scheduler(
            "book_for_client(minutes=0)",
            lambda s: s.book_for_client(
                SCHEDULER, client_id="alice", clinician_id="c1", start=TUESDAY_SLOT, minutes=0
            ),
        ),
        scheduler(
            "book_for_client(minutes=10**9)",
            lambda s: s.book_for_client(
                SCHEDULER, client_id="alice", clinician_id="c1", start=TUESDAY_SLOT, minutes=10**9
            ),
        ),
        scheduler(
            "book_for_client(unknown client)",
            lambda s: s.book_for_client(
                SCHEDULER, client_id="nobody", clinician_id="c1", start=TUESDAY_SLOT
            ),
        ),
        scheduler(
            "book_for_client(unknown clinician)",
            lambda s: s.book_for_client(
                SCHEDULER, client_id="alice", clinician_id="nobody", start=TUESDAY_SLOT
            ),
        ),
        scheduler(
            "approve(location=('Room', 1))",
            lambda s: s.approve(SCHEDULER, "appointment-1", location=("Room", 1)),
        ),
        scheduler(
            "edit(code_modifier=['95'])",
            lambda s: s.edit(SCHEDULER, "appointment-1", code_modifier=["95"]),
        ),
        scheduler("dry_run(practice='x')", lambda s: s.dry_run(ADMIN, practice="x")),
        scheduler("dry_run(clinicians='c1')", lambda s: s.dry_run(ADMIN, clinicians="c1")),
        scheduler("dry_run(clinicians=[None])", lambda s: s.dry_run(ADMIN, clinicians=[None])),
        scheduler(
            "set_approval_permission(member='x')",
            lambda s: s.set_approval_permission(ADMIN, "x", enabled=True),
        ),
        scheduler(
            "set_approval_permission(enabled='yes')",
            lambda s: s.set_approval_permission(ADMIN, SCHEDULER, enabled="yes"),
        ),
        scheduler(
            "set_approval_permission(actor='admin')",
            lambda s: s.set_approval_permission("admin", SCHEDULER, enabled=True),
        ),
        scheduler(
            "explain_slots(client_id=5)",
            lambda s: s.explain_slots(
                ADMIN, "c1", first_day=TUESDAY, last_day=TUESDAY, client_id=5
            ),
        ),
        scheduler(
            "purge_failed_delivery(item_id=None)", lambda s: s.purge_failed_delivery(ADMIN, None)
        ),
        scheduler(
            "purge_failed_delivery(actor='x')", lambda s: s.purge_failed_delivery("x", "outbox-1")
        ),
    )


CASES = [*constructor_cases(), *pure_function_cases(), *scheduler_cases()]


def test_item3_the_table_covers_at_least_150_malformed_inputs() -> None:
    """The issue asks for at least 150 malformed inputs across the entry points."""
    assert len(CASES) >= 150
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.fixture
def world() -> World:
    """A practice with one pending request (``appointment-1``) by Alice with Dr. Rivera."""
    world = build()
    world.scheduler.book(AS_ALICE, "c1", SLOT)
    return world


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_item3_malformed_input_is_a_typed_error_fast_with_nothing_written(
    case: Case, world: World
) -> None:
    """A SelfschedError within the CPU budget; the store unchanged but for the refusal's audit
    entry when the Scheduler is involved."""
    appointments, outbox, audit = snapshot(world.store)

    started = time.thread_time()
    with pytest.raises(SelfschedError) as caught:
        case.call(world)
    spent = time.thread_time() - started

    assert spent < CPU_BUDGET, f"{case.name} took {spent:.3f} s of CPU"
    after = snapshot(world.store)
    assert (appointments, outbox) == after[:2]
    new = after[2][len(audit) :]
    expected = [("refused", type(caught.value).__name__)] if case.audited else []
    assert expected == [(entry.outcome, entry.error) for entry in new]
    verify_chain(after[2])
