"""``/healthz`` and ``/readyz``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from annoplan.api.problems import PROBLEM_MEDIA_TYPE


def test_health_is_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_answers(client: TestClient) -> None:
    assert client.get("/readyz").json() == {"status": "ready"}


def test_not_ready_is_503_without_internals(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = client.app.state.storage  # type: ignore[attr-defined]

    def down() -> None:
        raise ConnectionError("password authentication failed for user annoplan")

    monkeypatch.setattr(storage, "ping", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "password" not in response.text
    assert client.get("/healthz").status_code == 200  # alive, just not ready
