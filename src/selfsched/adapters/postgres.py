"""A PostgreSQL appointment store, for a practice that runs several backend instances.

Needs psycopg 3 (``pip install selfsched[postgres]``). Importing :mod:`selfsched` never imports
psycopg; importing this module without it raises :class:`ImportError` saying what to install.

**What the database itself guarantees**, whoever writes to it (another backend instance, a
script, a migration):

- no two ``BOOKED`` appointments of one clinician overlap: an exclusion constraint
  (``btree_gist``) over ``(clinician_id, tstzrange(start_at, end_at, '[)'))`` for booked rows,
  so back-to-back appointments are fine; a write that would break it raises
  :class:`~selfsched.errors.SlotUnavailable`;
- appointment ids, outbox ids, a client's idempotency keys and audit sequence numbers are
  unique (so the audit chain cannot fork); a duplicate raises :class:`~selfsched.errors.Conflict`;
- audit rows cannot be updated, deleted or truncated (a trigger refuses it);
- statuses are known values and every appointment ends after it starts.

**What the store adds.** Each unit of work is one ``READ COMMITTED`` transaction that first
takes a transaction-scoped advisory lock for its schema (``pg_advisory_xact_lock``), so the units
of every backend instance sharing the schema run one at a time and a check followed by a write
(the slot re-check, a client's own overlapping appointments, the audit chain) sees every unit
committed before it. The rules the database cannot know rest on that lock: whether a
``PENDING`` request holds its slot is the practice's policy, not a column, so pending placeholders
are kept apart by the lock and the service's re-check, not by the constraint. The outbox claims
that keep two instances from sending one email (:meth:`selfsched.Scheduler.dispatch`) rest on it
too.

Why one lock and not one per clinician: every change extends the single hash-chained audit
record, and a client's overlap check spans clinicians, so finer locks would still queue on the
chain and could deadlock between clinician and client locks. Units are short; a unit that waits
longer than ``lock_timeout`` raises :class:`~selfsched.errors.StorageError`.

Tables live in their own schema (``schema="selfsched"`` by default), so several stores (and test
runs) can share one database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
    from psycopg.pq import TransactionStatus
    from psycopg.types.json import Jsonb
except ImportError as exc:  # pragma: no cover  (tested in a subprocess without psycopg)
    raise ImportError(
        "selfsched.adapters.postgres needs psycopg 3: pip install selfsched[postgres]"
    ) from exc

from selfsched import _time, _validate
from selfsched.adapters import _checks, _codec
from selfsched.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    SlotUnavailable,
    StorageError,
    WrongType,
)
from selfsched.events import AuditEntry, OutboxItem
from selfsched.model import Appointment

__all__ = ["SCHEMA_VERSION", "ConnectionPool", "PostgresStore"]

SCHEMA_VERSION = 2
"""The version of the tables this module writes (kept in ``<schema>.schema_version``).

