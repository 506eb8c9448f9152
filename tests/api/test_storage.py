"""The plan store, on SQLite and on PostgreSQL: exact JSON, tenants, idempotency and creation races, restarts.

Every test taking ``storage`` or ``store_url`` runs on both backends; PostgreSQL comes from
:mod:`tests.api.postgres_server` (a throwaway server, or ``ANNOPLAN_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from annoplan.api.storage import Position, Record, RecordRow, Storage

T = TypeVar("T")


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


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: an SQLite file, or a PostgreSQL schema of this test's own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def open_storage() -> Iterator[Callable[[str], Storage]]:
    """Open Storage objects on a URL (as separate processes would); all disposed at the end."""
    opened: list[Storage] = []

    def open_(url: str) -> Storage:
        opened.append(Storage(url))
        return opened[-1]

    yield open_
    for store in opened:
        store.dispose()


@pytest.fixture
def storage(store_url: str, open_storage: Callable[[str], Storage]) -> Storage:
    store = open_storage(store_url)
    store.create_tables()
    return store


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run ``calls`` in threads released together; their results in order (re-raises the first failure)."""
    barrier = threading.Barrier(len(calls))
    results: list[T | BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def row_count(storage: Storage) -> int:
    with storage.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(RecordRow)) or 0


def test_records_read_back_exactly_and_only_for_their_tenant(storage: Storage) -> None:
    storage.add(record("a"))
    stored = storage.get("plan", "t1", "a")
    assert stored is not None
    assert stored.response == '{"id":"a","cost":"1234567.10","p":0.1}'
    assert stored.created_at is not None
    assert storage.get("plan", "t2", "a") is None
    assert storage.get("quote", "t1", "a") is None


def test_a_record_reads_back_equal_to_what_add_returned(storage: Storage) -> None:
    response = '{"id":"a","cost":"98765432109876.05","p":0.30000000000000004,"name":"Ünïcödé € ✓ 🏷"}'
    added = storage.add(replace(record("a", key="k"), response=response))
    read = [storage.get("plan", "t1", "a"), storage.find_idempotent("plan", "t1", "k")]
    assert read == [added, added]
    assert added.response == response  # the JSON text itself, not re-encoded: money stays decimal strings
    for stored in [added, *read]:  # aware UTC, whatever the database keeps or its session time zone is
        assert stored is not None and stored.created_at is not None and stored.created_at.tzinfo is dt.UTC


def test_a_second_insert_under_one_idempotency_key_returns_the_first(storage: Storage) -> None:
    first = storage.add(record("a", key="k"))
    second = storage.add(record("b", key="k", digest="h2"))
    assert second.id == first.id == "a"
    assert second.request_hash == "h1"
    assert storage.get("plan", "t1", "b") is None


def test_the_same_idempotency_key_is_free_for_another_tenant(storage: Storage) -> None:
    storage.add(record("a", key="k"))
    assert storage.add(record("b", tenant="t2", key="k")).id == "b"
    assert storage.find_idempotent("plan", "t2", "k") == storage.get("plan", "t2", "b")
    assert storage.get("plan", "t2", "a") is None


def test_a_duplicate_id_without_a_key_raises(storage: Storage) -> None:
    storage.add(record("a"))
    with pytest.raises(IntegrityError):
        storage.add(record("a"))


def test_concurrent_inserts_under_one_key_store_the_first_and_return_it_to_all(
    storage: Storage, store_url: str, open_storage: Callable[[str], Storage]
) -> None:
    stores = [open_storage(store_url) for _ in range(6)]  # one per process racing on a retry
    returned = at_once([partial(store.add, record(f"r{i}", key="k")) for i, store in enumerate(stores)])
    assert len({stored.id for stored in returned}) == 1
    assert row_count(storage) == 1
    assert storage.find_idempotent("plan", "t1", "k") == returned[0]


