"""The quote workbook: a vendor's correction-only quote as a sheet model.

Sheets: Quote (prices, price cap, validity, what is delivered, expected volumes with intervals, and the bill
at those volumes as live formulas over the quoted prices), Vendor costs (the vendor's own cost and margin:
left out of the client's copy), Assumptions and Pilot (every input; the client's copy leaves out the vendor's
costs and margin).
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils.cell import absolute_coordinate

from annoplan.planner.schemas.common import Quantiles
from annoplan.planner.schemas.plans import MoneyQuantiles
from annoplan.planner.schemas.quotes import QuoteRequest, QuoteResponse
from annoplan.planner.validation import parse_request
from annoplan.reports.model import Cell, Formula, Sheet, SheetBuilder, Workbook, coordinate
from annoplan.reports.render import render_workbook
from annoplan.reports.sections import (
    QUANTILE_NOTE,
    amount,
    closing_sections,
    heading,
    inputs_sheets,
    key_value,
    paragraphs,
    runbook_sheet,
    title,
)

QUOTE, VENDOR = "Quote", "Vendor costs"
#: request fields that are money, and those that are shares in [0, 1]
MONEY_FIELDS = frozenset(
    [*(f"vendor_costs.{p}" for p in ("review", "correction", "audit", "round_overhead")), "price_per_audit"]
)
SHARE_FIELDS = frozenset(["vendor_costs.audit_rate", "max_label_error", "risk_level", "delta"])
#: what the client's copy leaves out: the vendor's costs and margin
VENDOR_ONLY_FIELDS = frozenset(["vendor_costs", "margin"])
#: planner assumptions the client's copy keeps (the others speak of the vendor's costs and margin)
CLIENT_ASSUMPTIONS = (
    "revenue",
    "price_cap_rule",
    "lot_audits",
    "human_labels_are_correct",
    "threshold_certificate",
    "threshold_risk",
    "coverage_forecast",
    "issued_on",
)
MEANINGS = {
    "seed": "seed of the simulation (same seed, same quote)",
    "notes": "free text, shown in reports",
    "pilot.metric": "the pilot's metric",
}
#: defined names of the quoted prices (the request's own price_per_audit is named on the Assumptions sheet)
PRICE_NAMES = {"correction": "quote_price_per_correction", "audit": "quote_price_per_audit"}


def quote_workbook(
    quote: QuoteResponse, request: QuoteRequest | dict[str, Any], *, client: bool = False
) -> bytes:
    """The quote as an ``.xlsx`` workbook.

    Parameters
    ----------
    quote : QuoteResponse
        What ``planner.quotes.make_quote`` returned for ``request``.
    request : QuoteRequest or dict
        The quote request (pool, pilot, vendor costs, name, vendor and notes fill the sheets).
    client : bool
        The client's copy: without the vendor's costs, margin, reasons and internal assumptions.

    Returns
    -------
    bytes
        The workbook, ready for a file or an HTTP response.

    Raises
    ------
    InvalidInputError
        When ``request`` is not a valid quote request (naming the field).
    """
    return render_workbook(build_quote_workbook(quote, request, client=client))


def build_quote_workbook(
    quote: QuoteResponse, request: QuoteRequest | dict[str, Any], *, client: bool = False
) -> Workbook:
    """The sheet model of :func:`quote_workbook` (values and style names, no openpyxl)."""
    req = parse_request(QuoteRequest, request)
    assumptions = {k: v for k, v in quote.assumptions.items() if k != "request"}
    if client:
        assumptions = {k: assumptions[k] for k in CLIENT_ASSUMPTIONS if k in assumptions}
    inputs, pilot = inputs_sheets(
        req,
        assumptions,
        money=MONEY_FIELDS,
        shares=SHARE_FIELDS,
        meanings=MEANINGS,
        skip=VENDOR_ONLY_FIELDS if client else frozenset(),
        note=(
            "The request as the quote used it, each value a named cell (the input's path with _ for dots). "
            "They record what the quote rests on and drive nothing: request a new quote to change them. "
            "The inputs of this workbook are the quoted prices on the Quote sheet."
        ),
    )
    quote_page, live_row = quote_sheet(quote, req, client)
    sheets = (
        quote_page,
        *(() if client else (vendor_sheet(quote, req, live_row),)),
        runbook_sheet(quote.policy),
        inputs,
        pilot,
    )
    return Workbook(
        title=f"annoplan quote: {quote.name or 'unnamed'}", currency=quote.currency, sheets=sheets
    )


def quote_sheet(quote: QuoteResponse, req: QuoteRequest, client: bool) -> tuple[Sheet, int | None]:
    """Prices, validity, what is delivered, expected volumes with intervals and the live bill at the prices;
    returns the sheet and the row of the live bill (None without a price)."""
    sb = SheetBuilder(QUOTE)
    span = 5
    quoted = quote.status == "quoted"
    sb.add(Cell("Quote", "title", span=span))
    sb.add(Cell(quote.name or "Unnamed quote", "subtitle", span=span))
    sb.blank()
    key_value(sb, "Vendor", Cell(quote.vendor or "not named", span=span - 1))
    key_value(sb, "Quote ID", Cell(quote.id, span=span - 1))
    key_value(
        sb, "Status", Cell("quoted" if quoted else "no price possible: see why below", "strong", span=4)
    )
    key_value(sb, "Issued on", Cell(quote.issued_on, "date"))
    key_value(sb, "Valid until", Cell(quote.valid_until, "date", highlight=True))
    key_value(sb, "Currency", Cell(quote.currency))
    key_value(sb, "Pool size (items)", Cell(req.pool_size, "count"))
    sb.blank()
    heading(sb, "Prices", span)
    price_rows = {}
    for kind, label, value, meaning in (
        ("correction", "Price per correction", quote.price_per_correction, "billed per corrected pre-label"),
        ("audit", "Price per audit", quote.price_per_audit, "billed per audited auto-accepted item"),
    ):
        price_rows[kind] = key_value(
            sb,
            label,
            Cell(amount(value), "input_money", name=PRICE_NAMES[kind], highlight=True)
            if value is not None
            else Cell("n/a", "missing"),
            Cell(meaning, "note", span=span - 2),
        )
    key_value(
        sb,
        "Price cap",
        Cell(amount(quote.price_cap), "money") if quote.price_cap is not None else Cell("n/a", "missing"),
        Cell(
            f"the total bill stays at or below this with probability {quote.risk_level:.0%}", "note", span=3
        ),
    )
    sb.blank()
    heading(sb, "What is delivered", span)
    for label, cell, meaning in (
        ("Largest label error", Cell(quote.max_label_error, "percent_fine"), "share of the pool left wrong"),
        (
            "Probability goal met",
            _or_na(quote.probability_goal_met, "percent"),
            "over the simulated outcomes",
        ),
        ("Confidence threshold", _or_na(quote.confidence_threshold, "threshold"), "auto-accept at or above"),
        ("Audit rate", Cell(quote.audit_rate, "percent"), "share of auto-accepted items audited"),
        ("Batch size", _or_na(quote.batch_size, "count"), "items routed to humans per round"),
    ):
        key_value(sb, label, cell, Cell(meaning, "note", span=span - 2))
    sb.blank()
    sb.add(
        Cell("Expected volumes", "header_left"), *(Cell(h, "header") for h in ("Mean", "P10", "P50", "P90"))
    )
    rows = {}
    for key, label, style in (
        ("expected_corrections", "Corrections", "count"),
        ("audits", "Audits", "count"),
        ("auto_accepted", "Auto-accepted items", "count"),
        ("rounds", "Rounds", "count"),
        ("label_error", "Label error", "percent_fine"),
    ):
        rows[key] = sb.add(*_quantile_row(label, getattr(quote, key), style))
    bill_row = sb.add(*_quantile_row("Client bill", quote.client_bill, "money"))
    corrections, audits, bill = quote.expected_corrections, quote.audits, quote.client_bill
    live_row = None
    if quoted and corrections is not None and audits is not None and bill is not None:
        live_row = sb.add(*live_bill_row(quote, price_rows, rows, bill_row))
        paragraphs(
            sb,
            [
                "The live row is the client's bill at the prices above: at the quoted prices it is the "
                "bill's P10, P50 and P90 (the P90 within the price cap); change a price and each moves by "
                "the price change times the P10, P50 or P90 volume of corrections or audits."
            ],
            span,
            "note",
        )
    if not client or not quoted:
        sb.blank()
        heading(sb, "Why" if quoted else "Why no price", span)
        paragraphs(sb, [f"- {reason}" for reason in quote.reasons], span)
    closing_sections(sb, quote.warnings, req.notes, span)
    return sb.build(widths=((1, 28.0),)), live_row


#: columns of the P10, P50 and P90 of a quantile row
QUANTILE_COLUMNS = ((3, "p10"), (4, "p50"), (5, "p90"))


def live_bill_row(
    quote: QuoteResponse, price_rows: dict[str, int], rows: dict[str, int], bill_row: int
) -> tuple[Cell, ...]:
    """The client's bill at the prices on the sheet: each quantile of the bill at the quoted prices (a
    decimal string of the quote, so at those prices the live P90 is the bill's P90, within the cap, with no
    rounding of its own) plus each price's change times that quantile of its volume."""
    assert quote.price_per_correction is not None and quote.price_per_audit is not None
    assert quote.expected_corrections is not None and quote.audits is not None
    assert quote.client_bill is not None
    price = {k: absolute_coordinate(coordinate(r, 2)) for k, r in price_rows.items()}
    quoted = {"correction": quote.price_per_correction, "audit": quote.price_per_audit}
    volume = {"correction": rows["expected_corrections"], "audit": rows["audits"]}
    return (
        Cell("Bill at these prices, live", "label"),
        Cell(None),
        *(
            Cell(
                Formula(
                    f"={coordinate(bill_row, c)}"
                    + "".join(
                        f"+({price[k]}-{quoted[k]})*{coordinate(volume[k], c)}"
                        for k in ("correction", "audit")
                    ),
                    float(getattr(quote.client_bill, q)),
                ),
                "money",
            )
            for c, q in QUANTILE_COLUMNS
        ),
    )


