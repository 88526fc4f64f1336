"""Show that the tests can fail: each seeded bug, applied alone, is caught by the real suites.

Each seed is a ``monkeypatch`` of the library (undone when its test ends) that plants one bug:

1. drop the approver permission check (any staff member may decide requests);
2. drop the ownership check (a client may act on another client's appointment);
3. treat intervals as closed (back-to-back appointments conflict);
4. let ``PENDING`` not hold its slot while the policy says it should;
5. email the clinician when a client cancels.

The checks run against each seed are the unchanged checks of the authorization matrix
(:mod:`test_authorization_matrix`, every cell) and of the state machine
(:mod:`stateful.test_scheduler_machine`, a fixed, derandomized budget); nothing here checks for a
seed specifically. Each test first shows the same check passing without the seed.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import repeat

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from selfsched import (
    Appointment,
    EmailKind,
    EmailMessage,
    OutboxItem,
    Scheduler,
    StaffActor,
    permissions,
)
from selfsched import service as service_module
from selfsched import slots as slots_module
from selfsched.errors import NotFound
from selfsched.model import AppointmentStatus, ApprovalPolicy
from selfsched.permissions import Actor
from selfsched.ports import UnitOfWork
from selfsched.slots import Reason
from stateful.test_scheduler_machine import SchedulerMachine
from test_authorization_matrix import CELLS, run_cell

# -- the seeded bugs ----------------------------------------------------------------------------


def drop_approver_permission_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any staff member may approve and reject, whatever the role and the checkbox."""
    original = permissions.can_decide

    def can_decide(actor: Actor | None, appointment: Appointment) -> bool:
        return isinstance(actor, StaffActor) or original(actor, appointment)

    monkeypatch.setattr(service_module, "can_decide", can_decide)


def drop_ownership_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client's appointment lookup no longer checks whose appointment it is."""

    def owned(self: Scheduler, uow: UnitOfWork, actor: object, appointment_id: str) -> Appointment:
        appointment = uow.get(appointment_id)
        if appointment is None:
            raise NotFound(appointment_id)
        return appointment

    monkeypatch.setattr(Scheduler, "_owned", owned)


def closed_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both overlap sweeps of the slot calculator treat intervals as closed: touching counts.

    ``_slices`` finds what the client view blocks, ``_blocked`` what ``check_slot`` and the
    staff explain view refuse; each compares with ``<=`` where half-open needs ``<``.
    """

    def slices(
        starts: list[datetime],
        ends: list[datetime],
        busy_starts: list[datetime],
        busy_ends: list[datetime],
    ) -> tuple[Iterator[int], Iterator[int]]:
        # A slot ending exactly at a busy start, or starting exactly at its end, now counts.
        return (
            map(bisect.bisect_left, repeat(ends), busy_starts),
            map(bisect.bisect_right, repeat(starts), busy_ends),
        )

    def blocked(
        candidates: list[int], length: int, busy: tuple[list[int], list[int]]
    ) -> list[bool]:
        busy_starts, busy_ends = busy
        j = 0
        result = []
        for s in candidates:
            while j < len(busy_starts) and busy_ends[j] < s:
                j += 1
            result.append(j < len(busy_starts) and busy_starts[j] <= s + length)
        return result

    monkeypatch.setattr(slots_module, "_slices", slices)
    monkeypatch.setattr(slots_module, "_blocked", blocked)


def pending_never_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The slot calculator ignores ``pending_holds_slot``: a request never blocks its slot."""

    def holding(status: AppointmentStatus, policy: ApprovalPolicy) -> Reason | None:
        return Reason.BOOKED if status is AppointmentStatus.BOOKED else None

    monkeypatch.setattr(slots_module, "_holding", holding)


