"""Learning-curve forecasts with honest uncertainty, in error space.

:func:`fit_learning_curve` fits every registered family to the pilot rounds and combines them into a
:class:`CurveForecast`. Its predictive distribution, in log error, is centred on the prior-weighted mean of
the families' fits and spreads by three independent sources, each drawn once per whole curve:

- model uncertainty: the weighted spread of the families' predictions (grows as they diverge);
- parameter uncertainty from measurement noise: the standard errors of the level and of the log-log slope of
  the pilot, from each round's noise (binomial variance from ``n_eval``, ``std`` where given) and discrepancy;
- extrapolation drift: a random slope, for what no family captures on real curves, of spread :data:`DRIFT` per
  unit of log(n / last pilot round) for a pilot spanning :data:`REFERENCE_SPAN` in log labels; the distance
  extrapolated counts in units of the pilot's own span, so a longer pilot drifts proportionally less.

A noisy pilot says little about its own slope (a single labeling run on tens of labels), so the slope the
forecast extrapolates is shrunk towards a prior typical of real learning curves, :data:`SLOPE_PRIOR_MEAN`
give or take :data:`SLOPE_PRIOR_SD` in log error per log labels, by the weight the pilot's slope error gives
it (empirical Bayes on a normal prior): a precise pilot (a mean over many splits) keeps its families'
extrapolation, a noisy one leans on the prior, and the slope's spread and the families' disagreement shrink
with it. The prior describes the first decade past the pilot as a whole; near the pilot its own local trend
holds, so the prior's weight grows with the distance up to :data:`SLOPE_PRIOR_RAMP` times the last round.

A forecast extrapolates from the end of the pilot, so the fits follow its recent rounds: each round carries a
model discrepancy (what no family captures) that grows with its distance from the last round in log labels
(:data:`DISCREPANCY_GROWTH`). An early round, often in another regime of the curve (near chance, before the
power-law phase), still anchors the fit but no longer bends it.

A measurement at ``n`` adds the noise of one evaluation (the last round's ``n_eval``/``std``). The constants
were calibrated by ``benchmarks/curve_backtest.py`` on real learning curves and labeling runs, so that P10-P90
intervals cover about 80% of what really happened ~10x past the pilot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from annoplan.planner.curves.families import FAMILIES, Array
from annoplan.planner.curves.learned import (
    ERROR_FLOOR,
    REACH_GRID,
    LearnedCurveModel,
    labels_rows,
    pilot_rows,
    pow3_log_ratio,
)
from annoplan.planner.curves.least_squares import FamilyFit, fit_family
from annoplan.simulators.draws import CurveDraws

#: relative model discrepancy added to every pilot point's noise in the fits (share of its error) at the last
#: pilot round
DISCREPANCY = 0.02
#: growth of the model discrepancy with a round's distance from the last round: the discrepancy is
#: ``DISCREPANCY * error * (1 + DISCREPANCY_GROWTH * log(last round / round))`` (doubled one e-fold back)
DISCREPANCY_GROWTH = 1.0
#: absolute noise floor of a pilot point (error units)
NOISE_FLOOR = 1e-3
#: spread of the extrapolation drift, in log error per unit of log(n / last pilot round) for a pilot spanning
#: :data:`REFERENCE_SPAN`; a pilot spanning more (fewer) log labels drifts proportionally less (more)
DRIFT = 0.10
#: span in log labels of the pilots DRIFT was calibrated on (4 rounds on a doubling grid: 8x)
REFERENCE_SPAN = float(np.log(8.0))
#: spans shorter than one doubling count as one doubling (the noise-driven slope uncertainty dominates there)
MIN_SPAN = float(np.log(2.0))
#: prior mean of the log-log slope of the error past the pilot (log error per log labels: -0.3 is ~19% less
#: error per doubling); real curves from the last pilot round to 10x past it: median -0.07 (LCDB) and -0.2
#: (labeling runs), mean -0.16 and -0.3; the value was chosen by the curve backtest
SLOPE_PRIOR_MEAN = -0.3
#: prior spread of that slope (the slopes of real curves over that decade spread by 0.15-0.35)
SLOPE_PRIOR_SD = 0.2
#: relative size past the last pilot round from which the prior has its full weight; before, its weight grows
#: with log(n / last round), so that the pilot's own local trend holds near it
SLOPE_PRIOR_RAMP = 10.0
#: relative sizes (labels / last pilot round) on which curve draws are evaluated and inverted
X_GRID = np.geomspace(1e-3, 1e5, 321)
#: distances past the last round at which the learned model is evaluated (then interpolated on the grid)
LEARNED_POINTS = 25
#: errors are kept within [ERROR_MIN, 1] in log space
ERROR_MIN = 1e-5
#: sizes per chunk when predicting quantiles (bounds memory at n_draws x PREDICT_CHUNK)
PREDICT_CHUNK = 256
#: step (relative size) for the log-log slope of each family at the last pilot round
TANGENT_STEP = 1.05


def measurement_var(
    error: Array | float, n_labels: Array | float, n_eval: float | None, std: float | None, train_noise: float
) -> Array:
    """Variance of one measured error (error units squared).

    Binomial on the ``n_eval`` evaluation items (a 0% or 100% measurement stays uncertain), plus ``std``
    squared (spread over seeds or folds) where given; a single run without ``std`` also carries the noise of
    which items were labeled, modelled as ``train_noise`` times binomial on ``n_labels``.
    """
    error = np.asarray(error, dtype=float)
    var = np.zeros(np.broadcast_shapes(error.shape, np.shape(n_labels)))
    if n_eval is not None:
        p = (error * n_eval + 0.5) / (n_eval + 1.0)
        var = var + p * (1.0 - p) / n_eval
    if std is not None:
        var = var + std**2
    elif train_noise > 0:
        n = np.asarray(n_labels, dtype=float)
        p = np.clip(error, 0.5 / n, 1.0 - 0.5 / n)
        var = var + train_noise * p * (1.0 - p) / n
    return var


@dataclass(frozen=True)
class LearnedPath:
    """The learned model's forecast past the last pilot round, on the forecast grid.

    Attributes
    ----------
    log_level : log error of the last pilot round (the anchor of the log ratios).
    start : index of the last pilot round on :data:`X_GRID`; ``stop`` the first index past the model's
        farthest distance.
    distance : log labels past the last round of grid points ``start`` to ``stop`` (excluded).
    center, scale : median log ratio and its scale there.
    model : the meta-model (its table of standardised deviations draws the spread).
    rows : the labels model's rows of the pilot, given the targets' errors (:func:`labels_rows` with the
        pilot's rounds and signals).
    """

    log_level: float
    start: int
    stop: int
    distance: Array
    center: Array
    scale: Array
    model: LearnedCurveModel
    rows: Callable[[Array], Array]

    def log_errors(self, u: Array) -> Array:
        """Log error of each draw (quantile level ``u``, one per draw) at grid points ``start:stop``."""
        return self.log_level + self.center + self.scale * self.model.deviation(u, self.distance)

    def labels_to_reach(self, target_errors: Array, levels: Array) -> Array:
        """Labels to reach each of ``target_errors`` at quantile ``levels``, by the labels model (given that
        the target is reached): shape (len(target_errors), len(levels)), relative to the last round."""
        return np.exp(self.model.labels.log_ratios(self.rows(np.asarray(target_errors, dtype=float)), levels))


def learned_path(
    n_labels: Array,
    errors: Array,
    noise_sd: Array,
    train_errors: Array | None,
    family: str | None,
    model: LearnedCurveModel,
) -> LearnedPath | None:
    """The learned forecast past the last round of a pilot (see :func:`pilot_rows`), or None when its last
    error is below the model's floor."""
    error_last = float(errors[-1])
    if error_last < ERROR_FLOOR:
        return None
    start = int(np.searchsorted(X_GRID, 1.0 - 1e-12))
    stop = int(np.searchsorted(X_GRID, np.exp(model.max_distance) * (1.0 + 1e-12)))
    # the trees are steps in the distance: a coarse grid of distances, interpolated, is as good and cheaper
    distances = np.log(X_GRID[start:stop])
    coarse = np.linspace(0.0, model.max_distance, LEARNED_POINTS)
    # the power law is fitted once, for the curve's distances and the labels model's
    pow3 = pow3_log_ratio(n_labels, errors, noise_sd, np.concatenate([coarse, REACH_GRID]))
    center, scale = model.predict(
        pilot_rows(n_labels, errors, noise_sd, coarse, train_errors, family, pow3[: coarse.size])
    )
    center, scale = np.interp(distances, coarse, center), np.interp(distances, coarse, scale)

    def rows(targets: Array) -> Array:
        return labels_rows(n_labels, errors, noise_sd, targets, train_errors, family, pow3[coarse.size :])

    return LearnedPath(float(np.log(error_last)), start, stop, distances, center, scale, model, rows)


@dataclass(frozen=True)
class CurveForecast:
    """A fitted learning-curve forecast (error space). Build it with :func:`fit_learning_curve`.

    Attributes
    ----------
    n_labels, errors, noise_sd : pilot rounds: labels (count), measured error, noise (error units).
    fits : every family's weighted least-squares fit; ``weights`` their weights in the forecast.
    level_sd, slope_sd : standard errors of the pilot's log level and log-log slope (noise and discrepancy).
    shrinkage : weight of the slope prior in the extrapolation, ``slope_sd**2 / (slope_sd**2 +
        SLOPE_PRIOR_SD**2)`` (0: the families' own extrapolation, 1: the prior's).
    drift : spread of the extrapolation drift, log error per unit of log(n / last pilot round).
    obs_n_eval, obs_std, obs_train_noise : noise of one new measurement (see :func:`measurement_var`).
    learned : the learned model's forecast past the last round (None: the families' alone).
    """

    n_labels: Array
    errors: Array
    noise_sd: Array
    fits: tuple[FamilyFit, ...]
    weights: Array
    level_sd: float
    slope_sd: float
    obs_n_eval: float | None
    obs_std: float | None
    obs_train_noise: float = 0.0
    drift: float = DRIFT
    shrinkage: float = 0.0
    learned: LearnedPath | None = None

    @property
    def n_ref(self) -> float:
        """The last pilot round's labels: ``x = n / n_ref`` inside the families."""
        return float(self.n_labels[-1])

    def log_center(self, n_labels: Array) -> tuple[Array, Array]:
        """Weighted mean and spread across families of the log error at ``n_labels``.

        Past the pilot no family may fall faster than its own power-law tangent at the last round (error
        decays at most polynomially in the number of labels): an S-shaped fit that reads a last-round drop as
        the start of a collapse continues at the current log-log slope instead. Past the pilot the mean and
        the spread are shrunk towards the slope prior by :attr:`shrinkage`, in full from
        :data:`SLOPE_PRIOR_RAMP` times the last round on.
        """
        x = np.asarray(n_labels, dtype=float) / self.n_ref
        dist = np.log(np.maximum(x, 1.0))  # distance past the last pilot round, in log labels
        logs = np.log(np.clip(np.array([f.error(x) for f in self.fits]), ERROR_MIN, 1.0))
        at_1 = np.log(
            np.clip(
                np.array([f.error(np.array([1.0, TANGENT_STEP])) for f in self.fits]),
                ERROR_MIN,
                1.0,
            )
        )
        slope = np.minimum((at_1[:, 1] - at_1[:, 0]) / np.log(TANGENT_STEP), 0.0)
        tangent = at_1[:, :1] + slope[:, None] * dist
        logs = np.maximum(logs, tangent)
        center = self.weights @ logs
        spread = np.sqrt(self.weights @ (logs - center) ** 2)
        prior = self.weights @ at_1[:, 0] + SLOPE_PRIOR_MEAN * dist
        # the pilot's own trend holds near it; the prior's weight grows over the first decade past it
        ramp = np.minimum(dist / np.log(SLOPE_PRIOR_RAMP), 1.0)
        keep = 1.0 - self.shrinkage * ramp
        return keep * center + (1.0 - keep) * prior, keep * spread

    def sample(self, n_draws: int, rng: np.random.Generator) -> CurveDraws:
        """Draw ``n_draws`` whole curves on the forecast grid (vectorised; one row per draw).

        The draws are built size by size (a size-major table, of which the result is a transposed view), so
        that the running minimum along the sizes runs over whole contiguous rows.
        """
        x = X_GRID
        center, spread = self.log_center(x * self.n_ref)
        dist = np.log(np.maximum(x, 1.0))  # distance past the last pilot round, in log labels
        z = rng.standard_normal((n_draws, 3))
        z0, z1, z2 = (np.ascontiguousarray(z[:, i]) for i in range(3))
        # the slope's posterior spread under the prior: slope_sd * sqrt(1 - shrinkage)
        slope = np.hypot(self.drift, self.slope_sd * np.sqrt(1.0 - self.shrinkage))
        # log error = center + z0 * spread + z1 * level_sd + (z2 * slope) * dist (sizes x draws)
        log_err = np.multiply.outer(spread, z0)
        log_err += center[:, None]
        log_err += z1 * self.level_sd
        drift = z2 * slope
        for row in np.nonzero(dist)[0]:  # row by row: no second table in memory (dist is 0 up to the pilot)
            log_err[row] += dist[row] * drift
        if self.learned is not None:
            self._with_learned(log_err, rng.uniform(size=n_draws))
        err = np.clip(log_err, np.log(ERROR_MIN), 0.0, out=log_err)
        np.exp(err, out=err)
        # more labels never hurt: non-increasing from the first pilot round on, and never better before it;
        # with the learned model, from the last round on (its draws past the last round are its own, not
        # capped by the families' draws inside the pilot, which are lifted to them instead)
        first = int(np.searchsorted(x, self.n_labels[0] / self.n_ref))
        if self.learned is not None:
            first = self.learned.start
        for i in range(first + 1, len(x)):
            np.minimum(err[i - 1], err[i], out=err[i])
        for i in range(first - 1, -1, -1):
            np.maximum(err[i + 1], err[i], out=err[i])
        return CurveDraws(x * self.n_ref, err.T)

    def _with_learned(self, log_err: Array, u: Array) -> None:
        """The draws past the last round from the learned model (a quantile level ``u`` per draw, shared by
        every size), in place in the size-major table ``log_err``; past its farthest distance each draw goes
        on by its families' own trend."""
        path = self.learned
        assert path is not None
        out = log_err
        if path.stop < out.shape[0]:
            out[path.stop :] -= out[path.stop - 1]
        out[path.start : path.stop] = path.log_errors(u).T
        if path.stop < out.shape[0]:
            out[path.stop :] += out[path.stop - 1]

    def measured(self, n_labels: Array, draws: CurveDraws, z: Array) -> Array:
        """The error each draw would *measure* at ``n_labels`` (draws x sizes): its error there plus the noise
        of one new measurement (:func:`measurement_var` of the forecast's ``obs_*``) times ``z`` (standard
        normal, one per draw or per draw and size), within [0, 1]."""
        sizes = np.asarray(n_labels, dtype=float)
        err = draws.error_at(sizes)
        var = measurement_var(err, sizes, self.obs_n_eval, self.obs_std, self.obs_train_noise)
        out: Array = np.clip(err + np.sqrt(var) * z, 0.0, 1.0)
        return out

    def predict_error(
        self, n_labels: Array, draws: CurveDraws, rng: np.random.Generator, quantiles: Array
    ) -> Array:
        """Quantiles of the error a model trained on ``n_labels`` will *measure*: shape (len(q), m).

        Each draw gets one standard-normal measurement noise shared by every size, and each quantile is made
        non-increasing in the labels, so that more labels never forecast a worse quantile; sizes are
        processed in chunks to bound memory.
        """
        n = np.asarray(n_labels, dtype=float)
        z = rng.standard_normal((draws.n_draws, 1))
        out = np.empty((len(quantiles), len(n)))
        for start in range(0, len(n), PREDICT_CHUNK):
            measured = self.measured(n[start : start + PREDICT_CHUNK], draws, z)
            out[:, start : start + PREDICT_CHUNK] = np.quantile(measured, quantiles, axis=0)
        # the noise of measuring shrinks with the error: on a nearly flat stretch a draw's measurement may
        # come out a hair worse with more labels, which a forecast must not say
        order = np.argsort(n, kind="stable")
        out[:, order] = np.minimum.accumulate(out[:, order], axis=1)
        return out


def fit_learning_curve(
    n_labels: Array,
    errors: Array,
    noise_sd: Array,
    *,
    obs_n_eval: float | None = None,
    obs_std: float | None = None,
    obs_train_noise: float = 0.0,
    train_errors: Array | None = None,
    model: str | None = None,
    learned: LearnedCurveModel | None = None,
) -> CurveForecast:
    """Fit every registered family to pilot rounds and combine them into a forecast.

    Parameters
    ----------
    n_labels : increasing numbers of labels of the pilot rounds (count), at least 2.
    errors : measured error at each round, in [0, 1].
    noise_sd : measurement noise of each round (error units), > 0.
    obs_n_eval, obs_std, obs_train_noise : noise of a future measurement (see :func:`measurement_var`).
    train_errors : each round's error on its own training labels, or None (see :func:`pilot_rows`).
    model : the model family, or None when unknown.
    learned : a learned meta-model of the curve past the pilot (see :mod:`planner.curves.learned`); None
        forecasts with the families alone.

    Returns
    -------
    CurveForecast
    """
    n = np.asarray(n_labels, dtype=float)
    e = np.asarray(errors, dtype=float)
    noise = np.asarray(noise_sd, dtype=float)
    x = n / n[-1]
    sd = np.sqrt(noise**2 + (DISCREPANCY * e) ** 2 + NOISE_FLOOR**2)
    # the fits (and the level and slope they extrapolate) weigh rounds by their noise and a model discrepancy
    # that grows with the distance from the last round
    growth = 1.0 + DISCREPANCY_GROWTH * np.log(1.0 / x)
    sd_fit = np.sqrt(noise**2 + (DISCREPANCY * e * growth) ** 2 + NOISE_FLOOR**2)
    families = list(FAMILIES.values())
    fits = tuple(fit_family(f, x, e, sd_fit) for f in families)
    prior = np.array([f.prior_weight for f in families])
    # standard errors of the pilot's log level and log-log slope, by the fits' weighted regression
    w = (np.maximum(e, NOISE_FLOOR) / sd_fit) ** 2
    lx = np.log(x)
    centred = lx - (w @ lx) / w.sum()
    ss = float(w @ centred**2)
    slope_sd = float(np.sqrt(1.0 / ss)) if ss > 0 else 1.0
    return CurveForecast(
        n_labels=n,
        errors=e,
        noise_sd=sd,
        fits=fits,
        weights=prior / prior.sum(),
        level_sd=float(np.sqrt(1.0 / w.sum())),
        slope_sd=slope_sd,
        obs_n_eval=obs_n_eval,
        obs_std=obs_std,
        obs_train_noise=obs_train_noise,
        drift=DRIFT * REFERENCE_SPAN / max(float(np.log(n[-1] / n[0])), MIN_SPAN),
        shrinkage=slope_sd**2 / (slope_sd**2 + SLOPE_PRIOR_SD**2),
        learned=None if learned is None else learned_path(n, e, noise, train_errors, model, learned),
    )
