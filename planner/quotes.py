"""``make_quote``: a vendor's price for correction-only work (SPEC 3.5).

The client pays per correction and per audit; confident model labels are free. The vendor still pays for
reviewing the routed items that were right, for labeling the first batch before any model exists, for the
sample that re-certifies the threshold every round and for each round's overhead. A quote therefore
rests on a forecast of all that work: the hybrid policy at a certified threshold is simulated over curve draws
(:func:`planner.plans.hybrid_routing`, :func:`simulators.montecarlo.simulate_strategy`), and per draw

- vendor cost = review x reviews + correction x corrections + audit x audits + round_overhead x rounds
  + correction x first-batch labels (a label from scratch is costed like a correction, and not billed);
- revenue = price_per_correction x corrections + price_per_audit x audits.

``price_per_correction`` is the smallest amount in the currency's minor unit at which revenue covers cost x
(1 + margin) in at least ``risk_level`` of the draws (per draw the break-even price, then its ``risk_level``
quantile). ``price_per_audit`` is the audit cost plus the margin (rounded up) unless the request fixes it.

Settings: the certified threshold and the stricter ones :func:`planner.plans.hybrid_routing` offers (certified
as well), times the candidate batch sizes. By default those are the plan's batch sizes no smaller than the
labels of the calibration sample the threshold was certified on, plus that size: the first model that
auto-accepts is then trained on at least as many labels as the certified one (with smaller first batches the
promise would rest on an extrapolation; pool replays broke it there). The quote commits to the setting whose
``price_cap`` (the client's bill at ``risk_level``) is lowest among those meeting the label-error goal with
probability ``risk_level``. The cap never falls when the margin, the risk level or a vendor cost rises; at
fixed settings neither does the price per correction (across settings it may, with a higher cap).

A quote that cannot be honest is an answer, not an error: ``status`` ``"not_possible"``, null prices and
``reasons`` in plain words with what would make a quote possible (how many calibration items, which goal the
pilot can certify). A request that is malformed raises :class:`planner.errors.InvalidInputError`.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.fit import FAR_FACTOR, pilot_warnings
from annoplan.planner.money import minor_unit, money, round_up
from annoplan.planner.plans import (
    HybridRouting,
    default_batch_sizes,
    display_money,
    hybrid_routing,
    money_quantiles,
    quantiles,
)
from annoplan.planner.policy import lot_path, make_policy, start_labels, start_rule
from annoplan.planner.scenario import Scenario
from annoplan.planner.schemas.curves import CalibrationSample
from annoplan.planner.schemas.policy import Policy
from annoplan.planner.schemas.quotes import QuoteRequest, QuoteResponse, TwoPartPrice, VendorCosts
from annoplan.planner.thresholds import ThresholdCertificate, certify_threshold, clopper_pearson_upper
from annoplan.planner.validation import parse_request
from annoplan.simulators.costs import RateCard
from annoplan.simulators.montecarlo import Array, Outcome, RunSettings, simulate_strategy
from annoplan.simulators.volumes import Volumes

#: the loosest error goal suggested when the pilot certifies none (share of the pool)
MAX_SUGGESTED_GOAL = 0.5
#: goals tried when looking for one the pilot's sample certifies: the request's times these factors
GOAL_FACTORS = tuple(1.1**k for k in range(1, 60))
#: the most calibration items a suggestion names (beyond, the answer is "a better model")
MAX_SUGGESTED_CALIBRATION = 1_000_000


@dataclass(frozen=True)
class Pricing:
    """Prices of one simulated setting, a threshold and a batch size (money as Decimal in the quote's
    currency; None: no finite price covers the cost)."""

    outcome: Outcome
    price_per_correction: Decimal | None
    price_cap: Decimal | None
    bill: Array  #: the client's bill per draw at these prices (NaN without a price)
    probability_covered: float  #: share of draws whose revenue covers cost x (1 + margin)
    probability_goal_met: float

    @property
    def batch_size(self) -> int:
        return self.outcome.settings.batch_size

    @property
    def threshold(self) -> float:
        threshold = self.outcome.settings.confidence_threshold
        assert threshold is not None
        return threshold

    def feasible(self, risk_level: float) -> bool:
        return self.price_per_correction is not None and self.probability_goal_met >= risk_level


@dataclass(frozen=True)
class QuoteSimulation:
    """Everything a quote rests on: the request, the certified routing and every candidate's pricing.

    ``chosen`` is the setting quoted (None when no candidate can be quoted honestly); ``candidates`` holds
    every simulated setting (thresholds x batch sizes), empty when no threshold is certified.
    """

    request: QuoteRequest
    routing: HybridRouting
    price_per_audit: Decimal
    candidates: tuple[Pricing, ...]
    chosen: Pricing | None
    assumptions: dict[str, Any]
    warnings: list[str]

    @property
    def closest(self) -> Pricing | None:
        """The quoted candidate, else the one likeliest to meet the goal (then the cheapest)."""
        if self.chosen is not None or not self.candidates:
            return self.chosen
        return max(self.candidates, key=lambda p: (p.probability_goal_met, -float(np.median(p.outcome.cost))))


def candidate_batch_sizes(pool_size: int, certified_labels: int) -> list[int]:
    """The plan's default batch sizes no smaller than the labels the threshold was certified on, and that
    size itself: the first model that auto-accepts is then trained on at least as many labels as the model
    whose calibration sample certified the threshold (batches are capped at the pool)."""
    floor = min(certified_labels, pool_size)
    return sorted({floor, *(b for b in default_batch_sizes(pool_size) if b >= floor)})


def quote_batch_sizes(req: QuoteRequest) -> list[int]:
    """The batch sizes a quote searches: the request's, else :func:`candidate_batch_sizes` (sorted, once)."""
    certified_labels = max(s.n_labels for s in req.pilot.calibration)
    return sorted(set(req.batch_sizes or candidate_batch_sizes(req.pool_size, certified_labels)))


