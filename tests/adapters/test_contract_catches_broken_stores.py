"""The store contract catches a broken store: each store below lacks one guarantee, and the
contract's tests about that guarantee fail on it, while the rest pass.

Each broken store is the in-memory store with one thing taken away:

- :class:`UnlockedStore` holds nothing across a unit: a check-then-write of one unit misses the
  write of a unit running beside it (every race and forced interleaving must fail);
- :class:`HalfKeptStore` keeps the appointment writes of a unit that raises (the all-or-nothing
  tests must fail);
- :class:`UnlockedOutboxStore` serialises everything but the outbox, so two dispatchers can both
  claim one item (the outbox claim tests must fail).

The contract runs in-process through pytest's ``pytester``, exactly as a user's subclass would
(the same class body for every store); the same run on the correct in-memory store passes whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import attrs
import pytest

from selfsched.adapters.memory import InMemoryStore, _Tables, _Unit
from selfsched.events import AuditEntry, OutboxItem
from selfsched.model import Appointment
from selfsched.ports import AppointmentStore
from selfsched.testing.contract import StoreContract

# -- stores broken in one way each ----------------------------------------------------------------


class UnlockedStore(InMemoryStore):
    """Broken: a unit takes no lock. It works on a copy of the tables taken when it opens and puts
    the copy back when it ends normally (so each unit is still all or nothing), but two units run
    side by side: each checks a copy without the other's writes, and the later one to end wipes
    out the earlier one's."""

    @contextmanager
    def unit_of_work(self) -> Iterator[_Unit]:
        """A unit on a copy of the tables, put back unless the block raises; no lock."""
        working = self._tables.copy()
        yield _Unit(working)
        self._tables = working


class HalfKeptStore(InMemoryStore):
    """Broken: a unit that raises keeps its appointment writes (they go straight to the store's
    table) while its keys, outbox items and audit entries are dropped. Units still hold the lock
    from start to end, as they should."""

    @contextmanager
    def unit_of_work(self) -> Iterator[_Unit]:
        """A unit under the lock whose appointment writes land at once."""
        with self._lock:
            working = self._tables.copy()
            working.appointments = self._tables.appointments
            yield _Unit(working)
            self._tables = working


class UnlockedOutboxStore:
    """Broken: outbox reads and writes happen outside the store's lock.

    A unit takes the lock the first time it touches appointments, idempotency keys or the audit
    record, and holds it to its end, as it should. The outbox it reads from a snapshot taken
    under a short lock of its own, held by no unit; its outbox writes are applied when it ends
    normally (so units are still all or nothing). Two dispatchers can therefore both read an item
    as unclaimed, and both claim and send it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tables = _Tables()
        """Appointments, keys and the audit record (its outbox is unused)."""
        self.outbox_lock = threading.Lock()
        self.outbox: dict[str, OutboxItem] = {}

    @contextmanager
    def unit_of_work(self) -> Iterator[_OutboxOutsideTheLock]:
        """A unit that locks lazily, and never for the outbox."""
        unit = _OutboxOutsideTheLock(self)
        try:
            yield unit
        except BaseException:
            unit.finish(keep=False)
            raise
        unit.finish(keep=True)


class _OutboxOutsideTheLock:
    """A unit of :class:`UnlockedOutboxStore`."""

    def __init__(self, store: UnlockedOutboxStore) -> None:
        self._store = store
        self._locked: _Unit | None = None
        self._tables: _Tables | None = None
        self._outbox_writes: dict[str, OutboxItem] = {}

    def _unit(self) -> _Unit:
        """The appointments, keys and audit record: locked from the first use to the end."""
        if self._locked is None:
            self._store.lock.acquire()
            self._tables = self._store.tables.copy()
            self._locked = _Unit(self._tables)
        return self._locked

    def _outbox(self) -> _Unit:
        """A unit over the outbox as it is now, with this unit's writes; no lock kept."""
        with self._store.outbox_lock:
            snapshot = {**self._store.outbox, **self._outbox_writes}
        return _Unit(_Tables(outbox=snapshot))

    def finish(self, *, keep: bool) -> None:
        """Apply the unit's writes if *keep*; release the lock if it was taken."""
        if keep:
            with self._store.outbox_lock:
                self._store.outbox.update(self._outbox_writes)
            if self._tables is not None:
                self._store.tables = self._tables
        if self._locked is not None:
            self._store.lock.release()

    def get(self, appointment_id: str) -> Appointment | None:
        return self._unit().get(appointment_id)

    def for_clinician(self, clinician_id: str, start: datetime, end: datetime) -> list[Appointment]:
        return self._unit().for_clinician(clinician_id, start, end)

    def for_client(self, client_id: str) -> list[Appointment]:
        return self._unit().for_client(client_id)

    def pending(self) -> list[Appointment]:
        return self._unit().pending()

    def open_after(self, instant: datetime) -> list[Appointment]:
        return self._unit().open_after(instant)

    def add(self, appointment: Appointment) -> None:
        self._unit().add(appointment)

    def replace(self, appointment: Appointment) -> None:
        self._unit().replace(appointment)

    def idempotent(self, client_id: str, key: str) -> tuple[str, str] | None:
        return self._unit().idempotent(client_id, key)

    def remember(self, client_id: str, key: str, fingerprint: str, appointment_id: str) -> None:
        self._unit().remember(client_id, key, fingerprint, appointment_id)

    def add_outbox(self, item: OutboxItem) -> None:
        self._outbox().add_outbox(item)  # a Conflict for a used id
        self._outbox_writes[item.id] = item

    def outbox(self) -> list[OutboxItem]:
        return self._outbox().outbox()

    def failed_outbox(self) -> list[OutboxItem]:
        return self._outbox().failed_outbox()

    def update_outbox(self, item: OutboxItem) -> None:
        self._outbox().update_outbox(item)  # the argument checks
        self._outbox_writes[item.id] = item

    def last_audit(self) -> AuditEntry | None:
        return self._unit().last_audit()

    def append_audit(self, entry: AuditEntry) -> None:
        self._unit().append_audit(entry)

    def audit(self) -> Sequence[AuditEntry]:
        return self._unit().audit()


