"""Listing and deleting stored plans and quotes, with two API keys, on SQLite and on PostgreSQL.

``GET /v1/plans`` and ``GET /v1/quotes`` page through the key's own items, newest first, with ``limit`` and
an opaque ``cursor``; ``DELETE`` removes one of the key's items and answers 404 for another key's.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from annoplan.api.auth import tenant_of
from annoplan.api.storage import Record, Storage
from tests.api.conftest import AUTH, KEY, OTHER_AUTH


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, make_client: Callable[..., TestClient]) -> TestClient:
    """An app on an empty SQLite file, or on a PostgreSQL schema of this test's own."""
    if request.param == "sqlite":
        return make_client()
    return make_client(database_url=request.getfixturevalue("postgres_url"))


def store_copies(client: TestClient, kind: str, response: dict[str, Any], n: int) -> list[str]:
    """Store ``n`` copies of ``response`` for the first key, one minute apart (the last is the newest)."""
    storage: Storage = client.app.state.storage  # type: ignore[attr-defined]
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    ids = []
    for i in range(n):
        copy_id = f"{i:032x}"
        storage.add(
            Record(
                kind=kind,
                id=copy_id,
                tenant=tenant_of(KEY),
                request="{}",
                response=json.dumps({**response, "id": copy_id}),
                request_hash=copy_id,
                created_at=start + dt.timedelta(minutes=i),
            )
        )
        ids.append(copy_id)
    return ids


def all_pages(client: TestClient, path: str, limit: int) -> list[list[str]]:
    """The ids of every page of a listing, following ``next_cursor`` to the end."""
    pages: list[list[str]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        answer = client.get(path, params=params, headers=AUTH)
        assert answer.status_code == 200, answer.text
        pages.append([item["id"] for item in answer.json()["items"]])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return pages
        params["cursor"] = cursor


def test_each_key_lists_its_own_plans_newest_first_with_summaries(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    first = client.post("/v1/plans", json=plan_request, headers=AUTH).json()
    theirs = client.post("/v1/plans", json=plan_request, headers=OTHER_AUTH).json()
    second = client.post("/v1/plans", json={**plan_request, "name": "second"}, headers=AUTH).json()

    mine = client.get("/v1/plans", headers=AUTH)
    assert mine.status_code == 200
    page = mine.json()
    assert [item["id"] for item in page["items"]] == [second["id"], first["id"]]
    assert page["next_cursor"] is None
    summary = page["items"][0]
    assert summary["name"] == "second" and summary["currency"] == "USD"
    assert summary["recommended_strategy"] == second["recommendation"]["strategy"]
    assert summary["cost"] == second["recommendation"]["cost"]
    assert dt.datetime.fromisoformat(summary["created_at"]).tzinfo is not None
    assert summary["created_at"] > page["items"][1]["created_at"]

    other = client.get("/v1/plans", headers=OTHER_AUTH).json()
    assert [item["id"] for item in other["items"]] == [theirs["id"]]
    assert client.get("/v1/quotes", headers=AUTH).json() == {"items": [], "next_cursor": None}


def test_pages_cover_every_plan_once_and_the_last_has_no_cursor(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    plan = client.post("/v1/plans", json=plan_request, headers=AUTH).json()
    ids = store_copies(client, "plan", plan, 5)
    pages = all_pages(client, "/v1/plans", limit=2)
    assert pages == [ids[:2:-1], ids[2:0:-1], [ids[0], plan["id"]]]
    assert all_pages(client, "/v1/plans", limit=6) == [[*ids[::-1], plan["id"]]]
    assert client.get("/v1/plans", headers=OTHER_AUTH).json()["items"] == []


def test_a_key_deletes_its_own_plan_and_gets_404_for_anothers(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    plan = client.post("/v1/plans", json=plan_request, headers=AUTH).json()
    url = f"/v1/plans/{plan['id']}"

    refused = client.delete(url, headers=OTHER_AUTH)
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:annoplan:problem:not-found"
    assert client.get(url, headers=AUTH).status_code == 200  # still there

    deleted = client.delete(url, headers=AUTH)
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(url, headers=AUTH).status_code == 404
    assert client.get(f"{url}/report.xlsx", headers=AUTH).status_code == 404
    assert client.get("/v1/plans", headers=AUTH).json()["items"] == []
    assert client.delete(url, headers=AUTH).status_code == 404


def test_quotes_are_listed_and_deleted_like_plans(
    client: TestClient, quote_request: dict[str, Any], plan_request: dict[str, Any]
) -> None:
    quote = client.post("/v1/quotes", json=quote_request, headers=AUTH).json()
    plan = client.post("/v1/plans", json=plan_request, headers=AUTH).json()
    theirs = client.post("/v1/quotes", json=quote_request, headers=OTHER_AUTH).json()

    page = client.get("/v1/quotes", headers=AUTH).json()
    assert [item["id"] for item in page["items"]] == [quote["id"]]
    summary = page["items"][0]
    for field in ("name", "vendor", "status", "currency", "valid_until", "price_per_correction", "price_cap"):
        assert summary[field] == quote[field], field

    assert client.delete(f"/v1/quotes/{theirs['id']}", headers=AUTH).status_code == 404
    assert client.delete(f"/v1/quotes/{plan['id']}", headers=AUTH).status_code == 404  # a plan's id
    assert client.delete(f"/v1/quotes/{quote['id']}", headers=AUTH).status_code == 204
    assert client.get("/v1/quotes", headers=AUTH).json()["items"] == []
    assert [i["id"] for i in client.get("/v1/quotes", headers=OTHER_AUTH).json()["items"]] == [theirs["id"]]
    assert client.get(f"/v1/plans/{plan['id']}", headers=AUTH).status_code == 200


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": ""}, "cursor"),
        ({"cursor": "x" * 201}, "cursor"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"cursor": cursor_of(["2030-01-01T00:00:00", "naive-time"])}, "cursor"),
        ({"cursor": cursor_of(["2030-01-01T00:00:00+00:00", "a\x00b"])}, "cursor"),
        ({"cursor": cursor_of({"created_at": 1})}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"\xff\xfe").decode()}, "cursor"),
    ],
    ids=[
        "limit 0",
        "limit 101",
        "limit not a number",
        "empty cursor",
        "long cursor",
        "not base64 JSON",
        "time without zone",
        "id with NUL",
        "an object",
        "not UTF-8",
    ],
)
@pytest.mark.parametrize("path", ["/v1/plans", "/v1/quotes"])
def test_bad_paging_parameters_are_422_naming_them(
    client: TestClient, path: str, params: dict[str, Any], field: str
) -> None:
    answer = client.get(path, params=params, headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["in"]) for e in answer.json()["errors"]] == [(field, "query")]


