"""How coverage and error at a confidence threshold change as the model learns from more labels.

As a model trains on more labels it grows more confident, so a fixed threshold auto-accepts more items, and
the error among them moves too. :func:`fit_selection_curves` reads both off the calibration samples of the
pilot rounds: at each round, the share of the sample at or above the threshold (coverage) and the share of
those that are wrong (error among auto-accepted items), each a binomial measurement. Each quantity follows a
straight line in log(labels) on the logit scale,

    logit p(n) = intercept + slope * (ln n - log_center),

fitted by weighted least squares on empirical logits (weights: binomial information ``N p (1 - p)``; the
covariance is inflated by the residual dispersion when more than two rounds leave some to measure). Draws of
``(intercept, slope)`` from their normal approximation give whole curves, so every draw is a curve in [0, 1],
and its median is the fitted line. With a single round the slope is fixed at 0: coverage and error stay as
measured, with their binomial uncertainty, and :attr:`SelectionForecast.assumptions` says so.

The error forecast is the *selective* error (wrong among auto-accepted); the share of the pool auto-accepted
wrongly is coverage times that error.

Below the threshold, errors are not spread evenly: the least confident items hold more of them, and those are
the items hybrid routing sends to humans first. :class:`ErrorProfile` reads off the calibration samples which
share of the errors below the threshold the least confident items hold (a concentration curve of predicted
errors, pooled over the samples and shrunk towards an even spread by :data:`PROFILE_PRIOR_ERRORS`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, logit

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.thresholds.bounds import Array
from annoplan.planner.thresholds.samples import CalibrationRound, check_sample
from annoplan.simulators.montecarlo import IntArray, Routing

#: logit-scale spread of a rate nothing was measured on (that of a uniform rate: the logistic distribution)
UNKNOWN_LOGIT_SD = math.pi / math.sqrt(3.0)
#: errors spread evenly below the threshold that the error profile starts from (a sample with few errors
#: below the threshold moves it little)
PROFILE_PRIOR_ERRORS = 2.0
#: points the error profile keeps, evenly spaced
PROFILE_POINTS = 41


@dataclass(frozen=True)
class ErrorProfile:
    """How the errors below a threshold spread over the items there, from the least confident up.

    ``concentration(q)`` is the share of the errors below the threshold held by the least confident share
    ``q`` of the items below it: 0 at 0, 1 at 1, above the diagonal when the least confident items are the
    likeliest to be wrong (a piecewise-linear curve through ``points`` and ``shares``).
    """

    points: Array
    shares: Array

    @classmethod
    def even(cls) -> ErrorProfile:
        """Errors spread evenly: every item below the threshold as likely to be wrong."""
        return cls(np.array([0.0, 1.0]), np.array([0.0, 1.0]))

    @classmethod
    def measured(cls, samples: Sequence[Array], threshold: float) -> ErrorProfile:
        """Pooled over calibration samples (``confidence`` scores): each item below ``threshold`` sits at the
        middle of its rank among its sample's items below it, least confident first, and counts its
        predicted error ``1 - confidence``. Predicted, not measured errors: the few wrong items of a pilot
        sample would make the curve mostly noise, while the confidences rank the items well (the level of
        the errors comes from the measured error rate, not from here)."""
        positions, wrong = [], []
        for confidence in samples:
            below = confidence < threshold
            order = np.argsort(confidence[below], kind="stable")
            positions.append((np.arange(order.size) + 0.5) / max(order.size, 1))
            wrong.append(1.0 - confidence[below][order])
        q = np.concatenate(positions)
        errors = np.concatenate(wrong)
        order = np.argsort(q, kind="stable")
        q, errors = q[order], errors[order]
        prior = PROFILE_PRIOR_ERRORS
        total = errors.sum() + prior
        shares = (np.cumsum(errors) - errors / 2.0 + prior * q) / total
        points = np.concatenate(([0.0], q, [1.0]))
        grid = np.linspace(0.0, 1.0, PROFILE_POINTS)  # a simulation reads it every round: few points
        return cls(grid, np.interp(grid, points, np.concatenate(([0.0], shares, [1.0]))))

    def concentration(self, q: ArrayLike) -> Array:
        """Share of the errors below the threshold held by the least confident share ``q`` of its items."""
        return np.asarray(np.interp(np.clip(q, 0.0, 1.0), self.points, self.shares))


@dataclass(frozen=True)
class LogitTrend:
    """A rate as a function of labels: ``logit p(n) = intercept + slope * (ln n - log_center)``.

    Attributes
    ----------
    intercept : logit of the rate at ``exp(log_center)`` labels. slope : change of the logit per unit of
        ln(labels). cov : covariance (2, 2) of ``(intercept, slope)``. log_center : ln(labels) of the centre.
    """

    intercept: float
    slope: float
    cov: Array
    log_center: float

    def median(self, n_labels: ArrayLike) -> Array:
        """The median rate (share) at ``n_labels`` (count; below 1 read as 1), shaped like ``n_labels``."""
        return np.asarray(expit(self.intercept + self.slope * (_log_labels(n_labels) - self.log_center)))

    def draw(self, n_draws: int, rng: np.random.Generator) -> Array:
        """``n_draws`` parameter draws ``(intercept, slope)``: shape (n_draws, 2)."""
        values, vectors = np.linalg.eigh(self.cov)
        # root @ root.T == cov, also when singular
        root: Array = vectors * np.sqrt(np.clip(values, 0.0, None))
        z = rng.standard_normal((n_draws, 2))
        return np.array([self.intercept, self.slope]) + z @ root.T


def _log_labels(n_labels: ArrayLike) -> Array:
    return np.log(np.maximum(np.asarray(n_labels, dtype=np.float64), 1.0))


def _rates_at(params: Array, log_center: float, n_labels: ArrayLike) -> Array:
    """Rates of each parameter draw (n_draws, 2) at sizes (m,) or (n_draws, m): shape (n_draws, m)."""
    x = _log_labels(n_labels) - log_center
    return np.asarray(expit(params[:, :1] + params[:, 1:2] * x))


@dataclass(frozen=True)
class SelectionDraws:
    """Whole coverage and error curves, one per draw. Build them with :meth:`SelectionForecast.draws`.

    Attributes
    ----------
    coverage_params, risk_params : ``(intercept, slope)`` of each draw's coverage and error curves, shape
        (n_draws, 2), on the logit scale around ``coverage_center`` and ``risk_center`` (ln labels).
    """

    coverage_params: Array
    risk_params: Array
    coverage_center: float
    risk_center: float
    profile: ErrorProfile = field(default_factory=ErrorProfile.even)  #: how errors below the threshold spread
    #: the model's own predicted error among auto-accepted items, mean(1 - confidence), over their real error
    #: on the calibration samples: the policy sizes each lot's audit from the predicted error
    predicted_ratio: float = 1.0

    @property
    def n_draws(self) -> int:
        return int(self.coverage_params.shape[0])

    def at(self, n_labels: ArrayLike) -> tuple[Array, Array]:
        """Coverage and error among auto-accepted items of every draw at ``n_labels``.

        Parameters
        ----------
        n_labels : labels the model is trained on (count; below 1 read as 1). Shape (m,) gives every draw
            the same sizes; shape (n_draws, m) one row of sizes per draw.

        Returns
        -------
        (coverage, risk) : shares in [0, 1], each of shape (n_draws, m).
        """
        coverage = _rates_at(self.coverage_params, self.coverage_center, n_labels)
        return coverage, _rates_at(self.risk_params, self.risk_center, n_labels)

    def per_draw(self, n_labels: Array) -> tuple[Array, Array]:
        """Coverage and error among auto-accepted items of each draw at its own size: ``n_labels``
        (n_draws,) -> two arrays (n_draws,). What a simulation asks every round (no grid, no search)."""
        coverage, risk = self.at(np.asarray(n_labels, dtype=float)[:, None])
        return coverage[:, 0], risk[:, 0]

    def error_concentration(self, q: Array) -> Array:
        """Share of the errors below the threshold held by its least confident share ``q`` of items."""
        return self.profile.concentration(q)

    @classmethod
    def stack_rows(
        cls, routings: Sequence[Routing], setting: IntArray, draw: IntArray
    ) -> SelectionRows | None:
        """The rows of a stacked hybrid run (:class:`simulators.montecarlo.StackableRouting`): row i is draw
        ``draw[i]`` of ``routings[setting[i]]``; None unless every routing is a :class:`SelectionDraws` with
        the same number of draws."""
        draws = [r for r in routings if isinstance(r, SelectionDraws)]
        if len(draws) != len(routings):
            return None
        n_draws = draws[0].n_draws
        if any(d.coverage_params.shape != (n_draws, 2) or d.risk_params.shape != (n_draws, 2) for d in draws):
            return None
        # the settings' draws one after another
        coverage = np.concatenate([d.coverage_params for d in draws])
        risk = np.concatenate([d.risk_params for d in draws])
        row = setting * n_draws + draw
        profiles = tuple(d.profile for d in draws)
        return SelectionRows(
            coverage_intercept=coverage[:, 0].take(row),
            coverage_slope=coverage[:, 1].take(row),
            coverage_center=np.array([d.coverage_center for d in draws]).take(setting),
            risk_intercept=risk[:, 0].take(row),
            risk_slope=risk[:, 1].take(row),
            risk_center=np.array([d.risk_center for d in draws]).take(setting),
            predicted_ratio=np.array([d.predicted_ratio for d in draws]).take(setting),
            setting=setting,
            profiles=profiles,
            table=ProfileTable.of(profiles),
        )


@dataclass(frozen=True)
class ProfileTable:
    """The error profiles of a stacked run's settings on one even grid ``0, 1/g, ..., 1``, as flat tables
    (setting ``s``'s point ``j`` at ``s * (g + 2) + j``, each grid followed by an infinite point that no
    share reaches): each row's concentration is read at a grid position computed from ``q`` rather than
    searched for, with the very numbers ``np.interp`` gives (the slope of ``j``'s segment times
    ``q - points[j]``, plus ``shares[j]``; at ``q == 1`` the last share). ``np.interp``'s search (a branchy
    bisection per row) cost a stacked round more than its arithmetic."""

    points: Array  #: each setting's grid and an infinity, flat (the same for all)
    shares: Array  #: each setting's shares at its points (and a 0), flat
    slopes: Array  #: each setting's segment slopes, flat; 0 from its last point on (no segment)
    size: int  #: points per setting

    @classmethod
    def of(cls, profiles: Sequence[ErrorProfile]) -> ProfileTable | None:
        """The table of ``profiles``; None unless they all share one even grid from 0 to 1."""
        if not profiles:
            return None
        points = profiles[0].points
        size = points.size
        even = np.arange(size) / max(size - 1, 1)
        if (
            size < 2
            or points[0] != 0.0
            or points[-1] != 1.0
            or not np.all(np.diff(points) > 0)
            or not np.allclose(points, even, rtol=0.0, atol=1e-12)
            or any(p.points.shape != points.shape or not np.array_equal(p.points, points) for p in profiles)
        ):
            return None
        # np.interp's slopes, (shares[j + 1] - shares[j]) / (points[j + 1] - points[j])
        slopes = [np.append(np.diff(p.shares) / np.diff(p.points), [0.0, 0.0]) for p in profiles]
        return cls(
            np.tile(np.append(points, np.inf), len(profiles)),
            np.concatenate([np.append(np.asarray(p.shares, dtype=float), 0.0) for p in profiles]),
            np.concatenate(slopes),
            size,
        )

    def concentration(self, q: Array, setting: IntArray) -> Array:
        """``np.interp(q[i], points, shares of setting[i])`` for each row, ``q`` in [0, 1]."""
        last = self.size - 1
        # the grid position, then the segment np.interp's search finds: points[j] <= q < points[j + 1]
        j = np.multiply(q, last).astype(np.intp)
        np.minimum(j, last, out=j)
        j += setting * (self.size + 1)
        j -= self.points.take(j) > q
        j += self.points.take(j + 1) <= q  # never past the last point: the infinity after it
        rate = np.subtract(q, self.points.take(j))
        np.multiply(self.slopes.take(j), rate, out=rate)
        return np.add(rate, self.shares.take(j), out=rate)  # slope * (q - point) + share


@dataclass(frozen=True)
class SelectionRows:
    """The coverage and error curves of the rows of a stacked hybrid run, each row one draw of one
    setting's :class:`SelectionDraws` (:meth:`SelectionDraws.stack_rows`): its parameters, centres, error
    profile and predicted ratio; ``setting`` ascending. Each row gets the very numbers its setting's
    :meth:`SelectionDraws.per_draw` and :meth:`SelectionDraws.error_concentration` give its draw."""

    coverage_intercept: Array
    coverage_slope: Array
    coverage_center: Array
    risk_intercept: Array
    risk_slope: Array
    risk_center: Array
    predicted_ratio: Array
    setting: IntArray
    profiles: tuple[ErrorProfile, ...]
    table: ProfileTable | None = None  #: the profiles on their shared grid, where they share an even one

    def per_draw(self, n_labels: Array) -> tuple[Array, Array]:
        """Coverage and error among auto-accepted items of each row at its own size (n_rows,)."""
        log_n = _log_labels(n_labels)
        coverage = expit(self.coverage_intercept + self.coverage_slope * (log_n - self.coverage_center))
        risk = expit(self.risk_intercept + self.risk_slope * (log_n - self.risk_center))
        return np.asarray(coverage), np.asarray(risk)

    def error_concentration(self, q: Array) -> Array:
        """Each row's share of the errors below its threshold held by its least confident share ``q``."""
        q = np.clip(q, 0.0, 1.0)
        if self.table is not None:
            return self.table.concentration(q, self.setting)
        out = np.empty(q.shape)
        bounds = np.searchsorted(self.setting, np.arange(len(self.profiles) + 1))
        for s, profile in enumerate(self.profiles):
            rows = slice(bounds[s], bounds[s + 1])
            if rows.start < rows.stop:
                out[rows] = np.interp(q[rows], profile.points, profile.shares)
        return out

    def keep(self, rows: IntArray) -> SelectionRows:
        """The rows ``rows`` (indices, ascending) only."""
        return SelectionRows(
            self.coverage_intercept.take(rows),
            self.coverage_slope.take(rows),
            self.coverage_center.take(rows),
            self.risk_intercept.take(rows),
            self.risk_slope.take(rows),
            self.risk_center.take(rows),
            self.predicted_ratio.take(rows),
            self.setting.take(rows),
            self.profiles,
            self.table,
        )


