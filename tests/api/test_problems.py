"""Errors are RFC 9457 problem+json everywhere: routing, bodies, sizes, and the catch-all 500."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from annoplan import planner
from annoplan.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES
from tests.api.conftest import AUTH

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem: dict[str, Any] = response.json()
    assert PROBLEM_FIELDS <= set(problem)
    assert problem["status"] == status
    assert problem["type"] == f"urn:annoplan:problem:{slug}"
    assert problem["title"] == PROBLEM_TYPES[slug].title
    return problem


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    problem = assert_problem(client.get("/v2/plans", headers=AUTH), 404, "not-found")
    assert problem["instance"] == "/v2/plans"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/v1/plans/abc", "GET, DELETE"),
        ("delete", "/v1/plans", "GET, POST"),
        ("patch", "/v1/quotes", "GET, POST"),
        ("post", "/v1/quotes/abc/report.xlsx", "GET"),
        ("post", "/healthz", "GET"),
    ],
)
def test_wrong_method_is_405_allowing_every_method_of_the_path(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path, headers=AUTH)
    problem = assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == allowed
    assert problem["detail"].endswith(f"allowed: {allowed}")


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/plans", content=b'{"pool_size": ', headers=AUTH | {"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 400, "malformed-body")
    assert "not valid JSON" in problem["detail"]


def test_body_that_is_not_utf8_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/plans", content=b'{"a": "\xff"}', headers=AUTH | {"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed-body")


def test_an_integer_too_long_for_python_is_422_naming_its_field(client: TestClient) -> None:
    body = b'{"metric": "accuracy", "rounds": [{"n_labels": 1' + b"0" * 5000 + b', "value": 0.5}]}'
    response = client.post(
        "/v1/curves/fit", content=body, headers=AUTH | {"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert [error["field"] for error in problem["errors"]] == ["rounds[0].n_labels"]


@pytest.mark.parametrize(
    ("body", "said"),
    [(b"[" * 100_000 + b"]" * 100_000, "nested too deeply"), (b'{"a": "\xff"}', "not UTF-8 text (byte 7)")],
)
def test_unreadable_bodies_say_why(client: TestClient, body: bytes, said: str) -> None:
    response = client.post("/v1/plans", content=body, headers=AUTH | {"Content-Type": "application/json"})
    problem = assert_problem(response, 400, "malformed-body")
    assert said in problem["detail"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_body_not_sent_as_json_is_415(
    client: TestClient, plan_request: dict[str, Any], content_type: str | None
) -> None:
    headers = AUTH | ({"Content-Type": content_type} if content_type else {})
    response = client.post("/v1/plans", content=json.dumps(plan_request).encode(), headers=headers)
    assert_problem(response, 415, "unsupported-media-type")


def test_missing_body_is_422(client: TestClient) -> None:
    problem = assert_problem(client.post("/v1/plans", headers=AUTH), 422, "invalid-input")
    assert problem["errors"][0]["field"] == "body"


@pytest.mark.parametrize("body", ["[]", "null", "3", '"plan"'])
def test_a_body_that_is_not_an_object_is_422(client: TestClient, body: str) -> None:
    response = client.post("/v1/plans", content=body, headers=AUTH | {"Content-Type": "application/json"})
    assert_problem(response, 422, "invalid-input")


def test_oversized_body_by_content_length_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=1000)
    response = client.post(
        "/v1/plans", content=b" " * 1001, headers=AUTH | {"Content-Type": "application/json"}
    )
    problem = assert_problem(response, 413, "body-too-large")
    assert "1,000 bytes" in problem["detail"]


def test_oversized_streamed_body_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=1000)

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 100

    response = client.post("/v1/plans", content=chunks(), headers=AUTH | {"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "body-too-large")


def test_a_body_at_the_limit_is_read(
    make_client: Callable[..., TestClient], fit_request: dict[str, Any]
) -> None:
    body = json.dumps(fit_request).encode()
    client = make_client(max_body_bytes=len(body))
    response = client.post(
        "/v1/curves/fit", content=body, headers=AUTH | {"Content-Type": "application/json"}
    )
    assert response.status_code == 200


def test_an_unexpected_error_is_a_500_without_internals(
    client: TestClient,
    fit_request: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(request: Any) -> None:
        raise RuntimeError("secret connection string postgres://u:p@db")

    monkeypatch.setattr(planner, "fit_curve", broken)
    with caplog.at_level(logging.ERROR, logger="annoplan.api"):
        response = client.post("/v1/curves/fit", json=fit_request, headers=AUTH)
    problem = assert_problem(response, 500, "internal-error")
    assert "secret" not in response.text and "Traceback" not in response.text
    request_id = response.headers["x-request-id"]
    assert request_id in problem["detail"]
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_request_ids_are_echoed_or_made(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "not allowed; x"}).headers["x-request-id"]
    assert len(made) == 32 and " " not in made


def test_planner_fit_error_is_422(
    client: TestClient, fit_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unfittable(request: Any) -> None:
        raise planner.FitError("the pilot rounds do not constrain the curve; add a round at 2x the last")

    monkeypatch.setattr(planner, "fit_curve", unfittable)
    problem = assert_problem(client.post("/v1/curves/fit", json=fit_request, headers=AUTH), 422, "fit-failed")
    assert "add a round" in problem["detail"]
