"""Label efficiency of active learning over random labeling, measured by pool replay on real datasets.

Usage::

    python benchmarks/al_efficiency.py DATA_DIR [--seeds 3] [--jobs 2] [--per-seed]

``DATA_DIR`` holds datasets as ``.npz`` (the format :func:`simulators.datasets.load_dataset` reads). On each
dataset and seed, :func:`simulators.replay.replay_pool` runs random labeling and active learning with the
query strategies ``least_confidence``, ``margin`` and ``entropy``, all with the default classifier (logistic
regression) and the default held-out evaluation set (a fifth of the data, at most 1,000 items). A run with a
given seed draws the same evaluation set and the same first random batch whatever the policy, so every
comparison is paired.

- Label budget: min(2,000, half the pool) human labels; batch size: budget / 20 (about 20 rounds).
- Pools larger than ``--max-pool`` items (default 15,000) are subsampled at random (per seed) first.
- Levels: the accuracy the random run reaches at 25%, 50% and 75% of the budget (interpolated on its history).
- Efficiency at a level: labels random needed to first reach it / labels active learning needed to first
  reach it, both interpolated linearly between rounds. Active learning with n labels then matches random
  with ``efficiency * n`` labels.
- When active learning never reaches the level within the budget, the efficiency is censored: at most
  (random's labels / budget); the bound is used in the statistics (counted as worse than random).
- A level that the first model (trained on the shared first random batch) already reaches says nothing about
  the policies (both need exactly that batch): it is marked flat and left out of the statistics.

The summary gives, per strategy and for the three pooled, the quantiles of log-efficiency (natural log)
over datasets x seeds x levels, its standard deviation within and between datasets, the median efficiency
per level and per dataset, and the share of cases where active learning was worse than random (efficiency
< 1). A sensitivity table repeats the pooled numbers with earlier levels (10/20/30% of the budget) and with
isotonic-smoothed curves (which removes single-round noise peaks from "first reached"), and the pooled
median leaving one dataset out. BLAS threads are pinned to 1.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from sklearn.isotonic import IsotonicRegression  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from annoplan.simulators.datasets import load_dataset  # noqa: E402
from annoplan.simulators.replay import ReplayResult, default_n_eval, replay_pool  # noqa: E402
from annoplan.simulators.sweep import BACKENDS, map_tasks  # noqa: E402

STRATEGIES = ("least_confidence", "margin", "entropy")
LEVEL_FRACTIONS = (0.25, 0.5, 0.75)
MAX_BUDGET = 2000
ROUNDS = 20


@dataclass(frozen=True)
class Case:
    """Efficiency of one strategy at one accuracy level on one dataset and seed."""

    dataset: str
    seed: int
    strategy: str
    fraction: float
    level: float
    random_labels: float
    al_labels: float | None
    efficiency: float
    censored: bool
    flat: bool


@dataclass(frozen=True)
class DatasetRun:
    """Settings and efficiency cases of one dataset and seed."""

    dataset: str
    seed: int
    n_items: int
    pool: int
    budget: int
    batch: int
    seconds: float
    curves: dict[str, tuple[np.ndarray, np.ndarray]]


def curve(result: ReplayResult) -> tuple[np.ndarray, np.ndarray]:
    """Labels and accuracy of each round that has a model."""
    rounds = [r for r in result.history if r.metric is not None]
    return (
        np.array([r.human_labels for r in rounds], dtype=float),
        np.array([r.metric for r in rounds], dtype=float),
    )


def smoothed(labels: np.ndarray, metric: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The curve fitted by isotonic (non-decreasing) regression: single-round noise peaks removed."""
    return labels, IsotonicRegression().fit_transform(labels, metric)


def labels_at(labels: np.ndarray, metric: np.ndarray, n: float) -> float:
    """Accuracy at ``n`` labels, interpolated linearly between rounds."""
    return float(np.interp(n, labels, metric))


def labels_to_reach(labels: np.ndarray, metric: np.ndarray, level: float) -> float | None:
    """Labels at which the curve first reaches ``level`` (linear between rounds); None if it never does."""
    reached = np.flatnonzero(metric >= level)
    if reached.size == 0:
        return None
    i = int(reached[0])
    if i == 0:
        return float(labels[0])
    n0, n1, m0, m1 = labels[i - 1], labels[i], metric[i - 1], metric[i]
    return float(n0 + (n1 - n0) * (level - m0) / (m1 - m0))