@dataclass(frozen=True)
class SelectionForecast:
    """Coverage and error at a threshold as functions of labels. Build it with :func:`fit_selection_curves`.

    Attributes
    ----------
    threshold : the confidence threshold (score in [0, 1]).
    n_labels : labels of the rounds with a calibration sample (count), ascending.
    n_items, n_accepted, n_errors : per round, calibration items, those at or above the threshold, and the
        wrong ones among these (counts).
    coverage, risk : the fitted trends of coverage and of the error among auto-accepted items.
    profile : how the errors below the threshold spread over its items, least confident first.
    assumptions : plain sentences saying what the forecast assumes (for the response and reports).
    """

    threshold: float
    n_labels: Array
    n_items: Array
    n_accepted: Array
    n_errors: Array
    coverage: LogitTrend
    risk: LogitTrend
    profile: ErrorProfile
    assumptions: tuple[str, ...]
    predicted_ratio: float = 1.0  #: see :attr:`SelectionDraws.predicted_ratio`

    def median(self, n_labels: ArrayLike) -> tuple[Array, Array]:
        """Median coverage and error among auto-accepted items at ``n_labels`` (shares, shape of n_labels)."""
        return self.coverage.median(n_labels), self.risk.median(n_labels)

    def draws(self, n_draws: int, rng: np.random.Generator) -> SelectionDraws:
        """``n_draws`` whole curves (vectorised), to evaluate at any sizes with :meth:`SelectionDraws.at`."""
        return SelectionDraws(
            coverage_params=self.coverage.draw(n_draws, rng),
            risk_params=self.risk.draw(n_draws, rng),
            coverage_center=self.coverage.log_center,
            risk_center=self.risk.log_center,
            profile=self.profile,
            predicted_ratio=self.predicted_ratio,
        )

    def sample(self, n_labels: ArrayLike, n_draws: int, rng: np.random.Generator) -> tuple[Array, Array]:
        """Coverage and error among auto-accepted items of ``n_draws`` curves at ``n_labels``.

        Parameters
        ----------
        n_labels : labels (count), shape (m,) or (n_draws, m); see :meth:`SelectionDraws.at`.
        n_draws : number of curves drawn.
        rng : the random generator.

        Returns
        -------
        (coverage, risk) : shares in [0, 1], each of shape (n_draws, m); the same draw (row) is one curve.
        """
        return self.draws(n_draws, rng).at(n_labels)


