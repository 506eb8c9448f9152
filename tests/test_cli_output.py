"""``--format table|json|markdown`` of fit, plan and quote, and the renderer other commands reuse."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from annoplan.api import output
from annoplan.api.cli import app
from annoplan.planner.schemas.plans import PlanResponse

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PLAN = {**json.loads((EXAMPLES / "plan.json").read_text()), "draws": 200, "batch_sizes": [1000, 5000]}
QUOTE = {**json.loads((EXAMPLES / "quote.json").read_text()), "draws": 200, "batch_sizes": [1000]}
FIT = {
    "metric": "accuracy",
    "rounds": [
        {"n_labels": 250, "value": 0.742, "n_eval": 2000},
        {"n_labels": 500, "value": 0.781, "n_eval": 2000},
        {"n_labels": 1000, "value": 0.812, "n_eval": 2000},
        {"n_labels": 2000, "value": 0.836, "n_eval": 2000},
    ],
    "targets": [0.85],
    "at_labels": [4000, 15000],
}
#: an amount in the currency with thousands separators, e.g. "20,750.00 USD"
MONEY = re.compile(r"\b\d{1,3}(,\d{3})*\.\d{2} USD\b")


def invoke(tmp_path: Path, command: str, request: Any, *args: str) -> str:
    path = tmp_path / f"{command}.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    result = runner.invoke(app, [command, str(path), *args])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def plan_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp_path = tmp_path_factory.mktemp("plan")
    return {fmt: invoke(tmp_path, "plan", PLAN, "--format", fmt) for fmt in ("table", "json", "markdown")}


def test_plan_table_shows_money_in_the_currency_and_counts_as_integers(plan_outputs: dict[str, str]) -> None:
    table = plan_outputs["table"]
    data = json.loads(plan_outputs["json"])
    manual = next(s for s in data["strategies"] if s["strategy"] == "manual")
    assert f"{float(manual['cost']['p50']):,.2f} USD" in table  # 20750.00 -> 20,750.00 USD
    assert len(MONEY.findall(table)) >= 3 * len(data["strategies"])
    assert f"{round(manual['human_labels']['p50']):,}" in table
    assert "Recommendation" in table and data["recommendation"]["strategy"] in table
    for reason in data["recommendation"]["reasons"][:1]:
        assert reason.split()[0] in table
    assert "{" not in table  # not JSON


def test_plan_output_names_the_budget_the_median_and_the_stop_rule(plan_outputs: dict[str, str]) -> None:
    text = plan_outputs["markdown"]
    rec = json.loads(plan_outputs["json"])["recommendation"]
    assert f"| human labels to budget (90%) | {rec['human_labels_budget']:,} |" in text
    assert f"| human labels P50 | {rec['human_labels_p50']:,} |" in text
    assert f"| human work stops | {rec['stop_rule']} |" in text
    assert "stop at human labels" not in plan_outputs["table"]


def test_plan_markdown_is_pipe_tables(plan_outputs: dict[str, str]) -> None:
    text = plan_outputs["markdown"]
    data = json.loads(plan_outputs["json"])
    assert text.startswith(f"# {data['name']}")
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| strategy |"))
    assert lines[header + 1].startswith("|:---|---:|")
    rows = lines[header + 2 : header + 2 + len(data["strategies"])]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == [
        s["strategy"] for s in data["strategies"]
    ]
    assert all(row.count("|") == lines[header].count("|") for row in rows)
    assert "## Reasons" in text and MONEY.search(text)


def test_fit_formats(tmp_path: Path) -> None:
    data = json.loads(invoke(tmp_path, "fit", FIT, "--format", "json"))
    text = invoke(tmp_path, "fit", FIT, "--format", "markdown")
    assert "| labels | P10 | P50 | P90 |" in text
    assert "| 15,000 |" in text  # a count with its separator
    reach = data["labels_to_reach"][0]
    shown = "-" if reach["p50"] is None else f"{reach['p50']:,}"
    assert "| 0.850 | " in text and shown in text
    table = invoke(tmp_path, "fit", FIT, "--format", "table")
    assert "15,000" in table and "Labels needed to reach each target" in table


def test_quote_formats(tmp_path: Path) -> None:
    data = json.loads(invoke(tmp_path, "quote", QUOTE, "--format", "json"))
    text = invoke(tmp_path, "quote", QUOTE, "--format", "markdown")
    price = data["price_per_correction"]
    assert f"| price per correction | {float(price):,.2f} USD |" in text
    assert f"| price cap | {float(data['price_cap']):,.2f} USD |" in text
    corrections = data["expected_corrections"]
    assert f"| corrections | {round(corrections['p10']):,} |" in text


def test_a_format_outside_the_choices_exits_2_listing_them(tmp_path: Path) -> None:
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(FIT), encoding="utf-8")
    result = runner.invoke(app, ["fit", str(path), "--format", "yaml"])
    assert result.exit_code == 2
    assert "table" in result.stderr and "markdown" in result.stderr


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_default_is_a_table_on_a_terminal_and_json_when_piped() -> None:
    assert output.default_format(Terminal()) == output.Format.table
    assert output.default_format(io.StringIO()) == output.Format.json


def test_amounts_keep_their_digits() -> None:
    assert output.amount("19508.26", "USD") == "19,508.26 USD"
    assert output.amount("1234567", "JPY") == "1,234,567 JPY"
    assert output.amount("0.125", "KWD") == "0.125 KWD"
    assert output.amount(None, "USD") == "-"
    assert output.count(12344.6) == "12,345"


def test_user_text_cannot_break_a_markdown_table() -> None:
    document = output.Document(
        "a | b",
        (output.Table("t", ("name", "n"), (("x | y", "1"),)), output.Notes("n", ("line\nbreak",))),
        {},
    )
    text = output.markdown(document)
    assert "| x \\| y | 1 |" in text
    assert "- line break" in text


def test_a_document_of_records_renders_in_every_format() -> None:
    history = [
        {"round": 1, "human_labels": 1000, "cost": 412.25},
        {"round": 2, "human_labels": 2500, "cost": 1e4},
    ]
    columns = ("round", "human_labels", "cost")
    document = output.Document(
        "Replay", (output.Table("History", columns, output.rows_of(history, columns)),), {"history": history}
    )
    stream = io.StringIO()
    output.render(document, output.Format.markdown, stream)
    assert "| 2 | 2,500 | 10,000 |" in stream.getvalue()
    stream = io.StringIO()
    output.render(document, output.Format.json, stream)
    assert json.loads(stream.getvalue()) == {"history": history}
    stream = io.StringIO()
    output.render(document, output.Format.table, stream)
    assert "2,500" in stream.getvalue() and "\x1b[" not in stream.getvalue()  # no colour codes in a file


def test_an_unreachable_plan_is_titled_as_the_closest_attempt() -> None:
    golden = Path(__file__).resolve().parent / "reports" / "golden" / "plan_response.json"
    plan = PlanResponse.model_validate_json(golden.read_text())
    rec = plan.recommendation.model_copy(update={"reachable": False})
    titles = [b.title for b in output.plan_document(plan.model_copy(update={"recommendation": rec})).blocks]
    assert "Not reachable: the closest attempt" in titles and "Recommendation" not in titles
