"""Speed of the pool replay: does the engine cost more than the model fits it must do?

Usage::

    python benchmarks/replay_speed.py DATA_DIR [--dataset adult] [--repeats 3]
    python benchmarks/replay_speed.py --synthetic 1000000 --max-labels 10000 --batch-sizes 2000 \
        --hybrid-pool-size 0

With ``--synthetic N`` the data are N generated two-class items (scikit-learn's ``make_classification``, 20
features, seeded) instead of a data set of DATA_DIR: the large-pool case, where the replay's own
bookkeeping (scoring and ranking the pool each round) weighs most against the model's fits.

DATA_DIR holds data sets in the ``.npz`` format that :func:`simulators.datasets.load_dataset`
reads. On a subsample of one of them (default: ``adult``, a 15,000-item pool plus 1,000 held-out
evaluation items) it runs least-confidence active learning at batch sizes 10 and 100 up to
``--max-labels`` labels, and reports

* the replay's total time and the time spent inside the classifier's ``fit``/``predict_proba``;
* the overhead share: (total - model time) / total (target < 10%);
* a plain numpy + scikit-learn loop doing the same fits (same classifier, split, batch sizes,
  least confidence, accuracy on the evaluation set each round), and the ratio replay / loop
  (target <= 1.1).

It also times a hybrid replay on a 17,000-item pool at batch size 500 (target < 60 s). BLAS
threads are pinned to 1, as inside the engine. Times are medians over ``--repeats`` runs,
alternating engine and loop.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from annoplan.simulators.datasets import load_dataset  # noqa: E402
from annoplan.simulators.query_strategies import QUERY_STRATEGIES  # noqa: E402
from annoplan.simulators.replay import ReplayResult, replay_pool  # noqa: E402

N_EVAL = 1000
MAX_ITER = 1000


class TimedLogisticRegression(LogisticRegression):
    """Logistic regression that adds the seconds spent in ``fit`` and ``predict_proba`` up."""

    seconds = 0.0
    fits = 0

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TimedLogisticRegression:
        start = time.perf_counter()
        super().fit(X, y, sample_weight=sample_weight)
        TimedLogisticRegression.seconds += time.perf_counter() - start
        TimedLogisticRegression.fits += 1
        return self

    def predict_proba(self, X: Any) -> Any:
        start = time.perf_counter()
        proba = super().predict_proba(X)
        TimedLogisticRegression.seconds += time.perf_counter() - start
        return proba

    @classmethod
    def reset(cls) -> None:
        cls.seconds = 0.0
        cls.fits = 0


@dataclass
class Timing:
    """One timed run: wall seconds, seconds inside the model, model fits, final accuracy."""

    total: float
    model: float
    fits: int
    accuracy: float

    @property
    def overhead(self) -> float:
        return (self.total - self.model) / self.total


def subsample(X: Any, y: np.ndarray, n_items: int, seed: int) -> tuple[Any, np.ndarray]:
    """``n_items`` random rows (all rows when the data set is smaller)."""
    if n_items >= y.size:
        return X, y
    rows = np.sort(np.random.default_rng(seed).choice(y.size, size=n_items, replace=False))
    return X[rows], y[rows]


def time_replay(X: Any, y: np.ndarray, **settings: Any) -> tuple[Timing, ReplayResult]:
    """Run :func:`replay_pool` with a timed classifier."""
    TimedLogisticRegression.reset()
    start = time.perf_counter()
    estimator = TimedLogisticRegression(max_iter=MAX_ITER)
    result = replay_pool(X, y, n_eval=N_EVAL, estimator=estimator, **settings)
    total = time.perf_counter() - start
    timing = Timing(
        total=total,
        model=TimedLogisticRegression.seconds,
        fits=TimedLogisticRegression.fits,
        accuracy=result.final_metric or 0.0,
    )
    return timing, result


def time_plain_loop(X: Any, y: np.ndarray, batch_size: int, max_labels: int, seed: int) -> Timing:
    """Least-confidence active learning written directly with numpy and scikit-learn."""
    TimedLogisticRegression.reset()
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        rng = np.random.default_rng(seed)
        order = rng.permutation(y.size)
        eval_rows, pool_rows = order[:N_EVAL], np.sort(order[N_EVAL:])
        X_eval, y_eval = X[eval_rows], y[eval_rows]
        X_pool, y_pool = X[pool_rows], y[pool_rows]
        labeled = np.zeros(y_pool.size, dtype=bool)
        labeled[rng.choice(y_pool.size, size=batch_size, replace=False)] = True
        model = TimedLogisticRegression(max_iter=MAX_ITER)
        while True:
            train = np.flatnonzero(labeled)
            model.fit(X_pool[train], y_pool[train])
            accuracy = float(np.mean(model.predict_proba(X_eval).argmax(axis=1) == y_eval))
            n_next = min(batch_size, max_labels - train.size)
            if n_next <= 0:
                break
            unlabeled = np.flatnonzero(~labeled)
            confidence = model.predict_proba(X_pool[unlabeled]).max(axis=1)
            labeled[unlabeled[np.argpartition(confidence, n_next - 1)[:n_next]]] = True
    total = time.perf_counter() - start
    return Timing(total, TimedLogisticRegression.seconds, TimedLogisticRegression.fits, accuracy)


def print_strategy_times(X: Any, y: np.ndarray, seed: int) -> None:
    """One active-learning replay per registered query strategy: its seconds in all and in the model."""
    print(f"\nquery strategies: pool {y.size - N_EVAL}, 500 labels in batches of 100, one run each")
    print(f"{'strategy':>24} {'replay s':>9} {'model s':>8} {'strategy s':>11} {'accuracy':>9}")
    for name in QUERY_STRATEGIES:
        timing, _ = time_replay(
            X, y, policy="active_learning", strategy=name, batch_size=100, max_labels=500, random_state=seed
        )
        print(
            f"{name:>24} {timing.total:>9.2f} {timing.model:>8.2f} {timing.total - timing.model:>11.2f} "
            f"{timing.accuracy:>9.3f}"
        )


def median_timing(runs: list[Timing]) -> Timing:
    middle = sorted(runs, key=lambda run: run.total)[len(runs) // 2]
    return Timing(
        statistics.median(run.total for run in runs),
        statistics.median(run.model for run in runs),
        middle.fits,
        middle.accuracy,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("data_dir", type=Path, nargs="?", help="folder of .npz data sets")
    parser.add_argument("--synthetic", type=int, help="generate this many two-class items instead")
    parser.add_argument("--dataset", default="adult", help="data set name (file stem)")
    parser.add_argument("--pool-size", type=int, default=15_000, help="items in the pool")
    parser.add_argument("--max-labels", type=int, default=2_000, help="labels per AL replay")
    parser.add_argument("--batch-sizes", default="10,100", help="comma-separated AL batch sizes")
    parser.add_argument("--hybrid-pool-size", type=int, default=17_000, help="hybrid pool items (0: none)")
    parser.add_argument("--hybrid-batch-size", type=int, default=500)
    parser.add_argument("--threshold", type=float, default=0.9, help="hybrid confidence threshold")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--strategy-times",
        action="store_true",
        help="also time one replay of every query strategy (500 labels in batches of 100)",
    )
    parser.add_argument(
        "--warm-start", action="store_true", help="also time the replay with warm_start=True (its own rows)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.synthetic:
        X_all, y_all = make_classification(
            n_samples=args.synthetic + N_EVAL, n_features=20, n_informative=10, random_state=args.seed
        )
        class_names, name = ["0", "1"], f"make_classification(n_samples={args.synthetic + N_EVAL:,})"
        args.pool_size = args.synthetic
    elif args.data_dir is None:
        parser.error("give DATA_DIR or --synthetic N")
    else:
        path = args.data_dir / f"{args.dataset}.npz"
        X_all, y_all, class_names = load_dataset(path)
        name = path.name
    print(f"command: python {shlex.join(sys.argv)}")
    print(
        f"data: {name}, {y_all.size} items, {X_all.shape[1]} features, "
        f"{len(class_names)} classes; python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, {os.cpu_count()} CPUs, BLAS threads pinned to 1"
    )
    X, y = subsample(X_all, y_all, args.pool_size + N_EVAL, args.seed)
    print(
        f"active learning: pool {y.size - N_EVAL}, eval {N_EVAL}, least confidence, "
        f"up to {args.max_labels} labels, median of {args.repeats} runs\n"
    )
    header = (
        f"{'batch':>6} {'fits':>5} {'replay s':>9} {'model s':>8} {'overhead':>9} "
        f"{'loop s':>7} {'loop model s':>13} {'ratio':>6} {'acc replay':>10} {'acc loop':>9}"
    )
    print(header)
    print("-" * len(header))
    with threadpool_limits(limits=1):
        for batch_size in (int(part) for part in args.batch_sizes.split(",")):
            replays: list[Timing] = []
            warm: list[Timing] = []
            loops: list[Timing] = []
            for repeat in range(args.repeats):
                for start, timings in (
                    ((True, warm), (False, replays)) if args.warm_start else ((False, replays),)
                ):
                    timing, _ = time_replay(
                        X,
                        y,
                        policy="active_learning",
                        strategy="least_confidence",
                        batch_size=batch_size,
                        max_labels=args.max_labels,
                        random_state=args.seed + repeat,
                        warm_start=start,
                    )
                    timings.append(timing)
                loops.append(time_plain_loop(X, y, batch_size, args.max_labels, args.seed + repeat))
            replay, loop = median_timing(replays), median_timing(loops)
            print(
                f"{batch_size:>6} {replay.fits:>5} {replay.total:>9.2f} {replay.model:>8.2f} "
                f"{replay.overhead:>9.1%} {loop.total:>7.2f} {loop.model:>13.2f} "
                f"{replay.total / loop.total:>5.2f}x {replay.accuracy:>10.3f} {loop.accuracy:>9.3f}"
            )
            if warm:
                w = median_timing(warm)
                print(
                    f"{'warm':>6} {w.fits:>5} {w.total:>9.2f} {w.model:>8.2f} {w.overhead:>9.1%} "
                    f"{loop.total:>7.2f} {loop.model:>13.2f} {w.total / loop.total:>5.2f}x "
                    f"{w.accuracy:>10.3f} {loop.accuracy:>9.3f}"
                )

        if args.strategy_times:
            print_strategy_times(X, y, args.seed)
        if args.hybrid_pool_size <= 0:
            print("targets: overhead < 15% at 10^6 items, replay/loop <= 1.10x, with warm start < 1x")
            return 0
        X_hybrid, y_hybrid = subsample(X_all, y_all, args.hybrid_pool_size + N_EVAL, args.seed)
        hybrid, result = time_replay(
            X_hybrid,
            y_hybrid,
            policy="hybrid",
            batch_size=args.hybrid_batch_size,
            confidence_threshold=args.threshold,
            random_state=args.seed,
        )
    print(
        f"\nhybrid: pool {y_hybrid.size - N_EVAL}, batch {args.hybrid_batch_size}, threshold "
        f"{args.threshold}: {hybrid.total:.2f} s total, {hybrid.model:.2f} s in the model "
        f"(overhead {hybrid.overhead:.1%}), {result.rounds} rounds, {result.human_labels} human "
        f"labels, {result.auto_accepted} auto-accepted, label error {result.label_error:.3%}"
    )
    print("targets: overhead < 10% (< 15% at 10^6 items), replay/loop <= 1.10x (warm: < 1x), hybrid < 60 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
