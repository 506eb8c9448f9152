"""The quote workbook: prices, validity and volumes equal to the quote's, a live bill over the quoted prices,
a client's copy without the vendor's costs, honest refusals, and user text kept as text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import formulas
import pytest

from annoplan.planner.errors import InvalidInputError
from annoplan.planner.quotes import make_quote
from annoplan.planner.schemas.quotes import QuoteResponse
from annoplan.reports import quote_workbook
from tests.reports.helpers import EXAMPLE, VENDOR_COSTS, cells, load, quote_request

USD = '#,##0.00 "USD"'


@pytest.fixture(scope="module")
def quote() -> QuoteResponse:
    quote = make_quote(quote_request())
    assert quote.status == "quoted"
    return quote


@pytest.fixture(scope="module")
def vendor_copy(quote: QuoteResponse) -> bytes:
    return quote_workbook(quote, quote_request())


@pytest.fixture(scope="module")
def client_copy(quote: QuoteResponse) -> bytes:
    return quote_workbook(quote, quote_request(), client=True)


def row_of(ws: Any, label: str) -> int:
    for cell in ws["A"]:
        if cell.value == label:
            return int(cell.row)
    raise AssertionError(f"{label!r} not on {ws.title}")


def test_the_vendor_copy_has_the_quote_its_costs_and_the_inputs(vendor_copy: bytes) -> None:
    assert load(vendor_copy).sheetnames == ["Quote", "Vendor costs", "Runbook", "Assumptions", "Pilot"]


def test_prices_validity_and_volumes_equal_the_quote(vendor_copy: bytes, quote: QuoteResponse) -> None:
    ws = load(vendor_copy)["Quote"]
    for label, text in (
        ("Price per correction", quote.price_per_correction),
        ("Price per audit", quote.price_per_audit),
        ("Price cap", quote.price_cap),
    ):
        cell = ws.cell(row_of(ws, label), 2)
        assert text is not None and Decimal(str(cell.value)) == Decimal(text)
        assert cell.number_format == USD
    valid = ws.cell(row_of(ws, "Valid until"), 2)
    assert valid.value.date() == quote.valid_until and valid.number_format == "yyyy-mm-dd"
    assert ws.cell(row_of(ws, "Issued on"), 2).value.date() == quote.issued_on
    assert quote.valid_until - quote.issued_on == dt.timedelta(days=30)
    corrections = row_of(ws, "Corrections")
    assert quote.expected_corrections is not None
    assert [ws.cell(corrections, c).value for c in (3, 4, 5)] == pytest.approx(
        [quote.expected_corrections.p10, quote.expected_corrections.p50, quote.expected_corrections.p90]
    )
    assert quote.client_bill is not None
    bill = row_of(ws, "Client bill")
    assert Decimal(str(ws.cell(bill, 2).value)) == Decimal(quote.client_bill.mean)


def test_the_live_bill_is_the_quoted_bill_and_follows_the_prices(
    vendor_copy: bytes, quote: QuoteResponse, tmp_path: Path
) -> None:
    path = tmp_path / "quote.xlsx"
    path.write_bytes(vendor_copy)
    book = load(vendor_copy)
    ws = book["Quote"]
    live, corrections, audits = (
        row_of(ws, "Bill at these prices, live"),
        row_of(ws, "Corrections"),
        row_of(ws, "Audits"),
    )
    model = formulas.ExcelModel().loads(str(path)).finish()

    def bills(**inputs: float) -> list[float]:
        keyed = {}
        for name, price in inputs.items():
            sheet, at = next(book.defined_names[name].destinations)
            keyed[f"'[quote.xlsx]{sheet.upper()}'!{at.replace('$', '')}"] = price
        solution = model.calculate(inputs=keyed)
        return [float(solution[f"'[quote.xlsx]QUOTE'!{col}{live}"].value[0, 0]) for col in "CDE"]

    assert quote.price_per_correction is not None and quote.price_per_audit is not None
    assert quote.client_bill is not None and quote.price_cap is not None
    quoted = (float(quote.price_per_correction), float(quote.price_per_audit))
    at_quote = bills(quote_price_per_correction=quoted[0], quote_price_per_audit=quoted[1])
    # at the quoted prices: the bill's own quantiles, the P90 (risk level 90%) within the price cap
    assert at_quote == pytest.approx([float(getattr(quote.client_bill, q)) for q in ("p10", "p50", "p90")])
    assert Decimal(str(round(at_quote[2], 2))) <= Decimal(quote.price_cap)
    # a price edit moves each quantile by the change times that quantile's volume
    expected = [
        bill
        + (7.5 - quoted[0]) * ws.cell(corrections, c).value
        + (0.5 - quoted[1]) * ws.cell(audits, c).value
        for bill, c in zip(at_quote, (3, 4, 5), strict=True)
    ]
    found = bills(quote_price_per_correction=7.5, quote_price_per_audit=0.5)
    assert found == pytest.approx(expected, rel=1e-12)


def test_the_client_copy_leaves_out_the_vendor_costs_and_margin(
    client_copy: bytes, quote: QuoteResponse
) -> None:
    book = load(client_copy)
    assert book.sheetnames == ["Quote", "Runbook", "Assumptions", "Pilot"]
    names = set(book.defined_names)
    assert "quote_price_per_correction" in names and "pool_size" in names
    assert not {n for n in names if n.startswith("vendor_costs") or n == "margin"}
    texts = " ".join(str(c.value) for c in cells(book))
    assert quote.vendor_cost is not None and quote.vendor_cost.mean not in texts
    assert "vendor's cost plus" not in texts and "vendor_rate_card" not in texts
    assert "Why" not in [c.value for c in book["Quote"]["A"]]


def test_a_quote_without_a_price_says_why(tmp_path: Path) -> None:
    last = EXAMPLE["pilot"]["rounds"][-1]["n_labels"]
    pilot = {
        **EXAMPLE["pilot"],
        "calibration": [{"n_labels": last, "confidence": [0.99] * 30, "correct": [True] * 30}],
    }
    request = quote_request(pilot=pilot)
    refused = make_quote(request)
    assert refused.status == "not_possible"
    book = load(quote_workbook(refused, request, client=True))
    ws = book["Quote"]
    assert ws.cell(row_of(ws, "Price per correction"), 2).value == "n/a"
    assert not [c for c in cells(book) if c.data_type == "f"]
    texts = [c.value for c in ws["A"]]
    assert "Why no price" in texts
    assert all(f"- {reason}" in texts for reason in refused.reasons)


def test_vendor_name_and_notes_land_as_text(quote: QuoteResponse) -> None:
    evil = '=HYPERLINK("http://x","y")'
    request = quote_request(vendor=evil, notes="@SUM(1)\x00\n-1+1")
    book = load(quote_workbook(quote.model_copy(update={"vendor": evil}), request))
    ws = book["Quote"]
    vendor = ws.cell(row_of(ws, "Vendor"), 2)
    assert (vendor.data_type, vendor.value, vendor.quotePrefix) == ("s", evil, True)
    notes = [c for c in ws["A"] if c.value in ("@SUM(1)", "-1+1")]
    assert len(notes) == 2 and all(c.data_type == "s" and c.quotePrefix for c in notes)
    formulas_ = [c for c in cells(book) if c.data_type == "f"]
    assert all(c.parent.title in ("Quote", "Vendor costs") and "HYPERLINK" not in c.value for c in formulas_)


def test_an_invalid_quote_request_is_refused_naming_the_field(quote: QuoteResponse) -> None:
    with pytest.raises(InvalidInputError, match="margin"):
        quote_workbook(quote, quote_request(margin=-1))


def test_the_quote_opens_with_its_inputs_named(vendor_copy: bytes) -> None:
    book = load(vendor_copy)
    sheet, at = next(book.defined_names["vendor_costs_correction"].destinations)
    cell = book[sheet][at.replace("$", "")]
    assert cell.value == VENDOR_COSTS["correction"] and cell.number_format == USD


def test_the_vendor_sees_the_margin_at_a_price_they_type(
    vendor_copy: bytes, quote: QuoteResponse, tmp_path: Path
) -> None:
    path = tmp_path / "quote.xlsx"
    path.write_bytes(vendor_copy)
    book = load(vendor_copy)
    vendor = book["Vendor costs"]
    margin, profit = (
        row_of(vendor, "Margin at these prices, live"),
        row_of(vendor, "Profit at these prices, live"),
    )
    live = row_of(book["Quote"], "Bill at these prices, live")
    corrections = book["Quote"].cell(row_of(book["Quote"], "Corrections"), 4).value
    model = formulas.ExcelModel().loads(str(path)).finish()
    sheet, at = next(book.defined_names["quote_price_per_correction"].destinations)
    assert quote.price_per_correction is not None and quote.client_bill is not None
    assert quote.vendor_cost is not None
    cost = float(quote.vendor_cost.p50)
    for price in (float(quote.price_per_correction), 2 * float(quote.price_per_correction)):
        solution = model.calculate(inputs={f"'[quote.xlsx]{sheet.upper()}'!{at.replace('$', '')}": price})

        def found(ws: str, cell: str, solution: Any = solution) -> float:
            return float(solution[f"'[quote.xlsx]{ws.upper()}'!{cell}"].value[0, 0])

        bill = float(quote.client_bill.p50) + (price - float(quote.price_per_correction)) * corrections
        assert found("Quote", f"D{live}") == pytest.approx(bill)
        assert found("Vendor costs", f"B{profit}") == pytest.approx(bill - cost)
        assert found("Vendor costs", f"B{margin}") == pytest.approx(bill / cost - 1)


def test_recorded_inputs_are_not_styled_as_inputs(vendor_copy: bytes) -> None:
    book = load(vendor_copy)

    def named(name: str) -> Any:
        sheet, at = next(book.defined_names[name].destinations)
        return book[sheet][at.replace("$", "")]

    # the request's values drive nothing: recorded output; the quoted prices drive the live rows
    assert named("margin").protection.locked is True and named("vendor_costs_review").protection.locked
    assert named("quote_price_per_correction").protection.locked is False
