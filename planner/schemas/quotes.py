"""Schema of a quote (SPEC 3.5, 4.1): a vendor's price for correction-only work on a client's pool.

The client pays per correction (and per audit) only; the vendor also pays for the routed items that were
right, for the first batch labeled before any model exists and for every round's overhead. Money is a decimal
string in the quote's currency, rounded to its minor unit; counts are quantile objects.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, with_config
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
from annoplan.planner.schemas.curves import Pilot
from annoplan.planner.schemas.plans import (
    MAX_BATCH_SIZES,
    MAX_DRAWS,
    HybridAssumptions,
    Money,
    MoneyQuantiles,
    Schedule,
)
from annoplan.planner.schemas.policy import Policy

#: the largest margin a quote accepts (10 = prices at eleven times the cost)
MAX_MARGIN = 10.0
#: the longest validity of a quote, in days
MAX_VALIDITY_DAYS = 3650

QuoteStatus = Literal["quoted", "not_possible"]

#: what a vendor sets or chooses when pricing a request, and free text: a quote that differs from an earlier
#: one only in these re-quotes the same request (a new version of it). What stays, and so says which request
#: is quoted, is the work asked for: who quotes (``vendor``), the pool (``pool_size``), the pilot it is
#: forecast from (``pilot``, ``pilot_labels_kept``) and the quality promised (``max_label_error``).
QUOTE_PRICING_INPUTS = frozenset(
    {
        "name",
        "notes",
        "vendor_costs",
        "margin",
        "risk_level",
        "validity_days",
        "currency",
        "batch_sizes",
        "price_per_audit",
        "schedule",
        "delta",
        "draws",
        "seed",
    }
)


class VendorCosts(StrictModel):
    """What the vendor's own work costs it, in the quote's currency (never shown to the client)."""

    review: Money = Field(description="reviewing a routed pre-label that was right (not billed)")
    correction: Money = Field(description="correcting a routed pre-label that was wrong")
    audit: Money = Field(default=0.0, description="auditing one auto-accepted item")
    audit_rate: float = Field(
        default=0.05, ge=0.0, le=1.0, description="share of auto-accepted items audited (and fixed if wrong)"
    )
    round_overhead: Money = Field(default=0.0, description="per round: retraining, project management")


class QuoteRequest(StrictModel):
    """Price correction-only work on ``pool_size`` items so that the vendor keeps ``margin`` with
    probability ``risk_level``, delivering at most ``max_label_error`` of the pool wrong."""

    name: str | None = Field(default=None, max_length=200, description="free text, shown in reports")
    vendor: str | None = Field(default=None, max_length=200, description="who quotes, shown in reports")
    notes: str | None = Field(default=None, max_length=10_000)
    pool_size: int = Field(ge=1, le=10**10, description="items still to label")
    pilot: Pilot = Field(description="pilot rounds with at least one calibration sample")
    max_label_error: LabelErrorGoal
    vendor_costs: VendorCosts
    margin: float = Field(ge=0.0, le=MAX_MARGIN, description="revenue covers cost x (1 + margin)")
    risk_level: float = Field(
        default=0.9, gt=0.5, lt=1.0, description="probability that revenue covers cost x (1 + margin)"
    )
    validity_days: int = Field(default=30, ge=1, le=MAX_VALIDITY_DAYS, description="days the quote holds")
    currency: str = Field(default="USD", description="ISO 4217 code, e.g. USD")
    batch_sizes: list[Annotated[int, Field(ge=1, le=10**9)]] | None = Field(
        default=None, min_length=1, max_length=MAX_BATCH_SIZES, description="candidates (items per round)"
    )
    price_per_audit: Money | None = Field(
        default=None, description="fixed price per audit; default: the audit cost plus the margin"
    )
    pilot_labels_kept: bool = Field(
        default=True,
        description="the work starts from the pilot's labels (its last round's n_labels random items, not in "
        "pool_size): the first model is trained on them. false: a cold start, the first batch labeled from "
        "scratch (and costed like a correction)",
    )
    schedule: Schedule = Field(default_factory=Schedule)
    delta: Delta = 0.05
    draws: int = Field(default=2000, ge=100, le=MAX_DRAWS, description="Monte Carlo draws")
    seed: int = Field(default=0, ge=0, le=2**32 - 1)

    _known_currency = field_validator("currency")(check_currency)


@with_config(ConfigDict(extra="allow"))
class QuoteRules(TypedDict, total=False):
    """The inputs and pricing rules every quote states (the first keys of its assumptions)."""

    request: Annotated[
        dict[str, Any],
        Field(description="the request with every default filled in, calibration samples summarised"),
    ]
    batch_sizes: Annotated[list[int], Field(description="batch sizes searched (items per round)")]
    price_per_audit: Annotated[str, Field(description="how the price per audit was set")]
    vendor_rate_card: Annotated[
        dict[str, float],
        Field(description="the vendor's unit costs as simulated: label, review, correction, audit, ..."),
    ]
    first_batch: Annotated[str, Field(description="how the first batch, before any model, is costed")]
    revenue: Annotated[str, Field(description="what the client pays for")]
    vendor_cost: Annotated[str, Field(description="what the vendor's cost is made of")]
    price_rule: Annotated[str, Field(description="how the price per correction is chosen")]
    price_cap_rule: Annotated[str, Field(description="how the price cap is chosen")]
    settings_rule: Annotated[str, Field(description="how the threshold and batch size are chosen")]
    thresholds: Annotated[list[float], Field(description="confidence thresholds simulated")]
    delta: Annotated[float, Field(description="1 - confidence of the threshold's certificate")]
    human_labels_are_correct: Annotated[bool, Field(description="human labels are taken as right")]


@with_config(ConfigDict(extra="allow"))
class QuoteAssumptions(QuoteRules, HybridAssumptions, total=False):
    """Every input and rule a quote rests on (plain sentences unless typed), in this order. Each key is
    optional in the schema (quotes stored by earlier versions lack newer ones); keys not listed here may be
    added, and a client should keep them as they come."""

    active_learning_efficiency: Annotated[
        str, Field(description="how the model learns from routed items, and where that comes from")
    ]
    issued_on: Annotated[str, Field(description="the day the quote was issued (ISO 8601)")]
    pilot_labels_kept: Annotated[
        str, Field(description="what becomes of the pilot's labels (the start rule)")
    ]


class TwoPartPrice(ResponseModel):
    """A price per routed item plus a price per correction, beside the correction-only price, where reviews
    of right pre-labels dominate the work (money: decimal strings in the quote's currency)."""

    price_per_routed_item: MoneyString = Field(description="billed per item routed to humans, right or wrong")
    price_per_correction: MoneyString = Field(description="billed per corrected pre-label, on top")
    price_per_audit: MoneyString = Field(description="billed per audited auto-accepted item (as the quote)")
    price_cap: MoneyString = Field(description="the client's bill stays at or below this with risk_level")
    probability_cost_covered: float
    client_bill: MoneyQuantiles
    less_risk: Literal["two_part", "correction_only"] = Field(
        description="the pricing whose vendor profit at the 10th percentile is higher"
    )
    reason: str


class QuoteResponse(ResponseModel):
    """A vendor's quote (SPEC 4.1). With ``status`` ``"not_possible"`` the prices are null and ``reasons``
    say why no honest price exists and what would make one possible."""

    id: str = Field(description="uuid4, hex")
    version: int = Field(
        default=1,
        ge=1,
        description="1 for a first quote; re-quoting the same request (the same vendor, pool, pilot and "
        "max_label_error: only prices, costs, margin, risk, validity, currency, schedule or search settings "
        "changed) stores a new version, one above the newest earlier one",
    )
    supersedes: str | None = Field(
        default=None,
        description="the id of the version this one replaces (the newest earlier quote of the same request); "
        "that quote stays stored unchanged",
    )
    status: QuoteStatus
    reasons: list[str] = Field(description="plain sentences: what the prices rest on, or why there are none")
    name: str | None
    vendor: str | None
    currency: str
    issued_on: dt.date
    valid_until: dt.date
    price_per_correction: MoneyString | None = Field(description="billed per corrected pre-label")
    price_per_audit: MoneyString | None = Field(description="billed per audited auto-accepted item")
    price_cap: MoneyString | None = Field(
        description="the client's total bill stays at or below this with risk_level"
    )
    risk_level: float
    probability_cost_covered: float | None = Field(
        description="share of simulated outcomes whose revenue covers cost x (1 + margin) at these prices"
    )
    confidence_threshold: float | None = Field(description="auto-accept at or above (certified)")
    audit_rate: float = Field(description="share of auto-accepted items audited, promised")
    batch_size: int | None = Field(description="items routed to humans per round")
    max_label_error: float = Field(description="the promised largest share of the pool left wrong")
    probability_goal_met: float | None = Field(description="simulated probability the label error is met")
    calibration_items_needed: int | None = Field(
        description="calibration items that could certify the goal (when the pilot's sample cannot)"
    )
    expected_corrections: Quantiles | None
    routed_items: Quantiles | None = Field(description="reviews + corrections (re-certification included)")
    reviews: Quantiles | None = Field(description="routed items that were right: the vendor's, not billed")
    auto_accepted: Quantiles | None
    audits: Quantiles | None
    rounds: Quantiles | None
    label_error: Quantiles | None = Field(description="share of the pool left wrong")
    client_bill: MoneyQuantiles | None = Field(description="corrections and audits at the quoted prices")
    vendor_cost: MoneyQuantiles | None = Field(description="the vendor's own cost of the work")
    two_part_price: TwoPartPrice | None = Field(
        default=None,
        description="offered beside the correction-only price where reviews outnumber corrections (median)",
    )
    days: Quantiles | None = Field(
        default=None,
        description="calendar days of the work at the request's schedule (null when not possible)",
    )
    policy: Policy | None = Field(
        default=None,
        description="the runbook of the process quoted: run exactly this and the prices apply (null when not "
        "possible, and in quotes stored before it existed)",
    )
    assumptions: QuoteAssumptions
    warnings: list[str]
