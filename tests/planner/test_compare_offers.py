"""compare_offers: common draws, probability_cheapest, regret, quotes and their caps, FX, errors naming the
field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annoplan.planner.comparisons import StoredQuote, cheapest_shares, compare_offers
from annoplan.planner.errors import InvalidInputError
from annoplan.planner.plans import make_plan
from annoplan.planner.quotes import make_quote

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "plan.json").read_text())
CARD = {
    "currency": "USD",
    "label": 0.40,
    "review": 0.12,
    "correction": 0.35,
    "audit": 0.10,
    "audit_rate": 0.05,
    "platform_fee": 0.01,
    "round_overhead": 25.0,
}


def scenario(**changes: Any) -> dict[str, Any]:
    """A small scenario of the example's pilot (quick to simulate)."""
    return {
        "pool_size": 5_000,
        "goal": {"type": "labeled_dataset", "max_label_error": 0.05},
        "pilot": EXAMPLE["pilot"],
        "strategies": ["manual", "prelabel", "hybrid"],
        "batch_sizes": [250, 500, 1000],
        "draws": 300,
        "seed": 3,
        **changes,
    }


def card(**changes: Any) -> dict[str, Any]:
    return {**CARD, **changes}


def offers_of(response: Any) -> dict[str, Any]:
    return {o["vendor"]: o for o in response.model_dump(mode="json")["offers"]}


@pytest.fixture(scope="module")
def three() -> Any:
    return compare_offers(
        scenario(
            offers=[
                {"vendor": "A", "costs": card()},
                {"vendor": "B", "costs": card(correction=0.30, review=0.14)},
                {"vendor": "C", "price_per_correction": 0.9, "price_per_audit": 0.12, "price_cap": 600.0},
            ]
        )
    )


def test_probability_cheapest_sums_to_one_and_regret_is_never_negative(three: Any) -> None:
    offers = three.offers
    assert sum(o.probability_cheapest for o in offers) == pytest.approx(1.0, abs=1e-12)
    assert all(0.0 <= o.probability_cheapest <= 1.0 for o in offers)
    assert all(float(o.expected_regret) >= 0 for o in offers)
    assert [o.vendor for o in offers] == ["A", "B", "C"]  # the request's order


def test_the_recommendation_is_the_lowest_expected_cost_meeting_the_goal(three: Any) -> None:
    meeting = [o for o in three.offers if o.probability_goal_met >= 0.9]
    cheapest = min(meeting, key=lambda o: float(o.cost.mean))
    assert three.recommendation.vendor == cheapest.vendor
    # the lowest expected cost is also the lowest expected regret
    assert min(three.offers, key=lambda o: float(o.expected_regret)).vendor == cheapest.vendor
    assert any("cheapest in" in r for r in three.recommendation.reasons)
    assert any("price cap bounds your worst case at 600.00 USD" in r for r in three.recommendation.reasons)


def test_the_same_request_gives_the_same_ranking_and_probabilities(three: Any) -> None:
    again = compare_offers(
        scenario(
            offers=[
                {"vendor": "A", "costs": card()},
                {"vendor": "B", "costs": card(correction=0.30, review=0.14)},
                {"vendor": "C", "price_per_correction": 0.9, "price_per_audit": 0.12, "price_cap": 600.0},
            ]
        )
    )
    first, second = three.model_dump(mode="json"), again.model_dump(mode="json")
    assert first["id"] != second["id"]
    first.pop("id"), second.pop("id")
    assert first == second


@pytest.mark.parametrize(
    "model", [None, "linear"]
)  # a pilot naming its model is forecast by the learned model
def test_a_rate_card_alone_is_priced_as_its_plan_prices_it(model: str | None) -> None:
    """Common random numbers are drawn as plans draw them: the offer's cost is its plan's recommendation."""
    request = scenario(
        offers=[{"vendor": "A", "costs": card()}, {"vendor": "B", "costs": card(label=0.5)}],
        pilot=EXAMPLE["pilot"] | ({"model": model} if model else {}),
    )
    compared = offers_of(compare_offers(request))["A"]
    plan = make_plan({**{k: v for k, v in request.items() if k != "offers"}, "costs": card()})
    assert compared["cost"] == plan.recommendation.cost.model_dump()
    assert compared["strategy"] == plan.recommendation.strategy
    assert compared["settings"]["batch_size"] == plan.recommendation.batch_size