def test_tables_are_created_once_when_several_processes_start_at_once(
    store_url: str, open_storage: Callable[[str], Storage]
) -> None:
    stores = [open_storage(store_url) for _ in range(6)]
    at_once([store.create_tables for store in stores])
    stores[0].add(record("a"))
    stores[1].create_tables()  # idempotent: creates nothing twice and drops nothing
    read = stores[2].get("plan", "t1", "a")
    assert read is not None and read == stores[0].get("plan", "t1", "a")


def test_records_survive_a_new_storage_on_the_same_database(
    store_url: str, open_storage: Callable[[str], Storage]
) -> None:
    first = open_storage(store_url)
    first.create_tables()
    added = first.add(record("a", key="k"))
    first.dispose()
    second = open_storage(store_url)
    second.create_tables()  # a restart creates nothing twice and drops nothing
    assert second.find_idempotent("plan", "t1", "k") == second.get("plan", "t1", "a") == added


def test_sqlite_files_use_wal_and_durable_commits(tmp_path: Path) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'store.db'}")
    with storage.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        busy_timeout = connection.execute(text("PRAGMA busy_timeout")).scalar()
        assert busy_timeout is not None and busy_timeout >= 1000
    storage.dispose()


def test_connections_opening_a_new_sqlite_file_together_all_switch_it_to_wal(tmp_path: Path) -> None:
    """Two connections asking for the switch at once may be refused without waiting (SQLite's deadlock
    rule); each must still get its connection. Several trials: the race is timing-dependent."""
    for trial in range(30):
        stores = [Storage(f"sqlite:///{tmp_path / f'store{trial}.db'}") for _ in range(8)]
        at_once([store.ping for store in stores])
        with stores[0].engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        for store in stores:
            store.dispose()


