"""The plan workbook: what a finance reader gets from a plan, as a sheet model.

Sheets: Summary, Assumptions (every input as a named, editable cell), Costs (live formulas over the
Assumptions' unit prices), Strategies, Learning curve, Thresholds, Schedule, Sensitivity. Figures are the
plan's own numbers computed in Python; the Costs sheet (and the live line of the Summary) recompute the mean
cost of each strategy from its mean volumes of work, so changing a unit price moves them.

Charts are native (they point at the sheets' cells) wherever a spreadsheet can draw them: the learning curve
with its P10 and P90 lines, coverage and risk by threshold, the schedule, the sensitivity tornado. Each
strategy's cost range side by side is not a chart type openpyxl writes, so the Strategies sheet embeds it as a
picture (:func:`reports.charts.costs_chart`).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import absolute_coordinate

from annoplan.planner.schemas.common import metric_name
from annoplan.planner.schemas.plans import (
    LabeledDatasetGoal,
    ModelMetricGoal,
    MoneyQuantiles,
    PlanRequest,
    PlanResponse,
    StrategyForecast,
)
from annoplan.planner.validation import parse_request
from annoplan.reports.model import (
    Cell,
    Chart,
    Formula,
    Picture,
    Series,
    Sheet,
    SheetBuilder,
    Workbook,
    coordinate,
)
from annoplan.reports.render import render_workbook
from annoplan.reports.sections import (
    PRICE_NAMES,
    QUANTILE_NOTE,
    amount,
    closing_sections,
    heading,
    input_name,
    inputs_sheets,
    key_value,
    paragraphs,
    runbook_sheet,
    strategy_name,
    title,
)
from annoplan.simulators.costs import RateCard

#: unit prices of a rate card, in the order of the cost formula
PRICES = ("label", "review", "correction", "audit", "platform_fee", "round_overhead")
#: request fields that are money, and those that are shares in [0, 1]
MONEY_FIELDS = frozenset([*(f"costs.{p}" for p in PRICES), "value.per_metric_point", "value.error_cost"])
SHARE_FIELDS = frozenset(["costs.audit_rate", "delta", "probability", "goal.target", "goal.max_label_error"])
#: volumes of work on the Costs sheet: (field of expected_work, column header)
VOLUMES = (
    ("fresh_labels", "Fresh labels"),
    ("reviews", "Reviews"),
    ("corrections", "Corrections"),
    ("audits", "Audits"),
    ("auto_accepted", "Auto-accepted"),
    ("rounds", "Rounds"),
)
#: the volume of work (field of expected_work) each unit price but the platform fee multiplies
PRICE_VOLUMES = {
    "label": "fresh_labels",
    "review": "reviews",
    "correction": "corrections",
    "audit": "audits",
    "round_overhead": "rounds",
}
#: inputs that drive the workbook's live formulas (the unit prices); the others are recorded values
LIVE_INPUTS = frozenset(f"costs.{p}" for p in PRICES)
#: titles of the plan workbook's own sheets (a formula refers to another sheet by its title)
SUMMARY_SHEET, COSTS_SHEET = "Summary", "Costs"
STRATEGIES_SHEET, CURVE_SHEET, THRESHOLDS_SHEET, SCHEDULE_SHEET, SENSITIVITY_SHEET = (
    "Strategies",
    "Learning curve",
    "Thresholds",
    "Schedule",
    "Sensitivity",
)


def plan_workbook(plan: PlanResponse, request: PlanRequest | dict[str, Any]) -> bytes:
    """The plan as an ``.xlsx`` workbook.

    Parameters
    ----------
    plan : PlanResponse
        What ``planner.make_plan`` returned for ``request``.
    request : PlanRequest or dict
        The plan request (its pilot rounds, rate card, goal, name and notes fill the sheets).

    Returns
    -------
    bytes
        The workbook, ready for a file or an HTTP response.

    Raises
    ------
    InvalidInputError
        When ``request`` is not a valid plan request (naming the field).
    """
    return render_workbook(build_plan_workbook(plan, request))


def build_plan_workbook(plan: PlanResponse, request: PlanRequest | dict[str, Any]) -> Workbook:
    """The sheet model of :func:`plan_workbook` (values and style names, no openpyxl)."""
    req = parse_request(PlanRequest, request)
    metric = metric_name(req.pilot.metric)
    costs, live_rows = costs_sheet(plan, req)
    sheets = (
        summary_sheet(plan, req, live_rows),
        *assumptions_sheets(plan, req),
        costs,
        strategies_sheet(plan, metric),
        curve_sheet(plan, req),
        thresholds_sheet(plan, req),
        schedule_sheet(plan),
        sensitivity_sheet(plan, req, live_rows[plan.recommendation.strategy]),
        runbook_sheet(plan.policy),
    )
    return Workbook(title=f"annoplan plan: {plan.name or 'unnamed'}", currency=plan.currency, sheets=sheets)


def describe_goal(req: PlanRequest) -> str:
    """The goal in words."""
    goal = req.goal
    if isinstance(goal, LabeledDatasetGoal):
        return f"every item of the pool labeled, at most {goal.max_label_error:.1%} of them wrong"
    assert isinstance(goal, ModelMetricGoal)
    return f"a model reaching {metric_name(req.pilot.metric)} {goal.target:.4g} on the evaluation set"


def recommended(plan: PlanResponse) -> StrategyForecast:
    """The forecast of the recommended strategy."""
    return next(f for f in plan.strategies if f.strategy == plan.recommendation.strategy)


def cost_formula(row: int, estimate: float) -> Formula:
    """The mean cost of the volumes of work in ``row`` of the Costs sheet at the Assumptions' unit prices
    (``simulators.costs.RateCard.total``); ``estimate``: its value at the request's prices."""
    cell = {key: coordinate(row, 2 + i) for i, (key, _) in enumerate(VOLUMES)}
    price = {p: input_name(f"costs.{p}") for p in PRICES}
    touched = "+".join(cell[k] for k in ("fresh_labels", "reviews", "corrections", "auto_accepted"))
    return Formula(
        f"={price['label']}*{cell['fresh_labels']}+{price['review']}*{cell['reviews']}"
        f"+{price['correction']}*{cell['corrections']}+{price['audit']}*{cell['audits']}"
        f"+{price['platform_fee']}*({touched})+{price['round_overhead']}*{cell['rounds']}",
        estimate,
    )


