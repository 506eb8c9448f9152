"""Schema of a plan request (SPEC 4.1): the scenario, the pilot, the rate card and the search space.

Counts and shares are quantile objects; money is a decimal string in the plan's currency.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator, with_config
from typing_extensions import TypedDict

from annoplan.planner.money import check_currency
from annoplan.planner.schemas.common import (
    Delta,
    LabelErrorGoal,
    MoneyString,
    Quantiles,
    ResponseModel,
    StrictModel,
)
from annoplan.planner.schemas.curves import Pilot, Prediction
from annoplan.planner.schemas.policy import Policy
from annoplan.simulators.volumes import Volumes

#: strategies a plan can compare (SPEC 2)
Strategy = Literal["manual", "prelabel", "active_learning", "hybrid"]
#: most Monte Carlo draws a request may ask for (memory and time stay bounded)
MAX_DRAWS = 20_000
#: most batch sizes searched in one plan
MAX_BATCH_SIZES = 20

Money = Annotated[float, Field(ge=0.0, le=1e9, description="currency units per item (or per round)")]


class ModelMetricGoal(StrictModel):
    """Train a model that reaches ``target`` on the pilot's metric."""

    type: Literal["model_metric"]
    target: float = Field(ge=0.0, le=1.0)


class LabeledDatasetGoal(StrictModel):
    """Deliver every item of the pool labeled, with at most ``max_label_error`` of them wrong."""

    type: Literal["labeled_dataset"]
    max_label_error: LabelErrorGoal


Goal = Annotated[ModelMetricGoal | LabeledDatasetGoal, Field(discriminator="type")]


class Costs(StrictModel):
    """The rate card: unit prices in ``currency`` (ISO 4217)."""

    currency: str = Field(default="USD", description="ISO 4217 code, e.g. USD")
    label: Money = Field(description="a fresh human label")
    review: Money = Field(description="a review of a model pre-label that was right")
    correction: Money = Field(description="a correction of a model pre-label that was wrong")
    audit: Money = Field(default=0.0, description="an audit of an auto-accepted item")
    audit_rate: float = Field(
        default=0.05, ge=0.0, le=1.0, description="share of auto-accepted items audited"
    )
    platform_fee: Money = Field(default=0.0, description="per item handled")
    round_overhead: Money = Field(default=0.0, description="per round: retraining, project management")

    _known_currency = field_validator("currency")(check_currency)


class Value(StrictModel):
    """What a better model is worth (``model_metric`` goal only): buying labels stops where the next batch is
    worth less than it costs (total cost = label spend + error x predictions x cost per error, as in
    Pullar-Strecker et al. 2024). Give ``per_metric_point``, or ``error_cost`` with ``predictions``."""

    per_metric_point: Money | None = Field(
        default=None, description="worth of one percentage point (0.01) of the metric over the model's life"
    )
    error_cost: Money | None = Field(default=None, description="cost of one wrong prediction")
    predictions: int | None = Field(
        default=None, ge=1, le=10**13, description="predictions the model will serve over its life"
    )

    @model_validator(mode="after")
    def _one_way(self) -> Value:
        pair = (self.error_cost is None, self.predictions is None)
        if self.per_metric_point is None and pair != (False, False):
            raise ValueError("give per_metric_point, or error_cost together with predictions")
        if self.per_metric_point is not None and pair != (True, True):
            raise ValueError("give per_metric_point or error_cost with predictions, not both")
        return self

    @property
    def per_unit_error(self) -> float:
        """Currency lost per unit of model error (error 1.0 = every prediction wrong)."""
        if self.per_metric_point is not None:
            return 100.0 * self.per_metric_point
        assert self.error_cost is not None and self.predictions is not None
        return self.error_cost * self.predictions


class Schedule(StrictModel):
    """Throughput of the labeling team and turnaround of one round."""

    labels_per_day: float = Field(default=1000.0, gt=0.0, le=1e9, description="human items per day")
    turnaround_days: float = Field(default=1.0, ge=0.0, le=365.0, description="days per round on top")


class PlanRequest(StrictModel):
    """Forecast what each strategy costs to reach the goal, and recommend the settings."""

    name: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=10_000)
    pool_size: int = Field(ge=1, le=10**10, description="items still to label")
    goal: Goal
    pilot: Pilot
    costs: Costs
    strategies: list[Strategy] = Field(
        default=["manual", "prelabel", "active_learning", "hybrid"], min_length=1, max_length=4
    )
    batch_sizes: list[Annotated[int, Field(ge=1, le=10**9)]] | None = Field(
        default=None, min_length=1, max_length=MAX_BATCH_SIZES
    )
    schedule: Schedule = Field(default_factory=Schedule)
    value: Value | None = Field(default=None, description="model_metric only: stop by marginal value")
    pilot_labels_kept: bool = Field(
        default=True,
        description="the work starts from the pilot's labels (its last round's n_labels random items, not in "
        "pool_size): the first model is trained on them. false: a cold start, the first batch labeled from "
        "scratch",
    )
    delta: Delta = 0.05
    probability: float = Field(
        default=0.9, gt=0.0, lt=1.0, description="required probability of meeting the goal"
    )
    draws: int = Field(default=2000, ge=100, le=MAX_DRAWS, description="Monte Carlo draws")
    seed: int = Field(default=0, ge=0, le=2**32 - 1)

    @field_validator("strategies")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each strategy may be named once")
        return v


