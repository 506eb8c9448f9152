"""Active learning's label efficiency: the prior, and the estimate from a pilot's active-learning arm."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from annoplan.planner.efficiency import LIMIT, PRIOR_MEDIAN, draw_efficiency
from annoplan.planner.errors import InvalidInputError
from annoplan.planner.fit import forecast_from_rounds
from annoplan.planner.plans import make_plan
from annoplan.planner.schemas.curves import PilotRound

SIZES = [100, 200, 400, 800, 1600]


def error(n: float) -> float:
    """A random-labeling learning curve: error 0.02 + 1.2 n^-0.5."""
    return 0.02 + 1.2 * n**-0.5


def rounds(efficiency: float, sizes: list[int] = SIZES) -> list[PilotRound]:
    """Rounds of an arm learning as random labeling would with ``efficiency`` times the labels."""
    return [PilotRound(n_labels=n, value=1.0 - error(efficiency * n), n_eval=5000) for n in sizes]


def efficiency(arm: list[PilotRound] | None, seed: int = 0) -> Any:
    curve = forecast_from_rounds(rounds(1.0), higher_better=True).sample(2000, np.random.default_rng(seed))
    return draw_efficiency(arm, curve, True, np.random.default_rng(seed + 1))


@pytest.mark.parametrize("truth", [0.6, 1.0, 2.5])
def test_the_arm_recovers_the_efficiency_it_was_made_with(truth: float) -> None:
    result = efficiency(rounds(truth, [200, 400, 800, 1600]))
    assert np.median(result.values) == pytest.approx(truth, rel=0.15)
    assert "active-learning arm" in result.source


def test_a_better_arm_never_gives_a_lower_efficiency() -> None:
    medians = [np.median(efficiency(rounds(e, [400, 800])).values) for e in (0.8, 1.2, 2.0, 4.0)]
    assert medians == sorted(medians)


def test_an_arm_past_the_curve_floor_is_capped() -> None:
    arm = [PilotRound(n_labels=800, value=0.9999, n_eval=100_000)]
    assert efficiency(arm).values.max() <= LIMIT + 1e-9


def test_without_an_arm_the_prior_is_used_and_said() -> None:
    result = efficiency(None)
    assert np.median(result.values) == pytest.approx(PRIOR_MEDIAN, rel=0.1)
    assert result.source.startswith("prior")


def test_a_plan_states_where_its_efficiency_comes_from() -> None:
    pilot = {
        "metric": "accuracy",
        "rounds": [r.model_dump(exclude_none=True) for r in rounds(1.0, SIZES[:4])],
        "active_learning": [r.model_dump(exclude_none=True) for r in rounds(2.0, [200, 400, 800])],
    }
    request = {
        "pool_size": 20_000,
        "goal": {"type": "model_metric", "target": 0.95},
        "pilot": pilot,
        "costs": {"label": 1.0, "review": 0.3, "correction": 0.8},
        "strategies": ["manual", "active_learning"],
        "draws": 300,
        "batch_sizes": [500],
    }
    plan = make_plan(request)
    assert plan.assumptions["active_learning_efficiency"].startswith("estimated from the pilot's")
    manual, active = plan.strategies
    # twice as efficient: reaching the target takes about half the human labels
    assert active.human_labels.p50 < 0.75 * manual.human_labels.p50


def test_unsorted_arm_rounds_name_the_field() -> None:
    pilot = {
        "metric": "accuracy",
        "rounds": [{"n_labels": 100, "value": 0.8}, {"n_labels": 200, "value": 0.85}],
        "active_learning": [{"n_labels": 200, "value": 0.9}, {"n_labels": 100, "value": 0.85}],
    }
    request = {
        "pool_size": 1000,
        "goal": {"type": "model_metric", "target": 0.9},
        "pilot": pilot,
        "costs": {"label": 1.0, "review": 0.3, "correction": 0.8},
    }
    with pytest.raises(InvalidInputError) as info:
        make_plan(request)
    assert info.value.field == "pilot.active_learning"
