"""The plan request contract (SPEC 4.1): defaults, and every bad input named by its field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.schemas.plans import MAX_DRAWS, LabeledDatasetGoal, ModelMetricGoal, PlanRequest
from annoplan.planner.validation import parse_request

REQUEST: dict[str, Any] = {
    "name": "Support tickets",
    "pool_size": 50_000,
    "goal": {"type": "labeled_dataset", "max_label_error": 0.05},
    "pilot": {
        "metric": "accuracy",
        "rounds": [
            {"n_labels": 250, "value": 0.742, "n_eval": 2000},
            {"n_labels": 500, "value": 0.781, "n_eval": 2000},
        ],
        "calibration": [{"n_labels": 500, "confidence": [0.97, 0.62, 0.88], "correct": [True, False, True]}],
    },
    "costs": {"currency": "EUR", "label": 0.5, "review": 0.1, "correction": 0.4, "round_overhead": 25},
}


def with_change(path: list[Any], value: Any = None, *, drop: bool = False) -> dict[str, Any]:
    """A copy of REQUEST with the entry at ``path`` replaced (or dropped)."""
    request = copy.deepcopy(REQUEST)
    node = request
    for part in path[:-1]:
        node = node[part]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return request


def test_a_minimal_request_gets_the_documented_defaults() -> None:
    plan = parse_request(PlanRequest, REQUEST)
    assert plan.strategies == ["manual", "prelabel", "active_learning", "hybrid"]
    assert (plan.delta, plan.probability, plan.draws) == (0.05, 0.9, 2000)
    assert plan.costs.audit_rate == 0.05 and plan.costs.platform_fee == 0.0
    assert plan.schedule.labels_per_day > 0 and plan.schedule.turnaround_days >= 0
    assert isinstance(plan.goal, LabeledDatasetGoal)
    assert plan.pilot.calibration[0].correct == [True, False, True]


def test_the_goal_type_selects_its_model() -> None:
    plan = parse_request(PlanRequest, with_change(["goal"], {"type": "model_metric", "target": 0.9}))
    assert isinstance(plan.goal, ModelMetricGoal) and plan.goal.target == 0.9


BAD = {
    "negative cost": (with_change(["costs", "label"], -0.1), "costs.label"),
    "NaN cost": (with_change(["costs", "review"], float("nan")), "costs.review"),
    "infinite cost": (with_change(["costs", "correction"], float("inf")), "costs.correction"),
    "missing cost": (with_change(["costs", "correction"], drop=True), "costs.correction"),
    "audit rate above 1": (with_change(["costs", "audit_rate"], 1.5), "costs.audit_rate"),
    "audit rate below 0": (with_change(["costs", "audit_rate"], -0.1), "costs.audit_rate"),
    "currency not ISO": (with_change(["costs", "currency"], "dollars"), "costs.currency"),
    "unknown strategy": (with_change(["strategies"], ["manual", "magic"]), "strategies[1]"),
    "strategy twice": (with_change(["strategies"], ["manual", "manual"]), "strategies"),
    "goal without target": (with_change(["goal"], {"type": "model_metric"}), "goal.target"),
    "goal without max error": (with_change(["goal"], {"type": "labeled_dataset"}), "goal.max_label_error"),
    "unknown goal": (with_change(["goal"], {"type": "vibes", "target": 0.9}), "goal"),
    "calibration lengths differ": (
        with_change(["pilot", "calibration", 0, "correct"], [True]),
        "pilot.calibration[0]",
    ),
    "confidence above 1": (
        with_change(["pilot", "calibration", 0, "confidence"], [1.2, 0.5, 0.5]),
        "pilot.calibration[0].confidence[0]",
    ),
    "pool of zero": (with_change(["pool_size"], 0), "pool_size"),
    "draws above the cap": (with_change(["draws"], MAX_DRAWS + 1), "draws"),
    "a billion draws": (with_change(["draws"], 10**9), "draws"),
    "batch size zero": (with_change(["batch_sizes"], [100, 0]), "batch_sizes[1]"),
    "delta of 1": (with_change(["delta"], 1.0), "delta"),
    "unsorted pilot": (
        with_change(["pilot", "rounds"], list(reversed(REQUEST["pilot"]["rounds"]))),
        "pilot.rounds",
    ),
    "pilot value above 1": (with_change(["pilot", "rounds", 1, "value"], 1.2), "pilot.rounds[1].value"),
    "unknown field": (with_change(["horizon"], 3), "horizon"),
}


@pytest.mark.parametrize(("bad", "field"), BAD.values(), ids=BAD.keys())
def test_bad_input_names_the_field(bad: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_request(PlanRequest, bad)
    assert info.value.field == field, str(info.value)
