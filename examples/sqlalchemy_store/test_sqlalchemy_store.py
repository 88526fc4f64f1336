"""Tests of the SQLAlchemy store, on SQLite and on PostgreSQL.

The selfsched store contract (:class:`selfsched.testing.contract.StoreContract`) runs once per
database: every documented behaviour of a unit of work, and races between units, several of them
between stores on Engines of their own. The tests after it cover what the contract cannot see:
the lock's timeout, a table of the practice's own, how instants are stored, the audit guard.

Run them with ``pytest examples/sqlalchemy_store`` (``nox -s examples`` does). The PostgreSQL
tests read a ``postgresql://`` URL from ``SELFSCHED_TEST_POSTGRES_DSN``: unset, they are skipped;
set but unreachable, they fail. Each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import sqlite3  # noqa: TID251  (only to name the type of the connection the recipe sets up)
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, event, make_url, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.schema import CreateSchema, DropSchema
from sqlalchemy_store import (
    SqlAlchemyStore,
    appointments_table,
    define_tables,
)

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    Client,
    ClientActor,
    Clinician,
    Practice,
    Scheduler,
    SchedulingMode,
    WorkHours,
)
from selfsched.errors import InvalidInput, NaiveDatetime, StorageError
from selfsched.events import AuditEntry, chain
from selfsched.testing import FixedClock, InMemoryDirectory, SequentialIds
from selfsched.testing.contract import StoreContract, StoreFactory

POSTGRES_ENV = "SELFSCHED_TEST_POSTGRES_DSN"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Monday 2 March 2026, 09:00 UTC."""
SLOT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
"""Wednesday 10:00 UTC: in work hours, on the grid, past the notice, inside the horizon."""
NEW_YORK = ZoneInfo("America/New_York")


class Stores:
    """Stores over one database, each on an Engine of its own, as separate backend processes.

    Calling it returns a new store; the first call is the store under test. The tables are
    created before the first call; every Engine is disposed of by :meth:`close`.
    """

    def __init__(
        self, url: URL, prepare: Callable[[Engine], None] | None = None, **options: object
    ) -> None:
        self._url = url
        self._prepare = prepare
        self._options = options
        self._engines: list[Engine] = []
        self.tables = define_tables()
        self().create_tables()

    def __call__(self, lock_timeout: float = 10.0) -> SqlAlchemyStore:
        # hide_parameters: an error's message never quotes a client's details.
        engine = create_engine(self._url, hide_parameters=True, **self._options)
        if self._prepare is not None:
            self._prepare(engine)
        self._engines.append(engine)
        return SqlAlchemyStore(engine, self.tables, lock_timeout=lock_timeout)

    def engine(self) -> Engine:
        """The first store's Engine, to look at the rows directly."""
        return self._engines[0]

    def close(self) -> None:
        """Close every connection of every Engine made."""
        for engine in self._engines:
            engine.dispose()


# -- databases ------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_stores(tmp_path: Path) -> Iterator[Stores]:
    """Stores over a new SQLite file."""
    stores = Stores(make_url(f"sqlite:///{tmp_path / 'selfsched.db'}"))
    yield stores
    stores.close()


def emit_begin(engine: Engine) -> None:
    """SQLAlchemy's recipe for SQLite: the driver emits no BEGIN, an event hook does instead."""

    @event.listens_for(engine, "connect")
    def driver_does_not_begin(dbapi_connection: sqlite3.Connection, _: object) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


@pytest.fixture
def sqlite_stores_emitting_begin(tmp_path: Path) -> Iterator[Stores]:
    """Stores over a new SQLite file, on engines that begin transactions by the recipe."""
    stores = Stores(make_url(f"sqlite:///{tmp_path / 'selfsched.db'}"), emit_begin)
    yield stores
    stores.close()


@pytest.fixture(scope="session")
def postgres_url() -> URL:
    """The test server as a SQLAlchemy URL: skip without one, fail when it cannot be used."""
    dsn = os.environ.get(POSTGRES_ENV, "").strip()
    if not dsn:
        pytest.skip(f"set {POSTGRES_ENV} to run the PostgreSQL tests")
    try:
        url = make_url(dsn).set(drivername="postgresql+psycopg")
    except ArgumentError as exc:
        pytest.fail(f"{POSTGRES_ENV} must be a postgresql:// URL for these tests: {exc}")
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        pytest.fail(f"{POSTGRES_ENV} is set but the PostgreSQL server cannot be used: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def postgres_stores(postgres_url: URL) -> Iterator[Stores]:
    """Stores over a new schema of the test database, dropped after the test."""
    schema = f"selfsched_sqlalchemy_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(CreateSchema(schema))
    stores = Stores(postgres_url, connect_args={"options": f"-c search_path={schema}"})
    try:
        yield stores
    finally:
        stores.close()
        with admin.connect() as connection:
            connection.execute(DropSchema(schema, cascade=True))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest) -> Stores:
    """Stores over a new database of each kind."""
    found: Stores = request.getfixturevalue(f"{request.param}_stores")
    return found


