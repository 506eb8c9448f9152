"""``make_plan``: forecast what each labeling strategy costs to reach the goal, and recommend the settings.

The planner draws the inputs of the strategy simulation (learning curves from the pilot, active learning's
label efficiency, coverage and risk at a certified threshold), runs :mod:`simulators.montecarlo` for every
strategy and batch size (and, for active learning on a labeled dataset, every stop point), keeps per
strategy the cheapest settings that meet the goal with the requested probability, and recommends the
cheapest strategy among those.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import chain, takewhile
from typing import Any

import numpy as np

from annoplan.planner.curves import CurveForecast
from annoplan.planner.errors import InvalidInputError
from annoplan.planner.fit import FAR_FACTOR, QUANTILES, pilot_warnings, predictions
from annoplan.planner.money import money
from annoplan.planner.policy import lot_path, make_policy, start_labels, start_rule
from annoplan.planner.scenario import Goal, Scenario
from annoplan.planner.schemas.common import Quantiles, higher_is_better, metric_name
from annoplan.planner.schemas.curves import CalibrationSample, Pilot, Prediction
from annoplan.planner.schemas.plans import (
    LabeledDatasetGoal,
    ModelMetricGoal,
    MoneyQuantiles,
    PlanRequest,
    PlanResponse,
    Recommendation,
    ScheduleRow,
    SensitivityRow,
    StrategyForecast,
    StrategySettings,
    ThresholdRow,
    WorkVolumes,
)
from annoplan.planner.schemas.policy import Policy
from annoplan.planner.thresholds import (
    TABLE_THRESHOLDS,
    CheckedSamples,
    ThresholdCertificate,
    certify_threshold,
    certify_thresholds,
    fit_selection_curves,
    risk_by_threshold,
)
from annoplan.planner.validation import parse_request
from annoplan.simulators.costs import RateCard
from annoplan.simulators.draws import CurveDraws
from annoplan.simulators.montecarlo import (
    Outcome,
    Routing,
    RunSettings,
    median_path,
    simulate_settings,
)
from annoplan.simulators.volumes import VOLUME_FIELDS

#: batch sizes tried when the request names none, as shares of the pool
BATCH_SHARES = (0.005, 0.01, 0.02, 0.05, 0.1)
#: larger batch sizes tried, at most, past an optimum at the top of the default grid (each BATCH_GROWTH times
#: the last, capped at the pool); an optimum still at the top after them is a warning
EXTRA_BATCH_SIZES = 3
BATCH_GROWTH = 2
#: stop points tried for active learning on a labeled dataset, as shares of the pool
STOP_SHARES = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75)
#: stricter thresholds tried besides the certified one: those auto-accepting these shares of the pilot's
#: calibration sample, where stricter than the certified one (every threshold stricter than a certified one is
#: certified too: fixed-sequence testing)
COVERAGE_GRID = (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
#: label-error goals (shares of the pool) whose certified thresholds every looser goal searches too. With the
#: grid above, the thresholds searched for a goal include those searched for any stricter goal of this ladder:
#: loosening the goal only adds settings, so it cannot make the cheapest one dearer
GOAL_LADDER = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4)
#: the hybrid cost interval's conformal margin (log space): the Monte Carlo P10-P90 interval of the hybrid
#: cost is widened to [P10 e^-m, P90 e^m], m calibrated by split conformal prediction on replays of the
#: development corpus so that the interval covers a replayed real cost 80% of the time; it holds what the
#: forecast does not model (the policy's threshold rises, a real model's confidence drifting). Rebuilt by
#: benchmarks/cost_interval_calibration.py from a plan backtest of that corpus (benchmarks/RESULTS.md)
COST_INTERVAL_MARGIN = 0.1392
#: relative move of each unit price in the sensitivity table
SENSITIVITY_CHANGE = 0.2
#: unit prices the sensitivity table moves (fields of costs)
PRICES = ("label", "review", "correction", "audit", "platform_fee", "round_overhead")
#: points of the learning-curve forecast in a plan
CURVE_POINTS = 12


def searched_batch_sizes(req: PlanRequest) -> list[int]:
    """Every batch size :func:`make_plan` may search: the request's, or the default grid and up to
    :data:`EXTRA_BATCH_SIZES` larger ones (each ``BATCH_GROWTH`` times the largest, at most the pool), tried
    in turn while the best setting sits at the largest searched."""
    if req.batch_sizes:
        return list(req.batch_sizes)
    sizes = default_batch_sizes(req.pool_size)
    for _ in range(EXTRA_BATCH_SIZES):
        if max(sizes) >= req.pool_size:
            break
        sizes.append(min(req.pool_size, BATCH_GROWTH * max(sizes)))
    return sizes


def default_batch_sizes(pool_size: int) -> list[int]:
    """A spread of batch sizes from 0.5% to 10% of the pool (at least 10 items, at most the pool)."""
    return sorted({int(min(pool_size, max(10, round(pool_size * share)))) for share in BATCH_SHARES})


def display_money(text: str, currency: str) -> str:
    """A money string of a response as a sentence quotes it: the very digits, with thousands separators and
    the currency (``"19508.26"`` -> ``"19,508.26 USD"``)."""
    return f"{Decimal(text):,} {currency}"


def quantiles(values: np.ndarray) -> Quantiles:
    # a quantile is a value the draws reach (not interpolated): a P90 is never above what 90% of draws stay
    # within, so it agrees with caps computed the same way
    p10, p50, p90 = np.quantile(values, QUANTILES, method="inverted_cdf")
    return Quantiles(p10=float(p10), p50=float(p50), p90=float(p90))


def money_quantiles(values: np.ndarray, currency: str, margin: float = 0.0) -> MoneyQuantiles:
    """Mean and P10/P50/P90 of an amount; ``margin`` (log space) widens the P10-P90 interval to
    ``[P10 e^-margin, P90 e^margin]`` (see :data:`COST_INTERVAL_MARGIN`)."""
    q = quantiles(values)
    return MoneyQuantiles(
        mean=money(float(np.mean(values)), currency),
        p10=money(q.p10 * math.exp(-margin), currency),
        p50=money(q.p50, currency),
        p90=money(q.p90 * math.exp(margin), currency),
    )


def cost_margin(strategy: str) -> float:
    """The conformal margin of a strategy's cost interval: hybrid's, calibrated on replays; 0 elsewhere."""
    return COST_INTERVAL_MARGIN if strategy == "hybrid" else 0.0


def stop_point(outcome: Outcome, probability: float, labeled_dataset: bool) -> int | None:
    """What ``stop_at_labels`` holds (kept for older clients): the strategy's cap on human labels; for a
    metric goal, the budget meeting it with ``probability``; else the median (P50) of human labels."""
    if np.isfinite(outcome.settings.stop_at_labels):
        return int(outcome.settings.stop_at_labels)
    if labeled_dataset:
        return int(np.ceil(np.median(outcome.human_labels)))
    needed = np.where(outcome.goal_met, outcome.human_labels, np.inf)
    value = float(np.quantile(needed, probability, method="inverted_cdf"))
    return int(np.ceil(value)) if np.isfinite(value) else None


def label_budget(outcome: Outcome, probability: float, labeled_dataset: bool) -> int | None:
    """Human labels to budget for: the strategy's cap where it has one; else enough with ``probability``
    (for a metric goal over the draws that meet it; None where fewer than that share do)."""
    if np.isfinite(outcome.settings.stop_at_labels):
        return int(outcome.settings.stop_at_labels)
    needed = (
        outcome.human_labels if labeled_dataset else np.where(outcome.goal_met, outcome.human_labels, np.inf)
    )
    value = float(np.quantile(needed, probability, method="inverted_cdf"))
    return int(np.ceil(value)) if np.isfinite(value) else None


def stop_rule(outcome: Outcome, req: PlanRequest, budget: int | None) -> str:
    """The condition that ends human work, in words an operator follows."""
    cap = outcome.settings.stop_at_labels
    if isinstance(req.goal, ModelMetricGoal):
        target = f"{metric_name(req.pilot.metric)} {req.goal.target:.4g}"
        rule = f"stop when the model measures {target} on the evaluation set"
        if np.isfinite(cap):
            return (
                f"{rule}, or at {cap:,.0f} human labels, where a batch costs more than the model errors it "
                "would save"
            )
        if budget is None:
            return f"{rule}; no budget of human labels reaches it with probability {req.probability:.0%}"
        return f"{rule}; {budget:,} human labels reach it with probability {req.probability:.0%}"
    if np.isfinite(cap):
        return f"humans stop after {cap:,.0f} labels; the model labels the rest of the pool"
    if outcome.strategy == "hybrid":
        return "when the pool is empty: every item auto-accepted (its lot audited) or checked by a human"
    work = "reviewed (and corrected)" if outcome.strategy == "prelabel" else "labeled"
    return f"when humans have {work} every item of the pool"


def lifetime_cost(o: Outcome, per_error: float) -> np.ndarray:
    """Label spend plus what the model's remaining error costs over its life (Pullar-Strecker et al.)."""
    return o.cost + o.final_error * per_error


