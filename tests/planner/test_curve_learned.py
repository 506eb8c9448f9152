"""The learned curve model: its artifact, its trees, and the forecast it drives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from annoplan.planner import fit_curve
from annoplan.planner.curves import CurveForecast, learned
from annoplan.planner.curves.learned import (
    DISTANCE_FEATURES,
    FAMILIES,
    FEATURES,
    LABELS_FEATURES,
    MISSING,
    REACH_CAP,
    LearnedCurveModel,
    TreeEnsemble,
    dumps,
    labels_rows,
    load_learned_model,
    pilot_features,
    pilot_rows,
)
from annoplan.planner.fit import forecast_from_rounds, forecast_response, learned_labels
from annoplan.planner.schemas import FitRequest
from annoplan.planner.schemas.curves import MODEL_FAMILIES

ARTIFACT = Path(learned.__file__).with_name(learned.ARTIFACT)


def test_the_artifact_is_small_plain_json_with_its_provenance() -> None:
    assert ARTIFACT.stat().st_size < 2_000_000
    raw = json.loads(ARTIFACT.read_text())
    assert raw["features"] == list(FEATURES)
    assert "LCDB 1.1" in raw["provenance"]["corpus"] and "CC BY 4.0" in raw["provenance"]["corpus"]
    model = load_learned_model()
    assert dumps(model) == ARTIFACT.read_text()  # loading and writing again changes no byte
    assert np.all(np.diff(model.table, axis=1) >= 0)
    assert np.all(model.table[:, 0] < 0) and np.all(model.table[:, -1] > 0)
    assert model.table.shape == (len(model.bands), len(model.levels)) and np.all(np.diff(model.bands) > 0)
    assert raw["labels"]["features"] == list(LABELS_FEATURES)
    labels = model.labels
    assert labels.table.shape == labels.levels.shape and np.all(np.diff(labels.table) >= 0)
    assert labels.table[0] < 0 < labels.table[-1]


def test_the_families_are_those_a_pilot_may_name() -> None:
    assert FAMILIES == MODEL_FAMILIES


def test_without_signals_the_families_forecast_alone_as_before() -> None:
    rounds = [{"n_labels": n, "value": v, "n_eval": 2000} for n, v in DECREASING[0]]
    req = FitRequest.model_validate({"rounds": rounds, "at_labels": [16000], "targets": [0.9]})
    assert fit_curve(req) == forecast_response(req, learned=None)
    with_model = FitRequest.model_validate({**req.model_dump(), "model": "linear"})
    assert forecast_response(with_model) != forecast_response(with_model, learned=None)


def test_an_artifact_for_other_features_is_refused_with_advice() -> None:
    raw = json.loads(ARTIFACT.read_text())
    raw["features"] = raw["features"][:-1]
    with pytest.raises(ValueError, match="rebuild"):
        LearnedCurveModel.from_dict(raw)
    raw = json.loads(ARTIFACT.read_text())
    raw["labels"]["features"] = raw["labels"]["features"][:-1]
    with pytest.raises(ValueError, match="rebuild"):
        LearnedCurveModel.from_dict(raw)
    del raw["labels"]
    with pytest.raises(ValueError, match="rebuild"):
        LearnedCurveModel.from_dict(raw)


def test_labels_rows_say_where_the_pilots_trends_reach_each_target() -> None:
    n = np.array([100.0, 200, 400, 800])
    e = 0.05 + 0.9 * (n / 100) ** -0.5  # the last round at 0.368
    targets = np.array([0.40, 0.30, 0.20, 0.01])
    rows = labels_rows(n, e, np.full(4, 0.005), targets, np.full(4, 0.02), "linear")
    named = {k: rows[:, i] for i, k in enumerate(LABELS_FEATURES)}
    np.testing.assert_allclose(
        rows[:, : len(FEATURES) - len(DISTANCE_FEATURES)],
        [pilot_features(n, e, np.full(4, 0.005), np.full(4, 0.02), "linear")] * 4,
    )
    np.testing.assert_allclose(named["target_ratio"], np.log(targets / e[-1]))
    np.testing.assert_allclose(named["target_noise"], (e[-1] - targets) / 0.005)
    for reach in ("pow3_reach", "slope_reach", "slope_last_reach"):
        assert named[reach][0] == 0.0  # above the last round: reached already
        assert np.all(np.diff(named[reach]) >= 0), reach  # a harder target lies farther
    # the power law's floor (0.05) is never reached at 0.01; a straight log-log line always is, but the
    # reach is capped
    assert named["pow3_reach"][-1] == REACH_CAP + 1.0
    assert 0 < named["pow3_reach"][1] < named["pow3_reach"][2] < REACH_CAP
    assert named["slope_reach"][-1] <= REACH_CAP + 1.0


PILOT = [(100, 0.60), (200, 0.68), (400, 0.73), (800, 0.76), (1600, 0.78)]


def learned_forecast() -> CurveForecast:
    rounds = [{"n_labels": n, "value": v, "n_eval": 2000, "train_value": 1.0} for n, v in PILOT]
    req = FitRequest.model_validate({"rounds": rounds, "model": "linear"})
    return forecast_from_rounds(req.rounds, True, req.model)


def test_learned_labels_are_the_reached_targets_labels_weighed_by_the_chance_to_reach() -> None:
    forecast = learned_forecast()
    sure = learned_labels(forecast, 0.18, reachable=1.0)
    assert all(v is not None and v >= 1600 for v in sure)
    assert sure[0] <= sure[1] <= sure[2]  # type: ignore[operator]
    # reached in 60% of the draws: P10 and P50 are the reached targets' P17 and P83, P90 is never
    unsure = learned_labels(forecast, 0.18, reachable=0.6)
    assert unsure[2] is None and unsure[0] is not None and unsure[1] is not None
    assert sure[0] <= unsure[0] <= unsure[1]  # type: ignore[operator]
    assert learned_labels(forecast, 0.18, reachable=0.0) == [None, None, None]


def test_learned_labels_never_need_fewer_for_a_harder_target_asked_alone() -> None:
    rounds = [{"n_labels": n, "value": v, "n_eval": 2000, "train_value": 1.0} for n, v in PILOT]
    p50 = []
    for target in (0.79, 0.80, 0.82, 0.84, 0.86):
        answer = fit_curve({"rounds": rounds, "model": "linear", "targets": [target]}).labels_to_reach[0]
        p50.append(np.inf if answer.p50 is None else answer.p50)
    assert p50 == sorted(p50) and p50[0] >= 1600


def test_trees_as_arrays_route_rows_by_their_thresholds() -> None:
    # tree 0: x0 <= 1 ? (x1 <= 0 ? 1.0 : 2.0) : 3.0; tree 1: a single leaf 0.5
    trees = TreeEnsemble(
        baseline=10.0,
        feature=np.array([0, 1, -1, -1, -1, -1]),
        threshold=np.array([1.0, 0.0, 0, 0, 0, 0]),
        left=np.array([1, 2, 0, 0, 0, 0]),
        right=np.array([4, 3, 0, 0, 0, 0]),
        value=np.array([0, 0, 1.0, 2.0, 3.0, 0.5]),
        roots=np.array([0, 5]),
        depth=2,
    )
    x = np.array([[0.5, -1.0], [1.0, 1.0], [1.5, -5.0]])
    np.testing.assert_allclose(trees.predict(x), [11.5, 12.5, 13.5])
    assert TreeEnsemble.from_dict(trees.to_dict()).predict(x).tolist() == trees.predict(x).tolist()


def test_features_mark_missing_signals_and_name_the_family() -> None:
    n, e, sd = np.array([100.0, 200, 400]), np.array([0.4, 0.3, 0.25]), np.full(3, 0.01)
    without = pilot_features(n, e, sd)
    with_signals = pilot_features(n, e, sd, np.array([0.1, 0.1, 0.05]), "tree")
    assert len(without) == len(FEATURES) - len(DISTANCE_FEATURES)
    named = dict(zip(FEATURES, with_signals, strict=False))
    assert named["gap"] == pytest.approx(0.8) and named["is_tree"] == 1.0 and named["is_other"] == 0.0
    assert dict(zip(FEATURES, without, strict=False))["gap"] == MISSING
    assert dict(zip(FEATURES, without, strict=False))["is_other"] == 1.0
    assert named["slope_last"] == pytest.approx(np.log(0.25 / 0.3) / np.log(2))


def test_features_tell_a_pilot_whose_error_never_moved() -> None:
    n, sd = np.array([100.0, 200, 400, 800]), np.full(4, 0.01)
    stuck = dict(zip(FEATURES, pilot_features(n, np.full(4, 0.27), sd), strict=False))
    moving = dict(zip(FEATURES, pilot_features(n, np.array([0.3, 0.27, 0.27, 0.2]), sd), strict=False))
    assert stuck["unchanged"] == 1.0 and moving["unchanged"] == pytest.approx(1 / 3)
    # accuracy 0.7 -> 0.8 over the last doubling: its log-log slope
    assert moving["accuracy_slope_last"] == pytest.approx(np.log(0.8 / 0.73) / np.log(2))


def test_a_pilot_that_has_not_started_learning_is_given_room_to_learn() -> None:
    # a model that predicts the majority class measures the same error every round: unlike a curve that
    # has flattened, it has not begun to learn, and may well drop far below (the replayed runs of text data
    # sets showed it: the rounds stuck at the majority's error, then learned)
    n_labels = [60, 120, 240, 480, 960]
    stuck = [{"n_labels": n, "value": 0.27, "n_eval": 1000} for n in n_labels]
    moved = [0.274, 0.268, 0.273, 0.269, 0.27]
    flat = [{"n_labels": n, "value": v, "n_eval": 1000} for n, v in zip(n_labels, moved, strict=True)]
    requests = [
        {"metric": "error_rate", "rounds": rs, "model": "linear", "at_labels": [9600]} for rs in (stuck, flat)
    ]
    far = [fit_curve(r).predictions[0] for r in requests]
    assert far[0].p10 < far[1].p10 - 0.05 and far[0].p50 < far[1].p50


def test_rows_carry_the_power_laws_extrapolation_the_median_corrects() -> None:
    # a clean power law with a floor: its fitted extrapolation is near the truth (a line through the
    # pilot in log-log would say -2.3 at 100x, not -1.33), and the slope paths are that line's
    n = np.array([100.0, 200, 400, 800, 1600])
    e = 0.05 + 0.9 * (n / 100) ** -0.5
    d = np.log([1.0, 10.0, 100.0])
    rows = pilot_rows(n, e, np.full(5, 1e-4), d)
    named = {k: rows[:, i] for i, k in enumerate(FEATURES)}
    truth = np.log(0.05 + 0.9 * (1600 * np.exp(d) / 100) ** -0.5) - np.log(e[-1])
    np.testing.assert_allclose(named["pow3_path"], truth, atol=0.07)
    np.testing.assert_allclose(named["distance"], d)
    np.testing.assert_allclose(named["slope_last_path"], np.log(e[-1] / e[-2]) / np.log(2) * d)
    # a rising pilot extrapolates flat, not upwards
    rising = pilot_rows(n, e[::-1], np.full(5, 1e-4), d)
    assert np.all(rising[:, FEATURES.index("slope_path")] == 0.0)
    # the model's median is the power law's plus its trees' correction
    model = load_learned_model()
    center, scale = model.predict(rows)
    np.testing.assert_allclose(center - named["pow3_path"], model.center.predict(rows))
    assert np.all(scale >= model.min_scale)


def test_the_interval_table_follows_the_distance_between_bands() -> None:
    model = load_learned_model()
    u = np.linspace(0.01, 0.99, 50)
    at_bands = model.deviation(u, model.bands)
    for b, row in enumerate(model.table):
        np.testing.assert_allclose(at_bands[:, b], np.interp(u, model.levels, row))
    between = model.deviation(u, (model.bands[:-1] + model.bands[1:]) / 2)
    np.testing.assert_allclose(between, (at_bands[:, :-1] + at_bands[:, 1:]) / 2)
    assert np.all(np.diff(model.deviation(u, np.array([0.0, 1.7, 9.0])), axis=0) >= 0)  # monotone in u
    # far past the pilot the lower tail (curves that keep learning) is heavier than near it
    assert model.table[-1, 9] < model.table[0, 9]


DECREASING = [
    [(100, 0.60), (200, 0.68), (400, 0.73), (800, 0.76), (1600, 0.78)],
    [(50, 0.30), (100, 0.45), (200, 0.52), (400, 0.60)],
    [(1000, 0.90), (2000, 0.93), (4000, 0.95), (8000, 0.962)],
    [(16, 0.55), (32, 0.56), (64, 0.62), (128, 0.71)],
]


@pytest.mark.parametrize("pilot", DECREASING)
@pytest.mark.parametrize("n_eval", [200, 5000])
@pytest.mark.parametrize("model", [None, "linear", "neural_network"])
def test_a_decreasing_pilots_last_round_lies_in_its_own_band(
    pilot: list[tuple[int, float]], n_eval: int, model: str | None
) -> None:
    rounds = [{"n_labels": n, "value": v, "n_eval": n_eval} for n, v in pilot]
    last_n, last_v = pilot[-1]
    p = fit_curve({"rounds": rounds, "model": model, "at_labels": [last_n]}).predictions[0]
    assert p.p10 <= last_v <= p.p90, p


def test_the_learned_forecast_improves_with_labels_and_hears_the_signals() -> None:
    rounds = [{"n_labels": n, "value": v, "n_eval": 2000} for n, v in DECREASING[0]]
    plain = fit_curve({"rounds": rounds, "model": "other", "at_labels": [1600, 16000]})
    assert plain.predictions[1].p50 >= plain.predictions[0].p50
    # a model that fits its training labels perfectly (large gap) is told apart from one that has stopped
    learning = [{**r, "train_value": 1.0} for r in rounds]
    stopped = [{**r, "train_value": r["value"] + 0.005} for r in rounds]
    far = [
        fit_curve({"rounds": rs, "model": "tree_ensemble", "at_labels": [16000]}).predictions[0].p50
        for rs in (learning, stopped)
    ]
    assert far[0] != far[1]


def test_a_target_the_pilot_already_met_is_answered_at_or_before_its_round() -> None:
    perfect = [{"n_labels": 100, "value": 1.0, "n_eval": 500}, {"n_labels": 200, "value": 1.0, "n_eval": 500}]
    response = fit_curve({"rounds": perfect, "targets": [0.99]})
    met = response.labels_to_reach[0]
    assert (met.p10, met.p50, met.p90, met.probability_reachable) == (100, 100, 100, 1.0)
    assert any("already met at or before 100 labels" in w for w in response.warnings)

    rounds = [{"n_labels": n, "value": v, "n_eval": 2000} for n, v in DECREASING[0]]
    response = fit_curve({"rounds": rounds, "targets": [0.5, 0.7, 0.9]})
    low, middle, high = response.labels_to_reach
    assert (low.p10, low.p50, low.p90) == (100, 100, 100)
    # the first round measuring >= 0.7 beyond its noise: 400 labels measured 0.73, 1.2 standard deviations of
    # a single run above the target, 800 labels 0.76
    assert (middle.p10, middle.p50, middle.p90) == (800, 800, 800)
    assert high.p10 is not None and high.p10 >= 1600  # met by no round: at least the pilot's labels
    assert high.p50 is None or high.p50 > 1600


def test_a_target_no_round_met_needs_at_least_the_pilots_labels() -> None:
    rounds = [{"n_labels": n, "value": v, "n_eval": 100} for n, v in [(400, 0.70), (800, 0.71), (1600, 0.72)]]
    for target in (0.721, 0.73, 0.75):
        r = fit_curve({"rounds": rounds, "targets": [target]}).labels_to_reach[0]
        assert r.p10 is None or r.p10 >= 1600


def test_learned_draws_past_the_last_round_are_not_capped_by_the_families_inside_the_pilot() -> None:
    from annoplan.planner.curves.forecast import ERROR_MIN
    from annoplan.planner.fit import forecast_from_rounds

    rounds = [{"n_labels": n, "value": v, "n_eval": 2000, "train_value": 1.0} for n, v in DECREASING[0]]
    req = FitRequest.model_validate({"rounds": rounds, "model": "tree_ensemble"})
    forecast = forecast_from_rounds(req.rounds, True, req.model)
    path = forecast.learned
    assert path is not None
    rng = np.random.default_rng(7)
    draws = forecast.sample(1000, rng)
    # the same generator again: three normals per draw, then the learned model's level
    again = np.random.default_rng(7)
    again.standard_normal((1000, 3))
    own = np.exp(np.clip(path.log_errors(again.uniform(size=1000))[:, 0], np.log(ERROR_MIN), 0.0))
    # at the last round every draw is the learned model's own, and before it no draw is better
    assert np.array_equal(draws.error[:, path.start], own)
    assert np.all(draws.error[:, : path.start] >= draws.error[:, path.start : path.start + 1])
    assert np.all(np.diff(draws.error, axis=1) <= 0)


def test_the_interval_table_is_calibrated_on_the_forecasts_non_rising_paths() -> None:
    calibration = load_learned_model().provenance["calibration"]
    assert "running minimum" in calibration and "model or train_value" in calibration


@pytest.mark.parametrize("pilot", DECREASING)
@pytest.mark.parametrize(
    "noise", [{"n_eval": 300}, {"std": 0.03}, {"std": 0.03, "n_runs": 25}], ids=["n_eval", "std", "mean"]
)
@pytest.mark.parametrize("train", [None, 0.1, 1.0], ids=["no-train", "gap", "perfect"])
def test_a_decreasing_pilots_last_round_lies_in_its_band_with_every_signal(
    pilot: list[tuple[int, float]], noise: dict[str, float], train: float | None
) -> None:
    rounds = []
    for n, v in pilot:
        r: dict[str, float | int] = {"n_labels": n, "value": v, **noise}
        if train is not None:
            r["train_value"] = min(1.0, v + train) if train < 1.0 else 1.0
        rounds.append(r)
    last_n, last_v = pilot[-1]
    for model in (None, "kernel_svm", "tree_ensemble"):
        p = fit_curve({"rounds": rounds, "model": model, "at_labels": [last_n]}).predictions[0]
        assert p.p10 <= last_v <= p.p90, (model, p)
