"""A selfsched ``AppointmentStore`` over SQLAlchemy 2 Core, to copy into your application.

selfsched reaches storage through :class:`selfsched.ports.AppointmentStore`. This module is one
written the way an application that already has a database and SQLAlchemy would write it. It is
an example, not part of the package, because its tables are meant to be changed: copy the file,
point :func:`appointments_table` at your own table and columns, and run the store contract
(``selfsched.testing.contract.StoreContract``) against your copy, as ``test_sqlalchemy_store.py``
beside it does on SQLite and PostgreSQL.

**Core, not the ORM.** selfsched's values (appointments, outbox items, audit entries) are frozen
``attrs`` classes that the service replaces and never mutates, and each method of a unit of work
is one statement of a known shape. The ORM's identity map, change tracking and flush ordering
would sit between those values and the rows without doing any work, and its mapped classes would
be a second, mutable copy of the model. Core keeps every statement in sight and the transaction
the one the store opens. If your tables are ORM-mapped already, give the store
``YourModel.__table__``: Core works on the same ``Table``.

**Locking.** Each unit of work is one transaction whose first statement updates the one row of
the lock table (``selfsched_lock``). That update serialises the units of every store instance
sharing the tables (threads, processes, backend servers, each with its own ``Engine``): a unit
that checks a slot and then writes runs wholly before or wholly after any other, so a slot
cannot be double-booked, the audit chain cannot fork, and an outbox item one dispatcher claimed
is seen as claimed by the next.

- PostgreSQL: the update locks the row until the transaction ends, and another unit's update
  waits for it. Units run ``READ COMMITTED`` (the store sets it), so once the wait is over every
  statement of the unit sees what the previous holder committed.
- SQLite: the update is a write, so it takes the database's write lock; as the first statement
  of its transaction it waits for the lock as ``BEGIN IMMEDIATE`` would, whether the ``sqlite3``
  driver begins transactions itself (its default) or the engine follows SQLAlchemy's recipe (a
  ``begin`` event hook emits ``BEGIN``). The tests run the contract both ways.

A unit that cannot take the lock within ``lock_timeout`` seconds raises
:class:`~selfsched.errors.StorageError` (PostgreSQL's ``lock_timeout``, SQLite's busy timeout).
A row is a portable lock: the same statement on every database, no advisory-lock key to choose.

**Mapping.** :func:`appointments_table` says where each appointment field lives. Each column has
a *key*, the field's name, which the code uses, and a *name*, the column's in the database; so a
renamed column changes its name only. The other tables (idempotency keys, outbox, audit, lock)
are selfsched's own. :meth:`SqlAlchemyStore.create_tables` creates whichever are missing; or put
them in your migrations.

**Instants** are aware and in UTC: ``timestamptz`` on PostgreSQL, fixed-width ISO-8601 text with
its offset elsewhere (``2026-03-04T10:00:00.000000+00:00``), which sorts as the instants do.
SQLAlchemy's own ``DateTime`` would drop the offset on SQLite. An audit entry's ``at`` is kept as
the exact text its hash covers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    DateTime,
    Executable,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, Engine, RowMapping
from sqlalchemy.exc import SQLAlchemyError, StatementError
from sqlalchemy.types import TypeDecorator, TypeEngine

from selfsched import Appointment, AppointmentStatus, Origin
from selfsched.adapters.codec import (
    changes_from_json,
    changes_to_json,
    payload_from_dict,
    payload_to_dict,
)
from selfsched.errors import (
    Conflict,
    InvalidInput,
    NaiveDatetime,
    NotFound,
    SelfschedError,
    StorageError,
    WrongType,
)
from selfsched.events import AuditEntry, OutboxItem

__all__ = [
    "APPOINTMENT_FIELDS",
    "SqlAlchemyStore",
    "SqlAlchemyUnit",
    "StoreTables",
    "UtcInstant",
    "appointments_table",
    "define_tables",
]

_T = TypeVar("_T")

# -- instants -------------------------------------------------------------------------------------


def _utc(name: str, value: object) -> datetime:
    """*value*, an aware datetime, in UTC; anything else is refused, naming *name*."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise NaiveDatetime(name, value)
    return value.astimezone(UTC)