def choose(outcomes: Iterable[Outcome], probability: float, per_error: float | None = None) -> Outcome | None:
    """The cheapest (mean cost) outcome meeting the goal with ``probability``; else the likeliest to. When a
    better model has a value (``per_error``: currency per unit of error), the lowest mean lifetime cost.

    ``outcomes`` may be a generator: only the best so far is kept (each holds its round-by-round history).
    None when there is no outcome.
    """

    def rank(o: Outcome) -> tuple[float, ...]:
        if per_error is not None:
            return (float(np.mean(lifetime_cost(o, per_error))),)
        p_goal, mean_cost = float(o.goal_met.mean()), float(np.mean(o.cost))
        return (0.0, mean_cost) if p_goal >= probability else (1.0, -p_goal, mean_cost)

    return min(outcomes, key=rank, default=None)


@dataclass(frozen=True)
class HybridRouting:
    """What the hybrid policy runs on: ``options``, the certified threshold and stricter ones (certified as
    well), the certified one first, each with per-draw coverage and risk at it (empty when nothing is
    certified)."""

    options: tuple[tuple[float, Routing], ...]
    delta: float  #: the probability that the lot audits miss the label-error goal
    certificate: ThresholdCertificate
    sample: CalibrationSample  #: the calibration sample the threshold is certified on
    assumptions: dict[str, Any]
    warnings: list[str]

    @property
    def threshold(self) -> float | None:
        """The certified threshold; None when no threshold certifies the goal on the pilot's sample."""
        return self.certificate.threshold

    def table(self, chosen: float | None) -> list[ThresholdRow]:
        """Pool risk and coverage by threshold on the certifying sample, the ``chosen`` threshold marked."""
        extra = [chosen] if chosen is not None else []
        table = risk_by_threshold(
            self.sample.confidence,
            self.sample.correct,
            [*TABLE_THRESHOLDS, *extra],
            self.certificate.delta,
            risk="pool",
        )
        rows = zip(table.thresholds, table.coverage, table.risk, table.upper_bound, strict=True)
        return [
            ThresholdRow(
                threshold=float(t),
                coverage=float(c),
                risk=float(r),
                upper_bound=float(u),
                chosen=chosen is not None and bool(np.isclose(t, chosen)),
            )
            for t, c, r, u in rows
        ]


