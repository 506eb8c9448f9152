"""Thresholds with a guarantee: pinned numbers, validity by simulation, monotonicity, selection forecasts.

The generating process of the simulations is a calibrated classifier: confidence ``C = 0.5 + 0.5 B`` with
``B ~ Beta(a, 1)``, and a prediction that is right with probability ``C``. Its true errors at a threshold are
known in closed form (:func:`true_risk`), the limit of a fresh sample of any size (checked against one of two
million items).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logit

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.thresholds import (
    DEFAULT_THRESHOLDS,
    CalibrationRound,
    CheckedSamples,
    calibration_size_needed,
    certify_threshold,
    certify_thresholds,
    clopper_pearson_upper,
    fit_selection_curves,
    risk_by_threshold,
)
from annoplan.planner.thresholds.certify import START_SHARE
from annoplan.planner.thresholds.forecast import ErrorProfile, ProfileTable

PROPERTY_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)


def calibrated_sample(rng: np.random.Generator, n: int, a: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` items of the calibrated classifier with confidence 0.5 + 0.5 Beta(a, 1)."""
    confidence = 0.5 + 0.5 * rng.beta(a, 1.0, n)
    return confidence, rng.random(n) < confidence


def true_risk(threshold: float, kind: str, a: float = 4.0) -> float:
    """Exact selective or pool error of the calibrated classifier when accepting confidence >= threshold."""
    u = min(max((threshold - 0.5) / 0.5, 0.0), 1.0)
    accepted = stats.beta.sf(u, a, 1.0)
    wrong = 0.5 * (accepted - a / (a + 1.0) * stats.beta.sf(u, a + 1.0, 1.0))  # E[(1 - C) 1{C >= t}]
    return float(wrong / accepted if kind == "selective" else wrong)


def level(threshold: float | None) -> float:
    """A threshold as a number: None (nothing accepted) is above every threshold."""
    return math.inf if threshold is None else threshold


# --- pinned numbers --------------------------------------------------------------------------------------


def test_59_items_are_needed_for_5_percent_at_delta_005() -> None:
    assert calibration_size_needed(0.05, 0.05) == 59
    assert calibration_size_needed(0.01, 0.05) == 299
    assert float(clopper_pearson_upper(0, 59, 0.05)) <= 0.05 < float(clopper_pearson_upper(0, 58, 0.05))


@pytest.mark.parametrize("risk", ["selective", "pool"])
def test_59_correct_items_certify_and_58_do_not(risk: str) -> None:
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.6, 1.0, 59)
    ok = certify_threshold(confidence, np.ones(59, bool), 0.05, 0.05, risk)
    assert ok.certified and ok.n_accepted == 59 and ok.coverage == 1.0 and ok.n_needed == 59
    assert ok.threshold is not None and ok.threshold <= confidence.min()
    assert ok.risk_upper_bound == pytest.approx(1 - 0.05 ** (1 / 59))
    short = certify_threshold(confidence[:58], np.ones(58, bool), 0.05, 0.05, risk)
    assert short.threshold is None and short.coverage == 0.0
    assert "59" in short.summary()


def test_10_errors_in_1000_accepted_items_bound_at_2_40_percent_and_fail_a_2_percent_goal() -> None:
    bound = float(clopper_pearson_upper(10, 1000, 0.001))
    assert round(100 * bound, 2) == 2.40
    correct = np.ones(1000, bool)
    correct[:10] = False
    confidence = np.full(1000, 0.97)  # one threshold accepts all 1,000 items or none
    failed = certify_threshold(confidence, correct, 0.02, delta=0.001)
    assert failed.threshold is None and failed.coverage == 0.0
    assert failed.next_upper_bound == pytest.approx(bound)
    passed = certify_threshold(confidence, correct, 0.025, delta=0.001)
    assert passed.threshold == pytest.approx(0.97) and passed.n_accepted == 1000 and passed.n_errors == 10
    assert passed.empirical_risk == pytest.approx(0.01) and passed.risk_upper_bound == pytest.approx(bound)