#: column of the live mean cost on the Costs sheet
LIVE_COLUMN = 2 + len(VOLUMES)


def live_costs(plan: PlanResponse, req: PlanRequest) -> dict[str, float]:
    """Each strategy's mean cost at the request's unit prices, as the live formulas compute it."""
    card = RateCard.from_mapping(req.costs.model_dump())
    return {f.strategy: float(card.total(f.expected_work.volumes())) for f in plan.strategies}


def costs_sheet(plan: PlanResponse, req: PlanRequest) -> tuple[Sheet, dict[str, int]]:
    """Live formulas: each strategy's mean volumes of work times the Assumptions' unit prices; returns the
    sheet and the row of each strategy."""
    sb = SheetBuilder(COSTS_SHEET)
    manual = any(f.strategy == "manual" for f in plan.strategies)
    span = LIVE_COLUMN + 2 + int(manual)
    title(
        sb,
        "Costs at the Assumptions' unit prices",
        span,
        note=(
            "Mean volumes of work per strategy over the simulated draws, priced by formulas at the unit "
            "prices on the Assumptions sheet (costs_label, costs_review, ...). Change a price there and "
            "these costs move; 'Mean cost (plan)' keeps the figure the plan computed, for comparison."
        ),
    )
    sb.add(
        Cell("Strategy", "header_left"),
        *(Cell(header, "header") for _, header in VOLUMES),
        Cell("Mean cost (live)", "header"),
        Cell("Mean cost (plan)", "header"),
        Cell("Live minus plan", "header"),
        *([Cell("Savings vs manual (live)", "header")] if manual else []),
    )
    first = sb.next_row
    rows = {f.strategy: first + i for i, f in enumerate(plan.strategies)}
    live = get_column_letter(LIVE_COLUMN)
    estimates = live_costs(plan, req)
    for f in plan.strategies:
        r = rows[f.strategy]
        estimate = estimates[f.strategy]
        volumes = [
            Cell(getattr(f.expected_work, key), "decimal" if key == "rounds" else "count")
            for key, _ in VOLUMES
        ]
        savings = (
            [Cell(Formula(f"={live}{rows['manual']}-{live}{r}", estimates["manual"] - estimate), "money")]
            if manual
            else []
        )
        sb.add(
            Cell(
                strategy_name(f.strategy), "strong" if f.strategy == plan.recommendation.strategy else "label"
            ),
            *volumes,
            Cell(cost_formula(r, estimate), "money"),
            Cell(amount(f.cost.mean), "money"),
            Cell(Formula(f"={live}{r}-{coordinate(r, LIVE_COLUMN + 1)}", 0.0), "money"),
            *savings,
        )
    sb.blank()
    paragraphs(
        sb,
        [
            "Mean cost = label x fresh labels + review x reviews + correction x corrections + audit x audits "
            "+ platform fee x (fresh labels + reviews + corrections + auto-accepted) + overhead x rounds. "
            "Live minus plan: at the request's unit prices only the rounding to the currency's minor unit; "
            "after a price edit, what the edit changes. Percentiles (P10/P50/P90) come from the simulation "
            "and do not move with the prices: run a new plan for those."
        ],
        span,
        "note",
    )
    return sb.build(header_rows=4, label_columns=1, landscape=True), rows