def hybrid_routing(
    pilot: Pilot, max_label_error: float, delta: float, n_draws: int, rng: np.random.Generator
) -> HybridRouting:
    """Certify a threshold on the pilot's latest calibration sample (pool risk: the share of the pool left
    wrong) and draw ``n_draws`` coverage and risk curves at it and at stricter thresholds, one draw per
    learning-curve draw."""
    if not pilot.calibration:
        raise InvalidInputError("pilot.calibration", "hybrid routing needs at least one calibration sample")
    last = max(pilot.calibration, key=lambda s: s.n_labels)
    index = pilot.calibration.index(last)
    certificate = certify_threshold(
        last.confidence,
        last.correct,
        max_label_error,
        delta,
        risk="pool",
        field=f"pilot.calibration[{index}]",
    )
    assumptions: dict[str, Any] = {
        "threshold_certificate": certificate.summary(),
        "threshold_risk": "pool: the share of the whole pool auto-accepted and wrong",
    }
    assumptions["lot_audits"] = (
        "hybrid: each round the items at or above the threshold form a lot. A random sample of the lot is "
        "audited (wrong labels fixed), at least the audit_rate share of it and as many as its share of the "
        f"error budget needs (the budget: {max_label_error:.4g} of the pool, spent lot by lot in proportion "
        "to the items still undelivered; the sample sized so that a lot holding the errors the model "
        "expects passes). The lot is delivered only when the exact (hypergeometric) upper bound on the "
        "wrong labels left in it, at confidence 1 - delta_j with delta_j = delta * 6 / (pi^2 j^2) for the "
        "j-th lot, fits its share; the bound is then spent from the budget. By the union bound over lots the "
        f"delivered pool has at most {max_label_error:.4g} of its items wrong with probability at least "
        f"{1 - delta:.4g}, whatever the model does between rounds. A rejected lot delivers its audited items "
        "only; the threshold rises just above the least confident wrong label the audit found, and the rest "
        "of the lot stays in the pool. The forecast prices the audits at each draw's risk, and a "
        "rejected lot's items as audited again with the next round's lot (it does not model the higher "
        "threshold)"
    )
    assumptions["routed_items"] = (
        "hybrid: humans get the least confident of the items below the threshold, the hardest first; their "
        "errors follow how the predicted errors (1 - confidence) spread below the threshold in the "
        "calibration samples, and the wrong items a round's humans find are sampled (binomial) as a real "
        "batch's would be. Items taken at random (the first batch) and audited ones teach the model as "
        "random labels; routed ones at active learning's efficiency. The share auto-accepted grows with "
        "random labels, and with routed ones at half their number: the least confident items sharpen the "
        "model's boundary but leave it less sure elsewhere"
    )
    if certificate.threshold is None:
        return HybridRouting(
            (),
            delta,
            certificate,
            last,
            assumptions,
            [f"hybrid: no threshold certifies the goal on the pilot's sample: {certificate.summary()}"],
        )
    options: list[tuple[float, Routing]] = []
    samples = CheckedSamples.check(pilot.calibration, "pilot.calibration")
    for threshold in candidate_thresholds(last, certificate.threshold, max_label_error, delta):
        selection = fit_selection_curves(samples, threshold)
        options.append((threshold, selection.draws(n_draws, rng)))
        if threshold == certificate.threshold:
            assumptions["coverage_forecast"] = list(selection.assumptions)
    assumptions["thresholds_searched"] = (
        f"{', '.join(f'{t:.4g}' for t, _ in options)}: the certified threshold, those certified for stricter "
        "goals, and stricter ones auto-accepting fixed shares of the sample (fixed-sequence testing "
        "certifies "
        "every stricter threshold too); the plan keeps the cheapest that meets the goal"
    )
    return HybridRouting(
        tuple(options),
        delta,
        certificate,
        last,
        assumptions,
        [],
    )


