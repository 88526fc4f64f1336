"""The whole authorization matrix: every operation x every kind of actor, against a written table.

The expected table below is data, derived by hand from SPEC §4 and the service docstrings; it is
*not* computed by calling :mod:`selfsched.permissions`. Each cell runs on a fresh scheduler (an
in-memory store with one pending request and one booked appointment of the owning client with the
owning clinician) and checks the outcome; a refusal must change nothing and leave exactly one
audit entry naming the error class.

Cell codes:

- ``-``     allowed, and nothing is recorded (client reads, the badge, nothing due to expire)
- ``ok``    allowed, and exactly one audit entry with outcome ``"ok"``
- ``vw``    allowed, and exactly one audit entry with outcome ``"viewed"`` (staff views)
- ``PD``    refused with :class:`~selfsched.errors.PermissionDenied`
- ``NF``    refused with :class:`~selfsched.errors.NotFound`

Decisions taken where SPEC is silent (the library's documented behaviour is kept):

- Any staff role may see schedules, appointment details, the explain view and dry runs
  (``can_see_staff_views``); only deciding needs an approver role with the permission on.
- Staff of any role, and only staff, may list the deliveries given up on and put one back in
  the queue (``failed_deliveries``, ``retry_delivery``), as for dry runs; clinicians may not.
- ``expire_due`` with no actor runs as the system (its documented default).
- ``queue_count`` (the red badge) answers 0 to anyone who decides nothing; it refuses no one.
- A System Administrator may switch the approval permission whether or not their own is on.
- A client naming an appointment in a staff operation (approve, reject, edit, cancel for the
  practice) is refused like anywhere else: ``PermissionDenied`` for its own appointment,
  ``NotFound`` for another client's, so ids cannot be probed through staff methods either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import attrs
import pytest

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    AuditEntry,
    Client,
    ClientActor,
    Clinician,
    ClinicianActor,
    EmailKind,
    EmailMessage,
    Origin,
    OutboxItem,
    Practice,
    Role,
    Scheduler,
    SchedulingMode,
    StaffActor,
    SystemActor,
    WorkHours,
    verify_chain,
)
from selfsched.adapters.memory import InMemoryStore
from selfsched.errors import NotFound, PermissionDenied, SelfschedError
from selfsched.permissions import Actor
from selfsched.testing import (
    FixedClock,
    InMemoryDirectory,
    RecordingChart,
    RecordingMailer,
    SequentialIds,
)

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
"""A Monday, far from any DST transition."""
DAY = date(2026, 6, 3)
"""The Wednesday everything happens on."""

CLIENT = "client-1"
OTHER_CLIENT = "client-2"
CLINICIAN = "clinician-1"
OTHER_CLINICIAN = "clinician-2"
PENDING_ID = "appointment-pending"
BOOKED_ID = "appointment-booked"
MISSING_ID = "appointment-missing"
FAILED_ID = "outbox-failed"

PENDING_START = datetime(2026, 6, 3, 10, 0, tzinfo=NY)
BOOKED_START = datetime(2026, 6, 3, 14, 0, tzinfo=NY)
BOOK_TARGET = datetime(2026, 6, 3, 15, 0, tzinfo=NY)
"""Free, and back to back with the booked appointment: half-open intervals do not conflict."""
STAFF_BOOK_TARGET = datetime(2026, 6, 4, 10, 0, tzinfo=NY)

SCHEDULER_MEMBER = StaffActor(staff_id="staff-scheduler", role=Role.SCHEDULER)
BILLER_MEMBER = StaffActor(staff_id="staff-biller", role=Role.BILLER, approves_requests=True)


def _staff(role: Role, *, on: bool) -> StaffActor:
    return StaffActor(
        staff_id=f"staff-{role}-{'on' if on else 'off'}", role=role, approves_requests=on
    )


ACTORS: Final[Mapping[str, Actor | None]] = {
    "--": None,  # no one
    "cl": ClientActor(CLIENT),  # the owning client
    "ocl": ClientActor(OTHER_CLIENT),  # another client
    "cn": ClinicianActor(CLINICIAN),  # the owning clinician
    "ocn": ClinicianActor(OTHER_CLINICIAN),  # another clinician
    "SA+": _staff(Role.SYSTEM_ADMINISTRATOR, on=True),
    "SA-": _staff(Role.SYSTEM_ADMINISTRATOR, on=False),
    "AS+": _staff(Role.ASSISTANT_SYSTEM_ADMINISTRATOR, on=True),
    "AS-": _staff(Role.ASSISTANT_SYSTEM_ADMINISTRATOR, on=False),
    "CD+": _staff(Role.CLINICAL_DIRECTOR, on=True),
    "CD-": _staff(Role.CLINICAL_DIRECTOR, on=False),
    "SC+": _staff(Role.SCHEDULER, on=True),
    "SC-": _staff(Role.SCHEDULER, on=False),
    "BI+": _staff(Role.BILLER, on=True),
    "BI-": _staff(Role.BILLER, on=False),
    "FD+": _staff(Role.FRONT_DESK, on=True),
    "FD-": _staff(Role.FRONT_DESK, on=False),
    "sys": SystemActor(),
}
"""Every kind of actor. ``+``/``-``: the "approve appointment requests" checkbox on/off (for a
role outside the approver roles the checkbox is inactive and its value must not matter)."""

EXPECTED_TABLE: Final = """
operation             --  cl  ocl cn  ocn SA+ SA- AS+ AS- CD+ CD- SC+ SC- BI+ BI- FD+ FD- sys
my_appointments       PD  -   -   PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
client_slots          PD  -   -   PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
book                  PD  ok  ok  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
cancel                PD  ok  NF  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
schedule              PD  PD  PD  vw  PD  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw
approval_queue        PD  PD  PD  vw  vw  vw  PD  vw  PD  vw  PD  vw  PD  PD  PD  PD  PD  vw
queue_count           -   -   -   -   -   -   -   -   -   -   -   -   -   -   -   -   -   -
appointment_details   PD  -   NF  vw  PD  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw
explain_slots         PD  PD  PD  vw  PD  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  PD
approve               PD  PD  NF  ok  PD  ok  PD  ok  PD  ok  PD  ok  PD  PD  PD  PD  PD  PD
reject_pending        PD  PD  NF  ok  PD  ok  PD  ok  PD  ok  PD  ok  PD  PD  PD  PD  PD  PD
reject_booked         PD  PD  NF  ok  PD  ok  PD  ok  PD  ok  PD  ok  PD  PD  PD  PD  PD  PD
edit                  PD  PD  NF  ok  PD  ok  PD  ok  PD  ok  PD  ok  PD  PD  PD  PD  PD  PD
cancel_by_practice    PD  PD  NF  ok  PD  ok  PD  ok  PD  ok  PD  ok  PD  PD  PD  PD  PD  PD
book_for_client       PD  PD  PD  ok  PD  ok  PD  ok  PD  ok  PD  ok  PD  PD  PD  PD  PD  PD
perm_on_scheduler     PD  PD  PD  PD  PD  ok  ok  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
perm_on_biller        PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
perm_off_biller       PD  PD  PD  PD  PD  ok  ok  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD
dry_run               PD  PD  PD  PD  PD  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  PD
expire_due            -   PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  PD  -
failed_deliveries     PD  PD  PD  PD  PD  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  vw  PD
retry_delivery        PD  PD  PD  PD  PD  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  PD
"""
"""Rows: operations; columns: the actors above; cells: the codes in the module docstring."""

ERRORS: Final[Mapping[str, type[SelfschedError]]] = {"PD": PermissionDenied, "NF": NotFound}
ALLOWED: Final[Mapping[str, str | None]] = {"-": None, "ok": "ok", "vw": "viewed"}
"""Allowed codes and the outcome of the one audit entry they leave (``None``: no entry)."""


def _parse(table: str) -> dict[tuple[str, str], str]:
    header, *rows = [line.split() for line in table.strip().splitlines()]
    columns = header[1:]
    assert columns == list(ACTORS), "the table's columns must be exactly the actors, in order"
    cells: dict[tuple[str, str], str] = {}
    for operation, *codes in rows:
        assert len(codes) == len(columns), f"row {operation!r} has {len(codes)} cells"
        for actor, code in zip(columns, codes, strict=True):
            assert code in ERRORS or code in ALLOWED, f"unknown code {code!r}"
            cells[(operation, actor)] = code
    return cells


EXPECTED: Final = _parse(EXPECTED_TABLE)


# -- the world each cell runs in --------------------------------------------------------------


@attrs.define
class World:
    """A fresh scheduler over an in-memory store, with the doubles it talks to."""

    scheduler: Scheduler
    store: InMemoryStore
    mailer: RecordingMailer
    chart: RecordingChart


def _clinician(clinician_id: str) -> Clinician:
    return Clinician(
        id=clinician_id,
        name=f"Dr. {clinician_id}",
        zone="America/New_York",
        work_hours=WorkHours.weekdays("09:00-17:00", location="Main Street office"),
        service_code="90834",
        service_minutes=60,
    )


def _seeded(appointment_id: str, start: datetime, status: AppointmentStatus) -> Appointment:
    return Appointment(
        id=appointment_id,
        client_id=CLIENT,
        clinician_id=CLINICIAN,
        start=start,
        end=start + timedelta(hours=1),
        status=status,
        service_code="90834",
        location="Main Street office",
        origin=Origin.CLIENT,
        created_at=NOW - timedelta(days=1),
    )


def _given_up(item_id: str) -> OutboxItem:
    """The booked appointment's approval email, given up on after five failed attempts."""
    message = EmailMessage(
        message_id=f"<{BOOKED_ID}.approved.v2@selfsched.invalid>",
        kind=EmailKind.APPROVED,
        appointment_id=BOOKED_ID,
        client_id="client-1",
        to="one@example.org",
        subject="Your appointment request was approved",
        text="Wednesday, June 3, 2026 at 2:00 PM",
        html="<p>Wednesday, June 3, 2026 at 2:00 PM</p>",
    )
    return OutboxItem(
        id=item_id,
        payload=message,
        created_at=NOW - timedelta(days=1),
        attempts=5,
        failed=True,
        last_error="DeliveryError: connection refused",
    )


