"""Input checks shared by the replay engine: each is called once, at an entry point.

Every check raises :class:`simulators.errors.SimulatorInputError`, a ``ValueError`` whose ``field`` names
the offending parameter, so that the command line and the HTTP layer can point the caller at the right
option.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from annoplan.simulators.errors import SimulatorInputError

__all__ = [
    "all_finite",
    "check_batch_size",
    "check_confidence_threshold",
    "check_count",
    "check_features_labels",
    "check_max_labels",
    "check_random_state",
    "check_share",
]


def check_random_state(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """Turn a seed into a numpy ``Generator`` (done exactly once per entry point).

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
        A non-negative integer seed, an existing generator (used as is), or None for fresh entropy.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        if int(random_state) < 0:
            raise SimulatorInputError("random_state", f"must be a non-negative integer, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise SimulatorInputError(
        "random_state", f"must be an integer seed, a numpy Generator or None, got {random_state!r}"
    )


def check_batch_size(batch_size: Any) -> int:
    """Check that ``batch_size`` (items per round) is an integer >= 1 and return it as ``int``."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
        raise SimulatorInputError("batch_size", f"must be an integer >= 1, got {batch_size!r}")
    return int(batch_size)


def check_max_labels(max_labels: Any) -> int | None:
    """Check that ``max_labels`` (human-touched items) is None or an integer >= 1."""
    if max_labels is None:
        return None
    if isinstance(max_labels, bool) or not isinstance(max_labels, Integral) or max_labels < 1:
        raise SimulatorInputError("max_labels", f"must be an integer >= 1 or None, got {max_labels!r}")
    return int(max_labels)


def check_confidence_threshold(confidence_threshold: Any) -> float:
    """Check that ``confidence_threshold`` (a max class probability) lies in [0, 1]."""
    if (
        isinstance(confidence_threshold, bool)
        or not isinstance(confidence_threshold, Real)
        or not math.isfinite(float(confidence_threshold))
        or not 0.0 <= float(confidence_threshold) <= 1.0
    ):
        raise SimulatorInputError(
            "confidence_threshold", f"must be a number in [0, 1], got {confidence_threshold!r}"
        )
    return float(confidence_threshold)


def check_share(name: str, share: Any) -> float:
    """Check that ``share`` (a probability or a share of items) is a number strictly in (0, 1)."""
    if isinstance(share, bool) or not isinstance(share, Real) or not 0.0 < float(share) < 1.0:
        raise SimulatorInputError(name, f"must be a number in (0, 1), got {share!r}")
    return float(share)


def check_count(name: str, count: Any) -> int:
    """Check that ``count`` (of items) is an integer >= 0 and return it as ``int``."""
    if isinstance(count, bool) or not isinstance(count, Integral) or count < 0:
        raise SimulatorInputError(name, f"must be an integer >= 0, got {count!r}")
    return int(count)


#: :func:`all_finite` sums the values of a contiguous array in rows of this many values (a BLAS product)
SUM_ROW_WIDTH = 1024


def all_finite(values: npt.NDArray[np.floating[Any]]) -> bool:
    """Whether every one of ``values`` (any shape) is finite: no NaN, no infinity.

    A sum of the values is finite exactly when every value is finite and the sum does not overflow, so one
    pass of a BLAS product (about half the time of ``np.isfinite`` and a reduction over all the values)
    decides for the usual features; only where a sum is not finite is every value checked. The values of a
    contiguous array are summed as rows of :data:`SUM_ROW_WIDTH` values (the vector of ones multiplying them
    then fits in cache, where one per item of a tall matrix would be read from memory alongside it), those
    of another array by columns.
    """
    with np.errstate(all="ignore"):  # an overflow is no error here: it only calls for the exact check
        if values.flags.c_contiguous and values.size >= SUM_ROW_WIDTH:
            flat = values.reshape(-1)
            n_whole = flat.size - flat.size % SUM_ROW_WIDTH
            rows = flat[:n_whole].reshape(-1, SUM_ROW_WIDTH)
            total = np.append(
                np.ones(rows.shape[0], dtype=values.dtype) @ rows, np.add.reduce(flat[n_whole:])
            )
        elif values.ndim == 2 and values.size:
            total = np.ones(values.shape[0], dtype=values.dtype) @ values  # the column sums
        else:
            total = np.add.reduce(values, axis=None)
    return bool(np.all(np.isfinite(total))) or bool(np.all(np.isfinite(values)))


def check_features(X: Any, field: str = "X") -> npt.NDArray[np.floating[Any]] | sp.csr_matrix:
    """Validate a numeric feature matrix: 2-D, at least one column, finite (dense float64 or CSR)."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        values = X.data
    else:
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SimulatorInputError(field, f"features must be numeric: {exc}") from None
        values = X
    if X.ndim != 2:
        raise SimulatorInputError(field, f"must be 2-dimensional (items x features), got shape {X.shape}")
    if X.shape[1] == 0:
        raise SimulatorInputError(field, "has no feature columns")
    if not all_finite(values):
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise SimulatorInputError(field, f"contains {bad} NaN or infinite values; impute or drop them first")
    return X


