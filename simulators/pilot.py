"""Random pilot rounds from a labeled data set, shaped as a plan request's ``pilot`` object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from annoplan.simulators._common import check_estimator, predict_confidence, split_eval_pool
from annoplan.simulators._validation import check_features_labels, check_random_state
from annoplan.simulators.errors import SimulatorInputError

__all__ = [
    "DEFAULT_PILOT_ROUNDS",
    "SimulatedPilot",
    "SimulatedRound",
    "model_family",
    "scale_pilot_sizes",
    "simulate_pilot",
]

DEFAULT_PILOT_ROUNDS: tuple[int, ...] = (100, 200, 400, 800)
"""Default cumulative label counts of the pilot rounds."""

MIN_PILOT_LABELS = 10
MAX_PILOT_CALIBRATION = 500


@dataclass(frozen=True)
class SimulatedRound:
    """One pilot round: a model trained on ``n_labels`` random labels, scored on the evaluation set.

    Attributes
    ----------
    n_labels : int
        Cumulative human labels (items).
    value : float
        Accuracy on the evaluation set.
    n_eval : int
        Evaluation set size (items).
    train_value : float
        Accuracy of the same model on its own training labels.
    confidence : tuple of float
        Max class probability on the calibration sample (random held-out items).
    correct : tuple of bool
        Whether each of those predictions was right.
    """

    n_labels: int
    value: float
    n_eval: int
    train_value: float
    confidence: tuple[float, ...]
    correct: tuple[bool, ...]


@dataclass(frozen=True)
class SimulatedPilot:
    """Random pilot rounds of one data set, simulated (a plan request's pilot is
    :class:`planner.schemas.curves.Pilot`, which ``annoplan replay --emit-pilot`` writes from this one).

    Attributes
    ----------
    rounds : tuple of SimulatedRound
        Rounds with a model (a round whose labels hold a single class is left out).
    requested_n_labels : tuple of int
        Round sizes asked for, before scaling to the pool.
    pool_size : int
        Items available for labeling (data set minus evaluation set).
    model : str
        Family of the classifier (see :func:`model_family`).
    """

    rounds: tuple[SimulatedRound, ...]
    requested_n_labels: tuple[int, ...]
    pool_size: int
    model: str = "other"

    def to_dict(self) -> dict[str, Any]:
        """The ``pilot`` object of a plan request: metric, model family, rounds and calibration samples."""
        return {
            "metric": "accuracy",
            "model": self.model,
            "rounds": [
                {
                    "n_labels": item.n_labels,
                    "value": item.value,
                    "n_eval": item.n_eval,
                    "train_value": item.train_value,
                }
                for item in self.rounds
            ],
            "calibration": [
                {
                    "n_labels": item.n_labels,
                    "confidence": list(item.confidence),
                    "correct": list(item.correct),
                }
                for item in self.rounds
            ],
        }


#: model families of common scikit-learn classifiers (by class name; the last step of a pipeline)
MODEL_FAMILIES: dict[str, str] = {
    **dict.fromkeys(
        (
            "LogisticRegression",
            "LogisticRegressionCV",
            "SGDClassifier",
            "RidgeClassifier",
            "RidgeClassifierCV",
            "Perceptron",
            "PassiveAggressiveClassifier",
            "LinearSVC",
            "LinearDiscriminantAnalysis",
        ),
        "linear",
    ),
    **dict.fromkeys(
        ("GaussianNB", "MultinomialNB", "BernoulliNB", "ComplementNB", "CategoricalNB"), "naive_bayes"
    ),
    **dict.fromkeys(("KNeighborsClassifier", "RadiusNeighborsClassifier"), "nearest_neighbors"),
    **dict.fromkeys(("SVC", "NuSVC"), "kernel_svm"),
    **dict.fromkeys(("DecisionTreeClassifier", "ExtraTreeClassifier"), "tree"),
    **dict.fromkeys(
        (
            "RandomForestClassifier",
            "ExtraTreesClassifier",
            "GradientBoostingClassifier",
            "HistGradientBoostingClassifier",
            "AdaBoostClassifier",
        ),
        "tree_ensemble",
    ),
    "MLPClassifier": "neural_network",
}


def model_family(estimator: Any) -> str:
    """The model family of a classifier (``linear``, ``tree_ensemble``, ...), ``other`` when unknown.

    A pipeline is named by its last step, a linear SVC's ``kernel="linear"`` counts as linear.
    """
    steps = getattr(estimator, "steps", None)
    if steps:
        return model_family(steps[-1][1])
    name = type(estimator).__name__
    if name in ("SVC", "NuSVC") and getattr(estimator, "kernel", None) == "linear":
        return "linear"
    return MODEL_FAMILIES.get(name, "other")


def scale_pilot_sizes(n_labels: Sequence[int], pool_size: int) -> tuple[int, ...]:
    """Scale pilot round sizes down so that the largest uses at most half of the pool.

    Parameters
    ----------
    n_labels : sequence of int
        Requested cumulative label counts (items, each >= 1).
    pool_size : int
        Items available for labeling.

    Returns
    -------
    tuple of int
        Strictly increasing label counts; unchanged when the largest already fits in half the pool.
    """
    if not len(n_labels) or any(
        isinstance(value, bool) or not isinstance(value, Integral) or value < 1 for value in n_labels
    ):
        raise SimulatorInputError("n_labels", f"must be integers >= 1, got {list(n_labels)!r}")
    sizes = sorted({int(value) for value in n_labels})
    limit = max(pool_size // 2, 1)
    if sizes[-1] <= limit:
        return tuple(sizes)
    factor = limit / sizes[-1]
    floor = min(MIN_PILOT_LABELS, limit)
    return tuple(sorted({max(floor, round(value * factor)) for value in sizes}))


def simulate_pilot(
    X: Any,
    y: Any,
    *,
    n_labels: Sequence[int] = DEFAULT_PILOT_ROUNDS,
    n_eval: int | None = None,
    calibration_size: int | None = None,
    estimator: Any = None,
    random_state: int | np.random.Generator | None = None,
) -> SimulatedPilot:
    """Run random pilot rounds: nested random label sets, one model each, scored on held-out items.

    Parameters
    ----------
    X : array-like of shape (n_items, n_features) or scipy sparse matrix
        Numeric features.
    y : array-like of shape (n_items,)
        True labels.
    n_labels : sequence of int, default (100, 200, 400, 800)
        Cumulative label counts of the rounds (items); scaled down with :func:`scale_pilot_sizes`
        when the largest does not fit in half of the pool.
    n_eval : int, optional
        Evaluation set size in items (default: a fifth of the data, at most 1,000).
    calibration_size : int, optional
        Evaluation items whose confidence and correctness are recorded (default: the evaluation set,
        at most 500).
    estimator : classifier, optional
        Scikit-learn classifier with ``predict_proba`` (default: logistic regression).
    random_state : int, numpy.random.Generator or None
        Seed of the split and of the label order.

    Returns
    -------
    SimulatedPilot
    """
    model = check_estimator(estimator)
    X, y_encoded, _ = check_features_labels(X, y)
    rng = check_random_state(random_state)
    with threadpool_limits(limits=1):
        split = split_eval_pool(X, y_encoded, n_eval, rng)
        pool_size = int(split.y_pool.size)
        sizes = scale_pilot_sizes(n_labels, pool_size)
        requested = tuple(int(value) for value in n_labels)
        n_eval_items = int(split.y_eval.size)
        if calibration_size is None:
            calibration_size = min(n_eval_items, MAX_PILOT_CALIBRATION)
        if isinstance(calibration_size, bool) or calibration_size < 0:
            raise SimulatorInputError("calibration_size", f"must be >= 0, got {calibration_size!r}")
        n_cal = min(calibration_size, n_eval_items)
        order = rng.permutation(pool_size)
        rounds = []
        for size in sizes:
            train = order[:size]
            if np.unique(split.y_pool[train]).size < 2:
                continue
            model.fit(split.X_pool[train], split.y_pool[train])
            _, confidence, predicted = predict_confidence(model, split.X_eval)
            correct = predicted == split.y_eval
            train_value = float(np.mean(model.predict(split.X_pool[train]) == split.y_pool[train]))
            rounds.append(
                SimulatedRound(
                    n_labels=size,
                    value=float(np.mean(correct)),
                    n_eval=n_eval_items,
                    train_value=train_value,
                    confidence=tuple(confidence[:n_cal].tolist()),
                    correct=tuple(correct[:n_cal].tolist()),
                )
            )
    return SimulatedPilot(
        rounds=tuple(rounds), requested_n_labels=requested, pool_size=pool_size, model=model_family(model)
    )
