"""Confidence thresholds with a guarantee: the most auto-accepting threshold whose error is certified.

A threshold ``t`` auto-accepts every item whose confidence is >= ``t``. Two errors can be guaranteed:

- ``"selective"``: the error rate among auto-accepted items (wrong accepted / accepted). It is what a model
  trained on machine labels inherits (``model_metric`` goals) and what a quote promises as "label error among
  auto-accepted labels".
- ``"pool"``: the share of all items that are auto-accepted *and* wrong (wrong accepted / all). Humans check
  and fix the rest, so it is the share of the pool left wrong (``labeled_dataset`` goals). It is never above
  the selective error, so it certifies lower, more auto-accepting thresholds.

Method: Learn-then-Test with fixed-sequence testing (Angelopoulos et al. 2021) on a grid of thresholds fixed
in advance (:data:`DEFAULT_THRESHOLDS`), scanned from the most confident down. Each threshold is tested at
level ``delta`` with the exact one-sided Clopper-Pearson bound; the scan stops at the first threshold that
fails and the last one that passed is certified. A false certification needs the first threshold whose true
error exceeds the goal to pass its own test, which happens with probability at most ``delta``: no union bound
is needed, whatever the number of thresholds. SGR's bisection (Geifman & El-Yaniv 2017) was the alternative;
it pays a union bound over its ~log2(n) steps (each tested at ``delta / log2 n``), so with 1,000 items it
needs about 1.8x as many error-free items to certify the same goal, and 59 error-free items could never
certify 5% at delta 0.05; fixed-sequence testing keeps that number at its minimum (see
:func:`calibration_size_needed`).

Selective risk at the most confident thresholds is measured on a handful of items, where no test can pass:
a scan starting there would stop at once. Its scan therefore starts at the most confident threshold that
accepts at least ``max(n_one_error, START_SHARE * n)`` calibration items (all of them if fewer), where
``n_one_error`` is the number of items that certifies the goal despite one error. Below ``n_needed`` items no
test could pass even without errors; starting where one unlucky error among the most confident items still
passes keeps the scan from ending before it starts (in simulations of calibrated classifiers with 200 to
2,000 items it certified up to a third more coverage than starting at ``n_needed``, and less only where
almost nothing was certifiable). Leaving out the top ``START_SHARE`` of the sample costs at most that much
coverage, and keeps the tested sequence the same for every goal and delta with ``n_one_error <= START_SHARE *
n``: there a looser goal or a larger delta never certifies a higher threshold (elsewhere too, unless many
items share nearly one confidence). The start depends on the confidences, the goal and delta, never on which
items are right; the argument above assumes a start fixed in advance, so for this start the guarantee rests
on the error rate falling as confidence rises (what a confidence score is for), and the tests check it by
simulation. The pool risk needs no such start: a threshold that accepts nothing has pool error 0 and passes
as soon as the sample has ``n_needed`` items, so its guarantee is exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from annoplan.planner.thresholds.bounds import (
    Array,
    calibration_size_needed,
    check_open_unit,
    clopper_pearson_upper,
    smallest_passing,
)
from annoplan.planner.thresholds.samples import RiskKind, check_risk_kind, check_sample, check_thresholds

#: thresholds tested by default, from the most confident down: steps of 0.001 over [0, 1], plus 10 per
#: decade of 1 - t between 1e-6 and 1e-3 for scores that crowd just below 1 (fixed in advance, never data)
DEFAULT_THRESHOLDS: Array = np.unique(
    np.concatenate([np.linspace(0.0, 1.0, 1001), 1.0 - np.geomspace(1e-6, 1e-3, 31)])
)[::-1].copy()

#: share of the calibration sample the selective-risk scan accepts at its first threshold (at least)
START_SHARE = 0.1

#: thresholds of the default risk table for reports, ascending
TABLE_THRESHOLDS: Array = np.round(
    np.concatenate([np.arange(0.0, 0.9, 0.05), np.arange(0.9, 0.99, 0.01), [0.99, 0.995, 0.999]]), 3
)


@dataclass(frozen=True)
class ThresholdCertificate:
    """The certified threshold and what it guarantees. Build it with :func:`certify_threshold`.

    Attributes
    ----------
    threshold : auto-accept items with confidence >= threshold (score in [0, 1]); None when no threshold
        is certified: nothing may be auto-accepted.
    coverage : share of the calibration sample auto-accepted (in [0, 1]; 0 when ``threshold`` is None).
    n_accepted, n_errors : calibration items auto-accepted, and those among them that are wrong (count).
    n_calibration : size of the calibration sample (count).
    empirical_risk : measured error of kind ``risk`` (share): ``n_errors / n_accepted`` (selective) or
        ``n_errors / n_calibration`` (pool); 0 when nothing is accepted.
    risk_upper_bound : its one-sided Clopper-Pearson upper bound at ``delta`` (share); at most ``max_risk``
        when certified, 0 when nothing is accepted (no auto-accepted item can be wrong).
    max_risk : the error goal (share). delta : the probability that the guarantee fails.
    risk : ``"selective"`` (error among auto-accepted items) or ``"pool"`` (share of all items that are
        auto-accepted and wrong).
    n_needed : calibration items needed to certify ``max_risk`` at ``delta`` with zero errors (count).
    next_threshold, next_upper_bound : the threshold the scan stopped at (it failed: its bound is above
        ``max_risk``) and that bound; None when the scan certified every threshold it tested.
    """

    threshold: float | None
    coverage: float
    n_accepted: int
    n_errors: int
    n_calibration: int
    empirical_risk: float
    risk_upper_bound: float
    max_risk: float
    delta: float
    risk: RiskKind
    n_needed: int
    next_threshold: float | None = None
    next_upper_bound: float | None = None

    @property
    def certified(self) -> bool:
        """Whether some threshold is certified (something may be auto-accepted)."""
        return self.threshold is not None

    def summary(self) -> str:
        """One plain sentence saying what the certificate guarantees (or why nothing is certified)."""
        what = (
            "error among auto-accepted items"
            if self.risk == "selective"
            else "share of items auto-accepted wrongly"
        )
        confidence = f"{1 - self.delta:.0%} confidence"
        if self.threshold is None:
            if self.n_calibration < self.n_needed:
                return (
                    f"nothing can be auto-accepted: a {self.max_risk:.1%} {what} at {confidence} needs at "
                    f"least {self.n_needed} calibration items, the sample has {self.n_calibration}"
                )
            reason = ""
            if self.next_threshold is not None and self.next_upper_bound is not None:
                reason = (
                    f": even at threshold {self.next_threshold:.3g} the {what} may reach "
                    f"{self.next_upper_bound:.1%}"
                )
            return f"nothing can be auto-accepted with a {self.max_risk:.1%} {what} at {confidence}{reason}"
        return (
            f"auto-accepting confidence >= {self.threshold:.4g} takes {self.coverage:.0%} of the items; the "
            f"{what} stays at most {self.risk_upper_bound:.2%} (goal {self.max_risk:.2%}) with {confidence} "
            f"(measured {self.empirical_risk:.1%} on {self.n_calibration} calibration items)"
        )


@dataclass(frozen=True)
class RiskTable:
    """Coverage and risk at each of several thresholds, for reports. Build it with :func:`risk_by_threshold`.

    Attributes
    ----------
    thresholds : ascending thresholds (score in [0, 1]).
    coverage : share of the calibration sample auto-accepted at each.
    n_accepted, n_errors : auto-accepted items and wrong ones among them (count).
    risk : measured error of kind ``kind`` (share). upper_bound : its one-sided Clopper-Pearson upper bound
        at ``delta`` (share), threshold by threshold: each holds on its own, not all at once (the certified
        threshold comes from :func:`certify_threshold`).
    """

    thresholds: Array
    coverage: Array
    n_accepted: NDArray[np.int64]
    n_errors: NDArray[np.int64]
    risk: Array
    upper_bound: Array
    delta: float
    kind: RiskKind
    n_calibration: int


def _accepted_counts(
    confidence: Array, correct: NDArray[np.bool_], thresholds: Array
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Items with confidence >= each threshold, and the wrong ones among them (counts)."""
    order = np.argsort(confidence, kind="stable")
    sorted_conf = confidence[order]
    wrong = (~correct[order]).astype(np.int64)
    wrong_from = np.concatenate([np.cumsum(wrong[::-1])[::-1], [0]])  # wrong among sorted items i..n-1
    first = np.searchsorted(sorted_conf, thresholds, side="left")
    return (confidence.size - first).astype(np.int64), wrong_from[first].astype(np.int64)


