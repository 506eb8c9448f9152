"""Schema of a comparison (SPEC 4.1): one scenario, several vendors' offers, simulated on common draws.

An offer is a vendor's rate card (``costs``, as in plans), a stored quote (``quote_id``) or a quote's prices
given inline (``price_per_correction``, ``price_per_audit``, ``price_cap``). Offers in different currencies
are compared in one currency when the request gives ``fx`` rates, with their source and date. Money is a
decimal string in the comparison's currency; counts and shares are quantile objects.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from annoplan.planner.money import check_currency
from annoplan.planner.schemas.common import Delta, MoneyString, Quantiles, ResponseModel, StrictModel
from annoplan.planner.schemas.curves import Pilot
from annoplan.planner.schemas.plans import (
    MAX_BATCH_SIZES,
    MAX_DRAWS,
    Costs,
    Goal,
    Money,
    MoneyQuantiles,
    Schedule,
    Strategy,
    StrategySettings,
)

#: most offers one comparison simulates
MAX_OFFERS = 10
#: an id of a stored quote (uuid4, hex)
QUOTE_ID_PATTERN = r"^[0-9a-f]{32}$"

VendorName = Annotated[str, Field(min_length=1, max_length=200, description="who offers, shown in reports")]


class RateCardOffer(StrictModel):
    """A vendor's rate card: the scenario is planned under its prices, every strategy searched."""

    vendor: VendorName
    costs: Costs


class StoredQuoteOffer(StrictModel):
    """A stored correction-only quote of this API key, by id: its prices, threshold, batch size and audit
    rate are simulated on the comparison's scenario."""

    vendor: VendorName
    quote_id: str = Field(pattern=QUOTE_ID_PATTERN, description="the id of a stored quote (32 hex digits)")


class QuotePricesOffer(StrictModel):
    """A correction-only quote's prices given inline: the client pays per correction and per audit, up to
    ``price_cap``. Without ``confidence_threshold`` and ``batch_size`` the hybrid settings cheapest for the
    client under these prices are assumed."""

    vendor: VendorName
    currency: str = Field(default="USD", description="ISO 4217 code of the prices")
    price_per_correction: Money
    price_per_audit: Money = 0.0
    price_cap: Money | None = Field(default=None, description="the client's total bill never exceeds this")
    audit_rate: float = Field(
        default=0.05, ge=0.0, le=1.0, description="share of auto-accepted items audited, promised"
    )
    confidence_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="auto-accept at or above"
    )
    batch_size: int | None = Field(
        default=None, ge=1, le=10**9, description="items routed to humans per round"
    )

    _known_currency = field_validator("currency")(check_currency)


def offer_kind(value: Any) -> str:
    """Which kind of offer an input is: by the field that only it has (``costs``, ``quote_id``)."""
    if isinstance(value, dict):
        return "costs" if "costs" in value else "quote_id" if "quote_id" in value else "prices"
    return (
        "costs"
        if isinstance(value, RateCardOffer)
        else "quote_id"
        if isinstance(value, StoredQuoteOffer)
        else "prices"
    )


Offer = Annotated[
    Annotated[RateCardOffer, Tag("costs")]
    | Annotated[StoredQuoteOffer, Tag("quote_id")]
    | Annotated[QuotePricesOffer, Tag("prices")],
    Discriminator(offer_kind),
]


class FxRates(StrictModel):
    """Exchange rates that bring every offer to one ``currency``: ``rates[C]`` is the units of ``currency``
    one unit of ``C`` buys, as published by ``source`` on ``date``."""

    currency: str = Field(description="ISO 4217 code the comparison is made in")
    rates: dict[str, Annotated[float, Field(gt=0.0, le=1e9)]] = Field(
        min_length=1, max_length=50, description="units of currency per unit of each offer's currency"
    )
    source: str = Field(min_length=1, max_length=200, description="who published the rates")
    date: dt.date = Field(strict=False, description="the day the rates were published (ISO 8601)")

    _known_currency = field_validator("currency")(check_currency)

    @field_validator("rates")
    @classmethod
    def _known_codes(cls, rates: dict[str, float]) -> dict[str, float]:
        for code in rates:
            check_currency(code)
        return rates


