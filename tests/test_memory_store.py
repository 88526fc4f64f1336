"""The in-memory store: units of work that keep everything or nothing, versions, queries."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from selfsched.adapters.memory import InMemoryStore
from selfsched.errors import Conflict, NotFound
from selfsched.events import AuditEntry, ChartNote, OutboxItem, chain
from selfsched.model import Appointment, StatusValue

T0 = datetime(2026, 4, 13, 14, 0, tzinfo=UTC)


def appt(
    id: str,  # noqa: A002
    *,
    start: datetime = T0,
    minutes: int = 50,
    status: StatusValue = "pending",
    client_id: str = "alice",
    clinician_id: str = "c1",
) -> Appointment:
    """An appointment at *start* lasting *minutes*."""
    return Appointment(
        id=id,
        client_id=client_id,
        clinician_id=clinician_id,
        start=start,
        end=start + timedelta(minutes=minutes),
        status=status,
    )


def note_item(id: str, *, minutes: int = 0) -> OutboxItem:  # noqa: A002
    """An outbox item carrying a chart note, created *minutes* after T0."""
    note = ChartNote(
        note_id=f"n-{id}",
        client_id="alice",
        appointment_id="a",
        title="Appointment Cancellation Note",
        text="...",
        created_at=T0,
    )
    return OutboxItem(id=id, payload=note, created_at=T0 + timedelta(minutes=minutes))


def filled(*appointments: Appointment) -> InMemoryStore:
    """A store holding *appointments*."""
    store = InMemoryStore()
    with store.unit_of_work() as uow:
        for a in appointments:
            uow.add(a)
    return store


def test_a_unit_that_ends_normally_is_kept() -> None:
    """Everything written in a unit is there afterwards."""
    store = filled(appt("a"))

    assert [appt("a")] == store.appointments()


def test_a_unit_that_raises_keeps_nothing() -> None:
    """An exception inside the unit discards all of its writes: appointments, keys, outbox and
    audit alike."""
    store = filled(appt("a"))

    def write_everything_then_fail() -> None:
        with store.unit_of_work() as uow:
            uow.add(appt("b", start=T0 + timedelta(hours=2)))
            uow.replace(attrs.evolve(appt("a"), status="booked", version=2))
            uow.remember("alice", "k", "fp", "b")
            uow.add_outbox(note_item("o"))
            entry = AuditEntry(seq=0, at=T0, actor="x", action="y", outcome="ok")
            uow.append_audit(chain(None, entry))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_everything_then_fail()

    with store.unit_of_work() as uow:
        assert None is uow.idempotent("alice", "k")
    assert ([appt("a")], [], ()) == (
        store.appointments(),
        store.outbox_items(),
        store.audit_entries(),
    )


def test_a_unit_sees_its_own_writes() -> None:
    """Reads inside a unit see what the unit wrote before."""
    store = InMemoryStore()

    with store.unit_of_work() as uow:
        uow.add(appt("a"))
        assert appt("a") == uow.get("a")


def test_adding_an_existing_id_is_a_conflict() -> None:
    """Two appointments cannot share an id."""
    store = filled(appt("a"))

    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.add(appt("a", start=T0 + timedelta(days=1)))


def test_replace_needs_the_next_version() -> None:
    """A change is accepted only on top of the version it was made from."""
    store = filled(appt("a"))
    booked = attrs.evolve(appt("a"), status="booked", version=2)

    with store.unit_of_work() as uow:
        uow.replace(booked)

    assert [booked] == store.appointments()


@pytest.mark.parametrize("version", [1, 3, 4])
def test_replace_on_a_stale_version_is_a_conflict(version: int) -> None:
    """A change made from any other version than the stored one raises Conflict and says to
    reload."""
    store = filled(appt("a"))

    with pytest.raises(Conflict, match="reload it and try again"), store.unit_of_work() as uow:
        uow.replace(attrs.evolve(appt("a"), status="booked", version=version))

    assert [appt("a")] == store.appointments()


def test_replace_of_a_missing_appointment_is_not_found() -> None:
    """Changing an appointment that was never stored raises NotFound."""
    with pytest.raises(NotFound), InMemoryStore().unit_of_work() as uow:
        uow.replace(attrs.evolve(appt("a"), version=2))


def test_for_clinician_is_half_open_and_per_clinician() -> None:
    """Appointments overlapping [start, end) of that clinician, in start order: one ending
    exactly at start or starting exactly at end is outside."""
    before = appt("before", start=T0 - timedelta(minutes=50))
    inside = appt("inside", start=T0 + timedelta(minutes=10), minutes=10)
    after = appt("after", start=T0 + timedelta(minutes=50))
    across = appt("across", start=T0 - timedelta(minutes=10), minutes=30)
    other = appt("other", clinician_id="c2")
    store = filled(after, inside, before, across, other)

    with store.unit_of_work() as uow:
        found = uow.for_clinician("c1", T0, T0 + timedelta(minutes=50))

    assert ["across", "inside"] == [a.id for a in found]


def test_for_client_lists_every_status_with_every_clinician() -> None:
    """A client's appointments, any status, any clinician, in start order."""
    later = appt("later", start=T0 + timedelta(days=1), status="missed", clinician_id="c2")
    store = filled(
        later, appt("first"), appt("bobs", client_id="bob", start=T0 - timedelta(days=1))
    )

    with store.unit_of_work() as uow:
        assert ["first", "later"] == [a.id for a in uow.for_client("alice")]


