"""Grouped cross-validation of the learned curve forecast on LCDB curves, against a naive power law.

Usage::

    python benchmarks/curve_cv.py --curves CURVES.jsonl [--folds 5] [--seed 0] [--build-seed S]
        [--only-folds 0 1 ...] [--max-curves-per-fold N] [--horizons K] [--train-groups SHARE]
        [--extra-curves FILE] [--parametric] [--reach] [--time N] [--dump FILE]

The dataset groups of ``CURVES.jsonl`` (LCDB 1.1 curves, as ``benchmarks/build_curve_model.py`` reads them)
are dealt into ``--folds`` folds; for each fold, the meta-model is built by
:func:`build_curve_model.train` from the other folds' curves only, and every curve of the fold is scored with
the protocol of ``benchmarks/curve_backtest.py``: a 5-round pilot on a doubling grid up to ~10% of the last
anchor, the metric at the last anchor and the labels to reach targets 25/50/75% of the way there. Pilots are
given four ways:

- ``mean``: the mean over splits, ``std`` one split's spread and ``n_runs`` 25 (its noise is the mean's);
- ``single``: one run, the mean plus N(0, ``values_sem`` x 5), ``std`` one split's spread;

each without the new signals and with them (``train_value`` of each round, the single run's with its noise,
and the ``model`` family). Columns as in the curve backtest: ``MAE`` (median absolute error of the P50),
``ratio`` (to the naive 3-parameter power law's on the same pilots), ``cover`` (P10-P90 coverage), ``x2``
(labels-to-reach P50 within 2x of the truth), ``lcover`` (labels P10-P90 coverage), ``x2h`` and ``lch`` (the
same for the issue's own target, the horizon value + 0.01, see ``curve_backtest.scoring_targets``), ``ms``
(median time of one forecast). ``ratio 90%`` is a bootstrap interval of the ratio over the scored dataset
groups: a ratio of two medians over ~100-150 curves spreads over 0.9-1.6 for the same forecast
(``--max-curves-per-fold`` samples are for quick looks, not for results). ``--time N`` times N forecasts
instead. ``--reach`` adds the curve backtest's reach check (its ``--reach``) on the held-out curves, pilots
with the signals, the mean curve as the truth. ``--dump FILE`` writes every scored pilot's forecast
(P10/P50/P90, labels to reach and the truth) as JSON lines, to see where misses fall. ``--horizons K``
scores each held-out curve also cut at half, a quarter, ... of its last anchor (each cut its own pilot and
horizon): the median over more pilots moves less with the build's seed, for decisions between variants.
``--train-groups SHARE`` builds each fold's model from a share of the other folds' dataset groups, drawn with
the build's seed (the held-out curves stay the same): the meta-model's own learning curve, whether more groups
of curves would help it. ``--extra-curves FILE`` adds the curves of another corpus (for instance LCDB 1.0's,
by ``benchmarks/lcdb1_curves.py``) to every fold's build, never scored; those of a dataset group the scored
corpus has are dropped, so that no held-out group is ever trained on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_curve_model import LcdbCurve, group_folds, load_lcdb, train
from curve_backtest import (
    _fit_pow3,
    _pow3,
    pilot_indices,
    reach_of_pilot,
    reach_table,
    scoring_targets,
)

from annoplan.planner.curves.learned import LearnedCurveModel
from annoplan.planner.fit import forecast_response
from annoplan.planner.schemas import FitRequest

N_ROUNDS = 5
N_RUNS = 25
VARIANTS = ("mean", "mean+signals", "single", "single+signals")
#: the variants the reach check (``--reach``) runs on
REACH_VARIANTS = ("mean+signals", "single+signals")
#: resamples of the dataset groups behind the interval of the MAE ratio
BOOTSTRAP = 400


def training_share(curves: list[LcdbCurve], share: float, seed: int) -> list[LcdbCurve]:
    """The curves of a seeded ``share`` of the dataset groups of ``curves`` (at least one group; all of
    them at 1)."""
    names = sorted({c.group for c in curves})
    keep = max(1, round(share * len(names)))
    picked = {names[i] for i in np.random.default_rng(seed).permutation(len(names))[:keep]}
    return [c for c in curves if c.group in picked]


def training_only(extra: list[LcdbCurve], scored: list[LcdbCurve]) -> list[LcdbCurve]:
    """The curves of ``extra`` whose dataset group ``scored`` does not have (a group in both could be held
    out and trained on at once); says how many it kept."""
    seen = {c.group for c in scored}
    kept = [c for c in extra if c.group not in seen]
    print(
        f"extra training curves: {len(kept)} of {len({c.group for c in kept})} groups "
        f"({len(extra) - len(kept)} dropped: their group is in the scored curves)"
    )
    return kept


def pilot_request(
    curve: LcdbCurve, idx: np.ndarray, variant: str, targets: list[float], rng: np.random.Generator
) -> tuple[FitRequest, np.ndarray]:
    """The fit request of one pilot variant and the pilot's error values."""
    single = variant.startswith("single")
    signals = variant.endswith("+signals")
    values = curve.values[idx]
    train = curve.train[idx]
    if single:
        values = np.clip(values + rng.normal(0.0, 1.0, len(idx)) * curve.sem[idx] * 5, 0.0, 1.0)
        train = np.clip(train + rng.normal(0.0, 1.0, len(idx)) * curve.train_sem[idx] * 5, 0.0, 1.0)
    rounds = []
    for j, i in enumerate(idx):
        r: dict = {"n_labels": int(curve.anchors[i]), "value": float(values[j]), "std": float(curve.std[i])}
        if not single:
            r["n_runs"] = N_RUNS
        if signals:
            r["train_value"] = float(train[j])
        rounds.append(r)
    req: dict = {
        "metric": "error_rate",
        "rounds": rounds,
        "targets": targets,
        "at_labels": [int(curve.anchors[-1])],
    }
    if signals:
        req["model"] = curve.family
    return FitRequest.model_validate(req), values


