"""Plan versus actual: the rounds really done beside the plan's burn-up band, and a re-plan from the actual
state.

Three steps, each a small function:

1. :func:`plan_band`: the plan's P10/P50/P90 of the cumulative cost after each round. The plan keeps only
   its median path, so the recommended setting is simulated again on the plan's own draws (same seed, same
   order of draws as :func:`planner.plans.make_plan`); its last row is the plan's cost forecast.
2. :func:`replan_request`: the plan request rebuilt at the actual state: ``pool_size`` is the items left,
   the pilot gains a round per actual round with a metric (the learning curve is refitted) and a calibration
   sample per actual round with one (the threshold is re-certified), and the work continues from the labels
   humans have checked so far.
3. :func:`track_plan`: the re-plan (:func:`planner.make_plan`), what was spent plus its cost as the forecast
   of the total, the status from the band, advice in words and the next rounds' policy when it changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.fit import QUANTILES
from annoplan.planner.money import money
from annoplan.planner.plans import Search, cost_margin, make_plan, plan_hybrid_routing
from annoplan.planner.policy import start_labels
from annoplan.planner.scenario import Goal, Scenario
from annoplan.planner.schemas.common import Quantiles, higher_is_better
from annoplan.planner.schemas.curves import CalibrationSample, PilotRound
from annoplan.planner.schemas.plans import (
    ModelMetricGoal,
    MoneyQuantiles,
    PlanRequest,
    PlanResponse,
    StrategyForecast,
)
from annoplan.planner.schemas.policy import Policy
from annoplan.planner.schemas.tracking import (
    ActualRound,
    ActualsRequest,
    ActualsResponse,
    BurnUpRow,
    TrackingForecast,
    TrackingStatus,
)
from annoplan.planner.validation import parse_request
from annoplan.simulators.costs import RateCard
from annoplan.simulators.montecarlo import BLOCK_LOOKUPS, Outcome, RunSettings
from annoplan.simulators.volumes import Volumes

#: relative gap between an actual volume and the plan's median at that round worth a sentence of advice
ADVICE_GAP = 0.2
#: volumes the band keeps the plan's median of, per round (ledger fields)
VOLUMES = ("human_items", "corrections", "auto_accepted")

ASSUMPTIONS = (
    "the plan's band is the recommended setting simulated again on the plan's own draws: after each round, "
    "the P10, P50 and P90 of the cumulative cost over the draws",
    "items left = pool_size - human_labels - auto_accepted of the last round; the re-plan labels them with "
    "the plan's goal, rate card, strategies, schedule and search",
    "each actual round with a metric is a new pilot round at n_labels = start labels + its human_labels "
    "(measured on the pilot's evaluation set: its n_eval and std are the pilot's last round's); items humans "
    "got because the model was unsure count as random labels, which flatters the curve a little when "
    "routing or active learning chose them",
    "each actual round with a calibration sample is a new calibration sample at the same n_labels: the "
    "hybrid threshold is certified on the latest one",
    "the re-plan's first model is trained on the labels of the last round with a metric (the pilot's when "
    "no round reports one)",
    "the forecast of the total is the cost spent so far plus the re-plan's cost; human labels likewise; "
    "days and label error are those of the rest",
)


@dataclass(frozen=True)
class PlanBand:
    """The plan's cumulative cost per round over its draws (currency units) and the median volumes.

    ``cost`` has shape (rounds, 3): P10, P50 and P90 after rounds 1, 2, ...; rounds past its end are those
    of the total (every draw has finished). ``volumes`` holds the median of each of :data:`VOLUMES`, shape
    (rounds,). ``total`` holds the P10, P50 and P90 of the total cost.
    """

    strategy: str
    cost: np.ndarray
    volumes: dict[str, np.ndarray]
    total: np.ndarray

    def at(self, round_number: int) -> np.ndarray:
        """P10, P50 and P90 of the cumulative cost after ``round_number`` (1 for the first)."""
        if round_number > self.cost.shape[0]:
            return self.total
        row: np.ndarray = self.cost[round_number - 1]
        return row

    def volume_at(self, name: str, round_number: int) -> float:
        """The plan's median of volume ``name`` after ``round_number`` (its last value past the end)."""
        values = self.volumes[name]
        return float(values[min(round_number, values.size) - 1])


