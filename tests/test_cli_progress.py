"""The command line's progress bars (``annoplan plan``, ``annoplan compare``): drawn on standard error only
when it is a terminal."""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annoplan import planner
from annoplan.api import cli as api_cli
from annoplan.api.cli import app, plan_progress
from annoplan.api.progress import progress_bar

EXAMPLE = json.loads((Path(__file__).resolve().parents[1] / "examples" / "plan.json").read_text())
SMALL = {**EXAMPLE, "draws": 200, "batch_sizes": [1000, 5000]}
STRATEGIES = ["manual", "prelabel", "active_learning", "hybrid"]


class Terminal(io.StringIO):
    """Text written to a terminal."""

    def isatty(self) -> bool:
        return True


def test_the_bar_names_each_strategy_and_ends_with_all_searched() -> None:
    terminal = Terminal()
    with plan_progress(terminal) as progress:
        assert progress is not None
        planner.make_plan(SMALL, progress=progress)
    drawn = terminal.getvalue()
    for done, strategy in enumerate(STRATEGIES):
        assert f"planning: {strategy}" in drawn
        assert f"{done}/4" in drawn
    assert "planning: done" in drawn and "4/4" in drawn
    assert progress.bar is None  # stopped


def test_no_bar_when_standard_error_is_not_a_terminal() -> None:
    piped = io.StringIO()
    with plan_progress(piped) as progress:
        assert progress is None
    assert piped.getvalue() == ""


def test_the_plan_command_draws_the_bar_on_a_terminal_and_keeps_stdout_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(api_cli, "plan_progress", functools.partial(plan_progress, terminal))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(SMALL), encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["strategies"]
    assert "planning: hybrid" in terminal.getvalue()
    assert "planning" not in result.stderr


def test_a_request_refused_before_any_work_draws_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(api_cli, "plan_progress", functools.partial(plan_progress, terminal))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({**SMALL, "pool_size": -1}), encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert "pool_size" in result.stderr
    assert terminal.getvalue() == ""


def test_a_counting_bar_moves_one_step_per_call_and_is_cleared_on_leaving() -> None:
    # what `annoplan compare` draws, one step per replay finished
    terminal = Terminal()
    with progress_bar(terminal) as bar:
        assert bar is not None
        step = bar.counter(3, "replays")
        for outcome in ("a", "b", "c"):
            step(outcome)
        assert "replays" in terminal.getvalue() and "3/3" in terminal.getvalue()
    assert bar.bar is None  # stopped
    with progress_bar(io.StringIO()) as piped:
        assert piped is None