def summary_sheet(plan: PlanResponse, req: PlanRequest, live_rows: dict[str, int]) -> Sheet:
    """The recommendation and headline figures, reasons, warnings and notes."""
    sb = SheetBuilder(SUMMARY_SHEET)
    span = 5
    rec = plan.recommendation
    best = recommended(plan)
    sb.add(Cell("Annotation plan", "title", span=span))
    sb.add(Cell(plan.name or "Unnamed plan", "subtitle", span=span))
    sb.blank()
    key_value(sb, "Goal", Cell(describe_goal(req), "wrap", span=span - 1))
    key_value(sb, "Pool size (items)", Cell(req.pool_size, "count"))
    key_value(sb, "Currency", Cell(plan.currency))
    key_value(sb, "Plan ID", Cell(plan.id, span=span - 1))
    sb.blank()
    heading(sb, "Recommendation" if rec.reachable else "Not reachable: the closest attempt", span)
    key_value(sb, "Strategy", Cell(strategy_name(rec.strategy), "strong"))
    key_value(
        sb,
        "Confidence threshold",
        Cell(rec.confidence_threshold, "threshold")
        if rec.confidence_threshold is not None
        else Cell("none: nothing is auto-accepted", span=span - 1),
    )
    key_value(sb, "Batch size (items per round)", Cell(rec.batch_size, "count"))
    key_value(
        sb,
        f"Human labels to budget ({req.probability:.0%})",
        Cell(rec.human_labels_budget, "count")
        if rec.human_labels_budget is not None
        else Cell(f"no budget meets the goal with probability {req.probability:.0%}", span=span - 1),
    )
    key_value(
        sb,
        "Human labels, median (P50)",
        Cell(rec.human_labels_p50, "count") if rec.human_labels_p50 is not None else Cell("n/a", "missing"),
    )
    key_value(sb, "Human work stops", Cell(rec.stop_rule or "n/a", "wrap", span=span - 1))
    key_value(sb, "Probability goal met", Cell(best.probability_goal_met, "percent"))
    key_value(sb, "Required probability", Cell(req.probability, "percent"))
    sb.blank()
    sb.add(
        Cell(None, "header_left"),
        *(Cell(text, "header") for text in ("Mean", "P10", "P50", "P90")),
    )
    sb.add(*_money_row("Cost", rec.cost, highlight=True))
    sb.add(
        *_money_row(
            "Savings vs manual",
            rec.savings_vs_manual,
            "n/a: manual was not simulated" if rec.reachable else "n/a: the goal is not reachable",
        )
    )
    sb.add(
        Cell("Calendar days", "label"),
        Cell(None),
        *(Cell(getattr(best.days, k), "days") for k in ("p10", "p50", "p90")),
    )
    key_value(
        sb,
        "Mean cost, live",
        Cell(
            Formula(
                f"={COSTS_SHEET}!{absolute_coordinate(coordinate(live_rows[rec.strategy], LIVE_COLUMN))}",
                live_costs(plan, req)[rec.strategy],
            ),
            "money",
        ),
        Cell("at the unit prices on the Assumptions sheet (see Costs)", "note", span=span - 2),
    )
    if rec.savings_vs_manual is not None and "manual" in live_rows:
        estimates = live_costs(plan, req)
        key_value(
            sb,
            "Mean savings vs manual, live",
            Cell(
                Formula(
                    f"={COSTS_SHEET}!{absolute_coordinate(coordinate(live_rows['manual'], LIVE_COLUMN))}"
                    f"-{COSTS_SHEET}!{absolute_coordinate(coordinate(live_rows[rec.strategy], LIVE_COLUMN))}",
                    estimates["manual"] - estimates[rec.strategy],
                ),
                "money",
            ),
            Cell("manual's live mean cost minus the recommendation's", "note", span=span - 2),
        )
    sb.blank()
    heading(sb, "Why", span)
    paragraphs(sb, [f"- {reason}" for reason in rec.reasons], span)
    closing_sections(sb, plan.warnings, req.notes, span)
    return sb.build(widths=((1, 30.0),))