def make_world(*, seeded: bool = True) -> World:
    """The scheduler state every cell starts from.

    With *seeded*, the store holds one pending request and one (self-)booked appointment of
    ``client-1`` with ``clinician-1``, and the booked one's email given up on; without, it is
    empty.
    """
    store = InMemoryStore()
    mailer = RecordingMailer()
    chart = RecordingChart()
    directory = InMemoryDirectory.of(
        clinicians=[_clinician(CLINICIAN), _clinician(OTHER_CLINICIAN)],
        clients=[
            Client(id=CLIENT, name="Client One", email="one@example.org"),
            Client(id=OTHER_CLIENT, name="Client Two", email="two@example.org"),
        ],
    )
    practice = Practice(
        name="Matrix Clinic",
        zone="America/New_York",
        policy=ApprovalPolicy(mode=SchedulingMode.REQUIRES_APPROVAL),
    )
    scheduler = Scheduler(
        store=store,
        directory=directory,
        clock=FixedClock(NOW),
        ids=SequentialIds(),
        practice=practice,
        mailer=mailer,
        chart=chart,
    )
    if seeded:
        with store.unit_of_work() as uow:
            uow.add(_seeded(PENDING_ID, PENDING_START, AppointmentStatus.PENDING))
            uow.add(_seeded(BOOKED_ID, BOOKED_START, AppointmentStatus.BOOKED))
            uow.add_outbox(_given_up(FAILED_ID))
    return World(scheduler, store, mailer, chart)


