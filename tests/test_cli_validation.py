"""Every problem of a request at once on the command line, "did you mean" and percentage hints, choice lists
in ``--help``, and a start-up that does not import the numeric stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from annoplan.api.cli import app
from annoplan.api.cli_validation import known_fields, request_problems
from annoplan.planner.schemas.plans import PlanRequest

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
PLAN = json.loads((ROOT / "examples" / "plan.json").read_text())


def bad_plan() -> dict[str, Any]:
    request = json.loads(json.dumps(PLAN))
    request["pool_size"] = 0
    request["costs"]["corection"] = 0.3
    request["costs"]["audit_rate"] = 5.0
    request["pilot"]["rounds"][1]["value"] = 89.0
    return request


def test_plan_lists_every_bad_field_at_once(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(bad_plan()), encoding="utf-8")
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert all(line.startswith("annoplan: ") for line in lines)
    fields = [line.removeprefix("annoplan: ").split(":")[0] for line in lines]
    assert sorted(fields) == sorted(
        ["pool_size", "pilot.rounds[1].value", "costs.audit_rate", "costs.corection"]
    )
    by_field = dict(zip(fields, lines, strict=True))
    assert by_field["costs.corection"].endswith("did you mean costs.correction?")
    assert "it looks like a percentage: write 0.89 for 89%" in by_field["pilot.rounds[1].value"]
    assert "write 0.05 for 5%" in by_field["costs.audit_rate"]
    assert "percentage" not in by_field["pool_size"]


def test_fit_names_a_misspelt_metric_and_field_together() -> None:
    request = {"metric": "acuracy", "rounds": [{"n_labels": 10, "value": 0.5}, {"n_labels": 20, "valu": 0.6}]}
    result = runner.invoke(app, ["fit", "-"], input=json.dumps(request))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "annoplan: metric: Input should be 'accuracy', 'f1' or 'error_rate'; did you mean 'accuracy'?",
        "annoplan: rounds[1].value: Field required",
        "annoplan: rounds[1].valu: Extra inputs are not permitted; did you mean rounds[1].value?",
    ]


def test_a_valid_request_has_no_problems_and_no_guess_without_a_close_name() -> None:
    assert request_problems(PlanRequest, PLAN) == []
    request = {**PLAN, "colour": "blue"}
    assert request_problems(PlanRequest, request) == ["colour: Extra inputs are not permitted"]


def test_known_fields_follow_lists_and_unions() -> None:
    assert "correction" in known_fields(PlanRequest, ("costs",))
    assert known_fields(PlanRequest, ("pilot", "rounds", 2)) >= {"n_labels", "value", "n_eval"}
    assert "max_label_error" in known_fields(PlanRequest, ("goal", "labeled_dataset"))


def test_help_lists_the_choices() -> None:
    result = runner.invoke(app, ["fit", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "accuracy|f1|error_rate" in result.stdout
    assert "table|json|markdown" in result.stdout
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    for command in ("fit", "plan", "quote", "pilot", "demo", "replay", "serve"):
        assert f" {command} " in result.stdout


def test_help_starts_without_the_numeric_stack() -> None:
    program = (
        "import sys\nsys.argv = ['annoplan', '--help']\nfrom api.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('scipy', 'sklearn', 'numpy', 'openpyxl', 'fastapi') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "replay" in done.stdout


def test_a_lazy_command_runs_and_prints_its_own_help() -> None:
    result = runner.invoke(app, ["replay", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "--policy" in result.stdout
    result = runner.invoke(app, ["replya"])
    assert result.exit_code == 2
    assert "replay" in result.stderr
