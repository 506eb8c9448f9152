"""Money: the accepted currencies are ISO 4217's (as the iso4217 package publishes them), amounts round to
each currency's minor unit, and every amount matches the pattern the OpenAPI document gives money."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from iso4217 import Currency
from pydantic import ValidationError

from annoplan.planner.money import MINOR_UNITS, check_currency, minor_unit, money, round_up
from annoplan.planner.schemas.common import MONEY_PATTERN
from annoplan.planner.schemas.plans import Costs
from annoplan.reports.styles import money_format


def test_the_accepted_currencies_are_iso_4217_with_their_minor_units() -> None:
    published = {c.code: c.exponent for c in Currency if c.exponent is not None}
    assert MINOR_UNITS == published
    assert len(MINOR_UNITS) > 150
    assert not {"XAU", "XDR", "XTS", "XXX"} & set(MINOR_UNITS)


@pytest.mark.parametrize("code", ["KES", "HUF", "PKR", "NGN", "UAH", "USD", "EUR"])
def test_currencies_once_refused_are_accepted_with_two_decimals(code: str) -> None:
    assert check_currency(code) == code
    assert Costs(currency=code, label=1.0, review=0.5, correction=0.8).currency == code
    assert money(1234.565, code) in {"1234.56", "1234.57"}
    assert money_format(code) == f'#,##0.00 "{code}"'


@pytest.mark.parametrize(
    ("code", "amount", "expected"),
    [("JPY", 1234.5, "1234"), ("KWD", 1.23456, "1.235"), ("CLF", 1.234567, "1.2346"), ("USD", 0.125, "0.12")],
    ids=["no decimals, half to even", "three decimals", "four decimals", "half to even"],
)
def test_money_rounds_to_the_minor_unit(code: str, amount: float, expected: str) -> None:
    assert money(amount, code) == expected


def test_round_up_goes_to_the_next_minor_unit() -> None:
    assert round_up(0.121, "USD") == Decimal("0.13")
    assert round_up(12.01, "JPY") == Decimal("13")
    assert round_up(0.0001, "KWD") == Decimal("0.001")


def test_a_tiny_negative_amount_is_zero_without_a_sign() -> None:
    assert money(-0.001, "USD") == "0.00"
    assert money(-0.0, "JPY") == "0"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("KSH", "unknown ISO 4217 currency 'KSH'"),
        ("kes", "use 'KES'"),
        ("XAU", "no minor unit"),
        ("", "unknown ISO 4217 currency"),
    ],
)
def test_bad_currencies_are_refused_saying_what_to_give(code: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_currency(code)
    with pytest.raises(ValidationError) as raised:
        Costs(currency=code, label=1.0, review=0.5, correction=0.8)
    assert raised.value.errors()[0]["loc"] == ("currency",)


@given(
    amount=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    code=st.sampled_from(sorted(MINOR_UNITS)),
)
def test_money_is_within_half_a_minor_unit_and_matches_the_wire_pattern(amount: float, code: str) -> None:
    text = money(amount, code)
    assert re.fullmatch(MONEY_PATTERN, text)
    assert abs(Decimal(text) - Decimal(repr(amount))) <= minor_unit(code) / 2
    digits = MINOR_UNITS[code]
    assert (len(text.partition(".")[2]) if "." in text else 0) == digits


def test_rounding_up_ignores_float_noise() -> None:
    # 0.2 x 1.1 is 0.22000000000000003 in floating point: a price of 0.22, not 0.23
    assert round_up(0.2 * 1.1, "USD") == Decimal("0.22")
    assert round_up(0.221, "USD") == Decimal("0.23")
