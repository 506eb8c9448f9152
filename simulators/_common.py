"""Pieces shared by the replay and the pilot: evaluation split, estimator check, predictions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import clone

from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.query_strategies import make_default_classifier, row_best

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]

MAX_DEFAULT_N_EVAL = 1000


def default_n_eval(n_items: int) -> int:
    """Default evaluation set size: a fifth of the data set, at most 1,000 items."""
    return int(min(MAX_DEFAULT_N_EVAL, max(1, n_items // 5)))


@dataclass(frozen=True)
class Split:
    """A random split of a data set into an evaluation set and a pool."""

    X_pool: Any
    y_pool: IndexArray
    X_eval: Any
    y_eval: IndexArray
    pool_rows: IndexArray


def split_eval_pool(
    X: Any, y: IndexArray, n_eval: int | None, rng: np.random.Generator, min_pool: int = 2
) -> Split:
    """Hold out ``n_eval`` random items for evaluation; the rest (in data set order) is the pool."""
    n_items = y.size
    if n_eval is None:
        n_eval = default_n_eval(n_items)
    if isinstance(n_eval, bool) or not isinstance(n_eval, int | np.integer) or n_eval < 1:
        raise SimulatorInputError("n_eval", f"must be an integer >= 1, got {n_eval!r}")
    if n_items - n_eval < min_pool:
        raise SimulatorInputError(
            "n_eval",
            f"leaves {n_items - n_eval} of {n_items} items for the pool; at least {min_pool} are needed",
        )
    order = rng.permutation(n_items)
    eval_rows = order[:n_eval]
    pool_rows = np.sort(order[n_eval:])
    return Split(
        X_pool=X[pool_rows],
        y_pool=y[pool_rows],
        X_eval=X[eval_rows],
        y_eval=y[eval_rows],
        pool_rows=pool_rows,
    )


def check_estimator(estimator: Any) -> Any:
    """Unfitted copy of ``estimator`` (default: logistic regression); it needs ``predict_proba``."""
    if estimator is None:
        return make_default_classifier()
    if not (hasattr(estimator, "fit") and hasattr(estimator, "predict_proba")):
        raise SimulatorInputError(
            "estimator",
            f"must be a classifier with fit and predict_proba, got {type(estimator).__name__}",
        )
    return clone(estimator)


def check_warm_start(estimator: Any, warm_start: Any) -> Any:
    """``estimator`` set to refit from its last fit (``warm_start``: a bool; True needs the parameter)."""
    if not isinstance(warm_start, bool):
        raise SimulatorInputError("warm_start", f"must be true or false, got {warm_start!r}")
    if warm_start and "warm_start" not in estimator.get_params():
        raise SimulatorInputError(
            "warm_start",
            f"{type(estimator).__name__} has no warm_start parameter: replay it without warm start",
        )
    return estimator.set_params(warm_start=True) if warm_start else estimator


def confidence_of(model: Any, proba: FloatArray) -> tuple[FloatArray, IndexArray]:
    """Confidence (max class probability) and predicted (encoded) class of each row of ``proba``."""
    confidence, best = row_best(proba)
    return confidence, np.asarray(model.classes_, dtype=np.intp)[best]


def predict_confidence(model: Any, X: Any) -> tuple[FloatArray, FloatArray, IndexArray]:
    """Probabilities, confidence (max probability) and predicted (encoded) class of each row."""
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    return (proba, *confidence_of(model, proba))


def predict_proba_rows(model: Any, X: Any, rows: IndexArray) -> FloatArray:
    """Class probabilities of the rows ``rows`` of ``X``.

    While the rows are at least half of ``X``, predicting all of ``X`` and keeping the wanted rows
    is cheaper than copying the rows out first (the copy costs more than the extra predictions).
    """
    if 2 * rows.size >= X.shape[0]:
        return np.asarray(model.predict_proba(X), dtype=np.float64)[rows]
    return np.asarray(model.predict_proba(X[rows]), dtype=np.float64)