def candidate_thresholds(
    sample: CalibrationSample, certified: float | None, max_label_error: float, delta: float
) -> list[float]:
    """The thresholds a plan or quote searches, ascending: the ``certified`` one (for ``max_label_error`` on
    ``sample``), the certified ones of every stricter goal of :data:`GOAL_LADDER`, and the
    :data:`COVERAGE_GRID` thresholds stricter than the certified one (empty when nothing certifies). Nested:
    a looser goal searches a superset."""
    if certified is None:
        return []
    found = {certified}
    stricter_goals = list(takewhile(lambda goal: goal < max_label_error, GOAL_LADDER))
    for stricter in certify_thresholds(sample.confidence, sample.correct, stricter_goals, delta, risk="pool"):
        if stricter.threshold is not None:
            found.add(stricter.threshold)
    conf = np.sort(np.asarray(sample.confidence, dtype=float))
    for share in COVERAGE_GRID:
        t = float(conf[min(conf.size - 1, int(np.floor(conf.size * (1.0 - share))))])
        if t > certified:
            found.add(t)
    return sorted(found)


def threshold_count(pilot: Pilot, max_label_error: float, delta: float) -> int:
    """How many thresholds hybrid routing searches for this pilot and goal (at least 1: with none certified,
    the plan simulates pre-labeling once instead); sizes a request before it runs."""
    if not pilot.calibration:
        return 1
    last = max(pilot.calibration, key=lambda s: s.n_labels)
    certified = certify_threshold(
        last.confidence, last.correct, max_label_error, delta, risk="pool"
    ).threshold
    return max(1, len(candidate_thresholds(last, certified, max_label_error, delta)))


def learning_curve(
    pilot: Pilot, pool_size: int, forecast: CurveForecast, curve: CurveDraws, rng: np.random.Generator
) -> list[Prediction]:
    """The metric a model trained on n labels will measure, from the first pilot round to the pool size."""
    first = pilot.rounds[0].n_labels
    last = max(pool_size, pilot.rounds[-1].n_labels)
    sizes = np.unique(np.round(np.geomspace(first, last, CURVE_POINTS)).astype(int))
    return predictions(forecast, [int(n) for n in sizes], curve, rng, higher_is_better(pilot.metric))


def expected_work(o: Outcome) -> WorkVolumes:
    """The outcome's mean volumes of work over the draws."""
    return WorkVolumes(**{name: float(np.mean(getattr(o, name))) for name in VOLUME_FIELDS})


def sensitivity(o: Outcome, costs: RateCard, currency: str) -> list[SensitivityRow]:
    """The outcome's mean cost with each unit price moved by -/+ SENSITIVITY_CHANGE (the work held fixed)."""
    work = expected_work(o).volumes()
    rows = []
    for price in PRICES:
        base = getattr(costs, price)
        low, high = (
            float(replace(costs, **{price: base * (1 + s * SENSITIVITY_CHANGE)}).total(work)) for s in (-1, 1)
        )
        rows.append(
            SensitivityRow(
                price=price,
                change=SENSITIVITY_CHANGE,
                low=money(low, currency),
                high=money(high, currency),
            )
        )
    return rows


