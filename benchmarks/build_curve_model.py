"""Build the learned learning-curve model shipped in ``planner/curves/learned_curve_model.json``.

Usage::

    python benchmarks/build_curve_model.py --curves CURVES.jsonl [--seed 0] [--out FILE] [--extra-curves FILE]

``CURVES.jsonl`` holds LCDB 1.1 curves (Yan, Mohr, Viering, NeurIPS 2025 Datasets and Benchmarks; CC BY 4.0),
one JSON object per line with ``dataset_name``, ``learner``, ``anchors``, ``values`` (test error, mean over
splits), ``values_sem``, ``values_std`` (one split's spread), ``train_values`` and ``train_values_sem``.

From every curve, seeded pilots are cut (2-5 rounds, a geometric grid of ratio 1.5-3, as a mean over the
splits or as a single run: the mean plus one split's noise, the same noise on rounds where the mean did not
move, since the same mean over every split means the same predictions; the training error and the model family
given or not) and paired with later anchors up to :data:`MAX_RATIO` times the last round. Two gradient-boosted
tree ensembles (scikit-learn) learn the median log error ratio (as a correction to the pilot's 3-parameter
power law, see ``planner/curves/learned.py``) and its absolute deviation from the pilot's features; a table of
the standardised deviations measured on held-out dataset groups (cross-fitting over :data:`N_FOLDS` group
folds), one per band of distances (:data:`N_BANDS`), calibrates the intervals, as split conformal prediction
does: on the pilots that give a signal (the forecast uses the model for those only), with its levels
recalibrated by where the held-out outcomes fall on the running minimum of each level's path
(:func:`path_levels`), since the forecast's draws never rise with more labels.
A second pair of ensembles, the labels model, learns the log labels to reach targets the curves reached
within :data:`MAX_RATIO` times the last round (:func:`labels_examples`, :func:`train_labels`), with its own
table of held-out deviations. The trees are exported as arrays and checked against scikit-learn's own
predictions. The same corpus and seed give the same bytes. ``--extra-curves`` builds from the curves of
another corpus as well (LCDB 1.0's, by ``benchmarks/lcdb1_curves.py``), named in the artifact's provenance.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from annoplan.planner.curves.forecast import LEARNED_POINTS
from annoplan.planner.curves.learned import (
    BASE,
    ERROR_FLOOR,
    FEATURES,
    LABELS_FEATURES,
    LABELS_MONOTONE,
    MAX_RATIO,
    LabelsModel,
    LearnedCurveModel,
    TreeEnsemble,
    band_deviation,
    dumps,
    labels_rows,
    pilot_rows,
    unchanged_steps,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from curve_backtest import scoring_targets

#: pilots cut from each curve, and horizons paired with each (the farthest: MAX_RATIO times the last round)
PILOTS_PER_CURVE = 6
HORIZONS_PER_PILOT = 5
#: the labels model's examples: later anchors whose targets each pilot is paired with, and the label of the
#: random stream of its pilots (apart from the curve model's, which stay as they were)
LABEL_HORIZONS_PER_PILOT = 2
LABELS_STREAM = 7
#: group folds of the cross-fitting behind the interval table
N_FOLDS = 5
#: quantile levels of the table of standardised deviations
LEVELS = np.round(np.linspace(0.01, 0.99, 99), 2)
#: bands of distances past the last round with a table each (equal widths up to log MAX_RATIO)
N_BANDS = 4
#: distances past the last round at which the forecast evaluates the model (``forecast.LEARNED_POINTS``
#: points up to log MAX_RATIO): the paths whose running minimum the interval table is calibrated on
COARSE = np.linspace(0.0, np.log(MAX_RATIO), LEARNED_POINTS)
#: smallest scale of the log ratio (log error units)
MIN_SCALE = 0.01
#: the boosted trees' settings (fixed, no early stopping: the build is one deterministic pass)
TREES = {"max_iter": 150, "learning_rate": 0.08, "max_leaf_nodes": 15, "min_samples_leaf": 40}

#: LCDB learners by model family (the pilot's ``model``)
LEARNER_FAMILIES = {
    **dict.fromkeys(
        (
            "LogisticRegression",
            "SGDClassifier",
            "RidgeClassifier",
            "Perceptron",
            "PassiveAggressive",
            "SVM_Linear",
            "LDA",
        ),
        "linear",
    ),
    **dict.fromkeys(("GaussianNB", "BernoulliNB", "MultinomialNB", "ComplementNB"), "naive_bayes"),
    "KNN": "nearest_neighbors",
    **dict.fromkeys(("SVM_RBF", "SVM_Poly", "SVM_Sigmoid"), "kernel_svm"),
    **dict.fromkeys(("Decision Tree", "ExtraTree"), "tree"),
    **dict.fromkeys(
        ("ens.RandomForest", "ens.ExtraTrees", "ens.GradientBoosting", "CatBoost"), "tree_ensemble"
    ),
    **dict.fromkeys(("MLP", "RealMLP", "TabNet"), "neural_network"),
    "TabPFNv2": "foundation_model",
}


@dataclass(frozen=True)
class LcdbCurve:
    """One LCDB curve: per anchor the test error (mean), its standard error and one split's spread, the
    training error (mean) and its standard error; ``group`` is its dataset group."""

    name: str
    group: str
    family: str
    anchors: np.ndarray
    values: np.ndarray
    sem: np.ndarray
    std: np.ndarray
    train: np.ndarray
    train_sem: np.ndarray


def dataset_group(name: str) -> str:
    """Datasets sharing a name, and the families ``OVA_*``, ``fri_c*`` and ``mfeat-*``, are one group."""
    for prefix in ("OVA_", "fri_c", "mfeat-"):
        if name.startswith(prefix):
            return prefix
    return re.sub(r"\s+", " ", name.strip().lower())


def load_lcdb(path: Path) -> list[LcdbCurve]:
    """LCDB curves from JSON lines; anchors missing any of the needed values are dropped."""
    out = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        keys = ("anchors", "values", "values_sem", "values_std", "train_values", "train_values_sem")
        cols = [np.array([np.nan if v is None else v for v in d[k]], float) for k in keys]
        keep = np.all([np.isfinite(c) for c in cols], axis=0) & (cols[0] > 0)
        keep &= (cols[1] >= 0) & (cols[1] <= 1)
        if keep.sum() < 8:
            continue
        a, v, sem, std, tr, tr_sem = (c[keep] for c in cols)
        order = np.argsort(a)
        name = str(d["dataset_name"])
        out.append(
            LcdbCurve(
                name=f"{name}#{d.get('dataset_id')}/{d['learner']}",
                group=dataset_group(name),
                family=LEARNER_FAMILIES.get(str(d["learner"]), "other"),
                anchors=a[order],
                values=v[order],
                sem=sem[order],
                std=std[order],
                train=tr[order],
                train_sem=tr_sem[order],
            )
        )
    return out


def pilot_anchor_indices(anchors: np.ndarray, last: int, k: int, ratio: float) -> np.ndarray | None:
    """Indices of the anchors nearest to ``anchors[last] / ratio**i``, i = k-1..0, or None if not distinct."""
    wanted = anchors[last] / ratio ** np.arange(k - 1, -1, -1)
    if wanted[0] < anchors[0] / 1.05:
        return None
    idx = np.array([int(np.argmin(np.abs(np.log(anchors / w)))) for w in wanted])
    return idx if len(np.unique(idx)) == k and idx[-1] == last else None


@dataclass(frozen=True)
class Pilot:
    """A pilot cut from a curve: its anchors ``idx`` (the last is ``last``), measured errors and noise, the
    training errors and model family it gives (None: not given), and whether it is a single run."""

    idx: np.ndarray
    last: int
    errors: np.ndarray
    noise: np.ndarray
    train: np.ndarray | None
    family: str | None
    single: bool


def cut_pilot(curve: LcdbCurve, rng: np.random.Generator) -> Pilot | None:
    """A seeded pilot of ``curve`` (2-5 rounds, a geometric grid of ratio 1.5-3, ending before the last
    anchor; a mean over the splits or a single run; its signals given or not), or None when the draw does not
    fit the curve's anchors."""
    a = curve.anchors
    k = int(rng.choice([2, 3, 4, 5], p=[0.1, 0.3, 0.3, 0.3]))
    ratio = float(np.exp(rng.uniform(np.log(1.5), np.log(3.0))))
    later = np.nonzero(a >= a[0] * ratio ** (k - 1))[0]
    later = later[later < len(a) - 1]
    if not len(later):
        return None
    last = int(rng.choice(later))
    idx = pilot_anchor_indices(a, last, k, ratio)
    if idx is None:
        return None
    single = bool(rng.random() < 0.5)
    if single:
        z = rng.normal(0.0, 1.0, k)
        for i in np.nonzero(unchanged_steps(curve.values[idx]))[0]:
            z[i + 1] = z[i]  # the same mean over every split: the same predictions, so one run's same error
        errors = np.clip(curve.values[idx] + z * curve.std[idx], 0.0, 1.0)
        noise = curve.std[idx]
        train = np.clip(curve.train[idx] + rng.normal(0.0, 1.0, k) * curve.train_sem[idx] * 5, 0, 1)
    else:
        errors, noise, train = curve.values[idx], curve.sem[idx], curve.train[idx]
    train_given = train if rng.random() < 0.5 else None
    family = curve.family if rng.random() < 0.5 else None
    return Pilot(idx, last, errors, noise, train_given, family, single)


