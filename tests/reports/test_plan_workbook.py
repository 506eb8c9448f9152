"""The plan workbook of the bundled example: sheets, figures equal to the plan's, named inputs, charts,
and user text that never turns into a formula."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from annoplan.planner import make_plan
from annoplan.planner.errors import InvalidInputError
from annoplan.planner.schemas.plans import PlanRequest, PlanResponse
from annoplan.reports import build_plan_workbook, plan_workbook
from annoplan.reports.plan import PRICES
from annoplan.reports.sections import PRICE_NAMES, STRATEGY_NAMES
from annoplan.reports.styles import INPUT_BLUE
from tests.reports.helpers import cells, load, small_request

SHEETS = [
    "Summary",
    "Assumptions",
    "Pilot",
    "Costs",
    "Strategies",
    "Learning curve",
    "Thresholds",
    "Schedule",
    "Sensitivity",
    "Runbook",
]
USD = '#,##0.00 "USD"'


def find(ws: Any, value: object, column: int = 1) -> int:
    """The row whose ``column`` holds ``value``."""
    for row in ws.iter_rows(min_col=column, max_col=column):
        if row[0].value == value:
            return int(row[0].row)
    raise AssertionError(f"{value!r} not found in column {column} of {ws.title}")


def test_the_sheets_a_finance_reader_expects(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == SHEETS


def test_the_summary_shows_the_recommendation_and_its_figures(
    book: openpyxl.Workbook, plan: PlanResponse
) -> None:
    ws = book["Summary"]
    rec = plan.recommendation
    assert ws["A2"].value == plan.name
    assert ws.cell(find(ws, "Strategy"), 2).value == STRATEGY_NAMES[rec.strategy]
    assert ws.cell(find(ws, "Batch size (items per round)"), 2).value == rec.batch_size
    cost = find(ws, "Cost")
    for column, key in enumerate(("mean", "p10", "p50", "p90"), start=2):
        cell = ws.cell(cost, column)
        assert Decimal(str(cell.value)) == Decimal(getattr(rec.cost, key))
        assert cell.number_format == USD
    assert rec.savings_vs_manual is not None
    assert Decimal(str(ws.cell(find(ws, "Savings vs manual"), 2).value)) == Decimal(
        rec.savings_vs_manual.mean
    )
    texts = [c.value for c in ws["A"] if isinstance(c.value, str)]
    assert all(f"- {reason}" in texts for reason in rec.reasons)
    assert named_value(book, "notes").value in texts


def test_strategies_sit_side_by_side_with_the_plan_figures(
    book: openpyxl.Workbook, plan: PlanResponse
) -> None:
    ws = book["Strategies"]
    header = [c.value for c in ws[4]]
    for column, forecast in enumerate(plan.strategies, start=3):
        name = STRATEGY_NAMES[forecast.strategy]
        assert header[column - 1].startswith(name)
        assert header[column - 1].endswith("(recommended)") == (
            forecast.strategy == plan.recommendation.strategy
        )
        cost = find(ws, "Cost")
        for offset, key in enumerate(("mean", "p10", "p50", "p90")):
            assert Decimal(str(ws.cell(cost + offset, column).value)) == Decimal(getattr(forecast.cost, key))
        error = find(ws, "Label error")
        assert [ws.cell(error + i, column).value for i in range(3)] == pytest.approx(
            [forecast.label_error.p10, forecast.label_error.p50, forecast.label_error.p90], rel=1e-12
        )
        assert ws.cell(error, column).number_format == "0.00%"
        assert ws.cell(find(ws, "Goal met"), column).value == pytest.approx(forecast.probability_goal_met)
    assert ws.freeze_panes == "C5"


def leaf_fields(data: Any, prefix: str = "") -> dict[str, Any]:
    """The plain fields of a request's JSON by dotted path (lists of objects left out)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(leaf_fields(value, f"{path}."))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            continue
        elif value is not None and value != []:
            out[path] = value
    return out