def run_dataset_task(task: tuple[Path, int, int]) -> DatasetRun:
    """:func:`run_dataset` of one task tuple (the sweep engine passes one argument)."""
    return run_dataset(*task)


def run_dataset(path: Path, seed: int, max_pool: int) -> DatasetRun:
    """Random and active-learning replays of one dataset with one seed, and their efficiencies."""
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        X, y, _ = load_dataset(path)
        n_eval = default_n_eval(y.size)
        if y.size - n_eval > max_pool:
            rows = np.sort(np.random.default_rng(seed).choice(y.size, size=max_pool + n_eval, replace=False))
            X, y = X[rows], y[rows]
        pool = y.size - n_eval
        budget = min(MAX_BUDGET, pool // 2)
        batch = max(1, round(budget / ROUNDS))
        settings: dict[str, Any] = {
            "batch_size": batch,
            "max_labels": budget,
            "n_eval": n_eval,
            "calibration_size": 0,
            "random_state": seed,
        }
        random_run = replay_pool(X, y, policy="random", **settings)
        al_runs = {s: replay_pool(X, y, policy="active_learning", strategy=s, **settings) for s in STRATEGIES}
    curves = {"random": curve(random_run)} | {s: curve(run) for s, run in al_runs.items()}
    return DatasetRun(path.stem, seed, int(y.size), pool, budget, batch, time.perf_counter() - start, curves)


def efficiency_cases(
    run: DatasetRun, fractions: tuple[float, ...] = LEVEL_FRACTIONS, smooth: bool = False
) -> list[Case]:
    """Efficiency of each strategy at the accuracy levels random reaches at ``fractions`` of the budget."""
    curves = {k: smoothed(*v) if smooth else v for k, v in run.curves.items()}
    r_labels, r_metric = curves["random"]
    cases = []
    for fraction in fractions:
        level = labels_at(r_labels, r_metric, fraction * run.budget)
        n_random = labels_to_reach(r_labels, r_metric, level)
        assert n_random is not None  # the level is a value of the random curve
        flat = level <= r_metric[0]
        for strategy in STRATEGIES:
            n_al = labels_to_reach(*curves[strategy], level)
            efficiency = n_random / (run.budget if n_al is None else n_al)
            cases.append(
                Case(
                    run.dataset,
                    run.seed,
                    strategy,
                    fraction,
                    level,
                    n_random,
                    n_al,
                    efficiency,
                    n_al is None,
                    flat,
                )
            )
    return cases


def quantiles(values: np.ndarray) -> tuple[float, float, float]:
    p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return float(p10), float(p50), float(p90)


def print_dataset_table(runs: list[DatasetRun], per_seed: bool) -> None:
    by_dataset: dict[str, list[DatasetRun]] = {}
    for run in runs:
        by_dataset.setdefault(run.dataset, []).append(run)
    short = {"least_confidence": "lc", "margin": "margin", "entropy": "entropy"}
    print("Per dataset: random's accuracy levels (mean over seeds); per strategy, the median efficiency over")
    print("seeds x levels [min-max], cases worse than random / informative cases (c: censored, f: flat, left")
    print("out); accuracy at the budget (mean over seeds) of random and least confidence; replay seconds.")
    header = f"{'dataset':19} {'pool':>6} {'budget':>6} {'batch':>5} {'levels 25/50/75%':>17}"
    header += "".join(f" {short[s] + ' eff [min-max] worse':>31}" for s in STRATEGIES)
    header += f" {'final rnd/lc':>12} {'s':>4}"
    print(header)
    print("-" * len(header))
    for name, group in by_dataset.items():
        cases = [c for run in group for c in efficiency_cases(run)]
        levels = [np.mean([c.level for c in cases if c.fraction == f]) for f in LEVEL_FRACTIONS]
        first = group[0]
        line = f"{name:19} {first.pool:6d} {first.budget:6d} {first.batch:5d} "
        line += f"{'/'.join(f'{v:.3f}'[1:] for v in levels):>17}"
        for strategy in STRATEGIES:
            mine = [c for c in cases if c.strategy == strategy]
            kept = [c for c in mine if not c.flat]
            if kept:
                eff = np.array([c.efficiency for c in kept])
                worse = sum(c.efficiency < 1 for c in kept)
                censored = sum(c.censored for c in kept)
                flat = len(mine) - len(kept)
                note = f"({censored}c,{flat}f)" if censored or flat else ""
                cell = f"{np.median(eff):5.2f} [{eff.min():4.2f}-{eff.max():5.2f}] {worse}/{len(kept)}{note}"
            else:
                cell = f"all {len(mine)} flat"
            line += f" {cell:>31}"
        finals = [np.mean([r.curves[k][1][-1] for r in group]) for k in ("random", "least_confidence")]
        line += f" {finals[0]:.3f}/{finals[1]:.3f} {sum(r.seconds for r in group):4.0f}"
        print(line)
    if per_seed:
        print()
        print("Every case: dataset seed level% strategy level random-labels al-labels efficiency")
        for run in runs:
            for c in efficiency_cases(run):
                al = "never" if c.al_labels is None else f"{c.al_labels:7.0f}"
                tag = " flat" if c.flat else " censored" if c.censored else ""
                print(
                    f"  {c.dataset:19} {c.seed} {c.fraction * 100:3.0f} {c.strategy:16} {c.level:.4f} "
                    f"{c.random_labels:7.0f} {al:>7} {c.efficiency:6.2f}{tag}"
                )


@dataclass(frozen=True)
class Summary:
    """Statistics of log-efficiency over a set of cases (flat ones left out)."""

    n_cases: int
    n_flat: int
    n_censored: int
    log_eff: np.ndarray
    datasets: list[str]
    dataset_medians: np.ndarray
    within_sd: float

    @property
    def worse(self) -> float:
        return float(np.mean(self.log_eff < 0))


def summary_of(cases: list[Case]) -> Summary:
    kept = [c for c in cases if not c.flat]
    datasets = sorted({c.dataset for c in kept})
    per_dataset = [np.log([c.efficiency for c in kept if c.dataset == d]) for d in datasets]
    return Summary(
        n_cases=len(kept),
        n_flat=len(cases) - len(kept),
        n_censored=sum(c.censored for c in kept),
        log_eff=np.log([c.efficiency for c in kept]),
        datasets=datasets,
        dataset_medians=np.array([np.median(v) for v in per_dataset]),
        within_sd=float(np.sqrt(np.mean([np.var(v, ddof=1) for v in per_dataset if v.size > 1]))),
    )


def print_summary(label: str, cases: list[Case]) -> None:
    s = summary_of(cases)
    p10, p50, p90 = quantiles(s.log_eff)
    kept = [c for c in cases if not c.flat]
    by_level = "  ".join(
        f"{f * 100:.0f}%: {np.exp(np.median([np.log(c.efficiency) for c in kept if c.fraction == f])):.2f}"
        for f in sorted({c.fraction for c in kept})
    )
    medians = s.dataset_medians
    print(label)
    print(
        f"  {s.n_cases} informative cases of {s.n_cases + s.n_flat} ({s.n_flat} flat left out); "
        f"{s.n_censored} censored (level never reached within the budget)"
    )
    print(
        f"  log-efficiency: median {np.median(s.log_eff):+.3f}  P10 {p10:+.3f}  P50 {p50:+.3f}  "
        f"P90 {p90:+.3f}  mean {s.log_eff.mean():+.3f}  sd {s.log_eff.std(ddof=1):.3f}"
    )
    print(
        f"  efficiency:     median {np.exp(np.median(s.log_eff)):.2f}   P10 {np.exp(p10):.2f}   "
        f"P50 {np.exp(p50):.2f}   P90 {np.exp(p90):.2f}"
    )
    print(f"  worse than random (efficiency < 1): {s.worse:.0%} of cases")
    print(f"  median efficiency by level: {by_level}")
    print(
        "  median efficiency per dataset: "
        + ", ".join(f"{d} {np.exp(m):.2f}" for d, m in zip(s.datasets, medians, strict=True))
    )
    print(
        f"  over the {len(s.datasets)} dataset medians: median {np.exp(np.median(medians)):.2f}, "
        f"P10 {np.exp(np.quantile(medians, 0.1)):.2f}, P90 {np.exp(np.quantile(medians, 0.9)):.2f}, "
        f"log-sd {medians.std(ddof=1):.3f} between datasets ({s.within_sd:.3f} within a dataset), "
        f"below 1 in {np.mean(medians < 0):.0%} of datasets"
    )


def print_sensitivity(runs: list[DatasetRun]) -> None:
    """The pooled summary again under other level choices and with smoothed curves."""
    variants = [
        ("levels 25/50/75%, raw curves (main)", LEVEL_FRACTIONS, False),
        ("levels 25/50/75%, isotonic-smoothed", LEVEL_FRACTIONS, True),
        ("levels 10/20/30%, raw curves", (0.1, 0.2, 0.3), False),
        ("levels 10/20/30%, isotonic-smoothed", (0.1, 0.2, 0.3), True),
    ]
    print("Sensitivity (all three strategies pooled; efficiency scale; 'ds' = over per-dataset medians):")
    header = (
        f"  {'variant':38} {'cases':>5} {'cens':>4} {'median':>6} {'P10':>5} {'P90':>5} {'log-sd':>6} "
        f"{'worse':>5} {'ds med':>6} {'ds P10':>6} {'ds P90':>6} {'ds sd':>5}"
    )
    print(header)
    for label, fractions, smooth in variants:
        cases = [c for run in runs for c in efficiency_cases(run, fractions, smooth)]
        s = summary_of(cases)
        p10, p50, p90 = np.exp(quantiles(s.log_eff))
        d10, d50, d90 = np.exp(quantiles(s.dataset_medians))
        print(
            f"  {label:38} {s.n_cases:5d} {s.n_censored:4d} {p50:6.2f} {p10:5.2f} {p90:5.2f} "
            f"{s.log_eff.std(ddof=1):6.3f} {s.worse:5.0%} {d50:6.2f} {d10:6.2f} {d90:6.2f} "
            f"{s.dataset_medians.std(ddof=1):5.3f}"
        )
    cases = [c for run in runs for c in efficiency_cases(run) if not c.flat]
    left_out = {
        d: float(np.exp(np.median(np.log([c.efficiency for c in cases if c.dataset != d]))))
        for d in sorted({c.dataset for c in cases})
    }
    low, high = min(left_out, key=left_out.__getitem__), max(left_out, key=left_out.__getitem__)
    print(
        f"  leaving one dataset out, the main pooled median ranges {left_out[low]:.2f} (without {low}) "
        f"to {left_out[high]:.2f} (without {high})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder of .npz datasets")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per dataset (default 3)")
    parser.add_argument("--max-pool", type=int, default=15000, help="subsample larger pools to this size")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--backend", choices=BACKENDS, help="where the replays run (default: serial for 1 job, else loky)"
    )
    parser.add_argument("--scheduler", help="dask: the scheduler's address (default: a local cluster)")
    parser.add_argument("--per-seed", action="store_true", help="also print every case")
    args = parser.parse_args(argv)
    print(f"command: python {shlex.join(sys.argv)}")
    paths = sorted(args.data_dir.glob("*.npz"))
    if not paths:
        parser.error(f"no .npz datasets in {args.data_dir}")
    tasks = [(path, seed, args.max_pool) for path in paths for seed in range(args.seeds)]
    # Largest files first, so that a slow dataset does not run alone at the end.
    largest_first = sorted(range(len(tasks)), key=lambda i: -tasks[i][0].stat().st_size)
    start = time.perf_counter()
    backend = args.backend or ("serial" if args.jobs == 1 else "loky")
    replays = map_tasks(
        run_dataset_task,
        tasks,
        backend=backend,
        n_jobs=args.jobs,
        scheduler=args.scheduler,
        order=largest_first,
    )
    runs = list(track(replays, total=len(tasks), description="replays", console=Console(stderr=True)))
    print(
        f"{len(paths)} datasets x {args.seeds} seeds; random and active learning ({', '.join(STRATEGIES)}); "
        f"logistic regression; budget min({MAX_BUDGET}, pool/2), batch budget/{ROUNDS}; "
        f"pools capped at {args.max_pool}; {time.perf_counter() - start:.0f} s on {args.jobs} workers"
    )
    print()
    print_dataset_table(runs, args.per_seed)
    print()
    all_cases = [c for run in runs for c in efficiency_cases(run)]
    for strategy in STRATEGIES:
        print_summary(f"Strategy {strategy}:", [c for c in all_cases if c.strategy == strategy])
    print_summary("All three strategies pooled:", all_cases)
    print()
    print_sensitivity(runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
