"""The ``annoplan`` command line: a thin shell over ``planner`` and ``simulators``.

Responses go to standard output as JSON; progress and warnings to standard error; bad input exits 2 with a
one-line message naming the field.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

import planner
import reports
from api.replay_cli import replay_command
from api.serve import serve_command
from planner.errors import InvalidInputError, PlannerError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="annoplan: forecast what labeling strategies cost from a few pilot rounds.",
)
app.command("replay")(replay_command)
app.command("serve")(serve_command)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: largest request file read (bytes)
MAX_REQUEST_BYTES = 50 * 1024 * 1024
ROUND_COLUMNS = ("n_labels", "value", "n_eval", "std")


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on standard error, then exit ``code``."""
    typer.echo(f"annoplan: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


def read_text(source: str) -> str:
    """The text of ``source``: a file path, or ``-`` for standard input."""
    if source == "-":
        text = sys.stdin.read(MAX_REQUEST_BYTES + 1)
    else:
        path = Path(source)
        if not path.is_file():
            fail(f"FILE: {source} does not exist or is not a file")
        if path.stat().st_size > MAX_REQUEST_BYTES:
            fail(f"FILE: {source} is larger than {MAX_REQUEST_BYTES // 2**20} MB")
        text = path.read_text(encoding="utf-8-sig")
    if len(text) > MAX_REQUEST_BYTES:
        fail(f"FILE: the request is larger than {MAX_REQUEST_BYTES // 2**20} MB")
    return text


def parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"FILE: {source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")