def _fit_trend(log_n: Array, successes: Array, trials: Array) -> LogitTrend | None:
    """Weighted least squares of empirical logits on ln(labels); None when there is no trial at all."""
    keep = trials > 0
    log_n, successes, trials = log_n[keep], successes[keep], trials[keep]
    if trials.size == 0:
        return None
    if np.ptp(log_n) == 0.0:  # one size: the rate as measured, flat
        p = (successes.sum() + 0.5) / (trials.sum() + 1.0)
        var = 1.0 / (trials.sum() * p * (1.0 - p))
        return LogitTrend(float(logit(p)), 0.0, np.array([[var, 0.0], [0.0, 0.0]]), float(log_n[0]))
    p = (successes + 0.5) / (trials + 1.0)
    y = logit(p)
    w = trials * p * (1.0 - p)
    center = float(w @ log_n / w.sum())
    design = np.column_stack([np.ones_like(log_n), log_n - center])
    info = design.T @ (w[:, None] * design)
    theta = np.linalg.solve(info, design.T @ (w * y))
    cov: Array = np.linalg.inv(info).astype(float)
    if log_n.size > 2:
        residual = y - design @ theta
        cov = cov * max(1.0, float(w @ residual**2) / (log_n.size - 2))
    return LogitTrend(float(theta[0]), float(theta[1]), cov, center)


