"""Backtest of re-plans: how much closer to the real total does tracking a plan's actuals get than the plan?

Usage::

    python -m benchmarks.replan_backtest DATA_DIR [--seeds 2] [--datasets digits,adult] [--json OUT]

(run from the repository's root: it re-uses ``benchmarks/plan_backtest.py``'s pilot and rate card).

For each dataset and seed, as in ``benchmarks/plan_backtest.py`` (the same pilot, rate card, goal and warm
start; the plan's strategies are hybrid only):

1. Plan: :func:`planner.make_plan` from a pilot of 4 random rounds.
2. Replay: :func:`simulators.replay.replay_pool` runs the plan's policy (``annoplan replay --plan`` does the
   same) to the end; its ``progress`` callback records every round. Its total cost is the real total.
3. Actuals: the rounds up to the first whose cumulative cost reaches 25% (then 50%) of the real total are
   posted as actuals (human labels, cost, corrections, auto-accepted items, the model's accuracy on the
   replay's evaluation set and its calibration sample), and :func:`planner.tracking.track_plan` re-plans.
   The re-plan keeps the plan's batch size (the replay keeps running it; the threshold is re-certified).

Reported per checkpoint: the median absolute relative error of the forecast's P50 of the total against the
real total, for the plan and for the re-plan (the same cases), how often the P10-P90 interval covers the
real total, and the status the tracking gave. BLAS threads are pinned to 1.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, field, replace  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from annoplan.api.replay_plan import replay_settings  # noqa: E402
from annoplan.planner import make_plan  # noqa: E402
from annoplan.planner.tracking import track_plan  # noqa: E402
from annoplan.simulators._common import default_n_eval  # noqa: E402
from annoplan.simulators.costs import RateCard  # noqa: E402
from annoplan.simulators.datasets import load_dataset  # noqa: E402
from annoplan.simulators.pilot import simulate_pilot  # noqa: E402
from annoplan.simulators.replay import ReplayRound, replay_pool  # noqa: E402
from benchmarks.plan_backtest import (  # noqa: E402
    COSTS,
    DELTA,
    DRAWS,
    MAX_LABEL_ERROR,
    code_version,
    pilot_rows,
    pilot_sizes,
)

#: shares of the real total cost at which the actuals are posted
CHECKPOINTS = (0.25, 0.5)


@dataclass(frozen=True)
class Checkpoint:
    """The re-plan after the rounds that spent ``share`` of the real total."""

    share: float
    round: int
    spent: float
    status: str
    p10: float
    p50: float
    p90: float
    seconds: float


@dataclass(frozen=True)
class Case:
    dataset: str
    seed: int
    pool: int
    status: str
    real: float = float("nan")
    plan_p10: float = float("nan")
    plan_p50: float = float("nan")
    plan_p90: float = float("nan")
    rounds: int = 0
    checkpoints: tuple[Checkpoint, ...] = field(default=())


def actual_round(record: ReplayRound) -> dict[str, Any]:
    """A replay round as a round of actuals."""
    row: dict[str, Any] = {
        "round": record.round_index,
        "human_labels": record.human_labels,
        "cost": f"{record.cost:.2f}",
        "corrections": record.corrections,
        "auto_accepted": record.auto_accepted,
    }
    if record.metric is not None:
        row["metric"] = record.metric
    if record.calibration_confidence:
        row["calibration"] = {
            "confidence": list(record.calibration_confidence),
            "correct": list(record.calibration_correct),
        }
    return row


def money(value: str) -> float:
    return float(Decimal(value))


def run_case(path: Path, seed: int, share: float, max_pool: int) -> Case:
    """Pilot, plan, replay and the re-plans at each checkpoint, for one dataset and seed."""
    with threadpool_limits(limits=1):
        X, y, _ = load_dataset(path)
        if max_pool and y.size - default_n_eval(y.size) > max_pool:
            keep = np.sort(np.random.default_rng(seed).choice(y.size, max_pool, replace=False))
            X, y = X[keep], y[keep]
        sizes = pilot_sizes(y.size, share)
        pilot = simulate_pilot(X, y, n_labels=sizes, random_state=seed)
        labeled, eval_rows = pilot_rows(X, y, pilot, sizes, seed)
        rows = np.setdiff1d(np.arange(y.size), labeled)
        pool = pilot.pool_size - labeled.size
        request: dict[str, Any] = {
            "pool_size": pool,
            "goal": {"type": "labeled_dataset", "max_label_error": MAX_LABEL_ERROR},
            "delta": DELTA,
            "pilot": pilot.to_dict(),
            "costs": COSTS,
            "strategies": ["hybrid"],
            "draws": DRAWS,
            "seed": seed,
        }
        plan = make_plan(request)
        policy = plan.policy
        if plan.recommendation.strategy != "hybrid" or policy is None:
            return Case(path.stem, seed, pool, f"no hybrid plan ({plan.recommendation.strategy})")
        history: list[ReplayRound] = []
        result = replay_pool(
            X[rows],
            y[rows],
            **replay_settings(policy),
            costs=RateCard.from_mapping(COSTS),
            n_eval=eval_rows.size,
            labeled=(X[labeled], y[labeled]),
            random_state=seed,
            progress=history.append,
        )
        cost = plan.recommendation.cost
        case = Case(
            path.stem,
            seed,
            pool,
            "ok",
            real=result.cost,
            plan_p10=money(cost.p10),
            plan_p50=money(cost.p50),
            plan_p90=money(cost.p90),
            rounds=len(history),
        )
        tracked_request = request | {"batch_sizes": [plan.recommendation.batch_size]}
        checkpoints = []
        for part in CHECKPOINTS:
            upto = next(i for i, r in enumerate(history) if r.cost >= part * result.cost)
            if upto == len(history) - 1:
                continue  # the last round: nothing is left to re-plan
            actuals = {"rounds": [actual_round(r) for r in history[: upto + 1]]}
            t0 = time.perf_counter()
            out = track_plan(tracked_request, plan, actuals)
            total = out.forecast.cost
            checkpoints.append(
                Checkpoint(
                    share=part,
                    round=upto + 1,
                    spent=history[upto].cost,
                    status=out.status,
                    p10=money(total.p10),
                    p50=money(total.p50),
                    p90=money(total.p90),
                    seconds=time.perf_counter() - t0,
                )
            )
    return replace(case, checkpoints=tuple(checkpoints))


def rel(forecast: float, real: float) -> float:
    return abs(forecast - real) / real


def print_cases(cases: list[Case]) -> None:
    print(
        f"{'dataset':20s} {'seed':>4s} {'real':>9s} {'plan P50':>9s}  checkpoints (share: round, status, P50)"
    )
    for c in cases:
        if c.status != "ok":
            print(f"{c.dataset:20s} {c.seed:4d} {c.status}")
            continue
        points = "; ".join(
            f"{p.share:.0%}: r{p.round}/{c.rounds} {p.status} {p.p50:,.0f}" for p in c.checkpoints
        )
        print(f"{c.dataset:20s} {c.seed:4d} {c.real:9,.0f} {c.plan_p50:9,.0f}  {points}")


def summary(cases: list[Case]) -> dict[str, Any]:
    """Per checkpoint, over the cases that reached it: the plan's and the re-plan's errors and coverage."""
    out: dict[str, Any] = {}
    for part in CHECKPOINTS:
        pairs = [(c, p) for c in cases if c.status == "ok" for p in c.checkpoints if p.share == part]
        if not pairs:
            continue
        plan_err = [rel(c.plan_p50, c.real) for c, _ in pairs]
        replan_err = [rel(p.p50, c.real) for c, p in pairs]
        out[f"{part:.0%}"] = {
            "cases": len(pairs),
            "plan_median_abs_error": float(np.median(plan_err)),
            "replan_median_abs_error": float(np.median(replan_err)),
            "replan_closer": float(np.mean([r < p for p, r in zip(plan_err, replan_err, strict=True)])),
            "plan_coverage": float(np.mean([c.plan_p10 <= c.real <= c.plan_p90 for c, _ in pairs])),
            "replan_coverage": float(np.mean([p.p10 <= c.real <= p.p90 for c, p in pairs])),
            "on_track": float(np.mean([p.status == "on_track" for _, p in pairs])),
            "median_seconds": float(np.median([p.seconds for _, p in pairs])),
        }
    return out


def print_summary(s: dict[str, Any]) -> None:
    print(
        f"{'checkpoint':>10s} {'cases':>5s} {'plan |err|':>10s} {'re-plan |err|':>13s} {'closer':>7s} "
        f"{'plan cov':>8s} {'re-plan cov':>11s} {'on track':>8s} {'s/re-plan':>9s}"
    )
    for name, v in s.items():
        print(
            f"{name:>10s} {v['cases']:5d} {v['plan_median_abs_error']:10.1%} "
            f"{v['replan_median_abs_error']:13.1%} {v['replan_closer']:7.0%} {v['plan_coverage']:8.0%} "
            f"{v['replan_coverage']:11.0%} {v['on_track']:8.0%} {v['median_seconds']:9.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder of .npz datasets")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per dataset (default 2)")
    parser.add_argument("--datasets", default="", help="comma-separated dataset names (default: all)")
    parser.add_argument("--pilot-share", type=float, default=0.125, help="last pilot round / pool (max)")
    parser.add_argument("--max-pool", type=int, default=0, help="subsample larger datasets (0: no cap)")
    parser.add_argument("--json", type=Path, help="write every case and the summary here")
    args = parser.parse_args(argv)
    print(f"command: python {shlex.join(sys.argv)}")
    version = code_version()
    paths = sorted(args.data_dir.glob("*.npz"))
    if args.datasets:
        wanted = {name.strip() for name in args.datasets.split(",") if name.strip()}
        missing = sorted(wanted - {p.stem for p in paths})
        if missing:
            parser.error(f"no such datasets in {args.data_dir}: {', '.join(missing)}")
        paths = [p for p in paths if p.stem in wanted]
    if not paths:
        parser.error(f"no .npz datasets in {args.data_dir}")
    start = time.perf_counter()
    cases = [
        run_case(path, seed, args.pilot_share, args.max_pool) for path in paths for seed in range(args.seeds)
    ]
    print(
        f"{len(paths)} datasets x {args.seeds} seeds; hybrid plans, {DRAWS} draws; actuals posted at "
        f"{', '.join(f'{p:.0%}' for p in CHECKPOINTS)} of the real cost; {time.perf_counter() - start:.0f} s"
    )
    print(f"code: {version}")
    print()
    print_cases(cases)
    print()
    s = summary(cases)
    print_summary(s)
    if args.json:
        payload = {"command": shlex.join(sys.argv), "code": version, "cases": [asdict(c) for c in cases]}
        args.json.write_text(json.dumps(payload | {"summary": s}, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