def recommended_outcome(req: PlanRequest, plan: PlanResponse) -> Outcome:
    """The recommended setting of ``plan`` simulated again on the plan's draws (``req`` made ``plan``).

    The draws are made as :func:`planner.plans.make_plan` makes them (the seed, then the learning curves,
    active learning's efficiency, hybrid routing and the sampling noise, in that order); of the stop points
    searched for the recommended batch size and threshold, the one whose mean cost is the recommendation's.
    """
    scenario = Scenario.from_request(req)
    goal = Goal.of(req.goal, req.pilot)
    costs = RateCard(**req.costs.model_dump(exclude={"currency"}))
    rng = scenario.rng
    hybrid = plan_hybrid_routing(req, goal, rng, warnings=[])
    per_error = req.value.per_unit_error if req.value is not None else None
    search = Search(req, scenario, goal, costs, hybrid, per_error, int(rng.integers(2**63)))
    rec = plan.recommendation

    def recommended(settings: RunSettings) -> bool:
        threshold = settings.confidence_threshold
        if threshold is None or rec.confidence_threshold is None:
            return threshold is None and rec.confidence_threshold is None
        return math.isclose(threshold, rec.confidence_threshold)

    outcomes = list(search.simulate(rec.strategy, [rec.batch_size], keep=recommended))
    if not outcomes:
        raise InvalidInputError(
            "plan",
            "the plan's recommendation is not among the settings its request searches: re-make the plan",
        )
    mean = float(Decimal(rec.cost.mean))
    return min(outcomes, key=lambda o: abs(float(np.mean(o.cost)) - mean))