def naive_point(n: np.ndarray, e: np.ndarray, at: float, targets: list[float]) -> dict:
    """The naive 3-parameter power law's P50 and labels to reach (no interval: it covers ~14%)."""
    p = _fit_pow3(n, e)
    need = []
    for t in targets:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            n_needed = ((t - p[2]) / p[0]) ** (-1 / p[1]) if t > p[2] and p[0] > 0 and p[1] > 0 else None
        need.append(n_needed if n_needed is not None and np.isfinite(n_needed) else None)
    p50 = float(_pow3(np.array([at]), p)[0])
    return {"p10": np.nan, "p50": p50, "p90": np.nan, "need": need, "need_lo": need, "need_hi": need}


def truth_labels(curve: LcdbCurve, target: float, start: int) -> float | None:
    hits = np.nonzero(curve.values[start:] <= target)[0]
    return float(curve.anchors[start + hits[0]]) if len(hits) else None


def horizons(curve: LcdbCurve, k: int) -> list[LcdbCurve]:
    """The curve and its first ``k - 1`` halvings: the curve cut at the anchor nearest to half, a quarter, ...
    of its last (each scored with its own pilot and horizon; fewer where the anchors run out)."""
    out = [curve]
    for j in range(1, k):
        end = int(np.argmin(np.abs(np.log(curve.anchors / (curve.anchors[-1] / 2**j))))) + 1
        if end < 8 or end >= len(out[-1].anchors):
            break
        cut = {
            f.name: getattr(curve, f.name)[:end]
            for f in dataclasses.fields(curve)
            if isinstance(getattr(curve, f.name), np.ndarray)
        }
        out.append(dataclasses.replace(curve, name=f"{curve.name}@{int(curve.anchors[end - 1])}", **cut))
    return out