class MoneyQuantiles(ResponseModel):
    """Mean and P10/P50/P90 of an amount, as decimal strings in the plan's currency."""

    mean: MoneyString
    p10: MoneyString
    p50: MoneyString
    p90: MoneyString


#: what ``stop_at_labels`` holds, said once for the strategy settings and the recommendation
STOP_AT_LABELS = (
    "kept for older clients, a number of human labels: for a model_metric goal the budget that meets it with "
    "the plan's probability (as human_labels_budget); for a labeled_dataset goal the cap where the strategy "
    "has one, else the median (P50) of human labels, a forecast and not a rule (P90 is higher): read "
    "human_labels_budget, human_labels_p50 and stop_rule instead (null: no budget meets the goal)"
)
#: the fields that name each number for what it is
HUMAN_LABELS_BUDGET = (
    "human labels to budget for: enough with the plan's probability (the probability quantile over the "
    "draws that meet the goal; the strategy's cap on human labels where it has one); null where no budget "
    "meets the goal with that probability"
)
HUMAN_LABELS_P50 = "the median (P50) of human labels over the draws: what to expect, not a cap"
STOP_RULE = "the condition that ends human work, as an operator follows it"


class StrategySettings(ResponseModel):
    """The settings a strategy's forecast assumes."""

    confidence_threshold: float | None = Field(description="auto-accept at or above (hybrid only)")
    batch_size: int = Field(description="items sent to humans per round")
    stop_at_labels: int | None = Field(description=STOP_AT_LABELS)
    human_labels_budget: int | None = Field(default=None, description=HUMAN_LABELS_BUDGET)
    human_labels_p50: int | None = Field(
        default=None, description=HUMAN_LABELS_P50 + " (null only in plans stored before it existed)"
    )
    stop_rule: str | None = Field(
        default=None, description=STOP_RULE + " (null only in plans stored before it existed)"
    )


class ScheduleRow(ResponseModel):
    """The median path after one round: cumulative human labels and cost, and pool items left."""

    round: int
    human_labels: int
    cost: MoneyString
    remaining: int


class WorkVolumes(ResponseModel):
    """Mean volumes of work over the draws (items; rounds), the JSON of
    :class:`annoplan.simulators.volumes.Volumes`: the rate card applied to them gives the mean cost exactly,
    which is what a spreadsheet's live formulas recompute."""

    fresh_labels: float
    reviews: float
    corrections: float
    audits: float
    auto_accepted: float
    rounds: float

    def volumes(self) -> Volumes[float]:
        """The record the rate card prices (:meth:`annoplan.simulators.costs.RateCard.total`)."""
        return Volumes(**self.model_dump())


class StrategyForecast(ResponseModel):
    """What one strategy costs and delivers, with its uncertainty (counts in items)."""

    strategy: str
    cost: MoneyQuantiles
    human_labels: Quantiles
    reviews: Quantiles
    corrections: Quantiles
    auto_accepted: Quantiles
    audits: Quantiles
    rounds: Quantiles
    days: Quantiles
    final_metric: Quantiles
    label_error: Quantiles = Field(description="share of the pool left wrong")
    lifetime_cost: MoneyQuantiles | None = Field(
        description="cost plus the value the model's remaining error loses (when the request gives value)"
    )
    probability_goal_met: float
    settings: StrategySettings
    expected_work: WorkVolumes
    schedule: list[ScheduleRow] = Field(description="round by round, the median path")
    policy: Policy | None = Field(
        default=None,
        description="the runbook of the process this forecast priced (null only in plans stored "
        "before it existed)",
    )


