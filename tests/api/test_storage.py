"""The plan store: exact JSON, tenants, idempotency races, SQLite durability settings, restarts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from api.storage import Record, Storage


def record(record_id: str, tenant: str = "t1", key: str | None = None, digest: str = "h1") -> Record:
    return Record(
        kind="plan",
        id=record_id,
        tenant=tenant,
        request='{"pool_size":10}',
        response=json.dumps({"id": record_id, "cost": "1234567.10", "p": 0.1}, separators=(",", ":")),
        request_hash=digest,
        idempotency_key=key,
    )


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    store = Storage(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_tables()
    return store


def test_records_read_back_exactly_and_only_for_their_tenant(storage: Storage) -> None:
    storage.add(record("a"))
    stored = storage.get("plan", "t1", "a")
    assert stored is not None
    assert stored.response == '{"id":"a","cost":"1234567.10","p":0.1}'
    assert stored.created_at is not None
    assert storage.get("plan", "t2", "a") is None
    assert storage.get("quote", "t1", "a") is None


def test_a_second_insert_under_one_idempotency_key_returns_the_first(storage: Storage) -> None:
    first = storage.add(record("a", key="k"))
    second = storage.add(record("b", key="k", digest="h2"))
    assert second.id == first.id == "a"
    assert second.request_hash == "h1"
    assert storage.get("plan", "t1", "b") is None


def test_the_same_idempotency_key_is_free_for_another_tenant(storage: Storage) -> None:
    storage.add(record("a", key="k"))
    assert storage.add(record("b", tenant="t2", key="k")).id == "b"


def test_a_duplicate_id_without_a_key_raises(storage: Storage) -> None:
    storage.add(record("a"))
    with pytest.raises(IntegrityError):
        storage.add(record("a"))


def test_sqlite_files_use_wal_and_durable_commits(storage: Storage) -> None:
    with storage.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


def test_records_survive_a_new_storage_on_the_same_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first = Storage(url)
    first.create_tables()
    first.add(record("a", key="k"))
    first.dispose()
    second = Storage(url)
    second.create_tables()  # a restart creates nothing twice and drops nothing
    assert second.find_idempotent("plan", "t1", "k") == second.get("plan", "t1", "a")
    assert second.get("plan", "t1", "a") is not None


def test_ping_fails_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'missing-dir' / 'store.db'}")
    with pytest.raises(Exception, match="unable to open"):
        storage.ping()
