"""The renderer on hand-built sheet models: text stays text, formulas only from Formula, styles, names,
dropdowns, layout and print setup."""

from __future__ import annotations

import math

import pytest

from annoplan.reports.model import Cell, Chart, Formula, Series, Sheet, SheetBuilder, Validation, Workbook
from annoplan.reports.render import render_workbook
from annoplan.reports.styles import INPUT_BLUE, STYLES, money_format
from tests.reports.helpers import cells, load

ATTACKS = [
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "#N/A",
    "#DIV/0!",
    "TRUE",
    "12.5",
]


def one_sheet(*rows: tuple[Cell, ...], currency: str = "USD", **options: object) -> Workbook:
    sheet = Sheet(title="Data", rows=tuple(rows), **options)  # type: ignore[arg-type]
    return Workbook(title="test", currency=currency, sheets=(sheet,))


def test_the_result_is_the_bytes_of_an_xlsx_file() -> None:
    data = render_workbook(one_sheet((Cell("x"),)))
    assert isinstance(data, bytes) and data[:2] == b"PK"


@pytest.mark.parametrize("text", ATTACKS)
def test_user_text_is_written_as_text_never_as_a_formula_or_an_error(text: str) -> None:
    ws = load(render_workbook(one_sheet((Cell(text),))))["Data"]
    cell = ws["A1"]
    assert cell.data_type == "s"
    assert cell.value == text.replace("\r", "\n")  # what any reader of the file gets back
    assert cell.quotePrefix == text.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_only_a_formula_object_becomes_a_formula() -> None:
    ws = load(render_workbook(one_sheet((Cell(2.0), Cell(Formula("=A1*2")), Cell("=A1*2")))))["Data"]
    assert (ws["B1"].data_type, ws["B1"].value) == ("f", "=A1*2")
    assert (ws["C1"].data_type, ws["C1"].value) == ("s", "=A1*2")


def test_control_characters_never_reach_a_cell_a_title_or_a_chart() -> None:
    sb = SheetBuilder("Bad\x07[title]")
    sb.add(Cell("a\x00b\x1bc"), Cell(1.0))
    sb.add(Cell("d"), Cell(2.0))
    sb.charts.append(
        Chart("scatter", "chart\x08 title", (Series("s\x01", sb.ref(2, 1, 2), sb.ref(2, 1, 2)),), anchor="D2")
    )
    book = load(render_workbook(Workbook("t\x00", "USD", (sb.build(),))))
    assert book.sheetnames == ["Bad_title_"]
    assert book["Bad_title_"]["A1"].value == "abc"
    chart = book["Bad_title_"]._charts[0]
    assert chart.title.tx.rich.p[0].r[0].t == "chart title"


def test_numbers_that_are_not_finite_are_written_as_n_a() -> None:
    ws = load(render_workbook(one_sheet((Cell(math.nan), Cell(math.inf), Cell(3)))))["Data"]
    assert [c.value for c in ws[1]] == ["n/a", "n/a", 3]


@pytest.mark.parametrize(
    ("currency", "fmt"), [("USD", '#,##0.00 "USD"'), ("JPY", '#,##0 "JPY"'), ("KWD", '#,##0.000 "KWD"')]
)
def test_money_has_the_currency_code_and_its_minor_unit(currency: str, fmt: str) -> None:
    ws = load(render_workbook(one_sheet((Cell(1234.5, "money"),), currency=currency)))["Data"]
    assert ws["A1"].number_format == fmt
    assert money_format(currency) == fmt


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="XXX"):
        render_workbook(one_sheet((Cell(1.0, "money"),), currency="XXX"))


def test_styles_are_named_once_and_inputs_are_blue_and_unlocked() -> None:
    book = load(render_workbook(one_sheet((Cell(0.4, "input_money"), Cell(0.4, "money")))))
    names = list(book.named_styles)
    assert set(STYLES) <= set(names) and len(names) == len(set(names))
    ws = book["Data"]
    assert ws["A1"].style == "input_money" and ws["B1"].style == "money"
    assert ws["A1"].font.color.rgb.endswith(INPUT_BLUE) and ws["A1"].protection.locked is False
    assert ws["B1"].protection.locked is True


