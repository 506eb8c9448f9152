"""Backtest of learning-curve forecasts on real curves, side by side with a naive power law.

Usage::

    python benchmarks/curve_backtest.py --curves CURVES.jsonl --datasets DATA_DIR [--rounds 4 5] [--seeds N]
        [--first-seed S] [--per-curve] [--parts] [--signals] [--reach] [--save-curves FILE]

``CURVES.jsonl`` holds real learning curves, one JSON object per line with ``anchors`` (training-set sizes),
``values`` (test error at each anchor, mean over splits) and optionally ``values_sem`` (their standard errors)
or ``n_eval`` (the evaluation-set size of a single labeling run). ``DATA_DIR`` holds
datasets as ``.npz`` (arrays ``X``, ``y``, optional ``text`` and ``categorical``): on each, random labeling is
replayed by the pool simulator (logistic regression on the default features, a fixed held-out evaluation
set), which gives ``--seeds`` more real labeling runs per dataset (seeds ``--first-seed`` on: the constants
were tuned on seeds 0-2, so later seeds are held-out runs).

For every curve, the pilot is 4 (or 5) rounds on a doubling grid up to ~10% of the horizon; the forecast is
judged at the horizon (~8-10x the last pilot round):

- ``mae``: median absolute error of the P50 of the metric at the horizon;
- ``cover``: share of horizons inside the P10-P90 interval (honest: ~0.8);
- ``x2``: share of targets whose labels-to-reach P50 is within a factor 2 of the truth (targets at 25/50/75%
  of the way from the last pilot value to the horizon value; the truth is the first anchor reaching them);
- ``lcover``: share of those targets whose true labels lie in the labels-to-reach P10-P90 (null = never);
- ``x2h``, ``lch``: the same for one target per pilot, the horizon value + 0.01 (where the last pilot round
  is above it), the protocol of the issue's own benchmark;
- ``ms``: median time of one forecast.

Under each set, 90% intervals of ``cover`` and ``lcover`` by a bootstrap over curves: with a few dozen
replayed runs a share moves by +-0.1 from one draw of runs to the next. Every scored target is one the curve
reached (its truth exists only then), so a labels P90 that says "never" always covers it: where the forecast
gives a target a real chance of never being reached, ``lcover`` on reached targets runs above 0.8 by
construction.

``--reach`` checks the forecast's chance of reaching a target, which the targets above cannot (each is
reached by construction): for targets 3, 7, 15 and 30% below the last pilot value, chosen without the
curve's future, it bins the forecast's probability of reaching them by the last anchor (the share of
``fit_curve``'s curve draws that do) and prints the share the curve did reach, per bin, over all curves and
by the data set's kind (text or tabular: replayed runs record it). Where the forecast says a target may
never be reached, the labels' P90 is "never": under-stated chances inflate ``lcover``.

``--parts`` adds, per set and pilot, the MAE of each part of the forecast as a point forecast (each family
alone, their mix without and with the slope prior, the last pilot value) as a ratio to the naive power law's:
where a forecast misses, it shows which part misses.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
from scipy import sparse
from scipy.optimize import least_squares
from threadpoolctl import threadpool_limits

from annoplan import planner
from annoplan.planner.curves.learned import LearnedCurveModel
from annoplan.planner.fit import N_DRAWS, SEED, forecast_from_rounds
from annoplan.planner.schemas.curves import PilotRound
from annoplan.simulators.datasets import load_dataset
from annoplan.simulators.pilot import simulate_pilot

TARGET_FRACTIONS = (0.25, 0.5, 0.75)
#: the issue's own labels target: the error at the horizon plus this (scored where the last pilot round has
#: not reached it)
HORIZON_MARGIN = 0.01
#: the reach check's targets (``--reach``): these shares of the last pilot round's error, chosen without
#: looking at the curve's future (the scored targets above lie on the way to the horizon value: every one is
#: reached, so they cannot tell whether the forecast's chance of reaching a target is right)
REACH_SHARES = (0.97, 0.93, 0.85, 0.7)
#: bins of the forecast's probability of reaching a target by the horizon, in the reach check's table
REACH_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0)


def scoring_targets(e_last: float, truth: float) -> list[tuple[str, float]]:
    """The targets (error) a pilot's labels-to-reach is scored on, each with its kind: ``fraction``, 25/50/75%
    of the way from the last pilot value to the horizon value (where it gains more than 0.005), and
    ``horizon``, the horizon value plus :data:`HORIZON_MARGIN` (where the last round is above it)."""
    gain = e_last - truth
    targets = [("fraction", float(e_last - f * gain)) for f in TARGET_FRACTIONS] if gain > 0.005 else []
    if e_last > truth + HORIZON_MARGIN:
        targets.append(("horizon", float(truth + HORIZON_MARGIN)))
    return targets


@dataclass
class Curve:
    """A real learning curve: error at each anchor; ``n_eval`` is the evaluation-set size if known."""

    name: str
    anchors: np.ndarray
    errors: np.ndarray
    sem: np.ndarray | None
    n_eval: int | None
    #: the pilot signals of issue 23, where the run has them: the error of each anchor's model on its own
    #: training labels, and the model family
    train_errors: np.ndarray | None = None
    model: str | None = None
    #: the data set's kind (``text`` or ``tabular``) where the curve is a replayed run
    kind: str | None = None


def _floats(values: list | None) -> np.ndarray | None:
    """A JSON list of numbers as floats, ``null`` as NaN; None for a missing or empty list."""
    return np.array([np.nan if v is None else v for v in values], float) if values else None


def load_jsonl_curves(path: Path) -> list[Curve]:
    """Curves from JSON lines; anchors without a finite value in [0, 1] are dropped, repeated ones kept once.

    An ``accuracy`` curve is turned into error; a non-finite standard error is left out of that round.
    """
    curves = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        anchors, values, sem = _floats(d["anchors"]), _floats(d["values"]), _floats(d.get("values_sem"))
        if anchors is None or values is None or len(anchors) != len(values):
            continue
        if d.get("metric") == "accuracy":
            values = 1.0 - values
        keep = (anchors > 0) & (values >= 0) & (values <= 1)  # False for NaN
        anchors, first = np.unique(anchors[keep], return_index=True)
        values = values[keep][first]
        sem = sem[keep][first] if sem is not None and len(sem) == len(keep) else None
        train = _floats(d.get("train_values"))
        train = train[keep][first] if train is not None and len(train) == len(keep) else None
        if train is not None and d.get("metric") == "accuracy":
            train = 1.0 - train
        name = f"{d.get('dataset_name', '?')}/{d.get('learner', '?')}"
        curves.append(
            Curve(name, anchors, values, sem, d.get("n_eval"), train, d.get("model"), d.get("data_kind"))
        )
    return curves


def save_jsonl_curves(curves: list[Curve], path: Path) -> None:
    """Write curves as :func:`load_jsonl_curves` reads them (error rates, training errors and model family
    where the curve has them): replayed runs saved once are backtested again in seconds."""
    with path.open("w") as f:
        for c in curves:
            dataset, _, learner = c.name.partition("/")
            d: dict = {"dataset_name": dataset, "learner": learner, "metric": "error_rate"}
            d |= {"anchors": c.anchors.tolist(), "values": c.errors.tolist(), "n_eval": c.n_eval}
            if c.sem is not None:
                d["values_sem"] = c.sem.tolist()
            if c.train_errors is not None:
                d["train_values"] = c.train_errors.tolist()
            if c.model is not None:
                d["model"] = c.model
            if c.kind is not None:
                d["data_kind"] = c.kind
            f.write(json.dumps(d) + "\n")


def replay_random_curve(path: Path, seed: int = 0) -> Curve | None:
    """One seeded random-labeling run replayed by the pool simulator (logistic regression, default features).

    Nested random label sets on a doubling-ish grid up to half the pool (at most 10,000 labels), one model
    each, scored on a fixed held-out evaluation set; None when the data has no usable curve.
    """
    X, y, _ = load_dataset(path)
    n_eval = min(2000, len(y) // 4)
    horizon = min((len(y) - n_eval) // 2, 10_000)
    anchors = np.unique(np.geomspace(max(16, horizon / 160), horizon, 24).astype(int))
    pilot = simulate_pilot(
        X, y, n_labels=anchors.tolist(), n_eval=n_eval, calibration_size=0, random_state=seed
    )
    if len(pilot.rounds) < 8:
        return None
    sizes = np.array([r.n_labels for r in pilot.rounds], dtype=float)
    errors = 1.0 - np.array([r.value for r in pilot.rounds])
    train_errors = 1.0 - np.array([r.train_value for r in pilot.rounds])
    kind = "text" if sparse.issparse(X) else "tabular"  # text is vectorised to sparse features
    return Curve(
        f"{path.stem}/logreg", sizes, errors, None, pilot.rounds[0].n_eval, train_errors, "linear", kind
    )


def pilot_indices(anchors: np.ndarray, n_rounds: int) -> np.ndarray | None:
    """Anchors nearest to horizon/10 * 2**-k, k = n_rounds-1..0 (distinct), or None if too few."""
    horizon = anchors[-1]
    wanted = horizon / 10 * 2.0 ** -np.arange(n_rounds - 1, -1, -1)
    idx = np.unique([int(np.argmin(np.abs(np.log(anchors / w)))) for w in wanted])
    return idx if len(idx) == n_rounds else None


# --- the naive baseline: a 3-parameter power law by least squares, case-bootstrap interval ----------------


def _pow3(n: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p[2] + p[0] * np.power(n, -p[1])


def _fit_pow3(n: np.ndarray, e: np.ndarray) -> np.ndarray:
    scale = n[-1]
    res = least_squares(
        lambda p: _pow3(n / scale, p) - e,
        x0=[e[-1], 0.5, 0.0],
        bounds=([0, 0, 0], [np.inf, 5, 1]),
    )
    return np.array([res.x[0] * scale ** res.x[1], res.x[1], res.x[2]])


def _pow3_fit_at(n: np.ndarray, e: np.ndarray, at: float) -> float:
    """The 3-parameter power law fitted to the rounds ``(n, e)``, evaluated at ``at`` labels."""
    return float(_pow3(np.array([at]), _fit_pow3(n, e))[0])


def naive_forecast(n: np.ndarray, e: np.ndarray, at: float, targets: list[float], rng) -> dict:  # type: ignore[no-untyped-def]
    p = _fit_pow3(n, e)
    boots = []
    for _ in range(200):
        i = rng.integers(0, len(n), len(n))
        if len(np.unique(n[i])) < 3:
            continue
        order = np.argsort(n[i])
        boots.append(_pow3_fit_at(n[i][order], e[i][order], at))
    lo, hi = np.quantile(boots, [0.1, 0.9])
    need = []
    for t in targets:
        with np.errstate(over="ignore"):  # an overflow is a target the fit never reaches
            n_needed = ((t - p[2]) / p[0]) ** (-1 / p[1]) if t > p[2] else None
        need.append(n_needed if n_needed is not None and np.isfinite(n_needed) else None)
    return {
        "p10": float(lo),
        "p50": float(_pow3(np.array([at]), p)[0]),
        "p90": float(hi),
        "need": need,
        # the naive method gives a point estimate of the labels needed, no interval
        "need_lo": need,
        "need_hi": need,
    }


def pilot_rounds(curve: Curve, idx: np.ndarray, signals: bool = False) -> list[dict]:
    """The pilot rounds at anchors ``idx`` as a fit request gives them (error rate, noise where known, the
    training error where ``signals`` and the run has it)."""
    rounds = []
    for i in idx:
        r: dict = {"n_labels": int(curve.anchors[i]), "value": float(curve.errors[i])}
        if signals and curve.train_errors is not None:
            r["train_value"] = float(curve.train_errors[i])
        if curve.sem is not None and np.isfinite(curve.sem[i]):
            r["std"] = float(curve.sem[i])
        if curve.n_eval is not None:
            r["n_eval"] = curve.n_eval
        rounds.append(r)
    return rounds


def annoplan_forecast(
    curve: Curve, idx: np.ndarray, at: float, targets: list[float], signals: bool = False
) -> dict:
    request: dict = {
        "metric": "error_rate",
        "rounds": pilot_rounds(curve, idx, signals),
        "targets": targets,
        "at_labels": [round(at)],
    }
    if signals and curve.model is not None:
        request["model"] = curve.model
    resp = planner.fit_curve(request)
    pred = resp.predictions[0]
    # for an error_rate metric the quantiles of the error are the metric's own
    return {
        "p10": pred.p10,
        "p50": pred.p50,
        "p90": pred.p90,
        "need": [t.p50 for t in resp.labels_to_reach],
        "need_lo": [t.p10 for t in resp.labels_to_reach],
        "need_hi": [t.p90 for t in resp.labels_to_reach],
    }


def reach_of_pilot(
    rounds: list[PilotRound],
    model: str | None,
    anchors: np.ndarray,
    truth: np.ndarray,
    last: int,
    learned: LearnedCurveModel | Literal["shipped"] = "shipped",
    measured: bool = False,
) -> tuple[list[float], list[bool]]:
    """For targets :data:`REACH_SHARES` of the pilot's last value: the forecast's probability of reaching each
    by the last of ``anchors``, and whether the curve did.

    A ``truth`` without noise (a mean over splits) reached a target when an anchor past the pilot's ``last``
    is at or below it; the forecast's probability is the share of the curve draws ``fit_curve`` makes for the
    pilot ``rounds`` and ``model`` family that reach it there. A ``measured`` truth (one labeling run: each
    anchor is one noisy measurement) is judged by its last anchor alone, against the share of the draws whose
    measurement there (the forecast's measurement noise added) is at or below it: the lowest of a dozen noisy
    measurements is below the curve, and would count targets the curve never reached."""
    targets = [rounds[-1].value * share for share in REACH_SHARES]
    forecast = forecast_from_rounds(rounds, False, model, learned)
    rng = np.random.default_rng(SEED)
    draws = forecast.sample(N_DRAWS, rng)
    if not measured:
        predicted = [float(np.mean(draws.labels_to_reach(t) <= anchors[-1])) for t in targets]
        return predicted, [bool(np.any(truth[last + 1 :] <= t)) for t in targets]
    error = forecast.measured(anchors[-1:], draws, rng.standard_normal((N_DRAWS, 1)))[:, 0]
    return [float(np.mean(error <= t)) for t in targets], [bool(truth[-1] <= t) for t in targets]


def reach_table(predicted: list[float], reached: list[bool]) -> list[str]:
    """The reach check's lines: per bin of the forecast's probability of reaching a target by the horizon
    (:data:`REACH_BINS`), how many targets, their mean probability and the share the curve reached. A
    calibrated forecast reads the same in both columns."""
    p, hit = np.asarray(predicted, dtype=float), np.asarray(reached, dtype=float)
    if not p.size:
        return ["no targets (no curve long enough for the pilot)"]
    lines = [f"{len(p)} targets: forecast {p.mean():.2f}, reached {hit.mean():.2f}"]
    for lo, hi in itertools.pairwise(REACH_BINS):
        inside = (p >= lo) & ((p < hi) if hi < 1.0 else (p <= hi))
        if inside.any():
            lines.append(
                f"  forecast {lo:.1f}-{hi:.1f}: {int(inside.sum()):5} targets, "
                f"forecast {p[inside].mean():.2f}, reached {hit[inside].mean():.2f}"
            )
    return lines


def reach_check(curves: list[Curve], n_rounds: int, signals: bool) -> tuple[list[float], list[bool]]:
    """The forecast's probability of reaching each of :data:`REACH_SHARES` of the last pilot round's error by
    the curve's last anchor, and whether the curve did (:func:`reach_of_pilot`: a mean curve, one with
    ``sem``, by any anchor past the pilot at or below it; a replayed run by its last measurement)."""
    predicted: list[float] = []
    reached: list[bool] = []
    for curve in curves:
        idx = pilot_indices(curve.anchors, n_rounds)
        if idx is None:
            continue
        rounds = [PilotRound(**r) for r in pilot_rounds(curve, idx, signals)]
        model = curve.model if signals else None
        # a curve without a standard error is one run of noisy measurements (a replay), not a mean
        measured = curve.sem is None
        p, hit = reach_of_pilot(rounds, model, curve.anchors, curve.errors, int(idx[-1]), measured=measured)
        predicted += p
        reached += hit
    return predicted, reached


def truth_labels(curve: Curve, target: float, start: int) -> float | None:
    hits = np.nonzero(curve.errors[start:] <= target)[0]
    return float(curve.anchors[start + hits[0]]) if len(hits) else None


def share_interval(hits: np.ndarray, curve: np.ndarray, seed: int, n_boot: int = 1000) -> tuple[float, float]:
    """90% interval of a share of ``hits`` (0/1) by a bootstrap over curves (``curve``: the curve of each hit;
    the targets of one curve are not independent); (nan, nan) without hits."""
    if not len(hits):
        return float("nan"), float("nan")
    names, of = np.unique(curve, return_inverse=True)
    sums, counts = np.bincount(of, weights=hits), np.bincount(of).astype(float)
    take = np.random.default_rng(seed).integers(0, len(names), size=(n_boot, len(names)))
    shares = sums[take].sum(axis=1) / counts[take].sum(axis=1)
    lo, hi = np.quantile(shares, [0.05, 0.95])
    return float(lo), float(hi)


def evaluate(
    curves: list[Curve], n_rounds: int, seed: int = 0, per_curve: bool = False, signals: bool = False
) -> dict[str, dict[str, float]]:
    """Backtest both methods on every curve with an ``n_rounds`` pilot; summary metrics per method."""
    rng = np.random.default_rng(seed)
    rows: dict[str, dict[str, list[float]]] = {
        m: {k: [] for k in ("abs", "cover", "x2", "lcover", "x2h", "lch", "ms", "of", "never", "curve")}
        for m in ("naive", "annoplan")
    }
    for c, curve in enumerate(curves):
        idx = pilot_indices(curve.anchors, n_rounds)
        if idx is None:
            continue
        n, e = curve.anchors[idx], curve.errors[idx]
        at, truth = curve.anchors[-1], curve.errors[-1]
        scored = scoring_targets(float(e[-1]), float(truth))
        kinds, targets = [k for k, _ in scored], [t for _, t in scored]
        for method in rows:
            t0 = time.perf_counter()
            if method == "naive":
                out = naive_forecast(n, e, at, targets, rng)
            else:
                out = annoplan_forecast(curve, idx, at, targets, signals)
            rows[method]["ms"].append(1000 * (time.perf_counter() - t0))
            rows[method]["abs"].append(abs(out["p50"] - truth))
            rows[method]["curve"].append(c)
            rows[method]["cover"].append(float(out["p10"] <= truth <= out["p90"]))
            answers = zip(kinds, targets, out["need"], out["need_lo"], out["need_hi"], strict=True)
            for kind, t, need, lo, hi in answers:
                true_n = truth_labels(curve, t, int(idx[-1]))
                if true_n is None:
                    continue
                x2, lcover = ("x2", "lcover") if kind == "fraction" else ("x2h", "lch")
                rows[method][x2].append(float(need is not None and 0.5 <= need / true_n <= 2.0))
                lo_n = 0.0 if lo is None else lo
                hi_n = np.inf if hi is None else hi
                rows[method][lcover].append(float(lo_n <= true_n <= hi_n))
                if lcover == "lcover":
                    rows[method]["of"].append(c)
                    rows[method]["never"].append(float(hi is None))
            if per_curve and method == "annoplan":
                pilot = "/".join(str(int(v)) for v in n)
                print(
                    f"    {curve.name[:34]:34} pilot {pilot:24} at {int(at):>6}: truth {truth:.3f} "
                    f"P10-P90 {out['p10']:.3f}-{out['p90']:.3f} P50 {out['p50']:.3f}"
                    + (" (+signals)" if signals else "")
                )
    summary: dict[str, dict[str, float]] = {}
    for m, r in rows.items():
        cover_lo, cover_hi = share_interval(np.array(r["cover"]), np.arange(len(r["cover"])), seed)
        lcover_lo, lcover_hi = share_interval(np.array(r["lcover"]), np.array(r["of"], dtype=int), seed)
        summary[m] = {
            "mae": float(np.median(r["abs"])),
            "cover": float(np.mean(r["cover"])),
            **{
                k: float(np.mean(r[k])) if r[k] else float("nan")
                for k in ("x2", "lcover", "x2h", "lch", "never")
            },
            "ms": float(np.median(r["ms"])),
            "cover_lo": cover_lo,
            "cover_hi": cover_hi,
            "lcover_lo": lcover_lo,
            "lcover_hi": lcover_hi,
            "n": len(r["abs"]),
            "n_targets": len(r["x2"]),
            **kind_figures(curves, r),
        }
    return summary


def kind_figures(curves: list[Curve], r: dict[str, list[float]]) -> dict[str, float]:
    """The summary's figures for the curves of each kind of data set (replayed runs know theirs), as
    ``figure:kind``: curves ``n``, ``mae``, ``cover``, labels coverage ``lcover`` and the share ``never`` of
    labels targets whose P90 is "never" (the 25/50/75% targets)."""
    kind_of = np.array([str(c.kind) for c in curves])
    per_curve, per_target = kind_of[np.array(r["curve"], dtype=int)], kind_of[np.array(r["of"], dtype=int)]
    abs_error, cover = np.array(r["abs"]), np.array(r["cover"])
    lcover, never = np.array(r["lcover"]), np.array(r["never"])
    out: dict[str, float] = {}
    for kind in sorted({c.kind for c in curves if c.kind is not None}):
        on, of = per_curve == kind, per_target == kind
        out |= {
            f"n:{kind}": float(on.sum()),
            f"mae:{kind}": float(np.median(abs_error[on])),
            f"cover:{kind}": float(np.mean(cover[on])),
            f"lcover:{kind}": float(np.mean(lcover[of])) if of.any() else float("nan"),
            f"never:{kind}": float(np.mean(never[of])) if of.any() else float("nan"),
        }
    return out


def point_forecasts(curve: Curve, idx: np.ndarray, at: float) -> dict[str, float]:
    """Point forecasts of the error at ``at`` by each part of the forecast, to see which one errs.

    Each family alone (as the forecast extrapolates it: capped by its power-law tangent at the last round),
    the families' weighted mix without and with the slope prior (the forecast's centre), and persistence
    (the last pilot value).
    """
    forecast = forecast_from_rounds([PilotRound(**r) for r in pilot_rounds(curve, idx)], higher_better=False)
    size = np.array([float(at)])
    out = {}
    for i, fit in enumerate(forecast.fits):
        alone = replace(forecast, weights=np.eye(len(forecast.fits))[i], shrinkage=0.0)
        out[fit.family.name] = float(np.exp(alone.log_center(size)[0][0]))
    out["mix"] = float(np.exp(replace(forecast, shrinkage=0.0).log_center(size)[0][0]))
    out["mix+prior"] = float(np.exp(forecast.log_center(size)[0][0]))
    out["last pilot"] = float(curve.errors[idx[-1]])
    return out


def parts_table(curves: list[Curve], n_rounds: int) -> dict[str, float]:
    """Median absolute error at the horizon of each of :func:`point_forecasts`, as a ratio to the naive
    power law's (its P50)."""
    errors: dict[str, list[float]] = {}
    for curve in curves:
        idx = pilot_indices(curve.anchors, n_rounds)
        if idx is None:
            continue
        at, truth = curve.anchors[-1], curve.errors[-1]
        naive = _pow3_fit_at(curve.anchors[idx], curve.errors[idx], at)
        errors.setdefault("naive", []).append(abs(naive - truth))
        for name, value in point_forecasts(curve, idx, at).items():
            errors.setdefault(name, []).append(abs(value - truth))
    if not errors:
        return {}
    naive_mae = float(np.median(errors.pop("naive"))) or float("nan")  # a perfect naive fit: no ratio
    return {name: float(np.median(e)) / naive_mae for name, e in errors.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=Path, nargs="*", default=[], help="JSON-lines files of curves")
    parser.add_argument("--datasets", type=Path, help="folder of .npz datasets to replay")
    parser.add_argument("--rounds", type=int, nargs="+", default=[4, 5], help="pilot rounds to test")
    parser.add_argument("--seeds", type=int, default=1, help="replayed labeling runs per dataset")
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seed of the first run (later seeds: held-out runs)"
    )
    parser.add_argument(
        "--save-curves", type=Path, help="write the replayed runs as JSON lines (to pass to --curves later)"
    )
    parser.add_argument(
        "--per-curve", action="store_true", help="print every curve's forecast (always for replays)"
    )
    parser.add_argument(
        "--signals",
        action="store_true",
        help="also forecast with the pilot signals the runs have (replays: train_value, model linear)",
    )
    parser.add_argument(
        "--parts",
        action="store_true",
        help="also print each family's, the mix's and persistence's MAE as a ratio to the naive power law's",
    )
    parser.add_argument(
        "--reach",
        action="store_true",
        help="also check the forecast's chance of reaching targets chosen without the curve's future (by "
        "data kind where the runs record one)",
    )
    args = parser.parse_args(argv)
    if not args.curves and args.datasets is None:
        parser.error("give --curves and/or --datasets")
    if args.save_curves is not None and args.datasets is None:
        parser.error("--save-curves writes replayed runs: give --datasets too")
    if args.save_curves is not None and (args.save_curves.is_dir() or not args.save_curves.parent.is_dir()):
        parser.error(f"--save-curves {args.save_curves}: give a file name in an existing folder")
    if args.seeds < 1 or args.first_seed < 0:
        parser.error("--seeds must be >= 1 and --first-seed >= 0")
    groups: dict[str, list[Curve]] = {}
    with threadpool_limits(1):
        for path in args.curves:
            groups[path.stem] = load_jsonl_curves(path)
        if args.datasets is not None:
            paths = sorted(args.datasets.glob("*.npz"))
            if not paths:
                parser.error(f"--datasets {args.datasets}: no .npz data sets there")
            seeds = range(args.first_seed, args.first_seed + args.seeds)
            replayed = [replay_random_curve(p, seed) for seed in seeds for p in paths]
            groups[f"replays:{args.datasets.name}"] = [c for c in replayed if c is not None]
            if args.save_curves is not None:
                save_jsonl_curves(groups[f"replays:{args.datasets.name}"], args.save_curves)
        print(f"command: {' '.join(['python', *sys.argv])}")
        columns = ("pilot", "method", "n", "MAE", "cover", "x2", "lcover", "x2h", "lch", "ms")
        print(f"{'set':28} " + " ".join(f"{c:>7}" for c in columns))
        for group, curves in groups.items():
            for n_rounds in args.rounds:
                per_curve = args.per_curve or group.startswith("replays")
                result = evaluate(curves, n_rounds, per_curve=per_curve)
                if args.signals:  # the same curves again, the forecast told the runs' signals
                    result["+signals"] = evaluate(curves, n_rounds, per_curve=per_curve, signals=True)[
                        "annoplan"
                    ]
                for method, r in result.items():
                    print(
                        f"{group[:28]:28} {n_rounds:>7} {method:>7} {r['n']:>7} {r['mae']:7.4f} "
                        f"{r['cover']:7.2f} {r['x2']:7.2f} {r['lcover']:7.2f} {r['x2h']:7.2f} "
                        f"{r['lch']:7.2f} {r['ms']:7.1f}"
                    )
                for method in ("annoplan", "+signals")[: 1 + args.signals]:
                    r = result[method]
                    print(
                        f"{'':28} {'':>7} MAE ratio {method}/naive: {r['mae'] / result['naive']['mae']:.2f}; "
                        f"90% intervals over curves: cover {r['cover_lo']:.2f}-{r['cover_hi']:.2f}, "
                        f"lcover {r['lcover_lo']:.2f}-{r['lcover_hi']:.2f}; labels P90 never {r['never']:.2f}"
                    )
                    for kind in [k.split(":", 1)[1] for k in r if k.startswith("n:")]:
                        figures = {k: r[f"{k}:{kind}"] for k in ("n", "mae", "cover", "lcover", "never")}
                        print(
                            f"{'':28} {'':>7} {kind}: {int(figures['n'])} curves, MAE {figures['mae']:.4f}, "
                            f"cover {figures['cover']:.2f}, lcover {figures['lcover']:.2f}, labels P90 never "
                            f"{figures['never']:.2f}"
                        )
                if args.reach:
                    by_kind = {"all": curves} | {
                        kind: [c for c in curves if c.kind == kind]
                        for kind in sorted({c.kind for c in curves if c.kind is not None})
                    }
                    for kind, some in by_kind.items():
                        lines = reach_table(*reach_check(some, n_rounds, args.signals))
                        print(f"{'':28} {'':>7} reach by the horizon, {kind}: {lines[0]}")
                        for line in lines[1:]:
                            print(f"{'':36} {line}")
                if args.parts:
                    parts = parts_table(curves, n_rounds)
                    print(f"{'':28} {'':>7} point forecasts' MAE / naive's: ", end="")
                    print(", ".join(f"{name} {value:.2f}" for name, value in parts.items()))


if __name__ == "__main__":
    main()