class ComparisonRequest(StrictModel):
    """Compare vendors' offers on one scenario: every offer is simulated on the same draws."""

    name: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=10_000)
    pool_size: int = Field(ge=1, le=10**10, description="items still to label")
    goal: Goal
    pilot: Pilot
    offers: list[Offer] = Field(min_length=2, max_length=MAX_OFFERS)
    fx: FxRates | None = Field(default=None, description="required when the offers' currencies differ")
    strategies: list[Strategy] = Field(
        default=["manual", "prelabel", "active_learning", "hybrid"],
        min_length=1,
        max_length=4,
        description="strategies searched under each rate card (quotes are hybrid routing)",
    )
    batch_sizes: list[Annotated[int, Field(ge=1, le=10**9)]] | None = Field(
        default=None, min_length=1, max_length=MAX_BATCH_SIZES
    )
    schedule: Schedule = Field(default_factory=Schedule)
    pilot_labels_kept: bool = Field(
        default=True, description="as in plans: the first model trains on the pilot's labels"
    )
    delta: Delta = 0.05
    probability: float = Field(
        default=0.9, gt=0.0, lt=1.0, description="required probability of meeting the goal"
    )
    draws: int = Field(
        default=2000, ge=100, le=MAX_DRAWS, description="Monte Carlo draws, shared by every offer"
    )
    seed: int = Field(default=0, ge=0, le=2**32 - 1)

    @field_validator("strategies")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("each strategy may be named once")
        return v

    @field_validator("offers")
    @classmethod
    def _unique_vendors(cls, offers: list[Any]) -> list[Any]:
        names = [offer.vendor for offer in offers]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"each vendor may be named once (repeated: {', '.join(repeated)}); rename one offer"
            )
        return offers


class QuoteUsed(ResponseModel):
    """The stored quote an offer priced: which version of it."""

    id: str
    version: int = Field(description="1 for a first quote; each re-quote of the same request adds 1")
    superseded_by: str | None = Field(description="the id of a newer version, when one exists")
    valid_until: dt.date


class OfferForecast(ResponseModel):
    """What one offer costs the client on the shared draws, and how it ranks (money in the comparison's
    currency)."""

    vendor: str
    kind: Literal["rate_card", "quote"]
    currency: str = Field(description="the offer's own currency")
    fx_rate: float = Field(description="units of the comparison's currency per unit of the offer's (1: same)")
    quote: QuoteUsed | None = Field(description="the stored quote priced (quote_id offers)")
    strategy: str = Field(description="the best strategy under this offer's prices (quotes: hybrid)")
    settings: StrategySettings
    cost: MoneyQuantiles = Field(description="what the client pays; quotes: the bill, capped at price_cap")
    price_cap: MoneyString | None = Field(description="quotes: the cap on the client's bill, converted")
    probability_cap_binds: float | None = Field(
        description="quotes with a cap: share of draws the cap lowers"
    )
    days: Quantiles
    label_error: Quantiles = Field(description="share of the pool left wrong")
    probability_goal_met: float
    probability_cheapest: float = Field(description="share of the shared draws where this offer costs least")
    expected_regret: MoneyString = Field(description="mean extra cost over the cheapest offer of each draw")


class ComparisonRecommendation(ResponseModel):
    """The offer to pick (the lowest expected cost among those meeting the goal), and why."""

    vendor: str
    strategy: str
    reasons: list[str]


class ComparisonResponse(ResponseModel):
    """Every offer on the same draws, ranked, and a recommendation (SPEC 4.1)."""

    id: str
    name: str | None
    currency: str = Field(description="the currency every amount is in")
    offers: list[OfferForecast] = Field(description="in the request's order")
    recommendation: ComparisonRecommendation
    fx: FxRates | None = Field(description="the rates used, with their source and date")
    assumptions: dict[str, Any]
    warnings: list[str]
