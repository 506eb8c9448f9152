"""``annoplan serve``: defaults, options (``--workers``: computation processes), and a one-line exit on bad
settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from annoplan.api.serve import serve_command
from annoplan.api.settings import get_settings
from tests.api.conftest import AUTH, KEY, example

ROOT = Path(__file__).resolve().parents[2]

app = typer.Typer()
app.command()(serve_command)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("ANNOPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'served.db'}")
    monkeypatch.setenv("ANNOPLAN_API_KEYS", "k")
    get_settings.cache_clear()
    calls: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kwargs: calls.update(target=target, **kwargs))
    yield calls
    get_settings.cache_clear()


def served_processes(calls: dict[str, Any]) -> int:
    """The computation processes of the app handed to uvicorn (none are started until it is served)."""
    served: FastAPI = calls["target"]
    assert served.state.computations.processes == served.state.settings.computation_processes
    served.state.storage.dispose()
    processes: int = served.state.computations.processes
    return processes


def test_defaults_serve_on_loopback_port_8000(environment: dict[str, Any], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 0, result.output
    assert (environment["host"], environment["port"]) == ("127.0.0.1", 8000)
    assert "workers" not in environment  # one HTTP process
    assert served_processes(environment) == 1
    assert (tmp_path / "served.db").exists()  # tables created before serving


def test_options(environment: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["--host", "0.0.0.0", "--port", "9000", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert (environment["host"], environment["port"]) == ("0.0.0.0", 9000)
    assert served_processes(environment) == 2


def test_workers_are_computation_processes_whatever_the_environment_says(
    environment: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOPLAN_COMPUTATION_PROCESSES", "0")
    result = CliRunner().invoke(app, ["--workers", "3"])
    assert result.exit_code == 0, result.output
    assert served_processes(environment) == 3


def test_bad_settings_exit_2_naming_the_variable(
    environment: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOPLAN_MAX_BODY_BYTES", "lots")
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 2
    assert "ANNOPLAN_MAX_BODY_BYTES" in result.output
    assert "target" not in environment


def test_an_unopenable_database_exits_2(environment: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANNOPLAN_DATABASE_URL", "nosuchdialect://x")
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 2
    assert "ANNOPLAN_DATABASE_URL" in result.output


def test_sigterm_stops_the_server_while_a_computation_never_ends(tmp_path: Path) -> None:
    """A plan stuck in a worker (deadline far away) must not keep the server from stopping."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = os.environ | {
        "ANNOPLAN_API_KEYS": KEY,
        "ANNOPLAN_DATABASE_URL": f"sqlite:///{tmp_path / 'stuck.db'}",
        "ANNOPLAN_COMPUTATION_DEADLINE": "600",
        "ANNOPLAN_SHUTDOWN_SECONDS": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.api.spinning_server", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        answers: list[Any] = []

        def post() -> None:
            try:
                answers.append(
                    httpx.post(f"{base}/v1/plans", json=example("plan.json"), headers=AUTH, timeout=60)
                )
            except httpx.TransportError as exc:
                answers.append(exc)

        poster = threading.Thread(target=post)
        poster.start()
        time.sleep(1.0)  # the plan is computing (spinning) by now
        assert not answers
        server.send_signal(signal.SIGTERM)
        # stopped (uvicorn re-raises the signal once shut down); before, it waited for the plan for ever
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)
        poster.join(timeout=60)
        assert len(answers) == 1  # the stuck plan failed (no answer, or a 5xx) instead of hanging
        assert not isinstance(answers[0], httpx.Response) or answers[0].status_code >= 500
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