def plan_band(req: PlanRequest, plan: PlanResponse, min_rounds: int = 0) -> PlanBand:
    """The plan's burn-up band: P10/P50/P90 of the cumulative cost after each round, up to the P90 of the
    plan's rounds or ``min_rounds``, whichever is later (and no further than the last draw's last round).

    Parameters
    ----------
    req : PlanRequest
        The request that made ``plan``.
    plan : PlanResponse
    min_rounds : int, default 0
        Rounds the band covers at least (the actual rounds reported).

    Returns
    -------
    PlanBand
        Money in the plan's currency units; the hybrid cost interval keeps the plan's conformal margin.
    """
    outcome = recommended_outcome(req, plan)
    wanted = max(int(np.ceil(np.quantile(outcome.rounds, 0.9))), min_rounds, 1)
    margin = cost_margin(outcome.strategy)
    scale = np.array([math.exp(-margin), 1.0, math.exp(margin)])
    step = max(1, BLOCK_LOOKUPS // outcome.cost.size)
    blocks: list[np.ndarray] = []
    volumes: dict[str, list[np.ndarray]] = {name: [] for name in VOLUMES}
    done = 0  # rounds of the band so far (the history may end before ``wanted``)
    for block in outcome.history_blocks(step):
        if done >= wanted:
            break
        rows = {name: value[: wanted - done] for name, value in block.items()}
        done += len(rows["rounds"])
        cost = outcome.costs.total(Volumes.of(rows))
        blocks.append(np.quantile(cost, QUANTILES, axis=1, method="inverted_cdf").T * scale)
        for name in VOLUMES:
            volumes[name].append(np.median(rows[name], axis=1))
    total = np.quantile(outcome.cost, QUANTILES, method="inverted_cdf") * scale
    return PlanBand(
        strategy=outcome.strategy,
        cost=np.concatenate(blocks) if blocks else np.zeros((0, 3)),
        volumes={name: np.concatenate(parts) for name, parts in volumes.items()},
        total=total,
    )


def items_left(req: PlanRequest, actuals: ActualsRequest) -> int:
    """Pool items not yet labeled after the last actual round; an error naming the round when the rounds
    report more items than the pool holds."""
    index = len(actuals.rounds) - 1
    last = actuals.rounds[index]
    done = last.human_labels + (last.auto_accepted or 0)
    if done > req.pool_size:
        raise InvalidInputError(
            f"rounds[{index}].human_labels",
            f"human_labels + auto_accepted = {done:,} exceeds the plan's pool_size of {req.pool_size:,}: "
            "report cumulative counts of this plan's pool only (the pilot's labels not included)",
        )
    return req.pool_size - done


def extended_pilot_rounds(req: PlanRequest, actuals: ActualsRequest) -> list[PilotRound]:
    """The pilot's rounds plus one per actual round with a metric (an actual round replaces a pilot round
    with the same number of labels)."""
    start = start_labels(req)
    template = req.pilot.rounds[-1]
    by_labels = {r.n_labels: r for r in req.pilot.rounds}
    for actual in actuals.rounds:
        n_labels = start + actual.human_labels
        if actual.metric is None or n_labels < 1:
            continue
        by_labels[n_labels] = PilotRound(
            n_labels=n_labels, value=actual.metric, n_eval=template.n_eval, std=template.std
        )
    return [by_labels[n] for n in sorted(by_labels)]


def extended_calibration(req: PlanRequest, actuals: ActualsRequest) -> list[CalibrationSample]:
    """The pilot's calibration samples plus one per actual round with a sample."""
    start = start_labels(req)
    by_labels = {s.n_labels: s for s in req.pilot.calibration}
    for actual in actuals.rounds:
        n_labels = start + actual.human_labels
        if actual.calibration is None or n_labels < 1:
            continue
        by_labels[n_labels] = CalibrationSample(
            n_labels=n_labels,
            confidence=actual.calibration.confidence,
            correct=actual.calibration.correct,
        )
    return [by_labels[n] for n in sorted(by_labels)]


def target_reached(req: PlanRequest, last: ActualRound) -> bool:
    """Whether a model-metric goal's target is met by the last round's metric."""
    if not isinstance(req.goal, ModelMetricGoal) or last.metric is None:
        return False
    if higher_is_better(req.pilot.metric):
        return last.metric >= req.goal.target
    return last.metric <= req.goal.target


def replan_request(req: PlanRequest, actuals: ActualsRequest) -> PlanRequest | None:
    """The plan request at the actual state, or None when nothing is left to plan (the pool is labeled, or
    a model-metric target is met).

    Parameters
    ----------
    req : PlanRequest
        The request of the plan being tracked.
    actuals : ActualsRequest
        The rounds done so far (cumulative).

    Returns
    -------
    PlanRequest or None
        ``pool_size`` the items left, the pilot extended by the actual rounds' metrics and calibration
        samples, the work continuing from the labels of the pilot's last round (now the last actual round
        with a metric); batch sizes capped at the items left; everything else as in ``req``.
    """
    left = items_left(req, actuals)
    if left == 0 or target_reached(req, actuals.rounds[-1]):
        return None
    body = req.model_dump()
    body["pool_size"] = left
    body["pilot"]["rounds"] = [r.model_dump() for r in extended_pilot_rounds(req, actuals)]
    body["pilot"]["calibration"] = [s.model_dump() for s in extended_calibration(req, actuals)]
    body["pilot_labels_kept"] = True
    if req.batch_sizes is not None:
        body["batch_sizes"] = sorted({min(b, left) for b in req.batch_sizes})
    return PlanRequest.model_validate(body)


def add_money(spent: Decimal, q: MoneyQuantiles, currency: str) -> MoneyQuantiles:
    """``q`` shifted by ``spent``."""
    return MoneyQuantiles(
        **{k: money(float(spent + Decimal(getattr(q, k))), currency) for k in ("mean", "p10", "p50", "p90")}
    )


def band_money(values: np.ndarray, currency: str) -> tuple[str, str, str]:
    p10, p50, p90 = (money(float(v), currency) for v in values)
    return p10, p50, p90


def burn_up(band: PlanBand, actuals: ActualsRequest, currency: str) -> list[BurnUpRow]:
    """A row per round of the band or of the actuals: the plan's band and the actual cost where reported."""
    actual = {r.round: r.cost for r in actuals.rounds}
    last = max(band.cost.shape[0], actuals.rounds[-1].round)
    rows = []
    for round_number in range(1, last + 1):
        p10, p50, p90 = band_money(band.at(round_number), currency)
        cost = actual.get(round_number)
        rows.append(
            BurnUpRow(
                round=round_number,
                plan_p10=p10,
                plan_p50=p50,
                plan_p90=p90,
                actual=money(float(Decimal(cost)), currency) if cost is not None else None,
            )
        )
    return rows


def status_of(spent: Decimal, band_at: np.ndarray, currency: str) -> TrackingStatus:
    """on_track within the plan's P10-P90 at the round (as the band's money strings round it)."""
    p10, _, p90 = (Decimal(v) for v in band_money(band_at, currency))
    if spent > p90:
        return "over_plan"
    if spent < p10:
        return "under_plan"
    return "on_track"


def policy_changed(old: Policy | None, new: Policy | None, done_labels: int) -> bool:
    """Whether the re-plan's policy runs another process than the plan's: another strategy, batch size or
    threshold, or a cap on human labels (counted from the plan's start) more than a batch away."""
    if new is None:
        return False
    if old is None:
        return True
    if (old.strategy, old.batch_size) != (new.strategy, new.batch_size):
        return True
    if (old.confidence_threshold is None) != (new.confidence_threshold is None):
        return True
    if old.confidence_threshold is not None and new.confidence_threshold is not None:
        if not math.isclose(old.confidence_threshold, new.confidence_threshold, abs_tol=1e-9):
            return True
    old_cap, new_cap = old.human_label_cap, new.human_label_cap
    if (old_cap is None) != (new_cap is None):
        return True
    if old_cap is None or new_cap is None:
        return False
    return abs(new_cap + done_labels - old_cap) > old.batch_size


def amount(value: Decimal | float | str, currency: str) -> str:
    """Money in words: ``1,234.50 USD``."""
    return f"{Decimal(money(float(Decimal(str(value))), currency)):,} {currency}"


def volume_advice(band: PlanBand, last: ActualRound, strategy: str) -> list[str]:
    """Sentences on the volumes that run far from the plan's median at the last round."""
    out = []
    checks = (
        ("corrections", last.corrections, "corrections", "the model's pre-labels are wrong more often"),
        ("auto-accepted items", last.auto_accepted, "auto_accepted", "the model is more confident"),
        ("human labels", last.human_labels, "human_items", "humans get more items"),
    )
    for label, actual, name, above in checks:
        if actual is None:
            continue
        planned = band.volume_at(name, last.round)
        if planned <= 0:
            continue
        gap = actual / planned - 1.0
        if abs(gap) < ADVICE_GAP:
            continue
        side = "above" if gap > 0 else "below"
        why = f": {above} than the pilot suggested" if gap > 0 and name != "human_items" else ""
        if name == "auto_accepted" and gap < 0:
            why = ": the model is less confident than forecast, so humans get more of the pool"
        out.append(
            f"{label} run {abs(gap):.0%} {side} plan ({actual:,} by round {last.round} against the plan's "
            f"median of {planned:,.0f}){why}"
        )
    if strategy != "hybrid":
        out = [s for s in out if not s.startswith("auto-accepted")]
    return out


def policy_advice(old: Policy | None, new: Policy, forecast_delta: Decimal, currency: str) -> str:
    """The change of process in words, with what it is worth against the plan."""
    changes = []
    if old is None or old.strategy != new.strategy:
        changes.append(f"switch to {new.strategy}")
    if new.confidence_threshold is not None:
        before = old.confidence_threshold if old is not None else None
        if before is None:
            changes.append(f"auto-accept at threshold {new.confidence_threshold:.3g}")
        elif new.confidence_threshold > before + 1e-9:
            changes.append(f"raise the threshold from {before:.3g} to {new.confidence_threshold:.3g}")
        elif new.confidence_threshold < before - 1e-9:
            changes.append(f"lower the threshold from {before:.3g} to {new.confidence_threshold:.3g}")
    if old is not None and old.batch_size != new.batch_size:
        changes.append(f"send batches of {new.batch_size:,} instead of {old.batch_size:,}")
    if new.human_label_cap is not None:
        changes.append(f"stop human work after {new.human_label_cap:,} more human labels")
    what = ", ".join(changes) or "adjust the process"
    sign = "+" if forecast_delta >= 0 else "-"
    return (
        f"for the next rounds, {what} (the policy below): the re-plan with it expects {sign}"
        f"{amount(abs(forecast_delta), currency)} against the plan's P50"
    )


def done_forecast(plan: PlanResponse, spent: Decimal, human_labels: int, currency: str) -> TrackingForecast:
    """The forecast when nothing is left: the total is what was spent."""
    zero = money(0.0, currency)
    spent_text = money(float(spent), currency)
    return TrackingForecast(
        strategy=plan.recommendation.strategy,
        cost=MoneyQuantiles(mean=spent_text, p10=spent_text, p50=spent_text, p90=spent_text),
        cost_to_go=MoneyQuantiles(mean=zero, p10=zero, p50=zero, p90=zero),
        human_labels=Quantiles(p10=human_labels, p50=human_labels, p90=human_labels),
        days=Quantiles(p10=0.0, p50=0.0, p90=0.0),
        label_error=Quantiles(p10=0.0, p50=0.0, p90=0.0),
        probability_goal_met=1.0,
    )


def replanned_forecast(
    f: StrategyForecast, spent: Decimal, human_labels: int, currency: str
) -> TrackingForecast:
    """The total: what was spent and labeled so far plus the re-plan's forecast ``f`` of the rest."""
    return TrackingForecast(
        strategy=f.strategy,
        cost=add_money(spent, f.cost, currency),
        cost_to_go=f.cost,
        human_labels=Quantiles(
            p10=human_labels + f.human_labels.p10,
            p50=human_labels + f.human_labels.p50,
            p90=human_labels + f.human_labels.p90,
        ),
        days=f.days,
        label_error=f.label_error,
        probability_goal_met=f.probability_goal_met,
    )


def track_plan(
    plan_request: PlanRequest | dict[str, Any],
    plan: PlanResponse | dict[str, Any],
    actuals: ActualsRequest | dict[str, Any],
) -> ActualsResponse:
    """Plan versus actual: spent so far, the re-planned forecast of the total, the burn-up, a status and
    advice.

    Parameters
    ----------
    plan_request : PlanRequest or dict
        The request that made ``plan`` (its pilot, goal, rate card and search are re-used).
    plan : PlanResponse or dict
        The plan being tracked (its recommendation gives the band; its policy is compared with the
        re-plan's).
    actuals : ActualsRequest or dict
        The rounds really done, cumulative, the cost as decimal strings in the plan's currency.

    Returns
    -------
    ActualsResponse

    Raises
    ------
    InvalidInputError
        naming the offending field of ``actuals`` (``rounds[i].…``) or of the re-built request.
    """
    req = parse_request(PlanRequest, plan_request)
    tracked = parse_request(PlanResponse, plan)
    acts = parse_request(ActualsRequest, actuals)
    currency = tracked.currency
    last = acts.rounds[-1]
    left = items_left(req, acts)
    spent = Decimal(last.cost)
    band = plan_band(req, tracked, min_rounds=last.round)
    band_now = band.at(last.round)
    status = status_of(spent, band_now, currency)
    warnings: list[str] = []
    replan = replan_request(req, acts)
    new_policy: Policy | None = None
    if replan is None:
        forecast = done_forecast(tracked, spent, last.human_labels, currency)
        warnings.append(
            "nothing is left to plan (the pool is labeled or the target is met): the total is what was spent"
        )
    else:
        replanned = make_plan(replan)
        warnings += [f"re-plan: {w}" for w in replanned.warnings]
        chosen = next(f for f in replanned.strategies if f.strategy == replanned.recommendation.strategy)
        forecast = replanned_forecast(chosen, spent, last.human_labels, currency)
        if policy_changed(tracked.policy, replanned.policy, last.human_labels):
            new_policy = replanned.policy
    plan_p50 = Decimal(tracked.recommendation.cost.p50)
    advice = [status_sentence(status, spent, band_now, last.round, currency)]
    advice += volume_advice(band, last, band.strategy)
    delta = Decimal(forecast.cost.p50) - plan_p50
    advice.append(
        f"the re-plan from the actual state forecasts {amount(forecast.cost.p50, currency)} in total "
        f"(P10-P90 {amount(forecast.cost.p10, currency)} to {amount(forecast.cost.p90, currency)}), "
        f"{'+' if delta >= 0 else '-'}{amount(abs(delta), currency)} against the plan's P50 of "
        f"{amount(plan_p50, currency)}"
    )
    if new_policy is not None:
        advice.append(policy_advice(tracked.policy, new_policy, delta, currency))
    elif replan is not None:
        advice.append("keep running the plan's policy: the re-plan recommends the same process")
    if last.metric is None:
        advice.append(
            "report the model's metric (and a calibration sample) with each round: the re-plan then refits "
            "the learning curve and re-certifies the threshold on the new evidence"
        )
    return ActualsResponse(
        plan_id=tracked.id,
        currency=currency,
        rounds=last.round,
        spent=money(float(spent), currency),
        items_left=left,
        plan_cost=tracked.recommendation.cost,
        forecast=forecast,
        burn_up=burn_up(band, acts, currency),
        status=status,
        advice=advice,
        policy=new_policy,
        assumptions=list(ASSUMPTIONS),
        warnings=warnings,
    )


def status_sentence(
    status: TrackingStatus, spent: Decimal, band_at: np.ndarray, round_number: int, currency: str
) -> str:
    """The status in words: where what was spent lies in the plan's band for the round."""
    p10, p50, p90 = band_money(band_at, currency)
    head = f"after round {round_number}, {amount(spent, currency)} spent"
    if status == "over_plan":
        over = spent - Decimal(p90)
        return f"{head}: over plan, {amount(over, currency)} above the plan's P90 of {amount(p90, currency)}"
    if status == "under_plan":
        under = Decimal(p10) - spent
        return (
            f"{head}: under plan, {amount(under, currency)} below the plan's P10 of {amount(p10, currency)}"
        )
    return (
        f"{head}: on track, within the plan's P10-P90 of {amount(p10, currency)} to {amount(p90, currency)} "
        f"(P50 {amount(p50, currency)})"
    )


__all__ = [
    "PlanBand",
    "plan_band",
    "replan_request",
    "track_plan",
]