def _bounds(
    n_accepted: NDArray[np.int64], n_errors: NDArray[np.int64], n: int, delta: float, kind: RiskKind
) -> tuple[Array, Array]:
    """Empirical risk and its upper bound at ``delta`` for each threshold."""
    if kind == "selective":
        empirical = np.divide(
            n_errors, n_accepted, out=np.zeros(n_accepted.shape, dtype=float), where=n_accepted > 0
        )
        return empirical, clopper_pearson_upper(n_errors, n_accepted, delta)
    return n_errors / n, clopper_pearson_upper(n_errors, n, delta)


def _selective_start(n: int, max_risk: float, delta: float, n_needed: int) -> int:
    """Calibration items the selective scan accepts at its first threshold (see the module docstring)."""
    # n_one_error: the fewest items whose bound with one error meets the goal (the bound falls with size).
    # Fewer than n_needed fail even without the error; from 1 + y / max_risk items on, where y is the upper
    # delta-quantile of Gamma(2, 1), they pass: P(Binomial(m, p) <= 1) <= (1 + (m - 1) p) exp(-(m - 1) p),
    # which is delta at (m - 1) p = y. A bisection between the two takes log2 of their gap, whatever the
    # values.
    gamma_quantile = float(stats.gamma.isf(delta, 2.0))
    high = max(n_needed, 2 + math.ceil(gamma_quantile / max_risk * (1.0 + 1e-9)))
    n_one_error = smallest_passing(
        lambda m: bool(clopper_pearson_upper(1, m, delta) <= max_risk), n_needed - 1, high
    )
    return min(n, max(n_one_error, math.ceil(START_SHARE * n)))


