"""``make_plan``: forecast what each labeling strategy costs to reach the goal, and recommend the settings.

The planner draws the inputs of the strategy simulation (learning curves from the pilot, active learning's
label efficiency, coverage and risk at a certified threshold), runs :mod:`simulators.montecarlo` for every
strategy and batch size (and, for active learning on a labeled dataset, every stop point), keeps per
strategy the cheapest settings that meet the goal with the requested probability, and recommends the
cheapest strategy among those.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from planner.fit import QUANTILES, forecast_from_rounds
from planner.money import money
from planner.schemas.common import Quantiles, higher_is_better
from planner.schemas.plans import (
    LabeledDatasetGoal,
    ModelMetricGoal,
    MoneyQuantiles,
    PlanRequest,
    PlanResponse,
    Recommendation,
    ScheduleRow,
    StrategyForecast,
    StrategySettings,
)
from planner.thresholds import calibration_size_needed, certify_threshold, fit_selection_curves
from planner.validation import parse_request
from simulators.costs import RateCard
from simulators.draws import CurveDraws
from simulators.montecarlo import Outcome, RoutingDraws, Settings, median_path, simulate_strategy

#: active learning's label efficiency without data of the user's own: a lognormal prior (median, log-sd),
#: measured by benchmarks/al_efficiency.py on 12 public datasets (pooled median 1.34, log-sd 0.81)
EFFICIENCY_MEDIAN = 1.3
EFFICIENCY_LOG_SD = 0.8
#: batch sizes tried when the request names none, as shares of the pool
BATCH_SHARES = (0.005, 0.01, 0.02, 0.05, 0.1)
#: stop points tried for active learning on a labeled dataset, as shares of the pool
STOP_SHARES = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75)


def default_batch_sizes(pool_size: int) -> list[int]:
    """A spread of batch sizes from 0.5% to 10% of the pool (at least 10 items, at most the pool)."""
    return sorted({int(min(pool_size, max(10, round(pool_size * share)))) for share in BATCH_SHARES})


def quantiles(values: np.ndarray) -> Quantiles:
    p10, p50, p90 = np.quantile(values, QUANTILES)
    return Quantiles(p10=float(p10), p50=float(p50), p90=float(p90))


def money_quantiles(values: np.ndarray, currency: str) -> MoneyQuantiles:
    q = quantiles(values)
    return MoneyQuantiles(
        mean=money(float(np.mean(values)), currency),
        p10=money(q.p10, currency),
        p50=money(q.p50, currency),
        p90=money(q.p90, currency),
    )


def stop_point(outcome: Outcome, probability: float, labeled_dataset: bool) -> int | None:
    """Human labels after which work stops; for a metric goal, the budget meeting it with ``probability``."""
    if labeled_dataset:
        if np.isfinite(outcome.settings.stop_at_labels):
            return int(outcome.settings.stop_at_labels)
        return int(np.ceil(np.median(outcome.human_labels)))
    needed = np.where(outcome.goal_met, outcome.human_labels, np.inf)
    value = float(np.quantile(needed, probability, method="inverted_cdf"))
    return int(np.ceil(value)) if np.isfinite(value) else None


def choose(outcomes: list[Outcome], probability: float) -> Outcome:
    """The cheapest (mean cost) outcome meeting the goal with ``probability``; else the likeliest to."""
    feasible = [o for o in outcomes if o.goal_met.mean() >= probability]
    if feasible:
        return min(feasible, key=lambda o: float(np.mean(o.cost)))
    return max(outcomes, key=lambda o: (float(o.goal_met.mean()), -float(np.mean(o.cost))))


def make_plan(request: PlanRequest | dict[str, Any]) -> PlanResponse:
    """Forecast each strategy's cost, days and label error with uncertainty, and recommend the settings.

    Parameters
    ----------
    request : PlanRequest or dict
        SPEC 4.1 plan request: ``pool_size``, ``goal``, ``pilot``, ``costs``, ``strategies``, optional
        ``batch_sizes``, ``schedule``, ``delta``, ``probability``, ``draws``, ``seed``.

    Returns
    -------
    PlanResponse

    Raises
    ------
    InvalidInputError
        naming the offending field.
    """
    req = parse_request(PlanRequest, request)
    currency = req.costs.currency
    higher_better = higher_is_better(req.pilot.metric)
    rng = np.random.default_rng(req.seed)
    forecast = forecast_from_rounds(req.pilot.rounds, higher_better)
    curve: CurveDraws = forecast.sample(req.draws, rng)
    efficiency = np.exp(np.log(EFFICIENCY_MEDIAN) + EFFICIENCY_LOG_SD * rng.standard_normal(req.draws))
    costs = RateCard(**req.costs.model_dump(exclude={"currency"}))
    dataset_goal = req.goal if isinstance(req.goal, LabeledDatasetGoal) else None
    labeled_dataset = dataset_goal is not None
    if dataset_goal is not None:
        goal: dict[str, float] = {"max_label_error": dataset_goal.max_label_error}
    elif isinstance(req.goal, ModelMetricGoal):
        goal = {"target_error": 1.0 - req.goal.target if higher_better else req.goal.target}
    batch_sizes = req.batch_sizes or default_batch_sizes(req.pool_size)
    warnings: list[str] = []
    assumptions: dict[str, Any] = {
        "draws": req.draws,
        "seed": req.seed,
        "probability": req.probability,
        "batch_sizes": batch_sizes,
        "labels_per_day": req.schedule.labels_per_day,
        "turnaround_days": req.schedule.turnaround_days,
        "active_learning_efficiency": (
            f"prior: lognormal, median {EFFICIENCY_MEDIAN}, log-sd {EFFICIENCY_LOG_SD}, measured on public "
            "datasets (no active-learning arm in the pilot)"
        ),
        "human_labels_are_correct": True,
    }

    routing, threshold, validation_size = None, None, 0
    if "hybrid" in req.strategies:
        if dataset_goal is None or not req.pilot.calibration:
            warnings.append(
                "hybrid was not simulated: it needs a labeled_dataset goal and calibration samples in "
                "the pilot"
            )
        else:
            last = max(req.pilot.calibration, key=lambda s: s.n_labels)
            index = req.pilot.calibration.index(last)
            certificate = certify_threshold(
                last.confidence,
                last.correct,
                dataset_goal.max_label_error,
                req.delta,
                risk="pool",
                field=f"pilot.calibration[{index}]",
            )
            validation_size = calibration_size_needed(dataset_goal.max_label_error, req.delta)
            assumptions["threshold_certificate"] = certificate.summary()
            if certificate.threshold is None:
                warnings.append(
                    f"hybrid: no threshold certifies the goal on the pilot's sample: {certificate.summary()}"
                )
            else:
                threshold = certificate.threshold
                selection = fit_selection_curves(req.pilot.calibration, threshold, field="pilot.calibration")
                grid = np.broadcast_to(curve.n_grid, curve.error.shape)
                coverage, risk = selection.draws(req.draws, rng).at(grid)
                routing = RoutingDraws(curve.n_grid, coverage, risk)
                assumptions["coverage_forecast"] = list(selection.assumptions)
    strategies = [s for s in req.strategies if s != "hybrid" or routing is not None]

    chosen: dict[str, Outcome] = {}
    for strategy in strategies:
        candidates = []
        stops = (
            [float(max(1, round(req.pool_size * s))) for s in STOP_SHARES]
            if labeled_dataset and strategy == "active_learning"
            else [float("inf")]
        )
        for batch in batch_sizes:
            for stop in stops:
                settings = Settings(
                    batch_size=batch,
                    stop_at_labels=stop,
                    labels_per_day=req.schedule.labels_per_day,
                    turnaround_days=req.schedule.turnaround_days,
                    validation_size=validation_size if strategy == "hybrid" else 0,
                )
                candidates.append(
                    simulate_strategy(
                        strategy,
                        curve,
                        costs,
                        req.pool_size,
                        settings,
                        efficiency=efficiency,
                        routing=routing,
                        **goal,
                    )
                )
        chosen[strategy] = choose(candidates, req.probability)

    forecasts = [
        to_forecast(o, currency, higher_better, req.probability, labeled_dataset, threshold)
        for o in chosen.values()
    ]
    best = choose(list(chosen.values()), req.probability)
    manual = chosen.get("manual")
    recommendation = Recommendation(
        strategy=best.strategy,
        confidence_threshold=threshold if best.strategy == "hybrid" else None,
        batch_size=best.settings.batch_size,
        stop_at_labels=stop_point(best, req.probability, labeled_dataset),
        cost=money_quantiles(best.cost, currency),
        savings_vs_manual=money_quantiles(manual.cost - best.cost, currency) if manual is not None else None,
        reasons=reasons(best, manual, req, threshold, currency),
    )
    return PlanResponse(
        id=uuid.uuid4().hex,
        name=req.name,
        currency=currency,
        strategies=forecasts,
        recommendation=recommendation,
        assumptions=assumptions,
        warnings=warnings,
    )


def to_forecast(
    o: Outcome,
    currency: str,
    higher_better: bool,
    probability: float,
    labeled_dataset: bool,
    threshold: float | None,
) -> StrategyForecast:
    metric = 1.0 - o.final_error if higher_better else o.final_error
    schedule = [
        ScheduleRow(
            round=i + 1,
            human_labels=round(row["human_items"]),
            cost=money(row["cost"], currency),
            remaining=round(row["remaining"]),
        )
        for i, row in enumerate(median_path(o))
    ]
    return StrategyForecast(
        strategy=o.strategy,
        cost=money_quantiles(o.cost, currency),
        human_labels=quantiles(o.human_labels),
        reviews=quantiles(o.reviews),
        corrections=quantiles(o.corrections),
        auto_accepted=quantiles(o.auto_accepted),
        audits=quantiles(o.audits),
        rounds=quantiles(o.rounds),
        days=quantiles(o.days),
        final_metric=quantiles(metric),
        label_error=quantiles(o.label_error),
        probability_goal_met=float(o.goal_met.mean()),
        settings=StrategySettings(
            confidence_threshold=threshold if o.strategy == "hybrid" else None,
            batch_size=o.settings.batch_size,
            stop_at_labels=stop_point(o, probability, labeled_dataset),
        ),
        schedule=schedule,
    )


def reasons(
    best: Outcome, manual: Outcome | None, req: PlanRequest, threshold: float | None, currency: str
) -> list[str]:
    """Short plain sentences a product manager can forward."""
    p_goal = float(best.goal_met.mean())
    out = []
    if p_goal < req.probability:
        out.append(
            f"no strategy meets the goal with probability {req.probability:.0%}: {best.strategy} comes "
            f"closest ({p_goal:.0%}); a larger pool, a looser goal or a better model would change that"
        )
    else:
        out.append(
            f"{best.strategy} meets the goal with probability {p_goal:.0%} at the lowest expected cost, "
            f"{money(float(np.mean(best.cost)), currency)} {currency}"
        )
    if best.strategy == "hybrid" and threshold is not None:
        share = float(np.median(best.auto_accepted)) / req.pool_size
        out.append(
            f"hybrid at threshold {threshold:.3g} auto-accepts ~{share:.0%} of the pool; the label-error "
            f"goal is certified with {1 - req.delta:.0%} confidence on the pilot and re-checked every round"
        )
    out.append(
        f"batches of {best.settings.batch_size:,} balance the {money(req.costs.round_overhead, currency)} "
        f"{currency} round overhead against slower learning"
    )
    if manual is not None and best is not manual:
        saving = float(np.median(manual.cost - best.cost))
        out.append(
            f"it saves ~{money(saving, currency)} {currency} (median) versus labeling everything by hand"
        )
    return out
