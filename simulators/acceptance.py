"""Acceptance sampling of auto-accepted labels: audit each lot, deliver it only if its bound fits the budget.

The promise
-----------
A pool of ``N`` items is delivered labeled, some labels by humans (assumed right), some auto-accepted from a
model, with at most ``max_label_error * N`` wrong labels (``eps * N``, a count of items) with probability at
least ``1 - delta``, whatever the model does between rounds.

The policy
----------
Each round, the items whose model label is to be auto-accepted form a *lot* of ``m`` items. A simple random
sample of ``n`` items of the lot, drawn without replacement, is audited by humans; the ``k`` wrong labels
found are fixed. From ``k`` an exact one-sided upper confidence bound ``D_upper`` on ``D``, the number of
wrong labels in the whole lot (sampled ones included), is computed at confidence ``1 - delta_j``
(:func:`wrong_upper_bound`); ``D_upper - k`` bounds the wrong labels *left* in the lot after the fixes
(:func:`wrong_left_bound`). The lot is delivered only if that bound fits in the lot's share of the error
budget left (:func:`lot_allowance`, :func:`lot_passes`). A lot that fails is not delivered: the caller sends
it back (to humans, or to a later lot, which is then a new lot with its own ``delta_j``). The audit size is
planned before the sample is drawn from an expected error rate (:func:`audit_sample_size`); a wrong guess
costs lots rejected or audits larger than needed, never the guarantee.

Why it holds
------------
*Conditional on the lot.* Once a lot is formed, ``m`` and ``D`` are fixed numbers and the number of wrong
labels in a simple random sample of ``n`` of its items is hypergeometric, ``k ~ Hypergeometric(m, D, n)``.
``D_upper`` is the largest ``D'`` in ``[k, m - (n - k)]`` whose cumulative probability
``P(X <= k | D')`` exceeds ``delta_j``. That probability is non-increasing in ``D'``, so ``D_upper < D``
exactly when ``P(X <= k | D) <= delta_j``, which happens with probability at most ``delta_j`` (the
cumulative distribution function of a discrete variable, evaluated at the variable, is at most ``delta_j``
with probability at most ``delta_j``). No distributional assumption is made on the labels: only the
sample's randomness is used. So the bound is valid *whatever chose the lot* (which items, how many, which
model, which threshold, and the sample size ``n``), provided all of that is fixed before the lot's sample is
drawn, and the sample is drawn uniformly at random from the lot.

*Over every lot.* The ``j``-th lot ever formed (``j = 1, 2, ...``) uses ``delta_j = delta * 6 / (pi^2 j^2)``
(:func:`lot_delta`), whose sum over all ``j`` is ``delta`` (``sum 1 / j^2 = pi^2 / 6``). By the union bound,
with probability at least ``1 - delta`` every lot's bound holds at once, however many lots are formed and
however their number and sizes depend on earlier outcomes (each term is bounded conditional on the history
up to the lot's sample). On that event, the wrong labels delivered, all in accepted lots, are at most the
sum of the accepted lots' bounds on wrong labels left, which the spending rule keeps within ``eps * N``.

*The spending sequence.* The budget starts at ``eps * N`` wrong labels (an integer count: wrong labels
are whole items, so ``floor(eps * N)`` loses nothing). A lot of ``m`` items, formed while ``U`` items are
still undelivered (the lot included), may use ``floor(budget_left * m / U)`` (:func:`lot_allowance`). After
an accepted lot the caller subtracts its *bound on wrong labels left* (not its allowance: an unused part
passes on to later lots); a rejected lot subtracts nothing. Human-labeled items carry no wrong label, so
their share of the budget also passes on. The allowance never exceeds the budget left (``m <= U``), so the
sum of the accepted lots' bounds never exceeds ``eps * N``.

References
----------
- ISO 2859-1, *Sampling procedures for inspection by attributes* (and its US counterpart ANSI/ASQ Z1.4):
  the industry's frame of lot-by-lot acceptance sampling. This module is an attributes plan whose
  acceptance number comes from an exact hypergeometric confidence bound at a per-lot confidence level
  rather than from the AQL tables.
- C. J. Clopper and E. S. Pearson (1934), "The use of confidence or fiducial limits illustrated in the case
  of the binomial", *Biometrika* 26: the same inversion of a cumulative distribution, for sampling with
  replacement; the hypergeometric bound here is its finite-population (without replacement) counterpart.
  In our checks it was never looser than the Clopper-Pearson bound of the rate scaled to the lot, and
  mostly tighter (the sample removes its items from the unknown part of a finite lot).
- A. N. Angelopoulos, S. Bates, E. J. Candès, M. I. Jordan and L. Lei (2021), "Learn then Test:
  calibrating predictive algorithms to achieve risk control": kin, testing a risk with exact binomial tails
  and a family-wise error control across many hypotheses.

All functions are pure and vectorised: every argument broadcasts against the others (numpy rules), scalars
give 0-d arrays. Counts may be given as integers or as whole-valued floats, up to ``2**53``. The
hypergeometric distribution function is compared with the level as ``scipy.stats.hypergeom.cdf`` would be,
at a cost that grows with the spread of the tail rather than with the lot size (see
:func:`wrong_upper_bound`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import binom, hypergeom

from annoplan.simulators.errors import SimulatorInputError

__all__ = [
    "SamplingPlan",
    "acceptance_number",
    "audit_sample_size",
    "error_budget",
    "expected_wrong_in_sample",
    "lot_allowance",
    "lot_delta",
    "lot_passes",
    "planning_rate",
    "sampling_plan",
    "wrong_left_bound",
    "wrong_upper_bound",
]

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: the largest count (items) accepted: every count up to it is exact in float64, and bisections over
#: ``[0, MAX_COUNT]`` take at most 54 steps
MAX_COUNT = 2**53

#: relative slack under which ``expected_rate * sample_size`` counts as a whole number (float rounding)
_WHOLE_SLACK = 1e-12

#: terms of a hypergeometric tail summed per vectorised block (most elements are decided by the first,
#: short blocks); elements still undecided after them (2,040 terms) go to ``scipy.stats.hypergeom.cdf``
#: (exact, but slow for large lots)
_TAIL_BLOCKS = (8, 16, 32, 64, 128, 256, 512, 512, 512)

#: a tail whose remainder is below this share of its sum is summed (relative rounding of the terms)
_TAIL_CONVERGED = 1e-13

#: relative slack of the comparison with the level, in the bound's favour: an exact tie, or a cumulative
#: probability that rounding put a hair below the level, counts as plausible (the bound is then larger).
#: The masses are accurate to about 1e-10 (relative) for lots up to a million items.
_LEVEL_SLACK = 1e-9

#: a probability mass below this is negligible against any level above ``_TINY_LEVEL`` (the tail it starts
#: holds at most 2**53 smaller terms); below ``_TINY_LEVEL``, scipy decides
_NEGLIGIBLE_MASS = 1e-280
_TINY_LEVEL = 1e-250


def _broadcast_shape(named_shapes: list[tuple[str, tuple[int, ...]]]) -> tuple[int, ...]:
    """The common shape of the arrays, or :class:`SimulatorInputError` naming the first that does not fit."""
    shape: tuple[int, ...] = ()
    for field, field_shape in named_shapes:
        try:
            shape = np.broadcast_shapes(shape, field_shape)
        except ValueError:
            raise SimulatorInputError(
                field, f"shape {field_shape} does not broadcast with the other arguments' shape {shape}"
            ) from None
    return shape


def _numeric_array(value: Any, field: str) -> npt.NDArray[Any]:
    """``value`` as a numeric (not boolean) array, or :class:`SimulatorInputError` naming ``field``."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise SimulatorInputError(field, f"must be numbers: {exc}") from None
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise SimulatorInputError(field, f"must be numbers, got {array.dtype} values")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise SimulatorInputError(field, "must be real numbers")
    return array


