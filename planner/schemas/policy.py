"""Schema of the ``policy`` of a plan or a quote: the runbook of the labeling process it priced (SPEC 4.1).

Every number an operator (or another program) needs to run exactly what was priced is a field; every rule is
stated in the ``steps`` and in the field descriptions, and docs/plans.md ("The runbook") gives them with
their formulas. ``version`` changes whenever a rule changes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from annoplan.planner.schemas.common import ResponseModel

#: the version of the rules below; a reader meeting another version must not run the policy
POLICY_VERSION = "1"

PolicyStrategy = Literal["manual", "prelabel", "active_learning", "hybrid"]
StepAction = Literal["start", "score", "form_lot", "audit_lot", "decide_lot", "route", "retrain", "repeat"]


class LotAudit(ResponseModel):
    """The acceptance sampling of auto-accepted lots that keeps the label-error goal (hybrid with a goal)."""

    max_label_error: float = Field(description="the goal: largest share of the pool that may end up wrong")
    delta: float = Field(description="probability that the goal may be missed, over all lots")
    pool_size: int = Field(description="items to deliver (N)")
    error_budget: int = Field(
        description="wrong labels the delivered pool may hold: floor(max_label_error * pool_size) (B "
        "at the start)"
    )
    min_audit_share: float = Field(
        description="every lot's audit holds at least ceil(min_audit_share * lot size) items"
    )
    pass_z: float = Field(
        description="headroom of the audit size: the expected rate plus pass_z binomial standard "
        "errors, plus "
        "one item (a lot at its expected rate then passes about 90% of the time)"
    )


class AuditPlanRow(ResponseModel):
    """One lot's single sampling plan: audit ``sample_size`` items drawn at random from the lot, deliver it
    if at most ``acceptance_number`` of them are wrong."""

    lot: int = Field(description="j, the lot's rank among all lots formed, rejected ones included")
    lot_size: int = Field(description="m, items in the lot")
    undelivered: int = Field(description="U, items not yet delivered when the lot forms (the lot included)")
    budget_left: int = Field(description="B, wrong labels still allowed when the lot forms")
    allowance: int = Field(description="a = floor(B * m / U), the lot's share of the budget")
    level: float = Field(description="delta_j = delta * 6 / (pi^2 * j^2)")
    expected_rate: float = Field(description="r, the share of wrong labels the audit is sized for")
    sample_size: int = Field(description="n, items to audit")
    acceptance_number: int = Field(
        description="c: deliver the lot when at most c audited items are wrong (-1: never)"
    )


class PolicyStep(ResponseModel):
    """One step of a round, in order, with its numbers."""

    action: StepAction
    rule: str = Field(description="what to do, with every number")


class Policy(ResponseModel):
    """The runbook of the labeling process priced: run exactly this and the forecast applies."""

    version: Literal["1"] = Field(description="version of the rules; do not run a version you do not know")
    strategy: PolicyStrategy
    start_labels: int = Field(
        description="random items of the pool already labeled by humans before round 1 (the pilot's, kept); "
        "the first model is trained on them. 0: a cold start (round 1 labels a random batch from scratch)"
    )
    pool_size: int = Field(description="items to deliver (start labels not included)")
    batch_size: int = Field(description="items sent to humans per round")
    selection: Literal["random", "least_confidence"] = Field(
        description="which items humans get: random ones, or the least confident under the current model"
    )
    prelabeled: bool = Field(
        description="humans see the current model's label and review it (right) or correct it (wrong); "
        "false: they label from scratch"
    )
    confidence: Literal["max_class_probability"] = Field(
        description="an item's confidence: the largest class probability the current model gives it"
    )
    confidence_threshold: float | None = Field(
        description="hybrid: items at or above it form the round's lot (the threshold at the start; "
        "a rejected "
        "lot raises it)"
    )
    human_label_cap: int | None = Field(
        description="human-touched items (fresh labels, reviews, corrections; start labels not "
        "counted) after "
        "which no batch goes to humans. null: no cap"
    )
    stop_at_metric: float | None = Field(
        description="model_metric goal: stop after the round whose model measures at least this "
        "(error_rate: at "
        "most this) on the held-out evaluation set"
    )
    after_cap: Literal["stop", "model_labels_rest", "last_lot"] | None = Field(
        description="what happens to items left at the cap: stop (a model-metric goal), the model "
        "labels them "
        "without checks (active learning for a labeled dataset), or they form one last audited lot (hybrid)"
    )
    audit_rate: float = Field(
        description="hybrid without a goal: the random share of each lot audited; with a goal: see lot_audit"
    )
    lot_audit: LotAudit | None = Field(description="hybrid with a label-error goal: the acceptance sampling")
    steps: list[PolicyStep] = Field(description="one round's steps, in order")
    planned_lots: list[AuditPlanRow] = Field(
        description="hybrid with a goal: the audit plans of the first lots on the forecast's median path, "
        "assuming each passes with the wrong labels expected. Illustrative: at run time compute each lot's "
        "plan from the rules with the real lot"
    )