def test_clopper_pearson_bound_is_exact_and_vectorised() -> None:
    n = np.array([[1], [10], [100]])
    k = np.array([0, 1])
    bound = clopper_pearson_upper(np.minimum(k, n), n, 0.05)
    assert bound.shape == (3, 2)
    assert bound[:, 0] == pytest.approx(1 - 0.05 ** (1 / n[:, 0]))
    assert bound[0, 1] == 1.0  # every trial an error
    assert float(clopper_pearson_upper(0, 0, 0.05)) == 1.0  # no trial, no information
    # exact: at the bound, seeing k errors or fewer has probability delta
    assert stats.binom.cdf(1, 100, bound[2, 1]) == pytest.approx(0.05)
    assert np.all(np.diff(clopper_pearson_upper(np.arange(11), 10, 0.05)) > 0)


# --- extreme goals and deltas: answers, in bounded time ------------------------------------------------


def test_the_bound_stays_exact_for_a_delta_below_the_float_spacing_of_1() -> None:
    # 1 - delta rounds to 1 below about 1e-16: the bound must not read 1 whatever the number of trials
    for delta in (1e-17, 1e-300):
        n = np.array([1.0, 59.0, 1e6, 1e20])
        bound = clopper_pearson_upper(0, n, delta)
        assert bound == pytest.approx(-np.expm1(np.log(delta) / n), rel=1e-12)
        one_error = float(clopper_pearson_upper(1, 1000, delta))
        assert one_error < 1.0
        assert stats.binom.cdf(1, 1000, one_error) == pytest.approx(delta, rel=1e-6)


@pytest.mark.parametrize(
    ("max_risk", "delta"),
    [(1e-20, 1e-300), (0.05, 1e-17), (1e-20, 0.05), (0.5, 1e-300), (1e-6, 1e-300), (1e-200, 1e-300)],
)
def test_calibration_size_needed_returns_for_extreme_values(max_risk: float, delta: float) -> None:
    n = calibration_size_needed(max_risk, delta)
    closed_form = math.log(delta) / math.log1p(-max_risk)  # where the zero-error bound meets the goal
    assert abs(n - closed_form) <= 1 + 1e-12 * closed_form
    assert (
        float(clopper_pearson_upper(0, n, delta)) <= max_risk < float(clopper_pearson_upper(0, n - 1, delta))
    )


def test_calibration_size_needed_refuses_a_goal_beyond_any_sample() -> None:
    with pytest.raises(InvalidInputError) as info:
        calibration_size_needed(1e-310, 1e-300)
    assert info.value.field == "max_risk"


@pytest.mark.parametrize("delta", [0.5, 0.2, 0.05, 0.01, 1e-4, 1e-8, 1e-12, 1e-17, 1e-20])
def test_calibration_size_needed_is_the_first_size_the_bound_certifies(delta: float) -> None:
    for max_risk in np.geomspace(1e-4, 0.5, 25):
        n = calibration_size_needed(max_risk, delta)
        assert float(clopper_pearson_upper(0, n, delta)) <= max_risk
        assert n == 1 or float(clopper_pearson_upper(0, n - 1, delta)) > max_risk
        assert abs(n - math.log(delta) / math.log1p(-max_risk)) <= 1


@pytest.mark.parametrize("risk", ["selective", "pool"])
@pytest.mark.parametrize(("max_risk", "delta"), [(0.05, 1e-17), (0.3, 1e-300), (1e-20, 1e-300)])
def test_certify_threshold_returns_for_extreme_values(max_risk: float, delta: float, risk: str) -> None:
    confidence, correct = calibrated_sample(np.random.default_rng(3), 2000)
    cert = certify_threshold(confidence, correct, max_risk, delta, risk)
    assert cert.n_needed == calibration_size_needed(max_risk, delta)
    if cert.certified:
        assert cert.risk_upper_bound <= max_risk
        assert (cert.n_accepted if risk == "selective" else cert.n_calibration) >= cert.n_needed
    else:
        assert cert.coverage == 0.0


# --- the certificate -------------------------------------------------------------------------------------


