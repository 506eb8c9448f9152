"""The sheet model: what goes into a workbook's cells, apart from how openpyxl renders it.

A :class:`Workbook` is plain frozen data (sheets of cells holding values and semantic style names, charts
pointing at cell ranges, pictures a native chart cannot draw, defined names, dropdown choices), so its
content is testable without a spreadsheet and one renderer (:func:`reports.render.render_workbook`) turns any
workbook into ``.xlsx`` bytes.

Only a :class:`Formula` is ever written as a formula; every ``str`` value is written as text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.utils.exceptions import CellCoordinatesException

#: a cell's value: text, a number, a flag, a date, or empty (or a :class:`Formula`)
Value = str | float | int | bool | dt.date | None


@dataclass(frozen=True)
class Formula:
    """A live formula built by annoplan (never from user text), e.g. ``=costs_label*B5``; ``estimate`` is
    what it computes at the workbook's inputs (it sizes the column)."""

    text: str
    estimate: float | None = None

    def __post_init__(self) -> None:
        if not self.text.startswith("="):
            raise ValueError(f"a formula starts with '=', got {self.text!r}")


@dataclass(frozen=True)
class Validation:
    """What a spreadsheet lets a reader type into an input cell: one of ``choices``, or a number in
    [``minimum``, ``maximum``] (``maximum`` None: no upper bound)."""

    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Cell:
    """One cell: a value, the name of a style (see :mod:`reports.styles`) and optional extras.

    Parameters
    ----------
    value : str, float, int, bool, datetime.date, Formula or None
        Text is always written as text (never as a formula); numbers keep full precision.
    style : str
        A semantic style name such as ``"money"``, ``"count"``, ``"percent"``, ``"input_money"``.
    name : str or None
        A workbook-level defined name pointing at this cell (inputs on the Assumptions sheet).
    span : int
        Columns this cell covers (merged, text wrapped), for long text such as reasons and notes.
    highlight : bool
        Marks a chosen row or the recommended column.
    validation : Validation or None
        Dropdown choices or bounds for an input cell.
    """

    value: Value | Formula = None
    style: str = "text"
    name: str | None = None
    span: int = 1
    highlight: bool = False
    validation: Validation | None = None


#: an empty cell
BLANK = Cell()


@dataclass(frozen=True)
class Ref:
    """A range of one column on a sheet: rows ``first`` to ``last`` (1-based) of column ``column``."""

    sheet: str
    column: int
    first: int
    last: int


@dataclass(frozen=True)
class Series:
    """One series of a chart: ``values`` against ``categories`` (x values of a scatter chart).

    ``look`` is ``"line"``, ``"dashed"``, ``"line_markers"`` (a line through marked points), ``"markers"``
    (points only) or ``"marker"`` (one big point).
    """

    title: str
    values: Ref
    categories: Ref
    look: Literal["line", "dashed", "line_markers", "markers", "marker"] = "line"
    color: str | None = None  #: RGB hex; None takes the next colour of the palette


@dataclass(frozen=True)
class Chart:
    """A native chart: ``scatter`` (x-y lines and points) or ``bar`` (horizontal bars, e.g. a tornado)."""

    kind: Literal["scatter", "bar"]
    title: str
    series: tuple[Series, ...]
    anchor: str  #: top-left cell, e.g. "H5": below the header rows, which repeat on every printed page
    x_title: str = ""
    y_title: str = ""
    x_log: bool = False
    x_min: float | None = None
    x_max: float | None = None
    y_min: float | None = None
    y_max: float | None = None
    y_style: str = "decimal"  #: style whose number format the value axis uses
    x_style: str = "count"
    width_cm: float = 17.0
    height_cm: float = 9.0