def test_inputs_get_defined_names_and_dropdowns() -> None:
    rows = (
        (
            Cell("goal.type"),
            Cell("model_metric", "input_text", name="goal_type", validation=Validation(("a", "b"))),
        ),
        (
            Cell("costs.label"),
            Cell(0.4, "input_money", name="costs_label", validation=Validation(minimum=0.0)),
        ),
        (
            Cell("delta"),
            Cell(0.05, "input_percent", name="delta", validation=Validation(minimum=0, maximum=1)),
        ),
    )
    book = load(render_workbook(one_sheet(*rows)))
    assert book.defined_names["costs_label"].attr_text == "'Data'!$B$2"
    assert book.defined_names["goal_type"].attr_text == "'Data'!$B$1"
    found = {str(dv.sqref): dv for dv in book["Data"].data_validations.dataValidation}
    assert found["B1"].type == "list" and found["B1"].formula1 == '"a,b"'
    assert (found["B2"].type, found["B2"].operator, found["B2"].formula1) == (
        "decimal",
        "greaterThanOrEqual",
        "0",
    )
    assert (found["B3"].operator, found["B3"].formula1, found["B3"].formula2) == ("between", "0", "1")


@pytest.mark.parametrize("name", ["A1", "xfd100", "R1C1", "r", "bad name", "1st", "ok\x00"])
def test_a_name_that_a_spreadsheet_would_misread_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="defined name"):
        render_workbook(one_sheet((Cell(1.0, name=name),)))


def test_a_defined_name_is_used_once() -> None:
    with pytest.raises(ValueError, match="twice"):
        render_workbook(one_sheet((Cell(1.0, name="x_1"), Cell(2.0, name="x_1"))))


def test_columns_fit_their_content_and_long_text_wraps_in_a_taller_row() -> None:
    long = "word " * 60
    rows = (
        (Cell("n"), Cell(123456789.25, "money"), Cell("short")),
        (Cell(long, "wrap", span=3),),
    )
    ws = load(render_workbook(one_sheet(*rows)))["Data"]
    money_width = ws.column_dimensions["B"].width
    assert money_width >= len("123,456,789.25 USD")
    assert ws.column_dimensions["A"].width < money_width
    assert "A2:C2" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].alignment.wrap_text
    assert ws.row_dimensions[2].height > 15


def test_headers_freeze_and_every_sheet_prints_one_page_wide() -> None:
    rows = ((Cell("h", "header"), Cell("h2", "header")), (Cell("a"), Cell(1)))
    ws = load(render_workbook(one_sheet(*rows, header_rows=1, label_columns=1, landscape=True)))["Data"]
    assert ws.freeze_panes == "B2"
    assert ws.print_title_rows == "$1:$1"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.page_setup.orientation == "landscape"


def test_charts_point_at_their_sheet_ranges() -> None:
    sb = SheetBuilder("Curve data")
    for n in (10, 100, 1000):
        sb.add(Cell(n, "count"), Cell(n / 2000, "percent"))
    sb.charts.append(
        Chart(
            "scatter",
            "curve",
            (Series("y", sb.ref(2, 1, 3), sb.ref(1, 1, 3), "markers"),),
            anchor="D1",
            x_log=True,
            y_style="percent",
        )
    )
    sb.charts.append(Chart("bar", "bars", (Series("b", sb.ref(2, 1, 3), sb.ref(1, 1, 3)),), anchor="D20"))
    scatter, bar = load(render_workbook(Workbook("t", "EUR", (sb.build(),))))["Curve data"]._charts
    series = scatter.series[0]
    assert series.xVal.numRef.f == "'Curve data'!$A$1:$A$3"
    assert series.yVal.numRef.f == "'Curve data'!$B$1:$B$3"
    assert scatter.x_axis.scaling.logBase == 10
    assert scatter.y_axis.number_format.formatCode == "0%"
    assert bar.type == "bar" and bar.series[0].val.numRef.f == "'Curve data'!$B$1:$B$3"


def test_every_cell_of_a_sheet_is_written() -> None:
    rows = tuple((Cell(f"r{r}c{c}"),) * 1 for r in range(3) for c in range(1))
    assert len(cells(load(render_workbook(one_sheet(*rows))))) == 3


def test_a_formula_column_is_as_wide_as_the_value_it_computes() -> None:
    big = 11_114_270_076_543.2
    ws = load(render_workbook(one_sheet((Cell(big, "money"), Cell(Formula("=A1*1", big), "money")))))["Data"]
    assert (
        ws.column_dimensions["B"].width >= ws.column_dimensions["A"].width >= len("11,114,270,076,543.20 USD")
    )