def test_identical_offers_share_every_draw() -> None:
    result = compare_offers(
        scenario(offers=[{"vendor": "A", "costs": card()}, {"vendor": "B", "costs": card()}])
    )
    a, b = result.offers
    assert a.probability_cheapest == b.probability_cheapest == 0.5
    assert a.expected_regret == b.expected_regret == "0.00"


def test_cheapest_shares_split_ties_and_sum_to_one() -> None:
    costs = np.array([[1.0, 2.0, 3.0, 5.0], [1.0, 1.0, 4.0, 5.0], [2.0, 3.0, 3.0, 5.0]])
    shares = cheapest_shares(costs)
    assert shares.tolist() == pytest.approx(
        [(0.5 + 0 + 0.5 + 1 / 3) / 4, (0.5 + 1 + 0 + 1 / 3) / 4, (0.5 + 1 / 3) / 4]
    )
    assert shares.sum() == pytest.approx(1.0)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    low=st.floats(min_value=0.1, max_value=0.6),
    step=st.floats(min_value=0.01, max_value=0.6),
)
def test_probability_cheapest_moves_monotonically_with_one_price(low: float, step: float) -> None:
    """Two offers identical but for the price per correction: the dearer one is never likelier to be the
    cheapest, and B's chance falls as its price rises."""

    def chance(price: float) -> float:
        result = compare_offers(
            scenario(
                draws=200,
                offers=[
                    {"vendor": "A", "costs": card(correction=0.35)},
                    {"vendor": "B", "costs": card(correction=price)},
                ],
            )
        )
        return result.offers[1].probability_cheapest

    assert chance(low) >= chance(low + step)


def test_quote_bills_are_capped_and_carry_the_caps_binding_share() -> None:
    uncapped = offers_of(
        compare_offers(
            scenario(offers=[{"vendor": "A", "costs": card()}, {"vendor": "Q", "price_per_correction": 1.5}])
        )
    )["Q"]
    cap = float(uncapped["cost"]["p50"])
    capped = offers_of(
        compare_offers(
            scenario(
                offers=[
                    {"vendor": "A", "costs": card()},
                    {
                        "vendor": "Q",
                        "price_per_correction": 1.5,
                        "price_cap": cap,
                        "confidence_threshold": uncapped["settings"]["confidence_threshold"],
                        "batch_size": uncapped["settings"]["batch_size"],
                    },
                ]
            )
        )
    )["Q"]
    assert float(capped["cost"]["p90"]) <= cap
    assert capped["probability_cap_binds"] == pytest.approx(0.5, abs=0.05)
    assert capped["strategy"] == "hybrid" and capped["kind"] == "quote"


def test_a_stored_quote_is_priced_at_its_promised_settings_and_version() -> None:
    quote = make_quote(
        {
            "pool_size": 5_000,
            "pilot": EXAMPLE["pilot"],
            "max_label_error": 0.05,
            "vendor_costs": {"review": 0.1, "correction": 0.3, "audit": 0.1, "round_overhead": 20.0},
            "margin": 0.2,
            "draws": 300,
            "currency": "USD",
        }
    )
    assert quote.status == "quoted"
    stored = {quote.id: StoredQuote(quote, version=2, superseded_by="f" * 32)}
    result = compare_offers(
        scenario(offers=[{"vendor": "A", "costs": card()}, {"vendor": "V", "quote_id": quote.id}]), stored
    )
    v = result.offers[1]
    assert v.quote is not None and (v.quote.id, v.quote.version, v.quote.superseded_by) == (
        quote.id,
        2,
        "f" * 32,
    )
    assert (v.settings.confidence_threshold, v.settings.batch_size) == (
        quote.confidence_threshold,
        quote.batch_size,
    )
    assert v.price_cap == quote.price_cap
    assert any("superseded by quote " + "f" * 32 in w for w in result.warnings)


