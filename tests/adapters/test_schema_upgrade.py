"""A version 1 database (before the outbox's back-off and purge columns) is upgraded on first use.

The version 1 outbox table is written out here as it was released; the other tables did not
change. The upgrade keeps every row, and the upgraded store works like a new one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import attrs
import psycopg
import pytest
from psycopg import sql

from selfsched.adapters import postgres, sqlite
from selfsched.adapters.postgres import PostgresStore
from selfsched.adapters.sqlite import SqliteStore

from .support import NOW, email_item

V1_OUTBOX = """CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'chart_note')),
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    uncertain INTEGER NOT NULL,
    delivered_at TEXT,
    failed INTEGER NOT NULL,
    last_error TEXT,
    claimed_until TEXT
)"""
"""The SQLite outbox table of schema version 1."""

V1_ROW = (
    "o-1",
    "email",
    (
        '{"type": "email", "message_id": "<o-1.approved.v2@clinic.example.test>", "kind": '
        '"approved", "appointment_id": "a-1", "to": "client-1@example.test", "subject": "s", '
        '"text": "t", "html": "h"}'
    ),
    "2026-03-02T09:00:00.000000+00:00",
    0,
    0,
    None,
    0,
    None,
    None,
)
"""An email waiting in a version 1 outbox."""


def test_a_version_1_sqlite_file_is_upgraded_in_place(tmp_path: Path) -> None:
    """The outbox gains its two columns, the waiting email is still there (due at once), the
    schema version is 2, and the upgraded store accepts the new fields."""
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as connection:
        connection.execute(V1_OUTBOX)
        for statement in sqlite._SCHEMA:
            if "TABLE IF NOT EXISTS outbox" not in statement:
                connection.execute(statement)
        connection.execute("INSERT INTO schema_version (version) VALUES (1)")
        connection.execute(f"INSERT INTO outbox VALUES ({', '.join('?' * 10)})", V1_ROW)
    connection.close()

    store = SqliteStore(path)
    with store.unit_of_work() as uow:
        (waiting,) = uow.outbox()
        uow.update_outbox(attrs.evolve(waiting, not_before=NOW))

    assert ("o-1", None, None) == (waiting.id, waiting.not_before, waiting.purged_at)
    with sqlite3.connect(path) as connection:
        versions = connection.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        columns = [row[1] for row in connection.execute("PRAGMA table_info(outbox)")]
    connection.close()
    assert [(1,), (2,)] == versions
    assert ["not_before", "purged_at"] == columns[-2:]
    with SqliteStore(path).unit_of_work() as uow:
        assert [NOW] == [item.not_before for item in uow.outbox()]


@pytest.mark.postgres
def test_a_version_1_postgres_schema_is_upgraded_in_place(
    postgres_dsn: str, fresh_postgres_schema: str
) -> None:
    """The same on PostgreSQL: a schema that another instance set up at version 1 (the two
    columns dropped again here) is upgraded by the next store that opens it."""
    schema = sql.Identifier(fresh_postgres_schema)
    with PostgresStore(postgres_dsn, schema=fresh_postgres_schema).unit_of_work() as uow:
        uow.add_outbox(email_item("o-1"))
    with psycopg.connect(postgres_dsn) as connection, connection.transaction():
        connection.execute(
            sql.SQL("ALTER TABLE {}.outbox DROP COLUMN not_before, DROP COLUMN purged_at").format(
                schema
            )
        )
        connection.execute(sql.SQL("DELETE FROM {}.schema_version").format(schema))
        connection.execute(sql.SQL("INSERT INTO {}.schema_version VALUES (1)").format(schema))

    with PostgresStore(postgres_dsn, schema=fresh_postgres_schema).unit_of_work() as uow:
        (waiting,) = uow.outbox()

    assert ("o-1", None, None) == (waiting.id, waiting.not_before, waiting.purged_at)
    with psycopg.connect(postgres_dsn) as connection:
        found = connection.execute(
            sql.SQL("SELECT max(version) FROM {}.schema_version").format(schema)
        ).fetchone()
    assert (postgres.SCHEMA_VERSION,) == found
