"""``annoplan plan`` and ``annoplan demo`` through the typer app."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from annoplan.api.cli import app

runner = CliRunner()
EXAMPLE = json.loads((Path(__file__).resolve().parents[1] / "examples" / "plan.json").read_text())
SMALL = {**EXAMPLE, "draws": 200, "batch_sizes": [1000, 5000]}


def write(tmp_path: Path, request: Any) -> str:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    return str(path)


def test_plan_prints_the_response_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", write(tmp_path, SMALL)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data = json.loads(result.stdout)
    assert data["recommendation"]["strategy"] in {s["strategy"] for s in data["strategies"]}
    assert data["currency"] == "USD"


def test_plan_reads_standard_input() -> None:
    result = runner.invoke(app, ["plan", "-"], input=json.dumps(SMALL))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["strategies"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"costs": {**EXAMPLE["costs"], "correction": float("nan")}}, "costs.correction"),
        ({"costs": {**EXAMPLE["costs"], "audit_rate": 1.5}}, "costs.audit_rate"),
        ({"strategies": ["manual", "crowd"]}, "strategies[1]"),
        ({"goal": {"type": "model_metric"}}, "goal.target"),
        ({"pool_size": 0}, "pool_size"),
        ({"draws": 10**9}, "draws"),
    ],
    ids=["NaN cost", "audit rate above 1", "unknown strategy", "goal without target", "empty pool", "draws"],
)
def test_bad_input_exits_2_naming_the_field(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    # json.dumps writes NaN as the bare token NaN, which Python's JSON reader accepts: the schema must refuse
    result = runner.invoke(app, ["plan", write(tmp_path, {**SMALL, **change})])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"annoplan: {field}:")
    assert result.stderr.count("\n") == 1


def test_calibration_lists_of_different_lengths_exit_2(tmp_path: Path) -> None:
    pilot = json.loads(json.dumps(EXAMPLE["pilot"]))
    pilot["calibration"][1]["correct"] = pilot["calibration"][1]["correct"][:-1]
    result = runner.invoke(app, ["plan", write(tmp_path, {**SMALL, "pilot": pilot})])
    assert result.exit_code == 2
    assert result.stderr.startswith("annoplan: pilot.calibration[1]: correct has 299 items")


def test_demo_prints_the_plan_and_its_recommendation() -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    for strategy in ("manual", "prelabel", "active_learning", "hybrid"):
        assert f" {strategy} " in result.stdout
    assert "Recommendation" in result.stdout
    assert "P10" in result.stdout and "P90" in result.stdout
    # money in the currency with thousands separators, as every table prints it
    assert re.search(r"\d{1,3}(,\d{3})+\.\d\d USD", result.stdout)


def test_plan_writes_the_workbook_beside_the_json(tmp_path: Path) -> None:
    out = tmp_path / "plan.xlsx"
    result = runner.invoke(app, ["plan", write(tmp_path, SMALL), "--xlsx", str(out)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["strategies"]
    sheets = load_workbook(out).sheetnames
    assert {"Summary", "Assumptions", "Strategies", "Sensitivity"} <= set(sheets)


def test_an_unwritable_workbook_path_exits_2_naming_the_option(tmp_path: Path) -> None:
    out = tmp_path / "missing-folder" / "plan.xlsx"
    result = runner.invoke(app, ["plan", write(tmp_path, SMALL), "--xlsx", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith("annoplan: --xlsx: cannot write")