def _with_drift(trend: LogitTrend, drift: float) -> LogitTrend:
    cov = trend.cov.copy()
    cov[1, 1] += drift**2
    return LogitTrend(trend.intercept, trend.slope, cov, trend.log_center)


@dataclass(frozen=True)
class CheckedSamples:
    """Calibration samples checked once (:meth:`check`), as ``(n_labels, confidence, correct as 0/1)`` in
    order of ``n_labels``: :func:`fit_selection_curves` takes them at every threshold without checking
    them again."""

    rounds: tuple[tuple[float, Array, Array], ...]

    @classmethod
    def check(cls, samples: Sequence[Any], field: str = "calibration") -> CheckedSamples:
        """Check ``samples`` (see :func:`fit_selection_curves`); errors name ``field``."""
        return cls(tuple(sorted(_check_samples(samples, field), key=lambda r: r[0])))


def _check_samples(samples: Sequence[Any], field: str) -> list[tuple[float, Array, Array]]:
    if isinstance(samples, str | bytes) or not isinstance(samples, Sequence):
        raise InvalidInputError(field, "must be a list of calibration samples")
    if len(samples) == 0:
        raise InvalidInputError(field, "is empty: give at least one calibration sample")
    out = []
    for i, sample in enumerate(samples):
        if isinstance(sample, tuple) and len(sample) == 3:
            n_labels, confidence, correct = sample
        elif all(hasattr(sample, name) for name in CalibrationRound._fields):
            n_labels, confidence, correct = sample.n_labels, sample.confidence, sample.correct
        else:
            raise InvalidInputError(f"{field}[{i}]", "must be (n_labels, confidence, correct)")
        if (
            isinstance(n_labels, bool)
            or not isinstance(n_labels, int | float | np.integer | np.floating)
            or not math.isfinite(n_labels)
            or n_labels < 1
        ):
            raise InvalidInputError(
                f"{field}[{i}].n_labels", f"must be a number of labels >= 1, got {n_labels!r}"
            )
        conf, right = check_sample(confidence, correct, f"{field}[{i}]")
        out.append((float(n_labels), conf, right.astype(float)))
    return out


