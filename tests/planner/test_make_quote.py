"""make_quote: the contract, the price property, monotonicity, honest refusals, errors naming the field."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.quotes import make_quote, price_to_cover, simulate_quote

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "plan.json").read_text())
COSTS = {"review": 0.2, "correction": 0.8, "audit": 0.2, "audit_rate": 0.05, "round_overhead": 50.0}


def request(**changes: Any) -> dict[str, Any]:
    return {
        "pool_size": 20_000,
        "pilot": EXAMPLE["pilot"],
        "max_label_error": 0.05,
        "vendor_costs": COSTS,
        "margin": 0.2,
        "draws": 300,
        "seed": 1,
        **changes,
    }


def pilot_with_sample(confidence: list[float], correct: list[bool]) -> dict[str, Any]:
    """The example pilot whose latest calibration sample is replaced."""
    last = EXAMPLE["pilot"]["rounds"][-1]["n_labels"]
    return {
        **EXAMPLE["pilot"],
        "calibration": [{"n_labels": last, "confidence": confidence, "correct": correct}],
    }


@pytest.fixture(scope="module")
def quote() -> dict[str, Any]:
    return make_quote(request(name="backlog", vendor="Acme labeling")).model_dump(mode="json")


def test_the_response_follows_the_contract(quote: dict[str, Any]) -> None:
    contract = {
        "id",
        "valid_until",
        "currency",
        "price_per_correction",
        "price_per_audit",
        "confidence_threshold",
        "batch_size",
        "expected_corrections",
        "price_cap",
        "assumptions",
    }
    assert contract <= set(quote)
    assert quote["status"] == "quoted" and quote["reasons"]
    assert len(quote["id"]) == 32 and int(quote["id"], 16) >= 0
    assert (quote["currency"], quote["name"], quote["vendor"]) == ("USD", "backlog", "Acme labeling")
    for key in ("price_per_correction", "price_per_audit", "price_cap"):
        assert Decimal(quote[key]).as_tuple().exponent == -2 and Decimal(quote[key]) > 0  # USD: cents
    for key in ("expected_corrections", "routed_items", "reviews", "auto_accepted", "audits", "label_error"):
        assert quote[key]["p10"] <= quote[key]["p50"] <= quote[key]["p90"]
    assert quote["reviews"]["p50"] <= quote["routed_items"]["p50"]
    issued = dt.date.fromisoformat(quote["issued_on"])
    assert dt.date.fromisoformat(quote["valid_until"]) - issued == dt.timedelta(days=30)
    assert 0.0 < quote["confidence_threshold"] < 1.0 and quote["batch_size"] >= 1
    assert quote["audit_rate"] == COSTS["audit_rate"] and quote["max_label_error"] == 0.05
    assert quote["probability_goal_met"] >= 0.9 and quote["probability_cost_covered"] >= 0.9
    # the price cap is the client's bill at the risk level: above its median
    assert Decimal(quote["client_bill"]["p50"]) <= Decimal(quote["price_cap"])


def test_reasons_quote_the_responses_own_money_strings(quote: dict[str, Any]) -> None:
    text = " ".join(quote["reasons"])
    for key in ("price_per_correction", "price_per_audit", "price_cap"):
        assert f"{Decimal(quote[key]):,} USD" in text
    assert f"(median {Decimal(quote['client_bill']['p50']):,} USD)" in text


def test_the_assumptions_snapshot_every_input_and_default(quote: dict[str, Any]) -> None:
    snapshot = quote["assumptions"]
    inputs = snapshot["request"]
    for key, value in request().items():
        if key != "pilot":
            assert inputs[key] == value, key
    defaults = {"risk_level": 0.9, "validity_days": 30, "currency": "USD", "delta": 0.05, "notes": None}
    assert {k: inputs[k] for k in defaults} == defaults
    assert inputs["pilot"]["calibration"][-1]["n_items"] == len(
        EXAMPLE["pilot"]["calibration"][-1]["correct"]
    )
    assert snapshot["batch_sizes"] and quote["batch_size"] in snapshot["batch_sizes"]
    assert quote["confidence_threshold"] in snapshot["thresholds"]
    assert snapshot["vendor_rate_card"]["review"] == COSTS["review"]
    for key in ("threshold_certificate", "price_rule", "lot_audits", "issued_on"):
        assert key in snapshot


def test_the_price_is_the_smallest_covering_cost_plus_margin_at_the_risk_level() -> None:
    req = request()
    quote = make_quote(req)
    sim = simulate_quote(req)
    assert sim.chosen is not None
    o = sim.chosen.outcome
    assert (o.settings.batch_size, o.settings.confidence_threshold) == (
        quote.batch_size,
        quote.confidence_threshold,
    )
    assert quote.price_per_correction is not None and quote.price_per_audit is not None
    price, audit = Decimal(quote.price_per_correction), float(quote.price_per_audit)
    need = o.cost * (1.0 + req["margin"])

    def share_covered(p: Decimal) -> float:
        return float(np.mean(float(p) * o.corrections + audit * o.audits >= need))

    assert share_covered(price) >= 0.9 > share_covered(price - Decimal("0.01"))
    assert quote.probability_cost_covered == share_covered(price)
    # the audit price is the audit cost plus the margin, in cents
    assert Decimal(quote.price_per_audit) == Decimal("0.24")
    # the client's bill stays under the cap in at least the risk level's share of outcomes
    assert quote.price_cap is not None
    bill = float(price) * o.corrections + audit * o.audits
    assert np.mean(bill <= float(quote.price_cap)) >= 0.9


def test_the_price_carries_reviews_nobody_pays_for() -> None:
    """The routed items that were right are the vendor's cost: dearer reviews, dearer corrections."""
    free = make_quote(request(batch_sizes=[400], vendor_costs={**COSTS, "review": 0.0}))
    paid = make_quote(request(batch_sizes=[400], vendor_costs={**COSTS, "review": 0.5}))
    assert free.price_per_correction is not None and paid.price_per_correction is not None
    assert free.reviews is not None and free.reviews.p50 > 0
    assert Decimal(paid.price_per_correction) > Decimal(free.price_per_correction)
    assert paid.price_cap is not None and free.price_cap is not None
    assert Decimal(paid.price_cap) > Decimal(free.price_cap)