def test_ping_fails_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'missing-dir' / 'store.db'}")
    with pytest.raises(Exception, match="unable to open"):
        storage.ping()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"idempotency_key": "k" * 256},
            "idempotency_key is 256 characters long, its column holds at most 255",
        ),
        ({"id": "x" * 65}, "id is 65 characters long"),
        ({"response": '{"name":"a\x00b"}'}, "response contains a NUL character"),
    ],
)
def test_text_postgresql_cannot_hold_is_refused_on_every_backend(
    storage: Storage, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        storage.add(replace(record("a", key="k"), **change))
    assert row_count(storage) == 0


def test_lookups_of_ids_and_keys_no_record_can_have_find_nothing(storage: Storage) -> None:
    storage.add(record("a", key="k"))
    assert storage.get("plan", "t1", "a\x00") is None
    assert storage.get("plan", "t1", "a" * 1000) is None
    assert storage.find_idempotent("plan", "t1\x00", "k") is None
    assert storage.find_idempotent("plan", "t1", "k" * 1000) is None


def stored_at(storage: Storage, record_id: str, minutes: int, tenant: str = "t1") -> Record:
    """Add ``record_id`` as stored ``minutes`` after a fixed moment."""
    moment = dt.datetime(2030, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
    return storage.add(replace(record(record_id, tenant=tenant), created_at=moment))


def test_a_listing_is_the_tenants_own_kind_newest_first(storage: Storage) -> None:
    for minutes, record_id in enumerate(["a", "b", "c"]):
        stored_at(storage, record_id, minutes)
    stored_at(storage, "theirs", 10, tenant="t2")
    storage.add(replace(record("a-quote"), kind="quote"))
    listed = storage.listing("plan", "t1", 10)
    assert [item.id for item in listed] == ["c", "b", "a"]
    assert listed[0].response == record("c").response  # the stored JSON text, exactly
    assert listed[0].created_at == dt.datetime(2030, 1, 1, 0, 2, tzinfo=dt.UTC)
    assert [item.id for item in storage.listing("plan", "t2", 10)] == ["theirs"]
    assert storage.listing("plan", "nobody", 10) == []


def test_pages_after_a_position_neither_repeat_nor_skip_records_stored_at_one_moment(
    storage: Storage,
) -> None:
    for record_id in ["a", "b", "c", "d", "e"]:
        stored_at(storage, record_id, 0)  # ties on created_at are ordered by id, descending
    stored_at(storage, "newest", 1)
    seen: list[str] = []
    after: Position | None = None
    while page := storage.listing("plan", "t1", 2, after):
        seen += [item.id for item in page]
        after = Position(page[-1].created_at, page[-1].id)
    assert seen == ["newest", "e", "d", "c", "b", "a"]


def test_delete_removes_only_the_tenants_own_record(storage: Storage) -> None:
    stored_at(storage, "mine", 0)
    stored_at(storage, "theirs", 0, tenant="t2")
    assert storage.delete("plan", "t1", "theirs") is False
    assert storage.get("plan", "t2", "theirs") is not None
    assert storage.delete("quote", "t1", "mine") is False  # another kind
    assert storage.delete("plan", "t1", "mine") is True
    assert storage.get("plan", "t1", "mine") is None
    assert storage.delete("plan", "t1", "mine") is False
    assert storage.delete("plan", "t1", "a\x00b") is False  # no record can hold NUL


def test_the_listing_index_is_added_to_a_table_created_without_it(
    store_url: str, open_storage: Callable[[str], Storage]
) -> None:
    first = open_storage(store_url)
    first.create_tables()
    with first.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_annoplan_records_listing"))
    second = open_storage(store_url)
    second.create_tables()
    with second.engine.connect() as connection:
        names = {index["name"] for index in inspect(connection).get_indexes("annoplan_records")}
    assert "ix_annoplan_records_listing" in names


def test_newest_is_the_latest_record_of_the_tenants_own_lineage(storage: Storage) -> None:
    moment = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    for index, (record_id, tenant, lineage) in enumerate(
        [
            ("v1", "t1", "L"),
            ("v2", "t1", "L"),
            ("other", "t1", "M"),
            ("theirs", "t2", "L"),
            ("none", "t1", None),
        ]
    ):
        storage.add(
            replace(
                record(record_id, tenant), created_at=moment + dt.timedelta(minutes=index), lineage=lineage
            )
        )
    newest = storage.newest("plan", "t1", "L")
    assert newest is not None and newest.id == "v2" and newest.lineage == "L"
    assert storage.get("plan", "t1", "v1").lineage == "L"  # type: ignore[union-attr]
    assert storage.newest("plan", "t2", "L").id == "theirs"  # type: ignore[union-attr]
    assert storage.newest("quote", "t1", "L") is None
    assert storage.newest("plan", "t1", "unknown") is None
    assert storage.newest("plan", "t1", "a\x00b") is None  # no record can hold NUL


def test_the_lineage_column_is_added_to_a_table_created_without_it(
    store_url: str, open_storage: Callable[[str], Storage]
) -> None:
    first = open_storage(store_url)
    first.create_tables()
    with first.engine.begin() as connection:  # the table as an earlier version created it, with a record
        connection.execute(text("DROP INDEX ix_annoplan_records_lineage"))
        connection.execute(text("ALTER TABLE annoplan_records DROP COLUMN lineage"))
        connection.execute(
            text(
                "INSERT INTO annoplan_records (kind, id, tenant, created_at, request_hash, request, "
                "response) VALUES ('quote', 'old', 't1', :moment, 'h', '{}', '{}')"
            ),
            {"moment": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)},
        )
    second = open_storage(store_url)
    second.create_tables()
    second.create_tables()  # a second start finds the column and adds nothing
    with second.engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("annoplan_records")}
        indexes = {index["name"] for index in inspect(connection).get_indexes("annoplan_records")}
    assert "lineage" in columns and "ix_annoplan_records_lineage" in indexes
    old = second.get("quote", "t1", "old")
    assert old is not None and old.lineage is None
    second.add(replace(record("new"), kind="quote", lineage="L"))
    assert second.newest("quote", "t1", "L").id == "new"  # type: ignore[union-attr]
