"""The contract every labeling strategy of the Monte Carlo keeps (each registered class, parametrized): its
goal is judged the same way, its cost is the rate card's price of its own volumes, and no unit price can
lower a cost when it rises."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest
from test_montecarlo import COSTS, power_curves, routing_for

from annoplan.simulators.costs import RateCard
from annoplan.simulators.montecarlo import (
    LABELING_STRATEGIES,
    LabelingStrategy,
    Outcome,
    RunSettings,
    labeling_strategy,
    simulate_strategy,
)
from annoplan.simulators.volumes import VOLUME_FIELDS

GOALS = {"metric": {"target_error": 0.08}, "labeled dataset": {"max_label_error": 0.05}}
UNIT_PRICES = [item.name for item in fields(RateCard) if item.name != "audit_rate"]


def run(name: str, goal: str, costs: RateCard = COSTS) -> Outcome:
    curve = power_curves(n_draws=64)
    return simulate_strategy(
        name,
        curve,
        costs,
        20_000,
        RunSettings(batch_size=500, stop_at_labels=6_000),
        efficiency=np.full(curve.n_draws, 1.5),
        routing=routing_for(curve),
        labels_before=200.0,
        noise=np.random.default_rng(0),
        **GOALS[goal],
    )


def test_the_four_strategies_of_the_contract_are_registered_by_name() -> None:
    assert set(LABELING_STRATEGIES) == {"manual", "prelabel", "active_learning", "hybrid"}
    for name, cls in LABELING_STRATEGIES.items():
        assert issubclass(cls, LabelingStrategy) and cls.name == name
        assert labeling_strategy(name).name == name
    with pytest.raises(ValueError, match="expected one of manual, prelabel, active_learning, hybrid"):
        labeling_strategy("semi_supervised")


@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize("name", LABELING_STRATEGIES)
def test_the_goal_is_judged_by_its_definition(name: str, goal: str) -> None:
    outcome = run(name, goal)
    assert outcome.strategy == name
    if goal == "metric":
        np.testing.assert_array_equal(outcome.goal_met, outcome.final_error <= 0.08)
    else:
        assert np.all(outcome.goal_met <= (outcome.label_error <= 0.05))
        assert np.all(outcome.label_error >= 0.0)


@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize("name", LABELING_STRATEGIES)
def test_the_cost_is_the_rate_card_price_of_the_outcome_volumes(name: str, goal: str) -> None:
    outcome = run(name, goal)
    np.testing.assert_array_equal(outcome.cost, COSTS.total(outcome.volumes()))
    np.testing.assert_allclose(outcome.cost, sum(COSTS.parts(outcome).values()), rtol=1e-12)
    np.testing.assert_allclose(
        outcome.human_labels, outcome.fresh_labels + outcome.reviews + outcome.corrections
    )


@pytest.mark.parametrize("price", UNIT_PRICES)
@pytest.mark.parametrize("name", LABELING_STRATEGIES)
def test_a_dearer_unit_price_never_lowers_a_cost_and_leaves_the_work_alone(name: str, price: str) -> None:
    cheap = run(name, "labeled dataset")
    dear = run(name, "labeled dataset", replace(COSTS, **{price: getattr(COSTS, price) * 2 + 0.1}))
    for volume in VOLUME_FIELDS:
        np.testing.assert_array_equal(getattr(dear, volume), getattr(cheap, volume))
    assert np.all(dear.cost >= cheap.cost)
