"""The OpenAPI document: operation ids, security, examples, error media types, listing parameters, money
patterns, the assumptions' keys and field bounds integrators rely on (every bound the validator enforces is
the one the document shows)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from annoplan.api.problems import PROBLEM_MEDIA_TYPE
from annoplan.planner import make_plan, make_quote
from annoplan.planner.errors import InvalidInputError
from annoplan.planner.schemas import FitRequest, PlanRequest, QuoteRequest
from annoplan.planner.schemas.common import (
    MAX_DELTA,
    MAX_LABEL_ERROR,
    MIN_DELTA,
    MIN_LABEL_ERROR,
    MONEY_PATTERN,
)
from annoplan.planner.schemas.curves import MAX_LABELS
from annoplan.planner.schemas.plans import PlanResponse
from annoplan.planner.schemas.quotes import QuoteResponse
from annoplan.planner.validation import parse_request
from tests.api.conftest import AUTH


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
        "importPilot": ("POST", "/v1/pilots/import"),
        "createPlan": ("POST", "/v1/plans"),
        "listPlans": ("GET", "/v1/plans"),
        "getPlan": ("GET", "/v1/plans/{plan_id}"),
        "trackPlan": ("POST", "/v1/plans/{plan_id}/actuals"),
        "getPlanActuals": ("GET", "/v1/plans/{plan_id}/actuals"),
        "deletePlan": ("DELETE", "/v1/plans/{plan_id}"),
        "getPlanReport": ("GET", "/v1/plans/{plan_id}/report.xlsx"),
        "createQuote": ("POST", "/v1/quotes"),
        "listQuotes": ("GET", "/v1/quotes"),
        "getQuote": ("GET", "/v1/quotes/{quote_id}"),
        "deleteQuote": ("DELETE", "/v1/quotes/{quote_id}"),
        "getQuoteReport": ("GET", "/v1/quotes/{quote_id}/report.xlsx"),
        "createComparison": ("POST", "/v1/comparisons"),
        "listComparisons": ("GET", "/v1/comparisons"),
        "getComparison": ("GET", "/v1/comparisons/{comparison_id}"),
        "deleteComparison": ("DELETE", "/v1/comparisons/{comparison_id}"),
        "getComparisonReport": ("GET", "/v1/comparisons/{comparison_id}/report.xlsx"),
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


@pytest.mark.parametrize(("kind", "page"), [("Plan", "PlanPage"), ("Quote", "QuotePage")])
def test_listing_and_deleting_are_documented(document: dict[str, Any], kind: str, page: str) -> None:
    ops = operations(document)
    listing = ops[f"list{kind}s"][2]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(page)
    assert {"401", "422"} <= set(listing["responses"])
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert parameters["limit"]["in"] == "query" and not parameters["limit"]["required"]
    assert (parameters["limit"]["schema"]["minimum"], parameters["limit"]["schema"]["maximum"]) == (1, 100)
    assert parameters["limit"]["schema"]["default"] == 20
    assert parameters["cursor"]["in"] == "query" and not parameters["cursor"]["required"]
    schemas = document["components"]["schemas"]
    assert set(schemas[page]["required"]) == {"items", "next_cursor"}
    removal = ops[f"delete{kind}"][2]["responses"]
    assert set(removal) >= {"204", "401", "404"} and "content" not in removal["204"]


def test_money_fields_carry_a_decimal_pattern(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    amounts = {
        "MoneyQuantiles": ["mean", "p10", "p50", "p90"],
        "ScheduleRow": ["cost"],
        "SensitivityRow": ["low", "high"],
        "QuoteResponse": ["price_per_correction", "price_per_audit", "price_cap"],
        "QuoteSummary": ["price_per_correction", "price_cap"],
    }
    for model, fields in amounts.items():
        for field in fields:
            schema = schemas[model]["properties"][field]
            [money] = [s for s in schema.get("anyOf", [schema]) if s.get("type") == "string"]
            assert money["pattern"] == MONEY_PATTERN, (model, field)
    pattern = re.compile(MONEY_PATTERN)
    for good in ("0", "1234.50", "-12.00", "0.125"):
        assert pattern.fullmatch(good), good
    for bad in ("1,234.50", "1e3", "12.", ".5", "NaN", "$5", " 1"):
        assert not pattern.fullmatch(bad), bad


def test_money_in_a_created_plan_and_quote_matches_the_documented_pattern(
    client: TestClient, plan_request: dict[str, Any], quote_request: dict[str, Any]
) -> None:
    pattern = re.compile(MONEY_PATTERN)
    plan = client.post("/v1/plans", json=plan_request, headers=AUTH).json()
    quote = client.post("/v1/quotes", json=quote_request, headers=AUTH).json()
    amounts = [
        *plan["recommendation"]["cost"].values(),
        *[row["cost"] for forecast in plan["strategies"] for row in forecast["schedule"]],
        *[quote[k] for k in ("price_per_correction", "price_per_audit", "price_cap")],
    ]
    assert amounts and all(pattern.fullmatch(amount) for amount in amounts), amounts


@pytest.mark.parametrize(
    ("model", "response", "keys"),
    [
        ("PlanAssumptions", PlanResponse, ("draws", "batch_sizes", "threshold_certificate")),
        ("QuoteAssumptions", QuoteResponse, ("request", "price_rule", "lot_audits", "issued_on")),
    ],
)
def test_assumptions_have_a_schema_naming_their_keys(
    document: dict[str, Any], model: str, response: type[BaseModel], keys: tuple[str, ...]
) -> None:
    schemas = document["components"]["schemas"]
    assert response.__name__ in schemas
    assumptions = schemas[response.__name__]["properties"]["assumptions"]
    assert assumptions["$ref"].endswith(model)
    properties = schemas[model]["properties"]
    assert set(keys) <= set(properties)
    assert all(p.get("description") for p in properties.values()), model
    assert schemas[model]["additionalProperties"] is True  # newer keys still pass to older clients


def test_every_assumption_a_plan_and_a_quote_state_is_documented(
    document: dict[str, Any], plan_request: dict[str, Any], quote_request: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]
    plan = make_plan(plan_request | {"goal": {"type": "labeled_dataset", "max_label_error": 0.05}})
    quote = make_quote(quote_request)
    assert set(plan.assumptions) <= set(schemas["PlanAssumptions"]["properties"])
    assert set(quote.assumptions) <= set(schemas["QuoteAssumptions"]["properties"])


def property_schema(document: dict[str, Any], model: str, name: str) -> dict[str, Any]:
    """The schema of a request field, its ``null`` alternative dropped (optional fields)."""
    schema: dict[str, Any] = document["components"]["schemas"][model]["properties"][name]
    alternatives = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    assert len(alternatives) == 1, schema
    return alternatives[0]


#: (model, field, whether its bounds apply to the list's items, JSON body and path of the field in it)
BOUNDED_FIELDS = {
    "at_labels items": ("FitRequest", "at_labels", True, "fit", ("at_labels",)),
    "targets items": ("FitRequest", "targets", True, "fit", ("targets",)),
    "plan delta": ("PlanRequest", "delta", False, "plan", ("delta",)),
    "plan max_label_error": (
        "LabeledDatasetGoal",
        "max_label_error",
        False,
        "plan",
        ("goal", "max_label_error"),
    ),
    "quote delta": ("QuoteRequest", "delta", False, "quote", ("delta",)),
    "quote max_label_error": ("QuoteRequest", "max_label_error", False, "quote", ("max_label_error",)),
}


def test_the_documented_bounds_are_the_enforced_ones(document: dict[str, Any]) -> None:
    expected = {
        "at_labels items": (1, MAX_LABELS),
        "targets items": (0.0, 1.0),
        "plan delta": (MIN_DELTA, MAX_DELTA),
        "plan max_label_error": (MIN_LABEL_ERROR, MAX_LABEL_ERROR),
        "quote delta": (MIN_DELTA, MAX_DELTA),
        "quote max_label_error": (MIN_LABEL_ERROR, MAX_LABEL_ERROR),
    }
    for name, (model, field, items, _, _) in BOUNDED_FIELDS.items():
        schema = property_schema(document, model, field)
        if items:
            assert schema["type"] == "array", name
            schema = schema["items"]
        assert (schema["minimum"], schema["maximum"]) == expected[name], name
        assert "exclusiveMinimum" not in schema and "exclusiveMaximum" not in schema, name


@pytest.mark.parametrize("name", BOUNDED_FIELDS)
def test_the_validator_refuses_just_beyond_each_documented_bound_and_accepts_it(
    document: dict[str, Any],
    name: str,
    fit_request: dict[str, Any],
    plan_request: dict[str, Any],
    quote_request: dict[str, Any],
) -> None:
    model, field, items, body, path = BOUNDED_FIELDS[name]
    schema = property_schema(document, model, field)
    schema = schema["items"] if items else schema
    low, high = schema["minimum"], schema["maximum"]
    bodies: dict[str, tuple[dict[str, Any], type[BaseModel]]] = {
        "fit": (fit_request, FitRequest),
        "plan": (plan_request | {"goal": {"type": "labeled_dataset", "max_label_error": 0.05}}, PlanRequest),
        "quote": (quote_request, QuoteRequest),
    }
    request, parsed = bodies[body]
    integer = schema["type"] == "integer"

    def with_value(value: float) -> dict[str, Any]:
        changed = copy.deepcopy(request)
        node = changed
        for part in path[:-1]:
            node = node[part]
        given = int(value) if integer else value  # the document writes integer bounds as 1.0
        node[path[-1]] = [given, given] if items else given
        return changed

    named = ".".join(path) + ("[0]" if items else "")
    beyond = (low - 1, high + 1) if integer else (low - max(abs(low), 1e-9) * 1e-6, high * (1 + 1e-6))
    for value in beyond:
        with pytest.raises(InvalidInputError) as info:
            parse_request(parsed, with_value(value))
        assert info.value.field == named, (name, value, str(info.value))
    for value in (low, high):
        parse_request(parsed, with_value(value))