# -- the operations -----------------------------------------------------------------------------

Operation = Callable[[Scheduler, Actor | None], object]

OPERATIONS: Final[Mapping[str, Operation]] = {
    "my_appointments": lambda s, a: s.my_appointments(a),
    "client_slots": lambda s, a: s.client_slots(a, CLINICIAN, first_day=DAY, last_day=DAY),
    "book": lambda s, a: s.book(a, CLINICIAN, BOOK_TARGET),
    "cancel": lambda s, a: s.cancel(a, BOOKED_ID, "I have a conflict at work."),
    "schedule": lambda s, a: s.schedule(a, CLINICIAN, first_day=DAY, last_day=DAY),
    "approval_queue": lambda s, a: s.approval_queue(a),
    "queue_count": lambda s, a: s.queue_count(a),
    "appointment_details": lambda s, a: s.appointment_details(a, BOOKED_ID),
    "explain_slots": lambda s, a: s.explain_slots(a, CLINICIAN, first_day=DAY, last_day=DAY),
    "approve": lambda s, a: s.approve(a, PENDING_ID),
    "reject_pending": lambda s, a: s.reject(a, PENDING_ID),
    "reject_booked": lambda s, a: s.reject(a, BOOKED_ID),
    "edit": lambda s, a: s.edit(a, BOOKED_ID, location="Telehealth"),
    "cancel_by_practice": lambda s, a: s.cancel_by_practice(a, BOOKED_ID),
    "book_for_client": lambda s, a: s.book_for_client(
        a, client_id=CLIENT, clinician_id=CLINICIAN, start=STAFF_BOOK_TARGET
    ),
    "perm_on_scheduler": lambda s, a: s.set_approval_permission(a, SCHEDULER_MEMBER, enabled=True),
    "perm_on_biller": lambda s, a: s.set_approval_permission(a, BILLER_MEMBER, enabled=True),
    "perm_off_biller": lambda s, a: s.set_approval_permission(a, BILLER_MEMBER, enabled=False),
    "dry_run": lambda s, a: s.dry_run(a),
    "expire_due": lambda s, a: s.expire_due(a),
    "failed_deliveries": lambda s, a: s.failed_deliveries(a),
    "retry_delivery": lambda s, a: s.retry_delivery(a, FAILED_ID),
}

