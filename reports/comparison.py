"""The comparison workbook: vendors' offers on one scenario, side by side, as a sheet model.

Sheets: Vendors (each offer's strategy and settings, cost P10/P50/P90 and mean, probability of being the
cheapest, expected regret, days, label error and probability of meeting the goal; the recommendation and its
reasons; a chart of each offer's cost distribution by percentile) and Assumptions (the scenario, the rules of
the comparison and the exchange rates used, with their source and date).
"""

from __future__ import annotations

from typing import Any

from annoplan.planner.comparisons import fx_summary
from annoplan.planner.schemas.comparisons import ComparisonRequest, ComparisonResponse
from annoplan.planner.schemas.plans import LabeledDatasetGoal
from annoplan.planner.validation import parse_request
from annoplan.reports.model import Cell, Chart, Series, Sheet, SheetBuilder, Workbook
from annoplan.reports.render import render_workbook
from annoplan.reports.sections import (
    QUANTILE_NOTE,
    amount,
    closing_sections,
    heading,
    key_value,
    mapping_rows,
    title,
)

VENDORS, ASSUMPTIONS = "Vendors", "Assumptions"
#: the columns of the Vendors table: header, style
COLUMNS = (
    ("Vendor", "text"),
    ("Offer", "text"),
    ("Strategy", "text"),
    ("Threshold", "threshold"),
    ("Batch size", "count"),
    ("Cost P10", "money"),
    ("Cost P50", "money"),
    ("Cost P90", "money"),
    ("Cost mean", "money"),
    ("P(cheapest)", "percent"),
    ("Expected regret", "money"),
    ("Price cap", "money"),
    ("Days P50", "days"),
    ("Label error P50", "percent_fine"),
    ("P(goal met)", "percent"),
)
#: percentiles of the chart's x axis
PERCENTILES = (10, 50, 90)


def comparison_workbook(comparison: ComparisonResponse, request: ComparisonRequest | dict[str, Any]) -> bytes:
    """The comparison as an ``.xlsx`` workbook.

    Parameters
    ----------
    comparison : ComparisonResponse
        What ``planner.comparisons.compare_offers`` returned for ``request``.
    request : ComparisonRequest or dict
        The comparison request (the scenario fills the Assumptions sheet).

    Returns
    -------
    bytes
        The workbook, ready for a file or an HTTP response.
    """
    return render_workbook(build_comparison_workbook(comparison, request))


def build_comparison_workbook(
    comparison: ComparisonResponse, request: ComparisonRequest | dict[str, Any]
) -> Workbook:
    """The sheet model of :func:`comparison_workbook` (values and style names, no openpyxl)."""
    req = parse_request(ComparisonRequest, request)
    return Workbook(
        title=f"annoplan comparison: {comparison.name or 'unnamed'}",
        currency=comparison.currency,
        sheets=(vendors_sheet(comparison, req), assumptions_sheet(comparison, req)),
    )


def vendors_sheet(comparison: ComparisonResponse, req: ComparisonRequest) -> Sheet:
    """The offers side by side, the recommendation and the chart of their cost distributions."""
    sb = SheetBuilder(VENDORS)
    span = len(COLUMNS)
    title(
        sb,
        comparison.name or "Vendors compared",
        span,
        note=f"Every offer priced on the same {req.draws:,} simulated futures (common random numbers), in "
        f"{comparison.currency}. P(cheapest): the share of them in which the offer costs least; expected "
        "regret: what picking it costs on average over the cheapest offer of each.",
    )
    header = sb.add(
        *(Cell(name, "header_left" if i == 0 else "header") for i, (name, _) in enumerate(COLUMNS))
    )
    first = header + 1
    for offer in comparison.offers:
        picked = offer.vendor == comparison.recommendation.vendor
        values = (
            offer.vendor,
            "rate card" if offer.kind == "rate_card" else "quote",
            offer.strategy,
            offer.settings.confidence_threshold,
            offer.settings.batch_size,
            amount(offer.cost.p10),
            amount(offer.cost.p50),
            amount(offer.cost.p90),
            amount(offer.cost.mean),
            offer.probability_cheapest,
            amount(offer.expected_regret),
            amount(offer.price_cap),
            offer.days.p50,
            offer.label_error.p50,
            offer.probability_goal_met,
        )
        sb.add(
            *(
                Cell(value, style, highlight=picked) if value is not None else Cell("n/a", "missing")
                for value, (_, style) in zip(values, COLUMNS, strict=True)
            )
        )
    last = sb.next_row - 1
    sb.blank()
    heading(sb, f"Recommendation: {comparison.recommendation.vendor}", span)
    for reason in comparison.recommendation.reasons:
        sb.add(Cell(reason, "wrap", span=span))
    closing_sections(sb, list(comparison.warnings), req.notes, span)
    chart_at = distribution_table(sb, comparison, first, last)
    sb.charts.append(
        Chart(
            kind="scatter",
            title=f"Cost by percentile ({comparison.currency})",
            series=tuple(
                Series(
                    title=offer.vendor,
                    values=sb.ref(3 + i, chart_at + 1, chart_at + len(PERCENTILES)),
                    categories=sb.ref(2, chart_at + 1, chart_at + len(PERCENTILES)),
                    look="line_markers",
                )
                for i, offer in enumerate(comparison.offers)
            ),
            anchor=f"B{sb.next_row + 1}",
            x_title="percentile of the simulated futures",
            y_title=f"cost ({comparison.currency})",
            x_min=0,
            x_max=100,
            y_style="money",
        )
    )
    return sb.build(header_rows=header, label_columns=1, landscape=True, widths=((1, 24.0),))


