"""A SQLite appointment store: the embedded default, standard library only.

Each unit of work is one SQLite transaction opened with ``BEGIN IMMEDIATE``: it takes the
database's write lock before its first read, so two units that check a slot and then write to
it run one after the other, whether they come from two threads or two processes sharing the
file. The unit commits when its ``with`` block ends normally and rolls back when it raises.
A unit that cannot get the lock within ``timeout`` seconds raises
:class:`~selfsched.errors.StorageError`.

SQLite waits for a lock with the connection's busy handler, except where waiting could deadlock:
there it answers "database is locked" at once. Switching a new file to write-ahead logging is
such a case (the switch reads the file's header, then upgrades to a write to mark it WAL, and an
upgrade never waits), so several processes opening a new file together would see it. The store
therefore retries a start that SQLite calls busy, after a short pause, until ``timeout`` is
spent: a unit's start (table setup and ``BEGIN IMMEDIATE``) waits at most ``timeout`` in all.

A file database gets a fresh connection per unit (so the store is safe to share between
threads) and is switched to write-ahead logging. An in-memory database (``":memory:"``) lives
in one connection that units take turns on.

The tables are created on first use (``CREATE TABLE IF NOT EXISTS``) and their version is kept
in ``schema_version``. Instants are UTC ISO-8601 text, statuses their stable strings, outbox
payloads JSON, audit entries rows carrying their hashes; the audit table refuses ``UPDATE`` and
``DELETE``. Units do not nest: open one, finish it, then open the next.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from selfsched.adapters import _checks, _codec
from selfsched.errors import Conflict, InvalidInput, NotFound, StorageError, WrongType
from selfsched.events import AuditEntry, OutboxItem
from selfsched.model import Appointment

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

SCHEMA_VERSION = 2
"""The version of the tables this module writes (kept in the ``schema_version`` table).

Version 2 added the outbox's ``not_before`` (retry back-off) and ``purged_at`` columns; a
version 1 database is upgraded in place on first use (:data:`_UPGRADES`)."""

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)",
    """CREATE TABLE IF NOT EXISTS appointments (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        clinician_id TEXT NOT NULL,
        start_at TEXT NOT NULL,
        end_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('pending', 'booked', 'rejected', 'missed', 'cancelled', 'expired')),
        service_code TEXT,
        code_modifier TEXT,
        location TEXT,
        origin TEXT NOT NULL CHECK (origin IN ('client', 'staff')),
        created_at TEXT,
        decided_at TEXT,
        decided_by TEXT,
        cancelled_at TEXT,
        late_cancellation INTEGER NOT NULL,
        version INTEGER NOT NULL,
        CHECK (start_at < end_at)
    )""",
    "CREATE INDEX IF NOT EXISTS appointments_clinician ON appointments (clinician_id, start_at)",
    "CREATE INDEX IF NOT EXISTS appointments_client ON appointments (client_id, start_at)",
    "CREATE INDEX IF NOT EXISTS appointments_status ON appointments (status, start_at)",
    """CREATE TABLE IF NOT EXISTS idempotency_keys (
        client_id TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        appointment_id TEXT NOT NULL,
        PRIMARY KEY (client_id, key)
    )""",
    """CREATE TABLE IF NOT EXISTS outbox (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('email', 'chart_note')),
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        uncertain INTEGER NOT NULL,
        delivered_at TEXT,
        failed INTEGER NOT NULL,
        last_error TEXT,
        claimed_until TEXT,
        not_before TEXT,
        purged_at TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (created_at, id)
        WHERE delivered_at IS NULL AND failed = 0""",
    """CREATE TABLE IF NOT EXISTS audit (
        position INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        appointment_id TEXT,
        error TEXT,
        before TEXT,
        after TEXT,
        changes TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit record is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit record is append-only'); END""",
)

_UPGRADES: dict[int, tuple[str, ...]] = {
    1: (
        "ALTER TABLE outbox ADD COLUMN not_before TEXT",
        "ALTER TABLE outbox ADD COLUMN purged_at TEXT",
    ),
}
"""The statements that take the tables from a version to the next."""