def _counts(value: Any, field: str, minimum: int = 0) -> CountArray:
    """Whole numbers in ``[minimum, MAX_COUNT]`` as int64, or :class:`SimulatorInputError` naming
    ``field``."""
    array = _numeric_array(value, field)
    as_float = array.astype(np.float64)
    whole = np.isfinite(as_float) & (as_float == np.round(as_float))
    if not np.all(whole & (as_float >= minimum) & (as_float <= MAX_COUNT)):
        raise SimulatorInputError(field, f"must be whole numbers in [{minimum}, 2**53]")
    return array.astype(np.int64)


def _probabilities(value: Any, field: str, *, open_interval: bool) -> FloatArray:
    """Numbers in (0, 1) (``open_interval``) or [0, 1] as float64, or an error naming ``field``."""
    array = _numeric_array(value, field).astype(np.float64)
    if open_interval:
        inside = (array > 0.0) & (array < 1.0)
        interval = "(0, 1)"
    else:
        inside = (array >= 0.0) & (array <= 1.0)
        interval = "[0, 1]"
    if not np.all(inside):  # NaN fails both comparisons
        raise SimulatorInputError(field, f"must be in {interval}")
    return array


def _non_negative(value: Any, field: str) -> FloatArray:
    """Finite numbers >= 0 as float64, or :class:`SimulatorInputError` naming ``field``."""
    array = _numeric_array(value, field).astype(np.float64)
    if not np.all(np.isfinite(array) & (array >= 0.0)):
        raise SimulatorInputError(field, "must be finite numbers >= 0")
    return array


def _bisection_steps(width: CountArray) -> int:
    """Steps that shrink integer intervals of ``width`` (high - low) to a point: bit length of the widest."""
    return int(np.max(width, initial=0)).bit_length()


#: most midpoints tested in one call when a bisection looks ahead (:func:`_bisect`): a plan's audit searches
#: one lot at a time, and testing 30 midpoints at once costs about what testing one does
_LOOKAHEAD_TESTS = 64


