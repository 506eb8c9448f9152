"""What the API checks before handing a request to the planner: its size.

Size: a plan simulates every strategy for every setting it searches (batch size, threshold, stop point),
round by round over all draws (a quote: hybrid routing per threshold and batch size); time and memory grow
with draws x simulated rounds. The schema bounds draws and the number of batch sizes but not their product
with the rounds (a pool of millions in batches of one runs each simulation to its round cap), so the API
refuses plans and quotes above ``Settings.max_plan_work`` with a 422 that states the arithmetic, before
computing anything. A curve fit is capped in its number of targets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from annoplan.api.problems import FieldError, ProblemError
from annoplan.planner.comparisons import StoredQuote, scenario_plan
from annoplan.planner.plans import default_batch_sizes, search_space, threshold_count
from annoplan.planner.quotes import candidate_batch_sizes
from annoplan.planner.schemas.comparisons import (
    ComparisonRequest,
    QuotePricesOffer,
    RateCardOffer,
    StoredQuoteOffer,
)
from annoplan.planner.schemas.curves import FitRequest
from annoplan.planner.schemas.plans import LabeledDatasetGoal, PlanRequest, PlanResponse
from annoplan.planner.schemas.quotes import QuoteRequest
from annoplan.planner.schemas.tracking import ActualsRequest
from annoplan.planner.tracking import replan_request
from annoplan.simulators.montecarlo import MAX_ROUNDS

#: most targets one curve fit answers (labels-to-target is searched per target: about 0.5 ms each)
MAX_FIT_TARGETS = 1_000
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
    """What :func:`planner.make_plan` will simulate for ``req`` (at most)."""
    batch_sizes = req.batch_sizes or default_batch_sizes(req.pool_size)
    valued = req.value is not None
    simulations = rounds = 0
    for strategy in req.strategies:
        if strategy == "hybrid":
            if not (isinstance(req.goal, LabeledDatasetGoal) and req.pilot.calibration):
                continue  # the planner skips hybrid here (and says so)
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
    certified_labels = max(sample.n_labels for sample in req.pilot.calibration)
    batch_sizes = sorted(set(req.batch_sizes or candidate_batch_sizes(req.pool_size, certified_labels)))
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


def admit_comparison(req: ComparisonRequest, quotes: Mapping[str, StoredQuote], limit: int) -> None:
    """Refuse (422) a comparison that exceeds this server's simulation cap."""
    check_size(comparison_size(req, quotes), limit, "comparison")


def admit_quote(req: QuoteRequest, limit: int) -> None:
    """Refuse (422) a quote that exceeds this server's simulation cap."""
    check_size(quote_size(req), limit, "quote")


def admit_plan(req: PlanRequest, limit: int) -> None:
    """Refuse (422) a plan that exceeds this server's simulation cap."""
    check_size(plan_size(req), limit, "plan")


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


def admit_actuals(req: PlanRequest, plan: PlanResponse, actuals: ActualsRequest, limit: int) -> None:
    """Refuse (422) actuals whose re-plan exceeds this server's simulation cap."""
    check_size(actuals_size(req, plan, actuals), limit, "re-plan")


def check_size(size: SimulationSize, limit: int, what: str) -> None:
    """Refuse (422, naming ``draws`` and ``batch_sizes``) a request whose simulation exceeds ``limit``."""
    if size.work <= limit:
        return
    detail = (
        f"this {what} would simulate up to {size.rounds:,} rounds in {size.simulations:,} simulations x "
        f"({size.draws:,} draws + {ROUND_OVERHEAD_DRAWS:,}) = {size.work:,} work units, more than the "
        f"{limit:,} this server accepts; lower draws, or give fewer or larger batch_sizes"
    )
    message = f"at most {limit:,} work units: simulated rounds x (draws + {ROUND_OVERHEAD_DRAWS:,})"
    errors = [
        FieldError(field=name, location="body", message=message, type="simulation_too_large")
        for name in ("draws", "batch_sizes")
    ]
    raise ProblemError("simulation-too-large", detail, errors=errors)


def admit_fit(req: FitRequest) -> None:
    """Refuse (422, naming ``targets``) a fit with more targets than :data:`MAX_FIT_TARGETS`."""
    if len(req.targets) <= MAX_FIT_TARGETS:
        return
    message = f"at most {MAX_FIT_TARGETS:,} targets per request on this server (got {len(req.targets):,})"
    error = FieldError(field="targets", location="body", message=message, type="too_long")
    raise ProblemError(
        "simulation-too-large", f"targets: {message}; split them over several requests", errors=[error]
    )