class UtcInstant(TypeDecorator[datetime]):
    """An aware instant, read back in UTC: ``timestamptz`` on PostgreSQL, ISO text elsewhere."""

    impl = String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(32))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | str | None:
        if value is None:
            return None
        instant = _utc("instant", value)
        if dialect.name == "postgresql":
            return instant
        return instant.isoformat(timespec="microseconds")  # fixed width: sorts as instants do

    def process_result_value(self, value: object, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        found = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(found, datetime) or found.utcoffset() is None:
            raise StorageError(
                f"A stored instant {value!r} has no offset: selfsched did not write it."
            )
        return found.astimezone(UTC)


# -- tables ---------------------------------------------------------------------------------------

APPOINTMENT_FIELDS = (
    "id",
    "client_id",
    "clinician_id",
    "start",
    "end",
    "status",
    "service_code",
    "code_modifier",
    "location",
    "origin",
    "created_at",
    "decided_at",
    "decided_by",
    "cancelled_at",
    "late_cancellation",
    "version",
)
"""The :class:`~selfsched.Appointment` fields the store keeps: the keys of the table's columns."""

_DEFAULT_NAMES = {"start": "start_at", "end": "end_at"}
"""Column names that differ from their field's name by default (``end`` is an SQL keyword)."""

_ID = String(255)
"""selfsched's ids are strings of at most 255 characters."""

_LOCK_ROW = "units"
"""The lock table's one row, which every unit of work updates first."""


def appointments_table(
    metadata: MetaData,
    name: str = "selfsched_appointments",
    *extra: Any,  # noqa: ANN401  (columns and constraints, as Table takes them)
    **names: str,
) -> Table:
    """The appointments table: a column for each of :data:`APPOINTMENT_FIELDS`, keyed by field.

    *names* renames columns: ``start="begins_at"`` keeps each appointment's start in a column
    named ``begins_at``. *extra* are further columns and constraints of your table that the store
    neither reads nor writes (so give a column of yours a default, or let it be ``NULL``).
    """
    unknown = sorted(set(names) - set(APPOINTMENT_FIELDS))
    if unknown:
        raise InvalidInput(
            f"{unknown} are not appointment fields; rename only {APPOINTMENT_FIELDS}."
        )

    def column(key: str, kind: Any, *, nullable: bool = False) -> Column[Any]:  # noqa: ANN401
        column_name = names.get(key, _DEFAULT_NAMES.get(key, key))
        return Column(column_name, kind, key=key, nullable=nullable, primary_key=key == "id")

    start, end = column("start", UtcInstant()), column("end", UtcInstant())
    status, origin = column("status", String(16)), column("origin", String(16))
    client_id, clinician_id = column("client_id", _ID), column("clinician_id", _ID)
    return Table(
        name,
        metadata,
        column("id", _ID),
        client_id,
        clinician_id,
        start,
        end,
        status,
        column("service_code", Text, nullable=True),
        column("code_modifier", Text, nullable=True),
        column("location", Text, nullable=True),
        origin,
        column("created_at", UtcInstant(), nullable=True),
        column("decided_at", UtcInstant(), nullable=True),
        column("decided_by", Text, nullable=True),
        column("cancelled_at", UtcInstant(), nullable=True),
        column("late_cancellation", Boolean),
        column("version", Integer),
        CheckConstraint(start < end, name=f"{name}_ends_after_start"),
        CheckConstraint(status.in_([str(s) for s in AppointmentStatus]), name=f"{name}_status"),
        CheckConstraint(origin.in_([str(o) for o in Origin]), name=f"{name}_origin"),
        Index(f"{name}_clinician", clinician_id, start),
        Index(f"{name}_client", client_id, start),
        Index(f"{name}_status", status, start),
        *extra,
    )


@dataclass(frozen=True)
class StoreTables:
    """The tables one store works on: appointments and selfsched's own four."""

    appointments: Table
    idempotency_keys: Table
    outbox: Table
    audit: Table
    lock: Table

    def __post_init__(self) -> None:
        missing = [key for key in APPOINTMENT_FIELDS if key not in self.appointments.c]
        if missing:
            raise InvalidInput(
                f"The appointments table {self.appointments.name!r} has no column keyed "
                f"{missing}: give each field a column with key=<field> (appointments_table does)."
            )

    def all(self) -> tuple[Table, ...]:
        """Every table, in the order to create them."""
        return (self.appointments, self.idempotency_keys, self.outbox, self.audit, self.lock)


def define_tables(
    metadata: MetaData | None = None, *, appointments: Table | None = None
) -> StoreTables:
    """selfsched's tables on *metadata*, around *appointments* (by default
    :func:`appointments_table`). With ``MetaData(schema="scheduling")`` all live in that schema.
    """
    if metadata is None:
        metadata = MetaData() if appointments is None else appointments.metadata
    payload = JSON().with_variant(JSONB(), "postgresql")
    audit = Table(
        "selfsched_audit",
        metadata,
        Column("seq", BigInteger, primary_key=True, autoincrement=False),
        Column("at", Text, nullable=False),  # the exact text the entry's hash covers
        Column("actor", Text, nullable=False),
        Column("action", Text, nullable=False),
        Column("outcome", Text, nullable=False),
        Column("appointment_id", _ID),
        Column("error", Text),
        Column("before", Text),
        Column("after", Text),
        Column("changes", Text, nullable=False),
        Column("prev_hash", Text, nullable=False),
        Column("hash", Text, nullable=False),
    )
    _guard_append_only(audit)
    return StoreTables(
        appointments=appointments if appointments is not None else appointments_table(metadata),
        idempotency_keys=Table(
            "selfsched_idempotency_keys",
            metadata,
            Column("client_id", _ID),
            Column("key", _ID),
            Column("fingerprint", Text, nullable=False),
            Column("appointment_id", _ID, nullable=False),
            PrimaryKeyConstraint("client_id", "key"),
        ),
        outbox=Table(
            "selfsched_outbox",
            metadata,
            Column("id", _ID, primary_key=True),
            Column("kind", String(16), nullable=False),
            Column("payload", payload, nullable=False),
            Column("created_at", UtcInstant(), nullable=False),
            Column("attempts", Integer, nullable=False),
            Column("uncertain", Boolean, nullable=False),
            Column("delivered_at", UtcInstant()),
            Column("failed", Boolean, nullable=False),
            Column("last_error", Text),
            Column("claimed_until", UtcInstant()),
            Column("not_before", UtcInstant()),
            Column("purged_at", UtcInstant()),
        ),
        audit=audit,
        lock=Table(
            "selfsched_lock",
            metadata,
            Column("name", String(64), primary_key=True),
            Column("units", BigInteger, nullable=False),  # units begun: a write to take the lock
        ),
    )


def _guard_append_only(audit: Table) -> None:
    """Triggers that refuse to change or delete audit rows, created right after the table.

    On SQLite and PostgreSQL; on another database, give the application's role only ``INSERT``
    and ``SELECT`` on the audit table.
    """
    table, trigger = audit.fullname, f"{audit.name}_append_only"
    refusal = "'the selfsched audit record is append-only'"
    statements = {
        "sqlite": [
            (
                f"CREATE TRIGGER {trigger}_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, {refusal}); END"
            )
            for verb in ("UPDATE", "DELETE")
        ],
        "postgresql": [
            (
                f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION {refusal}; END $$"
            ),
            (
                f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
            ),
            (
                f"CREATE TRIGGER {trigger}_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
            ),
        ],
    }

    def create_triggers(target: Table, connection: Connection, **_: object) -> None:
        for statement in statements.get(connection.dialect.name, []):
            connection.exec_driver_sql(statement)

    event.listen(audit, "after_create", create_triggers)


# -- rows -----------------------------------------------------------------------------------------


def _checked(name: str, value: object, kind: type[_T]) -> _T:
    """*value* if it is a *kind*; else :class:`WrongType`, naming the argument."""
    if not isinstance(value, kind):
        raise WrongType(name, f"a {kind.__name__}", value)
    return value


def _appointment_values(appointment: Appointment) -> dict[str, object]:
    """Column values of *appointment*, by field; a status or an origin as its string value."""
    values = {key: getattr(appointment, key) for key in APPOINTMENT_FIELDS}
    values["status"], values["origin"] = str(appointment.status), str(appointment.origin)
    return values


def _appointment(table: Table, row: RowMapping) -> Appointment:
    """The appointment of a row of *table*; :class:`StorageError` if the row is malformed."""
    values = {key: row[table.c[key]] for key in APPOINTMENT_FIELDS}
    try:
        return Appointment(
            **(
                values
                | {
                    "status": AppointmentStatus(values["status"]),
                    "origin": Origin(values["origin"]),
                    "late_cancellation": bool(values["late_cancellation"]),
                }
            )
        )
    except (SelfschedError, TypeError, ValueError) as exc:
        raise StorageError(f"Stored appointment {values['id']!r} is malformed: {exc}") from exc


_OUTBOX_FIELDS = (
    "id",
    "created_at",
    "attempts",
    "uncertain",
    "delivered_at",
    "failed",
    "last_error",
    "claimed_until",
    "not_before",
    "purged_at",
)
"""The outbox item's fields kept as they are; its payload is kept as JSON, with its kind."""


def _outbox_values(item: OutboxItem) -> dict[str, object]:
    """Column values of *item*: its payload as a JSON object, and the payload's kind."""
    payload = payload_to_dict(item.payload)
    return {key: getattr(item, key) for key in _OUTBOX_FIELDS} | {
        "kind": payload["type"],
        "payload": payload,
    }


def _outbox_item(table: Table, row: RowMapping) -> OutboxItem:
    """The outbox item of a row of *table*; :class:`StorageError` if the row is malformed."""
    values = {key: row[table.c[key]] for key in _OUTBOX_FIELDS}
    payload = row[table.c.payload]
    if not isinstance(payload, Mapping):
        raise StorageError(f"Outbox item {values['id']!r} has a malformed payload.")
    try:
        return OutboxItem(
            **(
                values
                | {
                    "payload": payload_from_dict(payload),
                    "uncertain": bool(values["uncertain"]),
                    "failed": bool(values["failed"]),
                }
            )
        )
    except (SelfschedError, TypeError, ValueError) as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"Stored outbox item {values['id']!r} is malformed: {exc}") from exc


