"""Plan versus actual: the band is the plan's own forecast, the status follows it, the re-plan starts from
the actual state, and bad actuals name their field."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.plans import make_plan
from annoplan.planner.schemas.plans import PlanRequest, PlanResponse
from annoplan.planner.schemas.tracking import ActualsRequest
from annoplan.planner.tracking import plan_band, replan_request, track_plan

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "plan.json").read_text())
REQUEST = PlanRequest.model_validate({**EXAMPLE, "draws": 300, "batch_sizes": [500, 1000]})


@cache
def planned() -> PlanResponse:
    return make_plan(REQUEST)


def money(value: float) -> str:
    return f"{value:.2f}"


def first_round(cost: float, **changes: Any) -> dict[str, Any]:
    """Round 1 of the plan's median path, at ``cost``."""
    row = next(f for f in planned().strategies if f.strategy == planned().recommendation.strategy).schedule[0]
    auto = REQUEST.pool_size - row.remaining - row.human_labels
    return {
        "round": 1,
        "human_labels": row.human_labels,
        "cost": money(cost),
        "auto_accepted": auto,
    } | changes


def test_the_band_ends_at_the_plans_cost_forecast() -> None:
    band = plan_band(REQUEST, planned())
    cost = planned().recommendation.cost
    assert [money(v) for v in band.total] == [cost.p10, cost.p50, cost.p90]
    assert np.all(np.diff(band.cost[:, 1]) >= 0)  # cumulative
    assert np.all(band.cost[:, 0] <= band.cost[:, 2])


def test_the_band_is_the_plans_forecast_when_the_pilot_names_its_model_too() -> None:
    """A pilot with ``model`` is forecast by the learned model: the band must draw its curves as the plan."""
    request = REQUEST.model_copy(update={"pilot": REQUEST.pilot.model_copy(update={"model": "linear"})})
    plan = make_plan(request)
    band = plan_band(request, plan)
    cost = plan.recommendation.cost
    assert [money(v) for v in band.total] == [cost.p10, cost.p50, cost.p90]


@pytest.mark.parametrize(
    ("scale", "where", "status"),
    [(1.0, 1, "on_track"), (2.0, 2, "over_plan"), (0.5, 0, "under_plan")],
)
def test_the_status_says_where_the_spend_lies_in_the_band(scale: float, where: int, status: str) -> None:
    band_now = plan_band(REQUEST, planned()).at(1)
    out = track_plan(REQUEST, planned(), {"rounds": [first_round(scale * float(band_now[where]))]})
    assert out.status == status
    assert out.advice[0].startswith("after round 1")
    assert out.burn_up[0].actual == money(scale * float(band_now[where]))


def test_the_forecast_is_the_spend_plus_the_replans_cost() -> None:
    out = track_plan(REQUEST, planned(), {"rounds": [first_round(900.0)]})
    for k in ("mean", "p10", "p50", "p90"):
        assert Decimal(getattr(out.forecast.cost, k)) == Decimal("900.00") + Decimal(
            getattr(out.forecast.cost_to_go, k)
        )
    assert out.spent == "900.00"
    assert out.forecast.human_labels.p10 >= first_round(0.0)["human_labels"]


def test_spending_more_forecasts_a_dearer_total() -> None:
    cheap = track_plan(REQUEST, planned(), {"rounds": [first_round(500.0)]})
    dear = track_plan(REQUEST, planned(), {"rounds": [first_round(5000.0)]})
    assert Decimal(dear.forecast.cost.p50) - Decimal(cheap.forecast.cost.p50) == Decimal("4500.00")
    assert dear.status == "over_plan"


def test_the_replan_starts_from_the_actual_state() -> None:
    actuals = ActualsRequest.model_validate(
        {
            "rounds": [
                {"round": 1, "human_labels": 500, "cost": "300.00", "auto_accepted": 20000, "metric": 0.95},
                {
                    "round": 2,
                    "human_labels": 1000,
                    "cost": "500.00",
                    "auto_accepted": 40000,
                    "metric": 0.96,
                    "calibration": {"confidence": [0.99, 0.97, 0.6], "correct": [True, True, False]},
                },
            ]
        }
    )
    replan = replan_request(REQUEST, actuals)
    assert replan is not None
    assert replan.pool_size == 50_000 - 1000 - 40_000
    start = REQUEST.pilot.rounds[-1].n_labels
    assert [(r.n_labels, r.value) for r in replan.pilot.rounds[-2:]] == [
        (start + 500, 0.95),
        (start + 1000, 0.96),
    ]
    assert replan.pilot.rounds[-1].n_eval == REQUEST.pilot.rounds[-1].n_eval
    assert replan.pilot.calibration[-1].n_labels == start + 1000
    assert replan.pilot.calibration[-1].correct == [True, True, False]
    assert replan.batch_sizes == [500, 1000]


def test_worse_calibration_raises_the_threshold_in_the_next_rounds_policy() -> None:
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, 400)
    correct = rng.uniform(size=400) < confidence**6  # far less often right than the pilot's model
    worse = {"confidence": confidence.round(4).tolist(), "correct": correct.tolist()}
    out = track_plan(REQUEST, planned(), {"rounds": [first_round(900.0, calibration=worse, metric=0.93)]})
    old = planned().policy
    assert old is not None and old.confidence_threshold is not None
    assert out.policy is not None
    assert (
        out.policy.confidence_threshold is None or out.policy.confidence_threshold > old.confidence_threshold
    )
    assert any("threshold" in sentence or "switch to" in sentence for sentence in out.advice)


def test_a_finished_pool_forecasts_what_was_spent() -> None:
    done = {"round": 3, "human_labels": 2000, "cost": "1500.00", "auto_accepted": 48000}
    out = track_plan(REQUEST, planned(), {"rounds": [first_round(700.0), done]})
    assert out.items_left == 0
    assert out.forecast.cost.p10 == out.forecast.cost.p90 == "1500.00"
    assert out.policy is None
    assert out.warnings


@pytest.mark.parametrize(
    ("rounds", "field"),
    [
        ([{"round": 1, "human_labels": 10, "cost": 12.5}], "rounds[0].cost"),
        ([{"round": 1, "human_labels": 10, "cost": "-1"}], "rounds[0].cost"),
        ([{"round": 1, "human_labels": 10, "cost": "1", "metric": 1.5}], "rounds[0].metric"),
        (
            [{"round": 1, "human_labels": 10, "cost": "9"}, {"round": 2, "human_labels": 20, "cost": "8"}],
            "rounds",
        ),
        (
            [{"round": 2, "human_labels": 10, "cost": "1"}, {"round": 2, "human_labels": 20, "cost": "2"}],
            "rounds",
        ),
        ([{"round": 1, "human_labels": 60_000, "cost": "1"}], "rounds[0].human_labels"),
        (
            [
                {
                    "round": 1,
                    "human_labels": 1,
                    "cost": "1",
                    "calibration": {"confidence": [0.5], "correct": []},
                }
            ],
            "rounds[0].calibration.correct",
        ),
    ],
)
def test_bad_actuals_name_the_field(rounds: list[dict[str, Any]], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        track_plan(REQUEST, planned(), {"rounds": rounds})
    assert info.value.field == field
