"""The store contract: what every ``AppointmentStore`` does, run on memory, SQLite and PostgreSQL.

Each test is the documented behaviour of one ``UnitOfWork`` method (``selfsched.ports``), or of
units racing each other through a real :class:`selfsched.Scheduler`.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from selfsched import (
    Appointment,
    AppointmentStatus,
    ClientActor,
    ClinicianActor,
    Origin,
    SchedulingMode,
)
from selfsched.errors import (
    Conflict,
    NotFound,
    SlotUnavailable,
    StorageError,
)
from selfsched.events import (
    ChartNote,
    EmailMessage,
    chain,
    verify_chain,
)
from selfsched.ports import AppointmentStore

from .conftest import SHARED_BACKENDS, StoreFactory
from .support import (
    HOUR,
    NEW_YORK,
    NOW,
    SLOT,
    appointment,
    at,
    draft,
    email_item,
    make_world,
    note_item,
    race,
)

# -- units of work --------------------------------------------------------------------------------


def test_new_store_is_empty(store: AppointmentStore) -> None:
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


def test_kept_when_the_block_ends_normally(store: AppointmentStore) -> None:
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
        assert full == uow.get(full.id)
    with store.unit_of_work() as uow:
        stored = uow.get(full.id)
    assert full == stored
    assert stored is not None
    assert UTC == stored.start.tzinfo


def test_discarded_when_the_block_raises(store: AppointmentStore) -> None:
    """A unit that raises leaves nothing behind: appointment, key, outbox or audit entry."""
    with store.unit_of_work() as uow:
        uow.add(appointment("kept"))

    class Boom(Exception):
        pass

    def write_everything_then_fail() -> None:
        with store.unit_of_work() as uow:
            uow.add(appointment("a-2", start=SLOT + 2 * HOUR))
            booked = attrs.evolve(appointment("kept"), status=AppointmentStatus.BOOKED, version=2)
            uow.replace(booked)
            uow.remember("client-1", "key", "fingerprint", "a-2")
            uow.add_outbox(email_item("o-1"))
            uow.append_audit(chain(uow.last_audit(), draft("request")))
            raise Boom

    with pytest.raises(Boom):
        write_everything_then_fail()
    with store.unit_of_work() as uow:
        assert uow.get("a-2") is None
        assert appointment("kept") == uow.get("kept")
        assert uow.idempotent("client-1", "key") is None
        assert [] == uow.outbox()
        assert () == tuple(uow.audit())


def test_refused_write_leaves_the_unit_usable(store: AppointmentStore) -> None:
    """A Conflict raised inside a unit and handled there does not spoil the unit's other writes."""
    with store.unit_of_work() as uow:
        uow.add(appointment("a-1"))
    with store.unit_of_work() as uow:
        with pytest.raises(Conflict):
            uow.add(appointment("a-1", start=SLOT + HOUR))
        uow.add(appointment("a-2", start=SLOT + 2 * HOUR))
    with store.unit_of_work() as uow:
        assert ["a-1", "a-2"] == [a.id for a in uow.for_client("client-1")]
        assert SLOT == uow.get("a-1").start  # type: ignore[union-attr]


def test_add_refuses_an_existing_id(store: AppointmentStore) -> None:
    """``add`` raises Conflict when the id exists, whatever else differs, and keeps the first."""
    with store.unit_of_work() as uow:
        uow.add(appointment("a-1"))
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.add(appointment("a-1", clinician_id="dr-b", start=SLOT + 5 * HOUR))
    with store.unit_of_work() as uow:
        assert appointment("a-1") == uow.get("a-1")


def test_replace_stores_the_next_version(store: AppointmentStore) -> None:
    """``replace`` with version = stored + 1 stores the new value."""
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
def test_replace_refuses_a_stale_version(store: AppointmentStore, version: int) -> None:
    """``replace`` raises Conflict unless the stored version is one less; nothing changes."""
    with store.unit_of_work() as uow:
        uow.add(appointment(version=1))
        uow.replace(appointment(version=2, status=AppointmentStatus.BOOKED))
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.replace(appointment(version=version, status=AppointmentStatus.REJECTED))
    with store.unit_of_work() as uow:
        assert appointment(version=2, status=AppointmentStatus.BOOKED) == uow.get("a-1")


