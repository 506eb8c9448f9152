"""Backtest of plans: does the hybrid forecast of ``make_plan`` match what the hybrid policy really costs?

Usage::

    python benchmarks/plan_backtest.py DATA_DIR [--seeds 2] [--first-seed 0] [--datasets a,b] [--json OUT]

``DATA_DIR`` holds datasets as ``.npz`` (the format :func:`simulators.datasets.load_dataset` reads). For each
dataset and seed:

1. Pilot: :func:`simulators.pilot.simulate_pilot` (as ``annoplan replay --emit-pilot`` does) runs 4 random
   rounds (logistic regression, a held-out evaluation set of a fifth of the data, at most 1,000 items, whose
   first 500 items are the calibration samples). Round sizes: 100/200/400/800 labels, scaled down with
   :func:`simulators.pilot.scale_pilot_sizes` so that the last round uses at most ``--pilot-share`` (default
   1/8) of the pool.
2. Plan: a ``labeled_dataset`` request (max_label_error 0.05, delta 0.05) with the pilot, a fixed rate card
   (label 0.40, review 0.12, correction 0.35, audit 0.10, audit_rate 0.05, platform_fee 0.01, round_overhead
   25 USD), ``--strategies`` (default hybrid only), 2,000 draws and the seed; ``pool_size`` = the items the
   replay labels (below).
3. Replay: :func:`simulators.replay.replay_pool` runs the hybrid policy at the plan's hybrid settings
   (``confidence_threshold``, ``batch_size``) with the same rate card, and with the request's label-error goal
   and delta: each round's lot of auto-accepted items is acceptance-sampled (the audits the plan prices), a
   lot the audit rejects delivers only its audited items and raises the threshold.

Pilot and replay share their items this way: the pilot's labeled items are *removed* from the replay pool
(they are paid for already and not in ``pool_size``); the replay's data are the pilot's pool minus those items
plus the pilot's evaluation items, and the replay holds out as many items for its own evaluation set, so the
replay labels exactly ``pool_size`` = (pilot pool - pilot labels) items. With ``--start warm`` (default) the
replay's model is trained on the pilot's labels *and* the items humans checked in the replay, as a team that
continues from its pilot would (``replay_pool(labeled=...)``: the first round already has a model, as in the
plan's simulation); ``--start cold`` trains on the replay's items only and starts with a random batch labeled
from scratch, which the plan does not assume.

Compared: the forecast cost quantiles (hybrid ``StrategyForecast.cost`` P10/P50/P90) with the replayed cost
(absolute relative error of the P50; covered when P10 <= real <= P90), the forecast label error (share of the
pool left wrong, P50/P90) with the replay's, the plan's ``probability_goal_met``, and the work volumes (human
items, corrections, auto-accepted items, rounds, and the share of the pool auto-accepted in the first routing
round, round 2) so that one sees *why* a forecast is off.

Goals (issue 22): median absolute relative cost error <= 15%; the P10-P90 interval covers the replayed cost in
>= 75% of replays; real label error <= 0.05 in >= 95% of replays.

Baseline, a naive planner (what the issue measured: cost off by 34% (median), interval covered 33%, label
error within 5% in 78%): on the last pilot round's calibration sample, the lowest threshold whose empirical
pool risk (share of the sample auto-accepted and wrong) is <= 0.05; coverage frozen at the sample's; cost by
arithmetic: one batch of fresh labels, then of the rest the covered share is auto-accepted (audited at
audit_rate) and the others are pre-labeled for humans at the sample's error below the threshold, in
ceil(humans / batch) more rounds. Its batch is fixed at 2% of the pool (at least 10). No uncertainty: the
interval is the point. It is replayed the same way as the plan (same pool, same start, same lot audits).

BLAS threads are pinned to 1 (environment and ``threadpool_limits``).
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, replace  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from annoplan.api.replay_plan import replay_settings  # noqa: E402
from annoplan.planner import make_plan  # noqa: E402
from annoplan.planner.schemas.plans import PlanResponse, StrategyForecast  # noqa: E402
from annoplan.planner.schemas.policy import Policy  # noqa: E402
from annoplan.simulators._common import default_n_eval, predict_confidence, split_eval_pool  # noqa: E402
from annoplan.simulators.costs import RateCard  # noqa: E402
from annoplan.simulators.datasets import load_dataset  # noqa: E402
from annoplan.simulators.pilot import DEFAULT_PILOT_ROUNDS, SimulatedPilot, scale_pilot_sizes, simulate_pilot  # noqa: E402
from annoplan.simulators.query_strategies import make_default_classifier  # noqa: E402
from annoplan.simulators.replay import ReplayResult, replay_pool  # noqa: E402
from annoplan.simulators.sweep import BACKENDS, map_tasks  # noqa: E402
from annoplan.simulators.volumes import VOLUME_FIELDS, Volumes  # noqa: E402

MAX_LABEL_ERROR = 0.05
#: the request's delta: the goal is kept with probability 1 - DELTA (the lot audits of the replay use it too)
DELTA = 0.05
COSTS: dict[str, Any] = {
    "currency": "USD",
    "label": 0.40,
    "review": 0.12,
    "correction": 0.35,
    "audit": 0.10,
    "audit_rate": 0.05,
    "platform_fee": 0.01,
    "round_overhead": 25.0,
}
DRAWS = 2000
NAIVE_BATCH_SHARE = 0.02
#: issue 4's bars: the median |relative cost error| at most, the two shares at least
GOALS = {"median_abs_cost_error": 0.15, "interval_coverage": 0.75, "label_error_ok": 0.95}


@dataclass(frozen=True)
class HybridRun(Volumes[float]):
    """Work of one hybrid run (forecast P50s or means, or a replay's counts) and what it cost and left."""

    cost: float
    human: float
    label_error: float
    auto_round2: float  #: share of the pool auto-accepted in round 2 (the first routing round)

    def cost_parts(self) -> dict[str, float]:
        """Cost by kind of work (currency units): the rate card applied to each volume."""
        return RateCard.from_mapping(COSTS).parts(self)


@dataclass(frozen=True)
class Case:
    """One dataset and seed: the plan's hybrid forecast, the naive forecast and their replays."""

    dataset: str
    seed: int
    n_items: int
    pool: int
    pilot_labels: tuple[int, ...]
    pilot_accuracy: float
    status: str  #: "ok", or why there is no hybrid forecast
    threshold: float | None = None
    batch: int | None = None
    cost_p10: float | None = None
    cost_p50: float | None = None
    cost_p90: float | None = None
    label_error_p50: float | None = None
    label_error_p90: float | None = None
    probability_goal_met: float | None = None
    forecast: HybridRun | None = None  #: P50s of the forecast
    forecast_mean: HybridRun | None = (
        None  #: means of the forecast (their cost parts add up to the mean cost)
    )
    real: HybridRun | None = None
    naive_threshold: float | None = None
    naive_batch: int | None = None
    naive: HybridRun | None = None
    naive_real: HybridRun | None = None
    plan_seconds: float = 0.0
    replay_seconds: float = 0.0


def pilot_sizes(n_items: int, share: float) -> tuple[int, ...]:
    """100/200/400/800 labels, scaled down so that the last round uses at most ``share`` of the pool."""
    pool = n_items - default_n_eval(n_items)
    return scale_pilot_sizes(DEFAULT_PILOT_ROUNDS, max(2, int(2 * share * pool)))


def pilot_rows(
    X: Any, y: np.ndarray, pilot: SimulatedPilot, sizes: tuple[int, ...], seed: int
) -> tuple[Any, Any]:
    """Rows of the data the pilot labeled and rows it evaluated on, as ``simulate_pilot`` draws them.

    ``simulate_pilot`` does not return its items, so its random choices are repeated (same generator, same
    order of draws) and checked: a model trained on the rows found must give the pilot's last calibration
    confidences. A change of ``simulate_pilot``'s draws fails here instead of silently mixing items.
    """
    rng = np.random.default_rng(seed)
    split = split_eval_pool(X, y, None, rng)
    order = rng.permutation(split.y_pool.size)
    last = pilot.rounds[-1]
    if last.n_labels != sizes[-1]:
        raise RuntimeError(f"pilot's last round has {last.n_labels} labels, expected {sizes[-1]}")
    labeled = split.pool_rows[order[: last.n_labels]]
    eval_rows = np.setdiff1d(np.arange(y.size), split.pool_rows)
    model = make_default_classifier().fit(X[labeled], y[labeled])
    _, confidence, _ = predict_confidence(model, split.X_eval[: len(last.confidence)])
    if not np.allclose(confidence, last.confidence, atol=1e-9):
        raise RuntimeError("could not reproduce the pilot's items: simulate_pilot's draws changed")
    return labeled, eval_rows


def money(value: str) -> float:
    return float(Decimal(value))


def forecast_volumes(f: StrategyForecast, pool: int, mean: bool = False) -> HybridRun:
    """P50s (or means) of the forecast; round 2's auto-accepted share from the median path's schedule."""
    auto_round2 = float("nan")
    if len(f.schedule) >= 2:
        row = f.schedule[1]
        auto_round2 = (pool - row.remaining - row.human_labels) / pool
    w = f.expected_work
    if mean:
        return HybridRun(
            **vars(w.volumes()),
            cost=money(f.cost.mean),
            human=w.fresh_labels + w.reviews + w.corrections,
            label_error=f.label_error.p50,
            auto_round2=auto_round2,
        )
    return HybridRun(
        cost=money(f.cost.p50),
        human=f.human_labels.p50,
        fresh_labels=w.fresh_labels,
        reviews=f.reviews.p50,
        corrections=f.corrections.p50,
        audits=f.audits.p50,
        auto_accepted=f.auto_accepted.p50,
        rounds=f.rounds.p50,
        label_error=f.label_error.p50,
        auto_round2=auto_round2,
    )


def real_volumes(r: ReplayResult) -> HybridRun:
    auto_round2 = r.history[1].auto_accepted / r.pool_size if len(r.history) >= 2 else 0.0
    return HybridRun(
        **vars(r.volumes()),
        cost=r.cost,
        human=r.human_labels,
        label_error=r.label_error,
        auto_round2=auto_round2,
    )


def naive_plan(confidence: np.ndarray, correct: np.ndarray, pool: int) -> tuple[float, int, HybridRun]:
    """The naive planner: empirical threshold, coverage frozen at the pilot's, cost by arithmetic."""
    candidates = np.unique(confidence)
    pool_risk = np.array([np.mean((confidence >= t) & ~correct) for t in candidates])
    ok = np.flatnonzero(pool_risk <= MAX_LABEL_ERROR)
    threshold = float(candidates[ok[0]]) if ok.size else 1.0 + 1e-9
    accepted = confidence >= threshold
    coverage = float(np.mean(accepted))
    risk = float(np.mean(~correct[accepted])) if accepted.any() else 0.0
    below_error = float(np.mean(~correct[~accepted])) if (~accepted).any() else 0.0
    batch = int(min(pool, max(10, round(NAIVE_BATCH_SHARE * pool))))
    rest = pool - batch
    auto = coverage * rest
    human = rest - auto
    corrections = human * below_error
    rounds = 1 + max(1, math.ceil(human / batch))
    card = RateCard.from_mapping(COSTS)
    audits = card.audit_rate * auto
    work = Volumes(
        fresh_labels=float(batch),
        reviews=human - corrections,
        corrections=corrections,
        audits=audits,
        auto_accepted=auto,
        rounds=float(rounds),
    )
    label_error = (auto - audits) * risk / pool
    run = HybridRun(
        **vars(work),
        cost=card.total(work),
        human=batch + human,
        label_error=label_error,
        auto_round2=auto / pool,
    )
    return min(threshold, 1.0), batch, run


def run_case_task(task: tuple[Path, int, float, str, list[str], int]) -> Case:
    """:func:`run_case` of one task tuple (the sweep engine passes one argument)."""
    return run_case(*task)


def run_case(path: Path, seed: int, share: float, start: str, strategies: list[str], max_pool: int) -> Case:
    """Pilot, plan and replays of one dataset with one seed."""
    with threadpool_limits(limits=1):
        X, y, _ = load_dataset(path)
        if max_pool and y.size - default_n_eval(y.size) > max_pool:
            keep = np.sort(np.random.default_rng(seed).choice(y.size, max_pool, replace=False))
            X, y = X[keep], y[keep]
        sizes = pilot_sizes(y.size, share)
        pilot = simulate_pilot(X, y, n_labels=sizes, random_state=seed)
        labeled, eval_rows = pilot_rows(X, y, pilot, sizes, seed)
        rows = np.setdiff1d(np.arange(y.size), labeled)  # pilot pool minus pilot labels, plus its eval set
        pool = pilot.pool_size - labeled.size
        base = Case(
            path.stem,
            seed,
            int(y.size),
            pool,
            tuple(r.n_labels for r in pilot.rounds),
            pilot.rounds[-1].value,
            "ok",
        )
        request = {
            "name": f"backtest {path.stem} seed {seed}",
            "pool_size": pool,
            "goal": {"type": "labeled_dataset", "max_label_error": MAX_LABEL_ERROR},
            "delta": DELTA,
            "pilot": pilot.to_dict(),
            "costs": COSTS,
            "strategies": strategies,
            "draws": DRAWS,
            "seed": seed,
        }
        t0 = time.perf_counter()
        try:
            plan: PlanResponse = make_plan(request)
        except Exception as exc:  # a crash of the planner is a result of this benchmark, not its end
            return replace(base, status=f"make_plan failed: {type(exc).__name__}: {exc}")
        plan_seconds = time.perf_counter() - t0
        hybrid = next((f for f in plan.strategies if f.strategy == "hybrid"), None)
        if hybrid is None or hybrid.settings.confidence_threshold is None:
            reason = "; ".join(w for w in plan.warnings if "hybrid" in w) or "no hybrid forecast"
            return replace(base, status=reason, plan_seconds=plan_seconds)

        card = RateCard.from_mapping(COSTS)
        before = (X[labeled], y[labeled]) if start == "warm" else None

        def replay(policy: Policy) -> ReplayResult:
            # the policy object the plan prices, as `annoplan replay --plan` runs it; the start labels are
            # the pilot's own items
            result = replay_pool(
                X[rows],
                y[rows],
                **replay_settings(policy),
                costs=card,
                n_eval=eval_rows.size,
                labeled=before,
                random_state=seed,
            )
            if result.pool_size != pool or result.unlabeled:
                raise RuntimeError(f"replay pool {result.pool_size} ({result.unlabeled} unlabeled) != {pool}")
            return result

        t0 = time.perf_counter()
        threshold, batch = hybrid.settings.confidence_threshold, hybrid.settings.batch_size
        assert hybrid.policy is not None and hybrid.policy.lot_audit is not None
        real = replay(hybrid.policy)
        calibration = pilot.rounds[-1]
        n_threshold, n_batch, naive = naive_plan(
            np.asarray(calibration.confidence), np.asarray(calibration.correct, dtype=bool), pool
        )
        naive_policy = hybrid.policy.model_copy(
            update={"confidence_threshold": n_threshold, "batch_size": n_batch}
        )
        naive_real = real if (n_threshold, n_batch) == (threshold, batch) else replay(naive_policy)
        replay_seconds = time.perf_counter() - t0
    return replace(
        base,
        threshold=threshold,
        batch=batch,
        cost_p10=money(hybrid.cost.p10),
        cost_p50=money(hybrid.cost.p50),
        cost_p90=money(hybrid.cost.p90),
        label_error_p50=hybrid.label_error.p50,
        label_error_p90=hybrid.label_error.p90,
        probability_goal_met=hybrid.probability_goal_met,
        forecast=forecast_volumes(hybrid, pool),
        forecast_mean=forecast_volumes(hybrid, pool, mean=True),
        real=real_volumes(real),
        naive_threshold=n_threshold,
        naive_batch=n_batch,
        naive=naive,
        naive_real=real_volumes(naive_real),
        plan_seconds=plan_seconds,
        replay_seconds=replay_seconds,
    )


def rel(forecast: float, real: float) -> float:
    """Signed relative error of a forecast: (forecast - real) / real."""
    if real:
        return (forecast - real) / real
    return float("inf") if forecast else 0.0


def fmt_money(value: float) -> str:
    return f"{value:,.0f}"


def print_cases(cases: list[Case]) -> None:
    print(
        "Plan (hybrid) per dataset and seed: forecast cost P10/P50/P90 vs the replayed cost (USD); forecast"
    )
    print("label error P50/P90 vs the real share of the pool left wrong; the plan's probability of the goal.")
    header = (
        f"{'dataset':19} {'seed':>4} {'pool':>6} {'pilot':>5} {'acc':>5} {'thr':>6} {'batch':>5} "
        f"{'P10':>7} {'P50':>7} {'P90':>7} {'real':>7} {'|err|':>6} {'cov':>3} "
        f"{'LE P50':>6} {'LE P90':>6} {'LE':>6} {'ok':>3} {'P(goal)':>7} {'s':>5}"
    )
    print(header)
    print("-" * len(header))
    for c in cases:
        lead = f"{c.dataset:19} {c.seed:4d} {c.pool:6d} {c.pilot_labels[-1]:5d} {c.pilot_accuracy:5.3f}"
        if c.real is None:
            print(f"{lead} -- {c.status}")
            continue
        assert c.cost_p10 is not None and c.cost_p50 is not None and c.cost_p90 is not None
        covered = c.cost_p10 <= c.real.cost <= c.cost_p90
        print(
            f"{lead} {c.threshold:6.3f} {c.batch:5d} {fmt_money(c.cost_p10):>7} {fmt_money(c.cost_p50):>7} "
            f"{fmt_money(c.cost_p90):>7} {fmt_money(c.real.cost):>7} "
            f"{abs(rel(c.cost_p50, c.real.cost)):6.1%} "
            f"{'yes' if covered else 'no':>3} {c.label_error_p50:6.3f} {c.label_error_p90:6.3f} "
            f"{c.real.label_error:6.3f} {'yes' if c.real.label_error <= MAX_LABEL_ERROR else 'NO':>3} "
            f"{c.probability_goal_met:7.2f} {c.plan_seconds + c.replay_seconds:5.1f}"
        )


def print_volumes(cases: list[Case], naive: bool = False) -> None:
    who = "Naive planner" if naive else "Plan (hybrid)"
    print(f"{who}: forecast{' (P50)' if not naive else ''} / real volumes (items; rounds): human items")
    print(
        "(fresh + reviews + corrections), corrections, auto-accepted, rounds, share of the pool auto-accepted"
    )
    print("in round 2 (the first routing round), and the relative cost error (forecast - real) / real.")
    header = (
        f"{'dataset':19} {'seed':>4} {'human fc/real':>15} {'corr fc/real':>13} {'auto fc/real':>15} "
        f"{'rounds':>9} {'auto@r2':>11} {'cost err':>8}"
    )
    print(header)
    print("-" * len(header))
    for c in cases:
        fc, real = (c.naive, c.naive_real) if naive else (c.forecast, c.real)
        if fc is None or real is None:
            continue
        print(
            f"{c.dataset:19} {c.seed:4d} {fc.human:7.0f}/{real.human:<7.0f} "
            f"{fc.corrections:6.0f}/{real.corrections:<6.0f} "
            f"{fc.auto_accepted:7.0f}/{real.auto_accepted:<7.0f} "
            f"{fc.rounds:4.0f}/{real.rounds:<4.0f} {fc.auto_round2:5.2f}/{real.auto_round2:<5.2f} "
            f"{rel(fc.cost, real.cost):+8.1%}"
        )


PARTS = VOLUME_FIELDS


def cost_error_parts(c: Case) -> dict[str, float] | None:
    """(forecast mean - real) cost of each kind of work, as a share of the real cost; they add up to the
    relative error of the forecast's mean cost."""
    if c.forecast_mean is None or c.real is None:
        return None
    fc, real = c.forecast_mean.cost_parts(), c.real.cost_parts()
    return {k: (fc[k] - real[k]) / c.real.cost for k in PARTS}


def print_cost_parts(cases: list[Case]) -> None:
    print(
        "Plan (hybrid): where the cost error comes from. Per kind of work, (forecast mean - real) cost as a"
    )
    print("share of the real cost (fresh labels, reviews and corrections with the platform fee, audits, the")
    print("platform fee of auto-accepted items, round overhead); the parts add up to the mean's error.")
    header = f"{'dataset':19} {'seed':>4} " + " ".join(f"{k:>13}" for k in PARTS) + f" {'mean err':>8}"
    print(header)
    print("-" * len(header))
    rows = []
    for c in cases:
        parts = cost_error_parts(c)
        if parts is None:
            continue
        rows.append(parts)
        total = sum(parts.values())
        print(
            f"{c.dataset:19} {c.seed:4d} " + " ".join(f"{parts[k]:+13.1%}" for k in PARTS) + f" {total:+8.1%}"
        )
    if rows:
        print("-" * len(header))
        medians = {k: float(np.median([r[k] for r in rows])) for k in PARTS}
        total = float(np.median([sum(r.values()) for r in rows]))
        print(f"{'median':24} " + " ".join(f"{medians[k]:+13.1%}" for k in PARTS) + f" {total:+8.1%}")


def print_dataset_summary(cases: list[Case]) -> None:
    print("Per dataset over seeds: median |relative cost error| of the plan's P50 and of the naive forecast;")
    print("replays inside the plan's P10-P90; replays with real label error <= 0.05 (plan / naive).")
    header = (
        f"{'dataset':19} {'cases':>5} {'plan |err|':>10} {'naive |err|':>11} {'covered':>7} "
        f"{'LE ok plan':>10} {'LE ok naive':>11}"
    )
    print(header)
    print("-" * len(header))
    for name in sorted({c.dataset for c in cases}):
        group = [c for c in cases if c.dataset == name and c.real is not None and c.naive_real is not None]
        if not group:
            print(f"{name:19} {0:5d} -- no hybrid forecast")
            continue
        plan_err = np.median([abs(rel(c.cost_p50 or 0.0, c.real.cost)) for c in group if c.real])
        naive_err = np.median(
            [abs(rel(c.naive.cost, c.naive_real.cost)) for c in group if c.naive and c.naive_real]
        )
        covered = sum(
            1 for c in group if c.real and (c.cost_p10 or 0.0) <= c.real.cost <= (c.cost_p90 or 0.0)
        )
        le_ok = sum(1 for c in group if c.real and c.real.label_error <= MAX_LABEL_ERROR)
        naive_ok = sum(1 for c in group if c.naive_real and c.naive_real.label_error <= MAX_LABEL_ERROR)
        n = len(group)
        print(
            f"{name:19} {n:5d} {plan_err:10.1%} {naive_err:11.1%} {covered:>4d}/{n:<2d} "
            f"{le_ok:>7d}/{n:<2d} {naive_ok:>8d}/{n:<2d}"
        )


def print_naive(cases: list[Case]) -> None:
    print("Naive planner per dataset and seed: empirical threshold, batch 2% of the pool, point forecasts.")
    header = (
        f"{'dataset':19} {'seed':>4} {'thr':>6} {'batch':>5} {'forecast':>8} {'real':>7} {'|err|':>6} "
        f"{'LE fc':>6} {'LE':>6} {'ok':>3}"
    )
    print(header)
    print("-" * len(header))
    for c in cases:
        if c.naive is None or c.naive_real is None:
            continue
        print(
            f"{c.dataset:19} {c.seed:4d} {c.naive_threshold:6.3f} {c.naive_batch:5d} "
            f"{fmt_money(c.naive.cost):>8} {fmt_money(c.naive_real.cost):>7} "
            f"{abs(rel(c.naive.cost, c.naive_real.cost)):6.1%} {c.naive.label_error:6.3f} "
            f"{c.naive_real.label_error:6.3f} "
            f"{'yes' if c.naive_real.label_error <= MAX_LABEL_ERROR else 'NO':>3}"
        )


def summary(cases: list[Case]) -> dict[str, Any]:
    """Overall numbers of the plan and of the naive planner against the goals."""
    out: dict[str, Any] = {"cases": len(cases), "replayed": 0}
    rows = []
    for c in cases:
        if c.real is None or c.forecast is None or c.naive is None or c.naive_real is None:
            continue
        assert c.cost_p10 is not None and c.cost_p50 is not None and c.cost_p90 is not None
        real = c.real.cost
        rows.append(
            {
                "plan_err": rel(c.cost_p50, real),
                "covered": c.cost_p10 <= real <= c.cost_p90,
                "below": real < c.cost_p10,
                "above": real > c.cost_p90,
                "le_ok": c.real.label_error <= MAX_LABEL_ERROR,
                "p_goal": c.probability_goal_met,
                "naive_err": rel(c.naive.cost, c.naive_real.cost),
                "naive_covered": bool(np.isclose(c.naive.cost, c.naive_real.cost)),
                "naive_le_ok": c.naive_real.label_error <= MAX_LABEL_ERROR,
            }
        )
    out["replayed"] = len(rows)
    if not rows:
        return out

    def values(key: str) -> np.ndarray:
        return np.array([row[key] for row in rows], dtype=float)

    out["plan"] = {
        "median_abs_cost_error": float(np.median(np.abs(values("plan_err")))),
        "median_signed_cost_error": float(np.median(values("plan_err"))),
        "interval_coverage": float(values("covered").mean()),
        "below_p10": float(values("below").mean()),
        "above_p90": float(values("above").mean()),
        "label_error_ok": float(values("le_ok").mean()),
        "mean_probability_goal_met": float(values("p_goal").mean()),
    }
    out["naive"] = {
        "median_abs_cost_error": float(np.median(np.abs(values("naive_err")))),
        "median_signed_cost_error": float(np.median(values("naive_err"))),
        "interval_coverage": float(values("naive_covered").mean()),
        "label_error_ok": float(values("naive_le_ok").mean()),
    }
    done = [c for c in cases if c.real is not None and c.forecast is not None]
    ratios: dict[str, dict[str, float]] = {}
    for name in ("human", "corrections", "auto_accepted", "rounds", "auto_round2", "cost"):
        ratio = [
            getattr(c.forecast, name) / getattr(c.real, name)
            for c in done
            if getattr(c.real, name) and np.isfinite(getattr(c.forecast, name))
        ]
        if ratio:
            q = np.quantile(ratio, [0.1, 0.5, 0.9])
            ratios[name] = {"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2]), "n": len(ratio)}
    out["forecast_over_real"] = ratios
    parts = [p for p in map(cost_error_parts, done) if p is not None]
    out["median_cost_error_by_part"] = {k: float(np.median([p[k] for p in parts])) for k in PARTS}
    return out


def print_summary(s: dict[str, Any]) -> None:
    print(f"Overall: {s['replayed']} of {s['cases']} cases replayed (the others have no hybrid forecast).")
    if "plan" not in s:
        return
    p, n = s["plan"], s["naive"]
    rows = [
        ("median |relative cost error|", "median_abs_cost_error"),
        ("median signed cost error", "median_signed_cost_error"),
        ("P10-P90 covers the real cost", "interval_coverage"),
        ("real label error <= 0.05", "label_error_ok"),
    ]
    print(f"{'':32} {'goal':>7} {'plan':>7} {'naive':>7}  plan meets the goal?")
    for name, key in rows:
        goal, verdict = "", ""
        if key in GOALS:
            at_most = key == "median_abs_cost_error"
            goal = f"{'<=' if at_most else '>='} {GOALS[key]:.0%}"
            met = p[key] <= GOALS[key] if at_most else p[key] >= GOALS[key]
            verdict = "met" if met else "NOT met"
        print(f"{name:32} {goal:>7} {p[key]:7.1%} {n[key]:7.1%}  {verdict}")
    print(
        f"plan: real cost below P10 in {p['below_p10']:.0%}, above P90 in {p['above_p90']:.0%}; "
        f"mean probability_goal_met {p['mean_probability_goal_met']:.2f} "
        f"vs realised {p['label_error_ok']:.2f}"
    )
    print("median (forecast mean - real) cost by kind of work, share of the real cost:")
    print("  " + ", ".join(f"{k} {v:+.1%}" for k, v in s["median_cost_error_by_part"].items()))
    print("forecast P50 / real, quantiles over cases (P10 / P50 / P90):")
    for name, q in s["forecast_over_real"].items():
        print(f"  {name:14} {q['p10']:6.2f} {q['p50']:6.2f} {q['p90']:6.2f}   (n={q['n']})")


def code_version() -> str:
    """The commit the numbers come from (with ``-dirty`` for uncommitted changes), or ``unknown``."""
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder of .npz datasets")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per dataset (default 2)")
    parser.add_argument("--first-seed", type=int, default=0, help="the first seed (default 0)")
    parser.add_argument("--datasets", default="", help="comma-separated dataset names (default: all)")
    parser.add_argument(
        "--strategies", default="hybrid", help="strategies of the plan request (default hybrid; 'all')"
    )
    parser.add_argument(
        "--start",
        choices=("warm", "cold"),
        default="warm",
        help="replay model starts with the pilot's labels",
    )
    parser.add_argument("--pilot-share", type=float, default=0.125, help="last pilot round / pool (max)")
    parser.add_argument("--max-pool", type=int, default=0, help="subsample larger datasets (0: no cap)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--backend", choices=BACKENDS, help="where the cases run (default: serial for 1 job, else loky)"
    )
    parser.add_argument("--scheduler", help="dask: the scheduler's address (default: a local cluster)")
    parser.add_argument("--json", type=Path, help="write every case and the summary here")
    args = parser.parse_args(argv)
    print(f"command: python {shlex.join(sys.argv)}")
    version = code_version()  # now: the modules were imported from this state
    paths = sorted(args.data_dir.glob("*.npz"))
    if args.datasets:
        wanted = [name.strip() for name in args.datasets.split(",") if name.strip()]
        missing = sorted(set(wanted) - {p.stem for p in paths})
        if missing:
            parser.error(f"no such datasets in {args.data_dir}: {', '.join(missing)}")
        paths = [p for p in paths if p.stem in wanted]
    if not paths:
        parser.error(f"no .npz datasets in {args.data_dir}")
    strategies = (
        ["manual", "prelabel", "active_learning", "hybrid"]
        if args.strategies == "all"
        else [s.strip() for s in args.strategies.split(",")]
    )
    tasks = [
        (path, seed, args.pilot_share, args.start, strategies, args.max_pool)
        for path in paths
        for seed in range(args.first_seed, args.first_seed + args.seeds)
    ]
    start = time.perf_counter()
    backend = args.backend or ("serial" if args.jobs == 1 else "loky")
    largest_first = sorted(range(len(tasks)), key=lambda i: -tasks[i][0].stat().st_size)
    runs = map_tasks(
        run_case_task, tasks, backend=backend, n_jobs=args.jobs, scheduler=args.scheduler, order=largest_first
    )
    cases = list(track(runs, total=len(tasks), description="plans and replays", console=Console(stderr=True)))
    elapsed = time.perf_counter() - start
    print(
        f"{len(paths)} datasets x {args.seeds} seeds; pilot 4 random rounds up to {args.pilot_share:.3g} of "
        f"the pool; plan strategies {','.join(strategies)}, {DRAWS} draws; {args.start} replay start; "
        f"{elapsed:.0f} s on {args.jobs} worker(s), {backend}"
    )
    print(f"code: {version}; rate card: {json.dumps(COSTS)}")
    print()
    print_cases(cases)
    print()
    print_volumes(cases)
    print()
    print_cost_parts(cases)
    print()
    print_naive(cases)
    print()
    print_volumes(cases, naive=True)
    print()
    print_dataset_summary(cases)
    print()
    s = summary(cases)
    print_summary(s)
    if args.json:
        payload = {
            "command": shlex.join(sys.argv),
            "code": version,
            "cases": [asdict(c) for c in cases],
            "summary": s,
        }
        args.json.write_text(json.dumps(payload, indent=1, default=float) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