class Recommendation(ResponseModel):
    """The strategy and settings that meet the goal cheapest, and why; or, when no strategy can meet it
    (``reachable`` false), the attempt that comes closest and what would make the goal reachable."""

    strategy: str = Field(
        description="the recommended strategy; when the goal is not reachable, the one that comes closest"
    )
    confidence_threshold: float | None
    batch_size: int
    stop_at_labels: int | None = Field(description=STOP_AT_LABELS)
    human_labels_budget: int | None = Field(default=None, description=HUMAN_LABELS_BUDGET)
    human_labels_p50: int | None = Field(
        default=None, description=HUMAN_LABELS_P50 + " (null only in plans stored before it existed)"
    )
    stop_rule: str | None = Field(
        default=None, description=STOP_RULE + " (null only in plans stored before it existed)"
    )
    cost: MoneyQuantiles = Field(
        description="the recommended strategy's cost; when the goal is not reachable, what the closest "
        "attempt costs (its draws include runs that never reach the goal)"
    )
    savings_vs_manual: MoneyQuantiles | None = Field(
        description="manual's cost minus the recommendation's, per draw; null when manual was not simulated "
        "or the goal is not reachable"
    )
    reachable: bool = Field(
        default=True,
        description="false when no strategy meets the goal with the required probability: then strategy "
        "and settings are the closest attempt, and reasons say what would make the goal reachable (a "
        "looser goal, a lower probability, ...). With a value for a better model, always true: the "
        "recommendation weighs label spend against the model's worth",
    )
    reasons: list[str]


class ThresholdRow(ResponseModel):
    """Coverage and risk at one threshold on the pilot's latest calibration sample."""

    threshold: float
    coverage: float = Field(description="share of the sample auto-accepted")
    risk: float = Field(description="measured risk of the plan's kind (see assumptions.threshold_risk)")
    upper_bound: float = Field(description="one-sided Clopper-Pearson upper bound of the risk at delta")
    chosen: bool


class SensitivityRow(ResponseModel):
    """The recommendation's mean cost when one unit price moves down and up by ``change``."""

    price: str = Field(description="a field of costs")
    change: float = Field(description="relative move of the price, e.g. 0.2")
    low: MoneyString
    high: MoneyString


@with_config(ConfigDict(extra="allow"))
class HybridAssumptions(TypedDict, total=False):
    """What hybrid routing assumes (present when hybrid was simulated; plain sentences unless typed)."""

    threshold_certificate: Annotated[
        str, Field(description="the certified threshold, its coverage and risk bound on the sample")
    ]
    threshold_risk: Annotated[str, Field(description="the kind of risk the threshold bounds")]
    lot_audits: Annotated[str, Field(description="how each auto-accepted lot is audited and the goal kept")]
    routed_items: Annotated[
        str, Field(description="which items go to humans and how their errors are forecast")
    ]
    coverage_forecast: Annotated[
        list[str],
        Field(description="how the share auto-accepted is forecast (when a threshold certifies)"),
    ]
    thresholds_searched: Annotated[
        str, Field(description="the thresholds simulated (when a threshold certifies)")
    ]


@with_config(ConfigDict(extra="allow"))
class PlanSettings(TypedDict, total=False):
    """The settings every plan states (the first keys of its assumptions)."""

    draws: Annotated[int, Field(description="Monte Carlo draws")]
    seed: Annotated[int, Field(description="seed of the draws")]
    probability: Annotated[float, Field(description="required probability of meeting the goal")]
    batch_sizes: Annotated[list[int], Field(description="batch sizes searched (items per round)")]
    labels_per_day: Annotated[float, Field(description="human items per day")]
    turnaround_days: Annotated[float, Field(description="days per round on top of the labeling")]
    active_learning_efficiency: Annotated[
        str, Field(description="where active learning's label efficiency comes from")
    ]
    human_labels_are_correct: Annotated[bool, Field(description="human labels are taken as right")]
    pilot_labels_kept: Annotated[str, Field(description="what becomes of the pilot's labels")]


@with_config(ConfigDict(extra="allow"))
class PlanAssumptions(PlanSettings, HybridAssumptions, total=False):
    """Every setting and modelling assumption a plan rests on, in this order. Each key is optional in the
    schema (plans stored by earlier versions lack newer ones); keys not listed here may be added, and a client
    should keep them as they come."""

    value_per_unit_error: Annotated[
        float, Field(description="currency lost per unit of model error (when the request gives value)")
    ]


class PlanResponse(ResponseModel):
    """A plan: every strategy's forecast and a recommendation (SPEC 4.1)."""

    id: str
    name: str | None
    currency: str
    strategies: list[StrategyForecast]
    recommendation: Recommendation
    learning_curve: list[Prediction] = Field(description="the pilot's metric forecast up to the pool size")
    thresholds: list[ThresholdRow] = Field(description="empty unless hybrid was simulated")
    sensitivity: list[SensitivityRow]
    policy: Policy | None = Field(
        default=None,
        description="the recommendation's runbook: run exactly this and the forecast applies (null only in "
        "plans stored before it existed)",
    )
    costs: Costs | None = Field(
        default=None, description="the rate card priced (null only in plans stored before it was echoed)"
    )
    assumptions: PlanAssumptions
    warnings: list[str]
