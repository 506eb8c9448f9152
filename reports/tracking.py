"""The Burn-up sheet of a tracked plan: the plan's band of the cumulative cost by round against the actual
cost, a native chart of both, the status, the re-planned forecast and the advice.

:func:`burn_up_sheet` is the sheet model; :func:`tracked_plan_workbook` is the plan workbook
(:func:`reports.plan.build_plan_workbook`) with the Burn-up sheet after the Schedule, as bytes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from annoplan.planner.schemas.plans import PlanRequest, PlanResponse
from annoplan.planner.schemas.tracking import ActualsResponse
from annoplan.reports.model import Cell, Chart, Series, Sheet, SheetBuilder, Workbook, coordinate
from annoplan.reports.plan import build_plan_workbook
from annoplan.reports.render import render_workbook
from annoplan.reports.sections import amount, heading, key_value, paragraphs, strategy_name, title

BURN_UP = "Burn-up"
STATUS_WORDS = {
    "on_track": "on track: within the plan's P10-P90",
    "over_plan": "over plan: above the plan's P90",
    "under_plan": "under plan: below the plan's P10",
}


def burn_up_sheet(tracking: ActualsResponse) -> Sheet:
    """Per round, the plan's P10/P50/P90 of the cumulative cost and the actual cost, with a chart; above
    them what was spent, the status, the re-planned total and the advice."""
    sb = SheetBuilder(BURN_UP)
    span = 5
    title(
        sb,
        "Burn-up: plan versus actual",
        span,
        note="The plan's P10, P50 and P90 of the cumulative cost after each round (its recommendation on "
        "its own draws) against the cost really spent; the forecast of the total is re-planned from the "
        "actual state.",
    )
    key_value(sb, "Status", Cell(STATUS_WORDS[tracking.status]))
    key_value(sb, f"Spent after round {tracking.rounds}", Cell(amount(tracking.spent), "money"))
    key_value(sb, "Items left", Cell(tracking.items_left, "count"))
    key_value(sb, "Re-planned strategy", Cell(strategy_name(tracking.forecast.strategy)))
    for label, q in (("Plan's total", tracking.plan_cost), ("Re-planned total", tracking.forecast.cost)):
        for k in ("p10", "p50", "p90"):
            key_value(sb, f"{label}, {k.upper()}", Cell(amount(getattr(q, k)), "money"))
    sb.blank()
    heading(sb, "Advice", span)
    paragraphs(sb, tracking.advice, span)
    sb.blank()
    sb.add(*(Cell(h, "header") for h in ("Round", "Plan P10", "Plan P50", "Plan P90", "Actual (cumulative)")))
    header = sb.next_row - 1
    first = sb.next_row
    for row in tracking.burn_up:
        sb.add(
            Cell(row.round, "count"),
            Cell(amount(row.plan_p10), "money"),
            Cell(amount(row.plan_p50), "money"),
            Cell(amount(row.plan_p90), "money"),
            Cell(amount(row.actual), "money"),
        )
    last = sb.next_row - 1
    rounds = sb.ref(1, first, last)
    sb.charts.append(
        Chart(
            kind="scatter",
            title="Cumulative cost by round: plan band and actual",
            series=(
                Series("plan P10", sb.ref(2, first, last), rounds, "dashed"),
                Series("plan P50", sb.ref(3, first, last), rounds, "line"),
                Series("plan P90", sb.ref(4, first, last), rounds, "dashed"),
                Series("actual", sb.ref(5, first, last), rounds, "line_markers"),
            ),
            anchor=coordinate(header + 1, span + 2),
            x_title="round",
            y_title=f"cost ({tracking.currency})",
            x_min=0.0,
            y_min=0.0,
            y_style="money",
            height_cm=11.0,
        )
    )
    return sb.build(header_rows=header, landscape=True)


def tracked_workbook(
    plan: PlanResponse, request: PlanRequest | dict[str, Any], tracking: ActualsResponse
) -> Workbook:
    """The plan's sheet model with the Burn-up sheet after the Schedule (at the end when it has none)."""
    book = build_plan_workbook(plan, request)
    titles = [sheet.title for sheet in book.sheets]
    at = titles.index("Schedule") + 1 if "Schedule" in titles else len(titles)
    sheets = (*book.sheets[:at], burn_up_sheet(tracking), *book.sheets[at:])
    return replace(book, sheets=sheets)


def tracked_plan_workbook(
    plan: PlanResponse, request: PlanRequest | dict[str, Any], tracking: ActualsResponse
) -> bytes:
    """The plan workbook with its Burn-up sheet, as .xlsx bytes."""
    return render_workbook(tracked_workbook(plan, request, tracking))
