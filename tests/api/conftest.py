"""Fixtures of the HTTP API tests: an app over a temporary SQLite file, keys, small requests.

The PostgreSQL fixtures (``postgres_database``, ``postgres_url``) live in :mod:`tests.api.postgres_server`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from annoplan.api.app import create_app
from annoplan.api.settings import Settings
from tests.api.postgres_server import postgres_database, postgres_url  # noqa: F401  (fixtures)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY = "test-key-alpha"
OTHER_KEY = "test-key-beta"
AUTH = {"X-API-Key": KEY}
OTHER_AUTH = {"X-API-Key": OTHER_KEY}


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


@pytest.fixture
def plan_request() -> dict[str, Any]:
    """The bundled example plan, made small: 300 draws and two batch sizes (about 0.1 s)."""
    request = copy.deepcopy(example("plan.json"))
    request.update(draws=300, batch_sizes=[1000, 5000])
    return request


@pytest.fixture
def quote_request() -> dict[str, Any]:
    """The bundled example quote, made small like the plan."""
    request = copy.deepcopy(example("quote.json"))
    request.update(draws=300, batch_sizes=[1000, 5000])
    return request


@pytest.fixture
def fit_request() -> dict[str, Any]:
    return copy.deepcopy(example("pilot_fit.json"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(api_keys=(KEY, OTHER_KEY), database_url=f"sqlite:///{tmp_path / 'annoplan.db'}")


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Build clients over apps with these settings (changed by keyword); all closed at the end."""
    clients: list[TestClient] = []

    def build(**changes: Any) -> TestClient:
        app: FastAPI = create_app(settings.model_copy(update=changes))
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
        client.app.state.storage.dispose()  # type: ignore[attr-defined]
        client.app.state.computations.shutdown()  # type: ignore[attr-defined]


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