def _money_row(
    label: str, q: MoneyQuantiles | None, missing: str = "n/a", highlight: bool = False
) -> tuple[Cell, ...]:
    if q is None:
        return (Cell(label, "label"), Cell(missing, span=4))
    return (
        Cell(label, "label"),
        *(Cell(amount(getattr(q, k)), "money", highlight=highlight) for k in ("mean", "p10", "p50", "p90")),
    )


#: meanings of request fields whose schema gives none
MEANINGS = {
    "name": "free text, shown in reports",
    "notes": "free text, shown in reports",
    "goal.type": "model_metric (train a model to a target) or labeled_dataset (label the whole pool)",
    "goal.target": "the metric the model must reach",
    "goal.max_label_error": "largest share of the pool that may end up wrong",
    "pilot.metric": "the pilot's metric",
    "strategies": "strategies compared",
    "batch_sizes": "batch sizes searched (items per round; empty: the planner's spread)",
    "seed": "seed of the simulation (same seed, same plan)",
}


def assumptions_sheets(plan: PlanResponse, req: PlanRequest) -> tuple[Sheet, Sheet]:
    """Every input as a named, editable cell and the planner's own assumptions; and the pilot's tables."""
    return inputs_sheets(
        req,
        plan.assumptions,
        money=MONEY_FIELDS,
        shares=SHARE_FIELDS,
        meanings=MEANINGS,
        live=LIVE_INPUTS,
        note=(
            "Every input is a named cell (the name is the input's path with _ for dots, e.g. costs_label). "
            "The blue cells, the unit prices, are inputs: changing one moves the Costs sheet, the live "
            "costs on the Summary and the Sensitivity sheet. The other values are recorded as the plan "
            "used them and drive nothing: run a new plan to change the forecasts."
        ),
    )