def test_pool_risk_certifies_a_lower_threshold_than_selective_risk() -> None:
    both = 0
    for seed in range(5):
        confidence, correct = calibrated_sample(np.random.default_rng(seed), 2000)
        selective = certify_threshold(confidence, correct, 0.05, 0.05, "selective")
        pool = certify_threshold(confidence, correct, 0.05, 0.05, "pool")
        assert pool.threshold is not None and pool.risk == "pool" and selective.risk == "selective"
        if selective.threshold is None:  # a few errors among the most confident items can end the scan
            continue
        both += 1
        assert pool.threshold < selective.threshold and pool.coverage > selective.coverage
        for cert in (selective, pool):
            accepted = confidence >= level(cert.threshold)
            assert cert.n_accepted == accepted.sum() and cert.n_errors == (~correct[accepted]).sum()
            assert cert.coverage == pytest.approx(accepted.mean())
            assert cert.empirical_risk <= cert.risk_upper_bound <= cert.max_risk
            # the scan stopped at a threshold just below: its bound breaks the goal
            assert cert.next_threshold is not None and cert.next_threshold < level(cert.threshold)
            assert cert.next_upper_bound is not None and cert.next_upper_bound > cert.max_risk
        assert selective.empirical_risk == pytest.approx(selective.n_errors / selective.n_accepted)
        assert pool.empirical_risk == pytest.approx(pool.n_errors / 2000)
        assert f"{selective.threshold:.4g}" in selective.summary()
    assert both >= 4


def test_true_risk_matches_a_large_fresh_sample() -> None:
    confidence, correct = calibrated_sample(np.random.default_rng(2), 2_000_000)
    for threshold in (0.8, 0.95):
        accepted = confidence >= threshold
        assert (~correct[accepted]).mean() == pytest.approx(true_risk(threshold, "selective"), abs=1e-3)
        assert (~correct & accepted).mean() == pytest.approx(true_risk(threshold, "pool"), abs=1e-3)


@pytest.mark.parametrize("risk", ["selective", "pool"])
def test_the_guarantee_holds_in_at_least_1_minus_delta_of_repetitions(risk: str) -> None:
    """400 calibration samples of 500 items: the certified threshold's true error breaks the 5% goal in at
    most delta = 10% of them (up to Monte Carlo noise: the 99% binomial quantile, 13.5%), while taking the
    lowest threshold whose measured error meets the goal breaks it in more than half.

    The pool-risk guarantee is tight (its true failure rate is close to delta, 9% here), so a bare
    ``<= delta * reps`` would fail on Monte Carlo noise alone about one seed in five; the selective risk's
    starting rule makes it conservative (about 4%).
    """
    rng = np.random.default_rng(3)
    max_risk, delta, reps = 0.05, 0.1, 400
    broken = naive_broken = certified = 0
    for _ in range(reps):
        confidence, correct = calibrated_sample(rng, 500)
        cert = certify_threshold(confidence, correct, max_risk, delta, risk)
        if cert.threshold is not None:
            certified += 1
            broken += true_risk(cert.threshold, risk) > max_risk
        table = risk_by_threshold(confidence, correct, DEFAULT_THRESHOLDS, delta, risk)
        meets = (table.risk <= max_risk) & (table.n_accepted > 0)
        naive_broken += true_risk(float(table.thresholds[np.argmax(meets)]), risk) > max_risk
    assert certified >= reps // 2
    assert broken <= stats.binom.ppf(0.99, reps, delta)
    assert naive_broken > reps // 2


def test_nothing_certifiable_is_an_answer_not_an_error() -> None:
    rng = np.random.default_rng(4)
    confidence = rng.uniform(0.5, 0.99, 400)
    correct = rng.random(400) < 0.7  # 30% wrong at every confidence
    selective = certify_threshold(confidence, correct, 0.05, 0.05, "selective")
    # pool risk: 30 items tie at the top and all are wrong, so accepting any item leaves 7.5% of them wrong
    confidence[:30], correct[:30] = 1.0, False
    correct[30:] = True
    pool = certify_threshold(confidence, correct, 0.05, 0.05, "pool")
    for cert in (selective, pool):
        assert cert.threshold is None and not cert.certified
        assert (cert.coverage, cert.n_accepted, cert.n_errors) == (0.0, 0, 0)
        assert cert.empirical_risk == 0.0 and cert.risk_upper_bound == 0.0
        assert cert.next_upper_bound is not None and cert.next_upper_bound > 0.05
        assert "nothing can be auto-accepted" in cert.summary()
    assert pool.next_threshold == 1.0


