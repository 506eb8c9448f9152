"""make_plan on the bundled example: the response contract, determinism, errors naming the field."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.plans import make_plan
from annoplan.simulators.costs import RateCard

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


def test_the_hybrid_threshold_is_certified_and_marked_in_the_table() -> None:
    data = make_plan(small()).model_dump(mode="json")
    hybrid = next(s for s in data["strategies"] if s["strategy"] == "hybrid")
    threshold = hybrid["settings"]["confidence_threshold"]
    chosen = [row for row in data["thresholds"] if row["chosen"]]
    assert len(chosen) == 1 and chosen[0]["threshold"] == pytest.approx(threshold)
    # every threshold at or above a certified one is certified: its bound is within the goal
    assert chosen[0]["upper_bound"] <= EXAMPLE["goal"]["max_label_error"]
    assert "pool" in data["assumptions"]["threshold_risk"]


def test_mean_work_volumes_price_to_the_mean_cost() -> None:
    plan = make_plan(small())
    card = RateCard(**{k: v for k, v in EXAMPLE["costs"].items() if k != "currency"})
    for forecast in plan.strategies:
        priced = card.total(forecast.expected_work.volumes())
        assert priced == pytest.approx(float(forecast.cost.mean), abs=0.01)


def test_sensitivity_moves_the_recommended_cost_by_each_price_times_its_volume() -> None:
    plan = make_plan(small())
    rec = next(s for s in plan.strategies if s.strategy == plan.recommendation.strategy)
    mean = float(rec.cost.mean)
    rows = {row.price: row for row in plan.sensitivity}
    assert set(rows) == {"label", "review", "correction", "audit", "platform_fee", "round_overhead"}
    for row in rows.values():
        assert float(row.low) <= mean + 0.01 and float(row.high) >= mean - 0.01
    label_volume = rec.expected_work.fresh_labels
    swing = float(rows["label"].high) - float(rows["label"].low)
    assert swing == pytest.approx(2 * 0.2 * EXAMPLE["costs"]["label"] * label_volume, abs=0.02)


def metric_goal(target: float = 0.95, **changes: Any) -> dict[str, Any]:
    pilot = {k: v for k, v in EXAMPLE["pilot"].items() if k != "calibration"}
    return small(
        pilot=pilot,
        goal={"type": "model_metric", "target": target},
        strategies=["manual", "active_learning"],
        **changes,
    )


def test_a_metric_goal_stops_when_the_target_is_met() -> None:
    plan = make_plan(metric_goal(target=0.9))
    manual = next(s for s in plan.strategies if s.strategy == "manual")
    assert manual.lifetime_cost is None
    assert manual.probability_goal_met >= 0.9
    # the budget that meets the target with probability 90%: well short of labeling the whole pool
    assert manual.settings.stop_at_labels is not None
    assert manual.settings.stop_at_labels <= manual.human_labels.p90 < EXAMPLE["pool_size"]
    assert manual.final_metric.p50 >= 0.9


def test_an_unreachable_target_is_not_reachable_with_what_would_reach_it() -> None:
    plan = make_plan(metric_goal(target=0.999))
    assert all(s.probability_goal_met < 0.9 for s in plan.strategies)
    rec = plan.recommendation
    assert rec.reachable is False and rec.savings_vs_manual is None
    assert rec.reasons[0].startswith("not reachable: no strategy meets the goal with probability 90%")
    advice = rec.reasons[1]
    assert advice.startswith("what would make it reachable: a target of ")
    # the target it names is one the closest attempt reaches with the required probability
    suggested = float(advice.split("a target of ")[1].split(" ")[0])
    reachable = make_plan(metric_goal(target=suggested))
    assert reachable.recommendation.reachable
    assert max(s.probability_goal_met for s in reachable.strategies) >= 0.9


def test_an_unreachable_label_error_names_the_goal_it_could_meet() -> None:
    # active learning on a labeled dataset machine-labels what humans do not reach (at most 75% of the pool
    # by hand): 0.01% of the pool wrong is out of reach for a model of ~93% accuracy
    goal = {"type": "labeled_dataset", "max_label_error": 0.0001}
    rec = make_plan(small(strategies=["active_learning"], goal=goal)).recommendation
    assert rec.reachable is False
    suggested = rec.reasons[1].split("a max_label_error of ")[1].split("%")[0]
    assert float(suggested) / 100 > 0.0001


def test_a_reachable_goal_is_marked_reachable() -> None:
    assert make_plan(small()).recommendation.reachable is True


def test_a_cheap_model_error_stops_labeling_earlier_than_a_costly_one() -> None:
    cheap = make_plan(metric_goal(value={"per_metric_point": 1.0}))
    costly = make_plan(metric_goal(value={"error_cost": 5.0, "predictions": 10_000_000}))

    def labels(plan: Any) -> float:
        return next(s for s in plan.strategies if s.strategy == "manual").human_labels.p50

    assert labels(cheap) < labels(costly)
    manual = next(s for s in cheap.strategies if s.strategy == "manual")
    assert manual.lifetime_cost is not None
    assert float(manual.lifetime_cost.mean) >= float(manual.cost.mean)
    assert any("lifetime cost" in r for r in cheap.recommendation.reasons)


@pytest.mark.parametrize(
    "value",
    [{"error_cost": 1.0}, {"per_metric_point": 1.0, "predictions": 10}, {}],
    ids=["cost without predictions", "both ways", "empty"],
)
def test_a_value_needs_one_complete_way_to_price_errors(value: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError) as info:
        make_plan(metric_goal(value=value))
    assert info.value.field == "value"


def test_a_value_with_a_labeled_dataset_goal_is_refused() -> None:
    with pytest.raises(InvalidInputError) as info:
        make_plan(small(value={"per_metric_point": 10.0}))
    assert info.value.field == "value"


@pytest.mark.parametrize(
    ("strategies", "planned"),
    [
        (["hybrid"], ["prelabel"]),
        (["manual", "hybrid"], ["manual", "prelabel"]),
        (["prelabel", "hybrid"], ["prelabel"]),
    ],
)
def test_hybrid_that_can_auto_accept_nothing_is_planned_as_prelabeling(
    strategies: list[str], planned: list[str]
) -> None:
    # 300 calibration items cannot certify a 0.1% label error: hybrid would send every item to humans
    goal = {"type": "labeled_dataset", "max_label_error": 0.001}
    data = make_plan(small(strategies=strategies, goal=goal)).model_dump(mode="json")
    assert [s["strategy"] for s in data["strategies"]] == planned
    assert data["recommendation"]["strategy"] in planned
    assert data["recommendation"]["confidence_threshold"] is None
    assert any("calibration items" in w and "300" in w for w in data["warnings"])
    assert any("in place of hybrid" in w for w in data["warnings"]) == (strategies != ["prelabel", "hybrid"])


def test_a_plan_with_nothing_it_can_simulate_is_refused_naming_the_strategies() -> None:
    with pytest.raises(InvalidInputError) as info:
        make_plan(small(strategies=["hybrid"], goal={"type": "model_metric", "target": 0.95}))
    assert info.value.field == "strategies"
    assert "hybrid" in str(info.value)


def test_reasons_quote_the_responses_own_money_strings() -> None:
    plan = make_plan(small())
    rec = plan.recommendation
    assert rec.strategy != "manual" and rec.savings_vs_manual is not None
    text = " ".join(rec.reasons)
    # the very rounded value of the fields, with thousands separators (never a second median)
    assert f"saves ~{Decimal(rec.savings_vs_manual.p50):,} USD (median)" in text
    assert f"lowest expected cost, {Decimal(rec.cost.mean):,} USD" in text
    assert Decimal(rec.cost.mean) >= 1000  # so the separator shows


def test_a_plan_carries_the_pilot_warnings_of_fit_and_quote() -> None:
    pilot = {**EXAMPLE["pilot"], "rounds": EXAMPLE["pilot"]["rounds"][:3]}
    warnings = make_plan(small(pilot=pilot, pool_size=200_000)).warnings
    assert any(w.startswith("only 3 pilot rounds") for w in warnings)
    assert any("the pool (200,000 items) is over 10x the last pilot round" in w for w in warnings)


def test_a_pilot_close_to_the_pool_gives_no_far_warning() -> None:
    warnings = make_plan(small(pool_size=3000, batch_sizes=[300, 1000])).warnings
    assert not any("over 10x" in w for w in warnings)


def test_each_stop_number_is_named_for_what_it_is() -> None:
    plan = make_plan(small())
    for s in plan.strategies:
        settings = s.settings
        assert settings.human_labels_p50 == math.ceil(s.human_labels.p50)
        if s.strategy != "active_learning":  # no cap: the budget at the plan's probability (90%) is the P90
            assert settings.human_labels_budget == math.ceil(s.human_labels.p90)
            # stop_at_labels keeps its old meaning for a labeled dataset: the median, not a budget
            assert settings.stop_at_labels == settings.human_labels_p50
        assert settings.stop_rule
    hybrid = next(s for s in plan.strategies if s.strategy == "hybrid")
    assert hybrid.settings.stop_rule is not None and "pool is empty" in hybrid.settings.stop_rule
    rec = plan.recommendation
    best = next(s for s in plan.strategies if s.strategy == rec.strategy)
    assert (rec.human_labels_budget, rec.human_labels_p50, rec.stop_rule) == (
        best.settings.human_labels_budget,
        best.settings.human_labels_p50,
        best.settings.stop_rule,
    )


def test_a_metric_goal_budget_is_its_stop_point_and_its_rule_names_the_target() -> None:
    manual = next(s for s in make_plan(metric_goal(target=0.9)).strategies if s.strategy == "manual")
    assert manual.settings.human_labels_budget == manual.settings.stop_at_labels is not None
    assert manual.settings.stop_rule is not None
    assert manual.settings.stop_rule.startswith("stop when the model measures accuracy 0.9")


def manual_plan(round_overhead: float, **changes: Any) -> Any:
    costs = {**EXAMPLE["costs"], "round_overhead": round_overhead}
    request = {**small(strategies=["manual"], costs=costs), **changes}
    return make_plan(request)


def test_an_optimum_at_the_top_of_the_default_grid_searches_larger_batches() -> None:
    # a costly round makes fewer, larger batches cheaper: past the grid's 10% of the pool
    plan = manual_plan(100_000.0, batch_sizes=None)
    assert plan.assumptions["batch_sizes"] == [250, 500, 1000, 2500, 5000]
    assert plan.assumptions["batch_sizes_added"] == {"manual": [10_000, 20_000, 40_000]}
    assert plan.recommendation.batch_size == 40_000
    # still at the edge after the bounded extension: said so
    assert any("largest searched (40,000, 80% of the pool)" in w for w in plan.warnings)


def test_an_optimum_at_the_top_of_a_given_grid_is_a_warning() -> None:
    plan = manual_plan(100_000.0)
    assert plan.recommendation.batch_size == 5000 and "batch_sizes_added" not in plan.assumptions
    assert any("largest searched (5,000" in w and "give batch_sizes" in w for w in plan.warnings)


def test_an_optimum_inside_the_grid_is_not_extended() -> None:
    plan = manual_plan(0.0, batch_sizes=None)
    assert "batch_sizes_added" not in plan.assumptions
    assert not any("largest searched" in w for w in plan.warnings)


def test_progress_is_reported_per_strategy_and_at_the_end() -> None:
    calls: list[tuple[int, int, str]] = []
    make_plan(small(), progress=lambda done, total, what: calls.append((done, total, what)))
    assert calls == [
        (0, 4, "manual"),
        (1, 4, "prelabel"),
        (2, 4, "active_learning"),
        (3, 4, "hybrid"),
        (4, 4, "done"),
    ]
