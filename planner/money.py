"""Money: ISO 4217 currencies, their minor units, and amounts as decimal strings rounded to them.

The currencies and their minor units come from the ISO 4217 list as published (the ``iso4217`` package ships
it); codes without a minor unit (funds, precious metals, the testing code) cannot price work and are refused.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

from iso4217 import Currency

#: minor units (digits after the decimal point) of every ISO 4217 currency that has one
MINOR_UNITS: dict[str, int] = {
    currency.code: currency.exponent for currency in Currency if currency.exponent is not None
}
#: codes ISO 4217 lists without a minor unit (XAU, XDR, XTS, ...)
NO_MINOR_UNIT: frozenset[str] = frozenset(c.code for c in Currency if c.exponent is None)


def check_currency(code: str) -> str:
    """``code`` if it is an ISO 4217 currency with a minor unit; a ValueError saying what to give otherwise.

    Parameters
    ----------
    code : str
        An ISO 4217 alphabetic code, e.g. ``"USD"``.

    Returns
    -------
    str
        ``code`` unchanged.

    Raises
    ------
    ValueError
        For an unknown code, a code in lower case, or a code without a minor unit.
    """
    if code in MINOR_UNITS:
        return code
    if code.upper() in MINOR_UNITS:
        raise ValueError(f"ISO 4217 codes are upper case: use {code.upper()!r}, not {code!r}")
    if code in NO_MINOR_UNIT:
        raise ValueError(
            f"{code!r} has no minor unit in ISO 4217 (a fund, a precious metal or a testing code): "
            "price the work in a currency such as USD or EUR"
        )
    raise ValueError(
        f"unknown ISO 4217 currency {code!r}: give a three-letter ISO 4217 code such as USD, EUR, JPY or KES"
    )


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency`` (0.01 for USD, 1 for JPY, 0.001 for KWD)."""
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def money(amount: float, currency: str) -> str:
    """``amount`` as a decimal string rounded (half to even) to the currency's minor unit (no ``-0.00``)."""
    rounded = Decimal(repr(float(amount))).quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN)
    return str(rounded.copy_abs() if rounded.is_zero() else rounded)


#: significant digits kept before rounding up: a product like 0.2 x 1.1 = 0.22000000000000003 is 0.22, not a
#: cent more (float arithmetic's last digits are noise, not money)
ROUND_UP_DIGITS = 12


def round_up(amount: float, currency: str) -> Decimal:
    """``amount`` rounded up to the currency's minor unit (float noise in the last digits ignored)."""
    return Decimal(f"{float(amount):.{ROUND_UP_DIGITS}g}").quantize(
        minor_unit(currency), rounding=ROUND_CEILING
    )
