"""make_plan on the bundled example: the response contract, determinism, errors naming the field."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from planner.errors import InvalidInputError
from planner.plans import make_plan

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "plan.json").read_text())


def small(**changes: Any) -> dict[str, Any]:
    request = {**EXAMPLE, "draws": 300, "batch_sizes": [1000, 5000], **changes}
    return request


def test_the_response_follows_the_contract() -> None:
    data = make_plan(small()).model_dump(mode="json")
    assert {"id", "strategies", "recommendation", "warnings"} <= set(data)
    names = [s["strategy"] for s in data["strategies"]]
    assert names == ["manual", "prelabel", "active_learning", "hybrid"]
    for forecast in data["strategies"]:
        cost = [Decimal(forecast["cost"][q]) for q in ("p10", "p50", "p90")]
        assert cost == sorted(cost) and all(c >= 0 for c in cost)
        for key in ("human_labels", "corrections", "auto_accepted", "label_error", "days"):
            assert forecast[key]["p10"] <= forecast[key]["p50"] <= forecast[key]["p90"]
        assert 0.0 <= forecast["probability_goal_met"] <= 1.0
        assert forecast["settings"]["batch_size"] in (1000, 5000)
        assert forecast["schedule"] and forecast["schedule"][-1]["remaining"] == 0
    rec = data["recommendation"]
    assert rec["strategy"] in names and rec["reasons"]
    assert Decimal(rec["cost"]["p50"]).as_tuple().exponent == -2  # USD: cents


def test_money_is_rounded_to_the_currency_minor_unit() -> None:
    costs = {**EXAMPLE["costs"], "currency": "JPY", "label": 50, "review": 15, "correction": 40, "audit": 10}
    data = make_plan(small(costs=costs)).model_dump(mode="json")
    assert "." not in data["recommendation"]["cost"]["p50"]


def test_the_same_seed_gives_the_same_plan() -> None:
    first = make_plan(small(seed=3)).model_dump(mode="json")
    second = make_plan(small(seed=3)).model_dump(mode="json")
    first.pop("id"), second.pop("id")
    assert first == second


def test_manual_never_costs_less_than_the_recommendation_that_beats_it() -> None:
    data = make_plan(small()).model_dump(mode="json")
    manual = next(s for s in data["strategies"] if s["strategy"] == "manual")
    rec = data["recommendation"]
    if rec["strategy"] != "manual":
        assert Decimal(rec["cost"]["mean"]) <= Decimal(manual["cost"]["mean"])
        assert Decimal(rec["savings_vs_manual"]["mean"]) >= 0


def test_hybrid_without_calibration_is_skipped_with_a_warning() -> None:
    pilot = {k: v for k, v in EXAMPLE["pilot"].items() if k != "calibration"}
    data = make_plan(small(pilot=pilot)).model_dump(mode="json")
    assert "hybrid" not in [s["strategy"] for s in data["strategies"]]
    assert any("hybrid" in w for w in data["warnings"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"costs": {**EXAMPLE["costs"], "currency": "XYZ"}}, "costs.currency"),
        ({"costs": {**EXAMPLE["costs"], "label": -1}}, "costs.label"),
        ({"draws": 10**9}, "draws"),
        ({"goal": {"type": "model_metric"}}, "goal.target"),
    ],
    ids=["unknown currency", "negative cost", "a billion draws", "goal without target"],
)
def test_bad_input_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        make_plan(small(**change))
    assert info.value.field == field