_AUDIT_TEXT = ("actor", "action", "outcome", "appointment_id", "error", "before", "after")
"""The audit entry's fields kept as they are (text, or ``NULL``)."""


def _audit_values(entry: AuditEntry) -> dict[str, object]:
    """Column values of *entry*: ``at`` as the text its hash covers, its changes as JSON text."""
    return {key: getattr(entry, key) for key in _AUDIT_TEXT} | {
        "seq": entry.seq,
        "at": entry.at.isoformat(),  # exactly the text the entry's hash covers
        "changes": changes_to_json(entry.changes),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _audit_entry(table: Table, row: RowMapping) -> AuditEntry:
    """The audit entry of a row of *table*, hash intact; :class:`StorageError` if malformed."""
    try:
        return AuditEntry(
            **{key: row[table.c[key]] for key in _AUDIT_TEXT},
            seq=int(row[table.c.seq]),
            at=datetime.fromisoformat(row[table.c.at]),
            changes=changes_from_json(row[table.c.changes]),
            prev_hash=row[table.c.prev_hash],
            hash=row[table.c.hash],
        )
    except (SelfschedError, TypeError, ValueError) as exc:
        raise StorageError(f"Audit entry {row[table.c.seq]!r} is malformed: {exc}") from exc


def _soonest_first(appointment: Appointment) -> tuple[datetime, str]:
    """Start, then id in code-point order, whatever collation the database sorts text by."""
    return appointment.start, appointment.id


def _oldest_first(item: OutboxItem) -> tuple[datetime, str]:
    """Creation time, then id in code-point order."""
    return item.created_at, item.id


# -- errors ---------------------------------------------------------------------------------------


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's first line, without SQLAlchemy's copy of the statement and its parameters.

    Parameters hold clients' details (an email address, a cancellation reason) that do not
    belong in an error message; PostgreSQL's ``DETAIL`` line may quote a whole row.
    """
    cause: BaseException = exc
    if isinstance(exc, StatementError) and exc.orig is not None:
        cause = exc.orig
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}"


def _storage_error(exc: SQLAlchemyError) -> StorageError:
    return StorageError(f"The database failed ({_reason(exc)}). Nothing of this unit was kept.")


# -- the store ------------------------------------------------------------------------------------


class SqlAlchemyUnit:
    """The reads and writes of one unit of work: one transaction holding the lock row."""

    def __init__(self, connection: Connection, tables: StoreTables) -> None:
        self._c = connection
        self._t = tables

    def _rows(self, statement: Executable) -> Sequence[RowMapping]:
        try:
            return self._c.execute(statement).mappings().all()
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from exc

    def _write(self, statement: Executable) -> int:
        """Run an insert or update; the number of rows it wrote."""
        try:
            return self._c.execute(statement).rowcount
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from exc

    # appointments

    def _appointments(self, *conditions: ColumnElement[bool]) -> list[Appointment]:
        table = self._t.appointments
        columns = [table.c[key] for key in APPOINTMENT_FIELDS]
        rows = self._rows(select(*columns).where(*conditions))
        return sorted((_appointment(table, row) for row in rows), key=_soonest_first)

    def get(self, appointment_id: str) -> Appointment | None:
        table = self._t.appointments
        found = self._appointments(table.c.id == _checked("appointment_id", appointment_id, str))
        return found[0] if found else None

    def for_clinician(self, clinician_id: str, start: datetime, end: datetime) -> list[Appointment]:
        table = self._t.appointments
        return self._appointments(
            table.c.clinician_id == _checked("clinician_id", clinician_id, str),
            table.c.start < _utc("end", end),
            table.c.end > _utc("start", start),
        )

    def for_client(self, client_id: str) -> list[Appointment]:
        table = self._t.appointments
        return self._appointments(table.c.client_id == _checked("client_id", client_id, str))

    def pending(self) -> list[Appointment]:
        return self._appointments(self._t.appointments.c.status == str(AppointmentStatus.PENDING))

    def open_after(self, instant: datetime) -> list[Appointment]:
        table = self._t.appointments
        open_statuses = [str(AppointmentStatus.PENDING), str(AppointmentStatus.BOOKED)]
        return self._appointments(
            table.c.status.in_(open_statuses), table.c.start > _utc("instant", instant)
        )

    def add(self, appointment: Appointment) -> None:
        appointment = _checked("appointment", appointment, Appointment)
        if self.get(appointment.id) is not None:
            raise Conflict(f"An appointment with id {appointment.id!r} already exists.")
        self._write(insert(self._t.appointments).values(_appointment_values(appointment)))

    def replace(self, appointment: Appointment) -> None:
        appointment = _checked("appointment", appointment, Appointment)
        table = self._t.appointments
        values = _appointment_values(appointment)
        del values["id"]
        changed = self._write(
            update(table)
            .where(table.c.id == appointment.id, table.c.version == appointment.version - 1)
            .values(values)
        )
        if changed:
            return
        stored = self.get(appointment.id)
        if stored is None:
            raise NotFound(appointment.id)
        raise Conflict(
            f"Appointment {appointment.id!r} was changed by someone else (version "
            f"{stored.version}); reload it and try again."
        )

    # idempotency keys

    def _key(self, client_id: object, key: object) -> ColumnElement[bool]:
        table = self._t.idempotency_keys
        return (table.c.client_id == _checked("client_id", client_id, str)) & (
            table.c.key == _checked("key", key, str)
        )

    def idempotent(self, client_id: str, key: str) -> tuple[str, str] | None:
        table = self._t.idempotency_keys
        rows = self._rows(
            select(table.c.fingerprint, table.c.appointment_id).where(self._key(client_id, key))
        )
        return (rows[0][table.c.fingerprint], rows[0][table.c.appointment_id]) if rows else None

    def remember(self, client_id: str, key: str, fingerprint: str, appointment_id: str) -> None:
        table = self._t.idempotency_keys
        result = {
            "fingerprint": _checked("fingerprint", fingerprint, str),
            "appointment_id": _checked("appointment_id", appointment_id, str),
        }
        if not self._write(update(table).where(self._key(client_id, key)).values(result)):
            self._write(insert(table).values(result | {"client_id": client_id, "key": key}))

    # the outbox

    def _outbox_items(self, *conditions: ColumnElement[bool]) -> list[OutboxItem]:
        table = self._t.outbox
        rows = self._rows(select(table).where(*conditions))
        return sorted((_outbox_item(table, row) for row in rows), key=_oldest_first)

    def add_outbox(self, item: OutboxItem) -> None:
        item = _checked("item", item, OutboxItem)
        table = self._t.outbox
        if self._rows(select(table.c.id).where(table.c.id == item.id)):
            raise Conflict(f"An outbox item with id {item.id!r} already exists.")
        self._write(insert(table).values(_outbox_values(item)))

    def outbox(self) -> list[OutboxItem]:
        table = self._t.outbox
        return self._outbox_items(table.c.delivered_at.is_(None), table.c.failed.is_(False))

    def failed_outbox(self) -> list[OutboxItem]:
        table = self._t.outbox
        return self._outbox_items(table.c.failed.is_(True), table.c.purged_at.is_(None))

    def update_outbox(self, item: OutboxItem) -> None:
        item = _checked("item", item, OutboxItem)
        table, values = self._t.outbox, _outbox_values(item)
        if not self._write(update(table).where(table.c.id == item.id).values(values)):
            self._write(insert(table).values(values))

    # the audit record

    def last_audit(self) -> AuditEntry | None:
        table = self._t.audit
        rows = self._rows(select(table).order_by(table.c.seq.desc()).limit(1))
        return _audit_entry(table, rows[0]) if rows else None

    def append_audit(self, entry: AuditEntry) -> None:
        entry = _checked("entry", entry, AuditEntry)
        table = self._t.audit
        last = self._rows(select(func.max(table.c.seq).label("last")))[0]["last"] or 0
        if entry.seq != last + 1:
            raise Conflict(
                f"Audit entry {entry.seq} does not follow entry {last}; reload the last entry "
                f"and chain to it."
            )
        self._write(insert(table).values(_audit_values(entry)))

    def audit(self) -> Sequence[AuditEntry]:
        table = self._t.audit
        return tuple(
            _audit_entry(table, row) for row in self._rows(select(table).order_by(table.c.seq))
        )


class SqlAlchemyStore:
    """An :class:`~selfsched.ports.AppointmentStore` in the database of a SQLAlchemy ``Engine``.

    *tables* are where it keeps its data (by default :func:`define_tables`); create them with
    :meth:`create_tables` or your migrations. *lock_timeout* is how many seconds a unit waits for
    another unit's lock before it raises :class:`~selfsched.errors.StorageError`. Safe to share
    between threads; any number of stores, in any number of processes, may share the tables.
    """

    def __init__(
        self, engine: Engine, tables: StoreTables | None = None, *, lock_timeout: float = 10.0
    ) -> None:
        _checked("engine", engine, Engine)
        if tables is not None:
            _checked("tables", tables, StoreTables)
        if (
            not isinstance(lock_timeout, int | float)
            or isinstance(lock_timeout, bool)
            or not lock_timeout > 0
        ):
            raise InvalidInput(
                f"lock_timeout must be a positive number of seconds, got {lock_timeout!r}."
            )
        self.tables = tables if tables is not None else define_tables()
        self.lock_timeout = lock_timeout
        if engine.dialect.name == "postgresql":
            # After waiting for the lock row, each statement must see what its holder committed.
            engine = engine.execution_options(isolation_level="READ COMMITTED")
        self._engine = engine

    def create_tables(self) -> None:
        """Create the tables that do not exist yet, and the lock's row. Safe to run again."""
        lock = self.tables.lock
        try:
            with self._engine.begin() as connection:
                for table in self.tables.all():
                    table.create(connection, checkfirst=True)
                found = connection.execute(select(lock.c.name).where(lock.c.name == _LOCK_ROW))
                if found.first() is None:
                    connection.execute(insert(lock).values(name=_LOCK_ROW, units=0))
        except SQLAlchemyError as exc:
            raise StorageError(f"Could not create the store's tables ({_reason(exc)}).") from exc

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlAlchemyUnit]:
        """One transaction holding the lock row: committed when the block ends, else rolled back."""
        try:
            with self._engine.connect() as connection, connection.begin():
                self._take_lock(connection)
                yield SqlAlchemyUnit(connection, self.tables)
        except SQLAlchemyError as exc:  # connecting or committing
            raise _storage_error(exc) from exc

    def _take_lock(self, connection: Connection) -> None:
        """Update the lock row, first thing in the transaction, waiting at most lock_timeout."""
        milliseconds = max(1, round(self.lock_timeout * 1000))
        lock = self.tables.lock
        try:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    select(func.set_config("lock_timeout", f"{milliseconds}ms", True))
                )
            elif connection.dialect.name == "sqlite":
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {milliseconds}")
            taken = connection.execute(
                update(lock).where(lock.c.name == _LOCK_ROW).values(units=lock.c.units + 1)
            ).rowcount
        except SQLAlchemyError as exc:
            raise StorageError(
                f"Could not start a unit of work: taking the store's lock failed "
                f"({_reason(exc)}). If another unit held it longer than {self.lock_timeout} s, "
                f"try again or give the store a longer lock_timeout; if the lock table is "
                f"missing, run SqlAlchemyStore.create_tables() (or your migration) first."
            ) from exc
        if taken != 1:
            raise StorageError(
                f"The lock table {lock.name!r} has no {_LOCK_ROW!r} row: run "
                f"SqlAlchemyStore.create_tables() (or your migration) first."
            )
