"""Stored plans and quotes: SQLAlchemy 2 over an embedded SQLite file (WAL) or PostgreSQL.

One row per stored result: its kind (``plan``, ``quote``), id, owning tenant, the validated request and the
response, both as the exact JSON text the API sent (money stays decimal strings, floats keep every digit),
the ``Idempotency-Key`` it was created with, and its ``lineage``: what makes records versions of one thing
(a quote's: the hash of what was asked for, without the vendor's own pricing inputs), null for the others.
A unique (tenant, kind, idempotency key) makes retries safe across processes and machines: the database,
not the app, decides which of two racing requests stored. Every write is one insert in one transaction, so
a failed request leaves nothing behind and changes nothing.

A tenant's records of one kind are listed newest first, a page at a time (keyset pagination on
``(created_at, id)``: a page never repeats or skips a record because others were added or deleted), and a
record is deleted by (kind, tenant, id) only, so nobody can delete another tenant's.

Both backends behave alike (the tests run on both): ``created_at`` reads back as an aware UTC datetime (SQLite
keeps no offset, PostgreSQL answers in its session time zone), text longer than its column or holding a NUL
character (which PostgreSQL cannot store) is refused before it reaches the database, and several processes
creating the table at once serialise on a lock instead of failing.
"""

from __future__ import annotations

import datetime as dt
import errno
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DateTime,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

#: how long an SQLite writer waits for another process's write to finish (milliseconds)
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: the PostgreSQL advisory lock that processes creating the tables take in turn (any constant of our own)
CREATE_TABLES_LOCK = 0x616E6E6F706C616E  # "annoplan"


#: PostgreSQL's SQLSTATE for "disk full"
POSTGRES_DISK_FULL = "53100"
#: bytes the readiness probe writes (and deletes): a write that needs fresh space, as a plan's does
PROBE_BYTES = 4096


class StorageFull(RuntimeError):
    """The store cannot take a write: its disk (or database size limit) is full. Nothing was stored."""


def is_full(exc: BaseException) -> bool:
    """Whether a database error says the disk or the database is full (SQLite, PostgreSQL, or the OS)."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    if (
        isinstance(original, sqlite3.Error)
        and getattr(original, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    ):
        return True
    if getattr(original, "sqlstate", None) == POSTGRES_DISK_FULL:
        return True
    if isinstance(original, OSError) and original.errno == errno.ENOSPC:
        return True
    return "disk is full" in str(original) or "No space left" in str(original)


@contextmanager
def _full_as_storage_full() -> Iterator[None]:
    """Database or OS errors that say the store is full, raised as :class:`StorageFull`."""
    try:
        yield
    except (DBAPIError, OSError) as exc:
        if is_full(exc):
            raise StorageFull(str(exc.orig if isinstance(exc, DBAPIError) else exc)) from exc
        raise


class Base(DeclarativeBase):
    pass


class RecordRow(Base):
    __tablename__ = "annoplan_records"
    __table_args__ = (
        UniqueConstraint("tenant", "kind", "idempotency_key", name="uq_annoplan_records_idempotency"),
        # a tenant's records of a kind, newest first (the listing's order)
        Index("ix_annoplan_records_listing", "tenant", "kind", "created_at", "id"),
        # the versions of one thing, newest first
        Index("ix_annoplan_records_lineage", "tenant", "kind", "lineage", "created_at", "id"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    request: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)
    #: added after the first release: databases created before it get the column from create_tables
    lineage: Mapped[str | None] = mapped_column(String(64), nullable=True)


@dataclass(frozen=True)
class Record:
    """A stored result: ``request`` and ``response`` are JSON text, exactly what was validated and sent.

    ``created_at`` is an aware UTC datetime once stored (a naive one given to :meth:`Storage.add` is UTC).
    ``lineage`` groups the versions of one thing (:meth:`Storage.newest` finds the latest); None for a
    record that has no versions, and for those stored before lineages existed.
    """

    kind: str
    id: str
    tenant: str
    request: str
    response: str
    request_hash: str
    idempotency_key: str | None = None
    created_at: dt.datetime | None = None
    lineage: str | None = None


@dataclass(frozen=True)
class Listed:
    """A stored result as a listing shows it: its id, when it was stored (aware UTC) and its response's
    JSON text (the request, which may be large, is not read)."""

    id: str
    created_at: dt.datetime
    response: str


@dataclass(frozen=True)
class Position:
    """Where a page of a listing ends: the (``created_at``, ``id``) of its last record; the next page
    starts with the record just older (ties on ``created_at`` ordered by id, descending)."""

    created_at: dt.datetime
    id: str


def _utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC; a naive datetime (SQLite keeps no offset) is UTC already."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


#: the longest text each length-limited column holds (PostgreSQL enforces it, SQLite does not)
MAX_LENGTHS = {
    column.name: column.type.length
    for column in RecordRow.__table__.columns
    if isinstance(column.type, String) and column.type.length is not None
}


def _row(record: Record) -> RecordRow:
    """The table row of ``record`` (its ``created_at`` set)."""
    return RecordRow(
        kind=record.kind,
        id=record.id,
        tenant=record.tenant,
        created_at=record.created_at,
        idempotency_key=record.idempotency_key,
        request_hash=record.request_hash,
        request=record.request,
        response=record.response,
        lineage=record.lineage,
    )


def _check_storable(record: Record) -> None:
    """Raise ValueError for text PostgreSQL would refuse (so SQLite refuses it too): longer than its column,
    or holding NUL."""
    fields = ("kind", "id", "tenant", "idempotency_key", "request_hash", "request", "response", "lineage")
    for field in fields:
        value = getattr(record, field)
        if value is None:
            continue
        if "\x00" in value:
            raise ValueError(f"{field} contains a NUL character, which PostgreSQL cannot store")
        limit = MAX_LENGTHS.get(field)
        if limit is not None and len(value) > limit:
            raise ValueError(f"{field} is {len(value)} characters long, its column holds at most {limit}")


def _storable(*values: str) -> bool:
    """Whether a record with these values could exist: no stored text holds NUL (and PostgreSQL refuses
    a query with it), so lookups of such values answer "not found" without asking the database."""
    return not any("\x00" in value for value in values)


def _record(row: RecordRow) -> Record:
    return Record(
        kind=row.kind,
        id=row.id,
        tenant=row.tenant,
        request=row.request,
        response=row.response,
        request_hash=row.request_hash,
        idempotency_key=row.idempotency_key,
        created_at=_utc(row.created_at),
        lineage=row.lineage,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL (the file keeps it: done once). The switch needs the file to itself and SQLite
    may refuse it at once instead of waiting out the busy timeout, so processes opening a new file together
    (``annoplan serve`` and its workers, several instances) retry until the timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and durable commits."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    if in_memory:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _lock_schema(connection: Connection, backend: str) -> None:
    """Take, for the rest of ``connection``'s transaction, the lock that table creators take in turn."""
    if backend == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(CREATE_TABLES_LOCK)))
    else:  # SQLite: pysqlite opens no transaction for DDL by itself; this one waits for the write lock
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _add_missing_columns(connection: Connection, table: Table) -> None:
    """Add to ``table`` the columns it lacks (all nullable: rows stored before have none of them)."""
    existing = {column["name"] for column in inspect(connection).get_columns(table.name)}
    for column in table.columns:
        if column.name in existing:
            continue
        if not column.nullable:
            raise RuntimeError(f"cannot add the required column {column.name} to a table that has rows")
        kind = column.type.compile(dialect=connection.dialect)
        preparer = connection.dialect.identifier_preparer
        connection.exec_driver_sql(
            f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.quote(column.name)} {kind}"
        )