def vendor_rate_card(costs: VendorCosts) -> RateCard:
    """The vendor's costs as a rate card: a label from scratch (the first batch, before any model) is costed
    like a correction; no platform fee."""
    return RateCard(
        label=costs.correction,
        review=costs.review,
        correction=costs.correction,
        audit=costs.audit,
        audit_rate=costs.audit_rate,
        platform_fee=0.0,
        round_overhead=costs.round_overhead,
    )


def covered(
    price_per_correction: float,
    price_per_audit: float,
    outcome: Outcome,
    margin: float,
    price_per_routed_item: float = 0.0,
) -> np.ndarray:
    """Per draw, whether revenue covers the vendor's cost x (1 + margin) at these prices."""
    return np.asarray(
        revenue(outcome, price_per_correction, price_per_audit, price_per_routed_item)
        >= outcome.cost * (1.0 + margin)
    )


def revenue(
    work: Volumes[Any],
    price_per_correction: float,
    price_per_audit: float,
    price_per_routed_item: float = 0.0,
) -> Array:
    """The client's bill for ``work`` (per draw, or of one replay): corrections, audits and (two-part price)
    every routed item."""
    routed = work.reviews + work.corrections
    return np.asarray(
        price_per_correction * work.corrections
        + price_per_audit * work.audits
        + price_per_routed_item * routed
    )


def break_even_prices(
    work: Volumes[Any], cost: Any, price_per_audit: float, margin: float, price_per_routed_item: float = 0.0
) -> Array:
    """The price per correction at which the bill for ``work`` equals its ``cost`` x (1 + margin) (per draw,
    or of one replay); -inf where audits (and routed items) alone cover it, +inf where no price can (nothing
    to correct)."""
    shortfall = np.asarray(cost * (1.0 + margin) - revenue(work, 0.0, price_per_audit, price_per_routed_item))
    corrections = np.asarray(work.corrections)
    per_correction = np.divide(shortfall, corrections, out=np.zeros_like(shortfall), where=corrections > 0)
    return np.where(corrections > 0, per_correction, np.where(shortfall <= 0, -np.inf, np.inf))