def strategies_sheet(plan: PlanResponse, metric: str) -> Sheet:
    """Every strategy side by side: cost (mean, P10/P50/P90), volumes, days, metric, label error, settings."""
    sb = SheetBuilder(STRATEGIES_SHEET)
    forecasts = plan.strategies
    span = 2 + len(forecasts)
    title(sb, "Strategies side by side", span, note=QUANTILE_NOTE)
    rec = plan.recommendation.strategy
    sb.add(
        Cell("Quantity", "header_left"),
        Cell("Statistic", "header"),
        *(
            Cell(
                strategy_name(f.strategy) + (" (recommended)" if f.strategy == rec else ""),
                "header",
                highlight=f.strategy == rec,
            )
            for f in forecasts
        ),
    )

    def block(label: str, stats: tuple[str, ...], values: list[list[float | None]], style: str) -> None:
        for i, stat in enumerate(stats):
            sb.add(
                Cell(label if i == 0 else None, "strong"),
                Cell(stat.upper() if stat.startswith("p") else stat, "label"),
                *(Cell(v[i], style) for v in values),
            )

    money_stats = ("mean", "p10", "p50", "p90")
    block(
        "Cost", money_stats, [[amount(getattr(f.cost, k)) for k in money_stats] for f in forecasts], "money"
    )
    lifetime = [getattr(f, "lifetime_cost", None) for f in forecasts]
    if any(q is not None for q in lifetime):
        block(
            "Lifetime cost",
            money_stats,
            [[amount(getattr(q, k)) if q is not None else None for k in money_stats] for q in lifetime],
            "money",
        )
    stats = ("p10", "p50", "p90")
    for attr, label, style in (
        ("human_labels", "Human labels", "count"),
        ("reviews", "Reviews", "count"),
        ("corrections", "Corrections", "count"),
        ("auto_accepted", "Auto-accepted", "count"),
        ("audits", "Audits", "count"),
        ("rounds", "Rounds", "count"),
        ("days", "Calendar days", "days"),
        ("final_metric", f"Final {metric}", "percent"),
        ("label_error", "Label error", "percent_fine"),
    ):
        block(label, stats, [[getattr(getattr(f, attr), k) for k in stats] for f in forecasts], style)
    sb.add(
        Cell("Goal met", "strong"),
        Cell("probability", "label"),
        *(Cell(f.probability_goal_met, "percent") for f in forecasts),
    )
    sb.add(
        Cell("Settings", "strong"),
        Cell("threshold", "label"),
        *(
            Cell(f.settings.confidence_threshold, "threshold")
            if f.settings.confidence_threshold is not None
            else Cell("none", "missing")
            for f in forecasts
        ),
    )
    sb.add(
        Cell(None), Cell("batch size", "label"), *(Cell(f.settings.batch_size, "count") for f in forecasts)
    )
    sb.add(
        Cell(None),
        Cell("labels to budget", "label"),
        *(
            Cell(f.settings.human_labels_budget, "count")
            if f.settings.human_labels_budget is not None
            else Cell("none", "missing")
            for f in forecasts
        ),
    )
    sb.blank()
    paragraphs(
        sb,
        [
            "Label error is the share of the pool left wrong; counts are items; the settings are those the "
            "forecast assumes (threshold: auto-accept at or above, hybrid only). Labels to budget: human "
            "labels that suffice with the plan's required probability (the strategy's cap where it has "
            "one); the median is the P50 of Human labels above."
        ],
        span,
        "note",
    )
    sb.blank()
    sb.pictures.append(costs_picture(plan, coordinate(sb.next_row + 1, 1)))
    return sb.build(header_rows=4, label_columns=2, widths=((1, 16.0), (2, 12.0)))


def costs_picture(plan: PlanResponse, anchor: str) -> Picture:
    """Each strategy's cost range side by side (P10-P90, P50, mean) as a PNG picture at ``anchor``: a box or
    range chart is not among the native charts a workbook can be written with."""
    from annoplan.reports.charts import COSTS_PICTURE, chart_bytes, costs_chart  # matplotlib: load on use

    width, height = COSTS_PICTURE
    ranges = "; ".join(
        f"{strategy_name(f.strategy)} {Decimal(f.cost.p10):,.0f} to {Decimal(f.cost.p90):,.0f}, "
        f"median {Decimal(f.cost.p50):,.0f}"
        for f in plan.strategies
    )
    return Picture(
        png=chart_bytes(costs_chart(plan), "png"),
        anchor=anchor,
        width=width,
        height=height,
        title="Cost by strategy",
        description=(
            f"Cost of each strategy in {plan.currency}, P10 to P90 as a bar, the median (P50) and the mean "
            f"marked, the recommended one filled: {ranges}."
        ),
    )