Version 2 added the outbox's ``not_before`` (retry back-off) and ``purged_at`` columns; a
version 1 schema is upgraded in place on first use."""

NO_DOUBLE_BOOKING = "appointments_no_double_booking"
"""The name of the exclusion constraint on booked appointments."""


@runtime_checkable
class ConnectionPool(Protocol):
    """What the store needs of a pool, e.g. ``psycopg_pool.ConnectionPool``."""

    def connection(self) -> AbstractContextManager[psycopg.Connection[Any]]: ...


ConnectionSource = str | Callable[[], psycopg.Connection[Any]] | ConnectionPool

_STATUSES = "('pending', 'booked', 'rejected', 'missed', 'cancelled', 'expired')"

_DDL = (
    "CREATE SCHEMA IF NOT EXISTS {s}",
    "CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer PRIMARY KEY)",
    """CREATE TABLE IF NOT EXISTS {s}.appointments (
        id text PRIMARY KEY,
        client_id text NOT NULL,
        clinician_id text NOT NULL,
        start_at timestamptz NOT NULL,
        end_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN """
    + _STATUSES
    + """),
        service_code text,
        code_modifier text,
        location text,
        origin text NOT NULL CHECK (origin IN ('client', 'staff')),
        created_at timestamptz,
        decided_at timestamptz,
        decided_by text,
        cancelled_at timestamptz,
        late_cancellation boolean NOT NULL,
        version integer NOT NULL,
        CONSTRAINT appointments_end_after_start CHECK (start_at < end_at),
        CONSTRAINT """
    + NO_DOUBLE_BOOKING
    + """ EXCLUDE USING gist (
            clinician_id WITH =,
            tstzrange(start_at, end_at, '[)') WITH &&
        ) WHERE (status = 'booked')
    )""",
    """CREATE INDEX IF NOT EXISTS appointments_clinician
        ON {s}.appointments (clinician_id, start_at)""",
    "CREATE INDEX IF NOT EXISTS appointments_client ON {s}.appointments (client_id, start_at)",
    """CREATE INDEX IF NOT EXISTS appointments_open ON {s}.appointments (start_at)
        WHERE status IN ('pending', 'booked')""",
    """CREATE TABLE IF NOT EXISTS {s}.idempotency_keys (
        client_id text NOT NULL,
        key text NOT NULL,
        fingerprint text NOT NULL,
        appointment_id text NOT NULL,
        PRIMARY KEY (client_id, key)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.outbox (
        id text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('email', 'chart_note')),
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        attempts integer NOT NULL,
        uncertain boolean NOT NULL,
        delivered_at timestamptz,
        failed boolean NOT NULL,
        last_error text,
        claimed_until timestamptz,
        not_before timestamptz,
        purged_at timestamptz
    )""",
    # Version 1 to 2: the columns a version 1 outbox lacks.
    "ALTER TABLE {s}.outbox ADD COLUMN IF NOT EXISTS not_before timestamptz",
    "ALTER TABLE {s}.outbox ADD COLUMN IF NOT EXISTS purged_at timestamptz",
    """CREATE INDEX IF NOT EXISTS outbox_waiting ON {s}.outbox (created_at, id)
        WHERE delivered_at IS NULL AND NOT failed""",
    """CREATE TABLE IF NOT EXISTS {s}.audit (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        seq bigint NOT NULL UNIQUE,
        at text NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        outcome text NOT NULL,
        appointment_id text,
        error text,
        before text,
        after text,
        changes jsonb NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL
    )""",
    """CREATE OR REPLACE FUNCTION {s}.audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the selfsched audit record is append-only'
                USING ERRCODE = 'integrity_constraint_violation';
        END
        $$""",
    "DROP TRIGGER IF EXISTS audit_append_only ON {s}.audit",
    """CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {s}.audit
        FOR EACH ROW EXECUTE FUNCTION {s}.audit_append_only()""",
    "DROP TRIGGER IF EXISTS audit_no_truncate ON {s}.audit",
    """CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {s}.audit
        FOR EACH STATEMENT EXECUTE FUNCTION {s}.audit_append_only()""",
)

_SETUP_LOCK_KEY = "selfsched.schema-setup"
_MAX_IDENTIFIER = 63
"""PostgreSQL silently truncates longer names."""

_APPOINTMENTS = sql.SQL(", ").join(sql.Identifier(c) for c in _codec.APPOINTMENT_COLUMNS)
_OUTBOX = sql.SQL(", ").join(sql.Identifier(c) for c in _codec.OUTBOX_COLUMNS)
_OUTBOX_MARKS = sql.SQL(", ").join([sql.Placeholder()] * len(_codec.OUTBOX_COLUMNS))
_OUTBOX_UPDATES = sql.SQL(", ").join(
    sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in _codec.OUTBOX_COLUMNS[1:]
)
_AUDIT = sql.SQL(
    "seq, at, actor, action, outcome, appointment_id, error, before, after, changes, "
    "prev_hash, hash"
)


def _storage_error(exc: psycopg.Error) -> StorageError:
    return StorageError(f"The PostgreSQL store failed: {exc}. Nothing of this unit was kept.")


def _translate(exc: psycopg.Error) -> Conflict | SlotUnavailable | StorageError:
    """Our error for a psycopg error raised outside a single write (e.g. at commit)."""
    if isinstance(exc, pg_errors.ExclusionViolation):
        return SlotUnavailable()
    if isinstance(exc, pg_errors.SerializationFailure | pg_errors.DeadlockDetected):
        return Conflict("Another unit of work changed the same data at the same time; try again.")
    if isinstance(exc, pg_errors.LockNotAvailable):
        return StorageError(
            "Timed out waiting for another unit of work on the PostgreSQL store; try again, or "
            "raise lock_timeout if units are slow."
        )
    return _storage_error(exc)


def _utc(value: Any) -> datetime:  # noqa: ANN401  (a value from the driver)
    return _time.to_utc("stored instant", value)


def _instant(name: str, value: datetime) -> datetime:
    return _time.to_utc(name, value)


def _as_dict(value: Any) -> Mapping[str, Any]:  # noqa: ANN401  (a value from the driver)
    """A ``jsonb`` payload as the driver decoded it: it must be an object."""
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


class _PostgresUnit:
    """The reads and writes of one transaction holding the schema's advisory lock."""

    def __init__(self, connection: psycopg.Connection[Any], schema: sql.Identifier) -> None:
        self._c = connection
        self._s = schema

    def _q(self, text: str, **parts: sql.Composable) -> sql.Composed:
        return sql.SQL(text).format(s=self._s, **parts)

    def _rows(self, query: sql.Composed, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._c.execute(query, params).fetchall()
        except psycopg.Error as exc:
            raise _translate(exc) from exc

    def _write(
        self,
        query: sql.Composed,
        params: Sequence[Any],
        *,
        duplicate: str | None = None,
        slot: datetime | None = None,
    ) -> int:
        try:
            with self._c.transaction():  # a savepoint: a refused write leaves the unit usable
                return self._c.execute(query, params).rowcount
        except pg_errors.ExclusionViolation as exc:
            raise SlotUnavailable(slot) from exc
        except pg_errors.UniqueViolation as exc:
            if duplicate is None:
                raise _storage_error(exc) from exc
            raise Conflict(duplicate) from exc
        except psycopg.Error as exc:
            raise _translate(exc) from exc

    def _appointments(self, where: str, params: Sequence[Any]) -> list[Appointment]:
        query = self._q(  # *where* is one of this class's constant conditions
            "SELECT {cols} FROM {s}.appointments WHERE "  # noqa: S608
            + where
            + ' ORDER BY start_at, id COLLATE "C"',
            cols=_APPOINTMENTS,
        )
        return [_codec.appointment_from_row(row, _utc) for row in self._rows(query, params)]

    def get(self, appointment_id: str) -> Appointment | None:
        found = self._appointments(
            "id = %s", (_checks.identifier("appointment_id", appointment_id),)
        )
        return found[0] if found else None

    def for_clinician(self, clinician_id: str, start: datetime, end: datetime) -> list[Appointment]:
        return self._appointments(
            "clinician_id = %s AND start_at < %s AND %s < end_at",
            (
                _checks.identifier("clinician_id", clinician_id),
                _instant("end", end),
                _instant("start", start),
            ),
        )

    def for_client(self, client_id: str) -> list[Appointment]:
        return self._appointments("client_id = %s", (_checks.identifier("client_id", client_id),))

    def pending(self) -> list[Appointment]:
        return self._appointments("status = 'pending'", ())

    def open_after(self, instant: datetime) -> list[Appointment]:
        return self._appointments(
            "status IN ('pending', 'booked') AND start_at > %s", (_instant("instant", instant),)
        )

    def add(self, appointment: Appointment) -> None:
        values = _codec.appointment_to_row(_checks.appointment(appointment), _instant)
        self._write(
            self._q(
                "INSERT INTO {s}.appointments ({cols}) VALUES ({marks})",
                cols=_APPOINTMENTS,
                marks=sql.SQL(", ").join([sql.Placeholder()] * len(values)),
            ),
            values,
            duplicate=f"An appointment with id {appointment.id!r} already exists.",
            slot=appointment.start,
        )

    def replace(self, appointment: Appointment) -> None:
        values = _codec.appointment_to_row(_checks.appointment(appointment), _instant)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = %s").format(sql.Identifier(c)) for c in _codec.APPOINTMENT_COLUMNS[1:]
        )
        changed = self._write(
            self._q(
                "UPDATE {s}.appointments SET {assignments} WHERE id = %s AND version = %s",
                assignments=assignments,
            ),
            (*values[1:], appointment.id, appointment.version - 1),
            slot=appointment.start,
        )
        if changed:
            return
        stored = self._rows(
            self._q("SELECT version FROM {s}.appointments WHERE id = %s"), (appointment.id,)
        )
        if not stored:
            raise NotFound(appointment.id)
        raise Conflict(
            f"Appointment {appointment.id!r} was changed by someone else (version "
            f"{stored[0][0]}); reload it and try again."
        )

    def idempotent(self, client_id: str, key: str) -> tuple[str, str] | None:
        rows = self._rows(
            self._q(
                "SELECT fingerprint, appointment_id FROM {s}.idempotency_keys "
                "WHERE client_id = %s AND key = %s"
            ),
            (_checks.identifier("client_id", client_id), _checks.identifier("key", key)),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def remember(self, client_id: str, key: str, fingerprint: str, appointment_id: str) -> None:
        self._write(
            self._q(
                "INSERT INTO {s}.idempotency_keys (client_id, key, fingerprint, appointment_id) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (client_id, key) DO UPDATE SET "
                "fingerprint = excluded.fingerprint, appointment_id = excluded.appointment_id"
            ),
            (
                _checks.identifier("client_id", client_id),
                _checks.identifier("key", key),
                _checks.text("fingerprint", fingerprint),
                _checks.identifier("appointment_id", appointment_id),
            ),
        )

    @staticmethod
    def _outbox_values(item: OutboxItem) -> tuple[Any, ...]:
        return _codec.outbox_to_row(_checks.item(item), _instant, Jsonb)

    def add_outbox(self, item: OutboxItem) -> None:
        self._write(
            self._q(
                "INSERT INTO {s}.outbox ({cols}) VALUES ({marks})",
                cols=_OUTBOX,
                marks=_OUTBOX_MARKS,
            ),
            self._outbox_values(item),
            duplicate=f"An outbox item with id {item.id!r} already exists.",
        )

    def _outbox_items(self, where: str) -> list[OutboxItem]:
        query = self._q(  # *where* is one of this class's constant conditions
            "SELECT {cols} FROM {s}.outbox WHERE "  # noqa: S608
            + where
            + ' ORDER BY created_at, id COLLATE "C"',
            cols=_OUTBOX,
        )
        return [_codec.outbox_from_row(row, _utc, _as_dict) for row in self._rows(query)]

    def outbox(self) -> list[OutboxItem]:
        return self._outbox_items("delivered_at IS NULL AND NOT failed")

    def failed_outbox(self) -> list[OutboxItem]:
        return self._outbox_items("failed AND purged_at IS NULL")

    def update_outbox(self, item: OutboxItem) -> None:
        self._write(
            self._q(
                "INSERT INTO {s}.outbox ({cols}) VALUES ({marks}) "
                "ON CONFLICT (id) DO UPDATE SET {updates}",
                cols=_OUTBOX,
                marks=_OUTBOX_MARKS,
                updates=_OUTBOX_UPDATES,
            ),
            self._outbox_values(item),
        )

    @staticmethod
    def _audit_entry(row: Sequence[Any]) -> AuditEntry:
        return AuditEntry(
            seq=row[0],
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
            self._q("SELECT {cols} FROM {s}.audit ORDER BY position DESC LIMIT 1", cols=_AUDIT)
        )
        return self._audit_entry(rows[0]) if rows else None

    def append_audit(self, entry: AuditEntry) -> None:
        _checks.entry(entry)
        last = self._rows(self._q("SELECT seq FROM {s}.audit ORDER BY position DESC LIMIT 1"))
        _checks.follows(entry, last[0][0] if last else None)
        self._write(
            self._q(
                "INSERT INTO {s}.audit ({cols}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                cols=_AUDIT,
            ),
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
                Jsonb([list(pair) for pair in entry.changes]),
                entry.prev_hash,
                entry.hash,
            ),
            duplicate=f"The audit record already has an entry {entry.seq}; reload and retry.",
        )

    def audit(self) -> Sequence[AuditEntry]:
        rows = self._rows(self._q("SELECT {cols} FROM {s}.audit ORDER BY position", cols=_AUDIT))
        return tuple(self._audit_entry(row) for row in rows)


