"""The policy object of plans: the runbook of what each forecast priced (SPEC 4.1)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest

from annoplan.planner.plans import make_plan
from annoplan.planner.policy import LotPath, make_policy
from annoplan.simulators.acceptance import sampling_plan

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "plan.json").read_text())


def small(**changes: Any) -> dict[str, Any]:
    return {**EXAMPLE, "draws": 300, "batch_sizes": [1000, 5000], **changes}


def test_a_plan_carries_the_recommendation_runbook_and_one_per_strategy() -> None:
    plan = make_plan(small())
    assert plan.policy is not None and plan.costs is not None
    mine = {f.strategy: f.policy for f in plan.strategies}
    assert plan.policy == mine[plan.recommendation.strategy]
    for strategy, policy in mine.items():
        assert policy is not None and policy.version == "1" and policy.strategy == strategy
        forecast = next(f for f in plan.strategies if f.strategy == strategy)
        assert policy.batch_size == forecast.settings.batch_size
        assert policy.start_labels == EXAMPLE["pilot"]["rounds"][-1]["n_labels"]  # the pilot's labels kept
        assert policy.steps[0].action == "start" and policy.steps[-1].action == "repeat"


def test_the_hybrid_runbook_states_the_lot_audits_with_every_number() -> None:
    plan = make_plan(small())
    hybrid = next(f.policy for f in plan.strategies if f.strategy == "hybrid")
    assert hybrid is not None and hybrid.lot_audit is not None
    audit = hybrid.lot_audit
    goal = EXAMPLE["goal"]["max_label_error"]
    assert audit.error_budget == math.floor(goal * EXAMPLE["pool_size"])
    assert (audit.delta, audit.min_audit_share) == (0.05, EXAMPLE["costs"]["audit_rate"])
    assert hybrid.confidence_threshold == next(
        f.settings.confidence_threshold for f in plan.strategies if f.strategy == "hybrid"
    )
    actions = [step.action for step in hybrid.steps]
    assert actions == ["start", "score", "form_lot", "audit_lot", "decide_lot", "route", "retrain", "repeat"]
    assert f"{audit.error_budget:,}" in hybrid.steps[3].rule
    # the planned lots are the sampling plans the replay computes for the same lots
    budget = audit.error_budget
    for row in hybrid.planned_lots:
        plan_j = sampling_plan(
            row.lot, row.lot_size, row.undelivered, row.budget_left, row.expected_rate, 0.05, 0.05
        )
        assert (row.sample_size, row.acceptance_number, row.allowance) == (
            plan_j.sample_size,
            plan_j.acceptance_number,
            plan_j.allowance,
        )
        assert row.budget_left <= budget
        budget = row.budget_left


def test_active_learning_for_a_labeled_dataset_lets_the_model_label_the_rest_at_the_cap() -> None:
    policy = make_policy(
        "active_learning",
        batch_size=500,
        pool_size=10_000,
        start_labels=0,
        audit_rate=0.05,
        human_label_cap=3000,
    )
    assert policy.after_cap == "model_labels_rest" and policy.selection == "least_confidence"
    assert "3,000" in policy.steps[-1].rule and "from scratch" in policy.steps[0].rule


def test_a_metric_goal_stops_at_the_target_or_the_cap() -> None:
    policy = make_policy(
        "manual",
        batch_size=100,
        pool_size=5000,
        start_labels=200,
        audit_rate=0.05,
        human_label_cap=900,
        stop_at_metric=0.9,
    )
    assert (policy.after_cap, policy.stop_at_metric) == ("stop", 0.9)
    assert "0.9" in policy.steps[-1].rule and "900" in policy.steps[-1].rule


def test_planned_lots_never_spend_more_than_the_budget() -> None:
    policy = make_policy(
        "hybrid",
        batch_size=100,
        pool_size=20_000,
        start_labels=0,
        audit_rate=0.02,
        confidence_threshold=0.9,
        max_label_error=0.02,
        delta=0.05,
        path=LotPath([5000, 4000, 3000, 2000, 1000, 500], 0.01),
    )
    rows = policy.planned_lots
    assert [r.lot for r in rows] == list(range(1, len(rows) + 1))
    assert all(r.allowance <= r.budget_left and r.sample_size >= math.ceil(0.02 * r.lot_size) for r in rows)
    assert all(0 <= r.budget_left <= 400 for r in rows)


def test_the_thresholds_searched_are_nested_in_the_goal() -> None:
    from annoplan.planner.plans import GOAL_LADDER, candidate_thresholds
    from annoplan.planner.schemas.curves import CalibrationSample
    from annoplan.planner.thresholds import certify_threshold

    sample = CalibrationSample.model_validate(EXAMPLE["pilot"]["calibration"][-1])
    searched = []
    for goal in GOAL_LADDER:
        certified = certify_threshold(sample.confidence, sample.correct, goal, 0.05, risk="pool").threshold
        searched.append(set(candidate_thresholds(sample, certified, goal, 0.05)))
    assert any(searched)
    for stricter, looser in itertools.pairwise(searched):
        assert stricter <= looser


def test_a_looser_goal_never_costs_more() -> None:
    costs = []
    for goal in (0.02, 0.03, 0.05):
        plan = make_plan(
            small(goal={"type": "labeled_dataset", "max_label_error": goal}, strategies=["hybrid"])
        )
        costs.append(float(plan.recommendation.cost.mean))
    assert costs == sorted(costs, reverse=True), costs


def test_the_hybrid_cost_interval_is_widened_by_the_calibrated_margin() -> None:
    import numpy as np

    from annoplan.planner.plans import COST_INTERVAL_MARGIN, money_quantiles

    values = np.linspace(100.0, 200.0, 1001)
    plain, widened = money_quantiles(values, "USD"), money_quantiles(values, "USD", COST_INTERVAL_MARGIN)
    assert COST_INTERVAL_MARGIN > 0
    assert (widened.mean, widened.p50) == (plain.mean, plain.p50)
    assert float(widened.p10) == pytest.approx(float(plain.p10) * math.exp(-COST_INTERVAL_MARGIN), abs=0.01)
    assert float(widened.p90) == pytest.approx(float(plain.p90) * math.exp(COST_INTERVAL_MARGIN), abs=0.01)