def distribution_table(sb: SheetBuilder, comparison: ComparisonResponse, first: int, last: int) -> int:
    """The chart's data: each offer's cost at the 10th, 50th and 90th percentiles (a column per offer);
    returns the table's header row."""
    del first, last
    sb.blank()
    at = sb.add(
        Cell("Cost distribution", "header_left"),
        Cell("Percentile", "header"),
        *(Cell(offer.vendor, "header") for offer in comparison.offers),
    )
    for p in PERCENTILES:
        sb.add(
            Cell(None),
            Cell(p, "count"),
            *(Cell(amount(getattr(offer.cost, f"p{p}")), "money") for offer in comparison.offers),
        )
    return at


def assumptions_sheet(comparison: ComparisonResponse, req: ComparisonRequest) -> Sheet:
    """The scenario, the exchange rates and every rule the comparison rests on."""
    sb = SheetBuilder(ASSUMPTIONS)
    span = 6
    title(sb, "Assumptions", span, note="What the comparison rests on: rerun it to change any of these.")
    heading(sb, "Scenario", span)
    key_value(sb, "Items to label", Cell(req.pool_size, "count"))
    if isinstance(req.goal, LabeledDatasetGoal):
        key_value(sb, "Goal: largest label error", Cell(req.goal.max_label_error, "percent_fine"))
    else:
        key_value(sb, "Goal: model metric", Cell(req.goal.target, "decimal"))
    key_value(sb, "Required probability", Cell(req.probability, "percent"))
    key_value(sb, "Strategies searched", Cell(", ".join(req.strategies), "text", span=span - 1))
    key_value(sb, "Currency", Cell(comparison.currency, "text"))
    sb.blank()
    heading(sb, "Exchange rates", span)
    key_value(sb, "Rates", Cell(fx_summary(comparison.fx), "wrap", span=span - 1))
    if comparison.fx is not None:
        key_value(sb, "Source", Cell(comparison.fx.source, "text", span=span - 1))
        key_value(sb, "Date", Cell(comparison.fx.date, "date"))
        sb.add(Cell("Currency", "header_left"), Cell(f"{comparison.fx.currency} per unit", "header"))
        for code, rate in comparison.fx.rates.items():
            sb.add(Cell(code, "label"), Cell(rate, "decimal"))
    sb.blank()
    heading(sb, "Offers", span)
    for offer in comparison.offers:
        used = f", quote {offer.quote.id} version {offer.quote.version}" if offer.quote is not None else ""
        key_value(
            sb,
            offer.vendor,
            Cell(
                f"{offer.kind.replace('_', ' ')} in {offer.currency} (x {offer.fx_rate:g}){used}",
                "wrap",
                span=span - 1,
            ),
        )
    sb.blank()
    heading(sb, "Rules", span)
    mapping_rows(sb, comparison.assumptions, span)
    sb.blank()
    sb.add(Cell(QUANTILE_NOTE, "note", span=span))
    return sb.build(widths=((1, 30.0),))
