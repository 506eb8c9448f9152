"""What the API checks before handing a request to the planner: its size.

A plan simulates every strategy for every setting it searches (batch size, threshold, stop point), round by
round over all draws (a quote: hybrid routing per threshold and batch size); time and memory grow with draws
x simulated rounds. The schema bounds draws and the number of batch sizes but not their product with the
rounds (a pool of millions in batches of one runs each simulation to its round cap), so the API refuses
plans and quotes above ``Settings.max_plan_work`` with a 422 that states the arithmetic, before computing
anything; the planner counts what it will simulate (:mod:`annoplan.planner.sizing`). A curve fit is capped
in its number of targets.
"""

from __future__ import annotations

from collections.abc import Mapping

from annoplan.api.problems import FieldError, ProblemError
from annoplan.planner.comparisons import StoredQuote
from annoplan.planner.schemas.comparisons import ComparisonRequest
from annoplan.planner.schemas.curves import FitRequest
from annoplan.planner.schemas.plans import PlanRequest, PlanResponse
from annoplan.planner.schemas.quotes import QuoteRequest
from annoplan.planner.schemas.tracking import ActualsRequest
from annoplan.planner.sizing import (
    ROUND_OVERHEAD_DRAWS,
    SimulationSize,
    actuals_size,
    comparison_size,
    plan_size,
    quote_size,
)

#: most targets one curve fit answers (labels-to-target is searched per target: about 0.5 ms each)
MAX_FIT_TARGETS = 1_000


def admit_comparison(req: ComparisonRequest, quotes: Mapping[str, StoredQuote], limit: int) -> None:
    """Refuse (422) a comparison that exceeds this server's simulation cap."""
    check_size(comparison_size(req, quotes), limit, "comparison")


def admit_quote(req: QuoteRequest, limit: int) -> None:
    """Refuse (422) a quote that exceeds this server's simulation cap."""
    check_size(quote_size(req), limit, "quote")


def admit_plan(req: PlanRequest, limit: int) -> None:
    """Refuse (422) a plan that exceeds this server's simulation cap."""
    check_size(plan_size(req), limit, "plan")


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
