"""The store contract: what every :class:`~selfsched.ports.AppointmentStore` must do, as tests.

Subclass :class:`StoreContract` in one of your test modules and give it a ``make_store``
fixture; pytest then runs every test of the contract against your store::

    import pytest
    from selfsched.testing.contract import StoreContract, StoreFactory

    class TestMyStore(StoreContract):
        @pytest.fixture
        def make_store(self, my_empty_database) -> StoreFactory:
            return lambda: MyStore(my_empty_database)

The tests cover every documented behaviour of every :class:`~selfsched.ports.UnitOfWork` method,
the unit itself (kept whole or discarded whole), and races between units: a stampede of clients
booking one slot through a real :class:`~selfsched.Scheduler`, forced interleavings of two units
(one unit checking while the other sits between its check and its write), two dispatchers
claiming one outbox, and many writers extending the audit chain. Several tests run threads, so
the store must be safe to share between threads; the cross-instance races open further
instances over the same database, as other backend processes would.

Needs pytest and Hypothesis (the ``[testing]`` extra). Importing :mod:`selfsched.testing` alone
imports neither.

For pytest's detailed assertion messages on a failure, have pytest rewrite this module's asserts
as it does your tests': call ``pytest.register_assert_rewrite("selfsched.testing.contract")``
in your ``conftest.py``, before anything imports it.
"""

# This module is a test suite: it asserts, and compares as `expected == actual` like the
# project's tests.
# ruff: noqa: S101, SIM300

from __future__ import annotations

import functools
import inspect
import itertools
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfsched import strategies
from selfsched.errors import Conflict, NotFound, SlotUnavailable
from selfsched.events import AuditEntry, ChartNote, EmailMessage, chain, verify_chain
from selfsched.model import Appointment, AppointmentStatus, Origin, SchedulingMode
from selfsched.outbox import DispatchReport
from selfsched.permissions import ClientActor, ClinicianActor
from selfsched.ports import AppointmentStore, UnitOfWork
from selfsched.testing import RecordingMailer, SequentialIds
from selfsched.testing._builders import (
    HOUR,
    NEW_YORK,
    NOW,
    SLOT,
    PausingStore,
    RaceTimeout,
    World,
    appointment,
    at,
    client_ids,
    draft,
    email_item,
    make_world,
    note_item,
    race,
)

__all__ = ["StoreContract", "StoreFactory"]

StoreFactory = Callable[[], AppointmentStore]
"""What ``make_store`` returns: each call, a store over the test's one database."""

_R = TypeVar("_R")

_MISSING_FACTORY = (
    "{name} runs the selfsched store contract but defines no make_store fixture. Add one to "
    "the class:\n\n"
    "    @pytest.fixture\n"
    "    def make_store(self) -> StoreFactory:\n"
    "        ...  # set up a fresh, empty database for this test\n"
    "        return lambda: MyStore(...)\n\n"
    "It returns a callable taking no arguments; each call returns a store over that same "
    "database (the first is the store under test, the others play other backend processes). "
    "A store that cannot be shared between instances (in memory) returns one instance each time."
)

_SAFE_CHARACTERS = st.characters(codec="utf-8", exclude_characters="\x00")
"""What a database's text column holds: any Unicode but NUL (no SQL text type stores it)."""
_SAFE_TEXT = st.text(_SAFE_CHARACTERS, max_size=30)
_SAFE_IDS = st.text(_SAFE_CHARACTERS, min_size=1, max_size=30).filter(str.strip)


@st.composite
def _any_appointment(draw: st.DrawFn, number: int) -> Appointment:
    """Any appointment: every status, zone and optional field, ids made unique by *number*."""
    zone = draw(strategies.zones())
    client_id = f"{number}-{draw(_SAFE_IDS)}"
    clinician_id = f"{number}-{draw(_SAFE_IDS)}"
    drawn = draw(strategies.appointments(zone, clinician_id=clinician_id, client_ids=(client_id,)))
    optional_text = st.none() | _SAFE_TEXT
    optional_instant = st.none() | strategies.aware_datetimes(zone)
    return attrs.evolve(
        drawn,
        id=f"{number}-{draw(_SAFE_IDS)}",
        service_code=draw(optional_text),
        code_modifier=draw(optional_text),
        location=draw(optional_text),
        created_at=draw(optional_instant),
        decided_at=draw(optional_instant),
        decided_by=draw(optional_text),
        cancelled_at=draw(optional_instant),
        late_cancellation=draw(st.booleans()),
        version=draw(st.integers(0, 2**31 - 1)),
    )


class _Boom(Exception):
    """The failure a test raises inside a unit of work."""


class _FailingOnOutboxIds(SequentialIds):
    """Ids, except that drawing one for an outbox item fails (after the booking is written)."""

    def new_id(self, kind: str) -> str:
        """The next id of *kind*; :class:`_Boom` for an outbox item."""
        if kind == "outbox":
            raise _Boom
        return super().new_id(kind)


def _is_plain_function(value: object) -> bool:
    """A function not turned into a pytest fixture (pytest 8.0-8.3 mark the function itself)."""
    return inspect.isfunction(value) and not hasattr(value, "_pytestfixturefunction")


