"""``/v1/quotes``: create, read back, tenants, idempotency, workbooks (vendor's and client's copies)."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from annoplan import planner
from annoplan.api.problems import PROBLEM_MEDIA_TYPE
from annoplan.api.reports import XLSX_MEDIA_TYPE
from annoplan.planner.schemas.quotes import QUOTE_PRICING_INPUTS, QuoteRequest, QuoteResponse
from tests.api.conftest import AUTH, OTHER_AUTH


def test_create_returns_201_with_location_and_prices(
    client: TestClient, quote_request: dict[str, Any]
) -> None:
    response = client.post("/v1/quotes", json=quote_request, headers=AUTH)
    assert response.status_code == 201
    quote = response.json()
    assert response.headers["location"] == f"/v1/quotes/{quote['id']}"
    assert quote["status"] == "quoted"
    price = Decimal(quote["price_per_correction"])
    assert price > 0 and price == price.quantize(Decimal("0.01"))
    assert quote["currency"] == "USD" and quote["valid_until"] > quote["issued_on"]


def test_read_back_is_byte_for_byte(client: TestClient, quote_request: dict[str, Any]) -> None:
    created = client.post("/v1/quotes", json=quote_request, headers=AUTH)
    read = client.get(created.headers["location"], headers=AUTH)
    assert read.status_code == 200
    assert read.content == created.content


def test_the_api_prices_what_the_python_api_prices(client: TestClient, quote_request: dict[str, Any]) -> None:
    over_http = client.post("/v1/quotes", json=quote_request, headers=AUTH).json()
    direct = planner.make_quote(quote_request).model_dump(mode="json")
    for data in (over_http, direct):
        data.pop("id")
    assert over_http == direct


def test_a_quote_belongs_to_the_key_that_created_it(
    client: TestClient, quote_request: dict[str, Any]
) -> None:
    location = client.post("/v1/quotes", json=quote_request, headers=AUTH).headers["location"]
    assert client.get(location, headers=OTHER_AUTH).status_code == 404
    assert client.get(f"{location}/report.xlsx", headers=OTHER_AUTH).status_code == 404


def test_plans_and_quotes_do_not_share_ids(client: TestClient, quote_request: dict[str, Any]) -> None:
    quote_id = client.post("/v1/quotes", json=quote_request, headers=AUTH).json()["id"]
    assert client.get(f"/v1/plans/{quote_id}", headers=AUTH).status_code == 404


def test_idempotent_retry_and_conflict(client: TestClient, quote_request: dict[str, Any]) -> None:
    headers = AUTH | {"Idempotency-Key": "offer-7"}
    first = client.post("/v1/quotes", json=quote_request, headers=headers)
    retry = client.post("/v1/quotes", json=quote_request, headers=headers)
    assert retry.content == first.content and retry.headers["idempotent-replayed"] == "true"
    conflict = client.post("/v1/quotes", json=quote_request | {"margin": 0.5}, headers=headers)
    assert conflict.status_code == 422
    assert conflict.json()["type"] == "urn:annoplan:problem:idempotency-key-reused"


def test_a_pilot_without_calibration_is_422_naming_it(
    client: TestClient, quote_request: dict[str, Any]
) -> None:
    quote_request["pilot"]["calibration"] = []
    response = client.post("/v1/quotes", json=quote_request, headers=AUTH)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["errors"][0]["field"] == "pilot.calibration"


def test_invalid_quote_names_its_fields(client: TestClient, quote_request: dict[str, Any]) -> None:
    quote_request["risk_level"] = 0.4
    quote_request["vendor_costs"]["correction"] = "0.40"
    response = client.post("/v1/quotes", json=quote_request, headers=AUTH)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"risk_level", "vendor_costs.correction"}


def test_a_quote_too_large_for_the_server_is_refused(
    make_client: Callable[..., TestClient], quote_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(max_plan_work=1_000_000)
    monkeypatch.setattr(planner, "make_quote", lambda request: pytest.fail("computed an oversized quote"))
    quote_request.update(draws=20_000, batch_sizes=[10])
    response = client.post("/v1/quotes", json=quote_request, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["type"] == "urn:annoplan:problem:simulation-too-large"


def test_quotes_survive_a_restart(
    make_client: Callable[..., TestClient], quote_request: dict[str, Any]
) -> None:
    first = make_client()
    created = first.post("/v1/quotes", json=quote_request, headers=AUTH)
    first.app.state.storage.dispose()  # type: ignore[attr-defined]
    read = make_client().get(created.headers["location"], headers=AUTH)
    assert read.content == created.content


def test_reports_for_the_vendor_and_for_the_client(client: TestClient, quote_request: dict[str, Any]) -> None:
    quote_id = client.post("/v1/quotes", json=quote_request, headers=AUTH).json()["id"]
    vendor = client.get(f"/v1/quotes/{quote_id}/report.xlsx", headers=AUTH)
    customer = client.get(f"/v1/quotes/{quote_id}/report.xlsx?copy=client", headers=AUTH)
    for response, suffix in ((vendor, ""), (customer, "-client")):
        assert response.status_code == 200
        assert response.headers["content-type"] == XLSX_MEDIA_TYPE
        filename = f"annoplan-quote-{quote_id}{suffix}.xlsx"
        assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    vendor_book = openpyxl.load_workbook(io.BytesIO(vendor.content))
    client_book = openpyxl.load_workbook(io.BytesIO(customer.content))
    assert "Vendor costs" in vendor_book.sheetnames
    assert "Vendor costs" not in client_book.sheetnames
    assert client.get(f"/v1/quotes/{quote_id}/report.xlsx?copy=press", headers=AUTH).status_code == 422


def test_a_requote_is_a_new_version_that_supersedes_the_old_one_which_stays(
    client: TestClient, quote_request: dict[str, Any]
) -> None:
    first = client.post("/v1/quotes", json=quote_request, headers=AUTH)
    assert (first.json()["version"], first.json()["supersedes"]) == (1, None)
    # the vendor's own pricing inputs changed: the same request, re-quoted
    requote = quote_request | {"margin": 0.5, "validity_days": 60, "name": "second offer", "draws": 400}
    second = client.post("/v1/quotes", json=requote, headers=AUTH).json()
    assert (second["version"], second["supersedes"]) == (2, first.json()["id"])
    assert second["price_per_correction"] != first.json()["price_per_correction"]
    third = client.post("/v1/quotes", json=requote | {"risk_level": 0.8}, headers=AUTH).json()
    assert (third["version"], third["supersedes"]) == (3, second["id"])
    assert client.get(first.headers["location"], headers=AUTH).content == first.content  # never mutated
    listed = client.get("/v1/quotes", headers=AUTH).json()["items"]
    assert [(item["id"], item["version"], item["supersedes"]) for item in listed] == [
        (third["id"], 3, second["id"]),
        (second["id"], 2, first.json()["id"]),
        (first.json()["id"], 1, None),
    ]


def test_another_request_or_another_key_starts_its_own_versions(
    client: TestClient, quote_request: dict[str, Any]
) -> None:
    client.post("/v1/quotes", json=quote_request, headers=AUTH)
    for headers, request in [
        (AUTH, quote_request | {"pool_size": 60_000}),
        (AUTH, quote_request | {"vendor": "Another Labeling Co."}),
        (AUTH, quote_request | {"max_label_error": 0.04}),
        (OTHER_AUTH, quote_request),
    ]:
        quote = client.post("/v1/quotes", json=request, headers=headers).json()
        assert (quote["version"], quote["supersedes"]) == (1, None), request


def test_an_idempotent_retry_is_no_new_version(client: TestClient, quote_request: dict[str, Any]) -> None:
    headers = AUTH | {"Idempotency-Key": "offer-8"}
    first = client.post("/v1/quotes", json=quote_request, headers=headers)
    retry = client.post("/v1/quotes", json=quote_request, headers=headers)
    assert retry.json()["version"] == 1 and retry.content == first.content
    assert client.post("/v1/quotes", json=quote_request, headers=AUTH).json()["version"] == 2


def test_the_pricing_inputs_that_a_requote_may_change_are_request_fields() -> None:
    fields = set(QuoteRequest.model_fields)
    assert QUOTE_PRICING_INPUTS < fields
    assert fields - QUOTE_PRICING_INPUTS == {
        "vendor",
        "pool_size",
        "pilot",
        "max_label_error",
        "pilot_labels_kept",
    }


def test_a_quote_stored_before_versions_reads_as_version_1(
    client: TestClient, quote_request: dict[str, Any]
) -> None:
    quote = client.post("/v1/quotes", json=quote_request, headers=AUTH).json()
    old = {key: value for key, value in quote.items() if key not in ("version", "supersedes")}
    assert QuoteResponse.model_validate(old).version == 1
