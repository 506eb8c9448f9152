"""How much a request will simulate, at most: the planner's own count of the settings its search tries
(:func:`plan_size`, :func:`quote_size`, :func:`comparison_size`, :func:`actuals_size`), so that a server can
refuse a request before computing anything (``annoplan.api.admission``) and the count follows the search.

Time and memory grow with draws x simulated rounds: :attr:`SimulationSize.work` counts them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from annoplan.planner.comparisons import StoredQuote, scenario_plan
from annoplan.planner.plans import routes_hybrid, search_space, searched_batch_sizes, threshold_count
from annoplan.planner.quotes import quote_batch_sizes
from annoplan.planner.schemas.comparisons import (
    ComparisonRequest,
    QuotePricesOffer,
    RateCardOffer,
    StoredQuoteOffer,
)
from annoplan.planner.schemas.plans import LabeledDatasetGoal, PlanRequest, PlanResponse
from annoplan.planner.schemas.quotes import QuoteRequest
from annoplan.planner.schemas.tracking import ActualsRequest
from annoplan.planner.tracking import replan_request
from annoplan.simulators.montecarlo import MAX_ROUNDS

__all__ = [
    "ROUND_OVERHEAD_DRAWS",
    "SimulationSize",
    "actuals_size",
    "comparison_size",
    "plan_size",
    "quote_size",
    "rounds_bound",
]

#: fixed cost of one simulated round, in draws' worth of work (numpy call overhead), fitted on the bundled
#: example and on pools run in batches of one item. One core does a million work units in 0.07 s (2,000
#: draws) to 0.14 s (20,000 draws); peak memory is up to about 60 bytes per work unit.
ROUND_OVERHEAD_DRAWS = 1000


@dataclass(frozen=True)
class SimulationSize:
    """Upper bound of what a request simulates: ``simulations`` settings, ``rounds`` rounds in all."""

    simulations: int
    rounds: int
    draws: int

    @property
    def work(self) -> int:
        """Work units: simulated rounds x (draws + the fixed cost of a round)."""
        return self.rounds * (self.draws + ROUND_OVERHEAD_DRAWS)


def rounds_bound(pool_size: int, batch_size: int, stop_at_labels: float) -> int:
    """Most rounds one simulation runs: every round takes ``batch_size`` items until the pool or the stop."""
    items = min(float(pool_size), stop_at_labels)
    return min(MAX_ROUNDS, max(1, math.ceil(items / batch_size)))


def plan_size(req: PlanRequest) -> SimulationSize:
    """What :func:`annoplan.make_plan` will simulate for ``req`` (at most): every setting of
    :func:`~annoplan.planner.plans.search_space` at every batch size it may search, hybrid routing at every
    threshold it may try."""
    batch_sizes = searched_batch_sizes(req)
    valued = req.value is not None
    simulations = rounds = 0
    for strategy in req.strategies:
        if strategy == "hybrid":
            if not routes_hybrid(req):
                continue  # the planner skips hybrid here (and says so)
            assert isinstance(req.goal, LabeledDatasetGoal)
            thresholds = threshold_count(req.pilot, req.goal.max_label_error, req.delta)
            simulations += thresholds * len(batch_sizes)
            rounds += thresholds * sum(rounds_bound(req.pool_size, b, math.inf) for b in batch_sizes)
            continue
        for settings, _, stops in search_space(strategy, req, batch_sizes, None, valued):
            simulations += len(stops)
            rounds += sum(rounds_bound(req.pool_size, settings.batch_size, stop) for stop in stops)
    return SimulationSize(simulations=simulations, rounds=rounds, draws=req.draws)


def quote_size(req: QuoteRequest) -> SimulationSize:
    """What :func:`planner.make_quote` will simulate for ``req`` (at most): hybrid routing at every
    candidate threshold and batch size."""
    if not req.pilot.calibration:
        return SimulationSize(simulations=0, rounds=0, draws=req.draws)  # the planner refuses it
    batch_sizes = quote_batch_sizes(req)
    thresholds = threshold_count(req.pilot, req.max_label_error, req.delta)
    rounds = thresholds * sum(rounds_bound(req.pool_size, b, math.inf) for b in batch_sizes)
    return SimulationSize(simulations=thresholds * len(batch_sizes), rounds=rounds, draws=req.draws)


def comparison_size(req: ComparisonRequest, quotes: Mapping[str, StoredQuote]) -> SimulationSize:
    """What :func:`planner.comparisons.compare_offers` will simulate for ``req`` (at most): the plan's search
    once for every strategy but hybrid, hybrid's search once per audit rate searched (rate cards, inline
    quotes without settings), and one hybrid run per quote at its promised batch size."""
    scenario = scenario_plan(req)
    others = plan_size(
        scenario.model_copy(update={"strategies": [s for s in req.strategies if s != "hybrid"]})
    )
    hybrid = plan_size(scenario.model_copy(update={"strategies": ["hybrid"]}))
    searched: set[float] = set()
    fixed: list[int] = []
    for offer in req.offers:
        if isinstance(offer, RateCardOffer) and "hybrid" in req.strategies:
            searched.add(offer.costs.audit_rate)
        elif isinstance(offer, QuotePricesOffer):
            if offer.batch_size is None:
                searched.add(offer.audit_rate)
            else:
                fixed.append(offer.batch_size)
        elif isinstance(offer, StoredQuoteOffer) and offer.quote_id in quotes:
            fixed.append(quotes[offer.quote_id].quote.batch_size or 1)
    return SimulationSize(
        simulations=others.simulations + len(searched) * hybrid.simulations + len(fixed),
        rounds=others.rounds
        + len(searched) * hybrid.rounds
        + sum(rounds_bound(req.pool_size, b, math.inf) for b in fixed),
        draws=req.draws,
    )


def actuals_size(req: PlanRequest, plan: PlanResponse, actuals: ActualsRequest) -> SimulationSize:
    """What tracking a plan simulates (at most): the plan's recommended setting again (its burn-up band)
    and the re-plan of the items left."""
    rec = plan.recommendation
    band = plan_size(req.model_copy(update={"strategies": [rec.strategy], "batch_sizes": [rec.batch_size]}))
    replan = replan_request(req, actuals)
    rest = plan_size(replan) if replan is not None else SimulationSize(0, 0, req.draws)
    return SimulationSize(
        simulations=band.simulations + rest.simulations, rounds=band.rounds + rest.rounds, draws=req.draws
    )