def test_pending_and_open_after() -> None:
    """pending(): every PENDING, soonest first; open_after(t): PENDING or BOOKED starting
    strictly after t."""
    store = filled(
        appt("p2", start=T0 + timedelta(days=2)),
        appt("p1", start=T0 + timedelta(days=1)),
        appt("b", start=T0, status="booked"),
        appt("m", start=T0 + timedelta(days=3), status="missed"),
    )

    with store.unit_of_work() as uow:
        pending = [a.id for a in uow.pending()]
        open_after = [a.id for a in uow.open_after(T0)]
        open_before = [a.id for a in uow.open_after(T0 - timedelta(seconds=1))]

    assert (["p1", "p2"], ["p1", "p2"], ["b", "p1", "p2"]) == (pending, open_after, open_before)


def test_idempotency_keys_are_scoped_to_the_client() -> None:
    """The same key remembered for one client is unknown for another."""
    store = InMemoryStore()
    with store.unit_of_work() as uow:
        uow.remember("alice", "k1", "c1|2026", "a")

    with store.unit_of_work() as uow:
        assert (("c1|2026", "a"), None) == (
            uow.idempotent("alice", "k1"),
            uow.idempotent("bob", "k1"),
        )


def test_outbox_lists_only_waiting_items_oldest_first() -> None:
    """Delivered and given-up items leave the waiting list; outbox_items() still shows them."""
    store = InMemoryStore()
    with store.unit_of_work() as uow:
        uow.add_outbox(note_item("late", minutes=5))
        uow.add_outbox(note_item("early", minutes=1))
        uow.add_outbox(note_item("sent", minutes=0))
        uow.add_outbox(note_item("dead", minutes=0))
    with store.unit_of_work() as uow:
        uow.update_outbox(attrs.evolve(note_item("sent"), delivered_at=T0))
        uow.update_outbox(attrs.evolve(note_item("dead"), failed=True))

    with store.unit_of_work() as uow:
        assert ["early", "late"] == [i.id for i in uow.outbox()]
    assert ["dead", "sent", "early", "late"] == [i.id for i in store.outbox_items()]


def test_audit_is_kept_in_order() -> None:
    """Entries come back in the order appended; last_audit is the newest."""
    store = InMemoryStore()
    first = chain(None, AuditEntry(seq=0, at=T0, actor="a", action="x", outcome="ok"))
    second = chain(first, AuditEntry(seq=0, at=T0, actor="b", action="y", outcome="ok"))
    with store.unit_of_work() as uow:
        assert None is uow.last_audit()
        uow.append_audit(first)
        uow.append_audit(second)

    with store.unit_of_work() as uow:
        assert (second, (first, second)) == (uow.last_audit(), tuple(uow.audit()))
    assert (first, second) == store.audit_entries()


def test_units_do_not_interleave() -> None:
    """A second thread's unit waits until the first unit has finished: its check-then-write
    sees the first unit's write."""
    store = InMemoryStore()
    inside = threading.Event()
    seen: list[Appointment | None] = []

    def first() -> None:
        with store.unit_of_work() as uow:
            inside.set()
            time.sleep(0.05)
            uow.add(appt("a"))

    def second() -> None:
        inside.wait()
        with store.unit_of_work() as uow:
            seen.append(uow.get("a"))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [appt("a")] == seen