def _bisect(
    low: CountArray,
    high: CountArray,
    upper: bool,
    test: Callable[[npt.NDArray[np.intp], CountArray], BoolArray],
) -> CountArray:
    """Integer bisection of each element's ``[low, high]`` (1-D arrays) to a point; returns the points.

    ``upper`` False: ``mid = (lo + hi) // 2``; ``test`` true keeps ``[lo, mid]``, false ``[mid + 1, hi]``.
    ``upper`` True: ``mid = (lo + hi + 1) // 2``; ``test`` true keeps ``[mid, hi]``, false ``[lo, mid - 1]``.
    ``test(elements, mids)`` decides each of ``elements`` (indices into the searched arrays; they may repeat)
    at its ``mid``, each element from its own arguments only. Every step at least halves an interval, so
    ``bit_length(high - low)`` steps close it.

    The steps down from an interval form a binary tree of midpoints. Where few elements are open, the
    midpoints of the next few levels (about :data:`_LOOKAHEAD_TESTS` in all) are tested in one call and the
    steps walk down that tree: the decisions, hence the points, are those of one test per step, for a
    fraction of the calls (for a handful of elements a test costs mostly its call). With many elements
    open it tests one level at a time, as a plain bisection does.
    """
    low, high = low.copy(), high.copy()
    while True:
        open_ = np.flatnonzero(low < high)
        if open_.size == 0:
            return low
        steps = _bisection_steps(high[open_] - low[open_])
        most = max(1, int(math.log2(_LOOKAHEAD_TESTS / open_.size + 1.0)))
        depth = math.ceil(steps / math.ceil(steps / most))  # the steps in even rounds of lookahead
        # the tree as a heap, one row per element: node i's children are 2i + 1 (test false) and 2i + 2
        # (true); a closed interval has no midpoint to test, and both its children are itself
        nodes = 2 ** (depth + 1) - 1
        lo, hi = np.empty((open_.size, nodes), np.int64), np.empty((open_.size, nodes), np.int64)
        lo[:, 0], hi[:, 0] = low[open_], high[open_]
        inner = nodes // 2  # the nodes above the last level
        mid = np.empty((open_.size, inner), np.int64)
        for level in range(depth):
            at = slice(2**level - 1, 2 ** (level + 1) - 1)
            false, true = (
                slice(2 * at.start + 1, 2 * at.stop + 1, 2),
                slice(2 * at.start + 2, 2 * at.stop + 2, 2),
            )
            a, b = lo[:, at], hi[:, at]
            m = mid[:, at] = (a + b + 1) // 2 if upper else (a + b) // 2
            shut = a >= b
            if upper:
                lo[:, false], hi[:, false] = a, np.where(shut, b, m - 1)
                lo[:, true], hi[:, true] = np.where(shut, a, m), b
            else:
                lo[:, false], hi[:, false] = np.where(shut, a, m + 1), b
                lo[:, true], hi[:, true] = a, np.where(shut, b, m)
        live = lo[:, :inner] < hi[:, :inner]
        element, node = np.nonzero(live)
        decided = np.zeros((open_.size, inner), dtype=bool)
        decided[element, node] = test(open_[element], mid[element, node])  # every midpoint, in one call
        rows, leaf = np.arange(open_.size), np.zeros(open_.size, dtype=np.intp)
        for _ in range(depth):
            leaf = 2 * leaf + 1 + decided[rows, leaf]
        low[open_], high[open_] = lo[rows, leaf], hi[rows, leaf]


def lot_delta(lot_number: Any, delta: Any) -> FloatArray:
    """Confidence level spent on the ``j``-th lot formed: ``delta * 6 / (pi^2 j^2)``.

    The levels sum to ``delta`` over ``j = 1, 2, ...``, so the bounds of any number of lots hold all at once
    with probability at least ``1 - delta`` (union bound). The first lot gets ``0.61 * delta``, the tenth
    ``0.0061 * delta``: early lots are audited with smaller samples than later ones.

    Parameters
    ----------
    lot_number : array-like of int
        ``j``, the rank of the lot among all lots ever formed for the promise (count, >= 1), counting
        rejected lots too.
    delta : array-like of float
        Probability, in (0, 1), that the promise may fail, over all lots.

    Returns
    -------
    numpy.ndarray of float64
        ``delta_j`` (probability), of the broadcast shape.

    Raises
    ------
    SimulatorInputError
        naming ``lot_number`` or ``delta``.
    """
    lot = _counts(lot_number, "lot_number", minimum=1)
    level = _probabilities(delta, "delta", open_interval=True)
    _broadcast_shape([("lot_number", lot.shape), ("delta", level.shape)])
    return np.asarray(level * 6.0 / (math.pi**2 * lot.astype(np.float64) ** 2), dtype=np.float64)


def _hypergeometric_mass(
    k: FloatArray, lot: FloatArray, wrong: FloatArray, sampled: FloatArray
) -> FloatArray:
    """``P(X = k)`` for ``X ~ Hypergeometric(lot, wrong, sampled)``, from three binomial masses.

    ``binom(k; wrong, p) binom(sampled - k; lot - wrong, p) / binom(sampled; lot, p)`` with
    ``p = sampled / lot``, as R's ``dhyper`` computes it: each binomial mass is accurate to a few ulps
    for large counts, where differences of log-gamma functions lose digits, and the denominator is not small.
    """
    share = sampled / lot
    return np.asarray(
        _binomial_mass(k, wrong, share)
        * _binomial_mass(sampled - k, lot - wrong, share)
        / _binomial_mass(sampled, lot, share),
        dtype=np.float64,
    )


def _binomial_mass(k: FloatArray, n: FloatArray, p: FloatArray) -> FloatArray:
    """``scipy.stats.binom.pmf(k, n, p)``, the same numbers: where every element is in the support (whole
    ``0 <= k <= n``, ``0 <= p <= 1``), scipy's own mass function clipped to [0, 1] as ``pmf`` clips it,
    without ``pmf``'s generic argument handling (a tenth of a millisecond a call, and an audit plan's
    bisections make hundreds of scalar calls); anything else goes to ``pmf``."""
    inside = (k >= 0) & (k <= n) & (np.floor(k) == k) & (n == np.round(n)) & (p >= 0) & (p <= 1)
    if not np.all(inside):
        return np.asarray(binom.pmf(k, n, p), dtype=np.float64)
    return np.asarray(np.clip(binom._pmf(k, n, p), 0.0, 1.0), dtype=np.float64)


