"""``annoplan track PLAN ACTUALS``: the rounds really done against the plan, and a re-plan from the actual
state.

A thin shell over :func:`planner.tracking.track_plan`. PLAN is the plan request (the file ``annoplan plan``
read): the plan is made again from it (the same seed gives the same plan), or ``--plan-response`` gives the
plan as ``annoplan plan`` printed it. ACTUALS is a CSV with the columns ``round``, ``human_labels``, ``cost``
and optionally ``corrections``, ``auto_accepted`` and ``metric`` (one row per round, cumulative), or a JSON
object ``{"rounds": [...]}`` (which may also carry each round's ``calibration``). Bad input exits 2 with
``annoplan track: option: message``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from annoplan.api import output
from annoplan.planner.errors import InvalidInputError, PlannerError

#: columns of an actuals CSV: the integer ones, and the others
COUNT_COLUMNS = ("round", "human_labels", "corrections", "auto_accepted")
REQUIRED_COLUMNS = ("round", "human_labels", "cost")
KNOWN_COLUMNS = (*COUNT_COLUMNS, "cost", "metric")
COLUMNS_TEXT = ", ".join(KNOWN_COLUMNS)


def _fail(option: str, message: str) -> NoReturn:
    typer.echo(f"annoplan track: {option}: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(2)


def _read_text(source: str, option: str) -> str:
    from annoplan.api.cli import decode_text, read_bytes

    try:
        return decode_text(read_bytes(source), source)
    except InvalidInputError as error:
        _fail(option, error.message)


def _read_json(source: str, option: str) -> Any:
    from annoplan.api.cli import load_json

    try:
        return load_json(_read_text(source, option), source)
    except InvalidInputError as error:
        _fail(f"{option}: {error.field}" if error.field else option, error.message)


def _cell(row: dict[str, str | None], column: str, line: int) -> Any:
    """The value of one CSV cell as the actuals schema takes it (None when empty)."""
    raw = (row.get(column) or "").strip()
    if not raw:
        return None
    if column == "cost":
        return raw
    try:
        return int(raw) if column in COUNT_COLUMNS else float(raw)
    except ValueError:
        kind = "a whole number" if column in COUNT_COLUMNS else "a number"
        _fail(f"ACTUALS: line {line}: {column}", f"{raw!r} is not {kind}")


def parse_actuals_csv(text: str) -> dict[str, Any]:
    """The actuals request of a CSV (one row per round); exits 2 naming a missing or unknown column."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        _fail("ACTUALS", f"missing column(s) {', '.join(missing)}; the columns are {COLUMNS_TEXT}")
    unknown = [c for c in columns if c not in KNOWN_COLUMNS]
    if unknown:
        _fail("ACTUALS", f"unknown column(s) {', '.join(unknown)}; the columns are {COLUMNS_TEXT}")
    rounds = []
    for line, raw in enumerate(reader, start=2):
        row = {k.strip(): v for k, v in raw.items() if k is not None}
        values = {c: _cell(row, c, line) for c in columns}
        rounds.append({k: v for k, v in values.items() if v is not None or k in REQUIRED_COLUMNS})
    if not rounds:
        _fail("ACTUALS", "no rounds: give one row per round done")
    return {"rounds": rounds}


def read_actuals(source: str) -> dict[str, Any]:
    """The actuals request of a CSV or JSON file (JSON when it starts with ``{``)."""
    text = _read_text(source, "ACTUALS")
    if text.lstrip().startswith("{"):
        data = _read_json(source, "ACTUALS")
        if not isinstance(data, dict):
            _fail("ACTUALS", 'expected a JSON object {"rounds": [...]}')
        return data
    return parse_actuals_csv(text)