def certify_threshold(
    confidence: ArrayLike,
    correct: ArrayLike,
    max_risk: float,
    delta: float = 0.05,
    risk: RiskKind | str = "selective",
    *,
    thresholds: ArrayLike | None = None,
    field: str = "",
) -> ThresholdCertificate:
    """The lowest threshold whose auto-accepted items meet the error goal with probability >= 1 - delta.

    Learn-then-Test fixed-sequence testing from the most confident threshold down, each threshold tested at
    level ``delta`` with the one-sided Clopper-Pearson bound (see the module docstring for why this method,
    and where the selective-risk scan starts). Among certified thresholds that accept the same calibration
    items, the highest is reported: the guarantee does not reach into confidences the sample never saw.

    Parameters
    ----------
    confidence : the model's confidence on each item of a random calibration sample (score in [0, 1]).
    correct : whether its prediction on each item was right (bool, same length).
    max_risk : the error goal (share, in (0, 1)), of kind ``risk``.
    delta : the probability (in (0, 1)) that the guarantee may fail; 0.05 for 95% confidence.
    risk : ``"selective"`` (error among auto-accepted items) or ``"pool"`` (share of all items that are
        auto-accepted and wrong; for ``labeled_dataset`` goals).
    thresholds : candidate thresholds (scores in [0, 1]); :data:`DEFAULT_THRESHOLDS` by default. They must be
        chosen without looking at this sample, or the guarantee is void.
    field : dotted path of the sample in the request (e.g. ``pilot.calibration[3]``) for error messages.

    Returns
    -------
    ThresholdCertificate
        With ``threshold`` None (and coverage 0) when nothing can be certified: not an error.

    Raises
    ------
    InvalidInputError
        naming the field: unequal or empty lists, confidences outside [0, 1] or NaN, ``max_risk`` or
        ``delta`` outside (0, 1), an unknown ``risk``.
    """
    (certificate,) = certify_thresholds(
        confidence, correct, [max_risk], delta, risk, thresholds=thresholds, field=field
    )
    return certificate


def certify_thresholds(
    confidence: ArrayLike,
    correct: ArrayLike,
    max_risks: Sequence[float],
    delta: float = 0.05,
    risk: RiskKind | str = "selective",
    *,
    thresholds: ArrayLike | None = None,
    field: str = "",
) -> list[ThresholdCertificate]:
    """:func:`certify_threshold` of one sample for each error goal of ``max_risks``, in order: the very
    certificates, the sample's counts and bounds at every threshold computed once for all the goals (a plan
    certifies its goal and every stricter one of a ladder on the same sample)."""
    conf, right = check_sample(confidence, correct, field)
    goals = [check_open_unit(max_risk, "max_risk") for max_risk in max_risks]
    delta = check_open_unit(delta, "delta")
    kind = check_risk_kind(risk)
    grid = DEFAULT_THRESHOLDS if thresholds is None else check_thresholds(thresholds)
    if not goals:
        return []
    needed = [calibration_size_needed(max_risk, delta) for max_risk in goals]
    n_accepted, n_errors = _accepted_counts(conf, right, grid)
    empirical, upper = _bounds(n_accepted, n_errors, conf.size, delta, kind)
    return [
        _certificate(conf, grid, n_accepted, n_errors, empirical, upper, max_risk, delta, kind, n_needed)
        for max_risk, n_needed in zip(goals, needed, strict=True)
    ]


