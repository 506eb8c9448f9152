"""API keys: 401 problems without a valid key, constant-time matching against every key, tenants."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from annoplan.api import auth
from annoplan.api.auth import is_accepted, tenant_of
from annoplan.api.problems import PROBLEM_MEDIA_TYPE
from tests.api.conftest import AUTH, KEY, OTHER_KEY


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": ""}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + " "}])
def test_without_a_valid_key_every_v1_route_is_401(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in [("POST", "/v1/curves/fit"), ("POST", "/v1/plans"), ("GET", "/v1/plans/x")]:
        response = client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, path
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'
        problem = response.json()
        assert problem["type"] == "urn:annoplan:problem:unauthorized"
        assert problem["status"] == 401
        assert "X-API-Key" in problem["detail"]


def test_auth_is_checked_before_the_body(client: TestClient) -> None:
    response = client.post("/v1/plans", json={"not": "a plan"})
    assert response.status_code == 401


def test_every_configured_key_is_accepted(client: TestClient, fit_request: dict[str, Any]) -> None:
    for key in (KEY, OTHER_KEY):
        assert client.post("/v1/curves/fit", json=fit_request, headers={"X-API-Key": key}).status_code == 200


def test_no_configured_keys_refuses_everyone(
    make_client: Callable[..., TestClient], fit_request: dict[str, Any]
) -> None:
    client = make_client(api_keys=())
    assert client.post("/v1/curves/fit", json=fit_request, headers=AUTH).status_code == 401


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_matching_compares_against_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    digests = tuple(hashlib.sha256(k.encode()).digest() for k in ("a", "b", "c"))
    calls: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def spy(x: bytes, y: bytes) -> bool:
        calls.append((x, y))
        return compare(x, y)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert is_accepted("a", digests)  # the first key matches, and the others are still compared
    assert len(calls) == 3
    assert all(len(x) == len(y) == 32 for x, y in calls)  # digests: no length leaks
    assert not is_accepted("d", digests)


def test_tenant_is_the_sha256_of_the_key() -> None:
    assert tenant_of("k") == hashlib.sha256(b"k").hexdigest()
    assert tenant_of(KEY) != tenant_of(OTHER_KEY)