_COLUMNS = ", ".join(_codec.APPOINTMENT_COLUMNS)
_SELECT = f"SELECT {_COLUMNS} FROM appointments"  # noqa: S608  (constant column names)
_INSERT = (
    f"INSERT INTO appointments ({_COLUMNS}) "  # noqa: S608  (constant column names)
    f"VALUES ({', '.join('?' * len(_codec.APPOINTMENT_COLUMNS))})"
)
_UPDATE = (  # constant column names
    "UPDATE appointments SET "  # noqa: S608
    + ", ".join(f"{c} = ?" for c in _codec.APPOINTMENT_COLUMNS[1:])
    + " WHERE id = ? AND version = ?"
)
_OUTBOX_COLUMNS = ", ".join(_codec.OUTBOX_COLUMNS)
_OUTBOX_INSERT = (
    f"INSERT INTO outbox ({_OUTBOX_COLUMNS}) "  # noqa: S608  (constant column names)
    f"VALUES ({', '.join('?' * len(_codec.OUTBOX_COLUMNS))})"
)
_OUTBOX_UPSERT = f"{_OUTBOX_INSERT} ON CONFLICT (id) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}" for c in _codec.OUTBOX_COLUMNS[1:]
)
_OUTBOX_SELECT = f"SELECT {_OUTBOX_COLUMNS} FROM outbox"  # noqa: S608  (constant column names)
_AUDIT_COLUMNS = (
    "seq, at, actor, action, outcome, appointment_id, error, before, after, changes, "
    "prev_hash, hash"
)

_UNIQUE_CODES = frozenset(
    {
        getattr(sqlite3, "SQLITE_CONSTRAINT_PRIMARYKEY", 1555),
        getattr(sqlite3, "SQLITE_CONSTRAINT_UNIQUE", 2067),
    }
)


_FIRST_PAUSE = 0.001
_LONGEST_PAUSE = 0.05
"""Seconds between two tries of a start SQLite answered "busy" without waiting (doubling)."""
_LONGEST_WAIT = 2_000_000.0
"""The longest busy wait SQLite takes (its milliseconds are a C int), in seconds."""


def _is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or one of its extended codes (e.g. SQLITE_BUSY_RECOVERY)."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


def _storage_error(exc: sqlite3.Error) -> StorageError:
    return StorageError(f"The SQLite store failed: {exc}. Nothing of this unit was kept.")


def _is_duplicate(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.IntegrityError) and (
        getattr(exc, "sqlite_errorcode", None) in _UNIQUE_CODES
    )


def _text(name: str, value: datetime) -> str:
    return _codec.instant_to_text(name, value)