def curve_sheet(plan: PlanResponse, req: PlanRequest) -> Sheet:
    """The pilot's measured points, the forecast P50 and its P10-P90 band, and a chart with a log x axis."""
    sb = SheetBuilder(CURVE_SHEET)
    metric = metric_name(req.pilot.metric)
    span = 7
    title(
        sb,
        "Learning curve",
        span,
        note=(
            f"The {metric} a model trained on n labels will measure: the pilot's measured rounds, the "
            "forecast median (P50) and its P10-P90 band. The chart's label axis is logarithmic."
        ),
    )
    sb.add(
        *(Cell(h, "header") for h in ("Labels", "P10", "P50", "P90")),
        Cell(None),
        Cell("Pilot labels", "header"),
        Cell(f"Pilot {metric}", "header"),
    )
    first = sb.next_row
    curve, pilot = plan.learning_curve, req.pilot.rounds
    for i in range(max(len(curve), len(pilot))):
        left: tuple[Cell, ...] = (Cell(None),) * 4
        if i < len(curve):
            p = curve[i]
            left = (
                Cell(p.n_labels, "count"),
                *(Cell(getattr(p, k), "percent") for k in ("p10", "p50", "p90")),
            )
        right: tuple[Cell, ...] = ()
        if i < len(pilot):
            right = (Cell(pilot[i].n_labels, "count"), Cell(pilot[i].value, "percent"))
        sb.add(*left, Cell(None), *right)
    last_curve, last_pilot = first + len(curve) - 1, first + len(pilot) - 1
    labels = [p.n_labels for p in curve] + [r.n_labels for r in pilot]
    values = [v for p in curve for v in (p.p10, p.p90)] + [r.value for r in pilot]
    band = "8FAADC"
    series = [
        Series(
            f"Pilot {metric}",
            sb.ref(7, first, last_pilot),
            sb.ref(6, first, last_pilot),
            "markers",
            color="C55A11",
        ),
    ]
    if curve:
        series += [
            Series(
                "P50 forecast",
                sb.ref(3, first, last_curve),
                sb.ref(1, first, last_curve),
                "line",
                color="2F5597",
            ),
            Series("P10", sb.ref(2, first, last_curve), sb.ref(1, first, last_curve), "dashed", color=band),
            Series("P90", sb.ref(4, first, last_curve), sb.ref(1, first, last_curve), "dashed", color=band),
        ]
    sb.blank()
    sb.charts.append(
        Chart(
            kind="scatter",
            title=f"{metric[:1].upper()}{metric[1:]} by number of labels",
            series=tuple(series),
            anchor=coordinate(sb.next_row + 1, 1),
            x_title="labels (log scale)",
            y_title=metric,
            x_log=True,
            x_min=10.0 ** math.floor(math.log10(min(labels))),
            x_max=10.0 ** math.ceil(math.log10(max(labels))),
            y_min=max(0.0, math.floor(min(values) * 20) / 20),
            y_max=min(1.0, math.ceil(max(values) * 20) / 20),
            y_style="percent",
        )
    )
    return sb.build(header_rows=4)


