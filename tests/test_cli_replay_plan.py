"""``annoplan replay DATA --plan PLAN.json`` / ``--quote QUOTE.json``: the policy a plan or a quote priced,
replayed from its start labels, beside the forecast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification
from typer.testing import CliRunner, Result

from annoplan.api.cli import app
from annoplan.planner.plans import make_plan
from annoplan.planner.quotes import make_quote
from annoplan.simulators.pilot import simulate_pilot

runner = CliRunner()
COSTS = {"label": 0.4, "review": 0.12, "correction": 0.35, "audit": 0.1, "audit_rate": 0.05}
VENDOR = {"review": 0.1, "correction": 0.3, "audit": 0.08, "audit_rate": 0.05, "round_overhead": 1.0}


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["replay", *args])


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    X, y = make_classification(
        n_samples=3000, n_features=8, n_informative=5, n_classes=3, class_sep=1.5, random_state=2
    )
    path = tmp_path_factory.mktemp("data") / "items.npz"
    np.savez(path, X=X.astype(np.float32), y=y.astype(np.int32))
    return path, X, y


@pytest.fixture(scope="module")
def documents(data: tuple[Path, Any, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    _, X, y = data
    pilot = simulate_pilot(X, y, n_labels=(50, 100, 200), random_state=0).to_dict()
    folder = tmp_path_factory.mktemp("docs")
    plan = make_plan(
        {
            "pool_size": 2200,
            "goal": {"type": "labeled_dataset", "max_label_error": 0.05},
            "pilot": pilot,
            "costs": COSTS,
            "strategies": ["manual", "hybrid"],
            "batch_sizes": [200],
            "draws": 300,
        }
    )
    quote = make_quote(
        {
            "pool_size": 2200,
            "pilot": pilot,
            "max_label_error": 0.05,
            "vendor_costs": VENDOR,
            "margin": 0.2,
            "batch_sizes": [200],
            "draws": 300,
        }
    )
    paths = {"plan": folder / "plan.json", "quote": folder / "quote.json", "vendor": folder / "vendor.json"}
    paths["plan"].write_text(plan.model_dump_json())
    paths["quote"].write_text(quote.model_dump_json())
    paths["vendor"].write_text(json.dumps(VENDOR))
    return paths


def test_a_plan_replays_its_policy_from_its_start_labels(
    data: tuple[Path, Any, Any], documents: dict[str, Path]
) -> None:
    result = invoke(str(data[0]), "--plan", str(documents["plan"]), "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    plan = json.loads(documents["plan"].read_text())
    policy = plan["policy"]
    assert out["policy"] == policy and out["start_labels"] == policy["start_labels"] == 200
    replay = out["replay"]
    assert replay["policy"] == {"hybrid": "hybrid", "manual": "random"}[policy["strategy"]]
    assert replay["batch_size"] == policy["batch_size"]
    if policy["strategy"] == "hybrid":
        assert replay["confidence_threshold"] == policy["confidence_threshold"]
        assert replay["max_label_error"] == 0.05 and replay["label_error"] <= 0.05
    # warm start: the first round already has a model, so nothing is labeled from scratch
    assert replay["fresh_labels"] == 0
    names = [row["quantity"] for row in out["side_by_side"]]
    assert names[0] == "cost" and "label error" in names
    forecast = next(f for f in plan["strategies"] if f["strategy"] == policy["strategy"])
    cost = out["side_by_side"][0]
    assert cost["p50"] == float(forecast["cost"]["p50"]) and cost["replay"] == replay["cost"]


def test_start_labels_zero_is_a_cold_start(data: tuple[Path, Any, Any], documents: dict[str, Path]) -> None:
    result = invoke(str(data[0]), "--plan", str(documents["plan"]), "--start-labels", "0", "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["start_labels"] == 0 and out["replay"]["fresh_labels"] > 0


def test_a_quote_replays_with_the_vendor_costs_and_the_bill(
    data: tuple[Path, Any, Any], documents: dict[str, Path]
) -> None:
    quote = json.loads(documents["quote"].read_text())
    assert quote["status"] == "quoted"
    args = [str(data[0]), "--quote", str(documents["quote"]), "--costs", str(documents["vendor"])]
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    rows = {row["quantity"]: row for row in out["side_by_side"]}
    replay = out["replay"]
    bill = (
        float(quote["price_per_correction"]) * replay["corrections"]
        + float(quote["price_per_audit"]) * replay["audits"]
    )
    assert rows["client bill"]["replay"] == pytest.approx(bill)
    assert rows["vendor cost"]["replay"] == replay["cost"] and rows["vendor cost"]["p50"] is not None
    assert replay["confidence_threshold"] == quote["confidence_threshold"]
    table = invoke(*args, "--format", "markdown")
    assert table.exit_code == 0 and "| client bill |" in table.stdout


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--policy", "hybrid"], "--policy"),
        (["--start-labels", "-1"], "--start-labels"),
        (["--format", "yaml"], "--format"),
    ],
)
def test_bad_combinations_exit_2_naming_the_option(
    extra: list[str], option: str, data: tuple[Path, Any, Any], documents: dict[str, Path]
) -> None:
    result = invoke(str(data[0]), "--plan", str(documents["plan"]), *extra)
    assert result.exit_code == 2
    assert f"annoplan replay: {option}:" in result.stderr


def test_a_document_without_a_policy_is_refused(data: tuple[Path, Any, Any], tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"id": "x", "strategies": []}))
    result = invoke(str(data[0]), "--plan", str(old))
    assert result.exit_code == 2 and "--plan:" in result.stderr and "no policy" in result.stderr
    both = invoke(str(data[0]), "--plan", str(old), "--quote", str(old))
    assert both.exit_code == 2 and "not both" in both.stderr


def test_vendor_costs_that_are_not_an_object_are_refused_naming_costs(
    data: tuple[Path, Any, Any], documents: dict[str, Path], tmp_path: Path
) -> None:
    listed = tmp_path / "vendor.json"
    listed.write_text("[0.1, 0.3]")
    result = invoke(str(data[0]), "--quote", str(documents["quote"]), "--costs", str(listed))
    assert result.exit_code == 2
    assert "annoplan replay: --costs:" in result.stderr and "vendor's costs" in result.stderr