def score(
    curves: list[LcdbCurve],
    model: LearnedCurveModel | None,
    seed: int,
    variants: tuple[str, ...] = VARIANTS,
) -> dict[str, dict[str, list]]:
    """Per variant and method, the per-curve scores of every curve with a usable pilot (and its dataset
    group, for the bootstrap of :func:`summary`)."""
    rows: dict[str, dict[str, list]] = {}
    naive_cache: dict[tuple[str, str], dict] = {}
    for i_curve, curve in enumerate(curves):
        if i_curve % 50 == 0:
            print(f"  {i_curve}/{len(curves)} curves", file=sys.stderr, flush=True)
        idx = pilot_indices(curve.anchors, N_ROUNDS)
        if idx is None:
            continue
        at, truth = curve.anchors[-1], curve.values[-1]
        for variant in variants:
            rng = np.random.default_rng([seed, *curve.name.encode()])
            scored = scoring_targets(float(curve.values[idx[-1]]), float(truth))
            kinds, targets = [k for k, _ in scored], [t for _, t in scored]
            req, values = pilot_request(curve, idx, variant, targets, rng)
            methods = {"naive": None, "annoplan": model}
            for method, learned in methods.items():
                t0 = time.perf_counter()
                if method == "naive":
                    # the point forecast only (its bootstrap interval takes a second a pilot); the same
                    # values with and without the signals give the same fit
                    key = (variant.split("+")[0], curve.name)
                    if key not in naive_cache:
                        naive_cache[key] = naive_point(curve.anchors[idx], values, at, targets)
                    out = naive_cache[key]
                else:
                    resp = forecast_response(req, learned)
                    pred = resp.predictions[0]
                    out = {
                        "p10": pred.p10,
                        "p50": pred.p50,
                        "p90": pred.p90,
                        "need": [t.p50 for t in resp.labels_to_reach],
                        "need_lo": [t.p10 for t in resp.labels_to_reach],
                        "need_hi": [t.p90 for t in resp.labels_to_reach],
                    }
                r = rows.setdefault(
                    f"{variant}:{method}",
                    {k: [] for k in ("abs", "cover", "x2", "lcover", "x2h", "lch", "ms", "group", "detail")},
                )
                r["group"].append(curve.group)
                r["detail"].append(
                    {
                        "curve": curve.name,
                        "truth": float(truth),
                        "last": float(values[-1]),
                        **{k: out[k] for k in ("p10", "p50", "p90")},
                        "targets": [
                            [t, truth_labels(curve, t, int(idx[-1])), n, lo, hi, kind]
                            for kind, t, n, lo, hi in zip(
                                kinds, targets, out["need"], out["need_lo"], out["need_hi"], strict=True
                            )
                        ],
                    }
                )
                r["ms"].append(1000 * (time.perf_counter() - t0))
                r["abs"].append(abs(out["p50"] - truth))
                r["cover"].append(float(out["p10"] <= truth <= out["p90"]))
                answers = zip(kinds, targets, out["need"], out["need_lo"], out["need_hi"], strict=True)
                for kind, t, need, lo, hi in answers:
                    true_n = truth_labels(curve, t, int(idx[-1]))
                    if true_n is None:
                        continue
                    x2, lcover = ("x2", "lcover") if kind == "fraction" else ("x2h", "lch")
                    r[x2].append(float(need is not None and 0.5 <= need / true_n <= 2.0))
                    r[lcover].append(
                        float((0.0 if lo is None else lo) <= true_n <= (np.inf if hi is None else hi))
                    )
    return rows


def reach_check(
    curves: list[LcdbCurve], model: LearnedCurveModel, seed: int, variants: tuple[str, ...]
) -> dict[str, tuple[list[float], list[bool]]]:
    """Per variant (with the signals), the forecast's probability of reaching each of
    ``curve_backtest.REACH_SHARES`` of the last pilot value by the last anchor, and whether the mean curve
    did (``curve_backtest.reach_check`` on the held-out curves, their pilots as :func:`score` gives them)."""
    out: dict[str, tuple[list[float], list[bool]]] = {v: ([], []) for v in variants}
    for curve in curves:
        idx = pilot_indices(curve.anchors, N_ROUNDS)
        if idx is None:
            continue
        for variant in variants:
            rng = np.random.default_rng([seed, *curve.name.encode()])
            req, _ = pilot_request(curve, idx, variant, [0.5], rng)
            p, hit = reach_of_pilot(req.rounds, req.model, curve.anchors, curve.values, int(idx[-1]), model)
            out[variant][0].extend(p)
            out[variant][1].extend(hit)
    return out


