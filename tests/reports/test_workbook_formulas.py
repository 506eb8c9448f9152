"""The live formulas agree with the plan: evaluated in-process (the ``formulas`` package) at the request's
unit prices they equal the plan's mean costs, and after a price changes they equal the rate card's total at
the new prices."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import formulas
import openpyxl
import pytest

from annoplan.planner.schemas.plans import PlanResponse
from annoplan.reports.sections import STRATEGY_NAMES
from annoplan.simulators.costs import RateCard

FILE = "plan.xlsx"
#: prices changed in the second evaluation (defined name -> new price)
CHANGES = {"costs_label": 0.55, "costs_platform_fee": 0.02, "costs_round_overhead": 40.0, "costs_audit": 0.3}


@pytest.fixture(scope="module")
def model(workbook_bytes: bytes, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    path = tmp_path_factory.mktemp("formulas") / FILE
    path.write_bytes(workbook_bytes)
    return formulas.ExcelModel().loads(str(path)).finish(), path


def key(sheet: str, coordinate: str) -> str:
    """How ``formulas`` names a cell: ``'[plan.xlsx]COSTS'!H5``."""
    return f"'[{FILE}]{sheet.upper()}'!{coordinate.replace('$', '')}"


def value(solution: Any, sheet: str, coordinate: str) -> float:
    return float(solution[key(sheet, coordinate)].value[0, 0])


def live_cells(book: openpyxl.Workbook, plan: PlanResponse) -> dict[str, str]:
    """Coordinate of each strategy's live mean cost on the Costs sheet."""
    ws = book["Costs"]
    header = [c.value for c in ws[4]]
    column = openpyxl.utils.get_column_letter(header.index("Mean cost (live)") + 1)
    rows = {c.value: c.row for c in ws["A"]}
    return {f.strategy: f"{column}{rows[STRATEGY_NAMES[f.strategy]]}" for f in plan.strategies}


def rate_card(plan_request: dict[str, Any]) -> RateCard:
    return RateCard.from_mapping(plan_request["costs"])


def test_every_live_cost_is_a_formula_over_the_named_prices(
    book: openpyxl.Workbook, plan: PlanResponse
) -> None:
    for coordinate in live_cells(book, plan).values():
        cell = book["Costs"][coordinate]
        assert cell.data_type == "f"
        for name in ("costs_label", "costs_review", "costs_correction", "costs_audit", "costs_platform_fee"):
            assert name in cell.value


def test_live_costs_equal_the_plan_at_the_request_prices(
    model: tuple[Any, Path], book: openpyxl.Workbook, plan: PlanResponse, plan_request: dict[str, Any]
) -> None:
    solution = model[0].calculate()
    card = rate_card(plan_request)
    live = live_cells(book, plan)
    for forecast in plan.strategies:
        computed = value(solution, "Costs", live[forecast.strategy])
        assert computed == pytest.approx(float(card.total(forecast.expected_work.volumes())), rel=1e-12)
        assert abs(Decimal(repr(computed)) - Decimal(forecast.cost.mean)) <= Decimal("0.005") + Decimal(
            "1e-9"
        )
    summary = book["Summary"]
    summary_live, savings_live = [c for row in summary.iter_rows() for c in row if c.data_type == "f"]
    recommended = live[plan.recommendation.strategy]
    assert value(solution, "Summary", summary_live.coordinate) == value(solution, "Costs", recommended)
    assert value(solution, "Summary", savings_live.coordinate) == pytest.approx(
        value(solution, "Costs", live["manual"]) - value(solution, "Costs", recommended), abs=1e-9
    )


def test_the_sensitivity_sheet_follows_a_change_of_unit_prices(
    model: tuple[Any, Path], book: openpyxl.Workbook, plan: PlanResponse, plan_request: dict[str, Any]
) -> None:
    inputs = {}
    for name, price in CHANGES.items():
        sheet, coordinate = next(book.defined_names[name].destinations)
        inputs[key(sheet, coordinate)] = price
    solution = model[0].calculate(inputs=inputs)
    changed = replace(rate_card(plan_request), **{n.removeprefix("costs_"): p for n, p in CHANGES.items()})
    work = next(f for f in plan.strategies if f.strategy == plan.recommendation.strategy).expected_work
    ws = book["Sensitivity"]
    rows = {c.value: c.row for c in ws["A"] if isinstance(c.value, str)}
    assert value(solution, "Sensitivity", f"B{rows['Mean cost at today' + chr(39) + 's prices']}") == (
        pytest.approx(float(changed.total(work.volumes())), rel=1e-12)
    )
    for unit, label in (("label", "Fresh label"), ("round_overhead", "Overhead per round")):
        row = rows[label]
        up = replace(changed, **{unit: getattr(changed, unit) * 1.2})
        assert value(solution, "Sensitivity", f"B{row}") == pytest.approx(getattr(changed, unit))
        assert value(solution, "Sensitivity", f"E{row}") == pytest.approx(
            float(up.total(work.volumes())), rel=1e-12
        )


def test_live_costs_follow_a_change_of_unit_prices(
    model: tuple[Any, Path], book: openpyxl.Workbook, plan: PlanResponse, plan_request: dict[str, Any]
) -> None:
    inputs = {}
    for name, price in CHANGES.items():
        sheet, coordinate = next(book.defined_names[name].destinations)
        inputs[key(sheet, coordinate)] = price
    solution = model[0].calculate(inputs=inputs)
    changed = replace(rate_card(plan_request), **{n.removeprefix("costs_"): p for n, p in CHANGES.items()})
    live = live_cells(book, plan)
    manual = value(solution, "Costs", live["manual"])
    for forecast in plan.strategies:
        computed = value(solution, "Costs", live[forecast.strategy])
        expected = float(changed.total(forecast.expected_work.volumes()))
        assert computed == pytest.approx(expected, rel=1e-12)
        assert expected != pytest.approx(
            float(Decimal(forecast.cost.mean)), abs=0.01
        )  # the prices did move it
        row = int(live[forecast.strategy][1:])
        assert value(solution, "Costs", f"K{row}") == pytest.approx(manual - computed, rel=1e-12, abs=1e-9)