def _certificate(
    conf: Array,
    grid: Array,
    n_accepted: NDArray[np.int64],
    n_errors: NDArray[np.int64],
    empirical: Array,
    upper: Array,
    max_risk: float,
    delta: float,
    kind: RiskKind,
    n_needed: int,
) -> ThresholdCertificate:
    """The certificate of one goal from the sample's counts and bounds at each threshold of ``grid``."""
    n = conf.size
    if kind == "selective":
        tested = n_accepted >= _selective_start(n, max_risk, delta, n_needed)
    else:
        tested = np.ones(grid.size, dtype=bool)
    failed = tested & (upper > max_risk)

    nothing = ThresholdCertificate(
        threshold=None,
        coverage=0.0,
        n_accepted=0,
        n_errors=0,
        n_calibration=n,
        empirical_risk=0.0,
        risk_upper_bound=0.0,
        max_risk=max_risk,
        delta=delta,
        risk=kind,
        n_needed=n_needed,
    )
    if not tested.any():
        return nothing
    start = int(np.argmax(tested))  # tested thresholds are a suffix of the descending grid
    stop = start + int(np.argmax(failed[start:])) if failed[start:].any() else grid.size
    next_threshold = float(grid[stop]) if stop < grid.size else None
    next_upper_bound = float(upper[stop]) if stop < grid.size else None
    if stop == start or n_accepted[stop - 1] == 0:
        return replace(nothing, next_threshold=next_threshold, next_upper_bound=next_upper_bound)
    # the highest certified threshold accepting the same calibration items as the lowest one
    lowest_accepted = np.min(conf[conf >= grid[stop - 1]])
    best = start + int(np.argmax(grid[start:stop] <= lowest_accepted))
    return ThresholdCertificate(
        threshold=float(grid[best]),
        coverage=float(n_accepted[best] / n),
        n_accepted=int(n_accepted[best]),
        n_errors=int(n_errors[best]),
        n_calibration=n,
        empirical_risk=float(empirical[best]),
        risk_upper_bound=float(upper[best]),
        max_risk=max_risk,
        delta=delta,
        risk=kind,
        n_needed=n_needed,
        next_threshold=next_threshold,
        next_upper_bound=next_upper_bound,
    )


def risk_by_threshold(
    confidence: ArrayLike,
    correct: ArrayLike,
    thresholds: ArrayLike | None = None,
    delta: float = 0.05,
    risk: RiskKind | str = "selective",
    *,
    field: str = "",
) -> RiskTable:
    """Coverage, measured risk and its upper bound at each threshold: the table behind a certificate.

    Parameters
    ----------
    confidence, correct : the calibration sample (see :func:`certify_threshold`).
    thresholds : thresholds to tabulate (scores in [0, 1]); :data:`TABLE_THRESHOLDS` by default. Add the
        certified threshold to mark it in a report.
    delta : the probability (in (0, 1)) that each bound fails.
    risk : ``"selective"`` or ``"pool"``.
    field : dotted path of the sample in the request, for error messages.

    Returns
    -------
    RiskTable
        One row per distinct threshold, ascending.
    """
    conf, right = check_sample(confidence, correct, field)
    delta = check_open_unit(delta, "delta")
    kind = check_risk_kind(risk)
    grid = check_thresholds(TABLE_THRESHOLDS if thresholds is None else thresholds)[::-1].copy()
    n_accepted, n_errors = _accepted_counts(conf, right, grid)
    empirical, upper = _bounds(n_accepted, n_errors, conf.size, delta, kind)
    return RiskTable(
        thresholds=grid,
        coverage=n_accepted / conf.size,
        n_accepted=n_accepted,
        n_errors=n_errors,
        risk=empirical,
        upper_bound=upper,
        delta=delta,
        kind=kind,
        n_calibration=int(conf.size),
    )
