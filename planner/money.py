"""Money: ISO 4217 currencies, their minor units, and amounts as decimal strings rounded to them."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

#: minor units (digits after the decimal point) of the ISO 4217 currencies annoplan accepts
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        "AED AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD ILS INR MXN MYR NOK NZD PHP PLN RON SAR SEK SGD THB "
        "TRY TWD USD ZAR".split(),
        2,
    ),
    **dict.fromkeys("CLP IDR ISK JPY KRW VND".split(), 0),
    **dict.fromkeys("BHD JOD KWD OMR TND".split(), 3),
}


def check_currency(code: str) -> str:
    """``code`` if annoplan knows its minor unit; a ValueError naming the known ones otherwise."""
    if code not in MINOR_UNITS:
        raise ValueError(f"unknown ISO 4217 currency {code!r}; use one of {', '.join(sorted(MINOR_UNITS))}")
    return code


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency`` (0.01 for USD, 1 for JPY)."""
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def money(amount: float, currency: str) -> str:
    """``amount`` as a decimal string rounded (half to even) to the currency's minor unit."""
    return str(Decimal(repr(float(amount))).quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN))


def round_up(amount: float, currency: str) -> Decimal:
    """``amount`` rounded up to the currency's minor unit."""
    return Decimal(repr(float(amount))).quantize(minor_unit(currency), rounding=ROUND_CEILING)