def price_to_cover(
    outcome: Outcome,
    price_per_audit: Decimal,
    margin: float,
    risk_level: float,
    currency: str,
    price_per_routed_item: Decimal = Decimal(0),
) -> Decimal | None:
    """The smallest price per correction, in minor units, whose revenue covers cost x (1 + margin) in at
    least ``risk_level`` of the draws; None when no finite price does."""
    audit, routed = float(price_per_audit), float(price_per_routed_item)
    level = float(
        np.quantile(
            break_even_prices(outcome, outcome.cost, audit, margin, routed), risk_level, method="inverted_cdf"
        )
    )
    if level == math.inf:
        return None
    unit = minor_unit(currency)

    def enough(units: int) -> bool:
        return float(covered(float(units * unit), audit, outcome, margin, routed).mean()) >= risk_level

    # the quantile rounded up; then one unit at a time where floating point disagrees at the boundary
    units = max(0, math.ceil(Decimal(repr(level)) / unit)) if level > -math.inf else 0
    while units > 0 and enough(units - 1):
        units -= 1
    while not enough(units):
        units += 1
    return units * unit


def two_part_price(req: QuoteRequest, chosen: Pricing, price_per_audit: Decimal) -> TwoPartPrice | None:
    """A price per routed item (the review cost plus the margin) and per correction on top, for the quoted
    setting, offered where reviews of right pre-labels outnumber the corrections (median): then most of
    the vendor's cost is work the correction-only price bills only indirectly. Which of the two carries less
    risk for the vendor: the one whose profit at the 10th percentile is higher."""
    o = chosen.outcome
    if float(np.median(o.reviews)) <= float(np.median(o.corrections)):
        return None
    per_routed = round_up(req.vendor_costs.review * (1.0 + req.margin), req.currency)
    per_correction = price_to_cover(o, price_per_audit, req.margin, req.risk_level, req.currency, per_routed)
    if per_correction is None:
        return None
    bill = revenue(o, float(per_correction), float(price_per_audit), float(per_routed))
    share = float(
        covered(float(per_correction), float(price_per_audit), o, req.margin, float(per_routed)).mean()
    )
    low = {
        "two_part": float(np.quantile(bill - o.cost, 0.1)),
        "correction_only": float(np.quantile(chosen.bill - o.cost, 0.1)),
    }
    less = "two_part" if low["two_part"] >= low["correction_only"] else "correction_only"
    return TwoPartPrice(
        price_per_routed_item=str(per_routed),
        price_per_correction=str(per_correction),
        price_per_audit=str(price_per_audit),
        price_cap=str(
            round_up(float(np.quantile(bill, req.risk_level, method="inverted_cdf")), req.currency)
        ),
        probability_cost_covered=share,
        client_bill=money_quantiles(bill, req.currency),
        less_risk=less,
        reason=(
            f"reviews of right pre-labels (median {float(np.median(o.reviews)):,.0f}) outnumber corrections "
            f"(median {float(np.median(o.corrections)):,.0f}); the vendor's profit at the 10th percentile is "
            f"{display_money(money(low['two_part'], req.currency), req.currency)} two-part against "
            f"{display_money(money(low['correction_only'], req.currency), req.currency)} correction-only: "
            f"{'two-part' if less == 'two_part' else 'correction-only'} carries less risk"
        ),
    )


def cheapest(candidates: Sequence[Pricing], risk_level: float) -> Pricing | None:
    """The setting quoted: among those meeting the goal with ``risk_level``, the cheapest process (the
    lowest mean vendor cost; then the lowest cap). The choice depends on neither the margin nor the risk
    level (unless the goal's probability binds), so its prices rise with the margin and never rise as
    ``risk_level`` falls: each is a quantile of the same setting's outcomes."""
    feasible = [p for p in candidates if p.feasible(risk_level)]
    if not feasible:
        return None
    return min(
        feasible,
        key=lambda p: (float(np.mean(p.outcome.cost)), p.price_cap, p.batch_size, p.threshold),
    )


def price_outcome(
    outcome: Outcome, price_per_audit: Decimal, margin: float, risk_level: float, currency: str
) -> Pricing:
    """Price one simulated setting."""
    price = price_to_cover(outcome, price_per_audit, margin, risk_level, currency)
    goal = float(outcome.goal_met.mean())
    if price is None:
        return Pricing(outcome, None, None, np.full(outcome.cost.shape, np.nan), 0.0, goal)
    bill = revenue(outcome, float(price), float(price_per_audit))
    cap = round_up(float(np.quantile(bill, risk_level, method="inverted_cdf")), currency)
    share = float(covered(float(price), float(price_per_audit), outcome, margin).mean())
    return Pricing(outcome, price, cap, bill, share, goal)