def test_more_margin_never_gives_a_lower_price() -> None:
    """Each setting's price rises with the margin, and the quote takes the lowest over the same settings, so
    the quoted prices never fall as the margin grows (the setting may change: the cap is not what is
    minimised)."""
    quotes = [make_quote(request(margin=m)) for m in (0.0, 0.1, 0.2, 0.5, 1.0, 3.0)]
    for key in ("price_per_correction", "price_per_audit"):
        prices = [Decimal(getattr(q, key)) for q in quotes]
        assert prices == sorted(prices) and prices[0] < prices[-1], key


def test_a_higher_risk_level_never_gives_a_lower_cap() -> None:
    quotes = [make_quote(request(risk_level=r)) for r in (0.6, 0.75, 0.9, 0.95, 0.99)]
    caps = [Decimal(q.price_cap) for q in quotes if q.price_cap is not None]
    assert len(caps) == len(quotes) and caps == sorted(caps) and caps[0] < caps[-1]


def test_the_cap_is_the_risk_level_quantile_of_the_bill_at_the_quoted_setting() -> None:
    from annoplan.planner.quotes import simulate_quote

    for level in (0.6, 0.9, 0.99):
        sim = simulate_quote(request(risk_level=level))
        assert sim.chosen is not None and sim.chosen.price_cap is not None
        bill = np.quantile(sim.chosen.bill, level, method="inverted_cdf")
        assert (
            Decimal(str(round(bill, 2)))
            <= sim.chosen.price_cap
            <= Decimal(str(round(bill, 2))) + Decimal("0.01")
        )


