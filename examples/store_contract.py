"""The store contract on a store of your own: a test module with one class.

This one runs the contract on selfsched's SQLite store; put your store in ``make_store``. Run it
with ``pytest examples/store_contract.py``, or as a script: ``python examples/store_contract.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from selfsched.adapters.sqlite import SqliteStore
from selfsched.testing.contract import StoreContract, StoreFactory


class TestSqliteStore(StoreContract):
    """Every test of the contract, on a SQLite file."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> StoreFactory:
        """Stores over one new, empty database file per test.

        Each call opens another store object on the file, as another backend process would.
        """
        path = tmp_path / "selfsched.db"
        return lambda: SqliteStore(path)


if __name__ == "__main__":
    # A fresh interpreter: pytest must load its plugins (Hypothesis's) before they are imported.
    command = [sys.executable, "-m", "pytest", __file__, "-q", "-p", "no:cacheprovider"]
    sys.exit(subprocess.call(command))  # noqa: S603  (this interpreter, this file)