def vendor_sheet(quote: QuoteResponse, req: QuoteRequest, live_row: int | None) -> Sheet:
    """The vendor's side: margin, risk, its own cost of the work against the client's bill, and the margin
    at the prices on the Quote sheet (live, from its bill on row ``live_row``)."""
    sb = SheetBuilder(VENDOR)
    span = 5
    title(
        sb,
        "Vendor costs (internal)",
        span,
        note="Not for the client: the vendor's own cost of the work and the margin the prices keep. The "
        "client's copy of this workbook leaves this sheet out.",
    )
    key_value(sb, "Margin asked", Cell(req.margin, "percent"), Cell("over cost", "note"))
    key_value(sb, "Risk level", Cell(quote.risk_level, "percent"), Cell("asked", "note"))
    key_value(
        sb,
        "Probability cost covered",
        _or_na(quote.probability_cost_covered, "percent"),
        Cell("revenue covers cost x (1 + margin) at the quoted prices", "note", span=3),
    )
    sb.blank()
    sb.add(Cell(None, "header_left"), *(Cell(h, "header") for h in ("Mean", "P10", "P50", "P90")))
    cost_row = sb.add(*_quantile_row("Vendor cost", quote.vendor_cost, "money"))
    sb.add(*_quantile_row("Client bill", quote.client_bill, "money"))
    if live_row is not None and quote.vendor_cost is not None and quote.client_bill is not None:
        cost = float(quote.vendor_cost.p50)
        bill, median_cost = f"{QUOTE}!{coordinate(live_row, 4)}", coordinate(cost_row, 4)
        profit = float(quote.client_bill.p50) - cost
        sb.blank()
        key_value(
            sb,
            "Profit at these prices, live",
            Cell(Formula(f"={bill}-{median_cost}", profit), "money"),
            Cell("median bill at the Quote sheet's prices minus the median vendor cost", "note", span=3),
        )
        key_value(
            sb,
            "Margin at these prices, live",
            Cell(
                Formula(
                    f'=IF({median_cost}>0,{bill}/{median_cost}-1,"n/a")', profit / cost if cost else None
                ),
                "percent",
            ),
            Cell(
                "over the median vendor cost: type a price on the Quote sheet to see it move", "note", span=3
            ),
        )
    sb.add(*_quantile_row("Reviews (not billed)", quote.reviews, "count"))
    sb.add(*_quantile_row("Routed items", quote.routed_items, "count"))
    sb.blank()
    paragraphs(sb, [QUANTILE_NOTE], span, "note")
    return sb.build(widths=((1, 28.0),))


def _or_na(value: float | None, style: str) -> Cell:
    return Cell(value, style) if value is not None else Cell("n/a", "missing")


def _quantile_row(label: str, q: Quantiles | MoneyQuantiles | None, style: str) -> tuple[Cell, ...]:
    if q is None:
        return (Cell(label, "label"), Cell("n/a", "missing"))
    if isinstance(q, MoneyQuantiles):
        return (
            Cell(label, "label"),
            *(Cell(amount(getattr(q, k)), style) for k in ("mean", "p10", "p50", "p90")),
        )
    return (Cell(label, "label"), Cell(None), *(Cell(getattr(q, k), style) for k in ("p10", "p50", "p90")))