class StoreContract:
    """The tests every :class:`~selfsched.ports.AppointmentStore` must pass; subclass to run them.

    Define a ``make_store`` fixture in the subclass. It returns a callable taking no arguments;
    each call returns a store over one fresh, empty database set up for the test. The first call
    is the store under test (the ``store`` fixture); further calls are other instances over the
    same data, as other backend processes would open. A store that cannot be shared between
    instances (one in memory) returns the same instance each time.

    The class attributes below are knobs with documented defaults; override them in the
    subclass (e.g. ``grace_seconds = 0.5`` for a store on a slow network).
    """

    wait_seconds: ClassVar[float] = 10.0
    """How long any step of a race may take before the test fails: a unit waiting for the store,
    a thread that never finishes. Raise it for a store whose units may wait long for a lock."""
    grace_seconds: ClassVar[float] = 0.25
    """How long a forced interleaving keeps the first unit open between its read and its write,
    for the second unit to slip in (a store that serialises its units spends this much per
    interleaving test: 7 of them). Longer catches a slow broken store more surely."""
    racers: ClassVar[int] = 8
    """Clients in the booking stampede (one thread and one store instance each), and dispatchers
    in the dispatch stampede."""
    calendar_delay: ClassVar[float] = 0.02
    """Seconds each calendar look-up takes in the scheduler races: it widens the window between
    a booking's check and its write. A serialising store spends about ``racers`` times this per
    stampede."""
    audit_writers: ClassVar[int] = 4
    """Threads (each on its own store instance) extending the audit chain at once."""
    audit_writes: ClassVar[int] = 5
    """Entries each of the :attr:`audit_writers` appends, one unit each."""
    audit_delay: ClassVar[float] = 0.005
    """Seconds each audit writer's unit spends between reading the last entry and appending its
    own, as a unit doing real work would: a serialising store spends ``audit_writers *
    audit_writes`` times this."""
    round_trip_examples: ClassVar[int] = 25
    """Appointments, and outbox payloads, Hypothesis draws for each round-trip property (each
    one: two units)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:  # noqa: ANN401  (passed on as given)
        super().__init_subclass__(**kwargs)
        factory = cls.__dict__.get("make_store")
        if _is_plain_function(factory):
            raise TypeError(
                f"{cls.__name__}.make_store must be a pytest fixture: put @pytest.fixture above "
                f"it. It returns a callable taking no arguments that makes a store over the "
                f"test's database."
            )

    # -- fixtures ---------------------------------------------------------------------------------

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        """Replace in the subclass: a factory of stores over one fresh, empty database."""
        pytest.fail(_MISSING_FACTORY.format(name=type(self).__name__), pytrace=False)

    @pytest.fixture
    def store(self, make_store: StoreFactory) -> AppointmentStore:
        """The store under test: the first that ``make_store`` makes."""
        if not callable(make_store):
            pytest.fail(
                f"make_store must return a callable that makes a store, not {make_store!r}. "
                f"Return e.g. `lambda: MyStore(...)`.",
                pytrace=False,
            )
        made = make_store()
        if not callable(getattr(made, "unit_of_work", None)):
            pytest.fail(
                f"make_store() returned {made!r}, which has no unit_of_work(): not an "
                f"AppointmentStore.",
                pytrace=False,
            )
        return made

    # -- helpers ----------------------------------------------------------------------------------

    def _race(self, *calls: Callable[[], object]) -> list[object]:
        """Each call's result or exception, the calls released together in threads."""
        try:
            return race(*calls, timeout=self.wait_seconds)
        except RaceTimeout:
            pytest.fail(
                f"A racing call did not finish within wait_seconds={self.wait_seconds} s: a "
                f"unit that never got the store, or a deadlock between units.",
                pytrace=False,
            )

    def _interleave(
        self,
        first: AppointmentStore,
        second: AppointmentStore,
        read: Callable[[UnitOfWork], _R],
        write: Callable[[UnitOfWork, _R, str], None],
    ) -> tuple[_R, _R]:
        """Two units that each *read* and then *write*, the second forced into the first's window.

        The first unit (on *first*) reads and then stays open; only then does the second (on
        *second*) start, read and write. The first writes once the second has finished, or after
        :attr:`grace_seconds`. A store that serialises its units keeps the second waiting until
        the first has committed, so the second reads what the first wrote. Both units must end
        normally. *write* is told ``"first"`` or ``"second"``. Returns what each unit read.
        """
        first_read = threading.Event()
        second_done = threading.Event()
        reads: dict[str, _R] = {}

        def first_unit() -> None:
            try:
                with first.unit_of_work() as uow:
                    reads["first"] = seen = read(uow)
                    first_read.set()
                    second_done.wait(self.grace_seconds)
                    write(uow, seen, "first")
            finally:
                first_read.set()

        def second_unit() -> None:
            try:
                if not first_read.wait(self.wait_seconds):
                    raise RaceTimeout("the first unit never read")
                with second.unit_of_work() as uow:
                    reads["second"] = seen = read(uow)
                    write(uow, seen, "second")
            finally:
                second_done.set()

        outcomes = self._race(first_unit, second_unit)
        failures = [
            (name, outcome)
            for name, outcome in zip(("first", "second"), outcomes, strict=True)
            if isinstance(outcome, BaseException)
        ]
        if failures:
            name, error = failures[0]
            raise AssertionError(f"The {name} unit failed: {error!r}") from error
        return reads["first"], reads["second"]

    @staticmethod
    def _instance(
        store: AppointmentStore, make_store: StoreFactory, which: str
    ) -> AppointmentStore:
        """*store* itself, or another instance over its database."""
        return store if which == "same instance" else make_store()

    @staticmethod
    def _approve_three(world: World) -> list[str]:
        """Three requests of client-1 with Dr. Ada, approved: the Message-IDs of their emails."""
        client, clinician = ClientActor("client-1"), ClinicianActor("dr-a")
        for hours in (0, 2, 4):
            request = world.scheduler.book(client, "dr-a", SLOT + timedelta(hours=hours))
            world.scheduler.approve(clinician, request.id)
        with world.scheduler.store.unit_of_work() as uow:
            return [
                i.payload.message_id for i in uow.outbox() if isinstance(i.payload, EmailMessage)
            ]

    # -- the unit of work -------------------------------------------------------------------------

    def test_a_new_store_is_empty(self, store: AppointmentStore) -> None:
        """A new store holds no appointment, key, outbox item or audit entry."""
        with store.unit_of_work() as uow:
            assert uow.get("a-1") is None
            assert [] == uow.for_clinician("dr-a", NOW, NOW + timedelta(days=365))
            assert [] == uow.for_client("client-1")
            assert [] == uow.pending()
            assert [] == uow.open_after(NOW)
            assert uow.idempotent("client-1", "key") is None
            assert [] == uow.outbox()
            assert [] == uow.failed_outbox()
            assert uow.last_audit() is None
            assert () == tuple(uow.audit())

    def test_a_unit_that_ends_normally_is_kept(self, store: AppointmentStore) -> None:
        """Everything a unit wrote is there in the next unit, every field as it was given."""
        full = appointment(
            status=AppointmentStatus.MISSED,
            start=datetime(2026, 3, 4, 5, 0, tzinfo=NEW_YORK),
            service_code="90834",
            code_modifier="95",
            location="Main office — room 2",
            origin=Origin.STAFF,
            created_at=datetime(2026, 3, 1, 8, 15, 30, 123456, tzinfo=NEW_YORK),
            decided_at=NOW,
            decided_by="clinician:dr-a",
            cancelled_at=NOW + timedelta(microseconds=1),
            late_cancellation=True,
            version=3,
        )
        with store.unit_of_work() as uow:
            uow.add(full)
            assert full == uow.get(full.id)  # a unit reads its own writes
            uow.remember("client-1", "key", "fingerprint", full.id)
            uow.add_outbox(email_item("o-1"))
            uow.append_audit(chain(None, draft("request")))
        with store.unit_of_work() as uow:
            assert full == uow.get(full.id)
            assert ("fingerprint", full.id) == uow.idempotent("client-1", "key")
            assert [email_item("o-1")] == uow.outbox()
            assert [chain(None, draft("request"))] == list(uow.audit())

    def test_a_unit_that_raises_keeps_nothing(self, store: AppointmentStore) -> None:
        """A unit that raises leaves nothing behind: appointment, key, outbox or audit entry."""
        with store.unit_of_work() as uow:
            uow.add(appointment("kept"))

        with pytest.raises(_Boom), store.unit_of_work() as uow:  # noqa: PT012  (the whole unit)
            uow.add(appointment("a-2", start=SLOT + 2 * HOUR))
            uow.replace(appointment("kept", status=AppointmentStatus.BOOKED, version=2))
            uow.remember("client-1", "key", "fingerprint", "a-2")
            uow.add_outbox(email_item("o-1"))
            uow.append_audit(chain(uow.last_audit(), draft("request")))
            raise _Boom

        with store.unit_of_work() as uow:
            assert uow.get("a-2") is None
            assert appointment("kept") == uow.get("kept")
            assert uow.idempotent("client-1", "key") is None
            assert [] == uow.outbox()
            assert () == tuple(uow.audit())

    def test_a_change_that_fails_after_its_write_keeps_nothing(
        self, store: AppointmentStore
    ) -> None:
        """A Scheduler booking whose unit fails after writing the appointment (drawing an id for
        the confirmation email) leaves no appointment, no outbox item and no audit entry."""
        world = make_world(
            store, mode=SchedulingMode.INSTANT, send_confirmations=True, ids=_FailingOnOutboxIds()
        )
        with pytest.raises(_Boom):
            world.scheduler.book(ClientActor("client-1"), "dr-a", SLOT)
        with store.unit_of_work() as uow:
            assert [] == uow.for_client("client-1")
            assert [] == uow.outbox()
            assert () == tuple(uow.audit())

    def test_a_refused_write_leaves_the_unit_usable(self, store: AppointmentStore) -> None:
        """A Conflict raised inside a unit and handled there does not spoil the unit's writes."""
        with store.unit_of_work() as uow:
            uow.add(appointment("a-1"))
        with store.unit_of_work() as uow:
            with pytest.raises(Conflict):
                uow.add(appointment("a-1", start=SLOT + HOUR))
            uow.add(appointment("a-2", start=SLOT + 2 * HOUR))
        with store.unit_of_work() as uow:
            assert [appointment("a-1"), appointment("a-2", start=SLOT + 2 * HOUR)] == (
                uow.for_client("client-1")
            )

    # -- appointments -----------------------------------------------------------------------------

    def test_add_refuses_an_existing_id(self, store: AppointmentStore) -> None:
        """``add`` raises Conflict when the id exists, whatever else differs; the first stays."""
        with store.unit_of_work() as uow:
            uow.add(appointment("a-1"))
        with pytest.raises(Conflict), store.unit_of_work() as uow:
            uow.add(appointment("a-1", clinician_id="dr-b", start=SLOT + 5 * HOUR))
        with store.unit_of_work() as uow:
            assert appointment("a-1") == uow.get("a-1")

    def test_replace_stores_the_next_version(self, store: AppointmentStore) -> None:
        """``replace`` with version = stored + 1 stores the new value, again and again."""
        first = appointment()
        with store.unit_of_work() as uow:
            uow.add(first)
        second = attrs.evolve(first, status=AppointmentStatus.BOOKED, location="Room 2", version=2)
        with store.unit_of_work() as uow:
            uow.replace(second)
        third = attrs.evolve(second, status=AppointmentStatus.CANCELLED, version=3)
        with store.unit_of_work() as uow:
            uow.replace(third)
        with store.unit_of_work() as uow:
            assert third == uow.get(first.id)

    @pytest.mark.parametrize("version", [1, 2, 4, 7])
    def test_replace_refuses_a_stale_version(self, store: AppointmentStore, version: int) -> None:
        """``replace`` raises Conflict unless the stored version is one less; nothing changes."""
        with store.unit_of_work() as uow:
            uow.add(appointment(version=1))
            uow.replace(appointment(version=2, status=AppointmentStatus.BOOKED))
        with pytest.raises(Conflict), store.unit_of_work() as uow:
            uow.replace(appointment(version=version, status=AppointmentStatus.REJECTED))
        with store.unit_of_work() as uow:
            assert appointment(version=2, status=AppointmentStatus.BOOKED) == uow.get("a-1")

    def test_replace_of_a_missing_appointment_is_not_found(self, store: AppointmentStore) -> None:
        """``replace`` raises NotFound (naming the id) when there is nothing to replace."""
        with pytest.raises(NotFound) as caught, store.unit_of_work() as uow:
            uow.replace(appointment("ghost", version=2))
        assert "ghost" == caught.value.appointment_id
        with store.unit_of_work() as uow:
            assert uow.get("ghost") is None

    def test_for_clinician_is_half_open(self, store: AppointmentStore) -> None:
        """``for_clinician``: the clinician's appointments, any status, sharing an instant with
        ``[start, end)``; bounds in any zone."""
        nine, ten, eleven = at(9), at(10), at(11)
        with store.unit_of_work() as uow:
            uow.add(appointment("nine", start=nine, minutes=60))
            uow.add(appointment("ten", start=ten, minutes=60, status=AppointmentStatus.CANCELLED))
            uow.add(
                appointment("eleven", start=eleven, minutes=60, status=AppointmentStatus.BOOKED)
            )
            uow.add(appointment("other", start=ten, minutes=60, clinician_id="dr-b"))
        with store.unit_of_work() as uow:

            def ids(start: datetime, end: datetime) -> list[str]:
                return [a.id for a in uow.for_clinician("dr-a", start, end)]

            assert ["ten"] == ids(ten, eleven)
            assert ["nine", "ten"] == ids(nine + timedelta(minutes=30), eleven)
            assert ["ten"] == ids(eleven - timedelta(microseconds=1), eleven)
            assert ["eleven"] == ids(eleven, eleven + timedelta(microseconds=1))
            assert [] == ids(nine - HOUR, nine)
            assert [] == ids(at(12), at(13))
            assert ["nine", "ten", "eleven"] == ids(at(0), at(23))
            assert ["ten"] == ids(ten.astimezone(NEW_YORK), eleven.astimezone(NEW_YORK))

    def test_lists_are_ordered_by_start_then_id(self, store: AppointmentStore) -> None:
        """Lists come soonest first; equal starts by id, compared as plain code points."""
        with store.unit_of_work() as uow:
            for appointment_id in ("b", "a-10", "B", "a-9", "_x"):
                uow.add(appointment(appointment_id, clinician_id=f"dr-{appointment_id}"))
            uow.add(appointment("early", start=SLOT - HOUR, clinician_id="dr-early"))
        expected = ["early", "B", "_x", "a-10", "a-9", "b"]
        with store.unit_of_work() as uow:
            assert expected == [a.id for a in uow.for_client("client-1")]
            assert expected == [a.id for a in uow.pending()]
            assert expected == [a.id for a in uow.open_after(NOW)]

    def test_for_client_spans_clinicians_and_statuses(self, store: AppointmentStore) -> None:
        """``for_client`` returns every appointment of the client, any status, any clinician."""
        with store.unit_of_work() as uow:
            uow.add(appointment("late", start=at(15), clinician_id="dr-b"))
            uow.add(appointment("early", start=at(9), status=AppointmentStatus.REJECTED))
            uow.add(appointment("someone-else", start=at(11), client_id="client-2"))
        with store.unit_of_work() as uow:
            assert ["early", "late"] == [a.id for a in uow.for_client("client-1")]
            assert ["someone-else"] == [a.id for a in uow.for_client("client-2")]
            assert [] == uow.for_client("client-3")

    def test_pending_lists_only_pending_requests(self, store: AppointmentStore) -> None:
        """``pending`` returns every PENDING request, past or future, any clinician, soonest
        first."""
        with store.unit_of_work() as uow:
            for index, status in enumerate(AppointmentStatus):
                uow.add(appointment(f"s-{status}", start=at(9 + index), status=status))
            uow.add(appointment("past", start=NOW - timedelta(days=1)))
            uow.add(appointment("other-clinician", start=at(8), clinician_id="dr-b"))
        with store.unit_of_work() as uow:
            assert ["past", "other-clinician", "s-pending"] == [a.id for a in uow.pending()]

    def test_open_after_lists_open_appointments_starting_strictly_later(
        self, store: AppointmentStore
    ) -> None:
        """``open_after`` returns PENDING and BOOKED appointments starting after the instant."""
        with store.unit_of_work() as uow:
            uow.add(appointment("at-instant", start=at(9), status=AppointmentStatus.BOOKED))
            uow.add(appointment("booked", start=at(11), status=AppointmentStatus.BOOKED))
            uow.add(appointment("pending", start=at(10)))
            uow.add(appointment("missed", start=at(12), status=AppointmentStatus.MISSED))
            uow.add(appointment("expired", start=at(13), status=AppointmentStatus.EXPIRED))
            uow.add(appointment("before", start=at(8)))
        with store.unit_of_work() as uow:
            assert ["pending", "booked"] == [a.id for a in uow.open_after(at(9))]
            in_new_york = at(9).astimezone(NEW_YORK)
            assert ["pending", "booked"] == [a.id for a in uow.open_after(in_new_york)]
            assert [] == uow.open_after(at(11))

    def _round_trip_settings(self) -> settings:
        """Hypothesis settings of the round-trip properties: ``round_trip_examples`` examples,
        no deadline (a store's unit may be slow)."""
        return settings(
            max_examples=self.round_trip_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )

    def test_any_appointment_round_trips(self, store: AppointmentStore) -> None:
        """Any appointment (every status, zone, optional field and id Hypothesis draws) comes
        back from ``get``, ``for_client`` and ``for_clinician`` with every field equal."""
        numbers = itertools.count(1)

        @self._round_trip_settings()
        @given(data=st.data())
        def round_trip(data: st.DataObject) -> None:
            drawn = data.draw(_any_appointment(next(numbers)), label="appointment")
            with store.unit_of_work() as uow:
                uow.add(drawn)
            with store.unit_of_work() as uow:
                assert drawn == uow.get(drawn.id)
                assert [drawn] == uow.for_client(drawn.client_id)
                assert [drawn] == uow.for_clinician(drawn.clinician_id, drawn.start, drawn.end)

        round_trip()

    # -- idempotency keys -------------------------------------------------------------------------

    def test_idempotency_keys_are_remembered_per_client(self, store: AppointmentStore) -> None:
        """``remember`` stores (fingerprint, appointment id) under the client's key, for later
        units; another client's key, or another key, is not found."""
        with store.unit_of_work() as uow:
            uow.remember("client-1", "key-1", "dr-a|2026-03-04T10:00:00+00:00", "a-1")
        with store.unit_of_work() as uow:
            found = uow.idempotent("client-1", "key-1")
            assert ("dr-a|2026-03-04T10:00:00+00:00", "a-1") == found
            assert uow.idempotent("client-2", "key-1") is None
            assert uow.idempotent("client-1", "key-2") is None

    # -- the outbox -------------------------------------------------------------------------------

    def test_outbox_lists_waiting_items_oldest_first(self, store: AppointmentStore) -> None:
        """``outbox`` returns undelivered, not-given-up items by creation time (then id), their
        payloads intact."""
        items = [
            email_item("o-b", NOW + timedelta(minutes=1)),
            note_item("o-a", NOW + timedelta(minutes=1)),
            email_item("o-c", NOW),
        ]
        with store.unit_of_work() as uow:
            for item in items:
                uow.add_outbox(item)
        with store.unit_of_work() as uow:
            waiting = uow.outbox()
        assert [items[2], items[1], items[0]] == waiting
        assert isinstance(waiting[1].payload, ChartNote)
        assert isinstance(waiting[0].payload, EmailMessage)

    def test_any_outbox_payload_round_trips(self, store: AppointmentStore) -> None:
        """Any email (every kind, any text, with or without a reply-to address and a calendar
        invite) and any chart note Hypothesis draws comes back from ``outbox`` equal."""
        numbers = itertools.count(1)

        @self._round_trip_settings()
        @given(data=st.data())
        def round_trip(data: st.DataObject) -> None:
            payload = data.draw(
                st.one_of(strategies.email_messages(), strategies.chart_notes()), label="payload"
            )
            item = attrs.evolve(email_item(f"payload-{next(numbers)}"), payload=payload)
            with store.unit_of_work() as uow:
                uow.add_outbox(item)
            with store.unit_of_work() as uow:
                waiting = uow.outbox()
                uow.update_outbox(attrs.evolve(item, delivered_at=NOW))
            assert [item] == waiting

        round_trip()

    def test_add_outbox_refuses_an_existing_id(self, store: AppointmentStore) -> None:
        """A second outbox item with a used id is a Conflict: an email is never silently lost."""
        with store.unit_of_work() as uow:
            uow.add_outbox(email_item("o-1"))
        with pytest.raises(Conflict), store.unit_of_work() as uow:
            uow.add_outbox(note_item("o-1"))
        with store.unit_of_work() as uow:
            assert [email_item("o-1")] == uow.outbox()

    def test_update_outbox_hides_delivered_and_failed_items(self, store: AppointmentStore) -> None:
        """``update_outbox`` stores the item's new state; delivered or failed items stop waiting."""
        with store.unit_of_work() as uow:
            for item_id in ("o-1", "o-2", "o-3"):
                uow.add_outbox(email_item(item_id))
        retrying = attrs.evolve(
            email_item("o-1"), attempts=1, uncertain=True, last_error="DeliveryUncertain: timeout"
        )
        with store.unit_of_work() as uow:
            uow.update_outbox(retrying)
            uow.update_outbox(attrs.evolve(email_item("o-2"), attempts=1, delivered_at=NOW))
            uow.update_outbox(attrs.evolve(email_item("o-3"), attempts=5, failed=True))
        with store.unit_of_work() as uow:
            assert [retrying] == uow.outbox()

    def test_update_outbox_keeps_every_field(self, store: AppointmentStore) -> None:
        """``update_outbox`` keeps every field as given, instants to the microsecond in any zone
        (a claim, a back-off, a redacted payload), and clears them again."""
        with store.unit_of_work() as uow:
            uow.add_outbox(email_item("o-1"))
            uow.add_outbox(attrs.evolve(note_item("o-2"), claimed_until=NOW + HOUR))
        until = datetime(2026, 3, 2, 4, 5, 6, 789012, tzinfo=NEW_YORK)
        claimed = attrs.evolve(
            email_item("o-1"),
            attempts=2,
            uncertain=True,
            last_error="DeliveryError: 451 try later",
            claimed_until=until,
            not_before=until - timedelta(microseconds=3),
        )
        with store.unit_of_work() as uow:
            uow.update_outbox(claimed)
        with store.unit_of_work() as uow:
            waiting = uow.outbox()
        assert [claimed, attrs.evolve(note_item("o-2"), claimed_until=NOW + HOUR)] == waiting
        released = attrs.evolve(claimed, attempts=3, claimed_until=None, not_before=None)
        with store.unit_of_work() as uow:
            uow.update_outbox(released)
        with store.unit_of_work() as uow:
            assert released == uow.outbox()[0]

    def test_failed_outbox_lists_unpurged_given_up_items(self, store: AppointmentStore) -> None:
        """``failed_outbox`` returns the items given up on and not purged, oldest first, every
        field intact; one put back to waiting leaves it."""
        with store.unit_of_work() as uow:
            uow.add_outbox(email_item("o-waiting"))
            uow.add_outbox(email_item("o-sent"))
            uow.add_outbox(email_item("o-late", NOW + timedelta(minutes=1)))
            uow.add_outbox(note_item("o-early"))
            uow.add_outbox(email_item("o-purged", NOW - timedelta(minutes=1)))
        late = attrs.evolve(
            email_item("o-late", NOW + timedelta(minutes=1)),
            attempts=2,
            uncertain=True,
            failed=True,
            last_error="DeliveryUncertain: no answer after the final dot",
        )
        early = attrs.evolve(note_item("o-early"), attempts=5, failed=True, last_error="OSError")
        purged = attrs.evolve(
            email_item("o-purged", NOW - timedelta(minutes=1)),
            attempts=5,
            failed=True,
            purged_at=NOW + HOUR,
        )
        with store.unit_of_work() as uow:
            uow.update_outbox(late)
            uow.update_outbox(early)
            uow.update_outbox(purged)
            uow.update_outbox(attrs.evolve(email_item("o-sent"), attempts=1, delivered_at=NOW))
        with store.unit_of_work() as uow:
            assert [early, late] == uow.failed_outbox()
            assert ["o-waiting"] == [i.id for i in uow.outbox()]
        back = attrs.evolve(late, attempts=0, failed=False)
        with store.unit_of_work() as uow:
            uow.update_outbox(back)
        with store.unit_of_work() as uow:
            assert [early] == uow.failed_outbox()
            assert [email_item("o-waiting"), back] == uow.outbox()

    # -- the audit record -------------------------------------------------------------------------

    def test_audit_keeps_the_chain_in_order(self, store: AppointmentStore) -> None:
        """``append_audit`` entries come back from ``audit`` in order, every field and hash
        intact; ``last_audit`` is the last of them."""
        drafts = [
            draft(
                "request", appointment_id="a-1", after="pending", changes=(("clinician", "dr-a"),)
            ),
            draft(
                "approve",
                NOW.astimezone(NEW_YORK),
                appointment_id="a-1",
                before="pending",
                after="booked",
                changes=(("location", "Main office — room 2"), ("service_code", "90834")),
            ),
            draft("view_queue", NOW + timedelta(microseconds=7), error="PermissionDenied"),
        ]
        expected: list[AuditEntry] = []
        for entry in drafts:
            with store.unit_of_work() as uow:
                assert (expected[-1] if expected else None) == uow.last_audit()
                expected.append(chain(uow.last_audit(), entry))
                uow.append_audit(expected[-1])
        with store.unit_of_work() as uow:
            entries = tuple(uow.audit())
            assert expected[-1] == uow.last_audit()
        assert tuple(expected) == entries
        verify_chain(entries)

    def test_append_audit_refuses_a_fork_of_the_chain(self, store: AppointmentStore) -> None:
        """Two entries numbered alike (two writers chaining to the same last entry) cannot both
        land: the second is a Conflict."""
        with store.unit_of_work() as uow:
            uow.append_audit(chain(None, draft("request", appointment_id="a-1")))
        with pytest.raises(Conflict), store.unit_of_work() as uow:
            uow.append_audit(chain(None, draft("reject", appointment_id="a-1")))
        with store.unit_of_work() as uow:
            assert ["request"] == [e.action for e in uow.audit()]

    @pytest.mark.parametrize("seq", [0, 3, 5], ids=["zero", "skips-one", "skips-three"])
    def test_append_audit_refuses_a_gap_in_the_chain(
        self, store: AppointmentStore, seq: int
    ) -> None:
        """An entry numbered other than one more than the last entry's is a Conflict."""
        with store.unit_of_work() as uow:
            uow.append_audit(chain(None, draft("request")))
            first = uow.last_audit()
        numbered = attrs.evolve(chain(first, draft("approve")), seq=seq)
        with pytest.raises(Conflict), store.unit_of_work() as uow:
            uow.append_audit(attrs.evolve(numbered, hash=numbered.digest()))
        with store.unit_of_work() as uow:
            assert ["request"] == [e.action for e in uow.audit()]

    # -- two units forced to interleave -----------------------------------------------------------

    @pytest.mark.parametrize("second", ["same instance", "another instance"])
    def test_a_check_then_insert_waits_for_the_unit_before_it(
        self, store: AppointmentStore, make_store: StoreFactory, second: str
    ) -> None:
        """Unit B tries to check a slot while unit A sits between its check and its insert: B
        must see A's appointment, so only A's is stored (the two ran one after the other)."""

        def check(uow: UnitOfWork) -> list[Appointment]:
            return uow.for_clinician("dr-a", SLOT, SLOT + HOUR)

        def insert_if_free(uow: UnitOfWork, taken: list[Appointment], name: str) -> None:
            if not taken:
                uow.add(appointment(name))

        first_saw, second_saw = self._interleave(
            store, self._instance(store, make_store, second), check, insert_if_free
        )
        assert ([], [appointment("first")]) == (first_saw, second_saw)
        with store.unit_of_work() as uow:
            assert [appointment("first")] == uow.for_clinician("dr-a", SLOT, SLOT + HOUR)

    @pytest.mark.parametrize("second", ["same instance", "another instance"])
    def test_an_audit_append_waits_for_the_unit_before_it(
        self, store: AppointmentStore, make_store: StoreFactory, second: str
    ) -> None:
        """Unit B reads the last audit entry while unit A sits between its read and its append:
        B must chain to A's entry, so the chain grows by two, unforked."""

        def append(uow: UnitOfWork, last: AuditEntry | None, name: str) -> None:
            uow.append_audit(chain(last, draft(name)))

        first_saw, second_saw = self._interleave(
            store, self._instance(store, make_store, second), _last_audit, append
        )
        with store.unit_of_work() as uow:
            entries = tuple(uow.audit())
        assert (None, entries[0]) == (first_saw, second_saw)
        assert ["first", "second"] == [e.action for e in entries]
        verify_chain(entries)

    @pytest.mark.parametrize("second", ["same instance", "another instance"])
    def test_an_outbox_claim_waits_for_the_unit_before_it(
        self, store: AppointmentStore, make_store: StoreFactory, second: str
    ) -> None:
        """Unit B looks for unclaimed items while unit A sits between its look and its claim: B
        must see A's claims and claim nothing, so no item is claimed twice."""
        with store.unit_of_work() as uow:
            for item_id in ("o-1", "o-2", "o-3"):
                uow.add_outbox(email_item(item_id))
        claims = {"first": NOW + HOUR, "second": NOW + 2 * HOUR}

        def unclaimed(uow: UnitOfWork) -> list[str]:
            return [i.id for i in uow.outbox() if i.claimed_until is None]

        def claim(uow: UnitOfWork, item_ids: list[str], name: str) -> None:
            for item_id in item_ids:
                uow.update_outbox(attrs.evolve(email_item(item_id), claimed_until=claims[name]))

        first_saw, second_saw = self._interleave(
            store, self._instance(store, make_store, second), unclaimed, claim
        )
        assert (["o-1", "o-2", "o-3"], []) == (first_saw, second_saw)
        with store.unit_of_work() as uow:
            assert [claims["first"]] * 3 == [i.claimed_until for i in uow.outbox()]

    # -- races through a Scheduler ----------------------------------------------------------------

    @pytest.mark.parametrize("mode", [SchedulingMode.INSTANT, SchedulingMode.REQUIRES_APPROVAL])
    def test_a_stampede_for_one_slot_books_it_once(
        self, store: AppointmentStore, make_store: StoreFactory, mode: SchedulingMode
    ) -> None:
        """:attr:`racers` clients book one slot at once, each through its own Scheduler and store
        instance: exactly one wins, the others get SlotUnavailable, and the audit chain (one
        booking, the refusals) verifies."""
        ids = SequentialIds()
        worlds = [
            make_world(each, mode=mode, delay=self.calendar_delay, ids=ids, clients=self.racers)
            for each in [store, *(make_store() for _ in range(self.racers - 1))]
        ]
        bookings = [
            functools.partial(world.scheduler.book, ClientActor(client_id), "dr-a", SLOT)
            for world, client_id in zip(worlds, client_ids(self.racers), strict=True)
        ]
        outcomes = self._race(*bookings)
        winners = [o for o in outcomes if isinstance(o, Appointment)]
        losers = [o for o in outcomes if isinstance(o, SlotUnavailable)]
        assert (1, self.racers - 1) == (len(winners), len(losers)), outcomes
        with store.unit_of_work() as uow:
            assert winners == uow.for_clinician("dr-a", SLOT, SLOT + HOUR)
            entries = tuple(uow.audit())
        verify_chain(entries)
        assert ["ok"] + ["refused"] * (self.racers - 1) == sorted(e.outcome for e in entries)

    def test_one_client_racing_with_two_clinicians(
        self, store: AppointmentStore, make_store: StoreFactory
    ) -> None:
        """One client books the same time with two clinicians at once, through two instances:
        one booking wins, the other is refused (a client's own appointments may not overlap)."""
        ids = SequentialIds()
        worlds = [
            make_world(each, mode=SchedulingMode.INSTANT, delay=self.calendar_delay, ids=ids)
            for each in (store, make_store())
        ]
        client = ClientActor("client-1")
        outcomes = self._race(
            lambda: worlds[0].scheduler.book(client, "dr-a", SLOT),
            lambda: worlds[1].scheduler.book(client, "dr-b", SLOT),
        )
        assert 1 == sum(isinstance(o, Appointment) for o in outcomes), outcomes
        assert 1 == sum(isinstance(o, SlotUnavailable) for o in outcomes), outcomes
        with store.unit_of_work() as uow:
            assert 1 == len(uow.for_client("client-1"))

    def test_two_deciders_racing_on_one_request(
        self, store: AppointmentStore, make_store: StoreFactory
    ) -> None:
        """Approve and reject of one request at once, through two instances: one wins, the other
        gets a Conflict, and only the winner's email waits in the outbox."""
        ids = SequentialIds()
        first, second = (
            make_world(each, delay=self.calendar_delay, ids=ids) for each in (store, make_store())
        )
        request = first.scheduler.book(ClientActor("client-1"), "dr-a", SLOT)
        clinician = ClinicianActor("dr-a")
        outcomes = self._race(
            lambda: first.scheduler.approve(clinician, request.id, expected_version=1),
            lambda: second.scheduler.reject(clinician, request.id, expected_version=1),
        )
        winners = [o for o in outcomes if isinstance(o, Appointment)]
        assert 1 == len(winners), outcomes
        assert 1 == sum(isinstance(o, Conflict) for o in outcomes), outcomes
        with store.unit_of_work() as uow:
            assert winners == [uow.get(request.id)]
            assert 1 == len(uow.outbox())

    def test_a_dispatcher_cannot_claim_inside_another_dispatchers_claim(
        self, store: AppointmentStore, make_store: StoreFactory
    ) -> None:
        """Two Schedulers on two instances dispatch one outbox; the second dispatches while the
        first sits between reading the outbox and writing its claims. Every email is delivered
        exactly once."""
        first_read = threading.Event()
        second_done = threading.Event()

        def hold_the_claim_open() -> None:
            first_read.set()
            second_done.wait(self.grace_seconds)

        ids = SequentialIds()
        mailers = RecordingMailer(), RecordingMailer()
        first = make_world(PausingStore(store, hold_the_claim_open), mailer=mailers[0], ids=ids)
        second = make_world(make_store(), mailer=mailers[1], ids=ids)
        expected = self._approve_three(second)

        def second_dispatch() -> DispatchReport:
            try:
                if not first_read.wait(self.wait_seconds):
                    raise RaceTimeout("the first dispatch never read the outbox")
                return second.scheduler.dispatch()
            finally:
                second_done.set()

        reports = self._race(first.scheduler.dispatch, second_dispatch)
        assert all(isinstance(r, DispatchReport) for r in reports), reports
        assert sorted(expected) == sorted(_sent(*mailers))
        assert [DispatchReport(delivered=3), DispatchReport()] == reports
        with store.unit_of_work() as uow:
            assert [] == uow.outbox()

    def test_a_stampede_of_dispatchers_sends_each_email_once(
        self, store: AppointmentStore, make_store: StoreFactory
    ) -> None:
        """:attr:`racers` Schedulers, each on its own instance, dispatch one outbox at once:
        every email is delivered exactly once, by one of them."""
        ids = SequentialIds()
        mailers = [RecordingMailer() for _ in range(self.racers)]
        worlds = [
            make_world(each, mailer=mailer, ids=ids)
            for each, mailer in zip(
                [store, *(make_store() for _ in range(self.racers - 1))], mailers, strict=True
            )
        ]
        expected = self._approve_three(worlds[0])
        reports = self._race(*(world.scheduler.dispatch for world in worlds))
        assert all(isinstance(r, DispatchReport) for r in reports), reports
        assert sorted(expected) == sorted(_sent(*mailers))
        with store.unit_of_work() as uow:
            assert [] == uow.outbox()

    def test_concurrent_writers_extend_one_audit_chain(
        self, store: AppointmentStore, make_store: StoreFactory
    ) -> None:
        """:attr:`audit_writers` threads, each on its own instance, append :attr:`audit_writes`
        entries each, chaining every one to the last entry they read: the record ends up one
        chain that verifies, numbered without gap or fork, each writer's entries in its order."""
        stores = [store, *(make_store() for _ in range(self.audit_writers - 1))]

        def write(writer: int, target: AppointmentStore) -> None:
            for number in range(self.audit_writes):
                with target.unit_of_work() as uow:
                    last = uow.last_audit()
                    time.sleep(self.audit_delay)
                    entry = draft(f"writer-{writer}", appointment_id=f"w{writer}-{number}")
                    uow.append_audit(chain(last, entry))

        outcomes = self._race(*(functools.partial(write, n, s) for n, s in enumerate(stores)))
        assert [None] * self.audit_writers == outcomes
        with store.unit_of_work() as uow:
            entries = tuple(uow.audit())
        verify_chain(entries)
        total = self.audit_writers * self.audit_writes
        assert list(range(1, total + 1)) == [e.seq for e in entries]
        for writer in range(self.audit_writers):
            written = [e.appointment_id for e in entries if e.action == f"writer-{writer}"]
            assert [f"w{writer}-{n}" for n in range(self.audit_writes)] == written


def _last_audit(uow: UnitOfWork) -> AuditEntry | None:
    return uow.last_audit()


def _sent(*mailers: RecordingMailer) -> list[str]:
    """The Message-IDs the mailers sent, all together."""
    return [message.message_id for mailer in mailers for message in mailer.sent]