def _step_down_ratio(at: FloatArray, lot: FloatArray, wrong: FloatArray, sampled: FloatArray) -> FloatArray:
    """``P(X = at - 1) / P(X = at)`` for ``X ~ Hypergeometric(lot, wrong, sampled)``, 0 below the support.

    It decreases as ``at`` decreases, so past any term a geometric series of the latest ratio bounds the
    rest of the lower tail. Its denominator is >= 1 for ``at <= min(wrong, sampled)``.
    """
    ratio = at * (lot - wrong - sampled + at) / ((wrong - at + 1.0) * (sampled - at + 1.0))
    return np.maximum(ratio, 0.0)


def _cdf_exceeds(
    k: CountArray, lot: CountArray, wrong: CountArray, sampled: CountArray, level: FloatArray
) -> BoolArray:
    """Whether ``P(X <= k) > level`` for ``X ~ Hypergeometric(lot, wrong, sampled)``, vectorised (1-D).

    Gives what ``scipy.stats.hypergeom.cdf(k, lot, wrong, sampled) > level`` gives, with the tie rule of
    ``_LEVEL_SLACK``, faster for large lots (scipy's cost grows with the lot size). A lower tail is
    summed directly: ``P(X <= k)`` when ``k`` is below the mean; above it, ``1 - P(Y <= sampled - k - 1)``
    for the right labels in the sample, ``Y = sampled - X ~ Hypergeometric(lot, lot - wrong, sampled)``.
    The tail is the mass at its top (:func:`_hypergeometric_mass`) times a sum of products of the ratios
    of :func:`_step_down_ratio`, taken in blocks of terms; after each block the tail lies between its
    partial sum and that sum plus a geometric bound of the rest, and an element is decided as soon as that
    bracket lies on one side of the level, or once the rest is negligible (``_TAIL_CONVERGED``). Elements
    undecided after the blocks, and those whose mass underflows against a tiny level, go to scipy.
    ``k`` must lie in the support (``k <= wrong`` and ``sampled - k <= lot - wrong``).
    """
    exceeds = np.ones(k.shape, dtype=bool)  # P(X <= k) = 1 at the top of the support
    open_ = np.flatnonzero(k < np.minimum(wrong, sampled))
    if open_.size == 0:
        return exceeds
    at, m, d, n = (np.asarray(a[open_], dtype=np.float64) for a in (k, lot, wrong, sampled))
    alpha = level[open_] * (1.0 - _LEVEL_SLACK)
    direct = at * m < n * d  # k below the mean: the lower tail of X, else the complement of Y's
    top = np.where(direct, at, n - at - 1.0)
    wrong_or_right = np.where(direct, d, m - d)
    mass = _hypergeometric_mass(top, m, wrong_or_right, n)
    # the tail, P(X <= k) or P(Y <= sampled - k - 1), lies in [mass * total, mass * (total + rest)]
    total = np.ones(open_.size)  # in units of the mass at the top
    last = np.ones(open_.size)  # the latest term summed, in the same units
    decided = np.zeros(open_.size, dtype=bool)
    decision = ~direct  # what a negligible tail decides: P(X <= k) is ~0 (direct) or ~1 (complement)
    negligible = mass < _NEGLIGIBLE_MASS
    to_scipy = negligible & direct & (alpha <= _TINY_LEVEL)
    decided |= negligible
    done = 0
    for size in _TAIL_BLOCKS:
        live = np.flatnonzero(~decided)
        if live.size == 0:
            break
        args = (m[live, None], wrong_or_right[live, None], n[live, None])
        ratios = _step_down_ratio(top[live, None] - (done + np.arange(size + 1.0)), *args)
        terms = last[live, None] * np.cumprod(ratios[:, :-1], axis=1)
        total[live] += terms.sum(axis=1)
        last[live] = terms[:, -1]
        done += size
        ratio = ratios[:, -1]  # from the latest term to the next: it bounds all later ratios
        shrinking = ratio < 1.0
        rest = np.where(shrinking, last[live] * ratio / np.where(shrinking, 1.0 - ratio, 1.0), np.inf)
        tail_low, tail_high = mass[live] * total[live], mass[live] * (total[live] + rest)
        converged = rest <= _TAIL_CONVERGED * total[live]
        tail_high = np.where(converged, tail_low, tail_high)
        a, is_direct = alpha[live], direct[live]
        above = np.where(is_direct, tail_low > a, tail_high < 1.0 - a)
        below = np.where(is_direct, tail_high <= a, tail_low >= 1.0 - a)
        decided[live] = above | below
        decision[live] = above
    rest_open = np.flatnonzero(~decided | to_scipy)
    if rest_open.size:
        index = open_[rest_open]
        exact = hypergeom.cdf(k[index], lot[index], wrong[index], sampled[index])
        decision[rest_open] = exact > alpha[rest_open]
    exceeds[open_] = decision
    return exceeds


