"""``annoplan serve``: defaults, options (``--workers``: computation processes), and a one-line exit on bad
settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from api.serve import serve_command
from api.settings import get_settings

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
