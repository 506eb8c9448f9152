"""``planner.fit_curve`` (SPEC 4.1): request in, response model out, errors naming the field."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from annoplan.planner import InvalidInputError, PlannerError, fit_curve
from annoplan.planner.schemas import FitRequest, FitResponse

#: a clean pilot: four rounds on a doubling grid, accuracy rising like a power law, 2,000 evaluation items
PILOT = [
    {"n_labels": 250, "value": 0.742, "n_eval": 2000},
    {"n_labels": 500, "value": 0.781, "n_eval": 2000},
    {"n_labels": 1000, "value": 0.812, "n_eval": 2000},
    {"n_labels": 2000, "value": 0.836, "n_eval": 2000},
]
LAST = PILOT[-1]["n_labels"]
SIZES = [2000, 4000, 8000, 16000, 20000]  # up to exactly 10x the last round
#: a pilot that has clearly stopped improving
SATURATED = [
    {"n_labels": n, "value": v, "n_eval": 5000}
    for n, v in [(250, 0.80), (500, 0.84), (1000, 0.853), (2000, 0.856), (4000, 0.857)]
]


def request(**changes: Any) -> dict[str, Any]:
    """A valid request (deep copy of the clean pilot) with ``changes`` applied."""
    out: dict[str, Any] = {
        "metric": "accuracy",
        "rounds": copy.deepcopy(PILOT),
        "targets": [0.85, 0.87],
        "at_labels": list(SIZES),
    }
    out.update(changes)
    return out


def fit_json(req: dict[str, Any] | FitRequest) -> dict[str, Any]:
    return fit_curve(req).model_dump(mode="json")


def assert_ordered(response: dict[str, Any]) -> None:
    for p in response["predictions"]:
        assert 0.0 <= p["p10"] <= p["p50"] <= p["p90"] <= 1.0, p
    for r in response["labels_to_reach"]:
        got = [np.inf if r[q] is None else r[q] for q in ("p10", "p50", "p90")]
        assert got == sorted(got), r
        assert 0.0 <= r["probability_reachable"] <= 1.0


# --- request and response contract --------------------------------------------------------------------------


def test_dict_and_model_requests_give_the_same_response() -> None:
    as_dict = fit_curve(request())
    as_model = fit_curve(FitRequest.model_validate(request()))
    assert isinstance(as_dict, FitResponse)
    assert isinstance(as_model, FitResponse)
    assert as_dict.model_dump(mode="json") == as_model.model_dump(mode="json")


def test_response_json_has_the_contract_fields() -> None:
    response = fit_json(request())
    json.dumps(response, allow_nan=False)  # plain JSON, no NaN or infinity

    assert {"predictions", "labels_to_reach", "warnings"} <= set(response)
    assert [p["n_labels"] for p in response["predictions"]] == SIZES
    for p in response["predictions"]:
        assert set(p) == {"n_labels", "p10", "p50", "p90"}
        assert isinstance(p["n_labels"], int)
        assert all(isinstance(p[q], float) for q in ("p10", "p50", "p90"))
    assert [r["target"] for r in response["labels_to_reach"]] == [0.85, 0.87]
    for r in response["labels_to_reach"]:
        assert set(r) == {"target", "p10", "p50", "p90", "probability_reachable"}
        assert all(r[q] is None or (isinstance(r[q], int) and r[q] >= 1) for q in ("p10", "p50", "p90"))
    assert isinstance(response["warnings"], list)
    assert all(isinstance(w, str) for w in response["warnings"])
    assert_ordered(response)


def test_a_clean_pilot_forecasts_more_accuracy_with_more_labels() -> None:
    response = fit_json(request())
    assert response["warnings"] == []
    p50 = [p["p50"] for p in response["predictions"]]
    assert p50 == sorted(p50)
    assert p50[-1] > p50[0]
    # at the last pilot round the interval holds what the pilot measured there
    at_last = response["predictions"][0]
    assert at_last["p10"] <= PILOT[-1]["value"] <= at_last["p90"]
    # the first target is a little above the pilot: reachable, past the last round
    first = response["labels_to_reach"][0]
    assert first["probability_reachable"] > 0.5
    assert first["p50"] is not None and first["p50"] > LAST


def test_predictions_include_the_noise_of_measuring() -> None:
    """A prediction is of what the evaluation set will *measure*: fewer items, a wider interval."""
    widths = []
    for n_eval in (200, 2000, 20000):
        rounds = [{**r, "n_eval": n_eval} for r in PILOT]
        at_last, at_twice = fit_json(request(rounds=rounds, at_labels=[LAST, 2 * LAST]))["predictions"]
        value = PILOT[-1]["value"]
        measurement_only = 2 * 1.2816 * np.sqrt(value * (1 - value) / n_eval)  # P10-P90 of the binomial
        assert at_last["p90"] - at_last["p10"] >= 0.9 * measurement_only, (n_eval, at_last)
        widths.append((at_last["p90"] - at_last["p10"], at_twice["p90"] - at_twice["p10"]))
    assert widths[0][0] > widths[1][0] > widths[2][0]
    assert widths[0][1] > widths[1][1] > widths[2][1]

    with_std = [{**r, "std": 0.03} for r in PILOT]
    at_last_std = fit_json(request(rounds=with_std, at_labels=[LAST]))["predictions"][0]
    assert at_last_std["p90"] - at_last_std["p10"] > widths[1][0]


def test_without_at_labels_the_forecast_still_looks_past_the_pilot() -> None:
    req = request()
    del req["at_labels"]
    response = fit_json(req)
    sizes = [p["n_labels"] for p in response["predictions"]]
    assert sizes == sorted(sizes)
    assert max(sizes) > LAST
    assert_ordered(response)


def test_empty_targets_and_sizes_are_an_empty_answer() -> None:
    response = fit_json(request(targets=[], at_labels=[]))
    assert response["predictions"] == []
    assert response["labels_to_reach"] == []


# --- metrics ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metric", ["accuracy", "f1", {"name": "balanced_accuracy", "higher_is_better": True}], ids=str
)
def test_higher_is_better_metrics_are_forecast_alike(metric: str | dict[str, Any]) -> None:
    response = fit_json(request(metric=metric))
    reference = fit_json(request(metric="accuracy"))
    assert response["metric"] == (metric if isinstance(metric, str) else metric["name"])
    assert response["predictions"] == reference["predictions"]
    assert response["labels_to_reach"] == reference["labels_to_reach"]


@pytest.mark.parametrize(
    "metric", ["error_rate", {"name": "word_error_rate", "higher_is_better": False}], ids=str
)
def test_lower_is_better_metrics_mirror_accuracy(metric: str | dict[str, Any]) -> None:
    rounds = [{**r, "value": round(1.0 - r["value"], 6)} for r in PILOT]
    response = fit_json(request(metric=metric, rounds=rounds, targets=[0.15, 0.13]))
    accuracy = fit_json(request())

    assert_ordered(response)
    p50 = [p["p50"] for p in response["predictions"]]
    assert p50 == sorted(p50, reverse=True)
    assert p50[-1] < p50[0]
    for err, acc in zip(response["predictions"], accuracy["predictions"], strict=True):
        assert err["n_labels"] == acc["n_labels"]
        assert err["p10"] == pytest.approx(1.0 - acc["p90"], abs=1e-6)
        assert err["p50"] == pytest.approx(1.0 - acc["p50"], abs=1e-6)
        assert err["p90"] == pytest.approx(1.0 - acc["p10"], abs=1e-6)
    for err, acc in zip(response["labels_to_reach"], accuracy["labels_to_reach"], strict=True):
        assert err["probability_reachable"] == pytest.approx(acc["probability_reachable"], abs=1e-3)
        for q in ("p10", "p50", "p90"):
            assert (err[q] is None) == (acc[q] is None)
            if err[q] is not None:
                assert abs(err[q] - acc[q]) <= 1
    # for an error rate a lower target is the harder one
    easy, hard = response["labels_to_reach"]
    assert hard["probability_reachable"] <= easy["probability_reachable"]
    assert hard["p50"] is None or (easy["p50"] is not None and hard["p50"] >= easy["p50"])


@pytest.mark.parametrize("target", [0.99, 1.0])
def test_an_unreachable_target_is_an_answer_not_an_error(target: float) -> None:
    response = fit_json({"metric": "accuracy", "rounds": SATURATED, "targets": [0.86, target]})
    near, far = response["labels_to_reach"]
    assert far["target"] == target
    assert far["probability_reachable"] < 0.5
    assert far["p90"] is None
    assert far["p50"] is None
    assert near["probability_reachable"] > far["probability_reachable"]


# --- warnings -----------------------------------------------------------------------------------------------


def test_a_clean_pilot_has_no_warnings() -> None:
    assert fit_json(request())["warnings"] == []


def test_fewer_than_four_rounds_warns() -> None:
    response = fit_json(request(rounds=copy.deepcopy(PILOT[1:])))
    (warning,) = response["warnings"]
    assert "3" in warning and "round" in warning


def test_two_rounds_still_answer_with_a_warning() -> None:
    response = fit_json(request(rounds=copy.deepcopy(PILOT[2:])))
    assert len(response["predictions"]) == len(SIZES)
    assert len(response["labels_to_reach"]) == 2
    assert_ordered(response)
    assert any("2" in w and "round" in w for w in response["warnings"])
    # and two rounds are less certain than four
    four = fit_json(request())

    def width(r: dict[str, Any]) -> float:
        return r["predictions"][-1]["p90"] - r["predictions"][-1]["p10"]

    assert width(response) > width(four)


def test_a_non_monotone_pilot_warns_naming_the_round() -> None:
    rounds = copy.deepcopy(PILOT)
    rounds[2]["value"] = 0.70  # far below rounds[1] on 2,000 evaluation items
    response = fit_json(request(rounds=rounds))
    assert_ordered(response)
    assert any("rounds[2]" in w for w in response["warnings"]), response["warnings"]
    assert not any("rounds[1]" in w or "rounds[3]" in w for w in response["warnings"])


def test_a_pilot_within_its_noise_is_not_called_non_monotone() -> None:
    rounds = copy.deepcopy(PILOT)
    rounds[2]["value"] = 0.779  # a hair below rounds[1], well within the noise of 2,000 items
    assert not any("rounds[2]" in w for w in fit_json(request(rounds=rounds))["warnings"])


def test_no_noise_information_warns() -> None:
    rounds = [{k: v for k, v in r.items() if k != "n_eval"} for r in PILOT]
    response = fit_json(request(rounds=rounds))
    assert_ordered(response)
    assert any("n_eval" in w for w in response["warnings"]), response["warnings"]

    with_std = [{**r, "std": 0.01} for r in rounds]
    assert not any("n_eval" in w for w in fit_json(request(rounds=with_std))["warnings"])


def test_forecasts_past_ten_times_the_last_round_warn() -> None:
    response = fit_json(request(at_labels=[4000, 10 * LAST, 10 * LAST + 1, 40000]))
    far = [w for w in response["warnings"] if "40000" in w]
    assert len(far) == 1
    assert str(10 * LAST + 1) in far[0]
    assert str(4000) not in far[0].replace("40000", "")
    # exactly 10x is not "past" 10x
    assert fit_json(request(at_labels=[10 * LAST]))["warnings"] == []
    # a target whose P50 lies past 10x is flagged too
    response = fit_json(request(targets=[0.86, 0.88, 0.9, 0.92], at_labels=[]))
    for r in response["labels_to_reach"]:
        flagged = any(f"{r['target']:g} needs" in w for w in response["warnings"])
        assert flagged == (r["p50"] is not None and r["p50"] > 10 * LAST), (r, response["warnings"])


# --- validation ---------------------------------------------------------------------------------------------


def with_round(i: int, **changes: Any) -> list[dict[str, Any]]:
    rounds = copy.deepcopy(PILOT)
    rounds[i].update(changes)
    return rounds


INVALID = {
    "one round": (request(rounds=PILOT[:1]), "rounds"),
    "no rounds": (request(rounds=[]), "rounds"),
    "missing rounds": ({"metric": "accuracy", "targets": [0.9]}, "rounds"),
    "duplicate n_labels": (request(rounds=with_round(2, n_labels=500)), "rounds"),
    "unsorted n_labels": (request(rounds=list(reversed(PILOT))), "rounds"),
    "value above 1": (request(rounds=with_round(1, value=1.2)), "rounds[1].value"),
    "value below 0": (request(rounds=with_round(1, value=-0.1)), "rounds[1].value"),
    "NaN value": (request(rounds=with_round(1, value=float("nan"))), "rounds[1].value"),
    "infinite value": (request(rounds=with_round(1, value=float("inf"))), "rounds[1].value"),
    "negative infinite value": (request(rounds=with_round(3, value=float("-inf"))), "rounds[3].value"),
    "n_eval 0": (request(rounds=with_round(2, n_eval=0)), "rounds[2].n_eval"),
    "negative std": (request(rounds=with_round(0, std=-0.01)), "rounds[0].std"),
    "n_labels 0": (request(rounds=with_round(0, n_labels=0)), "rounds[0].n_labels"),
    "unknown round field": (request(rounds=with_round(1, seeds=3)), "rounds[1].seeds"),
    "n_runs 0": (request(rounds=with_round(1, n_runs=0)), "rounds[1].n_runs"),
    "n_runs as text": (request(rounds=with_round(1, n_runs="25")), "rounds[1].n_runs"),
    "train_value above 1": (request(rounds=with_round(2, train_value=1.01)), "rounds[2].train_value"),
    "NaN train_value": (request(rounds=with_round(0, train_value=float("nan"))), "rounds[0].train_value"),
    "unknown model family": (request(model="transformer"), "model"),
    "target above 1": (request(targets=[0.9, 1.5]), "targets"),
    "target below 0": (request(targets=[-0.1]), "targets"),
    "NaN target": (request(targets=[float("nan")]), "targets"),
    "too many rounds": (
        request(rounds=[{"n_labels": i + 1, "value": 0.5} for i in range(10_001)]),
        "rounds",
    ),
    "too many at_labels": (request(at_labels=list(range(1, 10_002))), "at_labels"),
    "at_labels 0": (request(at_labels=[100, 0]), "at_labels"),
    "unknown metric": (request(metric="auc"), "metric"),
    "custom metric without direction": (request(metric={"name": "auc"}), "metric.higher_is_better"),
    "unknown field": (request(horizon=5), "horizon"),
}


@pytest.mark.parametrize(("bad", "field"), INVALID.values(), ids=INVALID.keys())
def test_invalid_input_names_the_field(bad: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        fit_curve(bad)
    assert info.value.field == field or info.value.field.startswith(field + "["), info.value.field
    assert isinstance(info.value, ValueError) and isinstance(info.value, PlannerError)
    assert str(info.value).startswith(info.value.field)


@pytest.mark.parametrize("bad", [[PILOT], "rounds", None, 3, b"{}"], ids=repr)
def test_a_request_that_is_not_an_object_is_refused(bad: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        fit_curve(bad)
    assert info.value.field == "request"


def test_the_limits_themselves_are_accepted() -> None:
    rounds = [
        {"n_labels": 100 * (i + 1), "value": 0.5 + 0.4 * i / 10_000, "n_eval": 1000} for i in range(10_000)
    ]
    response = fit_curve({"rounds": rounds, "at_labels": list(range(1, 10_001)), "targets": [0.0, 1.0]})
    assert len(response.predictions) == 10_000
    assert [r.target for r in response.labels_to_reach] == [0.0, 1.0]


# --- a real pilot -------------------------------------------------------------------------------------------


def test_a_digits_pilot_forecasts_what_1200_labels_really_give() -> None:
    """LogisticRegression on nested random subsets of scikit-learn's digits, scored on one held-out set."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    order = np.random.default_rng(0).permutation(len(y))
    held_out, pool = order[:597], order[597:]

    def accuracy(n: int) -> float:
        model = LogisticRegression(max_iter=2000).fit(X[pool[:n]], y[pool[:n]])
        return float(np.mean(model.predict(X[held_out]) == y[held_out]))

    rounds = [{"n_labels": n, "value": accuracy(n), "n_eval": len(held_out)} for n in (50, 100, 200, 400)]
    truth = accuracy(1200)
    assert truth > rounds[-1]["value"] + 0.01  # the curve still climbs: a forecast has something to get right

    (p,) = fit_curve({"metric": "accuracy", "rounds": rounds, "at_labels": [1200]}).predictions
    assert p.p10 <= truth <= p.p90, (p, truth)
    assert abs(p.p50 - truth) <= 0.05
    assert p.p50 > rounds[-1]["value"]
    assert p.p90 - p.p10 < 0.1  # an interval that says something


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"value": "0.5"}, "rounds[0].value"),
        ({"n_eval": True}, "rounds[0].n_eval"),
        ({"n_labels": 10.5}, "rounds[0].n_labels"),
    ],
    ids=["number as text", "boolean as count", "fractional count"],
)
def test_values_of_the_wrong_type_are_refused_not_converted(value: dict[str, Any], field: str) -> None:
    first = {"n_labels": 10, "value": 0.5, **value}
    with pytest.raises(InvalidInputError) as info:
        fit_curve({"rounds": [first, {"n_labels": 20, "value": 0.6}]})
    assert info.value.field == field


def test_more_labels_never_predict_a_worse_quantile() -> None:
    rounds = [
        {"n_labels": n, "value": v, "n_eval": 2000}
        for n, v in [(250, 0.742), (500, 0.781), (1000, 0.812), (2000, 0.836)]
    ]
    predictions = fit_curve({"rounds": rounds, "at_labels": list(range(2000, 2200, 10))}).predictions
    for q in ("p10", "p50", "p90"):
        values = [getattr(p, q) for p in predictions]
        assert all(b >= a for a, b in itertools.pairwise(values)), q


def test_the_families_field_holds_the_fixed_prior_weights_and_says_so() -> None:
    from annoplan.planner.curves.families import FAMILIES

    prior = np.array([f.prior_weight for f in FAMILIES.values()])
    expected = {name: round(float(w), 4) for name, w in zip(FAMILIES, prior / prior.sum(), strict=True)}
    assert fit_curve(request()).families == expected
    assert fit_curve({"rounds": SATURATED, "model": "linear"}).families == expected
    description = FitResponse.model_fields["families"].description
    assert description is not None and "fixed prior weight" in description and "not fitted" in description
