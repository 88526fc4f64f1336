"""The store contract (:mod:`selfsched.testing.contract`) run on every store selfsched ships.

Each class is what a user writes for their own store: a ``make_store`` fixture over one fresh
database per test. What only these stores do beyond the contract (lock wait timeouts, rows on
disk, constraints of the database) is tested in the modules of each store and below.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from selfsched.adapters.memory import InMemoryStore
from selfsched.adapters.postgres import PostgresStore
from selfsched.adapters.sqlite import SqliteStore
from selfsched.errors import StorageError
from selfsched.testing.contract import StoreContract, StoreFactory

from . import conftest
from .support import appointment


class TestInMemoryStore(StoreContract):
    """The in-memory store: one instance plays every backend instance."""

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        """The same new store on every call."""
        store = InMemoryStore()
        return lambda: store


class TestSqliteFileStore(StoreContract):
    """A SQLite file: each call opens another store object on it, as another process would."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> StoreFactory:
        """Stores over one new file."""
        path = tmp_path / "selfsched.db"
        return lambda: SqliteStore(path)


class TestSqliteInMemoryStore(StoreContract):
    """A SQLite ``:memory:`` database lives in one connection: one instance, shared."""

    @pytest.fixture
    def make_store(self) -> StoreFactory:
        """The same new store on every call."""
        store = SqliteStore(":memory:")
        return lambda: store


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    """PostgreSQL: each call is another store object on this session's schema, emptied for the
    test (see ``conftest.postgres_schema``)."""

    @pytest.fixture
    def make_store(self, postgres_dsn: str, postgres_schema: str) -> StoreFactory:
        """Stores over the emptied schema."""
        return lambda: PostgresStore(postgres_dsn, schema=postgres_schema)


@pytest.mark.parametrize("backend", conftest.SHARED_BACKENDS, indirect=True)
def test_a_unit_that_waits_too_long_is_a_storage_error(make_store: conftest.StoreFactory) -> None:
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


def test_the_doubles_import_neither_pytest_nor_hypothesis() -> None:
    """``selfsched.testing`` (the doubles) loads without pytest or Hypothesis; only its
    ``contract`` module needs them."""
    code = (
        "import sys, selfsched.testing; "
        "print(sorted({'pytest', '_pytest', 'hypothesis'} & set(sys.modules)))"
    )
    result = subprocess.run(  # noqa: S603  (our own interpreter and code)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "[]" == result.stdout.strip()
