"""What active learning saves over random labeling on public data sets, measured with the compare sweep.

Usage::

    python benchmarks/compare_public.py DATA_DIR [--seeds 3] [--jobs 2] [--backend loky] [--strategies ...]
        [--save OUTCOMES.pkl | --load OUTCOMES.pkl]

Every ``.npz`` of ``DATA_DIR`` is replayed as ``annoplan compare`` does (:mod:`simulators.sweep`): random
labeling and each query strategy with logistic regression, paired over seeds, a budget of min(pool, 2,000)
human labels in 20 batches, and a model trained on the whole pool as the reference. For each target (a share
of the full-pool accuracy) a case is one data set and seed; the saving is ``1 - labels / random's labels``
(a run that never reached the target counts with its budget, a bound); cases where the shared first batch
already reached it, or neither run did, are left out. Printed per strategy and target: the cases, the
median saving, its interquartile range and P10-P90, the share of cases where active learning needed more
labels than random, and the median over the data sets' medians. BLAS threads are pinned to 1.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import pickle  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from annoplan.simulators._common import default_n_eval  # noqa: E402
from annoplan.simulators.sweep import (  # noqa: E402
    FULL_POOL,
    ReplayOutcome,
    load_features,
    make_tasks,
    run_sweep,
    saving_vs_random,
)

TARGETS = (0.95, 0.98, 0.99)
MAX_LABELS = 2000
ROUNDS = 20


def budgets(paths: list[Path]) -> dict[str, int]:
    """min(pool, 2,000) human labels per data set."""
    out = {}
    for path in paths:
        _, y = load_features(path)
        out[str(path)] = min(len(y) - default_n_eval(len(y)), MAX_LABELS)
    return out


def savings(outcomes: tuple[ReplayOutcome, ...], strategy: str, target: float) -> list[tuple[str, float]]:
    """(data set, saving) of every informative case of ``strategy`` at ``target``."""
    by_case: dict[tuple[str, int], dict[str, ReplayOutcome]] = {}
    for o in outcomes:
        arm = FULL_POOL if o.task.policy == FULL_POOL else o.task.arm
        by_case.setdefault((o.task.data, o.task.seed), {})[arm] = o
    cases = []
    for (data, _), runs in sorted(by_case.items()):
        level = target * runs[FULL_POOL].metric[0]
        saving = saving_vs_random(runs[strategy], runs["random"], level)
        if saving is not None:
            cases.append((Path(data).stem, saving))
    return cases


def print_table(outcomes: tuple[ReplayOutcome, ...], strategies: list[str]) -> None:
    print(
        f"{'strategy':17} {'target':>6} {'cases':>5} {'median':>7} {'IQR':>16} {'P10-P90':>16} {'worse':>6} "
        f"{'ds median':>9}"
    )
    pooled: dict[float, list[float]] = {t: [] for t in TARGETS}
    for strategy in strategies:
        for target in TARGETS:
            cases = savings(outcomes, strategy, target)
            values = np.array([s for _, s in cases])
            pooled[target].extend(values.tolist())
            p10, p25, p50, p75, p90 = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
            datasets = sorted({d for d, _ in cases})
            ds_median = np.median([np.median([s for d, s in cases if d == name]) for name in datasets])
            print(
                f"{strategy:17} {target:6.0%} {values.size:5d} {p50:+7.0%} {f'{p25:+.0%} to {p75:+.0%}':>16} "
                f"{f'{p10:+.0%} to {p90:+.0%}':>16} {np.mean(values < 0):6.0%} {ds_median:+9.0%}"
            )
    print()
    for target in TARGETS:
        values = np.array(pooled[target])
        p25, p50, p75 = np.quantile(values, [0.25, 0.5, 0.75])
        print(
            f"all strategies pooled at {target:.0%}: {values.size} cases, median saving {p50:+.0%} "
            f"(IQR {p25:+.0%} to {p75:+.0%}), worse than random in {np.mean(values < 0):.0%}"
        )


def print_datasets(outcomes: tuple[ReplayOutcome, ...], strategies: list[str]) -> None:
    print("median saving per data set at 95% / 98% / 99% of the full-pool accuracy (pooled over strategies):")
    for name in sorted({Path(o.task.data).stem for o in outcomes}):
        cells = []
        for target in TARGETS:
            values = [s for st in strategies for d, s in savings(outcomes, st, target) if d == name]
            cells.append(f"{np.median(values):+.0%}" if values else "-")
        full = np.median(
            [o.metric[0] for o in outcomes if o.task.policy == FULL_POOL and Path(o.task.data).stem == name]
        )
        print(f"  {name:20} full-pool accuracy {full:.3f}: {' / '.join(cells)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--backend", default="loky", choices=("serial", "loky", "dask"))
    parser.add_argument("--strategies", default="least_confidence,margin,entropy,qbc,density")
    parser.add_argument("--save", type=Path, help="write the outcomes here (pickle)")
    parser.add_argument("--load", type=Path, help="read the outcomes of an earlier run instead of replaying")
    args = parser.parse_args(argv)
    print(f"command: python {shlex.join(sys.argv)}")
    strategies = [s for s in args.strategies.split(",") if s]
    start = time.perf_counter()
    if args.load is not None:
        outcomes = pickle.loads(args.load.read_bytes())
    else:
        paths = sorted(args.data_dir.glob("*.npz"))
        if not paths:
            parser.error(f"no .npz data sets in {args.data_dir}")
        caps = budgets(paths)
        tasks = make_tasks(
            paths,
            strategies=["random", *strategies],
            batch_size=lambda data: max(1, caps[data] // ROUNDS),
            max_labels=caps.__getitem__,
            seeds=args.seeds,
        )
        done = 0

        def progress(outcome: ReplayOutcome) -> None:
            nonlocal done
            done += 1
            if done % 10 == 0 or done == len(tasks):
                print(f"  {done}/{len(tasks)} replays, {time.perf_counter() - start:.0f} s", file=sys.stderr)

        outcomes = run_sweep(tasks, backend=args.backend, n_jobs=args.jobs, progress=progress)
        if args.save is not None:
            args.save.write_bytes(pickle.dumps(outcomes))
    n_data = len({o.task.data for o in outcomes})
    print(
        f"{n_data} data sets x {args.seeds} seeds; random and {', '.join(strategies)}; logistic regression; "
        f"budget min(pool, {MAX_LABELS}), batch budget/{ROUNDS}; {len(outcomes)} replays in "
        f"{time.perf_counter() - start:.0f} s ({args.backend}, {args.jobs} jobs)"
    )
    print()
    print_table(outcomes, strategies)
    print()
    print_datasets(outcomes, strategies)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