def quote_policy(req: QuoteRequest, chosen: Pricing) -> Policy:
    """The runbook of the quoted process: hybrid routing at the quoted threshold and batch size."""
    return make_policy(
        "hybrid",
        batch_size=chosen.batch_size,
        pool_size=req.pool_size,
        start_labels=start_labels(req),
        audit_rate=req.vendor_costs.audit_rate,
        confidence_threshold=chosen.threshold,
        max_label_error=req.max_label_error,
        delta=req.delta,
        path=lot_path(chosen.outcome),
    )


def simulate_quote(request: QuoteRequest | dict[str, Any]) -> QuoteSimulation:
    """Certify the threshold, simulate the hybrid policy at every candidate threshold (the certified one
    and stricter ones) and batch size, and price each.

    Parameters
    ----------
    request : QuoteRequest or dict
        See :func:`make_quote`.

    Returns
    -------
    QuoteSimulation
        The per-draw outcomes behind a quote (what :func:`make_quote` summarises).
    """
    req = parse_request(QuoteRequest, request)
    if not req.pilot.calibration:
        raise InvalidInputError(
            "pilot.calibration",
            "a quote needs at least one calibration sample: the model's confidence and correctness on "
            "random held-out items, which certify the auto-accept threshold",
        )
    scenario = Scenario.from_request(req)
    rng, curve, efficiency = scenario.rng, scenario.curve, scenario.efficiency
    routing = hybrid_routing(req.pilot, req.max_label_error, req.delta, req.draws, rng)
    costs = vendor_rate_card(req.vendor_costs)
    if req.price_per_audit is not None:
        price_per_audit = round_up(req.price_per_audit, req.currency)
    else:
        price_per_audit = round_up(req.vendor_costs.audit * (1.0 + req.margin), req.currency)
    certified_labels = max(s.n_labels for s in req.pilot.calibration)
    batch_sizes = quote_batch_sizes(req)
    # a threshold that is not certified is the quote's reason, not a warning
    warnings = [*pilot_warnings(req.pilot.rounds, scenario.forecast)]
    below = [b for b in batch_sizes if b < min(certified_labels, req.pool_size)]
    if below and routing.threshold is not None:
        warnings.append(
            f"batches of {', '.join(f'{b:,}' for b in below)} auto-accept from the second round with a model "
            f"trained on fewer labels than the {certified_labels:,} the threshold was certified on: there "
            "the label-error promise rests on the coverage forecast, not on the certificate"
        )
    if req.pool_size > FAR_FACTOR * req.pilot.rounds[-1].n_labels:
        warnings.append(
            f"the pool ({req.pool_size:,} items) is over {FAR_FACTOR:.0f}x the last pilot round: the "
            "forecast of how fast the model improves extrapolates far, and the volumes' intervals are wide"
        )
    assumptions = snapshot(req, batch_sizes, price_per_audit, costs, routing)
    assumptions["active_learning_efficiency"] = (
        f"routed items are the least confident: the model learns from n of them as from efficiency x n "
        f"random labels; {efficiency.source}"
    )

    candidates: list[Pricing] = []
    noise_seed = int(rng.integers(2**63))  # every simulated setting sees the same sampling noise
    for threshold, draws in routing.options:
        for batch in batch_sizes:
            settings = RunSettings(
                batch_size=batch,
                labels_per_day=req.schedule.labels_per_day,
                turnaround_days=req.schedule.turnaround_days,
                delta=routing.delta,
                confidence_threshold=threshold,
            )
            outcome = simulate_strategy(
                "hybrid",
                curve,
                costs,
                req.pool_size,
                settings,
                max_label_error=req.max_label_error,
                efficiency=efficiency.values,
                routing=draws,
                labels_before=scenario.labels_before,
                noise=np.random.default_rng(noise_seed),
            )
            candidates.append(
                price_outcome(outcome, price_per_audit, req.margin, req.risk_level, req.currency)
            )
    chosen = cheapest(candidates, req.risk_level)
    return QuoteSimulation(req, routing, price_per_audit, tuple(candidates), chosen, assumptions, warnings)