def _upper_bound(k: CountArray, n: CountArray, m: CountArray, delta: FloatArray) -> CountArray:
    """:func:`wrong_upper_bound` on checked arrays of one shape: bisection on ``D`` in ``[k, m - (n - k)]``.

    Invariant: ``P(X <= k | low) > delta`` (true at ``low = k``, where the probability is 1) and every
    ``D > high`` fails; the search interval halves at each step, only its unfinished elements are evaluated.
    """
    shape = np.shape(k)
    seen_wrong, sampled, lot, level = np.ravel(k), np.ravel(n), np.ravel(m), np.ravel(delta)

    def plausible(rows: npt.NDArray[np.intp], mid: CountArray) -> BoolArray:
        return _cdf_exceeds(seen_wrong[rows], lot[rows], mid, sampled[rows], level[rows])

    low = _bisect(seen_wrong, lot - (sampled - seen_wrong), True, plausible)
    return low.reshape(shape)


def _left_within(
    k: CountArray, n: CountArray, m: CountArray, allowance: FloatArray, level: FloatArray
) -> BoolArray:
    """Whether ``_upper_bound(k, n, m, level) - k <= allowance`` (1-D arrays), by one evaluation.

    The bound on wrong labels left is at most ``a = floor(allowance)`` exactly when ``D = k + a + 1`` is not
    plausible (``P(X <= k | D) <= level``), the cumulative probability being non-increasing in ``D``; or
    when that ``D`` exceeds the largest count the sample allows, ``m - (n - k)``.
    """
    most = m - (n - k)
    first_excluded = k + np.minimum(np.floor(allowance), m).astype(np.int64) + 1
    within = first_excluded > most
    check = np.flatnonzero(~within)
    within[check] = ~_cdf_exceeds(k[check], m[check], first_excluded[check], n[check], level[check])
    return within


def _checked_sample(
    n_wrong: Any, sample_size: Any, lot_size: Any, delta: Any
) -> tuple[CountArray, CountArray, CountArray, FloatArray]:
    """Check an audit's counts and level and broadcast them to one shape (read-only views)."""
    k = _counts(n_wrong, "n_wrong")
    n = _counts(sample_size, "sample_size")
    m = _counts(lot_size, "lot_size")
    level = _probabilities(delta, "delta", open_interval=True)
    shape = _broadcast_shape(
        [("n_wrong", k.shape), ("sample_size", n.shape), ("lot_size", m.shape), ("delta", level.shape)]
    )
    k, n, m = (np.broadcast_to(a, shape) for a in (k, n, m))
    level = np.broadcast_to(level, shape)
    if np.any(n > m):
        raise SimulatorInputError("sample_size", "cannot exceed lot_size")
    if np.any(k > n):
        raise SimulatorInputError("n_wrong", "cannot exceed sample_size")
    return k, n, m, level


def wrong_upper_bound(n_wrong: Any, sample_size: Any, lot_size: Any, delta: Any) -> CountArray:
    """Exact upper confidence bound on the wrong labels in a lot, from a random sample of it.

    The largest integer ``D`` in ``[k, m - (n - k)]`` with ``hypergeom.cdf(k, m, D, n) > delta``, i.e.
    ``P(X <= k) > delta`` for ``X`` the wrong labels in a simple random sample of ``n`` of ``m`` items
    (drawn without replacement) of which ``D`` are wrong. For every true ``D``,
    ``P(bound < D) <= delta``: see the module docstring. The whole lot seen (``n == m``) gives ``k``; an
    empty sample gives ``m``; an all-wrong sample (``k == n``) gives ``m``.

    Parameters
    ----------
    n_wrong : array-like of int
        ``k``, wrong labels found in the sample (count, in [0, sample_size]).
    sample_size : array-like of int
        ``n``, items audited, drawn uniformly without replacement from the lot (count, in [0, lot_size]).
    lot_size : array-like of int
        ``m``, items in the lot (count, >= 0).
    delta : array-like of float
        Probability, in (0, 1), that the bound is below the truth (e.g. :func:`lot_delta`).

    Returns
    -------
    numpy.ndarray of int64
        The bound on ``D``, wrong labels in the whole lot before the fixes (count), of the broadcast shape.

    Raises
    ------
    SimulatorInputError
        naming ``n_wrong``, ``sample_size``, ``lot_size`` or ``delta``.

    Notes
    -----
    A bisection on integers, vectorised: ``ceil(log2(m - n + 1))`` steps for the widest interval (at most
    54), each deciding ``P(X <= k) > delta`` on the unfinished elements. The decision is the one
    ``scipy.stats.hypergeom.cdf`` gives, computed from the mass at ``k`` and a bracketed sum of its tail
    (scipy's own cost grows with the lot size; this one with the tail's spread), scipy deciding what the
    bracket leaves open. A cumulative probability within a relative ``1e-9`` of ``delta`` counts as above
    it: ties and rounding make the bound larger, never smaller.
    """
    return _upper_bound(*_checked_sample(n_wrong, sample_size, lot_size, delta))


