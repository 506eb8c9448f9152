"""The HTTP API over a real PostgreSQL server: a plan survives a restart byte for byte, readiness, odd ids.

The store itself is tested on PostgreSQL and SQLite alike in ``test_storage.py``; the server comes from
:mod:`tests.api.postgres_server`.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from annoplan.api.storage import Storage
from tests.api.conftest import AUTH, OTHER_AUTH
from tests.api.postgres_server import free_port


@pytest.fixture
def pg_client(make_client: Callable[..., TestClient], postgres_url: str) -> Callable[[], TestClient]:
    """Start an app (a new one on every call: a restart) on this test's PostgreSQL schema."""
    return lambda: make_client(database_url=postgres_url)


def test_a_plan_reads_back_identical_after_a_restart(
    pg_client: Callable[[], TestClient], plan_request: dict[str, Any]
) -> None:
    key = (
        string.digits + string.ascii_letters + string.punctuation
    ) * 2 + "x" * 67  # longest, every character
    assert len(key) == 255
    first = pg_client()
    assert first.get("/readyz").status_code == 200
    created = first.post("/v1/plans", json=plan_request, headers=AUTH | {"Idempotency-Key": key})
    assert created.status_code == 201
    first.app.state.storage.dispose()  # type: ignore[attr-defined]

    restarted = pg_client()  # a new app object on the same database
    assert restarted.get("/readyz").json() == {"status": "ready"}
    read = restarted.get(created.headers["location"], headers=AUTH)
    assert read.status_code == 200
    assert read.content == created.content  # byte for byte: money as decimal strings, every float digit
    retry = restarted.post("/v1/plans", json=plan_request, headers=AUTH | {"Idempotency-Key": key})
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == created.content
    assert restarted.get(created.headers["location"], headers=OTHER_AUTH).status_code == 404


@pytest.mark.parametrize("plan_id", ["%00", "a%00b", "x" * 500])
def test_ids_no_plan_can_have_are_404_not_a_database_error(
    pg_client: Callable[[], TestClient], plan_id: str
) -> None:
    assert pg_client().get(f"/v1/plans/{plan_id}", headers=AUTH).status_code == 404


def test_ping_fails_when_the_server_does_not_answer() -> None:
    storage = Storage(f"postgresql+psycopg://nobody:secret@127.0.0.1:{free_port()}/nothing?connect_timeout=5")
    with pytest.raises(OperationalError):
        storage.ping()
    storage.dispose()