# -- the contract ---------------------------------------------------------------------------------


class TestContractOnSqlite(StoreContract):
    """The store contract over a SQLite file."""

    @pytest.fixture
    def make_store(self, sqlite_stores: Stores) -> StoreFactory:
        """A new store (and Engine) over the test's SQLite file at each call."""
        return sqlite_stores


class TestContractOnSqliteEmittingBegin(StoreContract):
    """The store contract over a SQLite file, with SQLAlchemy emitting BEGIN (not the driver)."""

    @pytest.fixture
    def make_store(self, sqlite_stores_emitting_begin: Stores) -> StoreFactory:
        """A new store (and Engine with the recipe's hooks) over the test's file at each call."""
        return sqlite_stores_emitting_begin


@pytest.mark.postgres
class TestContractOnPostgres(StoreContract):
    """The store contract over a schema of the PostgreSQL test database."""

    @pytest.fixture
    def make_store(self, postgres_stores: Stores) -> StoreFactory:
        """A new store (and Engine) over the test's PostgreSQL schema at each call."""
        return postgres_stores


# -- the lock -------------------------------------------------------------------------------------


def test_a_unit_that_waits_too_long_for_the_lock_is_a_storage_error(stores: Stores) -> None:
    """A unit that cannot take the lock within lock_timeout raises StorageError, writing nothing."""
    first, impatient = stores(), stores(lock_timeout=0.2)
    with first.unit_of_work() as held:
        held.remember("client-1", "key-1", "held", "a-1")
        with pytest.raises(StorageError, match="lock"), impatient.unit_of_work() as uow:
            uow.remember("client-1", "key-2", "impatient", "a-2")
    with first.unit_of_work() as uow:
        assert ("held", "a-1") == uow.idempotent("client-1", "key-1")
        assert uow.idempotent("client-1", "key-2") is None


def test_a_store_without_its_lock_row_says_to_create_the_tables(stores: Stores) -> None:
    """Units refuse to run unlocked: with the lock's row gone, StorageError names the fix."""
    with stores.engine().begin() as connection:
        connection.execute(stores.tables.lock.delete())
    with pytest.raises(StorageError, match="create_tables"), stores().unit_of_work():
        pass


# -- the table ------------------------------------------------------------------------------------

EXISTING_VISITS = """
    CREATE TABLE visits (
        visit_id VARCHAR(255) PRIMARY KEY,
        patient_id VARCHAR(255) NOT NULL,
        provider_id VARCHAR(255) NOT NULL,
        room VARCHAR(32),
        billing_state VARCHAR(16) NOT NULL DEFAULT 'unbilled'
    )
"""
"""A table the practice already had: selfsched's fields under other names, and two of its own."""

ADDED_TO_VISITS = [
    "ALTER TABLE visits ADD COLUMN begins_at VARCHAR(32) NOT NULL DEFAULT ''",
    "ALTER TABLE visits ADD COLUMN ends_at VARCHAR(32) NOT NULL DEFAULT ''",
    *(
        f"ALTER TABLE visits ADD COLUMN {column}"
        for column in (
            "status VARCHAR(16) NOT NULL DEFAULT 'pending'",
            "service_code TEXT",
            "code_modifier TEXT",
            "location TEXT",
            "origin VARCHAR(16) NOT NULL DEFAULT 'client'",
            "created_at VARCHAR(32)",
            "decided_at VARCHAR(32)",
            "decided_by TEXT",
            "cancelled_at VARCHAR(32)",
            "late_cancellation BOOLEAN NOT NULL DEFAULT FALSE",
            "version INTEGER NOT NULL DEFAULT 1",
        )
    ),
]
"""The migration that adds the fields selfsched needs and the table lacks (SQLite's types)."""


def visits_store(engine: Engine) -> SqlAlchemyStore:
    """A store that keeps appointments in the practice's own ``visits`` table."""
    metadata = MetaData()
    visits = appointments_table(
        metadata,
        "visits",
        id="visit_id",
        client_id="patient_id",
        clinician_id="provider_id",
        start="begins_at",
        end="ends_at",
    )
    store = SqlAlchemyStore(engine, define_tables(metadata, appointments=visits))
    store.create_tables()  # creates selfsched's own tables; visits exists, so it is left alone
    return store