def routes_hybrid(req: PlanRequest) -> bool:
    """Whether hybrid routing can be planned for ``req``: it needs a labeled-dataset goal (the label error
    its audits keep) and calibration samples in the pilot (which certify its threshold)."""
    return isinstance(req.goal, LabeledDatasetGoal) and bool(req.pilot.calibration)


def plan_hybrid_routing(
    req: PlanRequest, goal: Goal, rng: np.random.Generator, warnings: list[str]
) -> HybridRouting | None:
    """Hybrid routing's thresholds and their draws when the request plans hybrid and can (a labeled-dataset
    goal, calibration samples in the pilot); None otherwise, with a warning if hybrid was asked for. Its
    warnings join ``warnings``."""
    if "hybrid" not in req.strategies:
        return None
    if not routes_hybrid(req) or goal.max_label_error is None:
        warnings.append(
            "hybrid was not simulated: it needs a labeled_dataset goal and calibration samples in the pilot"
        )
        return None
    hybrid = hybrid_routing(req.pilot, goal.max_label_error, req.delta, req.draws, rng)
    warnings.extend(hybrid.warnings)
    return hybrid


def planned_strategies(asked: Sequence[str], hybrid: HybridRouting | None, warnings: list[str]) -> list[str]:
    """The strategies to simulate: those ``asked``, except hybrid routing that can auto-accept nothing,
    which is pre-labeling (planned in its place unless pre-labeling is planned anyway, with a warning)."""
    strategies = list(asked)
    if hybrid is not None and hybrid.threshold is None and "prelabel" not in strategies:
        # hybrid routing that auto-accepts nothing sends every item to humans as a pre-label
        strategies[strategies.index("hybrid")] = "prelabel"
        warnings.append(
            "prelabel was planned in place of hybrid: with nothing auto-accepted, hybrid routing is "
            "pre-labeling; more calibration items or a looser max_label_error would let it auto-accept"
        )
    return strategies


@dataclass(frozen=True)
class Search:
    """What every setting a plan searches is simulated on: the request, its scenario and goal, the rate card,
    hybrid routing's thresholds, the value of a unit of error (or None) and the seed of the sampling noise
    every setting shares."""

    req: PlanRequest
    scenario: Scenario
    goal: Goal
    costs: RateCard
    hybrid: HybridRouting | None
    per_error: float | None
    noise_seed: int

    def simulate(
        self, strategy: str, sizes: list[int], keep: Callable[[RunSettings], bool] | None = None
    ) -> Iterator[Outcome]:
        """Every setting of ``strategy`` at the batch sizes ``sizes`` (:func:`search_space`), simulated
        (only those ``keep`` keeps, where given)."""
        valued = self.per_error is not None
        space = search_space(strategy, self.req, sizes, self.hybrid, valued)
        yield from simulate_settings(
            strategy,
            self.scenario.curve,
            self.costs,
            self.req.pool_size,
            [entry for entry in space if keep is None or keep(entry[0])],
            efficiency=self.scenario.efficiency.values,
            target_error=self.goal.target_error,
            max_label_error=self.goal.max_label_error,
            labels_before=self.scenario.labels_before,
            noise=self.noise,
        )

    def noise(self) -> np.random.Generator:
        """A generator of the sampling noise every setting shares (each setting's run starts its own)."""
        return np.random.default_rng(self.noise_seed)

    def best(self, strategy: str, batch_sizes: list[int]) -> tuple[Outcome | None, list[int]]:
        """The best setting of ``strategy`` (:func:`choose`) and the batch sizes searched: ``batch_sizes``,
        then, past an optimum at the default grid's edge (10% of the pool), larger ones in turn."""
        probability = self.req.probability
        best = choose(self.simulate(strategy, batch_sizes), probability, self.per_error)
        searched = list(batch_sizes)
        for larger in searched_batch_sizes(self.req)[len(batch_sizes) :]:
            if best is None or best.settings.batch_size != max(searched):
                break
            searched.append(larger)
            best = choose(chain([best], self.simulate(strategy, [larger])), probability, self.per_error)
        return best, searched