CELLS: Final = sorted(EXPECTED)


@attrs.frozen
class Snapshot:
    """What a refusal must leave exactly as it was, and the audit record so far."""

    appointments: tuple[Appointment, ...]
    outbox: tuple[object, ...]
    sent: int
    notes: int
    audit: tuple[AuditEntry, ...]

    @classmethod
    def of(cls, world: World) -> Snapshot:
        """Read the world's state."""
        return cls(
            tuple(world.store.appointments()),
            tuple(world.store.outbox_items()),
            len(world.mailer.sent),
            len(world.chart.notes),
            world.store.audit_entries(),
        )


def run_cell(operation: str, actor_name: str) -> None:
    """Run one cell of the matrix on a fresh world; raise ``AssertionError`` on any mismatch."""
    code = EXPECTED[(operation, actor_name)]
    world = make_world()
    before = Snapshot.of(world)
    error: SelfschedError | None = None
    try:
        OPERATIONS[operation](world.scheduler, ACTORS[actor_name])
    except SelfschedError as exc:
        error = exc
    after = Snapshot.of(world)
    new = after.audit[len(before.audit) :]
    where = f"{operation} by {actor_name}"
    assert before.audit == after.audit[: len(before.audit)], f"{where}: audit record rewritten"
    if error is not None:
        assert code in ERRORS, f"{where}: expected {code}, got {error!r}"
        assert ERRORS[code] is type(error), f"{where}: expected {code}, got {error!r}"
        assert before.appointments == after.appointments, f"{where}: refusal changed appointments"
        assert before.outbox == after.outbox, f"{where}: refusal changed the outbox"
        assert (before.sent, before.notes) == (after.sent, after.notes), f"{where}: delivered"
        assert len(new) == 1, f"{where}: a refusal must leave one audit entry, got {new}"
        assert ("refused", type(error).__name__) == (new[0].outcome, new[0].error), where
    else:
        assert code in ALLOWED, f"{where}: expected {code}, but it was allowed"
        outcome = ALLOWED[code]
        assert ([] if outcome is None else [outcome]) == [e.outcome for e in new], where
    verify_chain(world.store.audit_entries())


# -- the tests ----------------------------------------------------------------------------------


def test_table_covers_every_operation_and_actor() -> None:
    """The written table has one row per operation and one column per actor, nothing else."""
    assert sorted(OPERATIONS) == sorted({op for op, _ in EXPECTED})
    assert len(EXPECTED) == len(OPERATIONS) * len(ACTORS)


@pytest.mark.parametrize(("operation", "actor_name"), CELLS, ids=[f"{o}-{a}" for o, a in CELLS])
def test_cell(operation: str, actor_name: str) -> None:
    """One cell: the outcome is the table's; a refusal changes nothing and is audited once."""
    run_cell(operation, actor_name)


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if EXPECTED[(op, "ocl")] == "NF"])
def test_another_clients_appointment_looks_missing(operation: str) -> None:
    """Asking about another client's appointment is indistinguishable from a missing id (§4).

    Same error type, same message, same attributes, and the same audit entry as asking about an
    id that does not exist at all.
    """

    def ask(world: World) -> tuple[NotFound, AuditEntry]:
        with pytest.raises(NotFound) as info:
            OPERATIONS[operation](world.scheduler, ACTORS["ocl"])
        return info.value, world.store.audit_entries()[-1]

    foreign, foreign_entry = ask(make_world(seeded=True))
    missing, missing_entry = ask(make_world(seeded=False))
    assert type(missing) is type(foreign)
    assert str(missing) == str(foreign)
    assert (missing.appointment_id, missing.what) == (foreign.appointment_id, foreign.what)
    assert missing_entry.content() == foreign_entry.content()


def test_missing_id_gives_not_found_to_the_owner_too() -> None:
    """The owning client asking about an id that does not exist gets the same kind of answer."""
    world = make_world()
    with pytest.raises(NotFound) as info:
        world.scheduler.cancel(ACTORS["cl"], MISSING_ID, "reason")
    assert str(NotFound(MISSING_ID)) == str(info.value)


@pytest.mark.parametrize(
    ("actor_name", "expected"),
    [
        ("cn", 1),
        ("ocn", 0),
        ("SA+", 1),
        ("SC+", 1),
        ("SC-", 0),
        ("BI+", 0),
        ("cl", 0),
        ("--", 0),
    ],
)
def test_queue_count_counts_what_the_actor_may_decide(actor_name: str, expected: int) -> None:
    """The badge counts the one pending request only for those who may decide it."""
    world = make_world()
    assert expected == world.scheduler.queue_count(ACTORS[actor_name])
