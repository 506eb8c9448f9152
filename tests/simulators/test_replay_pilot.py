"""Random pilot rounds in the shape of a plan request's ``pilot`` object."""

from __future__ import annotations

import json

import numpy as np
import pytest

from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.pilot import scale_pilot_sizes, simulate_pilot

Data = tuple[np.ndarray, np.ndarray]


def test_sizes_that_fit_are_kept() -> None:
    assert scale_pilot_sizes([400, 100, 200], pool_size=5000) == (100, 200, 400)


def test_sizes_are_scaled_to_half_the_pool() -> None:
    sizes = scale_pilot_sizes([100, 200, 400, 800], pool_size=900)
    assert sizes == (56, 112, 225, 450)
    assert scale_pilot_sizes([100, 200], pool_size=30) == (10, 15)


@pytest.mark.parametrize("sizes", [[], [0, 10], [5.5]])
def test_bad_sizes_are_named(sizes: list[float]) -> None:
    with pytest.raises(SimulatorInputError) as error:
        scale_pilot_sizes(sizes, pool_size=1000)  # type: ignore[arg-type]
    assert error.value.field == "n_labels"


def test_pilot_has_the_plan_request_shape(classification_data: Data) -> None:
    X, y = classification_data
    pilot = simulate_pilot(X, y, n_labels=[50, 100, 200], n_eval=300, random_state=0)
    payload = json.loads(json.dumps(pilot.to_dict()))
    assert payload["metric"] == "accuracy"
    assert payload["model"] == "linear"  # the default logistic regression
    assert [item["n_labels"] for item in payload["rounds"]] == [50, 100, 200]
    for item in payload["rounds"]:
        assert set(item) == {"n_labels", "value", "n_eval", "train_value"}
        assert 0.0 <= item["value"] <= 1.0 and item["n_eval"] == 300
    rounds = payload["rounds"]
    # a model fits its own labels better than new ones: on average (one round of 50 labels can go either way)
    assert sum(r["train_value"] for r in rounds) > sum(r["value"] for r in rounds)
    for item in payload["calibration"]:
        assert set(item) == {"n_labels", "confidence", "correct"}
        assert len(item["confidence"]) == len(item["correct"]) == 300
        assert all(isinstance(flag, bool) for flag in item["correct"])
    values = [item["value"] for item in payload["rounds"]]
    assert values[-1] > values[0]  # 200 labels beat 50 on this problem


def test_pilot_is_deterministic_and_scaled_for_small_pools(classification_data: Data) -> None:
    X, y = classification_data
    first = simulate_pilot(X, y, random_state=1)
    second = simulate_pilot(X, y, random_state=1)
    assert first == second
    assert first.requested_n_labels == (100, 200, 400, 800)
    assert max(item.n_labels for item in first.rounds) <= first.pool_size // 2


@pytest.mark.parametrize(
    ("estimator", "family"),
    [
        ("LogisticRegression", "linear"),
        ("RandomForestClassifier", "tree_ensemble"),
        ("KNeighborsClassifier", "nearest_neighbors"),
        ("MLPClassifier", "neural_network"),
    ],
)
def test_the_pilot_names_the_model_family(estimator: str, family: str) -> None:
    from sklearn import ensemble, linear_model, neighbors, neural_network
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from annoplan.simulators.pilot import model_family

    modules = (ensemble, linear_model, neighbors, neural_network)
    cls = next(getattr(m, estimator) for m in modules if hasattr(m, estimator))
    assert model_family(cls()) == family
    assert model_family(make_pipeline(StandardScaler(), cls())) == family
    assert model_family(SVC(kernel="linear")) == "linear" and model_family(SVC()) == "kernel_svm"
    assert model_family(object()) == "other"
