"""The optional pilot signals (SPEC 4.1): ``n_runs`` and ``train_value`` per round, ``model`` per pilot."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from annoplan.planner import fit_curve
from annoplan.planner.fit import round_variance
from annoplan.planner.schemas import FitRequest
from annoplan.planner.schemas.curves import MODEL_FAMILIES, PilotRound

PILOT = [
    {"n_labels": 250, "value": 0.742, "std": 0.02},
    {"n_labels": 500, "value": 0.781, "std": 0.02},
    {"n_labels": 1000, "value": 0.812, "std": 0.02},
    {"n_labels": 2000, "value": 0.836, "std": 0.02},
]


def request(rounds: list[dict[str, Any]] = PILOT, **changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "metric": "accuracy",
        "rounds": copy.deepcopy(rounds),
        "targets": [0.85],
        "at_labels": [2000, 20000],
    }
    out.update(changes)
    return out


def test_n_runs_divides_the_noise_of_std_by_its_square_root() -> None:
    one = PilotRound(n_labels=500, value=0.8, std=0.05)
    many = PilotRound(n_labels=500, value=0.8, std=0.05, n_runs=25)
    assert round_variance(one, 0.2) == pytest.approx(0.05**2)
    assert round_variance(many, 0.2) == pytest.approx(0.01**2)


def test_n_runs_without_std_averages_the_label_noise_but_not_the_shared_evaluation_set() -> None:
    single = round_variance(PilotRound(n_labels=500, value=0.8, n_eval=1000), 0.2)
    averaged = round_variance(PilotRound(n_labels=500, value=0.8, n_eval=1000, n_runs=10), 0.2)
    binomial_eval = (0.2 * 1000 + 0.5) / 1001 * (1 - (0.2 * 1000 + 0.5) / 1001) / 1000
    assert binomial_eval < averaged < single
    assert averaged - binomial_eval == pytest.approx((single - binomial_eval) / 10)


def test_a_value_averaged_over_runs_forecasts_a_narrower_band_at_the_pilot() -> None:
    """The last round is known better, so what it measures again spreads less."""
    single = fit_curve(request()).predictions[0]
    averaged = fit_curve(request([{**r, "n_runs": 25} for r in PILOT])).predictions[0]
    assert averaged.p90 - averaged.p10 < 0.5 * (single.p90 - single.p10)


def test_one_run_said_is_the_same_as_none_said() -> None:
    plain = fit_curve(request()).model_dump(mode="json")
    assert fit_curve(request([{**r, "n_runs": 1} for r in PILOT])).model_dump(mode="json") == plain


@pytest.mark.parametrize("family", MODEL_FAMILIES)
def test_every_model_family_is_accepted(family: str) -> None:
    rounds = [{**r, "train_value": min(1.0, r["value"] + 0.1)} for r in PILOT]
    req = FitRequest.model_validate(request(rounds, model=family))
    assert req.model == family and req.rounds[0].train_value == pytest.approx(0.842)
    response = fit_curve(req)
    p = response.predictions[-1]
    assert 0.0 <= p.p10 <= p.p50 <= p.p90 <= 1.0


def test_the_signals_are_optional_and_default_to_unknown() -> None:
    req = FitRequest.model_validate(request())
    assert req.model is None
    assert all(r.train_value is None and r.n_runs is None for r in req.rounds)
    assert np.isfinite(fit_curve(req).predictions[-1].p50)


def test_a_round_meeting_a_target_within_its_noise_is_not_called_met() -> None:
    # one run (std 0.02): the last round measured 0.836, the target 0.83 is met by 0.006, far within the noise
    response = fit_curve(request(targets=[0.83, 0.80]))
    within, clear = response.labels_to_reach
    assert not any("0.83 is already met" in w for w in response.warnings)
    assert any("0.83 is met by rounds[3]" in w and "within" in w for w in response.warnings)
    assert within.p10 is not None and within.p10 >= PILOT[0]["n_labels"]
    assert within.p90 is None or within.p90 > 2000  # the forecast allows it to take more labels
    # 0.80 is met by rounds[2] (0.812) by 0.6 standard deviations only, and by rounds[3] (0.836) by 1.8
    assert (clear.p10, clear.p50, clear.p90) == (2000, 2000, 2000)
    assert any("0.8 is already met at or before 2000 labels" in w for w in response.warnings)
    # measured on many runs the same values meet both targets beyond their noise
    mean = fit_curve(request([{**r, "n_runs": 25} for r in PILOT], targets=[0.83]))
    assert (mean.labels_to_reach[0].p10, mean.labels_to_reach[0].p90) == (2000, 2000)
