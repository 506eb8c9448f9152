"""/v1/comparisons: stored per key (two tenants), idempotent, listed, deleted, report.xlsx, FX refusal
naming the field, a stored-quote offer, the work cap."""

from __future__ import annotations

import copy
import io
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from annoplan.api.problems import PROBLEM_MEDIA_TYPE
from annoplan.api.reports import XLSX_MEDIA_TYPE
from tests.api.conftest import AUTH, OTHER_AUTH, example


@pytest.fixture
def comparison_request() -> dict[str, Any]:
    """The bundled example comparison, made small: 300 draws, two batch sizes."""
    request = copy.deepcopy(example("comparison.json"))
    request.update(draws=300, batch_sizes=[1000, 5000])
    return request


def test_create_read_list_report_and_delete(client: TestClient, comparison_request: dict[str, Any]) -> None:
    created = client.post("/v1/comparisons", json=comparison_request, headers=AUTH)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == f"/v1/comparisons/{body['id']}"
    assert abs(sum(o["probability_cheapest"] for o in body["offers"]) - 1.0) < 1e-12
    assert body["fx"]["source"] == comparison_request["fx"]["source"]
    read = client.get(created.headers["Location"], headers=AUTH)
    assert read.status_code == 200 and read.content == created.content
    listing = client.get("/v1/comparisons", headers=AUTH).json()
    assert [item["id"] for item in listing["items"]] == [body["id"]]
    assert listing["items"][0]["vendors"] == [o["vendor"] for o in comparison_request["offers"]]
    report = client.get(f"/v1/comparisons/{body['id']}/report.xlsx", headers=AUTH)
    assert report.status_code == 200 and report.headers["content-type"].startswith(XLSX_MEDIA_TYPE)
    book = openpyxl.load_workbook(io.BytesIO(report.content))
    assert book.sheetnames == ["Vendors", "Assumptions"]
    assert client.delete(f"/v1/comparisons/{body['id']}", headers=AUTH).status_code == 204
    assert client.get(f"/v1/comparisons/{body['id']}", headers=AUTH).status_code == 404


def test_another_key_cannot_read_list_report_or_delete(
    client: TestClient, comparison_request: dict[str, Any]
) -> None:
    created = client.post("/v1/comparisons", json=comparison_request, headers=AUTH).json()
    path = f"/v1/comparisons/{created['id']}"
    assert client.get(path, headers=OTHER_AUTH).status_code == 404
    assert client.get(f"{path}/report.xlsx", headers=OTHER_AUTH).status_code == 404
    assert client.delete(path, headers=OTHER_AUTH).status_code == 404
    assert client.get("/v1/comparisons", headers=OTHER_AUTH).json()["items"] == []
    assert client.get(path, headers=AUTH).status_code == 200  # still there


def test_a_retry_with_the_same_key_replays_and_the_same_request_ranks_the_same(
    client: TestClient, comparison_request: dict[str, Any]
) -> None:
    headers = {**AUTH, "Idempotency-Key": "vendors-1"}
    first = client.post("/v1/comparisons", json=comparison_request, headers=headers)
    again = client.post("/v1/comparisons", json=comparison_request, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    fresh = client.post("/v1/comparisons", json=comparison_request, headers=AUTH).json()
    assert fresh["id"] != first.json()["id"]
    assert [o["probability_cheapest"] for o in fresh["offers"]] == [
        o["probability_cheapest"] for o in first.json()["offers"]
    ]
    reused = client.post("/v1/comparisons", json={**comparison_request, "seed": 9}, headers=headers)
    assert reused.status_code == 422


def test_mixed_currencies_without_fx_are_refused_naming_the_field(
    client: TestClient, comparison_request: dict[str, Any]
) -> None:
    comparison_request.pop("fx")
    response = client.post("/v1/comparisons", json=comparison_request, headers=AUTH)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert [e["field"] for e in response.json()["errors"]] == ["fx"]
    assert client.get("/v1/comparisons", headers=AUTH).json()["items"] == []  # nothing stored


def test_a_stored_quote_of_this_key_is_an_offer_and_another_keys_is_not(
    client: TestClient, comparison_request: dict[str, Any], quote_request: dict[str, Any]
) -> None:
    quote = client.post("/v1/quotes", json=quote_request, headers=AUTH).json()
    assert quote["status"] == "quoted"
    comparison_request.pop("fx")
    comparison_request["offers"] = [
        comparison_request["offers"][0],
        {"vendor": "Quoted", "quote_id": quote["id"]},
    ]
    response = client.post("/v1/comparisons", json=comparison_request, headers=AUTH)
    assert response.status_code == 201, response.text
    offer = response.json()["offers"][1]
    assert offer["quote"]["id"] == quote["id"] and offer["quote"]["version"] == 1
    assert offer["settings"]["batch_size"] == quote["batch_size"]
    assert offer["price_cap"] == quote["price_cap"]
    other = client.post("/v1/comparisons", json=comparison_request, headers=OTHER_AUTH)
    assert other.status_code == 422
    assert [e["field"] for e in other.json()["errors"]] == ["offers[1].quote_id"]


def test_a_comparison_over_the_work_cap_is_refused(
    make_client: Any, comparison_request: dict[str, Any]
) -> None:
    client = make_client(max_plan_work=1_000_000)
    response = client.post("/v1/comparisons", json=comparison_request, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["type"].endswith("simulation-too-large")


def test_invalid_offers_name_the_field(client: TestClient, comparison_request: dict[str, Any]) -> None:
    comparison_request["offers"] = comparison_request["offers"][:1]
    response = client.post("/v1/comparisons", json=comparison_request, headers=AUTH)
    assert response.status_code == 422
    assert "offers" in [e["field"] for e in response.json()["errors"]]
    assert client.get("/v1/comparisons").status_code == 401


def test_a_comparison_records_the_quote_versions_it_used(
    client: TestClient, comparison_request: dict[str, Any], quote_request: dict[str, Any]
) -> None:
    first = client.post("/v1/quotes", json=quote_request, headers=AUTH).json()
    second = client.post("/v1/quotes", json=quote_request | {"margin": 0.5}, headers=AUTH).json()
    assert second["supersedes"] == first["id"]
    comparison_request.pop("fx")
    comparison_request["offers"] = [
        {"vendor": "First", "quote_id": first["id"]},
        {"vendor": "Second", "quote_id": second["id"]},
    ]
    response = client.post("/v1/comparisons", json=comparison_request, headers=AUTH)
    assert response.status_code == 201, response.text
    body = response.json()
    used = [offer["quote"] for offer in body["offers"]]
    assert [(q["id"], q["version"], q["superseded_by"]) for q in used] == [
        (first["id"], 1, second["id"]),
        (second["id"], 2, None),
    ]
    assert any(f"superseded by quote {second['id']}" in warning for warning in body["warnings"])
    stored = client.get(response.headers["location"], headers=AUTH).json()
    assert [offer["quote"]["version"] for offer in stored["offers"]] == [1, 2]