class _SqliteUnit:
    """The reads and writes of one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._c = connection

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._c.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc

    def _write(self, sql: str, params: Sequence[Any], duplicate: str | None = None) -> int:
        try:
            return self._c.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            if duplicate is not None and _is_duplicate(exc):
                raise Conflict(duplicate) from exc
            raise _storage_error(exc) from exc

    def _appointments(self, where: str, params: Sequence[Any]) -> list[Appointment]:
        rows = self._rows(f"{_SELECT} WHERE {where} ORDER BY start_at, id", params)
        return [_codec.appointment_from_row(row, _codec.instant_from_text) for row in rows]

    def get(self, appointment_id: str) -> Appointment | None:
        found = self._appointments(
            "id = ?", (_checks.identifier("appointment_id", appointment_id),)
        )
        return found[0] if found else None

    def for_clinician(self, clinician_id: str, start: datetime, end: datetime) -> list[Appointment]:
        return self._appointments(
            "clinician_id = ? AND start_at < ? AND ? < end_at",
            (
                _checks.identifier("clinician_id", clinician_id),
                _text("end", end),
                _text("start", start),
            ),
        )

    def for_client(self, client_id: str) -> list[Appointment]:
        return self._appointments("client_id = ?", (_checks.identifier("client_id", client_id),))

    def pending(self) -> list[Appointment]:
        return self._appointments("status = 'pending'", ())

    def open_after(self, instant: datetime) -> list[Appointment]:
        return self._appointments(
            "status IN ('pending', 'booked') AND start_at > ?", (_text("instant", instant),)
        )

    def add(self, appointment: Appointment) -> None:
        self._write(
            _INSERT,
            _codec.appointment_to_row(_checks.appointment(appointment), _text),
            duplicate=f"An appointment with id {appointment.id!r} already exists.",
        )

    def replace(self, appointment: Appointment) -> None:
        values = _codec.appointment_to_row(_checks.appointment(appointment), _text)
        changed = self._write(_UPDATE, (*values[1:], appointment.id, appointment.version - 1))
        if changed:
            return
        stored = self._rows("SELECT version FROM appointments WHERE id = ?", (appointment.id,))
        if not stored:
            raise NotFound(appointment.id)
        raise Conflict(
            f"Appointment {appointment.id!r} was changed by someone else (version "
            f"{stored[0][0]}); reload it and try again."
        )

    def idempotent(self, client_id: str, key: str) -> tuple[str, str] | None:
        rows = self._rows(
            "SELECT fingerprint, appointment_id FROM idempotency_keys "
            "WHERE client_id = ? AND key = ?",
            (_checks.identifier("client_id", client_id), _checks.identifier("key", key)),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def remember(self, client_id: str, key: str, fingerprint: str, appointment_id: str) -> None:
        self._write(
            "INSERT INTO idempotency_keys (client_id, key, fingerprint, appointment_id) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (client_id, key) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, appointment_id = excluded.appointment_id",
            (
                _checks.identifier("client_id", client_id),
                _checks.identifier("key", key),
                _checks.text("fingerprint", fingerprint),
                _checks.identifier("appointment_id", appointment_id),
            ),
        )

    @staticmethod
    def _outbox_values(item: OutboxItem) -> tuple[Any, ...]:
        return _codec.outbox_to_row(
            _checks.item(item), _text, lambda data: json.dumps(data, sort_keys=True)
        )

    def add_outbox(self, item: OutboxItem) -> None:
        self._write(
            _OUTBOX_INSERT,
            self._outbox_values(item),
            duplicate=f"An outbox item with id {item.id!r} already exists.",
        )

    def _outbox_items(self, where: str) -> list[OutboxItem]:
        rows = self._rows(f"{_OUTBOX_SELECT} WHERE {where} ORDER BY created_at, id")
        return [_codec.outbox_from_row(row, _codec.instant_from_text, json.loads) for row in rows]

    def outbox(self) -> list[OutboxItem]:
        return self._outbox_items("delivered_at IS NULL AND failed = 0")

    def failed_outbox(self) -> list[OutboxItem]:
        return self._outbox_items("failed <> 0 AND purged_at IS NULL")

    def update_outbox(self, item: OutboxItem) -> None:
        self._write(_OUTBOX_UPSERT, self._outbox_values(item))

    @staticmethod
    def _audit_entry(row: Sequence[Any]) -> AuditEntry:
        return AuditEntry(
            seq=int(row[0]),
            at=datetime.fromisoformat(row[1]),
            actor=row[2],
            action=row[3],
            outcome=row[4],
            appointment_id=row[5],
            error=row[6],
            before=row[7],
            after=row[8],
            changes=_codec.changes_from_json(row[9]),
            prev_hash=row[10],
            hash=row[11],
        )

    def last_audit(self) -> AuditEntry | None:
        rows = self._rows(
            f"SELECT {_AUDIT_COLUMNS} FROM audit ORDER BY position DESC LIMIT 1"  # noqa: S608
        )
        return self._audit_entry(rows[0]) if rows else None

    def append_audit(self, entry: AuditEntry) -> None:
        _checks.entry(entry)
        last = self._rows("SELECT seq FROM audit ORDER BY position DESC LIMIT 1")
        _checks.follows(entry, last[0][0] if last else None)
        self._write(
            f"INSERT INTO audit ({_AUDIT_COLUMNS}) "  # noqa: S608  (constant column names)
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.seq,
                entry.at.isoformat(),  # exactly the text the entry's hash covers
                entry.actor,
                entry.action,
                entry.outcome,
                entry.appointment_id,
                entry.error,
                entry.before,
                entry.after,
                _codec.changes_to_json(entry.changes),
                entry.prev_hash,
                entry.hash,
            ),
            duplicate=f"The audit record already has an entry {entry.seq}; reload and retry.",
        )

    def audit(self) -> Sequence[AuditEntry]:
        rows = self._rows(f"SELECT {_AUDIT_COLUMNS} FROM audit ORDER BY position")  # noqa: S608
        return tuple(self._audit_entry(row) for row in rows)


def _rollback(connection: sqlite3.Connection) -> None:
    """Undo the open transaction, if any; the error that led here matters more than this one."""
    if connection.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")


def _is_memory(target: str, uri: bool) -> bool:
    if target in {"", ":memory:"}:
        return True
    return uri and (target.startswith("file::memory:") or "mode=memory" in target)


class SqliteStore:
    """An appointment store in a SQLite database file (or ``":memory:"``).

    *path_or_uri* is a file path or a ``file:`` URI (e.g. ``"file:app.db?mode=rwc"``).
    *timeout* is how long a unit waits for another unit's write lock before it raises
    :class:`~selfsched.errors.StorageError`. Safe to share between threads; several processes
    may open the same file.
    """

    def __init__(self, path_or_uri: str | os.PathLike[str], *, timeout: float = 10.0) -> None:
        if not isinstance(path_or_uri, str | os.PathLike):
            raise WrongType("path_or_uri", "a file path or a 'file:' URI", path_or_uri)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not timeout > 0:
            raise InvalidInput(f"timeout must be a positive number of seconds, got {timeout!r}.")
        self._target = os.fspath(path_or_uri)
        self._uri = isinstance(path_or_uri, str) and path_or_uri.startswith("file:")
        self._timeout = timeout
        self._memory = _is_memory(self._target, self._uri)
        self._ready = threading.Event()
        self._setup_lock = threading.Lock()
        self._shared: sqlite3.Connection | None = None
        self._shared_lock = threading.RLock()

    def _open(self) -> sqlite3.Connection:
        try:
            # isolation_level=None: the module issues no BEGIN of its own; units do.
            connection = sqlite3.connect(
                self._target,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=self._uri,
            )
            # Content the store drops (a delivered email's address and text, a chart note's
            # reason) is overwritten in the file, not left in free space.
            connection.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as exc:
            raise StorageError(f"Cannot open the SQLite database {self._target!r}: {exc}.") from exc
        return connection

    def _busy_error(self, exc: sqlite3.Error) -> StorageError:
        return StorageError(
            f"Could not start a unit of work on {self._target!r} within {self._timeout} s "
            f"({exc}); another unit holds the database. Try again, or give the store a longer "
            f"timeout."
        )

    def _until_not_busy(
        self, connection: sqlite3.Connection, deadline: float, attempt: Callable[[], object]
    ) -> None:
        """Run *attempt*; while SQLite answers "busy", roll back and run it again until *deadline*.

        Each try's own wait in SQLite's busy handler is capped at the time left, so the whole
        start never waits much longer than the store's ``timeout``. A busy answer past the
        deadline raises the store's "could not start" :class:`StorageError`.
        """
        pause = _FIRST_PAUSE
        while True:
            try:
                left = min(max(deadline - time.monotonic(), 0.001), _LONGEST_WAIT)
                connection.execute(f"PRAGMA busy_timeout = {round(left * 1000)}")
                attempt()
            except sqlite3.Error as exc:
                _rollback(connection)
                if not _is_busy(exc):
                    raise _storage_error(exc) from exc
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._busy_error(exc) from exc
                time.sleep(min(pause, left))
                pause = min(2 * pause, _LONGEST_PAUSE)
            else:
                return

    def _setup(self, connection: sqlite3.Connection, deadline: float) -> None:
        """Create the tables (once per store) and check the stored schema version.

        Safe when several processes set up one new file at once: one creates the tables, the
        others wait for it (within the deadline) and find them.
        """
        if self._ready.is_set():
            return
        with self._setup_lock:
            if self._ready.is_set():
                return
            self._until_not_busy(connection, deadline, lambda: self._create(connection))
            self._ready.set()

    def _create(self, connection: sqlite3.Connection) -> None:
        """One try of the setup; a busy answer from SQLite propagates, to be tried again."""
        if not self._memory:
            # Write-ahead logging: commits are cheaper and outside readers never block a unit.
            # Where WAL is impossible SQLite answers with the mode it keeps (the rollback
            # journal), which is also correct. On a new file another process is setting up,
            # this answers "busy" at once, without waiting: the caller tries again.
            connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                connection.execute(statement)
            found = connection.execute("SELECT max(version) FROM schema_version")
            version = found.fetchone()[0]
            if version is not None and version < SCHEMA_VERSION:
                for step in range(version, SCHEMA_VERSION):
                    for statement in _UPGRADES[step]:
                        connection.execute(statement)
            if version is None or version < SCHEMA_VERSION:
                connection.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
            elif version > SCHEMA_VERSION:
                raise StorageError(
                    f"The database {self._target!r} has schema version {version}, newer "
                    f"than this selfsched understands ({SCHEMA_VERSION}); upgrade selfsched."
                )
            connection.execute("COMMIT")
        finally:
            _rollback(connection)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if self._memory:
            with self._shared_lock:
                if self._shared is None:
                    self._shared = self._open()
                yield self._shared
            return
        connection = self._open()
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def unit_of_work(self) -> Iterator[_SqliteUnit]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on normal exit, rolled back on error."""
        deadline = time.monotonic() + self._timeout
        with self._connection() as connection:
            self._setup(connection, deadline)
            self._until_not_busy(
                connection, deadline, lambda: connection.execute("BEGIN IMMEDIATE")
            )
            try:
                yield _SqliteUnit(connection)
            except BaseException:
                _rollback(connection)
                raise
            try:
                connection.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(connection)
                raise _storage_error(exc) from exc

    def close(self) -> None:
        """Close the connection of an in-memory database (file databases hold none open)."""
        with self._shared_lock:
            if self._shared is not None:
                self._shared.close()
                self._shared = None
                self._ready.clear()  # a new connection is a new, empty database