def fit_selection_curves(
    samples: CheckedSamples | Sequence[CalibrationRound | tuple[float, ArrayLike, ArrayLike] | Any],
    threshold: float,
    *,
    drift: float = 0.0,
    field: str = "calibration",
) -> SelectionForecast:
    """Fit coverage and error among auto-accepted items at ``threshold`` against the number of labels.

    Parameters
    ----------
    samples : the calibration samples of the pilot rounds, each ``(n_labels, confidence, correct)`` (see
        :class:`CalibrationRound`) or an object with these attributes (such as the request's calibration
        entries); several samples may share a round. Samples fitted at several thresholds are checked once
        with :meth:`CheckedSamples.check`.
    threshold : the confidence threshold (score in [0, 1]): items at or above it are auto-accepted.
    drift : extra spread of both slopes (logit per unit of ln labels, >= 0) for what a straight trend on a
        few rounds misses; it widens the forecast away from the pilot. 0 (none) until a backtest sets it.
    field : dotted path of the samples in the request (``pilot.calibration``), for error messages.

    Returns
    -------
    SelectionForecast
        Flat (coverage and error stay as measured, with binomial uncertainty) when a single round has a
        sample, with that assumption stated.

    Raises
    ------
    InvalidInputError
        naming the field: no sample, an empty sample, unequal lists, confidences outside [0, 1] or NaN,
        ``n_labels`` below 1, ``threshold`` outside [0, 1].
    """
    checked = samples if isinstance(samples, CheckedSamples) else CheckedSamples.check(samples, field)
    rounds = checked.rounds
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.integer | np.floating):
        raise InvalidInputError("threshold", "must be a number in [0, 1]")
    if not 0.0 <= threshold <= 1.0:
        raise InvalidInputError("threshold", f"must be in [0, 1], got {threshold}")
    threshold = float(threshold)
    if isinstance(drift, bool) or not isinstance(drift, int | float) or not 0.0 <= drift < math.inf:
        raise InvalidInputError("drift", f"must be a number >= 0, got {drift!r}")

    n_labels = np.array([r[0] for r in rounds])
    n_items = np.array([r[1].size for r in rounds], dtype=float)
    accepted = [r[1] >= threshold for r in rounds]
    n_accepted = np.array([a.sum() for a in accepted], dtype=float)
    n_errors = np.array([(1.0 - r[2])[a].sum() for r, a in zip(rounds, accepted, strict=True)])
    predicted = sum(float((1.0 - r[1])[a].sum()) for r, a in zip(rounds, accepted, strict=True))
    # one pseudo-item of error on each side keeps the ratio finite where the samples hold few errors
    predicted_ratio = (predicted + 1.0) / (float(n_errors.sum()) + 1.0)
    log_n = np.log(n_labels)

    coverage = _fit_trend(log_n, n_accepted, n_items)
    assert coverage is not None  # every sample has items
    risk = _fit_trend(log_n, n_errors, n_accepted)
    if drift > 0:
        coverage = _with_drift(coverage, drift)
        risk = None if risk is None else _with_drift(risk, drift)
    at = f"threshold {threshold:.4g}"
    sizes = np.unique(n_labels)
    assumptions: list[str] = []
    if sizes.size == 1:
        assumptions.append(
            f"only one pilot round ({sizes[0]:,.0f} labels) has a calibration sample: coverage at {at} "
            f"({n_accepted.sum() / n_items.sum():.0%}) and the error among auto-accepted items are assumed "
            "to stay as measured there (in the median) at any number of labels, with binomial uncertainty; "
            "coverage usually grows as the model learns, so this likely overstates what auto-accepting costs"
        )
    else:
        assumptions.append(
            f"coverage at {at} and the error among auto-accepted items follow a logistic trend in "
            f"log(labels) fitted to the calibration samples of {sizes.size} pilot rounds ({sizes[0]:,.0f} to "
            f"{sizes[-1]:,.0f} labels), with binomial uncertainty; past {sizes[-1]:,.0f} labels it is an "
            "extrapolation"
        )
        if coverage.slope < 0:
            assumptions.append(
                f"coverage at {at} fell over the pilot rounds; the forecast continues that trend"
            )
    if risk is None:
        risk = LogitTrend(0.0, 0.0, np.diag([UNKNOWN_LOGIT_SD**2, 0.0]), float(log_n[-1]))
        assumptions.append(
            f"no calibration item reached {at}: the error among auto-accepted items is unknown and drawn "
            "from anywhere in [0, 1]"
        )
    elif sizes.size > 1 and np.unique(n_labels[n_accepted > 0]).size == 1:
        assumptions.append(
            f"only one pilot round has calibration items at or above {at}: the error among them is assumed "
            "to stay as measured there, with binomial uncertainty"
        )
    return SelectionForecast(
        threshold=threshold,
        n_labels=n_labels,
        n_items=n_items,
        n_accepted=n_accepted,
        n_errors=n_errors,
        coverage=coverage,
        risk=risk,
        profile=ErrorProfile.measured([r[1] for r in rounds], threshold),
        assumptions=tuple(assumptions),
        predicted_ratio=predicted_ratio,
    )