def test_the_threshold_stays_within_the_confidences_the_sample_saw() -> None:
    confidence = np.repeat([0.9, 0.95, 0.99], 100)  # ties: three distinct confidences
    cert = certify_threshold(confidence, np.ones(300, bool), 0.05)
    assert cert.threshold == pytest.approx(0.9) and cert.coverage == 1.0
    assert cert.next_threshold is None  # every threshold down to 0 passed


def test_custom_threshold_grid() -> None:
    confidence, correct = calibrated_sample(np.random.default_rng(5), 1000)
    cert = certify_threshold(confidence, correct, 0.05, thresholds=[0.99, 0.95, 0.9, 0.8, 0.5])
    assert cert.threshold in (0.99, 0.95, 0.9, 0.8, 0.5)
    fine = certify_threshold(confidence, correct, 0.05)
    assert fine.threshold is not None and cert.threshold is not None and fine.threshold <= cert.threshold


@st.composite
def calibration_samples(draw: st.DrawFn, decimals: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A calibrated classifier's sample of 100-3,000 items (confidences rounded to ``decimals`` if given)."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(100, 3000))
    a = draw(st.floats(1.0, 12.0))
    confidence, correct = calibrated_sample(np.random.default_rng(seed), n, a)
    if decimals is not None:
        confidence = np.round(confidence, decimals)
    return confidence, correct


RISKS = st.sampled_from(["selective", "pool"])
GOALS = st.floats(0.01, 0.3)
DELTAS = st.floats(0.005, 0.3)


@PROPERTY_SETTINGS
@given(calibration_samples(), GOALS, GOALS, DELTAS, RISKS)
def test_a_looser_goal_never_gives_a_higher_threshold(
    sample: tuple[np.ndarray, np.ndarray], goal_a: float, goal_b: float, delta: float, risk: str
) -> None:
    low, high = sorted([goal_a, goal_b])
    strict = certify_threshold(*sample, low, delta, risk)
    loose = certify_threshold(*sample, high, delta, risk)
    assert level(loose.threshold) <= level(strict.threshold)
    assert loose.coverage >= strict.coverage


@PROPERTY_SETTINGS
@given(calibration_samples(), GOALS, DELTAS, DELTAS, RISKS)
def test_a_larger_delta_never_gives_a_higher_threshold(
    sample: tuple[np.ndarray, np.ndarray], goal: float, delta_a: float, delta_b: float, risk: str
) -> None:
    low, high = sorted([delta_a, delta_b])
    sure = certify_threshold(*sample, goal, low, risk)
    bold = certify_threshold(*sample, goal, high, risk)
    assert level(bold.threshold) <= level(sure.threshold)


@PROPERTY_SETTINGS
@given(calibration_samples(decimals=2), GOALS, GOALS, DELTAS, DELTAS)
def test_monotone_with_tied_confidences_for_pool_risk_and_large_samples(
    sample: tuple[np.ndarray, np.ndarray], goal_a: float, goal_b: float, delta_a: float, delta_b: float
) -> None:
    """With confidences on a coarse grid, monotonicity is exact for the pool risk, and for the selective risk
    wherever ``START_SHARE`` of the sample certifies both goals despite one error."""
    (goal_low, goal_high), (delta_low, delta_high) = sorted([goal_a, goal_b]), sorted([delta_a, delta_b])
    strict = certify_threshold(*sample, goal_low, delta_low, "pool")
    loose = certify_threshold(*sample, goal_high, delta_high, "pool")
    assert level(loose.threshold) <= level(strict.threshold)
    start = math.ceil(START_SHARE * sample[0].size)
    if float(clopper_pearson_upper(1, start, delta_low)) <= goal_low:
        strict = certify_threshold(*sample, goal_low, delta_low, "selective")
        loose = certify_threshold(*sample, goal_high, delta_high, "selective")
        assert level(loose.threshold) <= level(strict.threshold)


@PROPERTY_SETTINGS
@given(calibration_samples(), GOALS, DELTAS, RISKS)
def test_a_certificate_keeps_its_promise_on_its_own_sample(
    sample: tuple[np.ndarray, np.ndarray], goal: float, delta: float, risk: str
) -> None:
    confidence, correct = sample
    cert = certify_threshold(confidence, correct, goal, delta, risk)
    assert cert.n_needed == calibration_size_needed(goal, delta)
    if cert.threshold is None:
        assert cert.coverage == 0.0
        return
    accepted = confidence >= cert.threshold
    denominator = accepted.sum() if risk == "selective" else confidence.size
    assert cert.n_accepted == accepted.sum() > 0
    assert cert.empirical_risk == pytest.approx((~correct[accepted]).sum() / denominator)
    assert cert.risk_upper_bound <= goal
    assert cert.threshold <= confidence[accepted].min()


def test_risk_table() -> None:
    confidence, correct = calibrated_sample(np.random.default_rng(6), 1000)
    cert = certify_threshold(confidence, correct, 0.05)
    assert cert.threshold is not None
    table = risk_by_threshold(confidence, correct, [0.5, 0.9, cert.threshold, 0.99, 0.9])
    assert table.thresholds.tolist() == sorted({0.5, 0.9, cert.threshold, 0.99})
    assert np.all(np.diff(table.thresholds) > 0) and np.all(np.diff(table.coverage) <= 0)
    assert np.all(table.risk <= table.upper_bound)
    row = int(np.flatnonzero(table.thresholds == cert.threshold)[0])
    assert table.n_accepted[row] == cert.n_accepted and table.upper_bound[row] == cert.risk_upper_bound
    default = risk_by_threshold(confidence, correct, risk="pool")
    assert default.kind == "pool" and default.thresholds.size == default.upper_bound.size > 20
    assert default.coverage[0] == 1.0 and default.risk[0] == pytest.approx((~correct).mean())


# --- coverage and risk as the model learns ---------------------------------------------------------------


def growing_rounds(rng: np.random.Generator) -> list[CalibrationRound]:
    """Three rounds whose model grows more confident (Beta a from 2 to 4.5): coverage at 0.9 grows."""
    return [
        CalibrationRound(n, *calibrated_sample(rng, 500, a)) for n, a in [(100, 2.0), (200, 3.0), (400, 4.5)]
    ]


def test_coverage_forecast_grows_with_labels() -> None:
    rng = np.random.default_rng(7)
    forecast = fit_selection_curves(growing_rounds(rng), 0.9)
    sizes = np.array([100, 400, 1600, 6400])
    coverage, risk = forecast.sample(sizes, 1000, rng)
    assert coverage.shape == risk.shape == (1000, 4)
    median = np.median(coverage, axis=0)
    assert np.all(np.diff(median) > 0) and median[0] == pytest.approx(forecast.n_accepted[0] / 500, abs=0.05)
    assert np.allclose(np.median(coverage, axis=0), forecast.median(sizes)[0], atol=0.02)
    spread = np.subtract(*np.percentile(logit(coverage), [90, 10], axis=0))
    assert spread[-1] > spread[1]  # wider (on the logit scale) away from the pilot
    assert "3 pilot rounds" in forecast.assumptions[0] and "extrapolation" in forecast.assumptions[0]


def test_a_single_round_gives_a_flat_forecast_and_says_so() -> None:
    rng = np.random.default_rng(8)
    confidence, correct = calibrated_sample(rng, 400, 3.0)
    forecast = fit_selection_curves([(300, confidence, correct)], 0.9)
    coverage, risk = forecast.sample([10, 300, 1e6], 500, rng)
    assert np.allclose(coverage, coverage[:, :1]) and np.allclose(risk, risk[:, :1])
    measured = (confidence >= 0.9).mean()
    assert np.median(coverage) == pytest.approx(measured, abs=0.01)
    assert 0.01 < coverage[:, 0].std() < 0.05  # binomial uncertainty of 400 items
    assert len(forecast.assumptions) == 1 and "only one pilot round" in forecast.assumptions[0]
    assert "300 labels" in forecast.assumptions[0]
    # two samples of the same round pool into one flat forecast
    twice = fit_selection_curves([(300, confidence, correct), (300, confidence[:50], correct[:50])], 0.9)
    assert "only one pilot round" in twice.assumptions[0]


def test_draws_are_curves_within_0_and_1_with_one_row_of_sizes_per_draw() -> None:
    rng = np.random.default_rng(9)
    forecast = fit_selection_curves(growing_rounds(rng), 0.95, drift=0.2)
    draws = forecast.draws(300, rng)
    assert draws.n_draws == 300
    per_draw = rng.integers(1, 100_000, size=(300, 7))
    coverage, risk = draws.at(per_draw)
    assert coverage.shape == risk.shape == (300, 7)
    for values in (coverage, risk):
        assert np.all((values >= 0.0) & (values <= 1.0))
    # a draw is one whole curve: the same sizes for every draw, or one row of sizes per draw, agree
    sizes = np.array([10, 100, 1000, 10_000])
    shared, _ = draws.at(sizes)
    per_row, _ = draws.at(np.tile(sizes, (300, 1)))
    assert np.allclose(shared, per_row)
    assert np.all(np.diff(shared, axis=1) * draws.coverage_params[:, 1:2] >= -1e-12)
    # each draw at its own size (what a simulation asks every round) agrees with the table
    own = per_draw[:, 3].astype(float)
    on_table = draws.at(own[:, None])
    assert all(np.allclose(a, b[:, 0]) for a, b in zip(draws.per_draw(own), on_table, strict=True))
    tight = fit_selection_curves(growing_rounds(np.random.default_rng(9)), 0.95)
    assert tight.coverage.cov[1, 1] < forecast.coverage.cov[1, 1]


def test_samples_may_be_objects_with_the_request_field_names() -> None:
    @dataclass(frozen=True)
    class Entry:  # stands in for the request's calibration entries
        n_labels: int
        confidence: list[float]
        correct: list[bool]

    rng = np.random.default_rng(12)
    rounds = growing_rounds(rng)
    entries = [Entry(int(r.n_labels), list(r.confidence), list(r.correct)) for r in rounds]  # type: ignore[arg-type]
    from_entries = fit_selection_curves(entries[::-1], 0.9)  # any order
    from_tuples = fit_selection_curves(rounds, 0.9)
    for got, want in zip(from_entries.median([100, 1000]), from_tuples.median([100, 1000]), strict=True):
        assert np.allclose(got, want)
    assert from_entries.n_labels.tolist() == [100, 200, 400]


def test_no_item_at_the_threshold_leaves_the_error_unknown() -> None:
    rng = np.random.default_rng(10)
    samples = [(n, rng.uniform(0.5, 0.8, 200), rng.random(200) < 0.7) for n in (100, 200)]
    forecast = fit_selection_curves(samples, 0.9)
    coverage, risk = forecast.sample([100, 1000], 2000, rng)
    assert np.median(coverage) < 0.01
    assert np.percentile(risk, 10) < 0.2 and np.percentile(risk, 90) > 0.8
    assert any("unknown" in text for text in forecast.assumptions)


# --- bad input -------------------------------------------------------------------------------------------


def _sample(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    return calibrated_sample(np.random.default_rng(11), n)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"correct": [True] * 99}, "calibration[2].correct"),
        ({"confidence": [], "correct": []}, "calibration[2].confidence"),
        ({"confidence": [0.5] * 99 + [1.2]}, "calibration[2].confidence[99]"),
        ({"confidence": [float("nan")] + [0.5] * 99}, "calibration[2].confidence[0]"),
        ({"confidence": [[0.5]] * 100}, "calibration[2].confidence"),
        ({"correct": [2] * 100}, "calibration[2].correct"),
        ({"correct": ["yes"] * 100}, "calibration[2].correct"),
        ({"max_risk": 0.0}, "max_risk"),
        ({"max_risk": 1.0}, "max_risk"),
        ({"max_risk": float("nan")}, "max_risk"),
        ({"max_risk": "0.05"}, "max_risk"),
        ({"delta": 0.0}, "delta"),
        ({"delta": 1.5}, "delta"),
        ({"risk": "both"}, "risk"),
        ({"thresholds": [0.5, 1.5]}, "thresholds"),
    ],
)
def test_certify_threshold_rejects_bad_input_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    confidence, correct = _sample()
    args: dict[str, object] = {"confidence": confidence, "correct": correct, "max_risk": 0.05, **kwargs}
    with pytest.raises(InvalidInputError) as info:
        certify_threshold(**args, field="calibration[2]")  # type: ignore[arg-type]
    assert info.value.field == field


