"""The in-memory store's own inspection helpers: ``appointments()``, ``outbox_items()`` and
``audit_entries()`` show everything it holds, committed units only.

What every store must do (units of work, versions, queries, races) is the store contract's,
which ``tests/adapters/test_store_contract.py`` runs on this store too.
"""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from selfsched.adapters.memory import InMemoryStore
from selfsched.events import chain
from selfsched.model import AppointmentStatus
from selfsched.testing._builders import NOW, appointment, draft, note_item


def test_the_helpers_show_nothing_of_a_unit_that_raised() -> None:
    """An exception inside the unit discards all of its writes: appointments, outbox and audit
    alike, as the helpers show them."""
    store = InMemoryStore()
    with store.unit_of_work() as uow:
        uow.add(appointment("a"))

    def write_everything_then_fail() -> None:
        with store.unit_of_work() as uow:
            uow.add(appointment("b", start=NOW + timedelta(days=3)))
            uow.replace(attrs.evolve(appointment("a"), status=AppointmentStatus.BOOKED, version=2))
            uow.add_outbox(note_item("o"))
            uow.append_audit(chain(None, draft("request")))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_everything_then_fail()

    assert ([appointment("a")], [], ()) == (
        store.appointments(),
        store.outbox_items(),
        store.audit_entries(),
    )


def test_outbox_items_shows_delivered_and_given_up_items_too() -> None:
    """Delivered and given-up items leave the waiting list; ``outbox_items()`` still shows them,
    oldest first (then by id)."""
    store = InMemoryStore()
    with store.unit_of_work() as uow:
        for item_id in ("dead", "sent", "early"):
            uow.add_outbox(note_item(item_id))
    with store.unit_of_work() as uow:
        uow.update_outbox(attrs.evolve(note_item("sent"), delivered_at=NOW))
        uow.update_outbox(attrs.evolve(note_item("dead"), failed=True))

    with store.unit_of_work() as uow:
        assert ["early"] == [i.id for i in uow.outbox()]
    assert ["dead", "early", "sent"] == [i.id for i in store.outbox_items()]


def test_audit_entries_shows_the_chain_in_order() -> None:
    store = InMemoryStore()
    first = chain(None, draft("request"))
    second = chain(first, draft("approve"))
    with store.unit_of_work() as uow:
        uow.append_audit(first)
        uow.append_audit(second)

    assert (first, second) == store.audit_entries()