def test_an_unknown_quote_is_refused_naming_its_field() -> None:
    with pytest.raises(InvalidInputError) as err:
        compare_offers(
            scenario(offers=[{"vendor": "A", "costs": card()}, {"vendor": "V", "quote_id": "a" * 32}]), {}
        )
    assert err.value.field == "offers[1].quote_id"


def test_different_currencies_without_rates_are_refused_naming_fx() -> None:
    with pytest.raises(InvalidInputError) as err:
        compare_offers(
            scenario(
                offers=[{"vendor": "A", "costs": card()}, {"vendor": "B", "costs": card(currency="EUR")}]
            )
        )
    assert err.value.field == "fx"
    assert "EUR" in err.value.message and "USD" in err.value.message


def test_a_missing_rate_is_refused_naming_fx_rates() -> None:
    fx = {"currency": "EUR", "rates": {"GBP": 1.17}, "source": "ECB", "date": "2026-11-30"}
    with pytest.raises(InvalidInputError) as err:
        compare_offers(
            scenario(
                fx=fx,
                offers=[{"vendor": "A", "costs": card()}, {"vendor": "B", "costs": card(currency="EUR")}],
            )
        )
    assert err.value.field == "fx.rates"
    assert "fx.rates.USD" in err.value.message


def test_fx_converts_every_amount_to_one_currency() -> None:
    fx = {"currency": "EUR", "rates": {"USD": 0.5}, "source": "ECB reference rates", "date": "2026-11-30"}
    eur = {k: v * 0.5 if isinstance(v, float) and k != "audit_rate" else v for k, v in CARD.items()}
    result = compare_offers(
        scenario(
            fx=fx,
            offers=[{"vendor": "US", "costs": card()}, {"vendor": "EU", "costs": {**eur, "currency": "EUR"}}],
        ),
        today=dt.date(2026, 12, 1),
    )
    us, eu = result.offers
    assert result.currency == "EUR" and us.fx_rate == 0.5 and eu.fx_rate == 1.0
    assert us.cost == eu.cost  # the same prices once converted
    assert us.probability_cheapest == eu.probability_cheapest == 0.5
    assert result.fx is not None and result.fx.source == "ECB reference rates"
    assert not result.warnings  # the rates are a day old


def test_stale_rates_are_warned_of() -> None:
    fx = {"currency": "USD", "rates": {"EUR": 1.1}, "source": "ECB", "date": "2026-01-02"}
    result = compare_offers(
        scenario(
            fx=fx, offers=[{"vendor": "A", "costs": card()}, {"vendor": "B", "costs": card(currency="EUR")}]
        ),
        today=dt.date(2026, 12, 1),
    )
    assert any("fx rates are dated 2026-01-02" in w for w in result.warnings)


def test_quotes_need_a_labeled_dataset_goal() -> None:
    with pytest.raises(InvalidInputError) as err:
        compare_offers(
            scenario(
                goal={"type": "model_metric", "target": 0.95},
                offers=[{"vendor": "A", "costs": card()}, {"vendor": "Q", "price_per_correction": 1.0}],
            )
        )
    assert err.value.field == "offers[1]"


@pytest.mark.parametrize(
    ("offers", "field"),
    [
        ([{"vendor": "A", "costs": CARD}], "offers"),
        ([{"vendor": "A", "costs": CARD}, {"vendor": "A", "costs": CARD}], "offers"),
        (
            [{"vendor": "A", "costs": CARD}, {"vendor": "B", "price_per_correction": -1.0}],
            "offers[1].price_per_correction",
        ),
        ([{"vendor": "A", "costs": CARD}, {"vendor": "B", "quote_id": "nope"}], "offers[1].quote_id"),
        (
            [{"vendor": "A", "costs": CARD}, {"vendor": "B", "price_per_correction": 1.0, "batch_size": 100}],
            "offers[1].confidence_threshold",
        ),
    ],
)
def test_bad_offers_are_refused_naming_the_field(offers: list[dict[str, Any]], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        compare_offers(scenario(offers=offers))
    assert err.value.field == field