def tracking_document(tracking: Any) -> output.Document:
    """The document of a tracking answer: the totals, the burn-up and the advice."""
    currency = tracking.currency
    f = tracking.forecast

    def money_row(label: str, q: Any) -> tuple[str, ...]:
        return (label, *(output.amount(getattr(q, k), currency) for k in ("p10", "p50", "p90")))

    totals = output.Table(
        "Total cost",
        ("", "P10", "P50", "P90"),
        (
            money_row("plan", tracking.plan_cost),
            money_row(f"re-plan ({f.strategy})", f.cost),
            money_row("still to spend", f.cost_to_go),
            ("days left", *(output.days(getattr(f.days, k)) for k in ("p10", "p50", "p90"))),
        ),
    )
    burn = output.Table(
        "Burn-up: cumulative cost by round",
        ("round", "plan P10", "plan P50", "plan P90", "actual"),
        tuple(
            (
                str(r.round),
                output.amount(r.plan_p10, currency),
                output.amount(r.plan_p50, currency),
                output.amount(r.plan_p90, currency),
                output.amount(r.actual, currency) if r.actual is not None else "-",
            )
            for r in tracking.burn_up
        ),
    )
    blocks: list[output.Block] = [totals, burn, output.Notes("Advice", tuple(tracking.advice))]
    if tracking.warnings:
        blocks.append(output.Notes("Warnings", tuple(tracking.warnings)))
    heading = (
        f"Plan {tracking.plan_id}: {tracking.status.replace('_', ' ')} after round {tracking.rounds}, "
        f"{output.amount(tracking.spent, currency)} spent"
    )
    return output.Document(heading, tuple(blocks), tracking.model_dump(mode="json"))


def track_command(
    plan: Annotated[str, typer.Argument(metavar="PLAN", help="JSON plan request (annoplan plan's)")],
    actuals: Annotated[
        str,
        typer.Argument(metavar="ACTUALS", help="CSV or JSON of the rounds done; - for stdin"),
    ],
    plan_response: Annotated[
        Path | None,
        typer.Option(
            "--plan-response",
            metavar="FILE",
            help="the plan as annoplan plan printed it (JSON); default: made again from PLAN",
        ),
    ] = None,
    xlsx: Annotated[
        Path | None,
        typer.Option(metavar="OUT.xlsx", help="also write the plan workbook with its Burn-up sheet"),
    ] = None,
    chart: Annotated[
        Path | None, typer.Option(metavar="FILE.png|svg", help="also draw the burn-up chart to this file")
    ] = None,
    output_format: Annotated[
        output.Format | None,
        typer.Option("--format", show_default=False, help="table on a terminal, JSON when piped"),
    ] = None,
) -> None:
    """Set the rounds really done against a plan: spent, status, burn-up and a re-planned forecast."""
    from annoplan.api.cli import output_path_problem

    for option, path in (("--xlsx", xlsx), ("--chart", chart)):
        problem = None if path is None else output_path_problem(path)
        if problem is not None:
            _fail(option, problem)
    if chart is not None and chart.suffix.lower() not in (".png", ".svg"):
        _fail("--chart", f"{chart} must end in .png or .svg")
    if plan == "-" and actuals == "-":
        _fail("ACTUALS", "PLAN already reads standard input; give ACTUALS as a file")
    request = _read_json(plan, "PLAN")
    if not isinstance(request, dict):
        _fail("PLAN", "expected a JSON plan request object")
    body = read_actuals(actuals)
    from annoplan import planner
    from annoplan.planner.schemas.plans import PlanResponse
    from annoplan.planner.tracking import track_plan

    try:
        if plan_response is not None:
            made = PlanResponse.model_validate(_read_json(str(plan_response), "--plan-response"))
        else:
            made = planner.make_plan(request)
    except InvalidInputError as exc:
        _fail("PLAN", str(exc))
    except ValueError as exc:  # a plan response that does not validate
        _fail("--plan-response", " ".join(str(exc).split())[:500])
    try:
        tracking = track_plan(request, made, body)
    except InvalidInputError as exc:
        _fail("ACTUALS", str(exc))
    except PlannerError as exc:
        typer.echo(f"annoplan track: {exc}", err=True)
        raise typer.Exit(1) from None
    chosen = output_format or output.default_format()
    if chosen == output.Format.json:
        for warning in tracking.warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo(json.dumps(tracking.model_dump(mode="json"), indent=2))
    else:
        output.render(tracking_document(tracking), chosen)
    if xlsx is not None:
        from annoplan.reports.tracking import tracked_plan_workbook

        xlsx.write_bytes(tracked_plan_workbook(made, request, tracking))
    if chart is not None:
        from annoplan.reports.burnup_chart import burnup_chart
        from annoplan.reports.charts import chart_bytes

        chart.write_bytes(chart_bytes(burnup_chart(tracking), chart.suffix.lower().lstrip(".")))