def test_replace_of_a_missing_appointment_is_not_found(store: AppointmentStore) -> None:
    """``replace`` raises NotFound (naming the id) when there is nothing to replace."""
    with pytest.raises(NotFound) as caught, store.unit_of_work() as uow:
        uow.replace(appointment("ghost", version=2))
    assert "ghost" == caught.value.appointment_id
    with store.unit_of_work() as uow:
        assert uow.get("ghost") is None


def test_for_clinician_is_half_open(store: AppointmentStore) -> None:
    """``for_clinician``: the clinician's appointments sharing an instant with [start, end)."""
    nine, ten, eleven = at(9), at(10), at(11)
    with store.unit_of_work() as uow:
        uow.add(appointment("nine", start=nine, minutes=60))
        uow.add(appointment("ten", start=ten, minutes=60, status=AppointmentStatus.CANCELLED))
        uow.add(appointment("eleven", start=eleven, minutes=60, status=AppointmentStatus.BOOKED))
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
        # The same instants in another zone are the same query.
        assert ["ten"] == ids(ten.astimezone(NEW_YORK), eleven.astimezone(NEW_YORK))


def test_appointments_are_ordered_by_start_then_id(store: AppointmentStore) -> None:
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


def test_for_client_spans_clinicians_and_statuses(store: AppointmentStore) -> None:
    """``for_client`` returns every appointment of the client, any status, any clinician."""
    with store.unit_of_work() as uow:
        uow.add(appointment("late", start=at(15), clinician_id="dr-b"))
        uow.add(appointment("early", start=at(9), status=AppointmentStatus.REJECTED))
        uow.add(appointment("someone-else", start=at(11), client_id="client-2"))
    with store.unit_of_work() as uow:
        assert ["early", "late"] == [a.id for a in uow.for_client("client-1")]
        assert ["someone-else"] == [a.id for a in uow.for_client("client-2")]
        assert [] == uow.for_client("client-3")


def test_pending_lists_only_pending_requests_soonest_first(store: AppointmentStore) -> None:
    """``pending`` returns every PENDING request, past or future, soonest first."""
    with store.unit_of_work() as uow:
        for index, status in enumerate(AppointmentStatus):
            uow.add(appointment(f"s-{status}", start=at(9 + index), status=status))
        uow.add(appointment("past", start=NOW - timedelta(days=1)))
        uow.add(appointment("other-clinician", start=at(8), clinician_id="dr-b"))
    with store.unit_of_work() as uow:
        assert ["past", "other-clinician", "s-pending"] == [a.id for a in uow.pending()]