def curve_examples(
    curve: LcdbCurve, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[float], list[float], list[tuple[bool, bool, bool]], list[np.ndarray]]:
    """Feature rows (with the distance), log ratios, distances and kinds (single run, training error given,
    family given) of the seeded pilots cut from ``curve``, and per example the rows of its pilot at the
    forecast's coarse distances (:data:`COARSE`, shared by the examples of one pilot)."""
    rows: list[np.ndarray] = []
    ys: list[float] = []
    ds: list[float] = []
    kinds: list[tuple[bool, bool, bool]] = []
    paths: list[np.ndarray] = []
    a = curve.anchors
    for _ in range(PILOTS_PER_CURVE):
        pilot = cut_pilot(curve, rng)
        if pilot is None:
            continue
        last = pilot.last
        d_max = min(np.log(a[-1] / a[last]), np.log(MAX_RATIO))
        horizons = []
        for d_wanted in rng.uniform(0.0, d_max, HORIZONS_PER_PILOT):
            h = int(np.argmin(np.abs(np.log(a / a[last]) - d_wanted)))
            if h <= last:
                h = last + 1
            if np.log(a[h] / a[last]) <= np.log(MAX_RATIO) + 1e-9:
                horizons.append(h)
        if not horizons:
            continue
        d = np.log(a[horizons] / a[last])
        both = pilot_rows(
            a[pilot.idx], pilot.errors, pilot.noise, np.concatenate([d, COARSE]), pilot.train, pilot.family
        )
        rows += list(both[: len(d)])
        paths += [both[len(d) :]] * len(d)
        log_last = np.log(max(pilot.errors[-1], ERROR_FLOOR))
        ys += [float(np.log(max(curve.values[h], ERROR_FLOOR)) - log_last) for h in horizons]
        ds += d.tolist()
        kinds += [(pilot.single, pilot.train is not None, pilot.family is not None)] * len(horizons)
    return rows, ys, ds, kinds, paths


