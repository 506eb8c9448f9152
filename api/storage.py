"""Stored plans and quotes: SQLAlchemy 2 over an embedded SQLite file (WAL) or PostgreSQL.

One row per stored result: its kind (``plan``, ``quote``), id, owning tenant, the validated request and the
response, both as the exact JSON text the API sent (money stays decimal strings, floats keep every digit),
and the ``Idempotency-Key`` it was created with. A unique (tenant, kind, idempotency key) makes retries safe
across processes and machines: the database, not the app, decides which of two racing requests stored.
Every write is one insert in one transaction, so a failed request leaves nothing behind and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import DateTime, String, Text, UniqueConstraint, create_engine, event, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

#: how long an SQLite writer waits for another process's write to finish (milliseconds)
SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    pass


class RecordRow(Base):
    __tablename__ = "annoplan_records"
    __table_args__ = (
        UniqueConstraint("tenant", "kind", "idempotency_key", name="uq_annoplan_records_idempotency"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    request: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class Record:
    """A stored result: ``request`` and ``response`` are JSON text, exactly what was validated and sent."""

    kind: str
    id: str
    tenant: str
    request: str
    response: str
    request_hash: str
    idempotency_key: str | None = None
    created_at: dt.datetime | None = None


def _record(row: RecordRow) -> Record:
    return Record(
        kind=row.kind,
        id=row.id,
        tenant=row.tenant,
        request=row.request,
        response=row.response,
        request_hash=row.request_hash,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


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


class Storage:
    """Plans and quotes by (kind, tenant, id), and by idempotency key."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def create_tables(self) -> None:
        """Create missing tables (several processes may start at once: one of them wins, the rest see it)."""
        try:
            Base.metadata.create_all(self.engine)
        except (OperationalError, ProgrammingError, IntegrityError):
            Base.metadata.create_all(self.engine)

    def ping(self) -> None:
        """Raise unless the database answers a query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def get(self, kind: str, tenant: str, record_id: str) -> Record | None:
        """The ``kind`` record ``record_id`` of ``tenant``; None if it does not exist or is another's."""
        with Session(self.engine) as session:
            row = session.scalar(
                select(RecordRow).where(
                    RecordRow.kind == kind, RecordRow.id == record_id, RecordRow.tenant == tenant
                )
            )
            return _record(row) if row is not None else None

    def find_idempotent(self, kind: str, tenant: str, key: str) -> Record | None:
        """The ``kind`` record ``tenant`` created with idempotency key ``key``, if any."""
        with Session(self.engine) as session:
            row = session.scalar(
                select(RecordRow).where(
                    RecordRow.kind == kind, RecordRow.tenant == tenant, RecordRow.idempotency_key == key
                )
            )
            return _record(row) if row is not None else None

    def add(self, record: Record) -> Record:
        """Store ``record`` in one transaction and return what is stored under its idempotency key.

        That is ``record`` itself, or, when a request with the same key stored first (a concurrent retry),
        the earlier record: the caller compares request hashes.
        """
        stored = replace(record, created_at=record.created_at or dt.datetime.now(dt.UTC))
        row = RecordRow(
            kind=record.kind,
            id=record.id,
            tenant=record.tenant,
            created_at=stored.created_at,
            idempotency_key=record.idempotency_key,
            request_hash=record.request_hash,
            request=record.request,
            response=record.response,
        )
        try:
            with Session(self.engine) as session, session.begin():
                session.add(row)
        except IntegrityError:
            if record.idempotency_key is None:
                raise
            earlier = self.find_idempotent(record.kind, record.tenant, record.idempotency_key)
            if earlier is None:
                raise
            return earlier
        return stored

    def dispose(self) -> None:
        self.engine.dispose()