def test_open_after_lists_open_appointments_starting_strictly_later(
    store: AppointmentStore,
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
        assert ["pending", "booked"] == [a.id for a in uow.open_after(at(9).astimezone(NEW_YORK))]
        assert [] == uow.open_after(at(11))


def test_idempotency_keys_are_remembered_per_client(store: AppointmentStore) -> None:
    """``remember`` stores (fingerprint, appointment id) under the client's key, for later units."""
    with store.unit_of_work() as uow:
        uow.remember("client-1", "key-1", "dr-a|2026-03-04T10:00:00+00:00", "a-1")
    with store.unit_of_work() as uow:
        assert ("dr-a|2026-03-04T10:00:00+00:00", "a-1") == uow.idempotent("client-1", "key-1")
        assert uow.idempotent("client-2", "key-1") is None
        assert uow.idempotent("client-1", "key-2") is None


def test_outbox_lists_waiting_items_oldest_first(store: AppointmentStore) -> None:
    """``outbox`` returns undelivered, not-given-up items by creation time, payloads intact."""
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


def test_update_outbox_records_attempts_and_hides_finished_items(
    store: AppointmentStore,
) -> None:
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


def test_a_claim_round_trips(store: AppointmentStore) -> None:
    """``update_outbox`` keeps ``claimed_until`` to the microsecond, any zone, and clears it."""
    with store.unit_of_work() as uow:
        uow.add_outbox(email_item("o-1"))
        uow.add_outbox(attrs.evolve(note_item("o-2"), claimed_until=NOW + HOUR))
    until = datetime(2026, 3, 2, 4, 5, 6, 789012, tzinfo=NEW_YORK)
    claimed = attrs.evolve(email_item("o-1"), attempts=2, claimed_until=until)
    with store.unit_of_work() as uow:
        uow.update_outbox(claimed)
    with store.unit_of_work() as uow:
        waiting = uow.outbox()
    assert [claimed, attrs.evolve(note_item("o-2"), claimed_until=NOW + HOUR)] == waiting
    released = attrs.evolve(claimed, attempts=3, claimed_until=None)
    with store.unit_of_work() as uow:
        uow.update_outbox(released)
    with store.unit_of_work() as uow:
        assert released == uow.outbox()[0]


def test_failed_outbox_lists_given_up_items_oldest_first(store: AppointmentStore) -> None:
    """``failed_outbox`` returns the items given up on, oldest first, every field intact."""
    with store.unit_of_work() as uow:
        uow.add_outbox(email_item("o-waiting"))
        uow.add_outbox(email_item("o-sent"))
        uow.add_outbox(email_item("o-late", NOW + timedelta(minutes=1)))
        uow.add_outbox(note_item("o-early"))
    late = attrs.evolve(
        email_item("o-late", NOW + timedelta(minutes=1)),
        attempts=2,
        uncertain=True,
        failed=True,
        last_error="DeliveryUncertain: no answer after the final dot",
    )
    early = attrs.evolve(note_item("o-early"), attempts=5, failed=True, last_error="OSError: x")
    with store.unit_of_work() as uow:
        uow.update_outbox(late)
        uow.update_outbox(early)
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


def test_audit_keeps_the_chain_in_order(store: AppointmentStore) -> None:
    """``append_audit`` entries come back from ``audit`` in order, hashes intact; ``last_audit``."""
    drafts = [
        draft("request", appointment_id="a-1", after="pending", changes=(("clinician", "dr-a"),)),
        draft(
            "approve",
            NOW.astimezone(NEW_YORK),
            appointment_id="a-1",
            before="pending",
            after="booked",
            changes=(("location", "Main office — room 2"), ("service_code", "90834")),
        ),
        draft("view_queue", NOW + timedelta(microseconds=7), error=None),
    ]
    for entry in drafts:
        with store.unit_of_work() as uow:
            uow.append_audit(chain(uow.last_audit(), entry))
    with store.unit_of_work() as uow:
        entries = tuple(uow.audit())
        last = uow.last_audit()
    assert [1, 2, 3] == [e.seq for e in entries]
    assert ["request", "approve", "view_queue"] == [e.action for e in entries]
    assert entries[-1] == last
    verify_chain(entries)
    assert [e.digest() for e in entries] == [e.hash for e in entries]


def test_add_outbox_refuses_an_existing_id(store: AppointmentStore) -> None:
    """A second outbox item with a used id is a Conflict: an email is never silently lost."""
    with store.unit_of_work() as uow:
        uow.add_outbox(email_item("o-1"))
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.add_outbox(note_item("o-1"))
    with store.unit_of_work() as uow:
        assert [email_item("o-1")] == uow.outbox()


def test_append_audit_refuses_a_fork_of_the_chain(store: AppointmentStore) -> None:
    """Two entries numbered alike (two writers chaining to the same last entry) cannot both land."""
    first = draft("request", appointment_id="a-1")
    with store.unit_of_work() as uow:
        uow.append_audit(chain(None, first))
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.append_audit(chain(None, draft("reject", appointment_id="a-1")))
    with store.unit_of_work() as uow:
        assert ["request"] == [e.action for e in uow.audit()]


# -- races ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [SchedulingMode.INSTANT, SchedulingMode.REQUIRES_APPROVAL])
def test_two_clients_racing_for_one_slot(store: AppointmentStore, mode: SchedulingMode) -> None:
    """Two clients book one slot at once: exactly one wins, the other gets SlotUnavailable."""
    world = make_world(store, mode=mode, delay=0.05)
    book = world.scheduler.book
    outcomes = race(
        lambda: book(ClientActor("client-1"), "dr-a", SLOT),
        lambda: book(ClientActor("client-2"), "dr-a", SLOT),
    )
    winners = [o for o in outcomes if isinstance(o, Appointment)]
    losers = [o for o in outcomes if isinstance(o, SlotUnavailable)]
    assert (1, 1) == (len(winners), len(losers)), outcomes
    with store.unit_of_work() as uow:
        assert winners == uow.for_clinician("dr-a", SLOT, SLOT + HOUR)
        entries = tuple(uow.audit())
    verify_chain(entries)
    assert ["ok", "refused"] == sorted(e.outcome for e in entries)


def test_one_client_racing_with_two_clinicians(store: AppointmentStore) -> None:
    """One client books the same time with two clinicians at once: one wins, one is refused."""
    world = make_world(store, mode=SchedulingMode.INSTANT, delay=0.05)
    book = world.scheduler.book
    client = ClientActor("client-1")
    outcomes = race(lambda: book(client, "dr-a", SLOT), lambda: book(client, "dr-b", SLOT))
    assert 1 == sum(isinstance(o, Appointment) for o in outcomes), outcomes
    assert 1 == sum(isinstance(o, SlotUnavailable) for o in outcomes), outcomes
    with store.unit_of_work() as uow:
        assert 1 == len(uow.for_client("client-1"))


def test_two_deciders_racing_on_one_request(store: AppointmentStore) -> None:
    """Approve and reject of one request at once: one wins, the other gets a clear Conflict."""
    world = make_world(store, delay=0.05)
    request = world.scheduler.book(ClientActor("client-1"), "dr-a", SLOT)
    clinician = ClinicianActor("dr-a")
    outcomes = race(
        lambda: world.scheduler.approve(clinician, request.id, expected_version=request.version),
        lambda: world.scheduler.reject(clinician, request.id, expected_version=request.version),
    )
    winners = [o for o in outcomes if isinstance(o, Appointment)]
    assert 1 == len(winners), outcomes
    assert 1 == sum(isinstance(o, Conflict) for o in outcomes), outcomes
    with store.unit_of_work() as uow:
        assert winners == [uow.get(request.id)]
        assert 1 == len(uow.outbox())  # one email: the winner's


@pytest.mark.parametrize("backend", SHARED_BACKENDS, indirect=True)
def test_a_second_instance_waits_for_the_first_unit(make_store: StoreFactory) -> None:
    """Two store instances on one database (two processes): a unit waits for the other's commit."""
    first, second = make_store(), make_store()
    with first.unit_of_work():  # create the tables before the race
        pass
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with first.unit_of_work() as uow:
            uow.add(appointment("from-first"))
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(5)
    threading.Timer(0.2, release.set).start()
    with second.unit_of_work() as uow:  # blocks until the first unit has committed
        seen = uow.get("from-first")
    thread.join(5)
    assert appointment("from-first") == seen


@pytest.mark.parametrize("backend", SHARED_BACKENDS, indirect=True)
def test_a_unit_that_waits_too_long_is_a_storage_error(make_store: StoreFactory) -> None:
    """A unit that cannot get the database within its wait raises StorageError, writing nothing."""
    first, impatient = make_store(), make_store(wait=0.1)
    with first.unit_of_work():
        pass
    with first.unit_of_work() as held:
        held.add(appointment("held"))
        with pytest.raises(StorageError), impatient.unit_of_work() as uow:
            uow.add(appointment("impatient"))
    with first.unit_of_work() as uow:
        assert uow.get("impatient") is None
        assert uow.get("held") is not None
