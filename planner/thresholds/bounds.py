"""Exact binomial bounds: the one-sided Clopper-Pearson upper bound and the sample size it needs."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from planner.errors import InvalidInputError

Array = NDArray[np.float64]


def check_open_unit(value: float, field: str) -> float:
    """``value`` as a float strictly inside (0, 1), or :class:`InvalidInputError` naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise InvalidInputError(field, f"must be a number in (0, 1), got {type(value).__name__}")
    value = float(value)
    if not 0.0 < value < 1.0:  # also rejects NaN
        raise InvalidInputError(field, f"must be in (0, 1), got {value}")
    return value


def clopper_pearson_upper(n_errors: ArrayLike, n_trials: ArrayLike, delta: float) -> Array:
    """One-sided Clopper-Pearson upper bound of a binomial proportion, vectorised.

    The exact bound ``u`` such that ``P(true rate <= u) >= 1 - delta`` whatever the true rate: the
    ``1 - delta`` quantile of ``Beta(n_errors + 1, n_trials - n_errors)``; 1 where every trial is an error
    or there is no trial. With no error it is ``1 - delta ** (1 / n_trials)``.

    Parameters
    ----------
    n_errors : errors observed (count), integers in [0, n_trials]; broadcasts against ``n_trials``.
    n_trials : trials (count), non-negative integers.
    delta : probability (in (0, 1)) that the bound is below the true rate.

    Returns
    -------
    Array
        The upper bound of the error rate (share, in [0, 1]), of the broadcast shape.

    Raises
    ------
    InvalidInputError
        naming ``n_errors``, ``n_trials`` or ``delta``.
    """
    delta = check_open_unit(delta, "delta")
    k = np.asarray(n_errors, dtype=float)
    n = np.asarray(n_trials, dtype=float)
    if not np.all(np.isfinite(n) & (n >= 0) & (n == np.round(n))):
        raise InvalidInputError("n_trials", "must be non-negative whole numbers")
    if not np.all(np.isfinite(k) & (k >= 0) & (k == np.round(k))):
        raise InvalidInputError("n_errors", "must be non-negative whole numbers")
    k, n = np.broadcast_arrays(k, n)
    if np.any(k > n):
        raise InvalidInputError("n_errors", "cannot exceed n_trials")
    some_right = k < n
    bound = stats.beta.ppf(1.0 - delta, k + 1.0, np.where(some_right, n - k, 1.0))
    return np.asarray(np.where(some_right, bound, 1.0), dtype=float)


def calibration_size_needed(max_risk: float, delta: float) -> int:
    """Fewest calibration items that can certify an error of at most ``max_risk`` with confidence 1 - delta.

    With zero errors the Clopper-Pearson bound is ``1 - delta ** (1 / n)``, at most ``max_risk`` from
    ``n >= ln(delta) / ln(1 - max_risk)``: 59 items for 5% at delta 0.05, 299 for 1%. Fewer items can
    certify nothing, even when every one of them is right; any error raises the number needed.

    Parameters
    ----------
    max_risk : the error goal (share, in (0, 1)).
    delta : the probability (in (0, 1)) that the guarantee may fail.

    Returns
    -------
    int
        The number of items (count). For the selective risk they must all be auto-accepted; for the pool
        risk it is the size of the whole sample.
    """
    max_risk = check_open_unit(max_risk, "max_risk")
    delta = check_open_unit(delta, "delta")
    n = max(1, math.ceil(math.log(delta) / math.log1p(-max_risk)))
    # agree exactly with the bound the certificate tests (floating point at the boundary)
    while n > 1 and clopper_pearson_upper(0, n - 1, delta) <= max_risk:
        n -= 1
    while clopper_pearson_upper(0, n, delta) > max_risk:
        n += 1
    return n
