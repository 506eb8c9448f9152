"""Calibrate the hybrid cost interval on held-out replays (split conformal), and check it on others.

Usage::

    python benchmarks/cost_interval_calibration.py CALIBRATION.json [CHECK.json ...] [--coverage 0.8]

Each file is the ``--json`` output of ``benchmarks/plan_backtest.py`` (forecast P10/P50/P90 of the hybrid cost
and the replayed cost per dataset and seed). The Monte Carlo interval holds the uncertainty the forecast
models (learning curve, coverage, sampling); what it does not model (the policy's threshold rises, how a real
model's confidence drifts) shows up as replays outside it. Conformalized quantile regression (Romano,
Patterson and Candes 2019) widens it by one margin ``Q`` in log space: with ``E_i = max(log(P10_i / real_i),
log(real_i / P90_i))`` on the calibration replays, ``Q`` is their ``ceil((n + 1) c) / n`` empirical quantile
(``c`` the coverage asked), and the interval ``[P10 e^-Q, P90 e^Q]`` covers a new replay with probability at
least ``c`` when replays are exchangeable. Calibrate on one corpus, check on the others: the margin the
planner ships (``planner.plans.COST_INTERVAL_MARGIN``) comes from this script run on the development corpus.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np


def scores(path: Path) -> tuple[np.ndarray, list[tuple[float, float, float]]]:
    """The nonconformity scores of a backtest's replayed cases and their (P10, P90, real) costs."""
    cases = [c for c in json.loads(path.read_text())["cases"] if c.get("status") == "ok"]
    rows = [(c["cost_p10"], c["cost_p90"], c["real"]["cost"]) for c in cases]
    return np.array([max(math.log(lo / real), math.log(real / hi)) for lo, hi, real in rows]), rows


def margin(e: np.ndarray, coverage: float) -> float:
    """The split-conformal margin: the ``ceil((n + 1) coverage)``-th smallest score (inf if n is too "
    "small)."""
    rank = math.ceil((e.size + 1) * coverage)
    return math.inf if rank > e.size else float(np.sort(e)[rank - 1])


def covered(rows: list[tuple[float, float, float]], q: float) -> float:
    return float(np.mean([lo * math.exp(-q) <= real <= hi * math.exp(q) for lo, hi, real in rows]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("calibration", type=Path)
    parser.add_argument("check", type=Path, nargs="*")
    parser.add_argument("--coverage", type=float, default=0.8)
    args = parser.parse_args()
    e, rows = scores(args.calibration)
    q = margin(e, args.coverage)
    print(
        f"calibration {args.calibration.name}: {e.size} replays, margin Q = {q:.4f} "
        f"(x{math.exp(q):.3f} / x{math.exp(-q):.3f})"
    )
    print(f"  coverage as forecast {covered(rows, 0.0):.1%}, widened {covered(rows, q):.1%}")
    for path in args.check:
        _, check_rows = scores(path)
        before, after = covered(check_rows, 0.0), covered(check_rows, q)
        print(
            f"check {path.name}: {len(check_rows)} replays, coverage as forecast {before:.1%}, "
            f"widened by Q {after:.1%}"
        )


if __name__ == "__main__":
    main()
