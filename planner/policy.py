"""The runbook of a plan's or a quote's labeling process: the ``policy`` object (SPEC 4.1).

:func:`make_policy` states, as data and as ordered steps, the process the forecast priced, which
:func:`simulators.replay.replay_pool` runs (``annoplan replay DATA --plan PLAN.json``). The hybrid lot audits
are :func:`simulators.acceptance.sampling_plan`; the rules are those of :mod:`simulators.acceptance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from annoplan.planner.schemas.plans import PlanRequest
from annoplan.planner.schemas.policy import POLICY_VERSION, AuditPlanRow, LotAudit, Policy, PolicyStep
from annoplan.planner.schemas.quotes import QuoteRequest
from annoplan.simulators.acceptance import (
    PASS_Z,
    error_budget,
    expected_wrong_in_sample,
    sampling_plan,
    wrong_left_bound,
)
from annoplan.simulators.montecarlo import Outcome, median_path

__all__ = ["LotPath", "lot_path", "make_policy", "start_labels", "start_rule"]

#: most lots of the median path the runbook lists
PLANNED_LOTS = 12


@dataclass(frozen=True)
class LotPath:
    """The forecast's median path, for the illustrative audit plans: the size of each round's lot (items
    auto-accepted that round) and the share of wrong labels expected in a lot."""

    lot_sizes: Sequence[int]
    expected_rate: float


def start_labels(request: PlanRequest | QuoteRequest) -> int:
    """Random items labeled before round 1: the pilot's last round when the request keeps its labels
    (``pilot_labels_kept``, the one start rule of plans and quotes), else 0 (a cold start)."""
    return request.pilot.rounds[-1].n_labels if request.pilot_labels_kept else 0


def start_rule(labels: int) -> str:
    """The start rule in words, for a plan's or a quote's assumptions."""
    if labels:
        return (
            f"the team keeps the pilot's {labels:,} labels: the first round's model is trained on them (they "
            "are not in pool_size and cost nothing more)"
        )
    return "a cold start (pilot_labels_kept false): the first batch is labeled from scratch, before any model"


def lot_path(outcome: Outcome) -> LotPath:
    """The lots of a hybrid forecast's median path: each round's items auto-accepted, and the share of
    wrong labels the forecast puts in its lots."""
    rows = median_path(outcome, ("auto_accepted", "lot_errors"))
    accepted = np.diff([0.0, *(row["auto_accepted"] for row in rows)])
    total = rows[-1]["auto_accepted"] if rows else 0.0
    rate = rows[-1]["lot_errors"] / total if total > 0 else 0.0
    return LotPath([round(float(size)) for size in accepted], float(min(max(rate, 0.0), 1.0)))


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _start_step(start_labels: int, batch_size: int) -> PolicyStep:
    if start_labels > 0:
        rule = (
            f"Before round 1, {start_labels:,} random items of the pool are labeled by humans (the pilot's); "
            "train the first model on them."
        )
    else:
        rule = (
            f"Round 1 (no model yet): humans label {batch_size:,} random items from scratch; train the first "
            "model on them. Rounds 2 on follow the steps below."
        )
    return PolicyStep(action="start", rule=rule)


def _hybrid_steps(
    threshold: float, batch_size: int, cap: int | None, audit: LotAudit | None, rate: float
) -> list[PolicyStep]:
    cap_text = (
        f" Once humans have touched {cap:,} items (fresh labels, reviews, corrections), the lot is "
        "every item not yet "
        "delivered, and no batch goes to humans unless that lot is rejected."
        if cap is not None
        else ""
    )
    steps = [
        PolicyStep(
            action="score",
            rule="Score every item not yet delivered with the current model; its confidence is the largest "
            "class probability, its model label the class of that probability.",
        ),
        PolicyStep(
            action="form_lot",
            rule=f"The lot is the items whose confidence is at or above the threshold (at the start "
            f"{_fmt(threshold)}; raised by rejected lots).{cap_text} An empty lot skips to 'route'.",
        ),
    ]
    if audit is None:
        steps.append(
            PolicyStep(
                action="audit_lot",
                rule=f"Audit each item of the lot with probability {_fmt(rate)} (independently); fix "
                "the wrong "
                "ones. Deliver the lot with its model labels (audited items as fixed).",
            )
        )
    else:
        steps += [
            PolicyStep(
                action="audit_lot",
                rule=(
                    "j = the lot's rank among all lots formed (rejected ones too), m = its size, U = "
                    "items not "
                    f"yet delivered (the lot included), B = the error budget left (at the start "
                    f"{audit.error_budget:,} = floor({_fmt(audit.max_label_error)} x {audit.pool_size:,})). "
                    f"delta_j = {_fmt(audit.delta)} x 6 / (pi^2 j^2); allowance a = floor(B m / U). Expected "
                    "rate r = the larger of the lot's mean (1 - confidence) and the share of wrong "
                    "labels the "
                    "previous audit found (0 before any). Sample size: n0 = size(r), then n = "
                    f"size(min(1, r + {audit.pass_z} sqrt(r (1 - r) / max(n0, 1)) + 1 / max(n0, 1))), where "
                    "size(q) is the bisection over n in [ceil("
                    f"{_fmt(audit.min_audit_share)} m), m] (lo, hi = ceil(...), m; while lo < hi: mid = "
                    "(lo + hi) // 2; hi = mid if pass(ceil(q mid), mid) else lo = mid + 1) and pass(k, n) "
                    "means: the exact hypergeometric upper bound D_up (the largest D with "
                    "hypergeom.cdf(k; m, D, n) > delta_j) satisfies D_up - k <= a. Acceptance number c = the "
                    "largest k with pass(k, n) (-1 if none). Draw n items of the lot uniformly at "
                    "random without "
                    "replacement; humans check each and fix the wrong ones; k = wrong ones found."
                ),
            ),
            PolicyStep(
                action="decide_lot",
                rule=(
                    "If k <= c: deliver the whole lot (audited items as fixed, the others with their model "
                    "labels) and set B = B - (D_up - k). Else: deliver only the audited items (fixed), keep "
                    "the rest of the lot undelivered for later rounds, and raise the threshold to just above "
                    "the lowest confidence among the wrong audited items (never lower it)."
                ),
            ),
        ]
    steps += [
        PolicyStep(
            action="route",
            rule=f"Of the items not delivered this round, the {batch_size:,} least confident go to "
            "humans with "
            "the model's label: they review it (right) or correct it (wrong). At the cap with a "
            "rejected last "
            "lot, every item left goes to humans this way.",
        ),
        PolicyStep(
            action="retrain",
            rule="Retrain the model on every item a human checked (start labels, routed, audited).",
        ),
        PolicyStep(
            action="repeat", rule="Next round from 'score', until every item of the pool is delivered."
        ),
    ]
    return steps


def _labeling_steps(
    strategy: str, batch_size: int, cap: int | None, after_cap: str | None, stop_at_metric: float | None
) -> list[PolicyStep]:
    how = {
        "manual": f"humans label {batch_size:,} random items not yet labeled, from scratch",
        "prelabel": f"humans get {batch_size:,} random items not yet labeled with the current "
        "model's label and review it (right) or correct it (wrong)",
        "active_learning": f"humans label, from scratch, the {batch_size:,} items not yet labeled whose "
        "confidence (largest class probability) under the current model is lowest",
    }[strategy]
    if cap is None:
        end = "until every item of the pool is labeled"
    elif after_cap == "model_labels_rest":
        end = (
            f"until humans have touched {cap:,} items; then the model labels every item left, without checks"
        )
    else:
        end = f"until humans have touched {cap:,} items (or the pool is labeled); then stop"
    if stop_at_metric is not None:
        end += (
            f"; stop earlier after a round whose model measures {_fmt(stop_at_metric)} or better on the "
            "held-out evaluation set"
        )
    return [
        PolicyStep(action="route", rule=f"Each round, {how}."),
        PolicyStep(
            action="retrain", rule="Retrain the model on every human label so far (start labels included)."
        ),
        PolicyStep(action="repeat", rule=f"Next round, {end}."),
    ]


def planned_lots(audit: LotAudit, path: LotPath) -> list[AuditPlanRow]:
    """The audit plans of the first lots of the median path, each assumed to pass with ``ceil(r n)`` wrong."""
    rows: list[AuditPlanRow] = []
    undelivered, budget = audit.pool_size, audit.error_budget
    for m in path.lot_sizes:
        if m <= 0:
            continue
        m = min(int(m), undelivered)
        if m <= 0 or len(rows) == PLANNED_LOTS:
            break
        plan = sampling_plan(
            len(rows) + 1, m, undelivered, budget, path.expected_rate, audit.delta, audit.min_audit_share
        )
        rows.append(
            AuditPlanRow(
                lot=len(rows) + 1,
                lot_size=m,
                undelivered=undelivered,
                budget_left=budget,
                allowance=plan.allowance,
                level=plan.level,
                expected_rate=path.expected_rate,
                sample_size=plan.sample_size,
                acceptance_number=plan.acceptance_number,
            )
        )
        found = min(
            max(plan.acceptance_number, 0),
            int(expected_wrong_in_sample(plan.sample_size, path.expected_rate)),
        )
        budget -= int(wrong_left_bound(found, plan.sample_size, m, plan.level))
        undelivered -= m
    return rows


def make_policy(
    strategy: str,
    *,
    batch_size: int,
    pool_size: int,
    start_labels: int,
    audit_rate: float,
    confidence_threshold: float | None = None,
    human_label_cap: int | None = None,
    stop_at_metric: float | None = None,
    max_label_error: float | None = None,
    delta: float = 0.05,
    path: LotPath | None = None,
) -> Policy:
    """The runbook of one strategy at its settings.

    Parameters
    ----------
    strategy : {"manual", "prelabel", "active_learning", "hybrid"}
        The labeling process.
    batch_size : int
        Items sent to humans per round.
    pool_size : int
        Items to deliver.
    start_labels : int
        Random items labeled before round 1 (0: a cold start).
    audit_rate : float
        The rate card's share of auto-accepted items audited (the least audit share with a goal).
    confidence_threshold : float, optional
        Hybrid: the threshold at the start.
    human_label_cap : int, optional
        Human-touched items after which no batch goes to humans (None: no cap).
    stop_at_metric : float, optional
        A model-metric goal: the metric value at which the work stops (the cap also stops it); None: a
        labeled-dataset goal.
    max_label_error : float, optional
        Hybrid with a label-error goal: the goal the lot audits keep with probability ``1 - delta``.
    delta : float, default 0.05
        The probability that the goal may be missed.
    path : LotPath, optional
        Hybrid with a goal: the forecast's median path, for the illustrative audit plans.

    Returns
    -------
    Policy
    """
    hybrid = strategy == "hybrid"
    if human_label_cap is None:
        after_cap = None
    elif hybrid:
        after_cap = "last_lot"
    elif stop_at_metric is not None:
        after_cap = "stop"
    else:
        after_cap = "model_labels_rest" if strategy == "active_learning" else "stop"
    audit = None
    if hybrid and max_label_error is not None:
        audit = LotAudit(
            max_label_error=max_label_error,
            delta=delta,
            pool_size=pool_size,
            error_budget=error_budget(max_label_error, pool_size),
            min_audit_share=audit_rate,
            pass_z=PASS_Z,
        )
    if hybrid:
        assert confidence_threshold is not None
        body = _hybrid_steps(confidence_threshold, batch_size, human_label_cap, audit, audit_rate)
    else:
        body = _labeling_steps(strategy, batch_size, human_label_cap, after_cap, stop_at_metric)
    return Policy(
        version=POLICY_VERSION,
        strategy=strategy,
        start_labels=start_labels,
        pool_size=pool_size,
        batch_size=batch_size,
        selection="least_confidence" if strategy in ("hybrid", "active_learning") else "random",
        prelabeled=strategy in ("hybrid", "prelabel"),
        confidence="max_class_probability",
        confidence_threshold=confidence_threshold if hybrid else None,
        human_label_cap=human_label_cap,
        stop_at_metric=stop_at_metric,
        after_cap=after_cap,
        audit_rate=audit_rate,
        lot_audit=audit,
        steps=[_start_step(start_labels, batch_size), *body],
        planned_lots=[] if audit is None or path is None else planned_lots(audit, path),
    )