def make_quote(request: QuoteRequest | dict[str, Any]) -> QuoteResponse:
    """Quote correction-only work: unit prices that keep the vendor's margin with probability ``risk_level``.

    Parameters
    ----------
    request : QuoteRequest or dict
        SPEC 4.1 quote request: ``pool_size`` (items), ``pilot`` (with calibration samples),
        ``max_label_error`` (share of the pool), ``vendor_costs`` (currency units per item; per round for
        ``round_overhead``), ``margin`` (0.2 = 20% over cost), optional ``risk_level`` (default 0.9),
        ``validity_days`` (default 30), ``currency`` (default USD), ``batch_sizes``, ``price_per_audit``,
        ``name``, ``vendor``, ``notes``, ``delta``, ``draws``, ``seed``.

    Returns
    -------
    QuoteResponse
        ``status`` ``"quoted"`` with prices as decimal strings in the currency's minor unit, or
        ``"not_possible"`` with null prices and ``reasons`` saying what would make a quote possible.

    Raises
    ------
    InvalidInputError
        naming the offending field.
    """
    sim = simulate_quote(request)
    req = sim.request
    issued_on = dt.datetime.now(dt.UTC).date()
    valid_until = issued_on + dt.timedelta(days=req.validity_days)
    shown = sim.closest
    chosen = sim.chosen
    o = shown.outcome if shown is not None else None
    certificate = sim.routing.certificate
    return QuoteResponse(
        id=uuid.uuid4().hex,
        status="quoted" if chosen is not None else "not_possible",
        reasons=quote_reasons(sim) if chosen is not None else refusal_reasons(sim),
        name=req.name,
        vendor=req.vendor,
        currency=req.currency,
        issued_on=issued_on,
        valid_until=valid_until,
        price_per_correction=str(chosen.price_per_correction) if chosen is not None else None,
        price_per_audit=str(sim.price_per_audit) if chosen is not None else None,
        price_cap=str(chosen.price_cap) if chosen is not None else None,
        risk_level=req.risk_level,
        probability_cost_covered=chosen.probability_covered if chosen is not None else None,
        confidence_threshold=shown.threshold if shown is not None else None,
        audit_rate=req.vendor_costs.audit_rate,
        batch_size=shown.batch_size if shown is not None else None,
        max_label_error=req.max_label_error,
        probability_goal_met=shown.probability_goal_met if shown is not None else None,
        calibration_items_needed=(
            None if certificate.certified else calibration_items_needed(certificate, sim.routing.sample)
        ),
        expected_corrections=quantiles(o.corrections) if o is not None else None,
        routed_items=quantiles(o.reviews + o.corrections) if o is not None else None,
        reviews=quantiles(o.reviews) if o is not None else None,
        auto_accepted=quantiles(o.auto_accepted) if o is not None else None,
        audits=quantiles(o.audits) if o is not None else None,
        rounds=quantiles(o.rounds) if o is not None else None,
        label_error=quantiles(o.label_error) if o is not None else None,
        days=quantiles(o.days) if o is not None else None,
        policy=quote_policy(req, chosen) if chosen is not None else None,
        two_part_price=two_part_price(req, chosen, sim.price_per_audit) if chosen is not None else None,
        client_bill=money_quantiles(chosen.bill, req.currency) if chosen is not None else None,
        vendor_cost=money_quantiles(o.cost, req.currency) if o is not None else None,
        assumptions={**sim.assumptions, "issued_on": issued_on.isoformat()},
        warnings=sim.warnings,
    )


def snapshot(
    req: QuoteRequest,
    batch_sizes: list[int],
    price_per_audit: Decimal,
    costs: RateCard,
    routing: HybridRouting,
) -> dict[str, Any]:
    """Every input and every default a quote used, as plain JSON (calibration samples summarised)."""
    inputs = req.model_dump(mode="json", exclude={"pilot"})
    pilot = req.pilot.model_dump(mode="json", exclude={"calibration"})
    pilot["calibration"] = [
        {"n_labels": s.n_labels, "n_items": len(s.correct), "n_correct": sum(s.correct)}
        for s in req.pilot.calibration
    ]
    return {
        "request": {**inputs, "pilot": pilot},
        "batch_sizes": batch_sizes,
        "price_per_audit": (
            "fixed by the request"
            if req.price_per_audit is not None
            else f"audit cost {req.vendor_costs.audit} x (1 + margin), rounded up: {price_per_audit}"
        ),
        "vendor_rate_card": costs.to_dict(),
        "first_batch": (
            "labeled from scratch before any model exists (a cold start only): costed like a correction, "
            "not billed"
        ),
        "revenue": "price_per_correction x corrections + price_per_audit x audits",
        "vendor_cost": (
            "review x reviews + correction x (corrections + first-batch labels) + audit x audits "
            "+ round_overhead x rounds (re-certification sample included)"
        ),
        "price_rule": (
            f"the smallest price per correction at which revenue covers cost x (1 + {req.margin}) in at "
            f"least {req.risk_level:.0%} of {req.draws} simulated outcomes"
        ),
        "price_cap_rule": f"the {req.risk_level:.0%} quantile of the client's bill, rounded up",
        "settings_rule": (
            "among the certified threshold and stricter ones (certified as well) and the batch sizes, the "
            f"setting with the lowest mean vendor cost (then price cap) among those meeting the "
            f"label-error goal in at least {req.risk_level:.0%} of outcomes"
        ),
        "pilot_labels_kept": start_rule(start_labels(req)),
        "thresholds": [threshold for threshold, _ in routing.options],
        "delta": routing.delta,
        "human_labels_are_correct": True,
        **routing.assumptions,
    }


