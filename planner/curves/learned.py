"""A learning-curve forecast learned from real curves: the log error ratio past the pilot, with intervals.

A meta-model, trained on thousands of real learning curves (LCDB 1.1, cited in docs/forecasting.md), predicts
from features of the pilot (:func:`pilot_rows`) how the log error moves from the last pilot round to ``d`` log
labels past it: ``log e(n_last * exp(d)) - log e_last``. It is two ensembles of regression trees, for the
median of that log ratio and for its typical absolute deviation (the scale), and a table of quantiles of the
deviation divided by the scale, measured on dataset groups held out of the fits (split conformal prediction by
groups), one table per band of distances (far past the pilot the deviations have heavier tails than the scale
alone says), interpolated between the bands' middles: ``P_q = median + scale * table(q, d)``. The table is
measured on the pilots the forecast uses it for (those giving ``model`` or ``train_value``), and its levels
are recalibrated on the same held-out outcomes for the forecast's draws, whose paths never rise with more
labels (a running minimum, which lowers every quantile): level ``q`` of the table is the level at which a
share ``q`` of held-out outcomes falls below the running minimum of the paths. The median's trees learn a
correction to a 3-parameter power law fitted to the pilot (its log ratio at ``d`` is a feature, and the trees
predict what the curve does beyond it): trees are steps, and a product like slope x distance is what they
approximate worst.

A second meta-model (:class:`LabelsModel`) answers labels-to-reach directly: from the pilot's features and a
target's (:func:`labels_rows`) it predicts the log of the labels to reach the target over the last round's,
trained on targets real curves reached within :data:`MAX_RATIO` times the last round (the question is asked of
a target that is reached; whether it is, is the curve draws' ``probability_reachable``), with the same median
and scale trees and a conformal table of held-out groups. A forecast of the curve is a poor forecast of the
labels: where the curve flattens a small error in the level is a large one in the labels.

The artifact is plain JSON (trees as arrays, see :class:`TreeEnsemble`) rebuilt bit for bit by
``benchmarks/build_curve_model.py`` from the corpus and a seed; nothing here needs scikit-learn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from annoplan.planner.curves.families import Pow3
from annoplan.planner.curves.least_squares import fit_family
from annoplan.planner.schemas.curves import MODEL_FAMILIES

Array = npt.NDArray[np.float64]

#: file of the shipped artifact, next to this module
ARTIFACT = "learned_curve_model.json"
#: errors below this are read as this in the features and the log ratio (a perfect round is not log 0)
ERROR_FLOOR = 1e-3
#: two rounds whose errors differ by no more than this measured the same predictions (a model that has not
#: started learning from its labels: most often it predicts the majority class)
UNCHANGED = 1e-9
#: stands for a signal the pilot does not give (train_value): outside every real feature's range
MISSING = -9.0
#: model families, in the order of their indicator features (``other`` for unknown)
FAMILIES = MODEL_FAMILIES
#: features of a row that depend on the distance past the last round: the distance (log labels), the log
#: ratios the pilot's log-log slope and last slope extrapolate to there (flat when they rise), and the log
#: ratio of the pilot's 3-parameter power law there (the base of the median, see the module docstring)
DISTANCE_FEATURES = ("distance", "slope_path", "slope_last_path", "pow3_path")
#: relative model discrepancy of the power-law fit's weights (share of each round's error)
POW3_DISCREPANCY = 0.02
#: names of the features, in order: the pilot's, then :data:`DISTANCE_FEATURES`
FEATURES = (
    "log_error",
    "log_labels",
    "log_span",
    "slope",
    "slope_last",
    "curvature",
    "residual_last",
    "noise",
    "train_error",
    "gap",
    "unchanged",
    "accuracy_slope",
    "accuracy_slope_last",
    *(f"is_{f}" for f in FAMILIES),
    *DISTANCE_FEATURES,
)
#: index of the power law's log ratio in a row (the median adds it to its trees)
BASE = FEATURES.index("pow3_path")
#: the farthest distance past the last round a labels target is learned for, as a multiple of the last round
MAX_RATIO = 100.0
#: features of a labels row after the pilot's: the target's log ratio to the last round's error, its distance
#: below the last round in that round's noise, and the log labels past the last round at which the pilot's
#: 3-parameter power law, its log-log slope and its last slope reach it (:data:`REACH_CAP` + 1: never)
TARGET_FEATURES = ("target_ratio", "target_noise", "pow3_reach", "slope_reach", "slope_last_reach")
LABELS_FEATURES = (*FEATURES[: -len(DISTANCE_FEATURES)], *TARGET_FEATURES)
#: the farthest log labels past the last round the reach features look (10^4 times the last round)
REACH_CAP = float(np.log(1e4))
#: distances at which the power law is searched for its reach (log labels past the last round)
REACH_GRID = np.linspace(0.0, REACH_CAP, 60)
#: direction of each target feature in the median of the labels: a harder target never needs fewer
LABELS_MONOTONE = dict(zip(TARGET_FEATURES, (-1, 1, 1, 1, 1), strict=True))


def unchanged_steps(errors: Array) -> npt.NDArray[np.bool_]:
    """Whether each step between consecutive rounds left the error where it was (by :data:`UNCHANGED` at
    most): the same predictions measured again."""
    return np.abs(np.diff(np.asarray(errors, dtype=float))) <= UNCHANGED


def pilot_features(
    n_labels: Array,
    errors: Array,
    noise_sd: Array,
    train_errors: Array | None = None,
    model: str | None = None,
) -> Array:
    """Features of a pilot, without the distance's (one row, ``len(FEATURES) - len(DISTANCE_FEATURES)``
    values).

    Parameters
    ----------
    n_labels : increasing labels of the pilot rounds (count), at least 2.
    errors : measured error of each round, in [0, 1].
    noise_sd : measurement noise of each round (error units).
    train_errors : error of each round's model on its own training labels, or None when not given.
    model : model family (one of :data:`FAMILIES`), None for unknown.

    Returns
    -------
    numpy.ndarray
        level (log error of the last round), log labels of the last round, span of the pilot (log labels),
        log-log slope over the pilot and over its last two rounds, curvature (last slope minus first),
        the last round's distance from the pilot's log-log line, its relative noise, its training error and
        relative train-test gap (:data:`MISSING` without ``train_errors``), the share of its steps whose
        error did not move (by :data:`UNCHANGED` at most), the log-log slope of its accuracy (1 - error) over
        the pilot and over its last two rounds, and family indicators.
    """
    n = np.asarray(n_labels, dtype=float)
    log_n = np.log(n)
    log_e = np.log(np.maximum(np.asarray(errors, dtype=float), ERROR_FLOOR))
    slope, intercept = np.polyfit(log_n, log_e, 1)
    steps = np.diff(log_e) / np.diff(log_n)
    e_last = float(np.exp(log_e[-1]))
    if train_errors is None:
        train_error, gap = MISSING, MISSING
    else:
        train_error = float(train_errors[-1])
        gap = (e_last - train_error) / e_last
    family = model if model in FAMILIES else "other"
    e = np.asarray(errors, dtype=float)
    log_a = np.log(np.maximum(1.0 - e, ERROR_FLOOR))
    accuracy_steps = np.diff(log_a) / np.diff(log_n)
    return np.array(
        [
            log_e[-1],
            log_n[-1],
            log_n[-1] - log_n[0],
            slope,
            steps[-1],
            steps[-1] - steps[0],
            log_e[-1] - (intercept + slope * log_n[-1]),
            float(noise_sd[-1]) / e_last,
            train_error,
            gap,
            float(np.mean(unchanged_steps(e))),
            np.polyfit(log_n, log_a, 1)[0],
            accuracy_steps[-1],
            *(float(f == family) for f in FAMILIES),
        ]
    )


def pow3_log_ratio(n_labels: Array, errors: Array, noise_sd: Array, distances: Array) -> Array:
    """Log ratio ``log f(n_last * exp(d)) - log f(n_last)`` of a 3-parameter power law ``f`` fitted to the
    pilot: its change past the last round, whatever its own level there (the forecast's anchor is the
    measured last round, and a noisy pilot's fit may pass far from it).

    Weighted by each round's noise and a relative discrepancy :data:`POW3_DISCREPANCY`; errors below
    :data:`ERROR_FLOOR` count as the floor.
    """
    n = np.asarray(n_labels, dtype=float)
    e = np.asarray(errors, dtype=float)
    sd = np.sqrt(np.asarray(noise_sd, dtype=float) ** 2 + (POW3_DISCREPANCY * e) ** 2 + ERROR_FLOOR**2)
    fit = fit_family(Pow3, n / n[-1], e, sd)
    at = np.exp(np.concatenate([[0.0], np.asarray(distances, dtype=float)]))
    log_f = np.log(np.maximum(fit.error(at), ERROR_FLOOR))
    relative: Array = log_f[1:] - log_f[0]
    return relative


def pilot_rows(
    n_labels: Array,
    errors: Array,
    noise_sd: Array,
    distances: Array,
    train_errors: Array | None = None,
    model: str | None = None,
    pow3: Array | None = None,
) -> Array:
    """Feature rows (one per distance past the last round, log labels) of a pilot: :data:`FEATURES`.

    The pilot's own features (:func:`pilot_features`, same parameters) and, per distance,
    :data:`DISTANCE_FEATURES`; ``pow3``: the power law's log ratios there (:func:`pow3_log_ratio`), when
    already computed.
    """
    features = pilot_features(n_labels, errors, noise_sd, train_errors, model)
    d = np.asarray(distances, dtype=float)
    slope, slope_last = (features[FEATURES.index(k)] for k in ("slope", "slope_last"))
    return np.column_stack(
        [
            np.broadcast_to(features, (d.size, features.size)),
            d,
            min(slope, 0.0) * d,
            min(slope_last, 0.0) * d,
            pow3_log_ratio(n_labels, errors, noise_sd, d) if pow3 is None else pow3,
        ]
    )


def labels_rows(
    n_labels: Array,
    errors: Array,
    noise_sd: Array,
    targets: Array,
    train_errors: Array | None = None,
    model: str | None = None,
    pow3: Array | None = None,
) -> Array:
    """Feature rows (one per target error in ``targets``) of the labels model: :data:`LABELS_FEATURES`.

    The pilot's own features (:func:`pilot_features`, same parameters) and, per target, its log ratio to the
    last round's error, its distance below that round in the round's noise, and where the pilot's power law
    (:func:`pow3_log_ratio`), its log-log slope and its last slope reach it, in log labels past the last round
    (0 for a target at or above the last round, :data:`REACH_CAP` + 1 when they never do); ``pow3``: the
    power law's log ratios at :data:`REACH_GRID`, when already computed.
    """
    features = pilot_features(n_labels, errors, noise_sd, train_errors, model)
    t = np.maximum(np.asarray(targets, dtype=float), ERROR_FLOOR)
    e_last = float(np.asarray(errors, dtype=float)[-1])
    ratio = np.log(t / max(e_last, ERROR_FLOOR))
    below = (e_last - t) / max(float(np.asarray(noise_sd, dtype=float)[-1]), 1e-4)
    never = REACH_CAP + 1.0
    path = pow3_log_ratio(n_labels, errors, noise_sd, REACH_GRID) if pow3 is None else pow3
    reached = path[None, :] <= ratio[:, None]
    pow3_reach = np.where(reached.any(axis=1), REACH_GRID[reached.argmax(axis=1)], never)

    def by_slope(slope: float) -> Array:
        with np.errstate(divide="ignore"):
            d = ratio / min(slope, -1e-3)
        return np.where(ratio < 0, np.minimum(d, never), 0.0)

    slope, slope_last = (features[FEATURES.index(k)] for k in ("slope", "slope_last"))
    return np.column_stack(
        [
            np.broadcast_to(features, (t.size, features.size)),
            ratio,
            below,
            pow3_reach,
            by_slope(slope),
            by_slope(slope_last),
        ]
    )


@dataclass(frozen=True)
class TreeEnsemble:
    """Regression trees as flat arrays: the prediction is ``baseline`` plus the sum of every tree's leaf.

    Node ``i`` sends a row left when ``x[feature[i]] <= threshold[i]``, to ``left[i]``, else to
    ``right[i]`` (indices into the same arrays); a leaf has ``feature[i] == -1`` and its value in
    ``value[i]``. ``roots`` holds each tree's first node, ``depth`` the deepest path.
    """

    baseline: float
    feature: npt.NDArray[np.intp]
    threshold: Array
    left: npt.NDArray[np.intp]
    right: npt.NDArray[np.intp]
    value: Array
    roots: npt.NDArray[np.intp]
    depth: int

    def predict(self, x: Array) -> Array:
        """Predictions for rows ``x`` (m, n_features): all trees at once, one step per level."""
        x = np.asarray(x, dtype=float)
        node = np.broadcast_to(self.roots, (x.shape[0], self.roots.size)).copy()
        rows = np.arange(x.shape[0])[:, None]
        for _ in range(self.depth):
            feature = self.feature[node]
            inner = feature >= 0
            goes_left = x[rows, np.maximum(feature, 0)] <= self.threshold[node]
            node = np.where(inner, np.where(goes_left, self.left[node], self.right[node]), node)
        total: Array = self.baseline + self.value[node].sum(axis=1)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "feature": self.feature.tolist(),
            "threshold": self.threshold.tolist(),
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "value": self.value.tolist(),
            "roots": self.roots.tolist(),
            "depth": self.depth,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TreeEnsemble:
        return cls(
            baseline=float(d["baseline"]),
            feature=np.array(d["feature"], dtype=np.intp),
            threshold=np.array(d["threshold"], dtype=float),
            left=np.array(d["left"], dtype=np.intp),
            right=np.array(d["right"], dtype=np.intp),
            value=np.array(d["value"], dtype=float),
            roots=np.array(d["roots"], dtype=np.intp),
            depth=int(d["depth"]),
        )


def band_deviation(levels: Array, table: Array, bands: Array, u: Array, distances: Array) -> Array:
    """Standardised deviation (len(u), len(distances)) at quantile levels ``u`` and ``distances`` by a table
    of quantiles (at ``levels``) per band of distances (middles ``bands``): linear along the levels (flat
    beyond the table's ends) and between the bands' middles."""
    per_band = np.array([np.interp(u, levels, row) for row in table])  # (bands, len(u))
    d = np.asarray(distances, dtype=float)
    weights = np.array([np.interp(d, bands, np.eye(len(bands))[b]) for b in range(len(bands))])
    deviation: Array = per_band.T @ weights
    return deviation


def check_features(
    d: dict[str, Any], features: tuple[str, ...], part: str, keys: tuple[str, ...] = ()
) -> None:
    """Refuse an artifact part ``d`` built for other ``features`` than this code's, or without one of
    ``keys``, with advice."""
    if list(d.get("features", [])) != list(features) or any(key not in d for key in keys):
        raise ValueError(
            f"the learned {part} model was built for other features: rebuild it with "
            "benchmarks/build_curve_model.py"
        )


@dataclass(frozen=True)
class LabelsModel:
    """The meta-model of labels to reach a target (see the module docstring): trees of the median of ``log(n
    / n_last)`` and of its typical absolute deviation, and the quantiles (``table`` at ``levels``) of the
    deviation over the scale on held-out dataset groups."""

    center: TreeEnsemble
    scale: TreeEnsemble
    levels: Array
    table: Array
    min_scale: float

    def log_ratios(self, rows: Array, levels: Array) -> Array:
        """Log labels over the last round's at quantile ``levels`` (within the table's: flat beyond its
        ends), per row of :func:`labels_rows`: shape (len(rows), len(levels))."""
        rows = np.asarray(rows, dtype=float)
        center = self.center.predict(rows)
        scale = np.maximum(self.scale.predict(rows), self.min_scale)
        deviation = np.interp(np.asarray(levels, dtype=float), self.levels, self.table)
        out: Array = center[:, None] + scale[:, None] * deviation[None, :]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(LABELS_FEATURES),
            "center": self.center.to_dict(),
            "scale": self.scale.to_dict(),
            "levels": self.levels.tolist(),
            "table": self.table.tolist(),
            "min_scale": self.min_scale,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelsModel:
        check_features(d, LABELS_FEATURES, "labels")
        return cls(
            center=TreeEnsemble.from_dict(d["center"]),
            scale=TreeEnsemble.from_dict(d["scale"]),
            levels=np.array(d["levels"], dtype=float),
            table=np.array(d["table"], dtype=float),
            min_scale=float(d["min_scale"]),
        )


@dataclass(frozen=True)
class LearnedCurveModel:
    """The meta-model of the log error ratio past the pilot (see the module docstring).

    Attributes
    ----------
    center, scale : trees of the median log ratio (less the power law's, feature :data:`BASE`) and of its
        typical absolute deviation.
    levels, table : quantile levels in (0, 1) and, per band of distances (rows), the quantiles of
        (log ratio - median) / scale there, on held-out dataset groups.
    bands : the middle of each band (log labels past the last round): between two middles the tables are
        interpolated linearly, beyond the first and last the nearest holds.
    max_distance : the farthest distance past the last round it was trained on (log labels); past it the
        forecast continues with the parametric families' trend.
    min_scale : smallest scale used (log error units).
    labels : the meta-model of labels to reach a target.
    provenance : how and from what it was built.
    """

    center: TreeEnsemble
    scale: TreeEnsemble
    levels: Array
    table: Array
    bands: Array
    max_distance: float
    min_scale: float
    labels: LabelsModel
    provenance: dict[str, Any]

    def predict(self, rows: Array) -> tuple[Array, Array]:
        """Median log ratio and scale of each feature row (:func:`pilot_rows`)."""
        rows = np.asarray(rows, dtype=float)
        return rows[:, BASE] + self.center.predict(rows), np.maximum(self.scale.predict(rows), self.min_scale)

    def deviation(self, u: Array, distances: Array) -> Array:
        """Standardised deviation (len(u), len(distances)) at quantile levels ``u`` and ``distances``
        (:func:`band_deviation` of the model's table)."""
        return band_deviation(self.levels, self.table, self.bands, u, distances)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "center": self.center.to_dict(),
            "scale": self.scale.to_dict(),
            "levels": self.levels.tolist(),
            "table": self.table.tolist(),
            "bands": self.bands.tolist(),
            "max_distance": self.max_distance,
            "min_scale": self.min_scale,
            "labels": self.labels.to_dict(),
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LearnedCurveModel:
        check_features(d, FEATURES, "curve", keys=("bands", "labels"))
        return cls(
            center=TreeEnsemble.from_dict(d["center"]),
            scale=TreeEnsemble.from_dict(d["scale"]),
            levels=np.array(d["levels"], dtype=float),
            table=np.array(d["table"], dtype=float),
            bands=np.array(d["bands"], dtype=float),
            max_distance=float(d["max_distance"]),
            min_scale=float(d["min_scale"]),
            labels=LabelsModel.from_dict(d["labels"]),
            provenance=dict(d["provenance"]),
        )


def dumps(model: LearnedCurveModel) -> str:
    """The artifact's JSON text (stable: the same model always gives the same bytes)."""
    return json.dumps(model.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"


@cache
def load_learned_model() -> LearnedCurveModel:
    """The shipped meta-model (read once per process)."""
    text = Path(__file__).with_name(ARTIFACT).read_text(encoding="utf-8")
    return LearnedCurveModel.from_dict(json.loads(text))
