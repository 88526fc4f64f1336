"""What the PostgreSQL store adds to the contract: what the database itself guarantees.

Tests marked ``postgres`` need ``SELFSCHED_TEST_POSTGRES_DSN``; the import and connection-error
tests need only psycopg.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import attrs
import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg import sql

from selfsched import AppointmentStatus
from selfsched.adapters import postgres
from selfsched.adapters.postgres import SCHEMA_VERSION, PostgresStore
from selfsched.errors import Conflict, InvalidInput, SlotUnavailable, StorageError
from selfsched.events import AuditEntry, chain

from .support import HOUR, NOW, SLOT, appointment, email_item, note_item

BOOKED = AppointmentStatus.BOOKED


@pytest.fixture
def store(postgres_dsn: str, postgres_schema: str) -> PostgresStore:
    """A store in this test's own schema."""
    return PostgresStore(postgres_dsn, schema=postgres_schema)


@contextmanager
def raw(dsn: str, schema: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection outside the store, with the test's schema first on the search path."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        yield connection


@pytest.mark.postgres
def test_overlapping_booked_appointments_are_refused_by_the_database(
    store: PostgresStore,
) -> None:
    """Without any service check, a clinician's second overlapping BOOKED row is SlotUnavailable."""
    with store.unit_of_work() as uow:
        uow.add(appointment("first", status=BOOKED))
    with pytest.raises(SlotUnavailable), store.unit_of_work() as uow:
        uow.add(appointment("second", start=SLOT + timedelta(minutes=49), status=BOOKED))
    with store.unit_of_work() as uow:
        assert uow.get("second") is None


@pytest.mark.postgres
def test_what_the_constraint_allows(store: PostgresStore) -> None:
    """Back-to-back, another clinician's, pending and closed appointments do not conflict."""
    with store.unit_of_work() as uow:
        uow.add(appointment("booked", status=BOOKED))
        uow.add(appointment("back-to-back", start=SLOT + timedelta(minutes=50), status=BOOKED))
        uow.add(appointment("right-before", start=SLOT - timedelta(minutes=50), status=BOOKED))
        uow.add(appointment("other-clinician", clinician_id="dr-b", status=BOOKED))
        uow.add(appointment("pending"))
        uow.add(appointment("cancelled", status=AppointmentStatus.CANCELLED))
    with store.unit_of_work() as uow:
        assert 6 == len(uow.for_client("client-1"))


@pytest.mark.postgres
def test_approving_into_an_overlap_is_refused_by_the_database(store: PostgresStore) -> None:
    """A PENDING row that would become BOOKED on top of a BOOKED one raises SlotUnavailable."""
    with store.unit_of_work() as uow:
        uow.add(appointment("booked", status=BOOKED))
        uow.add(appointment("pending", start=SLOT + timedelta(minutes=30)))
    pending = appointment("pending", start=SLOT + timedelta(minutes=30))
    with pytest.raises(SlotUnavailable), store.unit_of_work() as uow:
        uow.replace(attrs.evolve(pending, status=BOOKED, version=2))
    with store.unit_of_work() as uow:
        assert pending == uow.get("pending")


@pytest.mark.postgres
def test_the_constraint_binds_writers_that_bypass_the_store(
    store: PostgresStore, postgres_dsn: str, postgres_schema: str
) -> None:
    """A plain INSERT from another program cannot double-book either."""
    with store.unit_of_work() as uow:
        uow.add(appointment("booked", status=BOOKED))
    with (
        raw(postgres_dsn, postgres_schema) as connection,
        pytest.raises(pg_errors.ExclusionViolation),
    ):
        connection.execute(
            "INSERT INTO appointments (id, client_id, clinician_id, start_at, end_at, status, "
            "origin, late_cancellation, version) VALUES ('sneaky', 'client-2', 'dr-a', %s, %s, "
            "'booked', 'staff', false, 1)",
            (SLOT + timedelta(minutes=10), SLOT + HOUR),
        )


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement", ["UPDATE audit SET actor = 'mallory'", "DELETE FROM audit", "TRUNCATE audit"]
)
def test_audit_rows_cannot_be_changed_or_removed(
    store: PostgresStore, postgres_dsn: str, postgres_schema: str, statement: str
) -> None:
    """The audit table refuses UPDATE, DELETE and TRUNCATE, even from outside the store."""
    with store.unit_of_work() as uow:
        uow.append_audit(
            chain(None, AuditEntry(seq=0, at=NOW, actor="a", action="x", outcome="ok"))
        )
    with raw(postgres_dsn, postgres_schema) as connection:
        with pytest.raises(pg_errors.IntegrityError, match="append-only"):
            connection.execute(statement)
        assert [("a",)] == connection.execute("SELECT actor FROM audit").fetchall()


@pytest.mark.postgres
def test_a_repeated_audit_sequence_number_is_a_conflict(store: PostgresStore) -> None:
    """Two entries with one sequence number would fork the chain: refused with Conflict (by the
    store's own check; the table's unique key on the number backs it for other writers)."""
    first = chain(None, AuditEntry(seq=0, at=NOW, actor="a", action="x", outcome="ok"))
    with store.unit_of_work() as uow:
        uow.append_audit(first)
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.append_audit(attrs.evolve(first, actor="b"))
    with store.unit_of_work() as uow:
        assert (first,) == tuple(uow.audit())


@pytest.mark.postgres
def test_a_repeated_outbox_id_is_a_conflict(store: PostgresStore) -> None:
    """A second outbox item under a used id raises Conflict; the first email is kept."""
    with store.unit_of_work() as uow:
        uow.add_outbox(email_item("o-1"))
    with pytest.raises(Conflict), store.unit_of_work() as uow:
        uow.add_outbox(note_item("o-1"))
    with store.unit_of_work() as uow:
        assert [email_item("o-1")] == uow.outbox()