def named_value(book: openpyxl.Workbook, name: str) -> Any:
    sheet, coordinate = next(book.defined_names[name].destinations)
    return book[sheet][coordinate.replace("$", "")]


def test_every_input_is_a_named_cell_holding_the_request_value(
    book: openpyxl.Workbook, plan_request: dict[str, Any]
) -> None:
    request = PlanRequest.model_validate(plan_request).model_dump(mode="json")
    fields = leaf_fields(request)
    assert {
        "pool_size",
        "goal.type",
        "costs.label",
        "costs.round_overhead",
        "schedule.labels_per_day",
    } <= set(fields)
    for path, value in fields.items():
        cell = named_value(book, path.replace(".", "_"))
        expected = ", ".join(map(str, value)) if isinstance(value, list) else value
        assert cell.value == expected, path
        # only what drives a formula (the unit prices) is styled as an input; the rest is recorded output
        live = path in {f"costs.{p}" for p in PRICES}
        blue = cell.font.color is not None and str(cell.font.color.rgb).endswith(INPUT_BLUE)
        assert blue == live, path
        assert (cell.protection.locked is False) == live, path
    assert named_value(book, "costs_label").number_format == USD


def test_only_the_unit_prices_have_bounds_and_nothing_recorded_has_a_dropdown(
    book: openpyxl.Workbook,
) -> None:
    ws = book["Assumptions"]
    assert not [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    prices = [dv for dv in ws.data_validations.dataValidation if dv.type == "decimal"]
    price_cells = {str(cell) for dv in prices for rng in dv.sqref.ranges for cell in [rng.coord]}
    assert price_cells == {named_value(book, f"costs_{p}").coordinate for p in PRICES}


def test_pilot_values_are_recorded_output_not_inputs(book: openpyxl.Workbook) -> None:
    filled = [c for row in book["Pilot"].iter_rows() for c in row if c.value is not None]
    assert filled and not [
        c for c in filled if c.font.color is not None and str(c.font.color.rgb).endswith(INPUT_BLUE)
    ]
    assert all(c.protection.locked for c in filled)


def test_the_pilot_rounds_are_on_the_pilot_sheet(
    book: openpyxl.Workbook, plan_request: dict[str, Any]
) -> None:
    ws = book["Pilot"]
    first = find(ws, "n_labels") + 1
    rounds = plan_request["pilot"]["rounds"]
    assert [ws.cell(first + i, 1).value for i in range(len(rounds))] == [r["n_labels"] for r in rounds]
    assert [ws.cell(first + i, 2).value for i in range(len(rounds))] == [r["value"] for r in rounds]


def test_the_learning_curve_has_its_table_and_a_log_scale_chart(
    book: openpyxl.Workbook, plan: PlanResponse
) -> None:
    ws = book["Learning curve"]
    first = find(ws, "Labels") + 1
    for i, point in enumerate(plan.learning_curve):
        assert [ws.cell(first + i, c).value for c in range(1, 5)] == pytest.approx(
            [point.n_labels, point.p10, point.p50, point.p90], rel=1e-12
        )
    (chart,) = ws._charts
    assert chart.x_axis.scaling.logBase == 10
    last = first + len(plan.learning_curve) - 1
    refs = {s.tx.v: (s.xVal.numRef.f, s.yVal.numRef.f) for s in chart.series}
    assert refs["P50 forecast"] == (
        f"'Learning curve'!$A${first}:$A${last}",
        f"'Learning curve'!$C${first}:$C${last}",
    )
    assert refs["P10"][1].endswith(f"$B${first}:$B${last}") and refs["P90"][1].endswith(
        f"$D${first}:$D${last}"
    )
    assert "Pilot accuracy" in refs


def test_the_chosen_threshold_is_marked(book: openpyxl.Workbook, plan: PlanResponse) -> None:
    ws = book["Thresholds"]
    first = find(ws, "Threshold") + 1
    chosen = [i for i, row in enumerate(plan.thresholds) if row.chosen]
    assert len(chosen) == 1
    for i, row in enumerate(plan.thresholds):
        marked = ws.cell(first + i, 6).value == "chosen"
        assert marked == row.chosen
        assert ws.cell(first + i, 1).value == row.threshold
        assert (ws.cell(first + i, 1).fill.fgColor.rgb == "00FFF2CC") == row.chosen
    assert len(ws._charts) == 2


def test_the_schedule_lists_every_round_of_every_strategy(
    book: openpyxl.Workbook, plan: PlanResponse
) -> None:
    ws = book["Schedule"]
    rows = [r for r in ws.iter_rows(min_row=find(ws, "Strategy") + 1, values_only=True) if r[0]]
    expected = [
        (STRATEGY_NAMES[f.strategy], s.round, s.human_labels, float(Decimal(s.cost)), s.remaining)
        for f in plan.strategies
        for s in f.schedule
    ]
    assert [tuple(r[:5]) for r in rows] == expected
    assert ws.auto_filter.ref is not None
    assert len(ws._charts[0].series) == len(plan.strategies)


def test_sensitivity_is_sorted_by_swing_with_a_tornado_chart(
    book: openpyxl.Workbook, plan: PlanResponse
) -> None:
    ws = book["Sensitivity"]
    first = find(ws, "Unit price") + 1
    rows = list(ws.iter_rows(min_row=first, max_row=first + len(plan.sensitivity) - 1, values_only=True))
    by_swing = sorted(plan.sensitivity, key=lambda s: -(Decimal(s.high) - Decimal(s.low)))
    assert [r[0] for r in rows] == [PRICE_NAMES[s.price] for s in by_swing]
    # live: today's price, both costs and both changes are formulas over the Assumptions' prices
    assert all(isinstance(v, str) and v.startswith("=") for r in rows for v in (r[1], *r[3:]))
    assert str(ws.cell(find(ws, "Mean cost at today's prices"), 2).value).startswith("=Costs!")
    (chart,) = ws._charts
    assert chart.type == "bar" and len(chart.series) == 2


def test_a_request_model_or_dict_gives_the_same_content(
    plan: PlanResponse, plan_request: dict[str, Any]
) -> None:
    as_dict = build_plan_workbook(plan, plan_request)
    as_model = build_plan_workbook(plan, PlanRequest.model_validate(plan_request))
    assert as_dict == as_model


def test_an_invalid_request_is_refused_naming_the_field(plan: PlanResponse) -> None:
    with pytest.raises(InvalidInputError, match="pool_size"):
        plan_workbook(plan, small_request(pool_size=-1))


EVIL_NAME = '=HYPERLINK("http://x","y")'
EVIL_NOTES = "+cmd|' /C calc'!A0\n@SUM(1+1)\x07 and -2+3\x00\u202e"


def test_user_text_lands_as_text_never_as_a_formula(plan: PlanResponse) -> None:
    request = small_request(name=EVIL_NAME, notes=EVIL_NOTES)
    data = plan_workbook(plan.model_copy(update={"name": EVIL_NAME}), request)
    book = load(data)
    summary_name = book["Summary"]["A2"]
    assert (summary_name.data_type, summary_name.value, summary_name.quotePrefix) == ("s", EVIL_NAME, True)
    name_input = named_value(book, "name")
    assert (name_input.data_type, name_input.value, name_input.quotePrefix) == ("s", EVIL_NAME, True)
    notes = [c for c in book["Summary"]["A"] if c.value in ("+cmd|' /C calc'!A0", "@SUM(1+1) and -2+3")]
    assert len(notes) == 2 and all(c.data_type == "s" and c.quotePrefix for c in notes)
    formulas = [c for c in cells(book) if c.data_type == "f"]
    assert formulas and all(c.parent.title in ("Costs", "Summary", "Sensitivity") for c in formulas)
    assert not any("HYPERLINK" in str(c.value) for c in formulas)
    assert not any(ch in str(c.value) for c in cells(book) for ch in "\x00\x07\u202e")


def test_a_plan_without_hybrid_explains_the_empty_thresholds_sheet() -> None:
    request = small_request(strategies=["manual", "prelabel"])
    plan = make_plan(request)
    book = load(plan_workbook(plan, request))
    ws = book["Thresholds"]
    assert any("not simulated" in str(c.value) for c in ws["A"])
    assert not ws._charts
    headers = [c.value for c in book["Strategies"][4]][2:]
    assert [h.removesuffix(" (recommended)") for h in headers] == ["Manual", "Pre-label"]
    assert headers.index(f"{STRATEGY_NAMES[plan.recommendation.strategy]} (recommended)") >= 0


def test_a_model_metric_goal_and_a_currency_without_decimals() -> None:
    costs = {**small_request()["costs"], "currency": "JPY", "label": 50, "review": 15, "correction": 40}
    request = small_request(
        goal={"type": "model_metric", "target": 0.95}, costs=costs, strategies=["manual", "active_learning"]
    )
    plan = make_plan(request)
    book = load(plan_workbook(plan, request))
    summary = book["Summary"]
    assert "accuracy 0.95" in summary.cell(find(summary, "Goal"), 2).value
    assert summary.cell(find(summary, "Cost"), 2).number_format == '#,##0 "JPY"'
    assert named_value(book, "goal_target").value == 0.95
    assert named_value(book, "costs_label").number_format == '#,##0 "JPY"'


def test_long_notes_are_split_into_rows_a_spreadsheet_shows_whole(plan: PlanResponse) -> None:
    notes = " ".join(f"sentence {i} of a long scenario description." for i in range(200))
    model = build_plan_workbook(plan, small_request(notes=notes))
    summary = model.sheet("Summary").rows
    start = next(i for i, row in enumerate(summary) if row and row[0].value == "Notes") + 1
    end = next(i for i in range(start, len(summary)) if not summary[i])
    rows = [str(row[0].value) for row in summary[start:end]]
    assert len(rows) > 1 and all(len(text) <= 1500 for text in rows)
    assert " ".join(rows) == notes


def test_the_runbook_sheet_lists_the_policy_steps_and_planned_lots(
    book: openpyxl.Workbook, plan: PlanResponse
) -> None:
    ws = book["Runbook"]
    policy = plan.policy
    assert policy is not None
    texts = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    for step in policy.steps:
        assert step.rule[:200] in " ".join(texts)
    if policy.planned_lots:
        header = find(ws, "Lot (j)")
        first = policy.planned_lots[0]
        assert ws.cell(header + 1, 8).value == first.sample_size
        assert ws.cell(header + 1, 9).value == first.acceptance_number


def test_an_unreachable_goal_is_headed_as_the_closest_attempt(
    plan: PlanResponse, plan_request: dict[str, Any]
) -> None:
    rec = plan.recommendation.model_copy(update={"reachable": False, "savings_vs_manual": None})
    book = load(plan_workbook(plan.model_copy(update={"recommendation": rec}), plan_request))
    column = [c.value for c in book["Summary"]["A"]]
    assert "Not reachable: the closest attempt" in column and "Recommendation" not in column
    ws = book["Summary"]
    assert ws.cell(find(ws, "Savings vs manual"), 2).value == "n/a: the goal is not reachable"


def test_the_summary_names_the_budget_the_median_and_the_stop_rule(
    book: openpyxl.Workbook, plan: PlanResponse
) -> None:
    ws = book["Summary"]
    rec = plan.recommendation
    assert ws.cell(find(ws, "Human labels to budget (90%)"), 2).value == rec.human_labels_budget
    assert ws.cell(find(ws, "Human labels, median (P50)"), 2).value == rec.human_labels_p50
    assert ws.cell(find(ws, "Human work stops"), 2).value == rec.stop_rule
    assert "Stop after human labels" not in [c.value for c in ws["A"]]