@pytest.mark.parametrize("margin", [0.0, 0.2, 1.0])
def test_at_fixed_settings_a_higher_risk_level_never_gives_a_lower_price(margin: float) -> None:
    sim = simulate_quote(request(batch_sizes=[400]))
    for pricing in sim.candidates:
        prices = [
            price_to_cover(pricing.outcome, sim.price_per_audit, margin, r, "USD")
            for r in (0.55, 0.7, 0.8, 0.9, 0.95, 0.99)
        ]
        finite = [p for p in prices if p is not None]
        assert finite == sorted(finite)
        assert prices[len(finite) :] == [None] * (len(prices) - len(finite))  # once unpriceable, always


def test_the_same_seed_gives_the_same_quote() -> None:
    first = make_quote(request(seed=7)).model_dump(mode="json")
    second = make_quote(request(seed=7)).model_dump(mode="json")
    other = make_quote(request(seed=8)).model_dump(mode="json")
    assert first.pop("id") != second.pop("id")
    assert first == second
    other.pop("id")
    assert other["expected_corrections"] != first["expected_corrections"]


def test_money_is_rounded_to_the_currency_minor_unit() -> None:
    costs = {"review": 20.0, "correction": 80.0, "audit": 20.0, "audit_rate": 0.05, "round_overhead": 5000.0}
    quote = make_quote(request(currency="JPY", vendor_costs=costs))
    assert quote.price_per_correction is not None and quote.price_cap is not None
    assert "." not in quote.price_per_correction and "." not in quote.price_cap
    assert quote.price_per_audit == "24"


def test_a_fixed_audit_price_is_kept_and_lowers_the_correction_price() -> None:
    base = make_quote(request(batch_sizes=[400]))
    fixed = make_quote(request(batch_sizes=[400], price_per_audit=2.0))
    assert fixed.price_per_audit == "2.00"
    assert base.price_per_correction is not None and fixed.price_per_correction is not None
    assert Decimal(fixed.price_per_correction) < Decimal(base.price_per_correction)


def test_a_calibration_sample_too_small_says_how_many_labels_are_missing() -> None:
    confidence = [0.99] * 30
    quote = make_quote(request(pilot=pilot_with_sample(confidence, [True] * 30)))
    assert quote.status == "not_possible"
    assert quote.price_per_correction is None and quote.price_cap is None and quote.price_per_audit is None
    assert quote.calibration_items_needed == 59  # 5% at 95% confidence, zero errors
    assert quote.confidence_threshold is None and quote.expected_corrections is None
    assert any("29 more" in reason for reason in quote.reasons)


def test_a_goal_the_sample_cannot_certify_says_what_would() -> None:
    # 60 items (enough with zero errors), but the most confident prediction is wrong
    confidence = list(np.linspace(0.5, 0.99, 60))
    correct = [True] * 59 + [False]
    quote = make_quote(request(pilot=pilot_with_sample(confidence, correct)))
    assert quote.status == "not_possible" and quote.price_per_correction is None
    assert quote.calibration_items_needed is not None and quote.calibration_items_needed > 60
    text = " ".join(quote.reasons)
    assert f"{quote.calibration_items_needed:,} calibration items" in text
    assert "can be certified" in text  # a looser goal the sample does certify


