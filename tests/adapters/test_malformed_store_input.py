"""Malformed arguments to a store's unit of work, and to the stores' settings, are typed errors.

The Scheduler only hands a store well-formed values; a migration, a notebook or another service
calling a store directly gets a :class:`~selfsched.errors.SelfschedError` naming the argument
(issue 7, item 3), and the unit keeps nothing it wrote before the mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from selfsched.adapters.postgres import PostgresStore
from selfsched.adapters.sqlite import SqliteStore
from selfsched.errors import SelfschedError
from selfsched.ports import AppointmentStore

from .support import SLOT, appointment

NAIVE = datetime(2026, 3, 4, 10, 0)

STORE_CALLS: dict[str, Callable[[Any], object]] = {
    "get(None)": lambda uow: uow.get(None),
    "get(42)": lambda uow: uow.get(42),
    "for_clinician(naive)": lambda uow: uow.for_clinician("dr-a", NAIVE, NAIVE),
    "for_clinician(text)": lambda uow: uow.for_clinician("dr-a", "2026-03-04", "2026-03-05"),
    "for_clinician(id=7)": lambda uow: uow.for_clinician(7, SLOT, SLOT),
    "for_client(None)": lambda uow: uow.for_client(None),
    "open_after(date)": lambda uow: uow.open_after(SLOT.date()),
    "add('x')": lambda uow: uow.add("x"),
    "add(None)": lambda uow: uow.add(None),
    "replace({})": lambda uow: uow.replace({}),
    "idempotent(None, 'k')": lambda uow: uow.idempotent(None, "k"),
    "remember(key=5)": lambda uow: uow.remember("client-1", 5, "f", "a-1"),
    "add_outbox('x')": lambda uow: uow.add_outbox("x"),
    "update_outbox(None)": lambda uow: uow.update_outbox(None),
    "append_audit('x')": lambda uow: uow.append_audit("x"),
}


@pytest.mark.parametrize("call", STORE_CALLS.values(), ids=STORE_CALLS.keys())
def test_item3_malformed_input_to_a_store_is_a_typed_error(
    call: Callable[[Any], object], store: AppointmentStore
) -> None:
    """A unit of work refuses a malformed argument with a SelfschedError and keeps nothing."""
    kept = appointment("a-1")
    with store.unit_of_work() as uow:
        uow.add(kept)

    with pytest.raises(SelfschedError), store.unit_of_work() as uow:  # noqa: PT012
        uow.add(appointment("a-2", start=SLOT + timedelta(hours=2)))
        call(uow)

    with store.unit_of_work() as uow:
        assert [kept] == uow.for_client("client-1")


@pytest.mark.parametrize(
    "make",
    [
        lambda _: SqliteStore(42),
        lambda path: SqliteStore(path, timeout="10"),
        lambda path: SqliteStore(path, timeout=-1),
        lambda _: PostgresStore(42),
        lambda _: PostgresStore("dbname=test", schema=7),
        lambda _: PostgresStore("dbname=test", schema=""),
        lambda _: PostgresStore("dbname=test", lock_timeout="10"),
        lambda _: PostgresStore("dbname=test", lock_timeout=0),
    ],
    ids=[
        "sqlite path=42",
        "sqlite timeout='10'",
        "sqlite timeout=-1",
        "postgres source=42",
        "postgres schema=7",
        "postgres schema=''",
        "postgres lock_timeout='10'",
        "postgres lock_timeout=0",
    ],
)
def test_item3_malformed_store_settings_are_typed_errors(
    make: Callable[[Path], object], tmp_path: Path
) -> None:
    """A store made with bad settings says so when it is made, before it connects."""
    with pytest.raises(SelfschedError):
        make(tmp_path / "store.db")