def wrong_left_bound(n_wrong: Any, sample_size: Any, lot_size: Any, delta: Any) -> CountArray:
    """Upper confidence bound on the wrong labels left in a lot once the sampled wrong ones are fixed.

    ``wrong_upper_bound(...) - n_wrong``: the ``k`` wrong labels found are corrected, the rest of the lot is
    delivered as it is. Holds with probability at least ``1 - delta``, like :func:`wrong_upper_bound`.

    Parameters
    ----------
    n_wrong, sample_size, lot_size, delta
        As in :func:`wrong_upper_bound`.

    Returns
    -------
    numpy.ndarray of int64
        The bound on wrong labels left among the ``m - n`` unaudited items (count, in [0, m - n]).

    Raises
    ------
    SimulatorInputError
        naming ``n_wrong``, ``sample_size``, ``lot_size`` or ``delta``.
    """
    k, n, m, level = _checked_sample(n_wrong, sample_size, lot_size, delta)
    return np.asarray(_upper_bound(k, n, m, level) - k, dtype=np.int64)


def lot_passes(n_wrong: Any, sample_size: Any, lot_size: Any, allowed_wrong: Any, delta: Any) -> BoolArray:
    """Whether an audited lot may be delivered: its bound on wrong labels left fits its allowance.

    Parameters
    ----------
    n_wrong, sample_size, lot_size, delta
        As in :func:`wrong_upper_bound`.
    allowed_wrong : array-like of float
        The lot's share of the error budget (count of wrong labels, >= 0; e.g. :func:`lot_allowance`).

    Returns
    -------
    numpy.ndarray of bool
        True where ``wrong_left_bound(...) <= allowed_wrong``, of the broadcast shape.

    Raises
    ------
    SimulatorInputError
        naming ``n_wrong``, ``sample_size``, ``lot_size``, ``allowed_wrong`` or ``delta``.
    """
    allowance = _non_negative(allowed_wrong, "allowed_wrong")
    k, n, m, level = _checked_sample(n_wrong, sample_size, lot_size, delta)
    _broadcast_shape([("lot", k.shape), ("allowed_wrong", allowance.shape)])
    return np.asarray(_upper_bound(k, n, m, level) - k <= allowance)


def acceptance_number(sample_size: Any, lot_size: Any, allowed_wrong: Any, delta: Any) -> CountArray:
    """The most wrong labels an audit of ``n`` items may find for the lot to pass: the ``c`` of a single
    sampling plan ``(n, c)``.

    The largest ``k`` in ``[0, n]`` with :func:`lot_passes` true, or ``-1`` when even a clean sample fails
    (the lot can then only pass by auditing all of it). Passing is monotone in ``k`` (more wrong labels
    found never lowers the bound on those left), so an operator who finds ``k <= c`` wrong labels
    delivers the lot, and :func:`lot_passes` agrees.

    Parameters
    ----------
    sample_size, lot_size, delta
        As in :func:`wrong_upper_bound`.
    allowed_wrong : array-like of float
        The lot's share of the error budget (count of wrong labels, >= 0; e.g. :func:`lot_allowance`).

    Returns
    -------
    numpy.ndarray of int64
        ``c`` (count, in [-1, n]), of the broadcast shape.

    Raises
    ------
    SimulatorInputError
        naming ``sample_size``, ``lot_size``, ``allowed_wrong`` or ``delta``.
    """
    allowed = _non_negative(allowed_wrong, "allowed_wrong")
    _, sampled, lot, levels = _checked_sample(0, sample_size, lot_size, delta)
    shape = _broadcast_shape([("lot", sampled.shape), ("allowed_wrong", allowed.shape)])
    n_b, m = (np.ravel(np.broadcast_to(a, shape)) for a in (sampled, lot))
    level, allowance = (np.ravel(np.broadcast_to(a, shape)) for a in (levels, allowed))

    def passes(rows: npt.NDArray[np.intp], mid: CountArray) -> BoolArray:
        return _left_within(mid, n_b[rows], m[rows], allowance[rows], level[rows])

    # invariant: low passes (-1: nothing does), above high fails
    low = _bisect(np.full(n_b.shape, -1, dtype=np.int64), n_b.astype(np.int64), True, passes)
    return low.reshape(shape)


def expected_wrong_in_sample(sample_size: Any, expected_rate: Any) -> CountArray:
    """Wrong labels an audit plan expects in a sample: ``ceil(expected_rate * sample_size)``.

    Rounded up, so that a plan sized for it tolerates the expected rate. A product within a relative
    ``1e-12`` above a whole number counts as that number (``0.1 * 30`` is ``3``, not ``4``).

    Parameters
    ----------
    sample_size : array-like of int
        Items audited (count, >= 0).
    expected_rate : array-like of float
        Expected share of wrong labels in the lot (share, in [0, 1]).

    Returns
    -------
    numpy.ndarray of int64
        Expected wrong labels in the sample (count, in [0, sample_size]), of the broadcast shape.

    Raises
    ------
    SimulatorInputError
        naming ``sample_size`` or ``expected_rate``.
    """
    n = _counts(sample_size, "sample_size")
    rate = _probabilities(expected_rate, "expected_rate", open_interval=False)
    _broadcast_shape([("sample_size", n.shape), ("expected_rate", rate.shape)])
    return _expected_wrong(n, rate)


def _expected_wrong(n: CountArray, rate: FloatArray) -> CountArray:
    """:func:`expected_wrong_in_sample` on checked arrays."""
    expected = np.ceil(rate * n * (1.0 - _WHOLE_SLACK)).astype(np.int64)
    return np.asarray(np.clip(expected, 0, n), dtype=np.int64)