def test_work_with_no_correction_to_bill_is_not_priced() -> None:
    """One batch of the whole pool: everything labeled from scratch, nothing to correct, no honest price."""
    quote = make_quote(request(pool_size=2000, batch_sizes=[2000], pilot_labels_kept=False))
    assert quote.status == "not_possible" and quote.price_per_correction is None
    assert quote.expected_corrections is not None and quote.expected_corrections.p90 == 0.0
    assert any("corrections" in reason for reason in quote.reasons)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"margin": -0.1}, "margin"),
        ({"margin": 10.5}, "margin"),
        ({"risk_level": 0.5}, "risk_level"),
        ({"risk_level": 1.0}, "risk_level"),
        ({"currency": "XYZ"}, "currency"),
        ({"validity_days": 0}, "validity_days"),
        ({"vendor_costs": {**COSTS, "review": -1.0}}, "vendor_costs.review"),
        ({"vendor_costs": {**COSTS, "correction": math.nan}}, "vendor_costs.correction"),
        ({"vendor_costs": {**COSTS, "audit_rate": 1.5}}, "vendor_costs.audit_rate"),
        ({"price_per_audit": -0.5}, "price_per_audit"),
        ({"pilot": {k: v for k, v in EXAMPLE["pilot"].items() if k != "calibration"}}, "pilot.calibration"),
        ({"discount": 0.1}, "discount"),
    ],
    ids=[
        "negative margin",
        "margin above 10",
        "risk level 0.5",
        "risk level 1",
        "unknown currency",
        "validity under a day",
        "negative cost",
        "NaN cost",
        "audit rate above 1",
        "negative audit price",
        "pilot without calibration",
        "unknown field",
    ],
)
def test_bad_input_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        make_quote(request(**change))
    assert info.value.field == field


def test_a_lower_risk_level_never_raises_the_price() -> None:
    prices = []
    for level in (0.95, 0.9, 0.8, 0.7):
        quote = make_quote(request(risk_level=level))
        assert quote.status == "quoted"
        prices.append(Decimal(str(quote.price_per_correction)))
    assert prices == sorted(prices, reverse=True), prices


def test_the_quoted_setting_is_the_cheapest_process_whatever_the_risk_level() -> None:
    from types import SimpleNamespace

    from annoplan.planner.quotes import Pricing, cheapest

    def pricing(price: str, cap: str, goal: float, cost: float) -> Pricing:
        settings = SimpleNamespace(batch_size=100, confidence_threshold=0.9)
        outcome: Any = SimpleNamespace(settings=settings, cost=np.full(4, cost))
        return Pricing(outcome, Decimal(price), Decimal(cap), np.zeros(1), 0.9, goal)

    # the case: a setting that becomes eligible at a lower risk level with a lower cap but a higher
    # price per correction must not take over; the cheaper process is quoted at both levels
    efficient = pricing("1.60", "1000.00", goal=0.95, cost=800.0)
    eligible_later = pricing("2.36", "900.00", goal=0.85, cost=820.0)
    assert cheapest([efficient, eligible_later], 0.9) is efficient
    assert cheapest([efficient, eligible_later], 0.8) is efficient
    assert cheapest([eligible_later], 0.9) is None


def test_a_two_part_price_is_offered_where_reviews_dominate_and_covers_the_margin() -> None:
    from annoplan.planner.quotes import covered, revenue, simulate_quote

    req = request()
    quote = make_quote(req)
    sim = simulate_quote(req)
    assert sim.chosen is not None
    o = sim.chosen.outcome
    offer = quote.two_part_price
    assert float(np.median(o.reviews)) > float(np.median(o.corrections))  # this pilot's model is mostly right
    assert offer is not None
    routed, per_correction, audit = (
        float(offer.price_per_routed_item),
        float(offer.price_per_correction),
        float(offer.price_per_audit),
    )
    assert routed == pytest.approx(COSTS["review"] * 1.2, abs=0.01)
    share = float(covered(per_correction, audit, o, 0.2, routed).mean())
    assert share == offer.probability_cost_covered >= 0.9
    assert (
        float(covered(per_correction - 0.01, audit, o, 0.2, routed).mean()) < 0.9
    )  # the smallest such price
    bill = revenue(o, per_correction, audit, routed)
    profit = {
        "two_part": np.quantile(bill - o.cost, 0.1),
        "correction_only": np.quantile(sim.chosen.bill - o.cost, 0.1),
    }
    assert offer.less_risk == max(profit, key=lambda k: profit[k])
    assert quote.price_per_correction is not None
    assert float(offer.price_per_correction) < float(quote.price_per_correction)
