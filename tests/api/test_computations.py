"""Computations in worker processes (what ``annoplan serve`` runs): results, planner errors and crashes come
back across the process boundary, and the processes stop with the app."""

from __future__ import annotations

import asyncio
import copyreg
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pebble
import pytest
from fastapi.testclient import TestClient

from annoplan import planner
from annoplan.api import computations as api_computations
from annoplan.api.app import create_app
from annoplan.api.computations import ComputationCrashed, Computations, ComputationTimedOut, call_in_worker
from annoplan.api.problems import PROBLEM_MEDIA_TYPE
from annoplan.api.settings import Settings, SettingsError
from annoplan.planner.errors import InvalidInputError
from tests.api.conftest import AUTH, KEY, example


def crash(*args: Any) -> None:
    """Stands in for the planner in a worker: the process dies as if killed."""
    os._exit(3)


class TwoArgumentError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")


def raise_two_argument_error() -> None:
    raise TwoArgumentError("f", "cannot be rebuilt from its args")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app as ``annoplan serve --workers 1`` runs it: lifespan started, one computation process."""
    database = tmp_path_factory.mktemp("processes") / "annoplan.db"
    settings = Settings(api_keys=(KEY,), database_url=f"sqlite:///{database}", computation_processes=1)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.storage.dispose()


def computing_processes() -> set[multiprocessing.process.BaseProcess]:
    return set(multiprocessing.active_children())


def test_a_plan_is_computed_in_a_worker_process_and_stored(
    served: TestClient, plan_request: dict[str, Any]
) -> None:
    computations: Computations = served.app.state.computations  # type: ignore[attr-defined]
    assert computations.processes == 1
    assert computations.run(os.getpid) != os.getpid()
    response = served.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 201, response.text
    stored = served.get(response.headers["Location"], headers=AUTH)
    assert stored.status_code == 200 and stored.json() == response.json()
    report = served.get(f"{response.headers['Location']}/report.xlsx", headers=AUTH)
    assert report.status_code == 200 and report.content[:2] == b"PK"


def test_quotes_fits_and_client_workbooks_are_computed_in_a_worker_process(
    served: TestClient, quote_request: dict[str, Any], fit_request: dict[str, Any]
) -> None:
    quote = served.post("/v1/quotes", json=quote_request, headers=AUTH)
    assert quote.status_code == 201, quote.text
    client_copy = served.get(f"{quote.headers['Location']}/report.xlsx?copy=client", headers=AUTH)
    assert client_copy.status_code == 200 and client_copy.content[:2] == b"PK"
    assert "-client.xlsx" in client_copy.headers["content-disposition"]
    fit = served.post("/v1/curves/fit", json=fit_request, headers=AUTH)
    assert fit.status_code == 200, fit.text


def test_a_planner_error_in_a_worker_is_422_naming_the_field(
    served: TestClient, plan_request: dict[str, Any]
) -> None:
    plan_request.update(strategies=["hybrid"], goal={"type": "model_metric", "target": 0.95})
    response = served.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["errors"][0]["field"] == "strategies"


def test_invalid_input_comes_back_with_its_field(served: TestClient) -> None:
    computations: Computations = served.app.state.computations  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError) as raised:
        computations.run(planner.fit_curve, {"rounds": "none"})
    assert raised.value.field and str(raised.value).startswith(f"{raised.value.field}: ")


def test_keyword_arguments_reach_the_worker(served: TestClient) -> None:
    computations: Computations = served.app.state.computations  # type: ignore[attr-defined]
    assert computations.run(int, "ff", base=16) == 255


def test_a_crashed_worker_answers_500_and_the_next_request_gets_a_new_one(
    served: TestClient, plan_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    computations: Computations = served.app.state.computations  # type: ignore[attr-defined]
    before = computations.run(os.getpid)
    with monkeypatch.context() as patch:
        patch.setattr(planner, "make_plan", crash)
        response = served.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 500
    problem = response.json()
    assert problem["type"] == "urn:annoplan:problem:internal-error"
    assert response.headers["X-Request-ID"] in problem["detail"]
    assert "process" not in response.text.lower() and "pool" not in response.text.lower()
    again = served.post("/v1/plans", json=plan_request, headers=AUTH)
    assert again.status_code == 201, again.text
    assert computations.run(os.getpid) != before


def test_an_exception_that_would_not_unpickle_comes_back_as_its_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # importing dask registers a pickler for every exception class then defined (copyreg), with which this one
    # would survive the trip: the default protocol is the case here, whatever other tests imported before
    monkeypatch.delitem(copyreg.dispatch_table, TwoArgumentError, raising=False)
    with pytest.raises(RuntimeError, match="TwoArgumentError: f: cannot be rebuilt"):
        call_in_worker(raise_two_argument_error, (), {})


def test_invalid_input_error_pickles_with_its_field() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(InvalidInputError("pilot.rounds[2].value", "must be at most 1")))
    assert (error.field, error.message) == ("pilot.rounds[2].value", "must be at most 1")
    assert str(error) == "pilot.rounds[2].value: must be at most 1"


def test_the_processes_start_with_the_app_and_stop_with_it(tmp_path: Path) -> None:
    settings = Settings(
        api_keys=(KEY,), database_url=f"sqlite:///{tmp_path / 'a.db'}", computation_processes=2
    )
    app = create_app(settings)
    before = computing_processes()
    with TestClient(app):
        started = computing_processes() - before
        assert len(started) == 2
    assert not any(process.is_alive() for process in started)
    with pytest.raises(RuntimeError, match="shut down"):
        app.state.computations.run(os.getpid)
    app.state.storage.dispose()


def test_without_processes_computations_run_on_threads_of_this_process() -> None:
    computations = Computations(threads=1)
    try:
        assert computations.run(os.getpid) == os.getpid()
        computations.start()  # nothing to start
    finally:
        computations.shutdown()


def test_the_setting_reads_from_the_environment() -> None:
    assert Settings.from_environment({}).computation_processes == 0
    assert Settings.from_environment({"ANNOPLAN_COMPUTATION_PROCESSES": "4"}).computation_processes == 4
    with pytest.raises(SettingsError, match="ANNOPLAN_COMPUTATION_PROCESSES"):
        Settings.from_environment({"ANNOPLAN_COMPUTATION_PROCESSES": "-1"})


def spin(*args: Any, **kwargs: Any) -> None:
    """Stands in for a computation that never ends (the audit's delta 1e-17 did this)."""
    while True:
        pass


@pytest.fixture
def deadline_client(tmp_path: Path) -> Iterator[TestClient]:
    """The served app with one computation process and a deadline of 2 s."""
    settings = Settings(
        api_keys=(KEY,),
        database_url=f"sqlite:///{tmp_path / 'deadline.db'}",
        computation_processes=1,
        computation_deadline_seconds=2.0,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.storage.dispose()


def test_a_computation_past_its_deadline_is_stopped_and_answers_503_naming_it(
    deadline_client: TestClient, plan_request: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    computations: Computations = deadline_client.app.state.computations  # type: ignore[attr-defined]
    before = computations.run(os.getpid)
    with monkeypatch.context() as patch:
        patch.setattr(planner, "make_plan", spin)
        response = deadline_client.post("/v1/plans", json=plan_request, headers=AUTH)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["type"] == "urn:annoplan:problem:computation-deadline"
    assert "deadline of 2 s" in problem["detail"] and "ANNOPLAN_COMPUTATION_DEADLINE" in problem["detail"]
    # the spinning process was replaced: the next request computes on a fresh one
    assert computations.run(os.getpid) != before
    again = deadline_client.post("/v1/plans", json=plan_request, headers=AUTH)
    assert again.status_code == 201, again.text


def test_health_401_and_404_answer_while_computations_wait(
    deadline_client: TestClient, plan_request: dict[str, Any]
) -> None:
    """More waiting plans than the server has request threads (40) must not hold up the cheap paths."""
    computations: Computations = deadline_client.app.state.computations  # type: ignore[attr-defined]
    stuck = computations.submit(spin)
    with ThreadPoolExecutor(max_workers=45) as pool:
        waiting = [
            pool.submit(deadline_client.post, "/v1/plans", json=plan_request, headers=AUTH) for _ in range(45)
        ]
        health = deadline_client.get("/healthz")
        unauthorized = deadline_client.get("/v1/plans/nope")
        missing = deadline_client.get("/v1/plans/nope", headers=AUTH)
        answered_while_stuck = not stuck.done()
        statuses = sorted({future.result().status_code for future in waiting})
    assert (health.status_code, unauthorized.status_code, missing.status_code) == (200, 401, 404)
    assert answered_while_stuck
    with pytest.raises(ComputationTimedOut):
        stuck.result()
    assert statuses == [201]  # the queued plans ran on the replacement process


def test_a_crashed_worker_fails_only_its_own_computation(deadline_client: TestClient) -> None:
    computations: Computations = deadline_client.app.state.computations  # type: ignore[attr-defined]
    crashing = computations.submit(crash)
    queued = [computations.submit(int, "7") for _ in range(5)]
    with pytest.raises(ComputationCrashed):
        crashing.result()
    assert [future.result() for future in queued] == [7] * 5


def test_computations_past_the_waiting_cap_are_refused_at_once_with_503(tmp_path: Path) -> None:
    settings = Settings(
        api_keys=(KEY,),
        database_url=f"sqlite:///{tmp_path / 'busy.db'}",
        computation_processes=1,
        computation_deadline_seconds=2.0,
        max_waiting_computations=0,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        stuck = app.state.computations.submit(spin)
        response = client.post("/v1/curves/fit", json={"metric": "accuracy", "rounds": []}, headers=AUTH)
        fit = client.post("/v1/curves/fit", json=example("pilot_fit.json"), headers=AUTH)
        assert fit.status_code == 503, fit.text
        assert fit.json()["type"] == "urn:annoplan:problem:computations-busy"
        assert fit.headers["Retry-After"] == "5"
        with pytest.raises(ComputationTimedOut):
            stuck.result()
        assert client.post("/v1/curves/fit", json=example("pilot_fit.json"), headers=AUTH).status_code == 200
    assert response.status_code == 422  # invalid input is refused before it would wait
    app.state.storage.dispose()


def test_without_processes_the_caller_stops_waiting_at_the_deadline() -> None:
    computations = Computations(threads=1, deadline_seconds=0.2)
    release = threading.Event()
    try:
        with pytest.raises(ComputationTimedOut, match=r"0\.2 s"):
            computations.run(release.wait, 30)
    finally:
        release.set()
        computations.shutdown()


def test_the_deadline_setting_reads_from_the_environment() -> None:
    settings = Settings.from_environment({"ANNOPLAN_COMPUTATION_DEADLINE": "2.5"})
    assert settings.computation_deadline_seconds == 2.5
    for bad in ("0", "-1", "soon", "nan", "inf"):
        with pytest.raises(SettingsError, match="ANNOPLAN_COMPUTATION_DEADLINE"):
            Settings.from_environment({"ANNOPLAN_COMPUTATION_DEADLINE": bad})


class LosingPool(pebble.ProcessPool):
    """A process pool that loses every task, as pebble does one whose worker is killed before it starts it."""

    def schedule(self, *args: Any, **kwargs: Any) -> Any:
        return pebble.ProcessFuture()


def test_a_task_the_pool_loses_fails_once_it_is_overdue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller of a task that never starts stops waiting when every task ahead of it would have met its
    deadline (here none: deadline 0.5 s plus the slack), instead of waiting for ever."""
    monkeypatch.setattr(api_computations, "WAIT_SLACK_SECONDS", 0.5)
    monkeypatch.setattr(api_computations, "new_process_pool", lambda processes: LosingPool(max_workers=1))
    computations = Computations(processes=1, deadline_seconds=0.5)
    try:
        with pytest.raises(ComputationTimedOut):
            computations.run(os.getpid)
        with pytest.raises(ComputationTimedOut):
            asyncio.run(computations.run_async(os.getpid))
    finally:
        computations.shutdown()


def heavy_modules_loaded() -> bool:
    """Whether the planner's entry points and the reports are imported in this (worker) process."""
    import sys

    return all(
        name in sys.modules
        for name in (
            "annoplan.planner.plans",
            "annoplan.planner.quotes",
            "annoplan.reports.plan",
            "scipy.stats",
        )
    )


def test_a_fresh_worker_has_the_planner_imported_before_its_first_computation(
    deadline_client: TestClient,
) -> None:
    """A worker that imported the planner lazily would pay seconds of imports inside its first computation's
    deadline (``planner`` itself is lazy since the command line was made fast)."""
    computations: Computations = deadline_client.app.state.computations  # type: ignore[attr-defined]
    assert computations.run(heavy_modules_loaded)