@pytest.mark.postgres
def test_rows_are_plain_readable_values(
    store: PostgresStore, postgres_dsn: str, postgres_schema: str
) -> None:
    """Instants are timestamptz, statuses their strings, payloads tagged jsonb."""
    with store.unit_of_work() as uow:
        uow.add(appointment(status=BOOKED))
        uow.add_outbox(email_item("o-1"))
        uow.add_outbox(note_item("o-2"))
    with raw(postgres_dsn, postgres_schema) as connection:
        assert [("booked", SLOT)] == connection.execute(
            "SELECT status, start_at FROM appointments"
        ).fetchall()
        assert [("email", "email"), ("chart_note", "chart_note")] == connection.execute(
            "SELECT kind, payload->>'type' FROM outbox ORDER BY id"
        ).fetchall()
        assert [(SCHEMA_VERSION,)] == connection.execute(
            "SELECT version FROM schema_version"
        ).fetchall()


@pytest.mark.postgres
def test_schemas_keep_stores_apart(
    postgres_dsn: str, postgres_schema: str, fresh_postgres_schema: str
) -> None:
    """Two schemas in one database are two separate stores that do not wait for each other."""
    one = PostgresStore(postgres_dsn, schema=postgres_schema)
    other = PostgresStore(postgres_dsn, schema=fresh_postgres_schema, lock_timeout=0.2)
    with one.unit_of_work() as uow:
        uow.add(appointment(status=BOOKED))
        with other.unit_of_work() as elsewhere:  # a different lock: no wait
            elsewhere.add(appointment(status=BOOKED))
    with other.unit_of_work() as uow:
        assert [appointment(status=BOOKED)] == uow.for_client("client-1")


@pytest.mark.postgres
def test_a_newer_schema_is_refused(postgres_dsn: str, fresh_postgres_schema: str) -> None:
    """A schema written by a newer selfsched raises StorageError rather than being misread."""
    with PostgresStore(postgres_dsn, schema=fresh_postgres_schema).unit_of_work():
        pass
    with raw(postgres_dsn, fresh_postgres_schema) as connection:
        connection.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION + 1,))
    newcomer = PostgresStore(postgres_dsn, schema=fresh_postgres_schema)
    with pytest.raises(StorageError, match="newer"), newcomer.unit_of_work():
        pass


@pytest.mark.postgres
def test_connections_from_a_factory_or_a_pool(postgres_dsn: str, postgres_schema: str) -> None:
    """A function returning connections, or a pool with ``connection()``, works like a DSN."""

    class Pool:
        """The part of psycopg_pool.ConnectionPool the store uses."""

        handed_out = 0

        @contextmanager
        def connection(self) -> Iterator[psycopg.Connection[Any]]:
            self.handed_out += 1
            with psycopg.connect(postgres_dsn) as connection:
                yield connection

    pool = Pool()
    with PostgresStore(
        lambda: psycopg.connect(postgres_dsn), schema=postgres_schema
    ).unit_of_work() as uow:
        uow.add(appointment())
    with PostgresStore(pool, schema=postgres_schema).unit_of_work() as uow:
        assert appointment() == uow.get("a-1")
    assert 1 == pool.handed_out


@pytest.mark.postgres
def test_a_connection_inside_a_transaction_is_refused(
    postgres_dsn: str, postgres_schema: str
) -> None:
    """A connection that is already in a transaction would not be committed: StorageError."""
    busy = psycopg.connect(postgres_dsn)
    busy.execute("SELECT 1")
    try:
        store = PostgresStore(lambda: busy, schema=postgres_schema)
        with pytest.raises(StorageError, match="inside a transaction"), store.unit_of_work():
            pass
    finally:
        busy.close()


@pytest.mark.parametrize("schema", ["", "x" * 64, "a\0b"], ids=["empty", "too-long", "nul"])
def test_an_unusable_schema_name_is_refused(schema: str) -> None:
    """A schema name PostgreSQL would reject or silently truncate is an input error."""
    with pytest.raises(InvalidInput):
        PostgresStore("postgresql://unused", schema=schema)


def test_an_unreachable_server_is_a_storage_error() -> None:
    """A refused connection surfaces as StorageError raised from psycopg's error."""
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/test?connect_timeout=2")
    with pytest.raises(StorageError) as caught, store.unit_of_work():
        pass
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (pg_errors.SerializationFailure, Conflict),
        (pg_errors.DeadlockDetected, Conflict),
        (pg_errors.ExclusionViolation, SlotUnavailable),
        (pg_errors.LockNotAvailable, StorageError),
        (pg_errors.UndefinedTable, StorageError),
    ],
)
def test_driver_errors_are_translated(
    error: type[psycopg.Error], expected: type[Exception]
) -> None:
    """Concurrency failures are conflicts, overlaps unavailable slots, the rest storage errors."""
    assert type(postgres._translate(error("boom"))) is expected


def test_importing_without_psycopg_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without psycopg the module raises ImportError naming the extra to install."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "selfsched.adapters.postgres")
    with pytest.raises(ImportError, match=r"pip install selfsched\[postgres\]"):
        importlib.import_module("selfsched.adapters.postgres")


def test_importing_selfsched_does_not_import_psycopg() -> None:
    """selfsched, its SQLite and SMTP adapters and its test doubles load without psycopg."""
    code = (
        "import sys, selfsched, selfsched.adapters.sqlite, selfsched.adapters.smtp, "
        "selfsched.adapters.memory, selfsched.testing; print('psycopg' in sys.modules)"
    )
    result = subprocess.run(  # noqa: S603  (our own interpreter and code)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "False" == result.stdout.strip()
