"""``compare_offers``: several vendors' offers on one scenario, simulated on common random numbers.

Every offer is priced on the same simulated futures: one set of learning-curve draws, one active-learning
efficiency draw, one set of coverage and risk draws per hybrid threshold and one sampling-noise seed, drawn in
the order :func:`planner.plans.make_plan` draws them (a comparison of one rate card recommends what its plan
recommends). The work a setting does (labels, reviews, corrections, audits, auto-accepted items, rounds) does
not depend on the prices paid for it, except hybrid's lot audits on the ``audit_rate`` promised: so each
setting is simulated once per audit rate and every offer's cost is its prices applied to that work
(:meth:`simulators.costs.RateCard.total`, exact since cost is linear in the prices). Differences between
offers are then differences of price, not of luck, and the same request answers the same.

- A rate card (``costs``) is planned as a plan is: every strategy, batch size, threshold and stop point
  searched, the cheapest setting meeting the goal with ``probability`` kept (else the likeliest to meet it).
- A correction-only quote (stored, by ``quote_id``, or its prices inline) is hybrid routing at the quote's
  threshold, batch size and audit rate; the client's bill per draw is ``price_per_correction x corrections +
  price_per_audit x audits``, at most ``price_cap``. Inline prices without settings take the hybrid setting
  cheapest for the client under them.

Per draw the cheapest offer is found (ties shared equally), so ``probability_cheapest`` sums to 1 over the
offers; an offer's expected regret is the mean of its cost minus the draw's cheapest. The recommendation is
the offer with the lowest expected cost among those meeting the goal with ``probability`` (the lowest expected
cost is also the lowest expected regret: both subtract the same per-draw minimum).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.money import money
from annoplan.planner.plans import (
    HybridRouting,
    choose,
    cost_margin,
    default_batch_sizes,
    hybrid_routing,
    money_quantiles,
    quantiles,
    routes_hybrid,
    search_space,
    stop_point,
)
from annoplan.planner.policy import start_rule
from annoplan.planner.scenario import Goal, Scenario
from annoplan.planner.schemas.comparisons import (
    ComparisonRecommendation,
    ComparisonRequest,
    ComparisonResponse,
    FxRates,
    OfferForecast,
    QuotePricesOffer,
    QuoteUsed,
    RateCardOffer,
    StoredQuoteOffer,
)
from annoplan.planner.schemas.plans import (
    Costs,
    LabeledDatasetGoal,
    PlanRequest,
    StrategySettings,
)
from annoplan.planner.schemas.quotes import QuoteResponse
from annoplan.planner.thresholds import CheckedSamples, fit_selection_curves
from annoplan.planner.validation import parse_request
from annoplan.simulators.costs import RateCard
from annoplan.simulators.montecarlo import Outcome, Routing, RunSettings, simulate_stops

#: relative tolerance under which two offers' costs in one draw are a tie (shared cheapest)
TIE_TOLERANCE = 1e-9
#: rates older than this many days before the comparison get a warning
STALE_FX_DAYS = 31


@dataclass(frozen=True)
class StoredQuote:
    """A stored quote as the caller found it for a ``quote_id`` offer: the quote, its version and the id of
    a newer version when one exists (the planner reads no store itself)."""

    quote: QuoteResponse
    version: int = 1
    superseded_by: str | None = None


@dataclass(frozen=True)
class PricedOffer:
    """An offer resolved to what the simulation needs: prices in the comparison's currency.

    ``card`` prices the work (a quote's: corrections and audits only); ``fixed`` is a quote's promised
    (threshold, batch size), None where settings are searched; ``cap`` the bill's cap (quotes).
    """

    index: int
    vendor: str
    kind: str  #: "rate_card" or "quote"
    currency: str
    fx_rate: float
    card: RateCard
    fixed: tuple[float, int] | None
    cap: float | None
    quote: QuoteUsed | None

    @property
    def field(self) -> str:
        return f"offers[{self.index}]"


@dataclass(frozen=True)
class Job:
    """One simulation: a strategy at fixed settings (and stop points), and the offers it prices."""

    strategy: str
    settings: RunSettings
    routing: Routing | None
    stops: tuple[float, ...]
    audit_rate: float
    offers: tuple[int, ...]


def scenario_plan(req: ComparisonRequest) -> PlanRequest:
    """The comparison's scenario as a plan request (no prices: each offer brings its own), so that the plan's
    search space and start rule apply unchanged."""
    return PlanRequest(
        name=req.name,
        pool_size=req.pool_size,
        goal=req.goal,
        pilot=req.pilot,
        costs=Costs(label=0.0, review=0.0, correction=0.0),
        strategies=req.strategies,
        batch_sizes=req.batch_sizes,
        schedule=req.schedule,
        pilot_labels_kept=req.pilot_labels_kept,
        delta=req.delta,
        probability=req.probability,
        draws=req.draws,
        seed=req.seed,
    )


def offer_currency(offer: Any, quotes: Mapping[str, StoredQuote]) -> str:
    """The currency an offer is priced in."""
    if isinstance(offer, RateCardOffer):
        return offer.costs.currency
    if isinstance(offer, StoredQuoteOffer):
        return stored(offer, quotes, 0).quote.currency
    return str(offer.currency)


def stored(offer: StoredQuoteOffer, quotes: Mapping[str, StoredQuote], index: int) -> StoredQuote:
    """The stored quote an offer names; an error naming ``offers[i].quote_id`` when there is none."""
    found = quotes.get(offer.quote_id)
    if found is None:
        raise InvalidInputError(
            f"offers[{index}].quote_id",
            f"no quote with id {offer.quote_id!r} belongs to this API key: create it with POST /v1/quotes, "
            "or give the quote's prices inline (price_per_correction, price_per_audit, price_cap)",
        )
    return found


def exchange_rates(req: ComparisonRequest, quotes: Mapping[str, StoredQuote]) -> tuple[str, dict[str, float]]:
    """The comparison's currency and, per offer currency, the units of it one unit buys.

    Raises
    ------
    InvalidInputError
        naming ``fx`` when the offers' currencies differ and no rates are given, ``fx.rates`` when a rate is
        missing.
    """
    for i, offer in enumerate(req.offers):
        if isinstance(offer, StoredQuoteOffer):
            stored(offer, quotes, i)
    currencies = [offer_currency(offer, quotes) for offer in req.offers]
    if req.fx is None:
        if len(set(currencies)) > 1:
            listed = "; ".join(
                f"{code}: {', '.join(f'offers[{i}]' for i, c in enumerate(currencies) if c == code)}"
                for code in dict.fromkeys(currencies)
            )
            raise InvalidInputError(
                "fx",
                f"the offers are in different currencies ({listed}): give fx with the currency to compare "
                "in, a rate for each other currency (units of it per unit of the offer's), their source and "
                "date",
            )
        return currencies[0], {currencies[0]: 1.0}
    rates = {req.fx.currency: 1.0, **req.fx.rates}
    missing = [code for code in dict.fromkeys(currencies) if code not in rates]
    if missing:
        raise InvalidInputError(
            "fx.rates",
            f"no rate for {', '.join(missing)}: add "
            + ", ".join(f"fx.rates.{code} (units of {req.fx.currency} per {code})" for code in missing),
        )
    return req.fx.currency, rates


def resolve_offers(
    req: ComparisonRequest, quotes: Mapping[str, StoredQuote], rates: Mapping[str, float]
) -> list[PricedOffer]:
    """Every offer as prices in the comparison's currency (stored quotes read from ``quotes``)."""
    quote_offers = [i for i, o in enumerate(req.offers) if not isinstance(o, RateCardOffer)]
    if quote_offers and not isinstance(req.goal, LabeledDatasetGoal):
        raise InvalidInputError(
            f"offers[{quote_offers[0]}]",
            "a correction-only quote prices hybrid routing to a labeled dataset: give a labeled_dataset "
            "goal, or the vendor's rate card (costs) for a model_metric goal",
        )
    if quote_offers and not req.pilot.calibration:
        raise InvalidInputError(
            "pilot.calibration",
            "quotes price hybrid routing, which needs at least one calibration sample in the pilot",
        )
    out = []
    for i, offer in enumerate(req.offers):
        if isinstance(offer, RateCardOffer):
            rate = rates[offer.costs.currency]
            prices = offer.costs.model_dump(exclude={"currency", "audit_rate"})
            card = RateCard(audit_rate=offer.costs.audit_rate, **{k: v * rate for k, v in prices.items()})
            out.append(
                PricedOffer(i, offer.vendor, "rate_card", offer.costs.currency, rate, card, None, None, None)
            )
            continue
        if isinstance(offer, StoredQuoteOffer):
            found = stored(offer, quotes, i)
            q = found.quote
            if q.status != "quoted" or q.price_per_correction is None or q.batch_size is None:
                raise InvalidInputError(
                    f"offers[{i}].quote_id",
                    f"quote {q.id} has no prices (status {q.status}): ask the vendor for a new quote, or "
                    "leave this offer out",
                )
            assert q.confidence_threshold is not None and q.price_per_audit is not None
            used = QuoteUsed(
                id=q.id, version=found.version, superseded_by=found.superseded_by, valid_until=q.valid_until
            )
            priced = QuotePricesOffer(
                vendor=offer.vendor,
                currency=q.currency,
                price_per_correction=float(q.price_per_correction),
                price_per_audit=float(q.price_per_audit),
                price_cap=float(q.price_cap) if q.price_cap is not None else None,
                audit_rate=q.audit_rate,
                confidence_threshold=q.confidence_threshold,
                batch_size=q.batch_size,
            )
        else:
            used, priced = None, offer
        rate = rates[priced.currency]
        card = RateCard(
            label=0.0,
            review=0.0,
            correction=priced.price_per_correction * rate,
            audit=priced.price_per_audit * rate,
            audit_rate=priced.audit_rate,
            platform_fee=0.0,
            round_overhead=0.0,
        )
        fixed = None
        if (priced.confidence_threshold is None) != (priced.batch_size is None):
            missing = "batch_size" if priced.batch_size is None else "confidence_threshold"
            raise InvalidInputError(
                f"offers[{i}].{missing}",
                "give the quote's confidence_threshold and batch_size together, or neither (then the hybrid "
                "setting cheapest for the client under these prices is assumed)",
            )
        if priced.confidence_threshold is not None and priced.batch_size is not None:
            fixed = (priced.confidence_threshold, priced.batch_size)
        cap = priced.price_cap * rate if priced.price_cap is not None else None
        out.append(PricedOffer(i, offer.vendor, "quote", priced.currency, rate, card, fixed, cap, used))
    return out


def reprice(outcome: Outcome, offer: PricedOffer) -> Outcome:
    """``outcome``'s work at ``offer``'s prices (a quote's bill capped at its ``price_cap``)."""
    cost = offer.card.total(outcome)
    if offer.cap is not None:
        cost = np.minimum(cost, offer.cap)
    return replace(outcome, cost=np.asarray(cost, dtype=float), costs=offer.card)


def plan_jobs(
    req: ComparisonRequest,
    offers: Sequence[PricedOffer],
    hybrid: HybridRouting | None,
    extra_routing: Mapping[float, Routing],
) -> list[Job]:
    """Every simulation the comparison runs, each once: rate cards share every setting but hybrid's, which
    they share by audit rate; quotes run hybrid at their promised setting (or search hybrid's)."""
    scenario = scenario_plan(req)
    batch_sizes = req.batch_sizes or default_batch_sizes(req.pool_size)
    jobs: dict[tuple[Any, ...], Job] = {}

    def add(
        strategy: str,
        settings: RunSettings,
        routing: Routing | None,
        stops: Sequence[float],
        rate: float,
        index: int,
    ) -> None:
        audit_rate = rate if strategy == "hybrid" else 0.0
        key = (strategy, settings, tuple(stops), audit_rate)
        job = jobs.get(key)
        offered = (*job.offers, index) if job is not None else (index,)
        jobs[key] = Job(strategy, settings, routing, tuple(stops), audit_rate, offered)

    cards = [o for o in offers if o.kind == "rate_card"]
    for strategy in rate_card_strategies(req, hybrid):
        for settings, routing, stops in search_space(strategy, scenario, batch_sizes, hybrid, False):
            for offer in cards:
                add(strategy, settings, routing, stops, offer.card.audit_rate, offer.index)
    for offer in offers:
        if offer.kind != "quote":
            continue
        if offer.fixed is not None:
            threshold, batch = offer.fixed
            options = {t: r for t, r in hybrid.options} if hybrid is not None else {}
            routing = options.get(threshold, extra_routing.get(threshold))
            settings = RunSettings(
                batch_size=batch,
                labels_per_day=req.schedule.labels_per_day,
                turnaround_days=req.schedule.turnaround_days,
                delta=req.delta,
                confidence_threshold=threshold,
            )
            add("hybrid", settings, routing, [np.inf], offer.card.audit_rate, offer.index)
            continue
        if hybrid is None or not hybrid.options:
            raise InvalidInputError(
                f"{offer.field}.confidence_threshold",
                "no threshold certifies the goal on the pilot's calibration sample: give the threshold and "
                "batch size the vendor commits to",
            )
        for settings, routing, stops in search_space("hybrid", scenario, batch_sizes, hybrid, False):
            add("hybrid", settings, routing, stops, offer.card.audit_rate, offer.index)
    return list(jobs.values())


def rate_card_strategies(req: ComparisonRequest, hybrid: HybridRouting | None) -> list[str]:
    """The strategies a rate card is planned with: as in plans, hybrid only with a labeled-dataset goal and
    calibration samples, pre-labeling in its place when no threshold certifies."""
    strategies: list[str] = list(req.strategies)
    if "hybrid" in strategies and (hybrid is None or hybrid.threshold is None):
        strategies.remove("hybrid")
        if hybrid is not None and "prelabel" not in strategies:
            strategies.append("prelabel")
    return strategies


def simulate_jobs(
    jobs: Sequence[Job],
    offers: Sequence[PricedOffer],
    simulate: Any,
    probability: float,
) -> dict[int, Outcome]:
    """Run every job once and keep, per offer, the best outcome at its prices (:func:`planner.plans.choose`:
    the lowest mean cost meeting the goal with ``probability``, else the likeliest to)."""
    best: dict[int, Outcome] = {}
    for job in jobs:
        for outcome in simulate(job):
            for index in job.offers:
                priced = reprice(outcome, offers[index])
                chosen = choose([o for o in (best.get(index), priced) if o is not None], probability)
                assert chosen is not None
                best[index] = chosen
    return best


def cheapest_shares(costs: np.ndarray) -> np.ndarray:
    """Per offer (rows), the share of draws (columns) where it costs least; ties are shared equally, so the
    shares sum to 1."""
    low = costs.min(axis=0)
    tied = costs <= low + TIE_TOLERANCE * np.maximum(1.0, np.abs(low))
    return np.asarray((tied / tied.sum(axis=0)).mean(axis=1))


def compare_offers(
    request: ComparisonRequest | dict[str, Any],
    quotes: Mapping[str, StoredQuote] | None = None,
    today: dt.date | None = None,
) -> ComparisonResponse:
    """Compare vendors' offers on one scenario, every offer simulated on the same draws.

    Parameters
    ----------
    request : ComparisonRequest or dict
        SPEC 4.1 comparison: the scenario (``pool_size``, ``goal``, ``pilot``, optional ``schedule``,
        ``strategies``, ``batch_sizes``, ``draws``, ``seed``) and ``offers``: rate cards (``costs``), stored
        quotes (``quote_id``) or quote prices inline; ``fx`` when their currencies differ.
    quotes : mapping of str to StoredQuote, optional
        The stored quotes the ``quote_id`` offers name, by id (the caller reads its store).
    today : date, optional
        The day the comparison is made (expired quotes and stale rates are warned of); default today (UTC).

    Returns
    -------
    ComparisonResponse
        Per offer (in the request's order) the best strategy and settings under its prices, cost quantiles
        in one currency, days, label error, the probability of meeting the goal, ``probability_cheapest``
        (summing to 1) and the expected regret; a recommendation with reasons.

    Raises
    ------
    InvalidInputError
        naming the offending field (``fx`` when currencies differ without rates, ``offers[i].quote_id`` for
        an unknown quote).
    """
    req = parse_request(ComparisonRequest, request)
    quotes = quotes or {}
    today = today or dt.datetime.now(dt.UTC).date()
    currency, rates = exchange_rates(req, quotes)
    offers = resolve_offers(req, quotes, rates)

    plan_request = scenario_plan(req)
    scenario = Scenario.from_request(plan_request)
    goal = Goal.of(req.goal, req.pilot)
    rng, curve, efficiency = scenario.rng, scenario.curve, scenario.efficiency
    needs_hybrid = "hybrid" in req.strategies or any(o.kind == "quote" for o in offers)
    hybrid = None
    warnings: list[str] = []
    if needs_hybrid and routes_hybrid(plan_request) and goal.max_label_error is not None:
        hybrid = hybrid_routing(req.pilot, goal.max_label_error, req.delta, req.draws, rng)
        warnings.extend(hybrid.warnings)
    elif "hybrid" in req.strategies:
        warnings.append(
            "hybrid was not simulated: it needs a labeled_dataset goal and calibration samples in the pilot"
        )
    noise_seed = int(rng.integers(2**63))  # every simulated setting sees the same sampling noise
    extra_routing = quote_routing(req, offers, hybrid)

    def simulate(job: Job) -> Iterator[Outcome]:
        card = RateCard(label=0.0, review=0.0, correction=0.0, audit=0.0, audit_rate=job.audit_rate)
        yield from simulate_stops(
            job.strategy,
            curve,
            card,
            req.pool_size,
            job.settings,
            job.stops,
            efficiency=efficiency.values,
            routing=job.routing,
            labels_before=scenario.labels_before,
            noise=np.random.default_rng(noise_seed),
            **goal.arguments(),
        )

    jobs = plan_jobs(req, offers, hybrid, extra_routing)
    best = simulate_jobs(jobs, offers, simulate, req.probability)
    for offer in offers:
        if offer.index not in best:
            raise InvalidInputError(
                "strategies",
                f"nothing could be simulated for {offer.vendor}: {' '.join(warnings)}; add manual, "
                "prelabel or active_learning",
            )
    chosen = [best[o.index] for o in offers]
    costs = np.vstack([o.cost for o in chosen])
    shares = cheapest_shares(costs)
    regret = (costs - costs.min(axis=0)).mean(axis=1)
    forecasts = [
        offer_forecast(offer, o, currency, float(share), float(r), req)
        for offer, o, share, r in zip(offers, chosen, shares, regret, strict=True)
    ]
    pick = choose(chosen, req.probability)
    assert pick is not None
    picked = next(i for i, o in enumerate(chosen) if o is pick)
    warnings.extend(offer_warnings(req, offers, quotes, today))
    return ComparisonResponse(
        id=uuid.uuid4().hex,
        name=req.name,
        currency=currency,
        offers=forecasts,
        recommendation=ComparisonRecommendation(
            vendor=offers[picked].vendor,
            strategy=pick.strategy,
            reasons=recommendation_reasons(picked, forecasts, chosen, req, currency),
        ),
        fx=req.fx,
        assumptions=assumptions(req, hybrid, efficiency.source, scenario.labels_before, len(jobs)),
        warnings=warnings,
    )


def quote_routing(
    req: ComparisonRequest, offers: Sequence[PricedOffer], hybrid: HybridRouting | None
) -> dict[float, Routing]:
    """Coverage and risk draws at quotes' promised thresholds that the hybrid search does not cover (one
    generator of their own, seeded from the request's seed, so the shared draws stay as plans draw them)."""
    searched = {t for t, _ in hybrid.options} if hybrid is not None else set()
    wanted = sorted({o.fixed[0] for o in offers if o.fixed is not None} - searched)
    out: dict[float, Routing] = {}
    if not wanted:
        return out
    samples = CheckedSamples.check(req.pilot.calibration, "pilot.calibration")
    for threshold in wanted:
        selection = fit_selection_curves(samples, threshold)
        out[threshold] = selection.draws(req.draws, np.random.default_rng([req.seed, 1]))
    return out


def offer_forecast(
    offer: PricedOffer, o: Outcome, currency: str, share: float, regret: float, req: ComparisonRequest
) -> OfferForecast:
    labeled_dataset = isinstance(req.goal, LabeledDatasetGoal)
    binds = None
    if offer.cap is not None:
        uncapped = replace(offer, cap=None)
        binds = float(np.mean(reprice(o, uncapped).cost > offer.cap))
    return OfferForecast(
        vendor=offer.vendor,
        kind="rate_card" if offer.kind == "rate_card" else "quote",
        currency=offer.currency,
        fx_rate=offer.fx_rate,
        quote=offer.quote,
        strategy=o.strategy,
        settings=StrategySettings(
            confidence_threshold=o.settings.confidence_threshold,
            batch_size=o.settings.batch_size,
            stop_at_labels=stop_point(o, req.probability, labeled_dataset),
        ),
        # the conformal margin is calibrated on a rate card's hybrid cost; a quote's bill is its prices times
        # volumes, bounded by its cap
        cost=money_quantiles(o.cost, currency, cost_margin(o.strategy) if offer.kind == "rate_card" else 0.0),
        price_cap=money(offer.cap, currency) if offer.cap is not None else None,
        probability_cap_binds=binds,
        days=quantiles(o.days),
        label_error=quantiles(o.label_error),
        probability_goal_met=float(o.goal_met.mean()),
        probability_cheapest=share,
        expected_regret=money(regret, currency),
    )


def recommendation_reasons(
    picked: int,
    forecasts: Sequence[OfferForecast],
    chosen: Sequence[Outcome],
    req: ComparisonRequest,
    currency: str,
) -> list[str]:
    """Plain sentences a buyer can forward."""
    f, o = forecasts[picked], chosen[picked]
    p_goal = float(o.goal_met.mean())
    out = []
    if p_goal < req.probability:
        out.append(
            f"no offer meets the goal with probability {req.probability:.0%}: {f.vendor} comes closest "
            f"({p_goal:.0%}); a looser goal or more pilot data would change that"
        )
    else:
        out.append(
            f"{f.vendor} has the lowest expected cost, {money(float(np.mean(o.cost)), currency)} {currency} "
            f"({f.strategy}), and meets the goal in {p_goal:.0%} of scenarios"
        )
    out.append(
        f"{f.vendor} is cheapest in {f.probability_cheapest:.0%} of the {req.draws:,} simulated scenarios "
        "(every offer priced on the same ones)"
    )
    others = [(i, g) for i, g in enumerate(forecasts) if i != picked]
    if others:
        at, runner = min(others, key=lambda item: float(np.mean(chosen[item[0]].cost)))
        mean_pick, mean_runner = float(np.mean(o.cost)), float(np.mean(chosen[at].cost))
        if mean_runner > 0:
            out.append(
                f"its expected cost is {abs(1 - mean_pick / mean_runner):.0%} "
                f"{'below' if mean_pick <= mean_runner else 'above'} the next offer's ({runner.vendor}, "
                f"{money(mean_runner, currency)} {currency})"
            )
        lowest_p90 = min(forecasts, key=lambda g: float(g.cost.p90))
        if lowest_p90.vendor != f.vendor and float(lowest_p90.cost.p90) > 0:
            above = float(f.cost.p90) / float(lowest_p90.cost.p90) - 1
            out.append(
                f"its P90 ({f.cost.p90} {currency}) is {above:.0%} above {lowest_p90.vendor}'s "
                f"({lowest_p90.cost.p90} {currency}): {lowest_p90.vendor} carries less risk of a high bill"
            )
    out.append(
        f"picking {f.vendor} costs on average {f.expected_regret} {currency} more than the cheapest offer of "
        "each scenario would (its expected regret)"
    )
    for g in forecasts:
        if g.price_cap is not None:
            out.append(f"{g.vendor}'s price cap bounds your worst case at {g.price_cap} {currency}")
    short = [g for g in forecasts if g.probability_goal_met < req.probability and g.vendor != f.vendor]
    for g in short:
        out.append(
            f"{g.vendor} meets the goal in only {g.probability_goal_met:.0%} of scenarios "
            f"(asked: {req.probability:.0%})"
        )
    if req.fx is not None:
        out.append(f"amounts in {currency} at the rates of {req.fx.source}, {req.fx.date.isoformat()}")
    return out


def offer_warnings(
    req: ComparisonRequest, offers: Sequence[PricedOffer], quotes: Mapping[str, StoredQuote], today: dt.date
) -> list[str]:
    """Stale rates, superseded or expired quotes, quotes made for another goal or pool."""
    out = []
    if req.fx is not None and (today - req.fx.date).days > STALE_FX_DAYS:
        out.append(
            f"the fx rates are dated {req.fx.date.isoformat()}, {(today - req.fx.date).days} days ago: rates "
            "that old may rank the offers differently than today's"
        )
    for offer in offers:
        if offer.quote is None:
            continue
        q = quotes[offer.quote.id].quote
        if offer.quote.superseded_by is not None:
            out.append(
                f"{offer.vendor}: quote {q.id} (version {offer.quote.version}) is superseded by quote "
                f"{offer.quote.superseded_by}; compare the newer version unless this one was meant"
            )
        if q.valid_until < today:
            out.append(f"{offer.vendor}: quote {q.id} expired on {q.valid_until.isoformat()}")
        if isinstance(req.goal, LabeledDatasetGoal) and q.max_label_error != req.goal.max_label_error:
            out.append(
                f"{offer.vendor}: quote {q.id} was made for a label error of {q.max_label_error:.2%}, this "
                f"comparison's goal is {req.goal.max_label_error:.2%}: its prices may not hold for this goal"
            )
    return out


def assumptions(
    req: ComparisonRequest,
    hybrid: HybridRouting | None,
    efficiency: str,
    labels_before: int,
    simulations: int,
) -> dict[str, Any]:
    """The settings and rules a comparison rests on, in words."""
    out: dict[str, Any] = {
        "draws": req.draws,
        "seed": req.seed,
        "probability": req.probability,
        "batch_sizes": req.batch_sizes or default_batch_sizes(req.pool_size),
        "labels_per_day": req.schedule.labels_per_day,
        "turnaround_days": req.schedule.turnaround_days,
        "common_random_numbers": (
            "every offer is priced on the same simulated futures: the same learning-curve, efficiency, "
            "coverage and risk draws and the same sampling noise; the work of a setting does not depend on "
            f"its prices, so each setting was simulated once per audit rate ({simulations} simulations) and "
            "each offer's prices applied to it"
        ),
        "rate_cards": (
            "planned as plans are: every strategy and setting searched, the cheapest meeting the goal kept"
        ),
        "quotes": (
            "hybrid routing at the quote's threshold, batch size and audit rate; the client pays "
            "price_per_correction x corrections + price_per_audit x audits, at most price_cap"
        ),
        "probability_cheapest": "share of draws in which the offer costs least (ties shared equally)",
        "expected_regret": "mean over draws of the offer's cost minus the cheapest offer's cost in that draw",
        "fx": (
            f"amounts converted to {req.fx.currency} at {req.fx.source} rates of {req.fx.date.isoformat()}"
            if req.fx is not None
            else "every offer in one currency: no conversion"
        ),
        "active_learning_efficiency": efficiency,
        "pilot_labels_kept": start_rule(labels_before),
        "human_labels_are_correct": True,
    }
    if hybrid is not None:
        out.update(hybrid.assumptions)
    return out


def fx_summary(fx: FxRates | None) -> str:
    """The rates of a comparison in one line (reports)."""
    if fx is None:
        return "none: every offer in one currency"
    rates = ", ".join(f"1 {code} = {rate:g} {fx.currency}" for code, rate in fx.rates.items())
    return f"{rates} ({fx.source}, {fx.date.isoformat()})"