def ratio_interval(abs_errors: list[float], naive: list[float], groups: list[str], seed: int) -> np.ndarray:
    """90% interval of the ratio of median absolute errors, by a bootstrap over dataset groups (paired)."""
    names, which = np.unique(np.array(groups), return_inverse=True)
    a, b = np.asarray(abs_errors), np.asarray(naive)
    rng = np.random.default_rng(seed)
    ratios = []
    for _ in range(BOOTSTRAP):
        take = np.concatenate([np.nonzero(which == g)[0] for g in rng.integers(0, len(names), len(names))])
        ratios.append(np.median(a[take]) / max(float(np.median(b[take])), 1e-12))
    return np.quantile(ratios, [0.05, 0.95])


def summary(rows: dict[str, dict[str, list]], seed: int = 0) -> None:
    """One line per variant and method; ``ratio 90%`` is :func:`ratio_interval`'s."""
    print(
        f"{'variant':16} {'method':9} {'n':>5} {'MAE':>7} {'ratio':>6} {'ratio 90%':>11} {'cover':>6} "
        f"{'x2':>6} {'lcover':>6} {'x2h':>6} {'lch':>6} {'ms':>6}"
    )
    for key in sorted(rows, key=lambda k: (VARIANTS.index(k.split(":")[0]), k)):
        variant, method = key.split(":")
        r = rows[key]
        naive = rows[f"{variant}:naive"]["abs"]
        lo, hi = ratio_interval(r["abs"], naive, r["group"], seed)
        print(
            f"{variant:16} {method:9} {len(r['abs']):5d} {np.median(r['abs']):7.4f} "
            f"{np.median(r['abs']) / np.median(naive):6.2f} {lo:5.2f}-{hi:5.2f} {np.mean(r['cover']):6.2f} "
            f"{np.mean(r['x2']):6.2f} {np.mean(r['lcover']):6.2f} {np.mean(r['x2h']):6.2f} "
            f"{np.mean(r['lch']):6.2f} {np.median(r['ms']):6.1f}"
        )