#: the first bytes of every PNG file
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Picture:
    """A PNG picture placed on a sheet: for what a native chart cannot draw (e.g. cost ranges side by side).

    ``width`` and ``height`` are the pixels it covers on the sheet; ``title`` names it and ``description`` is
    its alternative text (what a screen reader says).
    """

    png: bytes = field(repr=False)
    anchor: str  #: top-left cell, e.g. "A45"
    width: int
    height: int
    title: str
    description: str = ""

    def __post_init__(self) -> None:
        if not self.png.startswith(PNG_SIGNATURE):
            raise ValueError("a picture holds the bytes of a PNG file")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"a picture covers a positive size, got {self.width} x {self.height} pixels")
        try:
            coordinate_from_string(self.anchor)
        except CellCoordinatesException:
            raise ValueError(f"a picture is anchored at a cell such as 'A45', not {self.anchor!r}") from None


@dataclass(frozen=True)
class Sheet:
    """One worksheet: rows of cells from A1, charts and pictures, and how it prints.

    ``header_rows`` rows stay frozen on screen and repeat on every printed page; ``label_columns`` columns
    stay frozen on screen. Column widths follow the content unless ``widths`` (characters, by 1-based column)
    says otherwise.
    """

    title: str
    rows: tuple[tuple[Cell, ...], ...]
    header_rows: int = 0
    label_columns: int = 0
    charts: tuple[Chart, ...] = ()
    widths: tuple[tuple[int, float], ...] = ()
    landscape: bool = False
    autofilter: str | None = None  #: e.g. "A3:E40"
    pictures: tuple[Picture, ...] = ()

    def cell(self, coordinate: str) -> Cell:
        """The cell at an A1 coordinate (a blank cell outside the rows)."""
        letters, row = coordinate_from_string(coordinate)
        col = column_index_from_string(letters)
        if row > len(self.rows) or col > len(self.rows[row - 1]):
            return BLANK
        return self.rows[row - 1][col - 1]


@dataclass(frozen=True)
class Workbook:
    """Sheets in order, the currency of every money style, and the document's title."""

    title: str
    currency: str
    sheets: tuple[Sheet, ...]

    def sheet(self, title: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise KeyError(title)


@dataclass
class SheetBuilder:
    """Appends rows to a sheet under construction and tells where they landed (for formulas and charts)."""

    title: str
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)

    @property
    def next_row(self) -> int:
        """The 1-based number of the row the next :meth:`add` writes."""
        return len(self.rows) + 1

    def add(self, *cells: Cell | Value) -> int:
        """Append one row (plain values become text-styled cells); return its 1-based number."""
        self.rows.append(tuple(c if isinstance(c, Cell) else Cell(c) for c in cells))
        return len(self.rows)

    def put(self, row: int, column: int, *cells: Cell) -> None:
        """Write ``cells`` into ``row`` (1-based, added when missing) from ``column`` on, replacing what is
        there: for a table beside another."""
        while len(self.rows) < row:
            self.rows.append(())
        current = list(self.rows[row - 1])
        current += [BLANK] * (column - 1 + len(cells) - len(current))
        current[column - 1 : column - 1 + len(cells)] = cells
        self.rows[row - 1] = tuple(current)

    def blank(self) -> int:
        return self.add()

    def ref(self, column: int, first: int, last: int) -> Ref:
        return Ref(self.title, column, first, last)

    def build(
        self,
        *,
        header_rows: int = 0,
        label_columns: int = 0,
        widths: tuple[tuple[int, float], ...] = (),
        landscape: bool = False,
        autofilter: str | None = None,
    ) -> Sheet:
        return Sheet(
            title=self.title,
            rows=tuple(self.rows),
            header_rows=header_rows,
            label_columns=label_columns,
            charts=tuple(self.charts),
            widths=widths,
            landscape=landscape,
            autofilter=autofilter,
            pictures=tuple(self.pictures),
        )


def coordinate(row: int, column: int) -> str:
    """``(5, 2)`` -> ``"B5"``."""
    return f"{get_column_letter(column)}{row}"