def email_clinician_on_client_cancel(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client cancellation also queues an email to the clinician (SPEC: no email)."""
    original = Scheduler.cancel

    def cancel(
        self: Scheduler, actor: Actor | None, appointment_id: str, reason: str
    ) -> Appointment:
        cancelled = original(self, actor, appointment_id, reason)
        message = EmailMessage(
            message_id=f"<{cancelled.id}.cancelled@clinic.invalid>",
            kind=EmailKind.CONFIRMED,
            appointment_id=cancelled.id,
            client_id="client-1",
            to=f"{cancelled.clinician_id}@clinic.invalid",
            subject="A client cancelled",
            text="A client cancelled an appointment.",
            html="<p>A client cancelled an appointment.</p>",
        )
        now: datetime = self.clock.now()
        with self.store.unit_of_work() as uow:
            uow.add_outbox(
                OutboxItem(id=self.ids.new_id("outbox"), payload=message, created_at=now)
            )
        self.dispatch()
        return cancelled

    monkeypatch.setattr(Scheduler, "cancel", cancel)


Seed = Callable[[pytest.MonkeyPatch], None]
SEEDS: dict[str, Seed] = {
    "approver permission check dropped": drop_approver_permission_check,
    "ownership check dropped": drop_ownership_check,
    "intervals closed": closed_intervals,
    "pending does not hold its slot": pending_never_holds,
    "clinician emailed on client cancellation": email_clinician_on_client_cancel,
}

# -- the authorization matrix ---------------------------------------------------------------------

MATRIX_CATCHES: dict[str, set[tuple[str, str]]] = {
    "approver permission check dropped": {
        (operation, actor)
        for operation in ("approve", "reject_pending", "reject_booked")
        for actor in ("SA-", "AS-", "CD-", "SC-", "BI+", "BI-", "FD+", "FD-")
    },
    "ownership check dropped": {
        (operation, "ocl")
        for operation in (
            "cancel",
            "appointment_details",
            "approve",
            "reject_pending",
            "reject_booked",
            "edit",
            "cancel_by_practice",
        )
    },
    "intervals closed": {("book", "cl"), ("book", "ocl")},
}
"""The cells that must fail under each seed the matrix can see. (The matrix's one world has no
request overlapping a booking and sends no email on the cell it cancels with, so seeds 4 and 5
are the state machine's to catch.)"""


def failing_cells() -> set[tuple[str, str]]:
    """Every matrix cell whose check fails in the library as it is now."""
    failing = set()
    for operation, actor in CELLS:
        try:
            run_cell(operation, actor)
        except AssertionError:
            failing.add((operation, actor))
    return failing


def test_every_matrix_cell_passes_without_a_seed() -> None:
    """The control: with no seed applied, no cell of the matrix fails."""
    assert set() == failing_cells()


@pytest.mark.parametrize("seed", sorted(MATRIX_CATCHES))
def test_the_authorization_matrix_catches(seed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the seed, the matrix cells it breaks fail (and only cells it can break)."""
    SEEDS[seed](monkeypatch)
    failing = failing_cells()
    assert MATRIX_CATCHES[seed] == failing


# -- the state machine ----------------------------------------------------------------------------

MACHINE_BUDGET = settings(
    max_examples=200,
    stateful_step_count=50,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)
"""A fixed budget, derandomized so that the outcome does not depend on the run; no shrinking."""

MACHINE_CATCHES: dict[str, set[str]] = {
    "approver permission check dropped": {"_call"},
    "ownership check dropped": {"_call"},
    "intervals closed": {"_call", "view_slots"},
    "pending does not hold its slot": {"_call", "view_slots", "no_double_booking"},
    "clinician emailed on client cancellation": {"_written", "side_effects_add_up"},
}
"""Which of the machine's checks may report each seed: the predicted outcome of a call
(``_call``), the slots a client sees (``view_slots``), the no-double-booking invariant, the
side effects of a successful call (``_written``) and the running totals of emails and notes."""

CHECKS = {
    "_call",
    "_written",
    "_looks_missing",
    "view_slots",
    "my_appointments",
    "details",
    "queue",
    "same_appointments",
    "no_double_booking",
    "transitions_in_table",
    "side_effects_add_up",
    "teardown",
}


def test_the_state_machine_passes_without_a_seed() -> None:
    """The control: the same budget finds nothing wrong with the library as it is."""
    run_state_machine_as_test(SchedulerMachine, settings=MACHINE_BUDGET)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_the_state_machine_catches(seed: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the seed, the state machine fails, and it is one of the expected checks that fails."""
    SEEDS[seed](monkeypatch)
    with pytest.raises(AssertionError) as info:
        run_state_machine_as_test(SchedulerMachine, settings=MACHINE_BUDGET)
    caught_by = {entry.name for entry in info.traceback} & CHECKS
    assert caught_by & MACHINE_CATCHES[seed], f"caught by {caught_by}: {info.value}"