def time_forecasts(curves: list[LcdbCurve], n: int) -> None:
    """Median and P90 time of one forecast (fit_curve's path) over ``n`` pilots of ``curves``, with the
    shipped learned model and with the families alone."""
    usable = [c for c in curves if pilot_indices(c.anchors, N_ROUNDS) is not None]
    pick = np.random.default_rng(0).choice(len(usable), min(n, len(usable)), replace=False)
    reqs = []
    for i in pick:
        curve = usable[i]
        idx = pilot_indices(curve.anchors, N_ROUNDS)
        assert idx is not None
        reqs.append(
            pilot_request(curve, idx, "mean+signals", [float(curve.values[-1])], np.random.default_rng(0))[0]
        )
    forecast_response(reqs[0])  # loads the artifact once
    for name, learned in (("learned", "shipped"), ("families", None)):
        ms = []
        for req in reqs:
            t0 = time.perf_counter()
            forecast_response(req, learned)  # type: ignore[arg-type]
            ms.append(1000 * (time.perf_counter() - t0))
        print(f"forecast time, {name}: median {np.median(ms):.1f} ms, P90 {np.quantile(ms, 0.9):.1f} ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--build-seed",
        type=int,
        help="seed of the models' builds (default: --seed); the same folds and pilots with another build "
        "show how much of a difference the build's own randomness makes",
    )
    parser.add_argument("--only-folds", type=int, nargs="*", help="score only these folds")
    parser.add_argument(
        "--horizons",
        type=int,
        default=1,
        metavar="K",
        help="score each held-out curve also cut at half, a quarter, ... of its last anchor (K horizons in "
        "all): more pilots per curve for decisions between variants; the issue's protocol is 1",
    )
    parser.add_argument(
        "--train-groups",
        type=float,
        default=1.0,
        metavar="SHARE",
        help="build each fold's model from this share of the other folds' dataset groups (seeded)",
    )
    parser.add_argument(
        "--extra-curves",
        type=Path,
        help="curves of another corpus to build every fold's model with as well (never scored)",
    )
    parser.add_argument("--max-curves-per-fold", type=int, help="score a seeded sample of each fold's curves")
    parser.add_argument("--parametric", action="store_true", help="also score the families alone (no model)")
    parser.add_argument("--dump", type=Path, help="write every scored pilot's forecast (JSON lines)")
    parser.add_argument(
        "--reach",
        action="store_true",
        help="also check the forecast's probability of reaching targets not chosen by their outcome",
    )
    parser.add_argument(
        "--time", type=int, metavar="N", help="only time N forecasts (one at a time) and stop"
    )
    args = parser.parse_args(argv)
    if args.horizons < 1:
        parser.error(f"--horizons must be 1 or more (got {args.horizons}): the horizons scored per curve")
    if not 0.0 < args.train_groups <= 1.0:
        parser.error(
            f"--train-groups must be in (0, 1] (got {args.train_groups}): the share of the training groups"
        )
    print(f"command: {' '.join(['python', *sys.argv])}")
    with threadpool_limits(1):
        curves = load_lcdb(args.curves)
        if args.time:
            time_forecasts(curves, args.time)
            return
        groups = np.array([c.group for c in curves])
        extra = [] if args.extra_curves is None else training_only(load_lcdb(args.extra_curves), curves)
        # the fold-dealing seed differs from the build's inner folds
        fold = group_folds(groups, args.folds, args.seed + 1000)
        total: dict[str, dict[str, list[Any]]] = {}
        reach: dict[str, tuple[list[float], list[bool]]] = {}
        build_seed = args.seed if args.build_seed is None else args.build_seed
        for k in args.only_folds if args.only_folds is not None else range(args.folds):
            fit_on = training_share(
                [c for c, f in zip(curves, fold, strict=True) if f != k], args.train_groups, build_seed
            )
            fit_on += extra
            held = [c for c, f in zip(curves, fold, strict=True) if f == k]
            if args.max_curves_per_fold is not None and len(held) > args.max_curves_per_fold:
                pick = np.random.default_rng(args.seed).choice(
                    len(held), args.max_curves_per_fold, replace=False
                )
                held = [held[i] for i in sorted(pick)]
            model = train(fit_on, build_seed)
            held = [h for c in held for h in horizons(c, args.horizons)]
            rows = score(held, model, args.seed)
            if args.parametric:
                # without the learned model the signals change nothing: the families score each pilot once
                for key, r in score(held, None, args.seed, ("mean", "single")).items():
                    if key.endswith("annoplan"):
                        rows[key.replace("annoplan", "families")] = r
                        rows[key.replace(":", "+signals:").replace("annoplan", "families")] = r
            if args.reach:
                for variant, (p, hit) in reach_check(held, model, args.seed, REACH_VARIANTS).items():
                    reach.setdefault(variant, ([], []))[0].extend(p)
                    reach[variant][1].extend(hit)
            print(f"fold {k}: {len(held)} curves of {len(set(c.group for c in held))} groups held out")
            summary(rows)
            for key, r in rows.items():
                r["fold"] = [k] * len(r["abs"])
                for m, v in r.items():
                    total.setdefault(key, {}).setdefault(m, []).extend(v)
        print("all scored folds:")
        summary(total)
        for variant, (p, hit) in reach.items():
            lines = reach_table(p, hit)
            print(f"reach by the last anchor, {variant}: {lines[0]}")
            for line in lines[1:]:
                print(line)
        if args.dump is not None:
            with args.dump.open("w") as f:
                for key, r in total.items():
                    for g, k, d in zip(r["group"], r["fold"], r["detail"], strict=True):
                        f.write(json.dumps({"key": key, "group": g, "fold": k, **d}) + "\n")


if __name__ == "__main__":
    main()