def test_a_cursor_from_another_key_shows_nothing_of_the_other_keys(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    plan = client.post("/v1/plans", json=plan_request, headers=AUTH).json()
    store_copies(client, "plan", plan, 2)
    cursor = client.get("/v1/plans", params={"limit": 1}, headers=AUTH).json()["next_cursor"]
    assert cursor is not None
    other = client.get("/v1/plans", params={"cursor": cursor}, headers=OTHER_AUTH)
    assert other.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/v1/plans"), ("get", "/v1/quotes"), ("delete", "/v1/plans/x"), ("delete", "/v1/quotes/x")],
)
def test_listing_and_deleting_need_a_key(client: TestClient, method: str, path: str) -> None:
    answer = client.request(method, path)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_deleted_plans_idempotency_key_creates_a_new_plan(
    client: TestClient, plan_request: dict[str, Any]
) -> None:
    headers = AUTH | {"Idempotency-Key": "order-17"}
    first = client.post("/v1/plans", json=plan_request, headers=headers).json()
    assert client.delete(f"/v1/plans/{first['id']}", headers=AUTH).status_code == 204
    again = client.post("/v1/plans", json=plan_request, headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first["id"]


def test_a_stored_record_keeps_its_json_when_listed(client: TestClient) -> None:
    """A listing reads the stored JSON of older versions too: only the fields a summary shows matter."""
    storage: Storage = client.app.state.storage  # type: ignore[attr-defined]
    old: dict[str, Any] = {
        "id": "0" * 32,
        "name": None,
        "currency": "KES",
        "recommendation": {"strategy": "manual"},
    }
    storage.add(
        Record(
            kind="plan",
            id=old["id"],
            tenant=tenant_of(KEY),
            request="{}",
            response=json.dumps(old),
            request_hash="h",
        )
    )
    [item] = client.get("/v1/plans", headers=AUTH).json()["items"]
    assert (item["currency"], item["recommended_strategy"], item["cost"]) == ("KES", "manual", None)