def test_field_names_without_a_prefix() -> None:
    with pytest.raises(InvalidInputError) as info:
        certify_threshold([0.5, 0.6], [True], 0.05)
    assert info.value.field == "correct"
    with pytest.raises(InvalidInputError) as info:
        risk_by_threshold([0.5], [True], delta=1.0)
    assert info.value.field == "delta"
    for k, n, field in [(3, 2, "n_errors"), (-1, 2, "n_errors"), (1, 2.5, "n_trials")]:
        with pytest.raises(InvalidInputError) as info:
            clopper_pearson_upper(k, n, 0.05)
        assert info.value.field == field
    with pytest.raises(InvalidInputError) as info:
        calibration_size_needed(1.0, 0.05)
    assert info.value.field == "max_risk"


@pytest.mark.parametrize(
    ("samples", "threshold", "field"),
    [
        ([], 0.9, "pilot.calibration"),
        ("abc", 0.9, "pilot.calibration"),
        ([(100, [0.5], [True]), (200, [0.5, 0.9], [True])], 0.9, "pilot.calibration[1].correct"),
        ([(100, [], [])], 0.9, "pilot.calibration[0].confidence"),
        ([(0, [0.5], [True])], 0.9, "pilot.calibration[0].n_labels"),
        ([(float("inf"), [0.5], [True])], 0.9, "pilot.calibration[0].n_labels"),
        ([(100, [0.5])], 0.9, "pilot.calibration[0]"),
        ([(100, [1.5], [True])], 0.9, "pilot.calibration[0].confidence[0]"),
        ([(100, [0.5], [True])], 1.1, "threshold"),
        ([(100, [0.5], [True])], float("nan"), "threshold"),
    ],
)
def test_fit_selection_curves_rejects_bad_input_naming_the_field(
    samples: object, threshold: float, field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        fit_selection_curves(samples, threshold, field="pilot.calibration")  # type: ignore[arg-type]
    assert info.value.field == field


def test_samples_checked_once_fit_as_the_raw_samples_do() -> None:
    rounds = growing_rounds(np.random.default_rng(7))
    checked = CheckedSamples.check(rounds[::-1], "pilot.calibration")  # any order: checked sorts them
    sizes = np.array([100, 1000, 10_000])
    for threshold in (0.8, 0.9, 0.95):
        once, raw = fit_selection_curves(checked, threshold), fit_selection_curves(rounds, threshold)
        np.testing.assert_array_equal(once.n_accepted, raw.n_accepted)
        np.testing.assert_array_equal(once.median(sizes), raw.median(sizes))
        assert once.assumptions == raw.assumptions
    with pytest.raises(InvalidInputError) as info:
        CheckedSamples.check([(100, [1.5], [True])], "pilot.calibration")
    assert info.value.field == "pilot.calibration[0].confidence[0]"


def test_fit_selection_curves_rejects_a_negative_drift() -> None:
    with pytest.raises(InvalidInputError) as info:
        fit_selection_curves([(100, [0.5], [True])], 0.9, drift=-0.1)
    assert info.value.field == "drift"


def test_the_error_profile_puts_the_errors_below_the_threshold_on_the_least_confident_items() -> None:
    rng = np.random.default_rng(11)
    samples = [(n, rng.uniform(0.4, 1.0, 300), rng.random(300) < 0.8) for n in (100, 200, 400)]
    forecast = fit_selection_curves(samples, 0.9)
    profile = forecast.profile
    q = np.linspace(0.0, 1.0, 101)
    share = profile.concentration(q)
    assert share[0] == 0.0 and share[-1] == pytest.approx(1.0)
    assert np.all(np.diff(share) >= 0)
    assert np.all(share[1:-1] > q[1:-1])  # the least confident hold more than their share of the errors
    # the draws carry the profile the simulation asks for
    draws = forecast.draws(10, rng)
    assert np.allclose(draws.error_concentration(q), share)


@pytest.mark.parametrize("kind", ["pool", "selective"])
def test_certifying_several_goals_at_once_gives_each_goals_certificate(kind: str) -> None:
    rng = np.random.default_rng(21)
    confidence = rng.uniform(0.4, 1.0, 800)
    correct = rng.random(800) < confidence
    goals = [0.001, 0.005, 0.02, 0.05, 0.1, 0.3]
    together = certify_thresholds(confidence, correct, goals, 0.05, risk=kind)
    assert together == [certify_threshold(confidence, correct, goal, 0.05, risk=kind) for goal in goals]
    assert certify_thresholds(confidence, correct, [], 0.05) == []


def test_the_calibration_size_bounded_in_one_call_is_the_bisections(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    cases = [(float(10 ** rng.uniform(-5, -0.05)), float(10 ** rng.uniform(-10, -0.05))) for _ in range(200)]
    at_once = [calibration_size_needed(risk, delta) for risk, delta in cases]
    monkeypatch.setattr("annoplan.planner.thresholds.bounds.BRACKET_AT_ONCE", 0)
    assert at_once == [calibration_size_needed(risk, delta) for risk, delta in cases]


def test_the_profile_table_reads_each_settings_profile_as_np_interp_does() -> None:
    """The stacked run's grid lookup gives np.interp's very numbers: between points, on them, at 0 and 1."""
    rng = np.random.default_rng(5)
    profiles = [
        fit_selection_curves(
            [(n, rng.uniform(0.3, 1.0, 200), rng.random(200) < 0.8) for n in (100, 400)], t
        ).profile
        for t in (0.8, 0.9, 0.95)
    ]
    table = ProfileTable.of(profiles)
    assert table is not None
    grid = profiles[0].points
    on_grid = grid[rng.integers(0, grid.size, 300)]
    q = np.concatenate(
        [
            rng.uniform(0.0, 1.0, 3000),
            on_grid,
            np.clip(np.nextafter(on_grid, rng.choice([-1.0, 2.0], 300)), 0, 1),
        ]
    )
    setting = np.sort(rng.integers(0, len(profiles), q.size)).astype(np.intp)
    got = table.concentration(q, setting)
    for s, profile in enumerate(profiles):
        mine = setting == s
        assert np.array_equal(got[mine], np.interp(q[mine], profile.points, profile.shares))
    even = ProfileTable.of([ErrorProfile.even()])
    assert even is not None
    q = np.array([0.0, 0.3, 0.5, 1.0])
    assert np.array_equal(even.concentration(q, np.zeros(4, np.intp)), q)
    # profiles on different grids have no table (the stacked run then interpolates each setting's)
    assert ProfileTable.of([profiles[0], ErrorProfile.even()]) is None


def test_without_items_below_the_threshold_the_errors_spread_evenly() -> None:
    samples = [(100, [0.95, 0.97, 0.99], [True, True, False])]
    q = np.array([0.0, 0.25, 0.7, 1.0])
    assert np.allclose(fit_selection_curves(samples, 0.9).profile.concentration(q), q)


def test_the_predicted_error_ratio_compares_mean_one_minus_confidence_with_the_errors() -> None:
    from annoplan.planner.thresholds import fit_selection_curves

    confidence = [0.7] * 80 + [0.95] * 20  # accepted at 0.9: 20 items predicting 5% error each
    correct = [True] * 80 + [True] * 19 + [False]
    samples = [(100, confidence, correct)]
    forecast = fit_selection_curves(samples, 0.9)
    assert forecast.predicted_ratio == pytest.approx((20 * 0.05 + 1.0) / (1.0 + 1.0))
    assert forecast.draws(10, np.random.default_rng(0)).predicted_ratio == forecast.predicted_ratio
