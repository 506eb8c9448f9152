"""The fast subset of ``benchmarks/hardening.py``: its hostile corpus of the HTTP API, in process.

Every case of :func:`benchmarks.hardening.http_cases` goes to an app built by ``create_app`` (no server
process) and must get the status it expects, as ``application/problem+json``, naming the field, within the
case's time bound. The served corpus (with peak memory), the CLI cases, schemathesis, the crash and the soak
checks run with ``make hardening``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from annoplan.api.app import create_app
from annoplan.api.settings import Settings
from benchmarks.hardening import KEY, TIME_BOUND, HttpCase, http_cases, judge_http


def cases() -> list[object]:
    return [pytest.param(case, id=f"{case.endpoint} {case.name}") for case in http_cases()]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = Path(tmp_path_factory.mktemp("hardening")) / "annoplan.db"
    settings: dict[str, Any] = {"api_keys": (KEY,), "database_url": f"sqlite:///{database}"}
    if "computation_deadline_seconds" in Settings.model_fields:
        # a computation that hangs answers (503) at the bound instead of holding the test run
        settings["computation_deadline_seconds"] = TIME_BOUND
    app = create_app(Settings.model_validate(settings))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    app.state.storage.dispose()


@pytest.mark.parametrize("case", cases())
def test_hostile_request_is_refused_naming_the_field(client: TestClient, case: HttpCase) -> None:
    start = time.monotonic()
    response = client.request(case.method, case.path, content=case.content(), headers=case.request_headers())
    seconds = time.monotonic() - start
    outcome = judge_http(
        case, response.status_code, response.headers.get("content-type", ""), response.content, seconds
    )
    assert outcome.ok, f"{'; '.join(outcome.problems)}: {outcome.message[:300]}"


def test_the_corpus_covers_every_endpoint_that_takes_input() -> None:
    endpoints = {case.endpoint for case in http_cases()}
    assert endpoints >= {
        "POST /v1/plans",
        "POST /v1/quotes",
        "POST /v1/curves/fit",
        "GET /v1/plans/{id}",
        "GET /v1/plans/{id}/report.xlsx",
        "GET /v1/quotes/{id}",
        "GET /v1/quotes/{id}/report.xlsx",
    }
