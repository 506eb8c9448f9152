"""Building blocks shared by the plan and quote workbooks: titles, paragraphs, key-value rows, money, and the
inputs of a request as named, editable cells."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from annoplan.planner.schemas.policy import Policy
from annoplan.reports.model import Cell, Sheet, SheetBuilder, Validation

#: display names of the strategies (SPEC 2)
STRATEGY_NAMES = {
    "manual": "Manual",
    "prelabel": "Pre-label",
    "active_learning": "Active learning",
    "hybrid": "Hybrid",
}
#: display names of the unit prices of a rate card
PRICE_NAMES = {
    "label": "Fresh label",
    "review": "Review (pre-label right)",
    "correction": "Correction (pre-label wrong)",
    "audit": "Audit of an auto-accepted item",
    "platform_fee": "Platform fee per item",
    "round_overhead": "Overhead per round",
}
#: request fields (dotted paths) with a fixed set of values, offered as dropdowns (not the currency: the ISO
#: 4217 list is longer than a dropdown may hold, and the workbook's money formats are fixed to its currency)
CHOICES: dict[str, tuple[str, ...]] = {
    "goal.type": ("model_metric", "labeled_dataset"),
    "pilot.metric": ("accuracy", "f1", "error_rate"),
}


ASSUMPTIONS, PILOT = "Assumptions", "Pilot"
QUANTILE_NOTE = (
    "P10, P50 and P90 are the 10th, 50th (median) and 90th percentiles over the simulated draws: "
    "an 80% chance that the outcome lands between P10 and P90."
)


def strategy_name(strategy: str) -> str:
    return STRATEGY_NAMES.get(strategy, strategy)


def amount(text: str | None) -> float | None:
    """A decimal string of money as a number for a display cell (None stays empty)."""
    return None if text is None else float(Decimal(text))


def input_name(path: str) -> str:
    """The defined name of a request field: ``costs.label`` -> ``costs_label``."""
    return path.replace(".", "_")


def title(sb: SheetBuilder, text: str, span: int, note: str | None = None) -> None:
    """A sheet title and an optional explanatory note under it, both spanning ``span`` columns."""
    sb.add(Cell(text, "title", span=span))
    if note:
        sb.add(Cell(note, "note", span=span))
    sb.blank()


def heading(sb: SheetBuilder, text: str, span: int) -> int:
    return sb.add(*[Cell(text, "heading"), *[Cell(None, "heading") for _ in range(span - 1)]])


def paragraphs(sb: SheetBuilder, lines: Iterable[str], span: int, style: str = "wrap") -> None:
    """One wrapped row per line of text (newlines inside a line start new rows; a long line is cut at spaces
    into rows a spreadsheet can show whole)."""
    for line in lines:
        for part in line.splitlines() or [""]:
            for chunk in _chunks(part, ROW_CHARS):
                sb.add(Cell(chunk, style, span=span))


def closing_sections(sb: SheetBuilder, warnings: list[str], notes: str | None, span: int) -> None:
    """The end of a summary sheet: the warnings, the request's notes and what P10/P50/P90 mean."""
    sb.blank()
    heading(sb, "Warnings", span)
    paragraphs(sb, [f"- {w}" for w in warnings] or ["None."], span, "warning" if warnings else "wrap")
    sb.blank()
    heading(sb, "Notes", span)
    paragraphs(sb, [notes] if notes else ["None."], span)
    sb.blank()
    paragraphs(sb, [QUANTILE_NOTE], span, "note")


#: most characters of wrapped text in one row (a row is at most 409 points, about 27 lines, tall)
ROW_CHARS = 1500


