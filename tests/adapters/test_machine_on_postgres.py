"""The scheduler state machine on the PostgreSQL store, against the same plain model.

The full budget (the hypothesis profile's examples x 50 steps) runs on the in-memory and SQLite
stores in ``tests/stateful``; over a network connection each step costs several round trips,
so PostgreSQL gets a smaller, derandomized budget, each example in a schema of its own.
"""

from __future__ import annotations

import itertools
import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from psycopg import sql

from selfsched.adapters.postgres import PostgresStore
from selfsched.ports import AppointmentStore
from stateful.test_scheduler_machine import SchedulerMachine

BUDGET = settings(
    max_examples=15,
    stateful_step_count=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.postgres
def test_scheduler_machine_on_postgres(postgres_dsn: str) -> None:
    """Every invariant of the state machine holds with PostgreSQL as the store."""
    prefix = f"selfsched_machine_{uuid.uuid4().hex[:8]}"
    numbers = itertools.count(1)

    class PostgresSchedulerMachine(SchedulerMachine):
        """The machine with a fresh PostgreSQL schema per example."""

        @staticmethod
        def make_store() -> AppointmentStore:
            """A store in a new schema of its own."""
            return PostgresStore(postgres_dsn, schema=f"{prefix}_{next(numbers)}")

    try:
        run_state_machine_as_test(PostgresSchedulerMachine, settings=BUDGET)
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{prefix}_%",)
            ).fetchall()
            for (name,) in rows:
                connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