def thresholds_sheet(plan: PlanResponse, req: PlanRequest) -> Sheet:
    """Coverage and risk by confidence threshold, the chosen one marked, and a chart of each."""
    sb = SheetBuilder(THRESHOLDS_SHEET)
    goal = req.goal.max_label_error if isinstance(req.goal, LabeledDatasetGoal) else None
    span = 5 + int(goal is not None)
    title(
        sb,
        "Confidence thresholds",
        span,
        note=(
            "On the pilot's latest calibration sample: the share auto-accepted at each threshold (coverage), "
            "the measured risk (see threshold_risk on the Assumptions sheet) and its one-sided "
            "Clopper-Pearson upper bound at delta, against the goal's largest label error. The chosen "
            "threshold is highlighted."
        ),
    )
    if not plan.thresholds:
        paragraphs(
            sb,
            [
                "Hybrid routing was not simulated in this plan (it needs a labeled_dataset goal and "
                "calibration samples in the pilot), so no threshold was chosen."
            ],
            span,
        )
        return sb.build()
    headers = (
        "Threshold",
        "Coverage",
        "Risk",
        "Upper bound",
        *(("Goal",) if goal is not None else ()),
        "Chosen",
    )
    sb.add(*(Cell(h, "header") for h in headers))
    first = sb.next_row
    chosen_row = None
    for row in plan.thresholds:
        mark = row.chosen
        r = sb.add(
            Cell(row.threshold, "threshold", highlight=mark),
            Cell(row.coverage, "percent", highlight=mark),
            Cell(row.risk, "percent_fine", highlight=mark),
            Cell(row.upper_bound, "percent_fine", highlight=mark),
            *((Cell(goal, "percent_fine", highlight=mark),) if goal is not None else ()),
            Cell("chosen" if mark else None, highlight=mark),
        )
        if mark:
            chosen_row = r
    last = sb.next_row - 1
    x = sb.ref(1, first, last)
    chosen = [] if chosen_row is None else [sb.ref(1, chosen_row, chosen_row)]
    coverage = [Series("Coverage", sb.ref(2, first, last), x, "line", color="2F5597")]
    risk = [
        Series("Risk", sb.ref(3, first, last), x, "line", color="C55A11"),
        Series("Upper bound", sb.ref(4, first, last), x, "dashed", color="C55A11"),
        *([Series("Goal", sb.ref(5, first, last), x, "dashed", color="7F7F7F")] if goal is not None else []),
    ]
    for at in chosen:
        coverage.append(Series("Chosen", sb.ref(2, at.first, at.last), at, "marker", color="548235"))
        risk.append(Series("Chosen", sb.ref(4, at.first, at.last), at, "marker", color="548235"))
    for i, (name, series, style) in enumerate(
        (("Coverage by threshold", coverage, "percent"), ("Risk by threshold", risk, "percent_fine"))
    ):
        sb.charts.append(
            Chart(
                kind="scatter",
                title=name,
                series=tuple(series),
                anchor=coordinate(first + 20 * i, span + 2),
                x_title="confidence threshold",
                x_min=0.0,
                x_max=1.0,
                y_min=0.0,
                y_max=1.0 if i == 0 else None,
                x_style="decimal",
                y_style=style,
                height_cm=9.5,
            )
        )
    return sb.build(header_rows=4, landscape=True)


def schedule_sheet(plan: PlanResponse) -> Sheet:
    """The median path of every strategy round by round, and cumulative cost by round."""
    sb = SheetBuilder(SCHEDULE_SHEET)
    span = 5
    title(
        sb,
        "Schedule",
        span,
        note="Round by round along the median path of each strategy: cumulative human labels and cost, and "
        "items left in the pool.",
    )
    sb.add(
        *(
            Cell(h, "header")
            for h in ("Strategy", "Round", "Human labels (cumulative)", "Cost (cumulative)", "Items left")
        )
    )
    header = sb.next_row - 1
    series = []
    for f in plan.strategies:
        first = sb.next_row
        for row in f.schedule:
            sb.add(
                Cell(strategy_name(f.strategy)),
                Cell(row.round, "count"),
                Cell(row.human_labels, "count"),
                Cell(amount(row.cost), "money"),
                Cell(row.remaining, "count"),
            )
        if f.schedule:
            last = sb.next_row - 1
            series.append(
                Series(
                    strategy_name(f.strategy), sb.ref(4, first, last), sb.ref(2, first, last), "line_markers"
                )
            )
    last_row = sb.next_row - 1
    if series:
        sb.charts.append(
            Chart(
                kind="scatter",
                title="Cumulative cost by round (median path)",
                series=tuple(series),
                anchor=coordinate(header + 1, span + 2),
                x_title="round",
                y_title=f"cost ({plan.currency})",
                x_min=0.0,
                y_min=0.0,
                y_style="money",
                height_cm=11.0,
            )
        )
    return sb.build(
        header_rows=header, landscape=True, autofilter=f"A{header}:{coordinate(max(last_row, header), span)}"
    )