def _chunks(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut after a space where there is one."""
    out = []
    while len(text) > size:
        cut = text.rfind(" ", 0, size) + 1 or size
        out.append(text[:cut].rstrip())
        text = text[cut:]
    return [*out, text]


def key_value(sb: SheetBuilder, label: str, *values: Cell) -> int:
    return sb.add(Cell(label, "label"), *values)


def describe(value: Any) -> str:
    """Plain text of a planner assumption: dicts as ``key: value; ...``, lists joined with ``; ``."""
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {describe(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(describe(v) for v in value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def mapping_rows(sb: SheetBuilder, values: Mapping[str, Any], span: int) -> None:
    """One row per entry: the key, then its value as text across the other columns."""
    for key, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            sb.add(Cell(str(key), "label"), Cell(value, "decimal" if isinstance(value, float) else "count"))
        else:
            sb.add(Cell(str(key), "label"), Cell(describe(value), "wrap", span=span - 1))


def request_inputs(
    sb: SheetBuilder,
    model: BaseModel,
    *,
    money: frozenset[str],
    shares: frozenset[str],
    meanings: Mapping[str, str] | None = None,
    skip: frozenset[str] = frozenset(),
    tables_on: str = "",
    live: frozenset[str] = frozenset(),
) -> list[tuple[str, list[BaseModel]]]:
    """Every plain field of a request as a row ``path | value | meaning``.

    Each value is a cell with a defined name (``costs.label`` -> ``costs_label``). Fields in ``live`` drive
    formulas of the workbook: they are input cells (blue, unlocked), with a dropdown where the field has
    choices (:data:`CHOICES`), bounds where it is money (>= 0) or a share (0 to 1). The others record what
    the forecast used and are styled as output: changing them would move nothing. Nested
    objects are walked; lists of plain values become one text cell; ``meanings`` fills in what the schema
    does not describe; fields (or objects) in ``skip`` are left out. Lists of objects (pilot rounds,
    calibration samples) get a row pointing at the sheet ``tables_on`` and are returned as ``(path, items)``
    for :func:`object_table`.
    """
    tables: list[tuple[str, list[BaseModel]]] = []
    _input_rows(sb, model, "", money, shares, meanings or {}, skip, tables_on, tables, live)
    return tables


def _input_rows(
    sb: SheetBuilder,
    model: BaseModel,
    prefix: str,
    money: frozenset[str],
    shares: frozenset[str],
    meanings: Mapping[str, str],
    skip: frozenset[str],
    tables_on: str,
    tables: list[tuple[str, list[BaseModel]]],
    live: frozenset[str],
) -> None:
    for field, info in type(model).model_fields.items():
        path = f"{prefix}{field}"
        if path in skip:
            continue
        value = getattr(model, field)
        meaning = info.description or meanings.get(path, "")
        if isinstance(value, BaseModel):
            _input_rows(sb, value, f"{path}.", money, shares, meanings, skip, tables_on, tables, live)
            continue
        if isinstance(value, list) and value and all(isinstance(v, BaseModel) for v in value):
            tables.append((path, value))
            where = f"{len(value)} rows, see {tables_on}" if tables_on else f"{len(value)} rows"
            sb.add(Cell(path, "label"), Cell(where, "missing"), Cell(meaning, "note"))
            continue
        if value in (None, []) and _is_object_field(info.annotation):
            sb.add(Cell(path, "label"), Cell("not given", "missing"), Cell(meaning, "note"))
            continue
        style, validation = _input_style(path, value, money, shares)
        if path not in live:
            style, validation = recorded(style), None
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        sb.add(
            Cell(path, "label"),
            Cell(value, style, name=input_name(path), validation=validation),
            Cell(meaning, "note"),
        )


def inputs_sheets(
    request: BaseModel,
    assumptions: Mapping[str, Any],
    *,
    money: frozenset[str],
    shares: frozenset[str],
    meanings: Mapping[str, str],
    note: str,
    skip: frozenset[str] = frozenset(),
    live: frozenset[str] = frozenset(),
) -> tuple[Sheet, Sheet]:
    """The Assumptions sheet (every input of ``request`` as a named cell, editable where ``live`` says it
    drives formulas, see :func:`request_inputs`, then the planner's ``assumptions``) and the Pilot sheet
    (its tables, recorded as the forecast used them)."""
    sb = SheetBuilder(ASSUMPTIONS)
    span = 3
    title(sb, "Assumptions", span, note=note)
    sb.add(Cell("Input", "header_left"), Cell("Value", "header"), Cell("Meaning", "header_left"))
    tables = request_inputs(
        sb, request, money=money, shares=shares, meanings=meanings, skip=skip, tables_on=PILOT, live=live
    )
    if assumptions:
        sb.blank()
        heading(sb, "Model assumptions (set by the planner)", span)
        mapping_rows(sb, assumptions, span)
    pilot = SheetBuilder(PILOT)
    title(
        pilot,
        "Pilot",
        5,
        note="The pilot's rounds and calibration samples as the request gave them (lists by their mean), "
        "recorded as the forecast used them: run a new forecast to change them.",
    )
    for i, (path, items) in enumerate(tables):
        if i:
            pilot.blank()
        object_table(pilot, path, items, pilot.next_row)
    return sb.build(header_rows=4, widths=((1, 26.0), (2, 24.0), (3, 50.0))), pilot.build()


def object_table(sb: SheetBuilder, path: str, items: list[BaseModel], row: int, column: int = 1) -> int:
    """A list of request objects as a table with its top-left corner at (``row``, ``column``): a column per
    plain field (as given, styled as output: the forecast was fitted to them); a list field becomes the mean
    of its values (a share for flags), with the number of items once. Returns the last row written."""
    fields = list(type(items[0]).model_fields)
    lists = [f for f in fields if isinstance(getattr(items[0], f), list)]
    plain = [f for f in fields if f not in lists]
    headers = [*plain, *([] if not lists else ["items"]), *(f"{f} (mean)" for f in lists)]
    sb.put(row, column, Cell(path, "heading"), *(Cell(None, "heading") for _ in headers[1:]))
    sb.put(row + 1, column, *(Cell(h, "header") for h in headers))
    for i, item in enumerate(items, start=row + 2):
        sequences = [list(getattr(item, f)) for f in lists]
        sb.put(
            i,
            column,
            *(Cell(getattr(item, f), recorded(_table_style(f, items))) for f in plain),
            *([Cell(len(sequences[0]), "count")] if lists else []),
            *(Cell(sum(map(float, seq)) / len(seq) if seq else None, "threshold") for seq in sequences),
        )
    return row + 1 + len(items)


def _table_style(field: str, items: list[BaseModel]) -> str:
    values = [getattr(item, field) for item in items]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers and all(isinstance(v, int) for v in numbers):
        return "input_count"
    if numbers and all(0.0 <= v <= 1.0 for v in numbers):
        return "input_percent_fine"
    return "input_decimal" if numbers else "input_text"


def recorded(style: str) -> str:
    """The output style of an input style: a value recorded as the forecast used it, which drives nothing."""
    if style == "input_text":
        return "wrap"
    return style.removeprefix("input_")


def _input_style(
    path: str, value: Any, money: frozenset[str], shares: frozenset[str]
) -> tuple[str, Validation | None]:
    if path in CHOICES:
        return "input_text", Validation(choices=CHOICES[path])
    if path in money:
        return "input_money", Validation(minimum=0.0)
    if path in shares:
        return "input_percent_fine", Validation(minimum=0.0, maximum=1.0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "input_text", None
    if isinstance(value, int):
        return "input_count", Validation(minimum=0.0)
    return "input_decimal", None


def _is_object_field(annotation: Any) -> bool:
    """Whether a field's type is (optionally) an object or a list of objects, e.g. ``Value | None``."""
    args = getattr(annotation, "__args__", (annotation,))
    return any(
        (isinstance(a, type) and issubclass(a, BaseModel)) or (a is not annotation and _is_object_field(a))
        for a in args
    )


RUNBOOK = "Runbook"
#: column headers of the planned sampling plans, and the fields they show
_AUDIT_COLUMNS = (
    ("Lot (j)", "lot", "count"),
    ("Lot size (m)", "lot_size", "count"),
    ("Undelivered (U)", "undelivered", "count"),
    ("Budget left (B)", "budget_left", "count"),
    ("Allowance (a)", "allowance", "count"),
    ("Level (delta_j)", "level", "percent_fine"),
    ("Expected rate (r)", "expected_rate", "percent_fine"),
    ("Audit (n)", "sample_size", "count"),
    ("Accept if wrong <= (c)", "acceptance_number", "count"),
)


def runbook_sheet(policy: Policy | None) -> Sheet:
    """The policy object as a sheet: its settings, one round's steps in order, the planned sampling plans."""
    sb = SheetBuilder(RUNBOOK)
    span = len(_AUDIT_COLUMNS)
    title(
        sb,
        "Runbook",
        span,
        note="The process the forecast priced, step by step (the response's policy object, version "
        f"{policy.version if policy else 'n/a'}): run exactly this and the forecast applies.",
    )
    if policy is None:
        paragraphs(sb, ["No runbook: nothing was priced."], span)
        return sb.build()
    heading(sb, "Settings", span)
    settings: dict[str, Any] = {
        "strategy": strategy_name(policy.strategy),
        "start labels (random, labeled before round 1)": policy.start_labels,
        "batch size (items to humans per round)": policy.batch_size,
        "which items humans get": policy.selection.replace("_", " "),
        "humans see the model's label": "yes" if policy.prelabeled else "no",
        "confidence threshold at the start": policy.confidence_threshold,
        "cap on human-touched items": policy.human_label_cap,
        "stop at metric": policy.stop_at_metric,
        "at the cap": policy.after_cap,
    }
    if policy.lot_audit is not None:
        audit = policy.lot_audit
        settings |= {
            "label-error goal": audit.max_label_error,
            "delta (probability the goal may be missed)": audit.delta,
            "error budget (wrong labels allowed)": audit.error_budget,
            "least audit share of a lot": audit.min_audit_share,
            "audit headroom (pass_z)": audit.pass_z,
        }
    else:
        settings["audit rate"] = policy.audit_rate
    mapping_rows(sb, {k: "none" if v is None else v for k, v in settings.items()}, span)
    sb.blank()
    heading(sb, "Each round, in order", span)
    for number, step in enumerate(policy.steps, start=1):
        sb.add(
            Cell(f"{number}. {step.action.replace('_', ' ')}", "label"),
            Cell(step.rule, "wrap", span=span - 1),
        )
    if policy.planned_lots:
        sb.blank()
        heading(sb, "Planned lots (median path; compute each real lot's plan from the rules)", span)
        sb.add(*(Cell(name, "header") for name, _, _ in _AUDIT_COLUMNS))
        for row in policy.planned_lots:
            sb.add(*(Cell(getattr(row, field), style) for _, field, style in _AUDIT_COLUMNS))
    return sb.build(widths=((1, 30.0),), landscape=True)