def quote_reasons(sim: QuoteSimulation) -> list[str]:
    """What a quoted price rests on, in sentences a vendor can forward."""
    req, chosen = sim.request, sim.chosen
    assert chosen is not None and chosen.price_per_correction is not None and chosen.price_cap is not None
    o, cur = chosen.outcome, req.currency
    reviews = float(np.median(o.reviews))
    corrections = float(np.median(o.corrections))
    # amounts quoted from the very strings the response carries (price fields, client_bill)
    price = display_money(str(chosen.price_per_correction), cur)
    audit = display_money(str(sim.price_per_audit), cur)
    cap = display_money(str(chosen.price_cap), cur)
    median_bill = display_money(money_quantiles(chosen.bill, cur).p50, cur)
    return [
        f"at {price} per correction and {audit} per audit, "
        f"revenue covers the vendor's cost plus {req.margin:.0%} in {chosen.probability_covered:.0%} of "
        f"{req.draws:,} simulated outcomes (asked: {req.risk_level:.0%})",
        f"the price carries the work nobody is billed for: ~{reviews:,.0f} routed items that turn out right "
        f"(median) against ~{corrections:,.0f} corrections, the first {chosen.batch_size:,} items "
        "labeled from scratch before any model exists, "
        f"~{float(np.median(o.audits)):,.0f} audits of the auto-accepted lots and the overhead of "
        f"~{float(np.median(o.rounds)):.0f} rounds",
        f"items with confidence >= {chosen.threshold:.4g} are accepted without review, lot by lot, each lot "
        f"only after a random audit of it (at least {req.vendor_costs.audit_rate:.0%}) bounds the wrong "
        f"labels it leaves; {certified_because(sim, chosen.threshold)}",
        f"the label-error goal ({req.max_label_error:.1%} of the pool) is met in "
        f"{chosen.probability_goal_met:.0%} of outcomes with batches of {chosen.batch_size:,}",
        f"the client's bill stays at or below {cap} with probability {req.risk_level:.0%} "
        f"(median {median_bill})",
    ]


def certified_because(sim: QuoteSimulation, threshold: float) -> str:
    """The certificate behind ``threshold``: the certified one, or a stricter one (certified as well)."""
    certificate = sim.routing.certificate
    if sim.routing.threshold is not None and threshold > sim.routing.threshold:
        return (
            f"it is stricter than the certified {sim.routing.threshold:.4g}, so certified as well: "
            f"{certificate.summary()}"
        )
    return certificate.summary()


