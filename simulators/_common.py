"""Pieces shared by the replay and the pilot: evaluation split, estimator check, predictions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.base import clone

from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.query_strategies import make_default_classifier, row_best

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
PerRow = Callable[[FloatArray], tuple[npt.NDArray[Any], ...]]
"""Arrays of one value per row of a probability matrix, each row's computed from that row alone."""

MAX_DEFAULT_N_EVAL = 1000

MAX_SHARED_EVAL_SHARE = 0.01
"""Largest share of a data set's rows the evaluation set may hold for the pool to be read from the data
set's own rows (:func:`can_share_rows`): predicting those rows along with the pool's costs at most this much
more."""


def default_n_eval(n_items: int) -> int:
    """Default evaluation set size: a fifth of the data set, at most 1,000 items."""
    return int(min(MAX_DEFAULT_N_EVAL, max(1, n_items // 5)))


def can_share_rows(X: Any, n_eval: int) -> bool:
    """Whether the pool may be read from the rows of the data set ``X`` rather than from a copy of them.

    So that predicting the whole data set gives the pool's rows the very numbers predicting a copy of them
    does, ``X`` must be CSR or C-ordered dense, as the copy would be; so that predicting the evaluation rows
    along with the pool costs less than the copy, they must be at most :data:`MAX_SHARED_EVAL_SHARE` of ``X``.
    """
    csr = sp.issparse(X) and X.format == "csr"
    same_layout = csr or (isinstance(X, np.ndarray) and X.flags.c_contiguous)
    return bool(same_layout and n_eval <= MAX_SHARED_EVAL_SHARE * X.shape[0])


@dataclass(frozen=True)
class Split:
    """A random split of a data set into an evaluation set and a pool.

    Attributes
    ----------
    X : numpy.ndarray or scipy.sparse.csr_matrix
        The data set's features (pool and evaluation items).
    y : numpy.ndarray of intp
        The data set's (encoded) labels, as given (not copied, like :attr:`X`): the pool's are read item by
        item (:meth:`labels`), or gathered when asked for (:attr:`y_pool`).
    X_eval, y_eval : numpy.ndarray (or CSR) and numpy.ndarray of intp
        The evaluation set's features (a copy) and labels.
    pool_rows : numpy.ndarray of intp
        Row of ``X`` of each pool item (increasing).
    eval_rows : numpy.ndarray of intp
        Row of ``X`` of each evaluation item.
    shared : bool
        The pool's features are read from the rows of ``X`` (:meth:`features`, :attr:`X_rows`):
        :attr:`X_pool` is then copied only when something asks for it.
    """

    X: Any
    y: IndexArray
    X_eval: Any
    y_eval: IndexArray
    pool_rows: IndexArray
    eval_rows: IndexArray
    shared: bool = False

    @cached_property
    def y_pool(self) -> IndexArray:
        """The pool's labels, in data set order, gathered on first use (:meth:`labels` reads some)."""
        return self.y[self.pool_rows]

    @property
    def n_pool(self) -> int:
        """Items in the pool."""
        return int(self.pool_rows.size)

    def labels(self, items: IndexArray) -> IndexArray:
        """Labels of the pool items ``items`` (a new array, as ``y_pool[items]``)."""
        return self.y[self.pool_rows[items]]

    @cached_property
    def X_pool(self) -> Any:
        """The pool's features, copied out of :attr:`X` on first use."""
        return self.X[self.pool_rows]

    def features(self, items: IndexArray) -> Any:
        """Features of the pool items ``items`` (a new array, as ``X_pool[items]``)."""
        return self.X[self.pool_rows[items]] if self.shared else self.X_pool[items]

    @property
    def X_rows(self) -> Any:
        """The array the whole pool is predicted in: ``X`` when the split shares its rows, else
        :attr:`X_pool`."""
        return self.X if self.shared else self.X_pool

    def rows(self, items: IndexArray) -> IndexArray:
        """Rows of :attr:`X_rows` of the pool items ``items``."""
        return self.pool_rows[items] if self.shared else items

    def items_at(self, rows: IndexArray) -> IndexArray:
        """The pool items at the rows ``rows`` of :attr:`X_rows` (the inverse of :meth:`rows`).

        Where the split shares its rows, the pool item at a row is the row less the evaluation rows before it
        (the pool's rows are the others, increasing): ``np.searchsorted(pool_rows, rows)``, found among the
        few evaluation rows instead of the whole pool's.
        """
        if not self.shared:
            return rows
        return rows - np.searchsorted(self.sorted_eval_rows, rows)

    @cached_property
    def sorted_eval_rows(self) -> IndexArray:
        """:attr:`eval_rows`, increasing."""
        return np.sort(self.eval_rows)

    def pool_mask(self) -> BoolArray:
        """Whether each row of :attr:`X_rows` is a pool item (a new array)."""
        mask = np.ones(self.X.shape[0] if self.shared else self.n_pool, dtype=bool)
        if self.shared:
            mask[self.eval_rows] = False
        return mask


def split_eval_pool(
    X: Any,
    y: IndexArray,
    n_eval: int | None,
    rng: np.random.Generator,
    min_pool: int = 2,
    share: bool = False,
) -> Split:
    """Hold out ``n_eval`` random items for evaluation; the rest (in data set order) is the pool.

    With ``share`` the pool is read from the rows of ``X`` where :func:`can_share_rows` allows it (else
    copied out of it on first use).
    """
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
    eval_rows = rng.choice(n_items, size=n_eval, replace=False)  # not a permutation of all the items
    in_pool = np.ones(n_items, dtype=bool)
    in_pool[eval_rows] = False
    return Split(
        X=X,
        y=y,
        X_eval=X[eval_rows],
        y_eval=y[eval_rows],
        pool_rows=np.flatnonzero(in_pool),  # the rows left, increasing (as sorting them gives)
        eval_rows=eval_rows,
        shared=share and can_share_rows(X, int(n_eval)),
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
    proba = predict_proba(model, X)
    return (proba, *confidence_of(model, proba))


def predict_proba(model: Any, X: Any) -> FloatArray:
    """The model's class probabilities of the rows of ``X``, as float64."""
    return np.asarray(model.predict_proba(X), dtype=np.float64)


def predict_items(
    model: Any, split: Split, items: IndexArray, per_row: PerRow
) -> tuple[npt.NDArray[Any], ...]:
    """``per_row`` of the model's class probabilities of the pool items ``items`` (one value per item each).

    While the items are at least half of the pool, predicting the whole pool (or data set, when the split
    shares its rows) and keeping the items' values is cheaper than copying the items' features out first;
    ``per_row`` then reduces all the rows, and only its 1-D results are indexed by the items (indexing the
    probability matrix itself would copy its rows). ``per_row`` must compute each row's values from that row
    alone, so that this gives the numbers it gives on the items' rows alone.
    """
    if not predicts_whole_pool(split, items.size):
        return per_row(predict_proba(model, split.features(items)))
    rows = split.rows(items)
    return tuple(values[rows] for values in per_row(predict_proba(model, split.X_rows)))


def predicts_whole_pool(split: Split, n_items: int) -> bool:
    """Whether ``n_items`` pool items' values are read from predictions of the whole pool
    (:attr:`Split.X_rows`) rather than of the items' rows alone: while they are at least half of the
    pool, which is cheaper than copying their features out."""
    return 2 * n_items >= split.n_pool