def encode_labels(y: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp]]:
    """The sorted distinct labels of ``y`` and each label's index among them: ``np.unique(y,
    return_inverse=True)``.

    Integer labels spanning no more values than there are labels are counted (``bincount``) instead of
    sorted: the same arrays, a few times faster on large data sets. Labels of two neighbouring values (or one)
    need no count: both values are present, and each label's index is its offset from the lowest.
    """
    if y.ndim == 1 and y.size and y.dtype.kind in "iu":
        low, high = int(y.min()), int(y.max())
        if high - low < y.size and high <= np.iinfo(np.intp).max:
            offsets = y.astype(np.intp, copy=False)
            if low:
                offsets = offsets - low
            if high - low <= 1:  # every value from the lowest to the highest is present
                classes = (np.arange(high - low + 1, dtype=np.intp) + low).astype(y.dtype)
                return classes, offsets.copy() if offsets is y else offsets
            present = np.bincount(offsets, minlength=high - low + 1) > 0
            code = np.cumsum(present, dtype=np.intp) - 1
            return (np.flatnonzero(present) + low).astype(y.dtype), code[offsets]
    classes, encoded = np.unique(y, return_inverse=True)
    return classes, encoded.astype(np.intp)


def check_features_labels(
    X: Any, y: Any
) -> tuple[npt.NDArray[np.floating[Any]] | sp.csr_matrix, npt.NDArray[np.intp], npt.NDArray[Any]]:
    """Validate a feature matrix and its labels, and encode the labels as 0..K-1.

    Parameters
    ----------
    X : array-like of shape (n_items, n_features) or scipy sparse matrix
        Numeric features; sparse input is converted to CSR.
    y : array-like of shape (n_items,)
        Class labels of any hashable, sortable type; at least two distinct classes.

    Returns
    -------
    X : numpy.ndarray of float or scipy.sparse.csr_matrix
        The features (dense float64 or CSR).
    y_encoded : numpy.ndarray of intp
        Labels as indices into ``classes``.
    classes : numpy.ndarray
        The sorted distinct labels.
    """
    X = check_features(X)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise SimulatorInputError(
            "y",
            f"must be 1-dimensional, one label per row of X ({X.shape[0]}), got shape {y.shape}",
        )
    classes, y_encoded = encode_labels(y)
    if classes.size < 2:
        raise SimulatorInputError("y", f"needs at least two classes, found {classes.size}")
    return X, y_encoded, classes


def check_labeled(
    labeled: Any, X: npt.NDArray[np.floating[Any]] | sp.csr_matrix, classes: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.floating[Any]] | sp.csr_matrix, npt.NDArray[np.intp]]:
    """Validate items labeled before a replay, ``(X, y)``: the pool's features and some of its classes.

    Returns the features (dense or CSR, like the pool's) and the labels encoded as indices into ``classes``.
    """
    if not isinstance(labeled, tuple | list) or len(labeled) != 2:
        raise SimulatorInputError("labeled", "must be a pair (X, y) of features and labels")
    X_before = check_features(labeled[0], "labeled")
    y_before = np.asarray(labeled[1])
    if y_before.ndim != 1 or y_before.shape[0] != X_before.shape[0]:
        raise SimulatorInputError(
            "labeled", f"needs one label per row: {X_before.shape[0]} rows, y {y_before.shape}"
        )
    if X_before.shape[1] != X.shape[1]:
        raise SimulatorInputError(
            "labeled", f"has {X_before.shape[1]} feature columns but the pool has {X.shape[1]}"
        )
    unknown = np.setdiff1d(y_before, classes)
    if unknown.size:
        raise SimulatorInputError("labeled", f"has labels the pool does not: {unknown[:5].tolist()}")
    if sp.issparse(X) and not sp.issparse(X_before):
        X_before = sp.csr_matrix(X_before)
    elif sp.issparse(X_before) and not sp.issparse(X):
        X_before = np.asarray(sp.csr_matrix(X_before).todense())
    return X_before, np.searchsorted(classes, y_before).astype(np.intp)
