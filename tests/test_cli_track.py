"""``annoplan track PLAN ACTUALS`` through the typer app: CSV and JSON actuals, outputs, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from annoplan.api.cli import app

runner = CliRunner()
EXAMPLE = json.loads((Path(__file__).resolve().parents[1] / "examples" / "plan.json").read_text())
SMALL = {**EXAMPLE, "draws": 200, "batch_sizes": [500, 1000]}
CSV = "round,human_labels,cost,auto_accepted,metric\n1,500,400.00,20000,0.94\n2,1000,99999.00,30000,\n"


def files(tmp_path: Path, actuals: str, name: str = "actuals.csv") -> tuple[str, str]:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(SMALL), encoding="utf-8")
    path = tmp_path / name
    path.write_text(actuals, encoding="utf-8")
    return str(plan), str(path)


def test_track_prints_the_answer_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["track", *files(tmp_path, CSV)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data = json.loads(result.stdout)
    assert data["spent"] == "99999.00"
    assert data["status"] == "over_plan"
    assert [r["actual"] for r in data["burn_up"][:2]] == ["400.00", "99999.00"]


def test_json_actuals_and_a_saved_plan_give_the_same_answer(tmp_path: Path) -> None:
    rounds: list[dict[str, Any]] = [
        {"round": 1, "human_labels": 500, "cost": "400.00", "auto_accepted": 20000, "metric": 0.94},
        {"round": 2, "human_labels": 1000, "cost": "99999.00", "auto_accepted": 30000},
    ]
    plan, actuals = files(tmp_path, json.dumps({"rounds": rounds}), "actuals.json")
    made = runner.invoke(app, ["plan", plan])
    saved = tmp_path / "made.json"
    saved.write_text(made.stdout, encoding="utf-8")
    from_csv = json.loads(runner.invoke(app, ["track", *files(tmp_path, CSV)]).stdout)
    from_json = runner.invoke(app, ["track", plan, actuals, "--plan-response", str(saved)])
    assert from_json.exit_code == 0, from_json.stderr
    data = json.loads(from_json.stdout)
    assert data["plan_id"] == json.loads(made.stdout)["id"]
    assert {k: v for k, v in data.items() if k != "plan_id"} == {
        k: v for k, v in from_csv.items() if k != "plan_id"
    }


def test_track_writes_the_burn_up_chart_and_workbook(tmp_path: Path) -> None:
    chart, book = tmp_path / "burn.png", tmp_path / "plan.xlsx"
    args = [
        "track",
        *files(tmp_path, CSV),
        "--chart",
        str(chart),
        "--xlsx",
        str(book),
        "--format",
        "markdown",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "over plan" in result.stdout and "| round |" in result.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")
    sheet = load_workbook(book)["Burn-up"]
    values = [row for row in sheet.iter_rows(values_only=True) if row and row[0] == 2]
    assert values and values[-1][4] == 99999


@pytest.mark.parametrize(
    ("actuals", "message"),
    [
        ("round,cost\n1,5\n", "ACTUALS: missing column(s) human_labels"),
        ("round,human_labels,cost,price\n1,5,5,1\n", "ACTUALS: unknown column(s) price"),
        (
            "round,human_labels,cost\n1,many,5\n",
            "ACTUALS: line 2: human_labels: 'many' is not a whole number",
        ),
        ("round,human_labels,cost\n1,5,-3\n", "ACTUALS: rounds[0].cost"),
        ("round,human_labels,cost\n1,60000,3\n", "ACTUALS: rounds[0].human_labels"),
        ("round,human_labels,cost\n", "ACTUALS: no rounds"),
    ],
)
def test_bad_actuals_exit_2_naming_the_field(tmp_path: Path, actuals: str, message: str) -> None:
    result = runner.invoke(app, ["track", *files(tmp_path, actuals)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"annoplan track: {message}")


def test_a_bad_chart_name_exits_2_before_any_work(tmp_path: Path) -> None:
    result = runner.invoke(app, ["track", *files(tmp_path, CSV), "--chart", str(tmp_path / "c.gif")])
    assert result.exit_code == 2
    assert result.stderr.startswith("annoplan track: --chart:")