class Storage:
    """Plans and quotes by (kind, tenant, id), and by idempotency key."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def create_tables(self) -> None:
        """Create missing tables and indexes; existing ones are kept as they are.

        Several processes may start at once: each checks and creates in one transaction that first takes a
        lock (PostgreSQL: an advisory lock; SQLite: the write lock, ``BEGIN IMMEDIATE``), so one creates and
        the others then find the tables. Other databases retry once after a failed race.

        A table created by an earlier version gets the (nullable) columns added since, by ``ALTER TABLE``,
        before the indexes added since (which may use them).
        """
        backend = self.engine.dialect.name
        if backend not in ("postgresql", "sqlite"):
            try:
                Base.metadata.create_all(self.engine)
            except (OperationalError, ProgrammingError, IntegrityError):
                Base.metadata.create_all(self.engine)
            return
        with self.engine.begin() as connection:
            _lock_schema(connection, backend)
            Base.metadata.create_all(connection)
            _add_missing_columns(connection, Base.metadata.tables[RecordRow.__tablename__])
            for index in Base.metadata.tables[RecordRow.__tablename__].indexes:  # added since it was created
                index.create(connection, checkfirst=True)

    def ping(self) -> None:
        """Raise unless the database answers a query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def check_writable(self, min_free_bytes: int = 0) -> None:
        """Raise :class:`StorageFull` unless the store takes a write now: a probe row of
        :data:`PROBE_BYTES` inserted and deleted in one committed transaction, and (an SQLite file) at
        least ``min_free_bytes`` free on its disk. Other database errors propagate."""
        database = self.engine.url.database
        if self.engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
            free = shutil.disk_usage(Path(database).resolve().parent).free
            if free < min_free_bytes:
                raise StorageFull(
                    f"{free:,} bytes free on the database's disk, fewer than {min_free_bytes:,}"
                )
        probe = f"probe-{uuid.uuid4().hex}"
        with _full_as_storage_full(), Session(self.engine) as session, session.begin():
            session.add(
                RecordRow(
                    kind="probe",
                    id=probe,
                    tenant="",
                    created_at=dt.datetime.now(dt.UTC),
                    request_hash="",
                    request="x" * PROBE_BYTES,
                    response="",
                )
            )
            session.flush()
            session.query(RecordRow).filter(RecordRow.kind == "probe", RecordRow.id == probe).delete()

    def get(self, kind: str, tenant: str, record_id: str) -> Record | None:
        """The ``kind`` record ``record_id`` of ``tenant``; None if it does not exist or is another's."""
        return self._find(kind, tenant, RecordRow.id, record_id)

    def find_idempotent(self, kind: str, tenant: str, key: str) -> Record | None:
        """The ``kind`` record ``tenant`` created with idempotency key ``key``, if any."""
        return self._find(kind, tenant, RecordRow.idempotency_key, key)

    def _find(self, kind: str, tenant: str, column: InstrumentedAttribute[Any], value: str) -> Record | None:
        """The ``kind`` record of ``tenant`` whose ``column`` holds ``value``, if any."""
        if not _storable(kind, tenant, value):
            return None
        with Session(self.engine) as session:
            row = session.scalar(
                select(RecordRow).where(RecordRow.kind == kind, RecordRow.tenant == tenant, column == value)
            )
            return _record(row) if row is not None else None

    def newest(self, kind: str, tenant: str, lineage: str) -> Record | None:
        """The latest ``kind`` record of ``tenant`` in ``lineage`` (by ``created_at``, then id), if any."""
        if not _storable(kind, tenant, lineage):
            return None
        query = (
            select(RecordRow)
            .where(RecordRow.kind == kind, RecordRow.tenant == tenant, RecordRow.lineage == lineage)
            .order_by(RecordRow.created_at.desc(), RecordRow.id.desc())
            .limit(1)
        )
        with Session(self.engine) as session:
            row = session.scalar(query)
            return _record(row) if row is not None else None

    def listing(self, kind: str, tenant: str, limit: int, after: Position | None = None) -> list[Listed]:
        """Up to ``limit`` of ``tenant``'s ``kind`` records, newest first, starting after ``after``.

        Parameters
        ----------
        kind, tenant : str
            Which records: only this tenant's, of this kind.
        limit : int
            The most records returned (at least 1).
        after : Position, optional
            The last record of the previous page (None: the first page).

        Returns
        -------
        list of Listed
            Ordered by ``created_at`` descending, then id descending.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if not _storable(kind, tenant) or (after is not None and not _storable(after.id)):
            return []
        query = select(RecordRow.id, RecordRow.created_at, RecordRow.response).where(
            RecordRow.kind == kind, RecordRow.tenant == tenant
        )
        if after is not None:
            moment = _utc(after.created_at)
            query = query.where(
                or_(
                    RecordRow.created_at < moment,
                    and_(RecordRow.created_at == moment, RecordRow.id < after.id),
                )
            )
        query = query.order_by(RecordRow.created_at.desc(), RecordRow.id.desc()).limit(limit)
        with Session(self.engine) as session:
            rows = session.execute(query).all()
        return [Listed(id=row.id, created_at=_utc(row.created_at), response=row.response) for row in rows]

    def delete(self, kind: str, tenant: str, record_id: str) -> bool:
        """Delete ``tenant``'s ``kind`` record ``record_id`` in one transaction; False when there is none
        (it does not exist, or it is another tenant's: that one is left alone)."""
        if not _storable(kind, tenant, record_id):
            return False
        statement = delete(RecordRow).where(
            RecordRow.kind == kind, RecordRow.tenant == tenant, RecordRow.id == record_id
        )
        with Session(self.engine) as session, session.begin():
            deleted = session.execute(statement).rowcount  # type: ignore[attr-defined]
        return bool(deleted)

    def add(self, record: Record) -> Record:
        """Store ``record`` in one transaction and return what is stored under its idempotency key.

        That is ``record`` itself (``created_at`` set to now when None, in UTC), or, when a request with the
        same key stored first (a concurrent retry), the earlier record: the caller compares request hashes.

        Raises
        ------
        ValueError
            when a text is longer than its column or holds NUL (on every backend, not only PostgreSQL).
        StorageFull
            when the disk or the database is full (nothing is stored).
        sqlalchemy.exc.IntegrityError
            when the (kind, id) exists already and no earlier record has the idempotency key.
        """
        _check_storable(record)
        stored = replace(record, created_at=_utc(record.created_at or dt.datetime.now(dt.UTC)))
        row = _row(stored)
        try:
            with _full_as_storage_full(), Session(self.engine) as session, session.begin():
                session.add(row)
        except IntegrityError:
            if record.idempotency_key is None:
                raise
            earlier = self.find_idempotent(record.kind, record.tenant, record.idempotency_key)
            if earlier is None:
                raise
            return earlier
        return stored

    def put(self, record: Record) -> Record:
        """Store ``record`` in place of the ``kind`` record with its id, if any, in one transaction (a
        document that is replaced whole, as a plan's actuals are); ``created_at`` is set to now. Raises as
        :meth:`add` does (a failed write keeps the earlier record)."""
        _check_storable(record)
        stored = replace(record, created_at=dt.datetime.now(dt.UTC))
        row = _row(stored)
        statement = delete(RecordRow).where(
            RecordRow.kind == record.kind, RecordRow.tenant == record.tenant, RecordRow.id == record.id
        )
        with _full_as_storage_full(), Session(self.engine) as session, session.begin():
            session.execute(statement)
            session.add(row)
        return stored

    def dispose(self) -> None:
        self.engine.dispose()