STORES: dict[str, Callable[[], AppointmentStore]] = {
    "correct": InMemoryStore,
    "unlocked": UnlockedStore,
    "half-kept": HalfKeptStore,
    "unlocked-outbox": UnlockedOutboxStore,
}
"""Every store these tests run the contract on (typed: each is an AppointmentStore)."""

# -- the contract's tests, by what they are about -------------------------------------------------

CONTRACT_TESTS = frozenset(name for name in dir(StoreContract) if name.startswith("test_"))
ALL_OR_NOTHING = frozenset(
    {
        "test_a_unit_that_raises_keeps_nothing",
        "test_a_change_that_fails_after_its_write_keeps_nothing",
    }
)
FORCED_INTERLEAVINGS = frozenset(
    {
        "test_a_check_then_insert_waits_for_the_unit_before_it",
        "test_an_audit_append_waits_for_the_unit_before_it",
        "test_an_outbox_claim_waits_for_the_unit_before_it",
        "test_a_dispatcher_cannot_claim_inside_another_dispatchers_claim",
    }
)
"""Two units forced into each other's window: a store that lets them interleave always fails."""
FREE_RACES = frozenset(
    {
        "test_a_stampede_for_one_slot_books_it_once",
        "test_one_client_racing_with_two_clinicians",
        "test_two_deciders_racing_on_one_request",
        "test_a_stampede_of_dispatchers_sends_each_email_once",
        "test_concurrent_writers_extend_one_audit_chain",
    }
)
"""Threads released together: a store that lets units interleave fails them when the threads
happen to overlap (nearly always, not surely)."""
OUTBOX_CLAIMS = frozenset(
    {
        "test_an_outbox_claim_waits_for_the_unit_before_it",
        "test_a_dispatcher_cannot_claim_inside_another_dispatchers_claim",
    }
)
"""The forced interleavings of two outbox claims."""

CONTRACT_MODULE = """
import pytest
from selfsched.testing.contract import StoreContract, StoreFactory
from {module} import {name} as Store


class TestContract(StoreContract):
    @pytest.fixture
    def make_store(self) -> StoreFactory:
        store = Store()
        return lambda: store
"""
"""A user's test module, running the contract on one in-memory store."""