def price_volume(price: str, row: int) -> str:
    """The volume of work a unit price multiplies, as a reference into ``row`` of the Costs sheet."""
    cell = {key: f"{COSTS_SHEET}!{coordinate(row, 2 + i)}" for i, (key, _) in enumerate(VOLUMES)}
    if price == "platform_fee":
        touched = "+".join(cell[k] for k in ("fresh_labels", "reviews", "corrections", "auto_accepted"))
        return f"({touched})"
    return cell[PRICE_VOLUMES[price]]


def sensitivity_sheet(plan: PlanResponse, req: PlanRequest, live_row: int) -> Sheet:
    """The recommended mean cost when each unit price moves down and up, as a table and a tornado chart:
    live, at the unit prices on the Assumptions sheet."""
    sb = SheetBuilder(SENSITIVITY_SHEET)
    span = 7
    best = recommended(plan)
    card = RateCard.from_mapping(req.costs.model_dump())
    base = float(card.total(best.expected_work.volumes()))
    title(
        sb,
        "Sensitivity to unit prices",
        span,
        note=(
            f"The mean cost of the recommendation ({strategy_name(best.strategy)}) when one unit price moves "
            "down and up, the volumes of work held fixed; the largest swing at the plan's prices first. "
            "Live: the prices are those on the Assumptions sheet."
        ),
    )
    base_cell = absolute_coordinate(
        coordinate(
            key_value(
                sb,
                "Mean cost at today's prices",
                Cell(
                    Formula(f"={COSTS_SHEET}!{absolute_coordinate(coordinate(live_row, LIVE_COLUMN))}", base),
                    "money",
                ),
            ),
            2,
        )
    )
    sb.blank()
    sb.add(
        Cell("Unit price", "header_left"),
        *(
            Cell(h, "header")
            for h in (
                "Today",
                "Move",
                "Cost, price down",
                "Cost, price up",
                "Change, price down",
                "Change, price up",
            )
        ),
    )
    header = sb.next_row - 1
    first = sb.next_row
    rows = sorted(plan.sensitivity, key=lambda s: -(Decimal(s.high) - Decimal(s.low)))
    for s in rows:
        low, high = amount(s.low), amount(s.high)
        assert low is not None and high is not None
        r = sb.next_row
        today = float(getattr(req.costs, s.price, 0.0))
        swing = f"{coordinate(r, 3)}*{coordinate(r, 2)}*{price_volume(s.price, live_row)}"
        sb.add(
            Cell(PRICE_NAMES.get(s.price, s.price), "label"),
            Cell(Formula(f"={input_name(f'costs.{s.price}')}", today), "money"),
            Cell(s.change, "percent"),
            Cell(Formula(f"={base_cell}+{coordinate(r, 6)}", low), "money"),
            Cell(Formula(f"={base_cell}+{coordinate(r, 7)}", high), "money"),
            Cell(Formula(f"=-{swing}", round(low - base, 6)), "money"),
            Cell(Formula(f"={swing}", round(high - base, 6)), "money"),
        )
    last = sb.next_row - 1
    if rows:
        sb.blank()
        sb.charts.append(
            Chart(
                kind="bar",
                title="Change in mean cost when one unit price moves",
                series=(
                    Series("Price down", sb.ref(6, first, last), sb.ref(1, first, last), color="548235"),
                    Series("Price up", sb.ref(7, first, last), sb.ref(1, first, last), color="C00000"),
                ),
                anchor=coordinate(sb.next_row + 1, 1),
                y_title=f"change in mean cost ({plan.currency})",
                y_style="money",
                width_cm=24.0,
                height_cm=9.0,
            )
        )
    return sb.build(header_rows=header, label_columns=1, landscape=True)
