"""The simulation-size bound is an upper bound of what the planner really simulates, and tight enough."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from annoplan.planner import plans as planner_plans
from annoplan.planner import quotes as planner_quotes
from annoplan.planner.schemas.plans import PlanRequest
from annoplan.planner.schemas.quotes import QuoteRequest
from annoplan.planner.sizing import plan_size, quote_size, rounds_bound
from annoplan.simulators.montecarlo import MAX_ROUNDS, Outcome, simulate_settings, simulate_strategy


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"goal": {"type": "model_metric", "target": 0.97}},
        {"goal": {"type": "model_metric", "target": 0.97}, "value": {"per_metric_point": 500.0}},
        {"pool_size": 3000, "batch_sizes": [7, 400]},
        {"strategies": ["manual", "hybrid"], "pilot_calibration": []},
        # rounds so dear that the best batch is the grid's largest: the plan tries larger ones
        {"strategies": ["manual", "prelabel"], "round_overhead": 1e6, "batch_sizes": None},
    ],
    ids=["dataset", "metric", "metric-valued", "small-batches", "hybrid-skipped", "batches-past-the-grid"],
)
def test_size_bounds_what_the_planner_simulates(
    plan_request: dict[str, Any], changes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = dict(changes)
    if "pilot_calibration" in changes:
        plan_request["pilot"]["calibration"] = changes.pop("pilot_calibration")
    overhead = changes.pop("round_overhead", None)
    if overhead is not None:
        plan_request["costs"]["round_overhead"] = overhead
    plan_request.update(changes, draws=100)
    simulated: list[Outcome] = []
    simulate = simulate_settings  # the function planner.plans calls, replaced there below

    def counting(*args: Any, **kwargs: Any) -> Iterator[Outcome]:
        for outcome in simulate(*args, **kwargs):
            simulated.append(outcome)
            yield outcome

    monkeypatch.setattr(planner_plans, "simulate_settings", counting)
    plan = planner_plans.make_plan(plan_request)
    if overhead is not None:
        assert plan.model_dump()["assumptions"]["batch_sizes_added"]  # the case is what it says
    size = plan_size(PlanRequest.model_validate(plan_request))
    rounds = sum(int(o.rounds.max()) for o in simulated)
    assert len(simulated) <= size.simulations
    assert rounds <= size.rounds
    assert size.simulations <= 4 * len(simulated)  # the bound is not wildly loose


@pytest.mark.parametrize("batch_sizes", [None, [300, 5000, 5000]])
def test_quote_size_bounds_what_the_planner_simulates(
    quote_request: dict[str, Any], batch_sizes: list[int] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    quote_request.update(draws=100, batch_sizes=batch_sizes)
    simulated: list[Outcome] = []
    simulate = simulate_strategy  # the function planner.quotes calls, replaced there below

    def counting(*args: Any, **kwargs: Any) -> Outcome:
        outcome = simulate(*args, **kwargs)
        simulated.append(outcome)
        return outcome

    monkeypatch.setattr(planner_quotes, "simulate_strategy", counting)
    planner_quotes.make_quote(quote_request)
    size = quote_size(QuoteRequest.model_validate(quote_request))
    assert len(simulated) <= size.simulations <= 4 * len(simulated)
    assert sum(int(o.rounds.max()) for o in simulated) <= size.rounds


def test_rounds_bound() -> None:
    assert rounds_bound(1000, 100, float("inf")) == 10
    assert rounds_bound(1000, 300, float("inf")) == 4
    assert rounds_bound(1000, 100, 250.0) == 3
    assert rounds_bound(10**9, 1, float("inf")) == MAX_ROUNDS
    assert rounds_bound(5, 100, float("inf")) == 1


def test_work_grows_with_draws_and_rounds(plan_request: dict[str, Any]) -> None:
    small = plan_size(PlanRequest.model_validate(plan_request))
    more_draws = plan_size(PlanRequest.model_validate(plan_request | {"draws": 3000}))
    smaller_batches = plan_size(PlanRequest.model_validate(plan_request | {"batch_sizes": [100, 500]}))
    assert more_draws.work > small.work
    assert smaller_batches.work > small.work
