"""``annoplan vendors`` through the typer app: JSON and table output, the workbook, errors naming fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from typer.testing import CliRunner

from annoplan.api.cli import app

runner = CliRunner()
EXAMPLE = json.loads((Path(__file__).resolve().parents[1] / "examples" / "comparison.json").read_text())
SMALL = {**EXAMPLE, "pool_size": 5_000, "draws": 200, "batch_sizes": [500, 1000]}


def write(tmp_path: Path, request: Any, name: str = "comparison.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(request), encoding="utf-8")
    return str(path)


def test_vendors_prints_every_offer_with_probabilities_summing_to_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["vendors", write(tmp_path, SMALL)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data = json.loads(result.stdout)
    assert [o["vendor"] for o in data["offers"]] == [o["vendor"] for o in SMALL["offers"]]
    assert (
        sum(o["probability_cheapest"] for o in data["offers"]) == 1.0
        or abs(sum(o["probability_cheapest"] for o in data["offers"]) - 1.0) < 1e-12
    )
    assert data["currency"] == "USD" and data["fx"]["source"] == SMALL["fx"]["source"]
    assert data["recommendation"]["vendor"] in {o["vendor"] for o in SMALL["offers"]}


def test_vendors_table_and_workbook(tmp_path: Path) -> None:
    out = tmp_path / "vendors.xlsx"
    result = runner.invoke(app, ["vendors", write(tmp_path, SMALL), "--format", "table", "--xlsx", str(out)])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "P(cheapest)" in result.stdout and "Recommendation" in result.stdout
    book = load_workbook(out)
    assert book.sheetnames == ["Vendors", "Assumptions"]
    sheet = book["Vendors"]
    vendors = [sheet.cell(row=r, column=1).value for r in range(1, 12)]
    for offer in SMALL["offers"]:
        assert offer["vendor"] in vendors
    assert len(sheet._charts) == 1
    rates = [c.value for row in book["Assumptions"].iter_rows() for c in row]
    assert SMALL["fx"]["source"] in rates and "EUR" in rates


def test_vendors_refuses_mixed_currencies_without_fx_naming_the_field(tmp_path: Path) -> None:
    request = {k: v for k, v in SMALL.items() if k != "fx"}
    result = runner.invoke(app, ["vendors", write(tmp_path, request)])
    assert result.exit_code == 2
    assert "annoplan: fx: the offers are in different currencies" in result.stderr


def test_vendors_reads_a_quote_file_for_a_quote_id_offer(tmp_path: Path) -> None:
    quote_request = json.loads((Path(__file__).resolve().parents[1] / "examples" / "quote.json").read_text())
    quote_request.update(pool_size=5_000, draws=200, batch_sizes=[1000])
    made = runner.invoke(app, ["quote", write(tmp_path, quote_request, "quote.json"), "--format", "json"])
    assert made.exit_code == 0, made.stderr
    quote = json.loads(made.stdout)
    quote_file = tmp_path / "quote-out.json"
    quote_file.write_text(made.stdout, encoding="utf-8")
    request = {**SMALL, "offers": [SMALL["offers"][0], {"vendor": "Quoted", "quote_id": quote["id"]}]}
    request.pop("fx")
    result = runner.invoke(app, ["vendors", write(tmp_path, request), "--quote", str(quote_file)])
    assert result.exit_code == 0, result.stderr
    offer = json.loads(result.stdout)["offers"][1]
    assert offer["quote"]["id"] == quote["id"] and offer["settings"]["batch_size"] == quote["batch_size"]
    missing = runner.invoke(app, ["vendors", write(tmp_path, request)])
    assert missing.exit_code == 2 and "offers[1].quote_id" in missing.stderr


def test_vendors_lists_every_bad_field_at_once(tmp_path: Path) -> None:
    request = {**SMALL, "draws": 5, "offers": [{"vendor": "A", "costs": {"label": -1}}]}
    result = runner.invoke(app, ["vendors", write(tmp_path, request)])
    assert result.exit_code == 2
    assert "draws" in result.stderr and "offers" in result.stderr