def audit_sample_size(
    lot_size: Any, allowed_wrong: Any, expected_rate: Any, delta: Any, min_size: Any = 0
) -> CountArray:
    """Items to audit in a lot so that it passes if its sample shows the expected share of wrong labels.

    The smallest ``n`` in ``[min(min_size, m), m]`` such that a sample of ``n`` items holding
    ``k = ceil(expected_rate * n)`` wrong labels (:func:`expected_wrong_in_sample`) passes
    (:func:`lot_passes`: bound on wrong labels left ``<= allowed_wrong``). Auditing the whole lot always
    passes (nothing is left unseen), so ``m`` is the answer when no smaller ``n`` passes. A ``min_size``
    above the lot size audits the whole lot.

    Parameters
    ----------
    lot_size : array-like of int
        ``m``, items in the lot (count, >= 0).
    allowed_wrong : array-like of float
        The lot's share of the error budget (count of wrong labels, >= 0; e.g. :func:`lot_allowance`).
    expected_rate : array-like of float
        Expected share of wrong labels in the lot (share, in [0, 1]). A guess: too low a guess makes the lot
        likely to fail, too high a guess audits more than needed; neither affects the guarantee.
    delta : array-like of float
        Probability, in (0, 1), of the lot's bound (e.g. :func:`lot_delta`).
    min_size : array-like of int, default 0
        Fewest items to audit (count, >= 0).

    Returns
    -------
    numpy.ndarray of int64
        ``n``, items to audit (count, in [min(min_size, m), m]), of the broadcast shape. The returned ``n``
        always passes at its own expected ``k``.

    Raises
    ------
    SimulatorInputError
        naming ``lot_size``, ``allowed_wrong``, ``expected_rate``, ``delta`` or ``min_size``.

    Notes
    -----
    A bisection on ``n``, vectorised, each step testing a pass with one evaluation of the hypergeometric
    distribution function (the bound on wrong labels left is at most ``a`` exactly when ``k + a + 1`` wrong
    labels are implausible). Passing is monotone in ``n`` for a fixed ``k``, but the expected ``k`` jumps by
    one at each multiple of ``1 / expected_rate``, so passing is not exactly monotone in ``n``: an ``n``
    just below a jump can pass while larger ones, just above it, fail. The result is then a local minimum,
    a passing ``n`` whose ``n - 1`` fails (unless ``n`` is ``min(min_size, m)``), not always the smallest
    passing ``n``; in our checks it was within ``3 / expected_rate`` items of it. With
    ``expected_rate = 0`` passing is monotone and the result is the smallest. The returned ``n`` is
    confirmed with the bound :func:`lot_passes` uses (``m`` if the two ever disagreed, which only rounding
    could cause).
    """
    m = _counts(lot_size, "lot_size")
    allowance = _non_negative(allowed_wrong, "allowed_wrong")
    rate = _probabilities(expected_rate, "expected_rate", open_interval=False)
    level = _probabilities(delta, "delta", open_interval=True)
    least = _counts(min_size, "min_size")
    shape = _broadcast_shape(
        [
            ("lot_size", m.shape),
            ("allowed_wrong", allowance.shape),
            ("expected_rate", rate.shape),
            ("delta", level.shape),
            ("min_size", least.shape),
        ]
    )
    m, least = (np.ravel(np.broadcast_to(a, shape)) for a in (m, least))
    allowance, rate, level = (np.ravel(np.broadcast_to(a, shape)) for a in (allowance, rate, level))

    def passes(rows: npt.NDArray[np.intp], mid: CountArray) -> BoolArray:
        return _left_within(_expected_wrong(mid, rate[rows]), mid, m[rows], allowance[rows], level[rows])

    high = _bisect(np.minimum(least, m), m, False, passes)  # the whole lot always passes
    k = _expected_wrong(high, rate)
    confirmed = _upper_bound(k, high, m, level) - k <= allowance  # as lot_passes decides
    return np.where(confirmed, high, m).reshape(shape)


def error_budget(max_label_error: float, pool_size: int) -> int:
    """Wrong labels the delivered pool may hold: ``floor(max_label_error * pool_size)`` (count), a product
    within float rounding of a whole number counting as it (``0.05 * 400`` is ``20``, not ``19``)."""
    return math.floor(max_label_error * pool_size * (1.0 + _WHOLE_SLACK))


def lot_allowance(budget_left: Any, lot_size: Any, undelivered: Any) -> CountArray:
    """A lot's share of the error budget left: ``floor(budget_left * lot_size / undelivered)``.

    Proportional spending: each item not yet delivered may carry ``budget_left / undelivered`` wrong labels.
    Human-labeled items carry none, so their share stays in ``budget_left`` and passes on to later lots; so
    does the part of an accepted lot's allowance its bound did not use, when the caller subtracts the lot's
    bound on wrong labels left (:func:`wrong_left_bound`), not its allowance, from ``budget_left``. A rejected
    lot is not delivered and spends nothing. Since ``lot_size <= undelivered``, an allowance never exceeds the
    budget left, so the accepted lots' bounds add up to at most the starting budget.

    Parameters
    ----------
    budget_left : array-like of float
        Wrong labels still allowed in what remains to deliver (count, >= 0): ``floor(eps * N)`` at the start,
        less the bounds of the lots delivered since.
    lot_size : array-like of int
        Items in the lot (count, >= 0).
    undelivered : array-like of int
        Items of the pool not yet delivered, the lot included (count, >= lot_size); 0 only with an empty lot.

    Returns
    -------
    numpy.ndarray of int64
        The lot's allowance (count of wrong labels, >= 0), of the broadcast shape; 0 for an empty lot.

    Raises
    ------
    SimulatorInputError
        naming ``budget_left``, ``lot_size`` or ``undelivered``.
    """
    budget = _non_negative(budget_left, "budget_left")
    m = _counts(lot_size, "lot_size")
    left = _counts(undelivered, "undelivered")
    _broadcast_shape([("budget_left", budget.shape), ("lot_size", m.shape), ("undelivered", left.shape)])
    if np.any(m > left):
        raise SimulatorInputError("undelivered", "cannot be smaller than lot_size (the lot is undelivered)")
    # floor_divide is exact for the whole-valued product, where a rounded quotient could land on an integer
    share = np.floor_divide(budget * m, np.maximum(left, 1))
    return np.asarray(np.where(m == 0, 0, share), dtype=np.int64)


