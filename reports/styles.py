"""Semantic styles: what each style name means (number format, font, fill), defined once.

Inputs follow the finance convention: blue font, unlocked (a reader who protects the sheet can still edit
them); computed values and formulas are black. Money formats carry the ISO 4217 code and the currency's minor
unit (``planner.money.MINOR_UNITS``: every ISO 4217 currency that has one).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from annoplan.planner.money import MINOR_UNITS, check_currency

#: finance convention: hard-coded inputs in blue
INPUT_BLUE = "0000FF"
HEADER_FILL = "D9E1F2"
HIGHLIGHT_FILL = "FFF2CC"
DARK_BLUE = "1F3864"
GREY = "595959"
WARNING_BROWN = "9C5700"


@dataclass(frozen=True)
class Style:
    """How one semantic style looks. ``number_format`` ``"money"`` means the workbook currency's format."""

    number_format: str = "General"
    bold: bool = False
    italic: bool = False
    size: float = 11.0
    color: str | None = None
    fill: str | None = None
    wrap: bool = False
    horizontal: str | None = None
    underline_border: bool = False
    locked: bool = True


_NUMBERS = {
    "money": "money",
    "count": "#,##0",
    "decimal": "#,##0.00",
    "percent": "0.0%",
    "percent_fine": "0.00%",
    "threshold": "0.000",
    "days": "#,##0.0",
    "date": "yyyy-mm-dd",
}

#: every style name a cell may use
STYLES: dict[str, Style] = {
    "text": Style(),
    "label": Style(),
    "strong": Style(bold=True),
    "wrap": Style(wrap=True),
    "title": Style(bold=True, size=14.0, color=DARK_BLUE),
    "subtitle": Style(bold=True, size=12.0),
    "heading": Style(bold=True, color=DARK_BLUE, underline_border=True),
    "header": Style(bold=True, fill=HEADER_FILL, wrap=True, horizontal="center", underline_border=True),
    "header_left": Style(bold=True, fill=HEADER_FILL, wrap=True, underline_border=True),
    "note": Style(italic=True, color=GREY, wrap=True),
    "warning": Style(color=WARNING_BROWN, wrap=True),
    **{name: Style(number_format=fmt) for name, fmt in _NUMBERS.items()},
    "missing": Style(color=GREY, horizontal="right"),
    "input_text": Style(color=INPUT_BLUE, locked=False, horizontal="left", wrap=True),
    **{
        f"input_{name}": Style(number_format=fmt, color=INPUT_BLUE, locked=False)
        for name, fmt in _NUMBERS.items()
    },
}


def money_format(currency: str) -> str:
    """The number format of amounts in ``currency``: thousands separators, the currency's minor unit of
    decimals, the ISO code after the amount (``#,##0.00 "USD"``; ``#,##0 "JPY"``)."""
    digits = MINOR_UNITS[check_currency(currency)]
    decimals = "." + "0" * digits if digits else ""
    return f'#,##0{decimals} "{currency}"'


def number_format(style: str, currency: str) -> str:
    fmt = STYLES[style].number_format
    return money_format(currency) if fmt == "money" else fmt


def shown(value: object, style: str, currency: str) -> str:
    """About what a spreadsheet shows for ``value`` in ``style`` (sizes columns to their content)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if not math.isfinite(value):
        return "n/a"
    fmt = number_format(style, currency)
    if fmt.startswith("#,##0"):
        digits = MINOR_UNITS[currency] if STYLES[style].number_format == "money" else fmt.count("0") - 1
        text = f"{value:,.{max(digits, 0)}f}"
        return f"{text} {currency}" if STYLES[style].number_format == "money" else text
    if fmt.endswith("%"):
        return f"{value * 100:.{fmt.count('0') - 1}f}%"
    if fmt == "0.000":
        return f"{value:.3f}"
    return f"{value:.10g}"
