"""The OpenAPI document: operation ids, security, examples and error media types integrators rely on."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.problems import PROBLEM_MEDIA_TYPE


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        op["operationId"]: (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    }


def test_operation_ids_and_paths(document: dict[str, Any]) -> None:
    assert {k: v[:2] for k, v in operations(document).items()} == {
        "health": ("GET", "/healthz"),
        "readiness": ("GET", "/readyz"),
        "fitCurve": ("POST", "/v1/curves/fit"),
        "createPlan": ("POST", "/v1/plans"),
        "getPlan": ("GET", "/v1/plans/{plan_id}"),
        "getPlanReport": ("GET", "/v1/plans/{plan_id}/report.xlsx"),
        "createQuote": ("POST", "/v1/quotes"),
        "getQuote": ("GET", "/v1/quotes/{quote_id}"),
        "getQuoteReport": ("GET", "/v1/quotes/{quote_id}/report.xlsx"),
    }


def test_v1_needs_the_api_key_and_health_does_not(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "one of the keys in the server's ANNOPLAN_API_KEYS",
    }
    for method, path, op in operations(document).values():
        needs_key = path.startswith("/v1/")
        assert (op.get("security") == [{"ApiKey": []}]) is needs_key, (method, path)
        if needs_key:
            assert "401" in op["responses"]


def test_errors_are_documented_as_problem_json(document: dict[str, Any]) -> None:
    for _, _, op in operations(document).values():
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"] == {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                }
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_request_bodies_carry_the_bundled_examples(document: dict[str, Any]) -> None:
    ops = operations(document)
    plan = ops["createPlan"][2]["requestBody"]["content"]["application/json"]
    assert plan["examples"]["example"]["value"]["pool_size"] == 50000
    assert plan["schema"]["$ref"].endswith("PlanRequest")
    quote = ops["createQuote"][2]["requestBody"]["content"]["application/json"]
    assert quote["examples"]["example"]["value"]["margin"] == 0.2
    fit = ops["fitCurve"][2]["requestBody"]["content"]["application/json"]
    assert fit["examples"]["example"]["value"]["targets"] == [0.85, 0.87, 0.9]


def test_responses_use_the_shared_schemas(document: dict[str, Any]) -> None:
    ops = operations(document)
    created = ops["createPlan"][2]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("PlanResponse")
    assert "Location" in created["headers"]
    report = ops["getPlanReport"][2]["responses"]["200"]["content"]
    assert list(report) == ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    assert "Idempotency-Key" in [p["name"] for p in ops["createPlan"][2]["parameters"]]
