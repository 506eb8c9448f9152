"""``annoplan quote`` through the typer app."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from annoplan.api.cli import app

runner = CliRunner()
EXAMPLE = json.loads((Path(__file__).resolve().parents[1] / "examples" / "quote.json").read_text())
SMALL = {**EXAMPLE, "draws": 200, "batch_sizes": [1000]}


def write(tmp_path: Path, request: Any) -> str:
    path = tmp_path / "quote.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    return str(path)


def test_quote_prints_prices_as_money(tmp_path: Path) -> None:
    result = runner.invoke(app, ["quote", write(tmp_path, SMALL)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data = json.loads(result.stdout)
    assert data["status"] == "quoted"
    price = Decimal(data["price_per_correction"])
    assert price > 0 and price.as_tuple().exponent == -2
    assert data["valid_until"] > data["issued_on"]


def test_a_quote_that_cannot_be_honest_is_an_answer_not_an_error(tmp_path: Path) -> None:
    pilot = json.loads(json.dumps(EXAMPLE["pilot"]))
    for sample in pilot["calibration"]:
        sample["confidence"], sample["correct"] = sample["confidence"][:20], sample["correct"][:20]
    result = runner.invoke(app, ["quote", write(tmp_path, {**SMALL, "pilot": pilot})])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "not_possible" and data["price_per_correction"] is None
    assert data["calibration_items_needed"] > 20


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"margin": -0.1}, "margin"),
        ({"margin": 11}, "margin"),
        ({"risk_level": 1.0}, "risk_level"),
        ({"currency": "EUX"}, "currency"),
        ({"validity_days": 0}, "validity_days"),
    ],
    ids=["negative margin", "margin above 10", "risk level 1", "unknown currency", "validity 0"],
)
def test_bad_input_exits_2_naming_the_field(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    result = runner.invoke(app, ["quote", write(tmp_path, {**SMALL, **change})])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"annoplan: {field}:")


@pytest.mark.parametrize(("flag", "internal"), [([], True), (["--client"], False)], ids=["vendor", "client"])
def test_quote_writes_the_vendor_or_the_client_workbook(
    tmp_path: Path, flag: list[str], internal: bool
) -> None:
    out = tmp_path / "quote.xlsx"
    result = runner.invoke(app, ["quote", write(tmp_path, SMALL), "--xlsx", str(out), *flag])
    assert result.exit_code == 0, result.stderr
    sheets = load_workbook(out).sheetnames
    assert "Quote" in sheets
    assert ("Vendor costs" in sheets) is internal
