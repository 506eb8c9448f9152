"""How noisy is one labeling run? Measured spread of replayed runs against the forecast's noise model.

Usage::

    python benchmarks/noise_check.py DATA_DIR [--seeds N]

On every ``.npz`` dataset of ``DATA_DIR``, random labeling is replayed ``--seeds`` times (as in
``curve_backtest.py``: logistic regression, nested label sets, a held-out evaluation set drawn per seed).
At each size the runs' variance is split into the binomial noise of the evaluation set and what is left,
the noise of which items were labeled; that is reported as a multiple ``f`` of binomial on ``n_labels``,
the quantity ``planner.fit.TRAIN_NOISE`` stands for (below 0 where the runs vary less than a binomial
evaluation set alone would: a variance from a few runs is itself uncertain). Also reported: the correlation
of one run's deviations from the mean curve between sizes one and three doublings apart (nested label sets
and one evaluation set make a run's noise persist from round to round).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
from curve_backtest import Curve, replay_random_curve
from threadpoolctl import threadpool_limits

from annoplan.planner.curves.forecast import measurement_var
from annoplan.planner.fit import TRAIN_NOISE


def aligned(runs: list[Curve]) -> tuple[np.ndarray, np.ndarray]:
    """The sizes every run measured and the runs' errors there: (sizes, errors of shape (runs, sizes))."""
    sizes = runs[0].anchors
    for r in runs[1:]:
        sizes = np.intersect1d(sizes, r.anchors)
    return sizes, np.array([r.errors[np.searchsorted(r.anchors, sizes)] for r in runs])


def train_noise_factors(runs: list[Curve]) -> np.ndarray:
    """Per size, the runs' variance beyond the evaluation set's binomial, over binomial on ``n_labels``."""
    sizes, errors = aligned(runs)
    mean, var = errors.mean(0), errors.var(0, ddof=1)
    eval_var = measurement_var(mean, sizes, runs[0].n_eval, None, 0.0)
    train_var = measurement_var(mean, sizes, None, None, 1.0)
    return np.asarray((var - eval_var) / train_var)


def lag_correlation(runs: list[Curve], doublings: float) -> float:
    """Mean correlation of the runs' deviations between sizes ``doublings`` apart (rounded)."""
    sizes, errors = aligned(runs)
    corr = np.corrcoef((errors - errors.mean(0)).T)
    lag = np.rint(np.log2(sizes[None, :] / sizes[:, None]))
    picked = corr[np.triu(lag == doublings, k=1)]
    return float(np.nanmean(picked)) if picked.size else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, help="folder of .npz datasets to replay")
    parser.add_argument("--seeds", type=int, default=8, help="replayed labeling runs per dataset (>= 3)")
    args = parser.parse_args(argv)
    if args.seeds < 3:
        parser.error("--seeds must be >= 3 (a variance needs several runs)")
    if not any(args.datasets.glob("*.npz")):
        parser.error(f"datasets: no .npz file in {args.datasets}")
    print(f"command: {' '.join(['python', *sys.argv])}")
    columns = ("n_eval", "f p25", "f p50", "f p75", "corr 1x2", "corr 3x2")
    print(f"{'dataset':22} " + " ".join(f"{c:>8}" for c in columns))
    everything, medians = [], []
    with threadpool_limits(1):
        for path in sorted(args.datasets.glob("*.npz")):
            replayed = (replay_random_curve(path, seed) for seed in range(args.seeds))
            kept = [r for r in replayed if r is not None]
            if len(kept) < 3:
                continue
            f = train_noise_factors(kept)
            everything.extend(f)
            medians.append(float(np.median(f)))
            q25, q50, q75 = np.quantile(f, [0.25, 0.5, 0.75])
            print(
                f"{path.stem[:22]:22} {kept[0].n_eval:>8} {q25:8.2f} {q50:8.2f} {q75:8.2f} "
                f"{lag_correlation(kept, 1):8.2f} {lag_correlation(kept, 3):8.2f}"
            )
    if not medians:
        sys.exit("no dataset gave a usable curve")
    print(
        f"train-noise factor f over all sizes: median {np.median(everything):.2f}, "
        f"median of the datasets' medians {np.median(medians):.2f}, mean {np.mean(everything):.2f} "
        f"(the forecast assumes {TRAIN_NOISE})"
    )


if __name__ == "__main__":
    main()