#: standard normal quantile of the headroom an audit is sized with: a lot at its expected error rate passes
#: with probability about 0.9 (the producer's risk of an acceptance plan, 10%)
PASS_Z = 1.2816


def planning_rate(expected_rate: Any, sample_size: Any) -> FloatArray:
    """The error rate to size an audit for, so that a lot at ``expected_rate`` passes about 90% of the time.

    A sample sized for exactly the expected share of wrong labels fails about half the time at that share
    (the count found exceeds its expectation half the time). Sizing it for the expected rate plus
    :data:`PASS_Z` binomial standard errors of a sample of ``sample_size`` items (the size the expected rate
    alone needs), plus one item, gives the headroom. Used twice: ``n0 = audit_sample_size(m, a, r, d)``, then
    ``audit_sample_size(m, a, planning_rate(r, n0), d)``.

    Parameters
    ----------
    expected_rate : array-like of float
        Expected share of wrong labels in the lot (share, in [0, 1]).
    sample_size : array-like of int
        The audit size the expected rate alone needs (count, >= 0).

    Returns
    -------
    numpy.ndarray of float64
        The rate to size the audit for (share, in [0, 1]).
    """
    rate = _probabilities(expected_rate, "expected_rate", open_interval=False)
    return planning_rate_unchecked(rate, _non_negative(sample_size, "sample_size"))


def planning_rate_unchecked(
    expected_rate: FloatArray, sample_size: FloatArray, variance: FloatArray | None = None
) -> FloatArray:
    """:func:`planning_rate` without its input checks, for a Monte Carlo's inner loop (arrays of valid
    shares and counts); ``variance``: ``expected_rate * (1 - expected_rate)``, where the caller has it."""
    n = np.maximum(sample_size, 1.0)
    rate = expected_rate
    spread = rate * (1.0 - rate) if variance is None else variance
    return np.asarray(np.minimum(rate + PASS_Z * np.sqrt(spread / n) + 1.0 / n, 1.0))


@dataclass(frozen=True)
class SamplingPlan:
    """One lot's audit, planned before its sample is drawn (counts in items).

    Attributes
    ----------
    level : float
        ``delta_j`` of the lot (:func:`lot_delta`).
    allowance : int
        The lot's share of the error budget (:func:`lot_allowance`).
    sample_size : int
        ``n``, items to audit, drawn uniformly without replacement from the lot.
    acceptance_number : int
        ``c``: the lot is delivered when at most ``c`` audited items are wrong (:func:`acceptance_number`).
    """

    level: float
    allowance: int
    sample_size: int
    acceptance_number: int


def sampling_plan(
    lot_number: int,
    lot_size: int,
    undelivered: int,
    budget_left: int,
    expected_rate: float,
    delta: float,
    min_share: float,
) -> SamplingPlan:
    """The audit of the ``j``-th lot, as the hybrid policy plans it (the runbook's rule, in one place).

    ``level = lot_delta(j, delta)``, ``allowance = lot_allowance(budget_left, m, undelivered)``; the sample is
    sized in two steps, ``n0 = audit_sample_size(m, allowance, r, level, least)`` then
    ``n = audit_sample_size(m, allowance, planning_rate(r, n0), level, least)`` with
    ``least = ceil(min_share * m)``, and ``c = acceptance_number(n, m, allowance, level)``.

    Parameters
    ----------
    lot_number : int
        ``j`` (count, >= 1), rejected lots counted.
    lot_size : int
        ``m`` (count, >= 1).
    undelivered : int
        Items not yet delivered, the lot included (count, >= lot_size).
    budget_left : int
        Wrong labels still allowed (count, >= 0).
    expected_rate : float
        The share of wrong labels the audit is sized for (share, in [0, 1]).
    delta : float
        The promise's ``delta`` (probability, in (0, 1)).
    min_share : float
        Fewest items audited, as a share of the lot (in [0, 1]).

    Returns
    -------
    SamplingPlan
    """
    level = float(lot_delta(lot_number, delta))
    allowance = int(lot_allowance(budget_left, lot_size, undelivered))
    least = math.ceil(min_share * lot_size)
    first = audit_sample_size(lot_size, allowance, expected_rate, level, min_size=least)
    n = int(audit_sample_size(lot_size, allowance, planning_rate(expected_rate, first), level, least))
    return SamplingPlan(level, allowance, n, int(acceptance_number(n, lot_size, allowance, level)))
