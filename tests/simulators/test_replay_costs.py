"""The rate card: validation, mapping from a plan request's costs, the cost identity."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annoplan.simulators.costs import RateCard
from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.volumes import Volumes

FIELDS = ("label", "review", "correction", "audit", "audit_rate", "platform_fee", "round_overhead")
counts = st.integers(min_value=0, max_value=10_000)
prices = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


def test_field_names_match_the_plan_requests_costs() -> None:
    assert tuple(RateCard().to_dict()) == FIELDS


def test_from_mapping_ignores_currency_and_keeps_defaults() -> None:
    card = RateCard.from_mapping({"currency": "EUR", "label": 0.8, "round_overhead": 25})
    assert card.label == 0.8
    assert card.round_overhead == 25.0 and isinstance(card.round_overhead, float)
    assert card.review == RateCard().review


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"review": -0.1}, "costs.review"),
        ({"label": "cheap"}, "costs.label"),
        ({"audit": True}, "costs.audit"),
        ({"correction": math.inf}, "costs.correction"),
        ({"audit_rate": 1.5}, "costs.audit_rate"),
        ({"labels": 1.0}, "costs.labels"),
    ],
)
def test_bad_prices_name_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(SimulatorInputError) as error:
        RateCard.from_mapping(values)
    assert error.value.field == field


def test_total_applies_each_price_to_its_volume() -> None:
    card = RateCard(
        label=1.0,
        review=0.2,
        correction=3.0,
        audit=0.5,
        audit_rate=0.1,
        platform_fee=0.01,
        round_overhead=10.0,
    )
    work = Volumes(fresh_labels=100, reviews=50, corrections=10, audits=4, auto_accepted=40, rounds=3)
    assert card.total(work) == pytest.approx(100 + 10 + 30 + 2 + 0.01 * 200 + 30)
    parts = card.parts(work)
    assert parts == pytest.approx(
        {
            "fresh_labels": 101,
            "reviews": 10.5,
            "corrections": 30.1,
            "audits": 2,
            "auto_accepted": 0.4,
            "rounds": 30,
        }
    )
    assert sum(parts.values()) == pytest.approx(card.total(work))


@given(
    base=st.fixed_dictionaries({name: prices for name in FIELDS if name != "audit_rate"}),
    field=st.sampled_from([name for name in FIELDS if name != "audit_rate"]),
    bump=st.floats(min_value=0.0, max_value=50.0),
    volumes=st.tuples(counts, counts, counts, counts, counts, counts),
)
def test_total_is_monotone_in_every_unit_price(
    base: dict[str, float], field: str, bump: float, volumes: tuple[int, ...]
) -> None:
    work = Volumes(*volumes)
    cheaper = RateCard(**base)
    dearer = RateCard(**{**base, field: base[field] + bump})
    assert dearer.total(work) >= cheaper.total(work)
