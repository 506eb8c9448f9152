"""Exact binomial bounds: the one-sided Clopper-Pearson upper bound and the sample size it needs."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from annoplan.planner.errors import InvalidInputError

Array = NDArray[np.float64]

#: the largest calibration sample :func:`calibration_size_needed` answers with (count); a goal needing more
#: is refused (its float would overflow beyond; no schema lets a request come near it)
MAX_CALIBRATION_SIZE = 1e300


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
    or there is no trial. With no error it is ``1 - delta ** (1 / n_trials)``. It is computed from the upper
    tail (``isf(delta)``, not ``ppf(1 - delta)``): ``1 - delta`` rounds to 1 for ``delta`` below about 1e-16,
    where the quantile would read 1 whatever the number of trials.

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
    bound = stats.beta.isf(delta, k + 1.0, np.where(some_right, n - k, 1.0))
    return np.asarray(np.where(some_right, bound, 1.0), dtype=float)


#: widest bracket :func:`calibration_size_needed` bounds in one call (a plan's goals give about 8 sizes)
BRACKET_AT_ONCE = 64


def calibration_size_needed(max_risk: float, delta: float) -> int:
    """Fewest calibration items that can certify an error of at most ``max_risk`` with confidence 1 - delta.

    With zero errors the Clopper-Pearson bound is ``1 - delta ** (1 / n)``, at most ``max_risk`` from
    ``n >= ln(delta) / ln(1 - max_risk)``: 59 items for 5% at delta 0.05, 299 for 1%. Fewer items can
    certify nothing, even when every one of them is right; any error raises the number needed.

    The closed form gives the answer to within floating-point rounding; a bisection over the few items
    around it (a bracket of 1e-9 of the answer, at least 2 items each side) makes it agree exactly with
    :func:`clopper_pearson_upper`, the bound a certificate tests. Its time is bounded whatever the values:
    about 3 evaluations of the bound below a billion items, ``log2`` of the bracket beyond.

    Parameters
    ----------
    max_risk : the error goal (share, in (0, 1)).
    delta : the probability (in (0, 1)) that the guarantee may fail.

    Returns
    -------
    int
        The number of items (count). For the selective risk they must all be auto-accepted; for the pool
        risk it is the size of the whole sample.

    Raises
    ------
    InvalidInputError
        naming ``max_risk`` or ``delta`` outside (0, 1), or ``max_risk`` so small that no sample of up to
        :data:`MAX_CALIBRATION_SIZE` items certifies it.
    """
    max_risk = check_open_unit(max_risk, "max_risk")
    delta = check_open_unit(delta, "delta")
    exact = math.log(delta) / math.log1p(-max_risk)  # where the zero-error bound meets max_risk
    if not exact <= MAX_CALIBRATION_SIZE:
        raise InvalidInputError(
            "max_risk",
            f"is too small: certifying {max_risk:g} at delta {delta:g} takes about {exact:.3g} calibration "
            f"items, more than {MAX_CALIBRATION_SIZE:.0e}",
        )
    spread = 2 + math.ceil(exact * 1e-9)  # far wider than the rounding of ``exact`` and of the bound
    low, high = max(0, math.floor(exact) - spread), max(1, math.ceil(exact) + spread)
    if high - low <= BRACKET_AT_ONCE:
        # every size the bisection may ask about, bounded in one call (the bound is element-wise): the same
        # answers, for one call instead of about three
        sizes = np.arange(low + 1, high)
        passing = clopper_pearson_upper(0, sizes, delta) <= max_risk
        verdicts = dict(zip(sizes.tolist(), passing.tolist(), strict=True))
        return smallest_passing(verdicts.__getitem__, low, high)
    return smallest_passing(lambda n: bool(clopper_pearson_upper(0, n, delta) <= max_risk), low, high)


def smallest_passing(passes: Callable[[int], bool], low: int, high: int) -> int:
    """The smallest ``n`` in ``(low, high]`` that ``passes``, by bisection: ``low`` must fail (or be 0) and
    ``high`` pass, and failing sizes lie below passing ones. At most ``log2(high - low)`` calls."""
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if passes(mid) else (mid, high)
    return high
