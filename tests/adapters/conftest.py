"""Fixtures for the adapter tests: a factory of stores for each backend.

The PostgreSQL backend reads its DSN from ``SELFSCHED_TEST_POSTGRES_DSN`` (``.ci/run`` sets it).
Unset, those tests are skipped with a reason; set but unreachable, they fail. The tests share
one schema named after this test session, emptied before each test and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from selfsched.adapters.memory import InMemoryStore
from selfsched.adapters.postgres import PostgresStore
from selfsched.adapters.sqlite import SqliteStore
from selfsched.ports import AppointmentStore

POSTGRES_ENV = "SELFSCHED_TEST_POSTGRES_DSN"
SKIP_POSTGRES = "set SELFSCHED_TEST_POSTGRES_DSN to run the PostgreSQL tests"

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Every store: the contract suite runs on each."""
SHARED_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Stores that several instances (processes, backend servers) open at once."""

StoreFactory = Callable[..., AppointmentStore]

_SESSION = uuid.uuid4().hex[:8]
_schemas = iter(range(1, 1_000_000))


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """The test server's DSN: skip without one, fail (never skip) when it cannot be reached."""
    dsn = os.environ.get(POSTGRES_ENV, "").strip()
    if not dsn:
        pytest.skip(SKIP_POSTGRES)
    try:
        with psycopg.connect(dsn, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but the PostgreSQL server cannot be used: {exc}")
    yield dsn
    # Whatever a crashed test left behind in this session's schemas.
    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
            (f"selfsched_test_{_SESSION}_%",),
        ).fetchall()
        for (name,) in rows:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_session_schema(postgres_dsn: str) -> str:
    """This session's schema, with the store's tables (dropped when the session ends)."""
    schema = f"selfsched_test_{_SESSION}_shared"
    with PostgresStore(postgres_dsn, schema=schema).unit_of_work():
        pass
    return schema


@pytest.fixture
def postgres_schema(postgres_dsn: str, postgres_session_schema: str) -> str:
    """This session's schema, emptied for one test (the audit guard is lifted to empty it)."""
    tables = sql.SQL(", ").join(
        sql.Identifier(postgres_session_schema, name)
        for name in ("appointments", "idempotency_keys", "outbox", "audit")
    )
    audit = sql.Identifier(postgres_session_schema, "audit")
    with psycopg.connect(postgres_dsn) as connection, connection.transaction():
        connection.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(audit))
        connection.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(tables))
        connection.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(audit))
    return postgres_session_schema


@pytest.fixture
def fresh_postgres_schema(postgres_dsn: str) -> Iterator[str]:
    """A schema of this session that does not exist yet, dropped after the test."""
    schema = f"selfsched_test_{_SESSION}_{next(_schemas)}"
    yield schema
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the store under test."""
    name: str = request.param
    return name


@pytest.fixture
def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory of store instances that all share one database (``wait``: lock wait, seconds).

    The in-memory store has no database to share, so its factory returns the same instance.
    """
    if backend == "memory":
        memory = InMemoryStore()
        return lambda **_: memory
    if backend == "sqlite":
        path = tmp_path / "selfsched.db"
        return lambda wait=10.0: SqliteStore(path, timeout=wait)
    dsn = request.getfixturevalue("postgres_dsn")
    schema = request.getfixturevalue("postgres_schema")
    return lambda wait=10.0: PostgresStore(dsn, schema=schema, lock_timeout=wait)


@pytest.fixture
def store(make_store: StoreFactory) -> AppointmentStore:
    """One store of the backend under test, empty."""
    return make_store()