def rounds_from_rows(rows: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """Pilot rounds from table rows with columns ``n_labels, value[, n_eval][, std]``."""
    rounds = []
    for i, row in enumerate(rows):
        clean = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        missing = [c for c in ROUND_COLUMNS[:2] if c not in clean]
        if missing:
            fail(f"FILE: {source} needs the columns n_labels and value (missing: {', '.join(missing)})")
        entry: dict[str, Any] = {}
        for col in ROUND_COLUMNS:
            raw = clean.get(col)
            if raw is None or str(raw).strip() == "":
                continue
            try:
                number = float(raw)
            except ValueError:
                fail(f"rounds[{i}].{col}: {raw!r} in {source} is not a number")
            entry[col] = int(number) if col in ("n_labels", "n_eval") and number.is_integer() else number
        rounds.append(entry)
    return rounds


def read_table(source: str) -> list[dict[str, Any]]:
    """Rows of a CSV (or ``-``) or of the first sheet of an XLSX file, keyed by the header row."""
    if source.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(source, read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many types for a broken file
            fail(f"FILE: {source} is not a readable .xlsx workbook ({exc.__class__.__name__})")
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        if not values:
            fail(f"FILE: {source} has an empty first sheet")
        header = [str(h) if h is not None else "" for h in values[0]]
        return [dict(zip(header, r, strict=False)) for r in values[1:] if any(v is not None for v in r)]
    return list(csv.DictReader(io.StringIO(read_text(source))))


def emit(response: Any) -> None:
    """The response JSON on standard output, its warnings on standard error."""
    data = response.model_dump(mode="json")
    for warning in data.get("warnings", []):
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(json.dumps(data, indent=2))


def run(call: Any, request: Any) -> Any:
    """Call the planner; bad input exits 2 naming the field, other planner errors exit 1."""
    try:
        return call(request)
    except InvalidInputError as exc:
        fail(str(exc))
    except PlannerError as exc:
        fail(str(exc), code=1)


@app.command("fit")
def fit_command(
    file: Annotated[str, typer.Argument(help="JSON fit request, or a CSV/XLSX of pilot rounds; - for stdin")],
    metric: Annotated[
        str, typer.Option(help="metric of a CSV/XLSX: accuracy, f1 or error_rate")
    ] = "accuracy",
    target: Annotated[list[float] | None, typer.Option(help="target metric value (repeatable)")] = None,
    at: Annotated[list[int] | None, typer.Option(help="forecast at this many labels (repeatable)")] = None,
) -> None:
    """Fit a learning curve to pilot rounds: metric forecasts and labels needed per target."""
    is_table = file.lower().endswith((".csv", ".xlsx"))
    if is_table:
        request: Any = {"metric": metric, "rounds": rounds_from_rows(read_table(file), file)}
    else:
        request = read_request(file)
    if target:
        request["targets"] = list(target)
    if at:
        request["at_labels"] = list(at)
    emit(run(planner.fit_curve, request))


def read_request(file: str) -> dict[str, Any]:
    """A JSON request object from ``file`` (or ``-``)."""
    request = parse_json(read_text(file), file)
    if not isinstance(request, dict):
        fail("request: expected a JSON object")
    return request


XLSX_OPTION = typer.Option("--xlsx", help="also write the Excel workbook to this file")


def write_workbook(path: Path, content: bytes) -> None:
    """Write a workbook; a path that cannot be written exits 2 naming the option."""
    try:
        path.write_bytes(content)
    except OSError as exc:
        fail(f"--xlsx: cannot write {path} ({exc.strerror or exc.__class__.__name__})")
    typer.echo(f"wrote {path}", err=True)


@app.command("plan")
def plan_command(
    file: Annotated[str, typer.Argument(help="JSON plan request; - for stdin")],
    xlsx: Annotated[Path | None, XLSX_OPTION] = None,
) -> None:
    """Forecast each strategy's cost, days and label error, and recommend the settings."""
    request = read_request(file)
    plan = run(planner.make_plan, request)
    emit(plan)
    if xlsx is not None:
        write_workbook(xlsx, reports.plan_workbook(plan, request))


@app.command("quote")
def quote_command(
    file: Annotated[str, typer.Argument(help="JSON quote request; - for stdin")],
    xlsx: Annotated[Path | None, XLSX_OPTION] = None,
    client: Annotated[
        bool, typer.Option("--client", help="the workbook is the client's copy: no vendor costs or margin")
    ] = False,
) -> None:
    """Price correction-only work: unit prices that keep the vendor's margin at the chosen risk level."""
    request = read_request(file)
    quote = run(planner.make_quote, request)
    emit(quote)
    if xlsx is not None:
        write_workbook(xlsx, reports.quote_workbook(quote, request, client=client))


@app.command("demo")
def demo_command(xlsx: Annotated[Path | None, XLSX_OPTION] = None) -> None:
    """Run annoplan on the bundled example: a learning-curve forecast and a plan, printed readably."""
    request = json.loads((EXAMPLES / "plan.json").read_text())
    plan = run(planner.make_plan, request)
    typer.echo(f"annoplan demo: {plan.name or 'example plan'}")
    typer.echo(f"  {request['pool_size']:,} items to label; goal: {describe_goal(request['goal'])}")
    print_pilot(request["pilot"])
    print_curve(plan.learning_curve, request["pilot"]["metric"])
    print_plan(plan)
    if xlsx is not None:
        write_workbook(xlsx, reports.plan_workbook(plan, request))


def describe_goal(goal: dict[str, Any]) -> str:
    if goal["type"] == "labeled_dataset":
        return f"every item labeled, at most {goal['max_label_error']:.1%} of them wrong"
    return f"a model reaching {goal['target']:g}"


def print_pilot(pilot: dict[str, Any]) -> None:
    typer.echo("\nPilot rounds")
    for r in pilot["rounds"]:
        typer.echo(f"  {r['n_labels']:>8,} labels  {pilot['metric']} {r['value']:.3f}")


def print_curve(curve: list[Any], metric: Any) -> None:
    typer.echo(f"\nForecast: {metric} a model trained on N labels will measure")
    typer.echo(f"  {'labels':>10}  {'P10':>6}  {'P50':>6}  {'P90':>6}")
    for p in curve:
        typer.echo(f"  {p.n_labels:>10,}  {p.p10:6.3f}  {p.p50:6.3f}  {p.p90:6.3f}")


def print_plan(plan: Any) -> None:
    currency = plan.currency
    typer.echo(f"\nStrategies (cost in {currency}; P10 / P50 / P90)")
    typer.echo(
        f"  {'strategy':<16} {'cost P10':>11} {'P50':>11} {'P90':>11} {'days P50':>9} {'P(goal)':>8}"
        "  settings"
    )
    for s in plan.strategies:
        settings = f"batch {s.settings.batch_size:,}"
        if s.settings.confidence_threshold is not None:
            settings += f", threshold {s.settings.confidence_threshold:.3g}"
        if s.settings.stop_at_labels is not None:
            settings += f", stop at {s.settings.stop_at_labels:,} labels"
        typer.echo(
            f"  {s.strategy:<16} {s.cost.p10:>11} {s.cost.p50:>11} {s.cost.p90:>11} {s.days.p50:>9.1f} "
            f"{s.probability_goal_met:>8.0%}  {settings}"
        )
    rec = plan.recommendation
    typer.echo(f"\nRecommendation: {rec.strategy}")
    for reason in rec.reasons:
        typer.echo(f"  - {reason}")
    for warning in plan.warnings:
        typer.echo(f"\nwarning: {warning}")


def main() -> None:
    """Console-script entry point."""
    app()