class PostgresStore:
    """An appointment store in a PostgreSQL schema, shared safely by several backend instances.

    *source* is a libpq connection string (a connection is opened per unit of work), a pool
    with a ``connection()`` context manager (e.g. ``psycopg_pool.ConnectionPool``), or a
    function returning a new connection (closed after the unit). *schema* holds the tables and
    names the lock the units take turns on; *lock_timeout* (seconds) is how long a unit waits
    for it before raising :class:`~selfsched.errors.StorageError`.
    """

    def __init__(
        self,
        source: ConnectionSource,
        *,
        schema: str = "selfsched",
        lock_timeout: float = 10.0,
    ) -> None:
        if not isinstance(source, str | ConnectionPool) and not callable(source):
            raise WrongType(
                "source", "a connection string, a pool or a function returning a connection", source
            )
        _validate.text("schema", schema)
        if (
            not isinstance(lock_timeout, int | float)
            or isinstance(lock_timeout, bool)
            or not lock_timeout > 0
        ):
            raise InvalidInput(
                f"lock_timeout must be a positive number of seconds, got {lock_timeout!r}."
            )
        if not schema or "\0" in schema or len(schema.encode()) > _MAX_IDENTIFIER:
            raise InvalidInput(
                f"{schema!r} is not a usable PostgreSQL schema name: give 1 to "
                f"{_MAX_IDENTIFIER} bytes without NUL."
            )
        self._source = source
        self.schema = schema
        self._s = sql.Identifier(schema)
        self._begin = sql.SQL(
            "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; "
            "SET LOCAL lock_timeout = {timeout}; "
            "SELECT pg_advisory_xact_lock(hashtextextended({key}, 0))"
        ).format(
            timeout=sql.Literal(f"{max(1, round(lock_timeout * 1000))}ms"),
            key=sql.Literal(f"selfsched.units:{schema}"),
        )
        self._ready = threading.Event()
        self._setup_lock = threading.Lock()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        source = self._source
        with ExitStack() as stack:
            try:
                if isinstance(source, str):
                    connection = stack.enter_context(psycopg.connect(source))
                elif isinstance(source, ConnectionPool):
                    connection = stack.enter_context(source.connection())
                else:
                    connection = stack.enter_context(source())
            except psycopg.Error as exc:
                raise StorageError(f"Cannot connect to PostgreSQL: {exc}") from exc
            if connection.info.transaction_status != TransactionStatus.IDLE:
                raise StorageError(
                    "The PostgreSQL connection handed to the store is inside a transaction; "
                    "give the store idle connections."
                )
            yield connection

    def _setup(self, connection: psycopg.Connection[Any]) -> None:
        """Create the schema and tables on first use and check the stored schema version."""
        if self._ready.is_set():
            return
        with self._setup_lock:
            if self._ready.is_set():
                return
            try:
                with connection.transaction():
                    version = self._stored_version(connection)
                    if version is None or version < SCHEMA_VERSION:
                        # Setting up the same schema from two instances at once: one waits.
                        connection.execute(
                            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                            (_SETUP_LOCK_KEY,),
                        )
                        connection.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
                        for statement in _DDL:
                            connection.execute(sql.SQL(statement).format(s=self._s))
                        connection.execute(
                            sql.SQL(
                                "INSERT INTO {s}.schema_version (version) VALUES (%s) "
                                "ON CONFLICT DO NOTHING"
                            ).format(s=self._s),
                            (SCHEMA_VERSION,),
                        )
                        version = self._stored_version(connection)
            except psycopg.Error as exc:
                raise StorageError(
                    f"Cannot set up the selfsched tables in schema {self.schema!r}: {exc}. The "
                    f"database user needs CREATE on the database (and the btree_gist extension "
                    f"installed, or the right to install it)."
                ) from exc
            if version is not None and version > SCHEMA_VERSION:
                raise StorageError(
                    f"Schema {self.schema!r} has version {version}, newer than this selfsched "
                    f"understands ({SCHEMA_VERSION}); upgrade selfsched."
                )
            self._ready.set()

    def _stored_version(self, connection: psycopg.Connection[Any]) -> int | None:
        exists = connection.execute(
            "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = %s "
            "AND tablename = 'schema_version'",
            (self.schema,),
        ).fetchone()
        if exists is None:
            return None
        row = connection.execute(
            sql.SQL("SELECT max(version) FROM {s}.schema_version").format(s=self._s)
        ).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def unit_of_work(self) -> Iterator[_PostgresUnit]:
        """One transaction holding the schema's lock: committed on normal exit, else rolled back."""
        with self._connection() as connection:
            self._setup(connection)
            try:
                with connection.transaction():
                    connection.execute(self._begin)
                    yield _PostgresUnit(connection, self._s)
            except psycopg.Error as exc:
                raise _translate(exc) from exc
