"""The one renderer: a :class:`reports.model.Workbook` in, ``.xlsx`` bytes out (openpyxl).

Every ``str`` is written as a text cell (cleaned of control characters, quote-prefixed when it starts like a
formula); only :class:`reports.model.Formula` values become formulas. Styles are registered once as named
styles; columns are sized to their content; every sheet prints one page wide. Pictures are embedded PNG
files, each with its title and alternative text.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections import defaultdict
from copy import copy
from typing import Any

import openpyxl
from openpyxl.chart import BarChart, Reference, ScatterChart
from openpyxl.chart import Series as ChartSeries
from openpyxl.chart.axis import ChartLines
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.fill import Blip
from openpyxl.drawing.geometry import PresetGeometry2D
from openpyxl.drawing.image import Image
from openpyxl.drawing.picture import PictureFrame, PictureLocking
from openpyxl.drawing.spreadsheet_drawing import OneCellAnchor
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.drawing.xdr import XDRPositiveSize2D
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.cell import absolute_coordinate, coordinate_to_tuple
from openpyxl.utils.units import pixels_to_EMU
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from annoplan.reports.model import (
    Chart,
    Formula,
    Picture,
    Ref,
    Series,
    Sheet,
    Validation,
    Workbook,
    coordinate,
)
from annoplan.reports.styles import HIGHLIGHT_FILL, STYLES, number_format, shown
from annoplan.reports.text import clean_text, needs_quote_prefix, sheet_title

#: column widths in characters: never narrower or wider than this from content alone
MIN_WIDTH, MAX_WIDTH = 6.0, 60.0
#: character widths per width unit, with room for fonts wider than the default (Calibri is often missing)
WIDTH_PER_CHAR = 1.15
#: points per line of 11-point text, and the tallest row a spreadsheet allows
LINE_HEIGHT, MAX_ROW_HEIGHT = 15.0, 409.0
#: a defined name: letters, digits, underscores and dots, not looking like a cell reference
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_CELL_LIKE = re.compile(r"([A-Za-z]{1,3}[0-9]+|[RrCc][0-9]*|[Rr][0-9]*[Cc][0-9]*)")
#: series colours: a readable palette
PALETTE = ("2F5597", "C55A11", "548235", "7030A0", "BF9000", "7F7F7F")


def render_workbook(book: Workbook) -> bytes:
    """Render ``book`` to the bytes of an ``.xlsx`` file.

    Parameters
    ----------
    book : Workbook
        The sheet model.

    Returns
    -------
    bytes
        An Office Open XML workbook, ready for a file or an HTTP response.
    """
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    _register_styles(wb, book.currency)
    titles: dict[str, str] = {}
    for sheet in book.sheets:
        titles[sheet.title] = sheet_title(sheet.title, set(titles.values()))
    for sheet in book.sheets:
        ws = wb.create_sheet(titles[sheet.title])
        _write_sheet(wb, ws, sheet, book.currency)
        for chart in sheet.charts:
            ws.add_chart(_chart(wb, chart, titles, book.currency), chart.anchor)
        for picture in sheet.pictures:
            # drawing ids count the sheet's charts first, then its pictures (as openpyxl writes them)
            ws.add_image(_image(picture, len(sheet.charts) + len(ws._images) + 1))
    wb.properties.title = clean_text(book.title)[:255]
    wb.properties.creator = "annoplan"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _register_styles(wb: openpyxl.Workbook, currency: str) -> None:
    for name, spec in STYLES.items():
        side = Side(style="thin", color="808080")
        wb.add_named_style(
            NamedStyle(
                name=name,
                font=Font(
                    name="Calibri", size=spec.size, bold=spec.bold, italic=spec.italic, color=spec.color
                ),
                fill=PatternFill("solid", fgColor=spec.fill) if spec.fill else PatternFill(),
                border=Border(bottom=side) if spec.underline_border else Border(),
                alignment=Alignment(wrap_text=spec.wrap, horizontal=spec.horizontal, vertical="top"),
                protection=Protection(locked=spec.locked),
                number_format=number_format(name, currency),
            )
        )


def _write_sheet(wb: openpyxl.Workbook, ws: Worksheet, sheet: Sheet, currency: str) -> None:
    validations: dict[Validation, list[str]] = defaultdict(list)
    highlight_fill = PatternFill("solid", fgColor=HIGHLIGHT_FILL)
    for r, row in enumerate(sheet.rows, start=1):
        for c, cell in enumerate(row, start=1):
            if cell.value is None and cell.style == "text" and not cell.name:
                continue
            target = ws.cell(row=r, column=c)
            target.style = cell.style
            _write_value(target, cell.value)
            if cell.highlight:
                font = copy(target.font)
                font.bold = True
                target.font = font
                target.fill = highlight_fill
            if cell.span > 1:
                ws.merge_cells(start_row=r, start_column=c, end_row=r, end_column=c + cell.span - 1)
                alignment = copy(target.alignment)
                alignment.wrap_text = True
                target.alignment = alignment
            if cell.name:
                _define_name(wb, cell.name, ws.title, coordinate(r, c))
            if cell.validation:
                validations[cell.validation].append(coordinate(r, c))
    for validation, cells in validations.items():
        ws.add_data_validation(_data_validation(validation, cells))
    widths = _column_widths(sheet, currency)
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = width
    _row_heights(ws, sheet, widths, currency)
    if sheet.header_rows or sheet.label_columns:
        ws.freeze_panes = coordinate(sheet.header_rows + 1, sheet.label_columns + 1)
    if sheet.autofilter:
        ws.auto_filter.ref = sheet.autofilter
    _print_setup(ws, sheet)


def _write_value(target: openpyxl.cell.Cell, value: object) -> None:
    """Write ``value``: text as text (never a formula or an error value), numbers as numbers."""
    if isinstance(value, Formula):
        target.value = value.text
    elif isinstance(value, str):
        text = clean_text(value)
        target.value = text
        target.data_type = "s"  # openpyxl would take "=..." for a formula and "#N/A" for an error
        if needs_quote_prefix(text):
            target.quotePrefix = True
    elif isinstance(value, bool | dt.date):
        target.value = value
    elif isinstance(value, int | float):
        if math.isfinite(value):
            target.value = value
        else:
            target.value = "n/a"
            target.data_type = "s"
    elif value is not None:
        raise TypeError(f"a cell holds text, a number, a flag or a formula, not {type(value).__name__}")


def _define_name(wb: openpyxl.Workbook, name: str, title: str, at: str) -> None:
    if not _NAME.fullmatch(name) or _CELL_LIKE.fullmatch(name) or len(name) > 255:
        raise ValueError(f"{name!r} is not a valid defined name")
    if name in wb.defined_names:
        raise ValueError(f"the defined name {name!r} is used twice")
    wb.defined_names[name] = DefinedName(
        name, attr_text=f"{quote_sheetname(title)}!{absolute_coordinate(at)}"
    )


def _data_validation(validation: Validation, cells: list[str]) -> DataValidation:
    if validation.choices:
        if any("," in c or '"' in c for c in validation.choices):
            raise ValueError("dropdown choices may not contain commas or double quotes")
        listed = ",".join(validation.choices)
        if len(listed) > 255:
            raise ValueError("dropdown choices take more than 255 characters")
        dv = DataValidation(
            type="list",
            formula1=f'"{listed}"',
            allow_blank=True,
            error="Pick one of the listed values.",
        )
    else:
        low = 0.0 if validation.minimum is None else validation.minimum
        if validation.maximum is None:
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1=f"{low:.15g}")
            dv.error = f"Enter a number of at least {low:g}."
        else:
            dv = DataValidation(
                type="decimal",
                operator="between",
                formula1=f"{low:.15g}",
                formula2=f"{validation.maximum:.15g}",
            )
            dv.error = f"Enter a number between {low:g} and {validation.maximum:g}."
    dv.errorTitle = "annoplan input"
    dv.showErrorMessage = True
    for cell in cells:
        dv.add(cell)
    return dv


def _column_widths(sheet: Sheet, currency: str) -> dict[int, float]:
    """Widths in characters: the longest content of each column (headers may wrap at word breaks)."""
    widths: dict[int, float] = defaultdict(lambda: MIN_WIDTH)
    for row in sheet.rows:
        for c, cell in enumerate(row, start=1):
            if cell.span > 1 or cell.value is None:
                continue
            if cell.style in ("title", "subtitle", "heading"):
                continue  # they overflow into the empty cells beside them
            if isinstance(cell.value, Formula):
                # room for the value at the workbook's prices and a few more digits after an edit
                text = shown(cell.value.estimate, cell.style, currency) + "0" * 3
            else:
                text = shown(cell.value, cell.style, currency)
            longest_line = max((len(line) for line in text.splitlines()), default=0)
            if STYLES[cell.style].wrap:
                longest_word = max((len(w) for w in text.split()), default=0)
                longest_line = min(longest_line, max(longest_word, 14))
            needed = longest_line * WIDTH_PER_CHAR * (1.1 if STYLES[cell.style].bold else 1.0) + 2
            widths[c] = min(MAX_WIDTH, max(widths[c], needed))
    widths.update(dict(sheet.widths))
    return dict(widths)


def _row_heights(ws: Worksheet, sheet: Sheet, widths: dict[int, float], currency: str) -> None:
    """Rows with wrapped text get the height of their longest cell (spreadsheets do not measure on open)."""
    for r, row in enumerate(sheet.rows, start=1):
        lines = 1
        for c, cell in enumerate(row, start=1):
            if cell.value is None or isinstance(cell.value, Formula):
                continue
            if not (STYLES[cell.style].wrap or cell.span > 1):
                continue
            width = sum(widths.get(c + k, MIN_WIDTH) for k in range(cell.span))
            per_line = max(1, int(width * (0.95 if STYLES[cell.style].bold else 1.05)))
            text = shown(cell.value, cell.style, currency)
            lines = max(lines, sum(max(1, math.ceil(len(p) / per_line)) for p in text.splitlines() or [""]))
        if lines > 1:
            size = max(STYLES[cell.style].size for cell in row) if row else 11.0
            height = LINE_HEIGHT * size / 11.0 * lines
            ws.row_dimensions[r].height = min(MAX_ROW_HEIGHT, height)


def _print_setup(ws: Worksheet, sheet: Sheet) -> None:
    ws.page_setup.orientation = "landscape" if sheet.landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if sheet.header_rows:
        ws.print_title_rows = f"1:{sheet.header_rows}"
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"


def _chart(
    wb: openpyxl.Workbook, spec: Chart, titles: dict[str, str], currency: str
) -> ScatterChart | BarChart:
    chart: ScatterChart | BarChart
    if spec.kind == "scatter":
        chart = ScatterChart()
        chart.scatterStyle = "lineMarker"
        chart.x_axis.number_format = _axis_format(spec.x_style, currency)
        chart.x_axis.majorGridlines = None
        if spec.x_log:
            chart.x_axis.scaling.logBase = 10
        _limits(chart.x_axis, spec.x_min, spec.x_max)
    else:
        # a tornado: horizontal bars from zero, categories top-down in table order, labels at the left edge
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "clustered"
        chart.overlap = 100
        chart.gapWidth = 40
        chart.x_axis.scaling.orientation = "maxMin"
        chart.x_axis.tickLblPos = "low"
        chart.y_axis.crosses = "max"  # the value axis under the last category, by its title
    chart.title = _title(spec.title, 1200)
    chart.width, chart.height = spec.width_cm, spec.height_cm
    chart.legend.position = "b"
    chart.x_axis.title = _title(spec.x_title, 900) if spec.x_title else None
    chart.y_axis.title = _title(spec.y_title, 900) if spec.y_title else None
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.number_format = _axis_format(spec.y_style, currency)
    chart.y_axis.majorGridlines = ChartLines()
    _limits(chart.y_axis, spec.y_min, spec.y_max)
    for i, series in enumerate(spec.series):
        chart.series.append(_series(wb, series, titles, spec.kind, i))
    if spec.kind == "bar" and spec.series:
        chart.set_categories(_reference(wb, spec.series[0].categories, titles))
    return chart


def _image(picture: Picture, drawing_id: int) -> Image:
    """``picture`` as an openpyxl image anchored at its cell, at its size, named and described."""
    image = Image(io.BytesIO(picture.png))
    image.width, image.height = picture.width, picture.height
    row, column = coordinate_to_tuple(picture.anchor)
    anchor = OneCellAnchor(ext=XDRPositiveSize2D(pixels_to_EMU(picture.width), pixels_to_EMU(picture.height)))
    anchor._from.row, anchor._from.col = row - 1, column - 1
    frame = PictureFrame()
    props = frame.nvPicPr.cNvPr
    props.id, props.name = drawing_id, clean_text(picture.title)[:255]
    props.title, props.descr = props.name, clean_text(picture.description or picture.title)
    frame.nvPicPr.cNvPicPr.picLocks = PictureLocking(noChangeAspect=True)
    frame.blipFill.blip = Blip(cstate="print")  # openpyxl links it to the image file when it saves
    frame.spPr.prstGeom = PresetGeometry2D(prst="rect")
    frame.spPr.ln = None
    anchor.pic = frame
    image.anchor = anchor
    return image


def _title(text: str, size: int) -> Title:
    """A chart or axis title in ``size`` hundredths of a point, bold."""
    props = CharacterProperties(sz=size, b=True)
    paragraph = Paragraph(
        pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=clean_text(text))]
    )
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _axis_format(style: str, currency: str) -> str:
    """Axis labels: money and percentages with fewer decimals than cells (ticks are round numbers)."""
    if STYLES[style].number_format == "money":
        return f'#,##0 "{currency}"'
    return {"percent": "0%", "percent_fine": "0.0%"}.get(style, number_format(style, currency))


def _limits(axis: Any, low: float | None, high: float | None) -> None:
    if low is not None:
        axis.scaling.min = low
    if high is not None:
        axis.scaling.max = high


def _reference(wb: openpyxl.Workbook, ref: Ref, titles: dict[str, str]) -> Reference:
    sheet = wb[titles[ref.sheet]]
    return Reference(sheet, min_col=ref.column, max_col=ref.column, min_row=ref.first, max_row=ref.last)


def _series(
    wb: openpyxl.Workbook, spec: Series, titles: dict[str, str], kind: str, index: int
) -> ChartSeries:
    values = _reference(wb, spec.values, titles)
    color = spec.color or PALETTE[index % len(PALETTE)]
    if kind == "bar":
        series = ChartSeries(values, title=clean_text(spec.title))
        series.graphicalProperties.solidFill = color
        series.graphicalProperties.line.solidFill = color
        return series
    series = ChartSeries(values, _reference(wb, spec.categories, titles), title=clean_text(spec.title))
    series.smooth = False
    line = series.graphicalProperties.line
    if spec.look in ("line", "dashed", "line_markers"):
        line.solidFill = color
        line.width = 19050 if spec.look == "dashed" else 28575  # EMU: 1.5 and 2.25 points
        if spec.look == "dashed":
            line.dashStyle = "dash"
    else:
        line.noFill = True
    if spec.look in ("line", "dashed"):
        series.marker.symbol = "none"
    else:
        series.marker.symbol = "diamond" if spec.look == "marker" else "circle"
        series.marker.size = {"marker": 11, "markers": 7}.get(spec.look, 5)
        series.marker.graphicalProperties.solidFill = color
        series.marker.graphicalProperties.line.solidFill = color
    return series