def labels_examples(curves: list[LcdbCurve], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels rows (:func:`planner.curves.learned.labels_rows`), the log labels to reach each target over the
    last round's (the first anchor past it at or below the target) and the curve of each, for the seeded
    pilots of every curve: per pilot :data:`LABEL_HORIZONS_PER_PILOT` later anchors up to :data:`MAX_RATIO`
    times the last round, and at each the targets a backtest asks (``curve_backtest.scoring_targets``: 25/50/
    75% of the way there, and its error + 0.01), all reached by the curve."""
    rows: list[np.ndarray] = []
    ys: list[float] = []
    which: list[int] = []
    for i, curve in enumerate(curves):
        rng = np.random.default_rng([seed, LABELS_STREAM, *curve.name.encode()])
        a, v = curve.anchors, curve.values
        for _ in range(PILOTS_PER_CURVE):
            pilot = cut_pilot(curve, rng)
            if pilot is None:
                continue
            last = pilot.last
            end = int(np.searchsorted(a, a[last] * MAX_RATIO * (1 + 1e-9), side="right")) - 1
            if end <= last:
                continue
            targets, needed = [], []
            for h in rng.integers(last + 1, end + 1, size=LABEL_HORIZONS_PER_PILOT):
                for _, target in scoring_targets(float(v[last]), float(v[h])):
                    first = last + int(np.argmax(v[last:] <= target))
                    targets.append(target)
                    needed.append(float(np.log(a[first] / a[last])))
            if targets:
                rows += list(
                    labels_rows(
                        a[pilot.idx], pilot.errors, pilot.noise, np.array(targets), pilot.train, pilot.family
                    )
                )
                ys += needed
                which += [i] * len(targets)
    return np.array(rows), np.array(ys), np.array(which, dtype=np.intp)


@dataclass(frozen=True)
class Examples:
    """Every example: feature ``rows``, log ratio ``y``, dataset ``group``, curve index ``which``, ``kind``
    (see :func:`curve_examples`, three booleans) and ``path``, the index of its pilot's rows at the coarse
    distances in ``paths`` (n_pilots, len(COARSE), n_features)."""

    rows: np.ndarray
    y: np.ndarray
    group: np.ndarray
    which: np.ndarray
    kind: np.ndarray
    path: np.ndarray
    paths: np.ndarray


def make_examples(curves: list[LcdbCurve], seed: int) -> Examples:
    """The examples of every curve (one generator per curve and seed, so that a curve's examples do not depend
    on which other curves are in the set)."""
    rows: list[np.ndarray] = []
    ys: list[float] = []
    groups: list[str] = []
    which: list[int] = []
    kinds: list[tuple[bool, bool, bool]] = []
    path_of: list[int] = []
    paths: list[np.ndarray] = []
    for i, curve in enumerate(curves):
        rng = np.random.default_rng([seed, *curve.name.encode()])
        r, y, _, k, p = curve_examples(curve, rng)
        rows += r
        ys += y
        groups += [curve.group] * len(y)
        which += [i] * len(y)
        kinds += k
        for one in p:
            if not paths or paths[-1] is not one:
                paths.append(one)
            path_of.append(len(paths) - 1)
    return Examples(
        rows=np.array(rows),
        y=np.array(ys),
        group=np.array(groups),
        which=np.array(which),
        kind=np.array(kinds, dtype=bool).reshape(-1, 3),
        path=np.array(path_of, dtype=np.intp),
        paths=np.array(paths),
    )


def export_trees(model: HistGradientBoostingRegressor) -> TreeEnsemble:
    """The fitted trees as flat arrays (see :class:`TreeEnsemble`)."""
    features, thresholds, lefts, rights, values, roots = [], [], [], [], [], []
    depth, offset = 0, 0
    for (tree,) in model._predictors:
        nodes = tree.nodes
        leaf = nodes["is_leaf"].astype(bool)
        features.append(np.where(leaf, -1, nodes["feature_idx"].astype(np.intp)))
        thresholds.append(np.where(leaf, 0.0, nodes["num_threshold"]))
        lefts.append(np.where(leaf, 0, nodes["left"].astype(np.intp) + offset))
        rights.append(np.where(leaf, 0, nodes["right"].astype(np.intp) + offset))
        values.append(np.where(leaf, nodes["value"], 0.0))
        roots.append(offset)
        depth = max(depth, int(nodes["depth"].max()))
        offset += len(nodes)
    return TreeEnsemble(
        baseline=float(np.ravel(model._baseline_prediction)[0]),
        feature=np.concatenate(features),
        threshold=np.concatenate(thresholds),
        left=np.concatenate(lefts),
        right=np.concatenate(rights),
        value=np.concatenate(values),
        roots=np.array(roots, dtype=np.intp),
        depth=depth,
    )


def fit_trees(
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    monotone: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> TreeEnsemble:
    """Median regression trees (``monotone``: per feature -1, 0 or 1, the direction the prediction must
    keep), exported and checked against scikit-learn's predictions."""
    model = HistGradientBoostingRegressor(
        loss="absolute_error", early_stopping=False, random_state=seed, monotonic_cst=monotone, **TREES
    ).fit(x, y, sample_weight=weight)
    trees = export_trees(model)
    check = x[:: max(1, len(x) // 2000)]
    if not np.allclose(trees.predict(check), model.predict(check), rtol=0, atol=1e-9):
        raise RuntimeError("the exported trees do not reproduce scikit-learn's predictions")
    return trees


def group_folds(groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """A fold number per example: dataset groups shuffled by ``seed`` and dealt round robin."""
    names = np.array(sorted(set(groups.tolist())))
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of = {str(names[j]): i % n_folds for i, j in enumerate(order)}
    return np.array([fold_of[g] for g in groups.tolist()])


def train(curves: list[LcdbCurve], seed: int) -> LearnedCurveModel:
    """The meta-model and its interval table from ``curves`` (see the module docstring)."""
    ex = make_examples(curves, seed)
    x, y, which = ex.rows, ex.y, ex.which
    distance = x[:, FEATURES.index("distance")]
    fold = group_folds(ex.group, N_FOLDS, seed)
    # out-of-group medians, then out-of-group scales of their deviations: the table's deviations are all
    # measured on dataset groups that neither fit saw
    # the median's trees learn the log ratio less the power law's (feature BASE)
    base = x[:, BASE]
    center_oof = np.empty_like(y)
    centers, scales = [], []
    for k in range(N_FOLDS):
        held = fold == k
        centers.append(fit_trees(x[~held], y[~held] - base[~held], seed))
        center_oof[held] = base[held] + centers[-1].predict(x[held])
    deviation = np.abs(y - center_oof)
    scale_oof = np.empty_like(y)
    for k in range(N_FOLDS):
        held = fold == k
        scales.append(fit_trees(x[~held], deviation[~held], seed))
        scale_oof[held] = scales[-1].predict(x[held])
    standardised = (y - center_oof) / np.maximum(scale_oof, MIN_SCALE)
    # the table is calibrated on the pilots the forecast uses it for: those giving a signal (model or
    # train_value); every curve weighs the same in it, however many examples it gave
    signal = ex.kind[:, 1] | ex.kind[:, 2]
    weight = np.where(signal, 1.0 / np.bincount(which, weights=signal.astype(float))[which].clip(1.0), 0.0)
    edges = np.linspace(0.0, np.log(MAX_RATIO), N_BANDS + 1)
    band = np.clip(np.searchsorted(edges, distance, side="right") - 1, 0, N_BANDS - 1)
    bands = (edges[:-1] + edges[1:]) / 2
    in_band = [signal & (band == b) for b in range(N_BANDS)]
    table = np.array([weighted_quantiles(standardised[m], weight[m], LEVELS) for m in in_band])
    # the forecast's draws never rise with more labels (a running minimum of each draw's quantile path),
    # which lowers its quantiles: the levels are recalibrated on the same held-out examples, by the level
    # of the running-minimum path each outcome falls at (its probability integral transform)
    pit = path_levels(ex, fold, centers, scales, table, bands)
    table = np.array(
        [
            np.interp(weighted_quantiles(pit[m], weight[m], LEVELS), LEVELS, row)
            for m, row in zip(in_band, table, strict=True)
        ]
    )
    center = fit_trees(x, y - base, seed)
    scale = fit_trees(x, deviation, seed)
    labels = train_labels(curves, seed)
    return LearnedCurveModel(
        center=center,
        scale=scale,
        levels=LEVELS.astype(float),
        table=table,
        bands=bands,
        max_distance=float(np.log(MAX_RATIO)),
        min_scale=MIN_SCALE,
        labels=labels,
        provenance={
            "corpus": "LCDB 1.1 (Yan, Mohr, Viering, NeurIPS 2025 Datasets and Benchmarks), CC BY 4.0",
            "calibration": (
                "per band of distance, quantiles of the standardised deviations of held-out dataset groups, "
                "on the pilots giving model or train_value; levels recalibrated by where held-out outcomes "
                "fall on the running minimum of each level's path (the forecast's draws never rise)"
            ),
            "curves": len(curves),
            "dataset_groups": len(set(c.group for c in curves)),
            "examples": len(y),
            "labels_calibration": (
                "labels to reach targets the curves reached within 100x the last round; quantiles of the "
                "standardised deviations of held-out dataset groups"
            ),
            "seed": seed,
            "scikit_learn": sklearn.__version__,
            "script": "benchmarks/build_curve_model.py",
        },
    )


def train_labels(curves: list[LcdbCurve], seed: int) -> LabelsModel:
    """The labels model (:class:`planner.curves.learned.LabelsModel`) from ``curves``: median and scale trees,
    and the quantiles of the deviations over the scale of dataset groups each fit did not see (cross-fitting
    over :data:`N_FOLDS` group folds; every curve weighs the same)."""
    x, y, which = labels_examples(curves, seed)
    group = np.array([curves[i].group for i in which])
    fold = group_folds(group, N_FOLDS, seed)
    monotone = np.array([LABELS_MONOTONE.get(name, 0) for name in LABELS_FEATURES])
    weight = 1.0 / np.bincount(which)[which]
    center_oof, scale_oof = np.empty_like(y), np.empty_like(y)
    for k in range(N_FOLDS):
        held = fold == k
        center_oof[held] = fit_trees(x[~held], y[~held], seed, monotone, weight[~held]).predict(x[held])
    deviation = np.abs(y - center_oof)
    for k in range(N_FOLDS):
        held = fold == k
        scale_oof[held] = fit_trees(x[~held], deviation[~held], seed, weight=weight[~held]).predict(x[held])
    standardised = (y - center_oof) / np.maximum(scale_oof, MIN_SCALE)
    return LabelsModel(
        center=fit_trees(x, y, seed, monotone, weight),
        scale=fit_trees(x, deviation, seed, weight=weight),
        levels=LEVELS.astype(float),
        table=weighted_quantiles(standardised, weight, LEVELS),
        min_scale=MIN_SCALE,
    )


def path_levels(
    ex: Examples,
    fold: np.ndarray,
    centers: list[TreeEnsemble],
    scales: list[TreeEnsemble],
    table: np.ndarray,
    bands: np.ndarray,
) -> np.ndarray:
    """Per example, the quantile level in [0, 1] at which its outcome falls on its pilot's forecast paths,
    by the models of the folds that did not see it: at each level of ``table`` the path of the median plus
    the scale times the standardised deviation at the coarse distances, made non-increasing by a running
    minimum as the forecast's draws are, interpolated at the example's distance (0 below the lowest level's
    path, 1 above the highest's)."""
    dev = band_deviation(LEVELS.astype(float), table, bands, LEVELS, COARSE)  # (levels, coarse)
    distance = ex.rows[:, FEATURES.index("distance")]
    out = np.empty(len(ex.y))
    for k in range(N_FOLDS):
        held = np.nonzero(fold == k)[0]
        pilots, local = np.unique(ex.path[held], return_inverse=True)
        flat = ex.paths[pilots].reshape(-1, ex.paths.shape[-1])
        center = (flat[:, BASE] + centers[k].predict(flat)).reshape(len(pilots), len(COARSE))
        scale = np.maximum(scales[k].predict(flat), MIN_SCALE).reshape(len(pilots), len(COARSE))
        paths = np.minimum.accumulate(center[:, None, :] + scale[:, None, :] * dev[None], axis=2)
        pos = np.clip(distance[held] / (COARSE[1] - COARSE[0]), 0.0, len(COARSE) - 1.0)
        lo = np.minimum(pos.astype(np.intp), len(COARSE) - 2)
        frac = (pos - lo)[:, None]
        at = paths[local, :, lo] * (1.0 - frac) + paths[local, :, lo + 1] * frac  # (examples, levels)
        below = (at < ex.y[held, None]).sum(axis=1)
        i = np.clip(below, 1, len(LEVELS) - 1)
        rows = np.arange(len(held))
        share = (ex.y[held] - at[rows, i - 1]) / np.maximum(at[rows, i] - at[rows, i - 1], 1e-12)
        level = LEVELS[i - 1] + np.clip(share, 0.0, 1.0) * (LEVELS[i] - LEVELS[i - 1])
        out[held] = np.where(below == 0, 0.0, np.where(below == len(LEVELS), 1.0, level))
    return out


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles of ``values`` at ``levels`` with ``weights`` (the inverted weighted CDF)."""
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(weights[order]) / weights.sum()
    pos = np.minimum(np.searchsorted(cdf, levels), len(values) - 1)
    return values[order][pos]


def sources(path: Path) -> list[str]:
    """The distinct ``source`` of the curves in ``path`` (JSON lines), for the artifact's provenance."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return sorted({str(json.loads(line).get("source", "unnamed")) for line in lines})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=Path, required=True, help="LCDB curves, JSON lines")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "planner" / "curves" / "learned_curve_model.json",
    )
    parser.add_argument(
        "--extra-curves", type=Path, help="curves of another corpus to build from as well (JSON lines)"
    )
    args = parser.parse_args(argv)
    with threadpool_limits(1):
        curves = load_lcdb(args.curves)
        extra = [] if args.extra_curves is None else load_lcdb(args.extra_curves)
        model = train(curves + extra, args.seed)
    if extra:
        model = dataclasses.replace(
            model,
            provenance=model.provenance
            | {"extra_corpus": sources(args.extra_curves), "extra_curves": len(extra)},
        )
    text = dumps(model)
    args.out.write_text(text)
    print(f"command: {' '.join(['python', *sys.argv])}")
    print(
        f"{len(curves)} curves (and {len(extra)} extra), {model.provenance['examples']} examples -> "
        f"{args.out.name} ({len(text)} bytes)"
    )
    print(
        "table (P10, P50, P90) by band of distance:",
        [[round(float(np.interp(q, model.levels, row)), 3) for q in (0.1, 0.5, 0.9)] for row in model.table],
    )


if __name__ == "__main__":
    main()
