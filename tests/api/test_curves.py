"""``POST /v1/curves/fit``."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from annoplan import planner
from annoplan.api.admission import MAX_FIT_TARGETS
from tests.api.conftest import AUTH


def test_fit_answers_what_the_python_api_answers(client: TestClient, fit_request: dict[str, Any]) -> None:
    response = client.post("/v1/curves/fit", json=fit_request, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == planner.fit_curve(fit_request).model_dump(mode="json")
    for p in response.json()["predictions"]:
        assert p["p10"] <= p["p50"] <= p["p90"]


def test_a_plan_pilot_fits_as_is(client: TestClient, plan_request: dict[str, Any]) -> None:
    response = client.post("/v1/curves/fit", json=plan_request["pilot"] | {"targets": [0.95]}, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["labels_to_reach"][0]["target"] == 0.95


def test_invalid_rounds_are_422_naming_the_field(client: TestClient, fit_request: dict[str, Any]) -> None:
    fit_request["rounds"][1]["n_labels"] = fit_request["rounds"][0]["n_labels"]
    response = client.post("/v1/curves/fit", json=fit_request, headers=AUTH)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "rounds"
    assert "rounds[1].n_labels" in error["message"]


def test_numbers_as_text_are_refused(client: TestClient, fit_request: dict[str, Any]) -> None:
    fit_request["rounds"][0]["value"] = "0.7"
    response = client.post("/v1/curves/fit", json=fit_request, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "rounds[0].value"


def test_too_many_targets_is_422_before_fitting(client: TestClient, fit_request: dict[str, Any]) -> None:
    fit_request["targets"] = [0.9] * (MAX_FIT_TARGETS + 1)
    response = client.post("/v1/curves/fit", json=fit_request, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "targets"
    fit_request["targets"] = [0.9] * MAX_FIT_TARGETS
    assert client.post("/v1/curves/fit", json=fit_request, headers=AUTH).status_code == 200