@attrs.frozen
class Run:
    """The contract's tests (node names, e.g. ``test_x[same instance]``) by outcome."""

    passed: frozenset[str]
    failed: frozenset[str]
    skipped: frozenset[str]

    def failed_tests(self) -> frozenset[str]:
        """The names of the tests with a failing node (parameters dropped)."""
        return frozenset(function_of(node) for node in self.failed)

    def nodes_of(self, tests: frozenset[str]) -> frozenset[str]:
        """Every node of *tests*, whatever its outcome."""
        return frozenset(
            node for node in self.passed | self.failed | self.skipped if function_of(node) in tests
        )


def function_of(node: str) -> str:
    """``test_x`` of the node ``test_x[same instance]``."""
    return node.split("[", 1)[0]


def run_contract(pytester: pytest.Pytester, store: Callable[[], AppointmentStore]) -> Run:
    """Run the whole contract on *store* (a class of this module or selfsched's), in-process."""
    pytester.makepyfile(
        test_contract=CONTRACT_MODULE.format(module=store.__module__, name=store.__qualname__)
    )
    recorder = pytester.inline_run("-p", "no:cacheprovider")
    passed, skipped, failed = recorder.listoutcomes()

    def nodes(reports: Sequence[pytest.TestReport | pytest.CollectReport]) -> frozenset[str]:
        return frozenset(report.nodeid.rsplit("::", 1)[-1] for report in reports)

    return Run(nodes(passed), nodes(failed), nodes(skipped))


# -- the tests ------------------------------------------------------------------------------------


def test_the_contract_passes_on_a_correct_store(pytester: pytest.Pytester) -> None:
    """The in-memory store passes every test of the contract, none skipped."""
    run = run_contract(pytester, STORES["correct"])
    assert (frozenset(), frozenset()) == (run.failed, run.skipped)
    assert CONTRACT_TESTS == frozenset(function_of(node) for node in run.passed)


def test_a_store_that_holds_nothing_across_a_unit_fails_the_races(
    pytester: pytest.Pytester,
) -> None:
    """Without a lock held across the unit, every forced interleaving fails (each node), and
    nothing but the races does."""
    run = run_contract(pytester, STORES["unlocked"])
    assert run.nodes_of(FORCED_INTERLEAVINGS) <= run.failed
    assert run.failed_tests() <= FORCED_INTERLEAVINGS | FREE_RACES
    assert frozenset() == run.skipped


def test_a_store_that_keeps_half_a_failed_unit_fails_all_or_nothing(
    pytester: pytest.Pytester,
) -> None:
    """Keeping the appointment writes of a unit that raised fails exactly the all-or-nothing
    tests."""
    run = run_contract(pytester, STORES["half-kept"])
    assert run.nodes_of(ALL_OR_NOTHING) == run.failed
    assert frozenset() == run.skipped


def test_a_store_whose_outbox_claims_can_interleave_fails_the_claim_tests(
    pytester: pytest.Pytester,
) -> None:
    """Reading and claiming the outbox outside the lock fails the forced outbox claims (each
    node), and nothing but the outbox races does."""
    run = run_contract(pytester, STORES["unlocked-outbox"])
    assert run.nodes_of(OUTBOX_CLAIMS) <= run.failed
    assert run.failed_tests() <= OUTBOX_CLAIMS | {
        "test_a_stampede_of_dispatchers_sends_each_email_once"
    }
    assert frozenset() == run.skipped


def test_a_missing_make_store_says_what_to_define(pytester: pytest.Pytester) -> None:
    """A subclass without ``make_store`` fails every test, saying which fixture to define."""
    pytester.makepyfile(
        test_contract="""
        from selfsched.testing.contract import StoreContract

        class TestForgetful(StoreContract):
            pass
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "a_new_store_is_empty")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*TestForgetful runs the selfsched store contract but defines no*"]
    )
    result.stdout.fnmatch_lines(["*def make_store(self) -> StoreFactory:*"])


def test_a_make_store_that_is_not_a_fixture_is_refused(pytester: pytest.Pytester) -> None:
    """A ``make_store`` written as a plain method stops the module at collection, saying so."""
    pytester.makepyfile(
        test_contract="""
        from selfsched.adapters.memory import InMemoryStore
        from selfsched.testing.contract import StoreContract

        class TestUndecorated(StoreContract):
            def make_store(self):
                return InMemoryStore
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*TestUndecorated.make_store must be a pytest fixture*"])