def make_plan(
    request: PlanRequest | dict[str, Any], progress: Callable[[int, int, str], None] | None = None
) -> PlanResponse:
    """Forecast each strategy's cost, days and label error with uncertainty, and recommend the settings.

    Parameters
    ----------
    request : PlanRequest or dict
        SPEC 4.1 plan request: ``pool_size``, ``goal``, ``pilot``, ``costs``, ``strategies``, optional
        ``batch_sizes``, ``schedule``, ``delta``, ``probability``, ``draws``, ``seed``.
    progress : callable, optional
        Called as ``progress(done, total, strategy)`` before the search of each strategy (``done`` of
        ``total`` strategies searched) and once at the end (``done == total``), e.g. to draw a progress bar.

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
    scenario = Scenario.from_request(req)
    goal = Goal.of(req.goal, req.pilot)
    rng = scenario.rng
    costs = RateCard(**req.costs.model_dump(exclude={"currency"}))
    batch_sizes = req.batch_sizes or default_batch_sizes(req.pool_size)
    warnings: list[str] = pilot_warnings(req.pilot.rounds, scenario.forecast)
    assumptions: dict[str, Any] = {
        "draws": req.draws,
        "seed": req.seed,
        "probability": req.probability,
        "batch_sizes": batch_sizes,
        "labels_per_day": req.schedule.labels_per_day,
        "turnaround_days": req.schedule.turnaround_days,
        "active_learning_efficiency": scenario.efficiency.source,
        "human_labels_are_correct": True,
        "pilot_labels_kept": start_rule(scenario.labels_before),
    }

    if req.value is not None and goal.labeled_dataset:
        raise InvalidInputError("value", "applies to a model_metric goal only: remove it or change the goal")
    per_error = req.value.per_unit_error if req.value is not None else None

    hybrid = plan_hybrid_routing(req, goal, rng, warnings)
    if hybrid is not None:
        assumptions.update(hybrid.assumptions)
    strategies = planned_strategies(req.strategies, hybrid, warnings)
    if per_error is not None:
        assumptions["value_per_unit_error"] = per_error

    chosen: dict[str, Outcome] = {}
    # every simulated setting sees the same sampling noise
    search = Search(req, scenario, goal, costs, hybrid, per_error, int(rng.integers(2**63)))
    added: dict[str, list[int]] = {}
    for done, strategy in enumerate(strategies):
        if progress is not None:
            progress(done, len(strategies), strategy)
        best_settings, searched = search.best(strategy, batch_sizes)
        if len(searched) > len(batch_sizes):
            added[strategy] = searched[len(batch_sizes) :]
        if best_settings is not None:
            chosen[strategy] = best_settings
            warnings.extend(edge_warning(best_settings, searched, req))
    if added:
        assumptions["batch_sizes_added"] = added
    if progress is not None:
        progress(len(strategies), len(strategies), "done")
    best = choose(chosen.values(), req.probability, per_error)
    if best is None:
        raise InvalidInputError(
            "strategies",
            f"nothing could be simulated: {' '.join(warnings)}; add manual, prelabel or active_learning",
        )
    warnings.extend(far_warning(best, req, goal.labeled_dataset))
    forecasts = [
        to_forecast(o, req, goal, per_error, runbook(o, req, req.probability)) for o in chosen.values()
    ]
    manual = chosen.get("manual")
    best_forecast = next(f for f in forecasts if f.strategy == best.strategy)
    manual_forecast = next((f for f in forecasts if f.strategy == "manual"), None)
    reachable = per_error is not None or any(
        float(o.goal_met.mean()) >= req.probability for o in chosen.values()
    )
    savings = money_quantiles(manual.cost - best.cost, currency) if manual is not None and reachable else None
    recommendation = Recommendation(
        strategy=best.strategy,
        confidence_threshold=best.settings.confidence_threshold,
        batch_size=best.settings.batch_size,
        stop_at_labels=best_forecast.settings.stop_at_labels,
        human_labels_budget=best_forecast.settings.human_labels_budget,
        human_labels_p50=best_forecast.settings.human_labels_p50,
        stop_rule=best_forecast.settings.stop_rule,
        cost=best_forecast.cost,
        savings_vs_manual=savings,
        reachable=reachable,
        reasons=reasons(best, best_forecast, manual_forecast, savings, req)
        if reachable
        else unreachable_reasons(best, best_forecast, req, goal.higher_better),
    )
    table: list[ThresholdRow] = []
    if hybrid is not None:
        table = hybrid.table(chosen["hybrid"].settings.confidence_threshold if "hybrid" in chosen else None)
    return PlanResponse(
        id=uuid.uuid4().hex,
        name=req.name,
        currency=currency,
        strategies=forecasts,
        recommendation=recommendation,
        learning_curve=learning_curve(req.pilot, req.pool_size, scenario.forecast, scenario.curve, rng),
        thresholds=table,
        sensitivity=sensitivity(best, costs, currency),
        policy=next(f.policy for f in forecasts if f.strategy == best.strategy),
        costs=req.costs,
        assumptions=assumptions,
        warnings=warnings,
    )


def edge_warning(best: Outcome, searched: list[int], req: PlanRequest) -> list[str]:
    """A warning when a strategy's cheapest batch size is the largest searched and the pool allows larger
    ones: a larger batch might cost less still."""
    size = best.settings.batch_size
    if size != max(searched) or size >= req.pool_size:
        return []
    how = (
        "give batch_sizes to search further"
        if req.batch_sizes is not None
        else f"the search stopped after {EXTRA_BATCH_SIZES} larger sizes; give batch_sizes to search further"
    )
    return [
        f"{best.strategy}: the cheapest batch size is the largest searched ({size:,}, "
        f"{size / req.pool_size:.0%} of the pool): larger batches might cost less; {how}"
    ]


def far_warning(best: Outcome, req: PlanRequest, labeled_dataset: bool) -> list[str]:
    """A warning when the plan forecasts far past the pilot: over :data:`FAR_FACTOR` times its last round's
    labels (the pool for a labeled dataset, where the model labels every item; the recommendation's P90 of
    human labels for a model metric)."""
    last = req.pilot.rounds[-1].n_labels
    if labeled_dataset:
        reach, what = req.pool_size, f"the pool ({req.pool_size:,} items)"
    else:
        reach = int(np.ceil(quantiles(best.human_labels).p90))
        what = f"the recommendation's P90 of human labels ({reach:,})"
    if reach <= FAR_FACTOR * last:
        return []
    return [
        f"{what} is over {FAR_FACTOR:.0f}x the last pilot round ({last:,} labels): the forecast of how fast "
        "the model improves extrapolates far, and the intervals are wide; refit as rounds come in"
    ]


def search_space(
    strategy: str, req: PlanRequest, batch_sizes: list[int], hybrid: HybridRouting | None, valued: bool
) -> list[tuple[RunSettings, Routing | None, list[float]]]:
    """The settings tried for one strategy: batch sizes x thresholds (hybrid), each with the stop points
    (caps on human labels) to try: several for active learning on a labeled dataset, or for any strategy
    when a better model has a stated value; else none (``inf``)."""
    if strategy == "hybrid":
        if hybrid is None:
            return []
        options: list[tuple[float | None, Routing | None]] = list(hybrid.options)
    else:
        options = [(None, None)]
    if (strategy == "active_learning" and isinstance(req.goal, LabeledDatasetGoal)) or valued:
        stops = [float(max(1, round(req.pool_size * s))) for s in STOP_SHARES]
        stops += [] if isinstance(req.goal, LabeledDatasetGoal) else [np.inf]
    else:
        stops = [np.inf]
    return [
        (
            RunSettings(
                batch_size=batch,
                labels_per_day=req.schedule.labels_per_day,
                turnaround_days=req.schedule.turnaround_days,
                delta=req.delta,
                confidence_threshold=threshold,
            ),
            routing,
            stops,
        )
        for threshold, routing in options
        for batch in batch_sizes
    ]


def runbook(o: Outcome, req: PlanRequest, probability: float) -> Policy:
    """The policy object of one simulated strategy: the process its forecast priced, as a runbook."""
    dataset_goal = req.goal if isinstance(req.goal, LabeledDatasetGoal) else None
    cap = o.settings.stop_at_labels
    human_label_cap = int(cap) if np.isfinite(cap) else None
    stop_at_metric = None
    if isinstance(req.goal, ModelMetricGoal):
        stop_at_metric = req.goal.target
        human_label_cap = stop_point(o, probability, labeled_dataset=False)
    return make_policy(
        o.strategy,
        batch_size=o.settings.batch_size,
        pool_size=req.pool_size,
        start_labels=start_labels(req),
        audit_rate=req.costs.audit_rate,
        confidence_threshold=o.settings.confidence_threshold,
        human_label_cap=human_label_cap,
        stop_at_metric=stop_at_metric,
        max_label_error=dataset_goal.max_label_error if dataset_goal is not None else None,
        delta=req.delta,
        path=lot_path(o) if o.strategy == "hybrid" and dataset_goal is not None else None,
    )


def to_forecast(
    o: Outcome, req: PlanRequest, goal: Goal, per_error: float | None, policy: Policy
) -> StrategyForecast:
    currency, probability = req.costs.currency, req.probability
    budget = label_budget(o, probability, goal.labeled_dataset)
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
        cost=money_quantiles(o.cost, currency, cost_margin(o.strategy)),
        human_labels=quantiles(o.human_labels),
        reviews=quantiles(o.reviews),
        corrections=quantiles(o.corrections),
        auto_accepted=quantiles(o.auto_accepted),
        audits=quantiles(o.audits),
        rounds=quantiles(o.rounds),
        days=quantiles(o.days),
        final_metric=quantiles(goal.metric(o.final_error)),
        label_error=quantiles(o.label_error),
        lifetime_cost=(
            money_quantiles(lifetime_cost(o, per_error), currency) if per_error is not None else None
        ),
        probability_goal_met=float(o.goal_met.mean()),
        settings=StrategySettings(
            confidence_threshold=o.settings.confidence_threshold,
            batch_size=o.settings.batch_size,
            stop_at_labels=stop_point(o, probability, goal.labeled_dataset),
            human_labels_budget=budget,
            human_labels_p50=int(np.ceil(quantiles(o.human_labels).p50)),
            stop_rule=stop_rule(o, req, budget),
        ),
        expected_work=expected_work(o),
        schedule=schedule,
        policy=policy,
    )


def reasons(
    best: Outcome,
    forecast: StrategyForecast,
    manual: StrategyForecast | None,
    savings: MoneyQuantiles | None,
    req: PlanRequest,
) -> list[str]:
    """Short plain sentences a product manager can forward. Every amount is quoted from the response's own
    money strings (``forecast``: the recommended strategy's, ``savings``: the recommendation's savings versus
    ``manual``), so a sentence and a field never disagree by a rounding."""
    currency = req.costs.currency
    p_goal = forecast.probability_goal_met
    mean_cost = display_money(forecast.cost.mean, currency)
    out = []
    if forecast.lifetime_cost is not None:
        total = display_money(forecast.lifetime_cost.mean, currency)
        out.append(
            f"{best.strategy} has the lowest expected lifetime cost, {total}: {mean_cost} of "
            f"labeling plus what the model's remaining errors cost; it meets the target with probability "
            f"{p_goal:.0%}"
        )
        if np.isfinite(best.settings.stop_at_labels):
            out.append(
                f"stop buying labels at {best.settings.stop_at_labels:,.0f}: past that, a batch costs more "
                "than the errors it would save"
            )
    else:
        out.append(
            f"{best.strategy} meets the goal with probability {p_goal:.0%} at the lowest expected cost, "
            f"{mean_cost}"
        )
    threshold = best.settings.confidence_threshold
    if threshold is not None:
        share = float(np.median(best.auto_accepted)) / req.pool_size
        out.append(
            f"hybrid at threshold {threshold:.3g} auto-accepts ~{share:.0%} of the pool; the label-error "
            f"goal holds with {1 - req.delta:.0%} confidence: every round's auto-accepted lot is delivered "
            "only after a random audit of it bounds the wrong labels it leaves within the error budget"
        )
    overhead = display_money(money(req.costs.round_overhead, currency), currency)
    out.append(
        f"batches of {best.settings.batch_size:,} balance the {overhead} round overhead against slower "
        "learning"
    )
    if (
        manual is not None
        and savings is not None
        and Decimal(savings.p50) > Decimal("0.01") * Decimal(manual.cost.p50)
    ):
        out.append(
            f"it saves ~{display_money(savings.p50, currency)} (median) versus labeling everything by hand"
        )
    return out


def unreachable_reasons(
    best: Outcome, forecast: StrategyForecast, req: PlanRequest, higher_better: bool
) -> list[str]:
    """Why no strategy reaches the goal with the required probability, and what would make it reachable:
    the goal the closest attempt meets with that probability, the probability it meets the goal with."""
    p_goal = forecast.probability_goal_met
    out = [
        f"not reachable: no strategy meets the goal with probability {req.probability:.0%}; "
        f"{best.strategy} comes closest ({p_goal:.0%}), and its cost is what that attempt spends, runs that "
        "never reach the goal included"
    ]
    helps = []
    if isinstance(req.goal, LabeledDatasetGoal):
        error = float(np.quantile(best.label_error, req.probability, method="inverted_cdf"))
        helps.append(
            f"a max_label_error of {error:.2%} (asked: {req.goal.max_label_error:.2%}), which "
            f"{best.strategy} meets with probability {req.probability:.0%}"
        )
    elif isinstance(req.goal, ModelMetricGoal):
        metric = 1.0 - best.final_error if higher_better else best.final_error
        level = 1.0 - req.probability if higher_better else req.probability
        reached = float(np.quantile(metric, level, method="inverted_cdf"))
        helps.append(
            f"a target of {reached:.4g} (asked: {req.goal.target:.4g}), which {best.strategy} reaches with "
            f"probability {req.probability:.0%} within the pool"
        )
        helps.append(f"a larger pool than {req.pool_size:,} items to label from")
    if p_goal > 0:
        helps.append(f"a required probability (probability) of {math.floor(p_goal * 100) / 100:.0%} or less")
    helps.append("more pilot rounds or a better model, which narrow and lift the forecast")
    out.append("what would make it reachable: " + "; ".join(helps))
    return out