def instant_scheduler(store: SqlAlchemyStore) -> Scheduler:
    """A scheduler over *store*: one clinician, one client, bookings kept at once."""
    clinician = Clinician(id="dr-a", name="Dr. Ada", work_hours=WorkHours.weekdays("09:00-17:00"))
    return Scheduler(
        store=store,
        directory=InMemoryDirectory.of([clinician], [Client(id="client-0", email=None)]),
        clock=FixedClock(NOW),
        ids=SequentialIds(),
        practice=Practice(name="Test Clinic", policy=ApprovalPolicy(mode=SchedulingMode.INSTANT)),
        auto_dispatch=False,
    )


def test_appointments_in_a_table_of_the_practice(tmp_path: Path) -> None:
    """The store reads and writes the practice's own columns and leaves its other ones alone."""
    engine = create_engine(f"sqlite:///{tmp_path / 'practice.db'}", hide_parameters=True)
    with engine.begin() as connection:
        connection.exec_driver_sql(EXISTING_VISITS)
        for statement in ADDED_TO_VISITS:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(  # a visit from before selfsched, its new fields filled
            "INSERT INTO visits (visit_id, patient_id, provider_id, room, begins_at, ends_at, "
            "status) VALUES ('v-0', 'p-1', 'dr-a', 'Room 3', "
            "'2026-03-03T14:00:00.000000+00:00', '2026-03-03T14:50:00.000000+00:00', 'booked')"
        )
    store = visits_store(engine)
    booked = instant_scheduler(store).book(ClientActor("client-0"), "dr-a", SLOT)
    with store.unit_of_work() as uow:
        assert booked == uow.get(booked.id)
        earlier = uow.get("v-0")
    assert earlier is not None
    assert ("p-1", AppointmentStatus.BOOKED) == (earlier.client_id, earlier.status)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT visit_id, patient_id, begins_at, room, billing_state FROM visits "
            "ORDER BY visit_id"
        ).all()
    assert [
        (booked.id, "client-0", "2026-03-04T10:00:00.000000+00:00", None, "unbilled"),
        ("v-0", "p-1", "2026-03-03T14:00:00.000000+00:00", "Room 3", "unbilled"),
    ] == [tuple(row) for row in rows]
    engine.dispose()


def test_a_table_without_a_field_is_refused() -> None:
    """Tables missing an appointment field are refused when the store's tables are defined."""
    metadata = MetaData()
    partial = Table("visits", metadata, Column("id", String(255), key="id", primary_key=True))
    with pytest.raises(InvalidInput, match="client_id"):
        define_tables(metadata, appointments=partial)
    with pytest.raises(InvalidInput, match="begin"):
        appointments_table(metadata, "visits", begin="begins_at")


def test_instants_are_stored_aware_in_utc(stores: Stores) -> None:
    """A start given in New York time is kept as a UTC instant, with its offset, and read back."""
    start = datetime(2026, 3, 4, 5, 0, tzinfo=NEW_YORK)
    appointment = Appointment(
        id="a-1",
        client_id="client-0",
        clinician_id="dr-a",
        start=start,
        end=start + timedelta(minutes=50),
        status=AppointmentStatus.PENDING,
    )
    with stores().unit_of_work() as uow:
        uow.add(appointment)
    with stores.engine().connect() as connection:
        stored = connection.execute(
            text("SELECT start_at FROM selfsched_appointments WHERE id = 'a-1'")
        ).scalar_one()
        kind = connection.execute(
            text(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = "
                "current_schema() AND table_name = 'selfsched_appointments' "
                "AND column_name = 'start_at'"
            )
            if connection.dialect.name == "postgresql"
            else text("SELECT typeof(start_at) FROM selfsched_appointments")
        ).scalar_one()
    if stores.engine().dialect.name == "sqlite":
        assert ("text", "2026-03-04T10:00:00.000000+00:00") == (kind, stored)
    else:
        assert "timestamp with time zone" == kind
        assert datetime(2026, 3, 4, 10, 0, tzinfo=UTC) == stored
        assert stored.utcoffset() is not None
    with stores().unit_of_work() as uow:
        read = uow.get("a-1")
        with pytest.raises(NaiveDatetime):
            uow.open_after(datetime(2026, 3, 4, 5, 0))  # noqa: DTZ001  (naive on purpose)
    assert read is not None
    assert (appointment, UTC) == (read, read.start.tzinfo)


def test_audit_rows_cannot_be_changed_or_deleted(stores: Stores) -> None:
    """The database refuses to update or delete an audit row, whoever asks."""
    with stores().unit_of_work() as uow:
        uow.append_audit(
            chain(
                None, AuditEntry(seq=0, at=NOW, actor="client:client-0", action="x", outcome="ok")
            )
        )
    audit = stores.tables.audit
    for statement in (audit.update().values(actor="someone else"), audit.delete()):
        with pytest.raises(DBAPIError, match="append-only"), stores.engine().begin() as connection:
            connection.execute(statement)
    with stores().unit_of_work() as uow:
        assert ["client:client-0"] == [e.actor for e in uow.audit()]