def refusal_reasons(sim: QuoteSimulation) -> list[str]:
    """Why no honest price exists, and what would make one possible."""
    req = sim.request
    if not sim.routing.certificate.certified:
        return certificate_advice(sim.routing.certificate, sim.routing.sample, req)
    meet_goal = [p for p in sim.candidates if p.probability_goal_met >= req.risk_level]
    if not meet_goal:
        best = max(sim.candidates, key=lambda p: p.probability_goal_met)
        return [
            f"no threshold and batch size meet the label-error goal ({req.max_label_error:.1%} of the pool) "
            f"with probability {req.risk_level:.0%}: at best {best.probability_goal_met:.0%} (threshold "
            f"{best.threshold:.4g}, batches of {best.batch_size:,}), so promising it would be a guess",
            "what would help: a higher audit_rate (audits fix wrong auto-accepted labels), a looser "
            "max_label_error, a lower risk_level, or more pilot rounds and calibration items (the forecast "
            "of how the model's errors shrink is then narrower)",
        ]
    sizes = ", ".join(f"{b:,}" for b in sorted({p.batch_size for p in meet_goal}))
    o = min(meet_goal, key=lambda p: p.batch_size).outcome
    volumes = (
        f"with batches of {o.settings.batch_size:,}, median {np.median(o.corrections):,.0f} corrections, "
        f"{np.median(o.fresh_labels):,.0f} items labeled from scratch, "
        f"{np.median(o.auto_accepted):,.0f} auto-accepted"
    )
    return [
        f"with batches of {sizes} the goal is met, but in more than {1 - req.risk_level:.0%} of simulated "
        "outcomes the work yields too few corrections to bill: no price per correction covers the reviews, "
        f"the first batch labeled from scratch and the rounds' overhead ({volumes})",
        "what would help: a price per routed item or a fixed fee instead of correction-only pricing, a "
        "fixed price_per_audit that carries part of the cost, smaller batch_sizes, or a lower risk_level",
    ]


def certificate_advice(
    certificate: ThresholdCertificate, sample: CalibrationSample, req: QuoteRequest
) -> list[str]:
    """Why the pilot's calibration sample certifies no threshold, and what would."""
    needed = calibration_items_needed(certificate, sample)
    n = certificate.n_calibration
    out = [f"no auto-accept threshold can be promised: {certificate.summary()}"]
    if n < certificate.n_needed:
        out.append(
            f"label {certificate.n_needed - n} more random held-out items for the calibration sample (model "
            f"confidence and whether it was right; {certificate.n_needed} in all) and ask again"
        )
    elif needed is not None:
        out.append(
            f"at the error rates the sample shows, about {needed:,} calibration items ({needed - n:,} more) "
            "could certify the goal; a better model (more pilot labels) needs fewer"
        )
    else:
        out.append(
            "the model's most confident predictions are wrong too often for more calibration items to help: "
            "a better model (more pilot labels) or a looser goal"
        )
    loosest = certifiable_goal(sample, req.max_label_error, req.delta)
    if loosest is not None:
        out.append(
            f"with this sample, a label-error goal of {loosest:.1%} of the pool can be certified "
            f"(asked: {req.max_label_error:.1%})"
        )
    return out


def calibration_items_needed(certificate: ThresholdCertificate, sample: CalibrationSample) -> int | None:
    """Calibration items that could certify the goal, when the pilot's sample certifies nothing.

    A sample smaller than the zero-error minimum needs that minimum. Otherwise the scan failed at a threshold
    whose accepted items hold errors: the fewest items at which the same share of accepted-and-wrong items
    would pass its test (None when that share is at or above the goal: more items would not help there).
    """
    n = certificate.n_calibration
    if n < certificate.n_needed:
        return certificate.n_needed
    if certificate.next_threshold is None:
        return None
    confidence = np.asarray(sample.confidence, dtype=float)
    correct = np.asarray(sample.correct, dtype=bool)
    share = float(np.count_nonzero((confidence >= certificate.next_threshold) & ~correct)) / n
    if share >= certificate.max_risk:
        return None

    def passes(n_items: int) -> bool:
        errors = math.ceil(share * n_items)
        return float(clopper_pearson_upper(errors, n_items, certificate.delta)) <= certificate.max_risk

    low, high = n, 2 * n
    while not passes(high):
        low, high = high, 2 * high
        if high > MAX_SUGGESTED_CALIBRATION:
            return None
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if passes(mid) else (mid, high)
    return high


def certifiable_goal(sample: CalibrationSample, max_label_error: float, delta: float) -> float | None:
    """The tightest label-error goal (``max_label_error`` times one of :data:`GOAL_FACTORS`) that ``sample``
    certifies; None when none up to :data:`MAX_SUGGESTED_GOAL` does."""
    for factor in GOAL_FACTORS:
        goal = max_label_error * factor
        if goal > MAX_SUGGESTED_GOAL:
            return None
        if certify_threshold(sample.confidence, sample.correct, goal, delta, risk="pool").certified:
            return goal
    return None
