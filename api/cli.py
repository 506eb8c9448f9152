"""The ``annoplan`` command line: a thin shell over ``planner`` and ``simulators``.

Responses go to standard output as JSON; progress and warnings to standard error. Exit codes: 0 done; 2 bad
input (one line on standard error naming every bad field or option, before anything is computed); 1 a planner
error that is not the input's fault; 124 the computation ran past ``--deadline``.

Input files are read within bounds, whatever they claim: at most :data:`MAX_REQUEST_BYTES` (an ``.xlsx`` also
at most that much unpacked), UTF-8 text, JSON nested only as deep as Python's reader goes and integers of at
most :data:`MAX_INTEGER_DIGITS` digits, tables of at most :data:`MAX_TABLE_ROWS` rows read lazily over their
first :data:`MAX_TABLE_COLUMNS` columns (a sheet's declared dimension is ignored), every table cell read by
:func:`read_number`. Plans and quotes are refused above the HTTP API's work cap unless told otherwise
(``--max-work``, ``--no-work-limit``), and every computation stops at a deadline.
"""

from __future__ import annotations

import ast
import csv
import datetime
import functools
import importlib.util
import io
import json
import math
import os
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from annoplan import planner
from annoplan.api import output
from annoplan.api.progress import ProgressBar, progress_bar
from annoplan.planner.errors import InvalidInputError, PlannerError
from annoplan.planner.validation import field_path, parse_request

#: commands whose modules load scikit-learn, scipy or the web stack, by name: (module, function); each is
#: imported only when it runs (or prints its own help), so that ``annoplan --help`` starts fast
LAZY_COMMANDS = {
    "replay": ("annoplan.api.replay_cli", "replay_command"),
    "serve": ("annoplan.api.serve", "serve_command"),
    "compare": ("annoplan.api.compare_cli", "compare_command"),
    "track": ("annoplan.api.track_cli", "track_command"),
    "vendors": ("annoplan.api.vendors_cli", "vendors_command"),
    "web": ("annoplan.api.web_cli", "web_command"),
}


def docstring_summary(module: str, function: str) -> str:
    """The first line of ``function``'s docstring in ``module``, read from its source without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return (ast.get_docstring(node) or "").strip().split("\n")[0]
    return ""


class _LazyCommand(TyperCommand):
    """Stands for a lazy command in the command list (its name and one-line help) until it is run."""


class LazyGroup(TyperGroup):
    """The ``annoplan`` group: the commands of :data:`LAZY_COMMANDS` are listed at once but built (their
    modules imported) only when resolved to run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (module, function) in LAZY_COMMANDS.items():
            summary = docstring_summary(module, function)
            self.commands.setdefault(name, _LazyCommand(name, help=summary, short_help=summary))

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, _LazyCommand):
            module, function = LAZY_COMMANDS[name]
            one = typer.Typer(add_completion=False)
            one.command(name)(getattr(importlib.import_module(module), function))
            command = self.commands[name] = typer.main.get_command(one)
        return name, command, rest


app = typer.Typer(
    cls=LazyGroup,
    add_completion=False,
    no_args_is_help=True,
    help="annoplan: forecast what labeling strategies cost from a few pilot rounds.",
)

#: largest request file read (bytes); also the most an ``.xlsx`` may unpack to
MAX_REQUEST_BYTES = 50 * 1024 * 1024
#: most digits of an integer in a JSON request (no field takes more than 19)
MAX_INTEGER_DIGITS = 100
#: most rows of a table of pilot rounds (one row per round), besides the header
MAX_TABLE_ROWS = 10_000
#: columns of a table read (the round columns must be among them); the rest are ignored
MAX_TABLE_COLUMNS = 64
#: rows of an Excel sheet
EXCEL_MAX_ROWS = 1_048_576
ROUND_COLUMNS = ("n_labels", "value", "n_eval", "std")
#: exit code of a computation stopped by its deadline (as timeout(1))
DEADLINE_EXIT_CODE = 124
DEFAULT_DEADLINE_SECONDS = 60.0
#: as the HTTP server's deadline: at most a day
MAX_DEADLINE_SECONDS = 86_400.0
#: the variables the HTTP server reads for its deadline and its work cap
DEADLINE_VARIABLE = "ANNOPLAN_COMPUTATION_DEADLINE"
MAX_WORK_VARIABLE = "ANNOPLAN_MAX_PLAN_WORK"


def default_max_work() -> int:
    """The HTTP API's default work cap (read when needed: the settings model is slow to import)."""
    from annoplan.api.settings import Settings

    default: int = Settings.model_fields["max_plan_work"].default
    return default


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on standard error, then exit ``code``."""
    typer.echo(f"annoplan: {' '.join(message.split())}", err=True)
    raise typer.Exit(code)


def fail_on(error: InvalidInputError, option: str = "FILE") -> NoReturn:
    """Exit 2 naming the field of ``error``, or ``option`` for a problem of the file as a whole."""
    fail(f"{error.field or option}: {error.message}")


# --- reading files within bounds (shared with annoplan replay) ----------------------------------------------


def input_path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input file, or None."""
    if path.is_dir():
        return f"cannot read {path}: it is a directory, not a file"
    if not path.exists():
        return f"cannot read {path}: it does not exist"
    if not path.is_file():
        return f"cannot read {path}: it is not a regular file"
    return None


def output_path_problem(path: Path) -> str | None:
    """Why ``path`` cannot be written, checked before computing what goes into it; or None."""
    if path.is_dir():
        return f"cannot write {path}: it is a directory; give a file name"
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        return f"cannot write {path}: the folder {folder} {what}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write {path}: the folder {folder} is not writable"
    if path.exists() and not os.access(path, os.W_OK):
        return f"cannot write {path}: the file is read-only"
    return None


def read_bytes(source: str, limit: int | None = None) -> bytes:
    """The bytes of ``source`` (a file path, or ``-`` for standard input), at most ``limit``.

    Raises
    ------
    InvalidInputError
        with an empty ``field``: the file is missing, a directory, unreadable or larger than ``limit``.
    """
    limit = MAX_REQUEST_BYTES if limit is None else limit
    if source == "-":
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1).encode()
    else:
        path = Path(source)
        problem = input_path_problem(path)
        if problem is not None:
            raise InvalidInputError("", problem)
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise InvalidInputError("", f"cannot read {source} ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise InvalidInputError("", f"{source} is larger than {limit / 2**20:g} MB")
    return data


def decode_text(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text (a byte-order mark dropped); other bytes raise naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInputError(
            "", f"{source} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line}; save it as UTF-8"
        ) from None


class _LongInteger:
    """A JSON integer with more digits than any field takes, kept aside to be named by its path."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def load_json(text: str, source: str) -> Any:
    """The JSON document in ``text``, read safely.

    Raises
    ------
    InvalidInputError
        with an empty ``field`` for invalid JSON or nesting too deep to read, and with the path of the value
        (``rounds[1].n_labels``) for an integer of more than :data:`MAX_INTEGER_DIGITS` digits.
    """
    long_integers: list[_LongInteger] = []

    def parse_int(token: str) -> int | _LongInteger:
        digits = len(token.lstrip("-"))
        if digits <= MAX_INTEGER_DIGITS:
            return int(token)
        long_integers.append(_LongInteger(digits))
        return long_integers[-1]

    try:
        document = json.loads(text, parse_int=parse_int)
    except json.JSONDecodeError as exc:
        message = f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        raise InvalidInputError("", message) from None
    except RecursionError:
        message = (
            f"{source} is nested too deep to read (arrays or objects inside one another a thousand times)"
        )
        raise InvalidInputError("", message) from None
    if long_integers:
        loc, number = _first_long_integer(document)
        message = (
            f"an integer of {number.digits:,} digits in {source}; no field takes more than "
            f"{MAX_INTEGER_DIGITS} digits"
        )
        raise InvalidInputError(field_path(loc), message)
    return document


def _first_long_integer(document: Any) -> tuple[tuple[int | str, ...], _LongInteger]:
    """The location of the first :class:`_LongInteger` in ``document``, in document order."""
    stack: list[tuple[tuple[int | str, ...], Any]] = [((), document)]
    while stack:
        loc, node = stack.pop()
        if isinstance(node, _LongInteger):
            return loc, node
        children: list[tuple[int | str, Any]] = []
        if isinstance(node, dict):
            children = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node))
        stack.extend(((*loc, key), child) for key, child in reversed(children))
    raise AssertionError("the parser kept a long integer that the document does not hold")


def read_request(data: bytes, source: str) -> dict[str, Any]:
    """The JSON request object in ``data`` (read from ``source``)."""
    try:
        request = load_json(decode_text(data, source), source)
    except InvalidInputError as error:
        fail_on(error)
    if not isinstance(request, dict):
        fail("request: expected a JSON object")
    return request


# --- tables of pilot rounds ---------------------------------------------------------------------------------


def read_number(raw: Any, field: str, source: str) -> float | None:
    """The number in one table cell (None when it is empty); any other cell exits 2 naming ``field``.

    Refused: TRUE/FALSE (a spreadsheet's booleans would otherwise read as 1 and 0), dates and times (a
    spreadsheet stores them as day counts), and text that is not a number.
    """
    if raw is None:
        return None
    if isinstance(raw, bool) or (isinstance(raw, str) and raw.strip().lower() in ("true", "false")):
        shown = repr(raw.strip()) if isinstance(raw, str) else str(raw).upper()
        fail(f"{field}: {shown} in {source} is a TRUE/FALSE cell, not a number")
    if isinstance(raw, datetime.date | datetime.time | datetime.timedelta):
        fail(f"{field}: {raw} in {source} is a date or time, not a number; format the cell as a number")
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        fail(f"{field}: {raw!r} in {source} is not a number")


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
            number = read_number(clean.get(col), f"rounds[{i}].{col}", source)
            if number is None:
                continue
            entry[col] = int(number) if col in ("n_labels", "n_eval") and number.is_integer() else number
        rounds.append(entry)
    return rounds


def read_table(source: str, data: bytes) -> list[dict[str, Any]]:
    """Rows of a CSV or of the first sheet of an XLSX file (``data``, read from ``source``), keyed by the
    header row; blank rows are skipped, columns without a header ignored, more than :data:`MAX_TABLE_ROWS`
    rows refused."""
    try:
        rows = xlsx_rows(data, source) if source.lower().endswith(".xlsx") else csv_rows(data, source)
        header_row = next(rows, None)
        if header_row is None:
            fail(f"FILE: {source} is empty")
        header = ["" if name is None else str(name).strip() for name in header_row]
        while header and not header[-1]:
            header.pop()
        records: list[dict[str, Any]] = []
        for row in rows:
            if _is_blank(row):
                continue
            if len(records) == MAX_TABLE_ROWS:
                fail(
                    f"FILE: {source} has more than {MAX_TABLE_ROWS:,} rows; a table of pilot rounds has "
                    "a row per round"
                )
            records.append(dict(zip(header, row, strict=False)))
        return records
    except InvalidInputError as error:
        fail_on(error)


def _is_blank(row: Sequence[Any]) -> bool:
    # count() first: a sheet's missing rows come as rows of None, up to a million of them
    return row.count(None) == len(row) or all(v is None or str(v).strip() == "" for v in row)


def csv_rows(data: bytes, source: str) -> Iterator[list[str]]:
    """The rows of a CSV file, read lazily."""
    reader = csv.reader(io.StringIO(decode_text(data, source), newline=""))
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise InvalidInputError("", f"{source} line {reader.line_num} is not valid CSV: {exc}") from None
        if row is None:
            return
        yield row


def xlsx_rows(data: bytes, source: str) -> Iterator[tuple[Any, ...]]:
    """The rows of the first sheet of an ``.xlsx`` workbook, read lazily over the first
    :data:`MAX_TABLE_COLUMNS` columns, whatever dimension the sheet declares."""
    from openpyxl import load_workbook

    broken = f"{source} is not a readable .xlsx workbook"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise InvalidInputError("", broken) from None
    if unpacked > MAX_REQUEST_BYTES:
        raise InvalidInputError(
            "",
            f"{source} unpacks to {unpacked / 2**20:,.0f} MB, more than the "
            f"{MAX_REQUEST_BYTES / 2**20:g} MB read",
        )
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise InvalidInputError("", f"{broken} ({exc.__class__.__name__})") from None
    # the dimension the sheet declares (A1:XFD1048576: 17 billion cells) is not trusted: only rows that are
    # there are read, each padded to MAX_TABLE_COLUMNS at most
    sheet.reset_dimensions()
    rows = sheet.iter_rows(max_col=MAX_TABLE_COLUMNS, values_only=True)
    try:
        for index in range(1, EXCEL_MAX_ROWS + 2):
            try:
                row = next(rows, None)
            except Exception as exc:  # a broken sheet inside a sound zip
                raise InvalidInputError("", f"{broken} ({exc.__class__.__name__})") from None
            if row is None:
                return
            if index > EXCEL_MAX_ROWS:
                raise InvalidInputError("", f"{source} has rows past row {EXCEL_MAX_ROWS:,}: {broken}")
            yield row
    finally:
        book.close()


# --- limits: the deadline and the work cap ------------------------------------------------------------------


class DeadlineExceeded(BaseException):
    """Raised in the main thread when a command's deadline passes; a ``BaseException``, so that no ``except
    Exception`` in the planner or the libraries it calls can swallow it."""


def _raise_deadline(signum: int, frame: FrameType | None) -> None:
    raise DeadlineExceeded


def deadline_seconds(option: str | None) -> float:
    """The deadline: ``--deadline``, else :data:`DEADLINE_VARIABLE`, else :data:`DEFAULT_DEADLINE_SECONDS`."""
    name, raw = (
        ("--deadline", option)
        if option is not None
        else (DEADLINE_VARIABLE, os.environ.get(DEADLINE_VARIABLE))
    )
    if raw is None or (option is None and not raw.strip()):
        return DEFAULT_DEADLINE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_DEADLINE_SECONDS):
        fail(f"{name}: must be a number of seconds above 0, at most {MAX_DEADLINE_SECONDS:,.0f}; got {raw!r}")
    return seconds


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Stop the enclosed work after ``seconds``: exit 124 with one line naming the deadline.

    A one-shot ``SIGALRM`` timer raises :class:`DeadlineExceeded` in the main thread, so the work stops at
    the next Python bytecode (a long call into native code finishes first). Where there is no ``SIGALRM``
    (Windows) or outside the main thread, the work runs without a deadline. A timer set before is restored.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous_handler = signal.signal(signal.SIGALRM, _raise_deadline)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except DeadlineExceeded:
        fail(
            f"--deadline: stopped after {seconds:g} s, the computation was not done; give a larger "
            f"--deadline SECONDS (or set {DEADLINE_VARIABLE})",
            code=DEADLINE_EXIT_CODE,
        )
    finally:
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            left = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), previous_interval)


def work_limit(option: str | None, unlimited: bool) -> int | None:
    """The work cap of a plan or quote: ``--max-work``, else :data:`MAX_WORK_VARIABLE`, else the HTTP API's
    default; None with ``--no-work-limit``."""
    name, raw = (
        ("--max-work", option)
        if option is not None
        else (MAX_WORK_VARIABLE, os.environ.get(MAX_WORK_VARIABLE))
    )
    if raw is None or (option is None and not raw.strip()):
        limit = default_max_work()
    else:
        try:
            limit = int(raw.strip())
        except ValueError:
            limit = 0
        if limit < 1:
            fail(f"{name}: must be a whole number of work units >= 1, got {raw!r}")
    return None if unlimited else limit


def check_request(model: Any, request: Any) -> None:
    """Exit 2 listing every problem of ``request`` against ``model``, one line each, before any work."""
    from annoplan.api.cli_validation import request_problems

    problems = request_problems(model, request) if isinstance(request, dict) else []
    if problems:
        for problem in problems:
            typer.echo(f"annoplan: {' '.join(problem.split())}", err=True)
        raise typer.Exit(2)


def admitted(kind: str, request: Any, limit: int | None) -> Any:
    """The validated plan or quote request; exit 2 when it would simulate more than ``limit`` work units, as
    the HTTP API refuses it (:mod:`api.admission`)."""
    from annoplan.api.admission import admit_plan, admit_quote
    from annoplan.api.problems import ProblemError
    from annoplan.planner.schemas.plans import PlanRequest
    from annoplan.planner.schemas.quotes import QuoteRequest

    check_request(PlanRequest if kind == "plan" else QuoteRequest, request)
    model = parse_request(PlanRequest if kind == "plan" else QuoteRequest, request)
    if limit is None:
        return model
    try:
        if isinstance(model, PlanRequest):
            admit_plan(model, limit)
        else:
            admit_quote(model, limit)
    except ProblemError as exc:
        fields = ", ".join(error.field for error in exc.errors or ())
        fail(f"{fields}: {exc.detail} (the HTTP API's cap: --max-work N raises it, --no-work-limit lifts it)")
    return model


# --- commands -----------------------------------------------------------------------------------------------


def emit(response: Any, document: Callable[[Any], output.Document], fmt: output.Format | None) -> None:
    """The response on standard output in ``fmt`` (default: a table on a terminal, else JSON): its JSON,
    with its warnings also on standard error, or its ``document`` (which shows the warnings itself)."""
    chosen = fmt or output.default_format()
    if chosen != output.Format.json:
        output.render(document(response), chosen)
        return
    data = response.model_dump(mode="json")
    for warning in data.get("warnings", []):
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(json.dumps(data, indent=2))


class PlanProgress(ProgressBar):
    """A progress bar for :func:`planner.make_plan`'s ``progress(done, total, strategy)`` callback: the
    strategies searched of all and the one searching now; cleared when the last strategy is done."""

    def __call__(self, done: int, total: int, strategy: str) -> None:
        self.update(done, total, f"planning: {strategy}" if done < total else "planning: done")
        if done >= total:
            self.close()


def with_progress(progress: PlanProgress | None) -> Callable[[Any], Any]:
    """``planner.make_plan``, drawing ``progress`` where there is a bar (a terminal), else called plainly."""
    if progress is None:
        return planner.make_plan
    return functools.partial(planner.make_plan, progress=progress)


def plan_progress(stream: Any = None) -> AbstractContextManager[PlanProgress | None]:
    """A :class:`PlanProgress` on ``stream`` when it is a terminal, else None (see
    :func:`api.progress.progress_bar`)."""
    return progress_bar(stream, PlanProgress)


def run(call: Any, request: Any, admit: Callable[[Any], Any] | None = None) -> Any:
    """Call the planner (after ``admit``, which validates the request); bad input exits 2 naming the field,
    other planner errors exit 1."""
    try:
        if admit is not None:
            request = admit(request)
        return call(request)
    except InvalidInputError as exc:
        fail(str(exc))
    except PlannerError as exc:
        fail(str(exc), code=1)


def read_input(file: str) -> bytes:
    """The bytes of FILE (or standard input); a file that cannot be read exits 2 naming FILE."""
    try:
        return read_bytes(file)
    except InvalidInputError as error:
        fail_on(error)


def check_output(path: Path | None, option: str) -> None:
    """Exit 2 naming ``option`` when ``path`` cannot be written (before anything is computed)."""
    problem = None if path is None else output_path_problem(path)
    if problem is not None:
        fail(f"{option}: {problem}")


FORMAT_OPTION = typer.Option(
    "--format",
    show_default=False,
    help="how to print the response (default: table on a terminal, JSON when piped)",
)
DEADLINE_OPTION = typer.Option(
    "--deadline",
    metavar="SECONDS",
    show_default=False,
    help=(
        f"stop the computation after this many seconds and exit {DEADLINE_EXIT_CODE} (default: "
        f"{DEADLINE_VARIABLE}, else {DEFAULT_DEADLINE_SECONDS:g})"
    ),
)
MAX_WORK_OPTION = typer.Option(
    "--max-work",
    metavar="N",
    show_default=False,
    help=(
        "refuse (exit 2) a request that would simulate more than N work units, simulated rounds x (draws + "
        f"1,000), as the HTTP API does (default: {MAX_WORK_VARIABLE}, else the HTTP API's default cap)"
    ),
)
NO_WORK_LIMIT_OPTION = typer.Option(
    "--no-work-limit",
    help="compute a request of any size (a huge one can take many minutes and gigabytes)",
)


def fit_request(request: Any) -> Any:
    """The validated fit request; every problem of it exits 2 at once."""
    from annoplan.planner.schemas.curves import FitRequest

    check_request(FitRequest, request)
    return parse_request(FitRequest, request)


class MetricName(StrEnum):
    """The metrics a CSV/XLSX of pilot rounds can hold (a JSON request also takes a custom one)."""

    accuracy = "accuracy"
    f1 = "f1"
    error_rate = "error_rate"


@app.command("fit")
def fit_command(
    file: Annotated[str, typer.Argument(help="JSON fit request, or a CSV/XLSX of pilot rounds; - for stdin")],
    metric: Annotated[
        MetricName, typer.Option(help="metric of a CSV/XLSX of pilot rounds")
    ] = MetricName.accuracy,
    target: Annotated[list[float] | None, typer.Option(help="target metric value (repeatable)")] = None,
    at: Annotated[list[int] | None, typer.Option(help="forecast at this many labels (repeatable)")] = None,
    output_format: Annotated[output.Format | None, FORMAT_OPTION] = None,
    chart: Annotated[Path | None, CHART_OPTION] = None,
    deadline_option: Annotated[str | None, DEADLINE_OPTION] = None,
) -> None:
    """Fit a learning curve to pilot rounds: metric forecasts and labels needed per target."""
    seconds = deadline_seconds(deadline_option)
    check_chart(chart)
    data = read_input(file)
    with deadline(seconds):
        if file.lower().endswith((".csv", ".xlsx")):
            request: Any = {"metric": metric.value, "rounds": rounds_from_rows(read_table(file, data), file)}
        else:
            request = read_request(data, file)
        if target:
            request["targets"] = list(target)
        if at:
            request["at_labels"] = list(at)
        response = run(planner.fit_curve, request, admit=fit_request)
        figure = None
        if chart is not None:
            from annoplan.reports.charts import fit_chart

            figure = fit_chart(response, request["rounds"])
    emit(response, output.fit_document, output_format)
    if chart is not None:
        write_chart(chart, figure)


def workbooks() -> Any:
    """The ``reports`` package (openpyxl), imported when a workbook is asked for."""
    from annoplan import reports

    return reports


CHART_OPTION = typer.Option(
    "--chart", metavar="FILE.png|svg", help="also draw the chart to this PNG or SVG file", show_default=False
)


def check_chart(path: Path | None) -> None:
    """Exit 2 naming --chart when ``path`` is not a writable .png or .svg file (before computing)."""
    if path is not None and path.suffix.lower().lstrip(".") not in ("png", "svg"):
        fail(f"--chart: {path} must end in .png or .svg")
    check_output(path, "--chart")


def write_chart(path: Path, figure: Any) -> None:
    """Write a chart; a path that cannot be written exits 2 naming the option."""
    from annoplan.reports.charts import chart_bytes

    try:
        path.write_bytes(chart_bytes(figure, path.suffix.lower().lstrip(".")))
    except OSError as exc:
        fail(f"--chart: cannot write {path} ({exc.strerror or exc.__class__.__name__})")
    typer.echo(f"wrote {path}", err=True)


XLSX_OPTION = typer.Option("--xlsx", help="also write the Excel workbook to this file")


def write_workbook(path: Path, content: bytes) -> None:
    """Write a workbook; a path that cannot be written exits 2 naming the option."""
    try:
        path.write_bytes(content)
    except OSError as exc:
        fail(f"--xlsx: cannot write {path} ({exc.strerror or exc.__class__.__name__})")
    typer.echo(f"wrote {path}", err=True)


PLAN_FLAGS_HELP = "compose the request from flags (with FILE: override its fields)"


def read_object(path: str, option: str) -> dict[str, Any]:
    """The JSON object in the file ``path`` given to ``option``; anything else exits 2 naming the option."""
    try:
        document = load_json(decode_text(read_bytes(path), path), path)
    except InvalidInputError as error:
        fail(f"{option}: {error.message}")
    if not isinstance(document, dict):
        fail(f"{option}: {path} holds a JSON {type(document).__name__}; expected an object")
    return document


def compose_plan(
    request: dict[str, Any],
    pilot: str | None,
    costs: str | None,
    max_label_error: float | None,
    target: float | None,
    strategies: list[str] | None,
) -> dict[str, Any]:
    """A plan request from FILE's object (or none) with the fields the flags give set over it."""
    if max_label_error is not None and target is not None:
        fail("--max-label-error, --target: give one goal (a labeled dataset, or a model reaching a target)")
    if pilot is not None:
        document = read_object(pilot, "--pilot")
        request["pilot"] = document["pilot"] if isinstance(document.get("pilot"), dict) else document
    if costs is not None:
        document = read_object(costs, "--costs")
        request["costs"] = document["costs"] if isinstance(document.get("costs"), dict) else document
    if max_label_error is not None:
        request["goal"] = {"type": "labeled_dataset", "max_label_error": max_label_error}
    if target is not None:
        request["goal"] = {"type": "model_metric", "target": target}
    if strategies:
        request["strategies"] = list(strategies)
    flags = {"pilot": "--pilot FILE", "costs": "--costs FILE", "pool_size": "--pool-size N"}
    missing = [flag for name, flag in flags.items() if name not in request]
    if "goal" not in request:
        missing.append("--max-label-error E or --target T")
    if missing:
        fail(f"{', '.join(missing)}: missing; give a request FILE or these options")
    return request


@app.command("plan")
def plan_command(
    file: Annotated[
        str | None, typer.Argument(help="JSON plan request; - for stdin; omit it to compose one from flags")
    ] = None,
    pilot: Annotated[
        str | None,
        typer.Option(
            metavar="FILE", help="JSON pilot object (as annoplan pilot writes it)", rich_help_panel="Compose"
        ),
    ] = None,
    costs: Annotated[
        str | None,
        typer.Option(metavar="FILE", help="JSON rate card (the costs object)", rich_help_panel="Compose"),
    ] = None,
    pool_size: Annotated[
        int | None, typer.Option(help="items still to label", rich_help_panel="Compose")
    ] = None,
    max_label_error: Annotated[
        float | None,
        typer.Option(help="goal: every item labeled, at most this share wrong", rich_help_panel="Compose"),
    ] = None,
    target: Annotated[
        float | None, typer.Option(help="goal: a model reaching this metric value", rich_help_panel="Compose")
    ] = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option(help="strategy to compare (repeatable; default: all)", rich_help_panel="Compose"),
    ] = None,
    draws: Annotated[
        int | None, typer.Option(help="Monte Carlo draws (default 2,000)", rich_help_panel="Compose")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="random seed (default 0)", rich_help_panel="Compose")
    ] = None,
    xlsx: Annotated[Path | None, XLSX_OPTION] = None,
    output_format: Annotated[output.Format | None, FORMAT_OPTION] = None,
    chart: Annotated[Path | None, CHART_OPTION] = None,
    max_work: Annotated[str | None, MAX_WORK_OPTION] = None,
    no_work_limit: Annotated[bool, NO_WORK_LIMIT_OPTION] = False,
    deadline_option: Annotated[str | None, DEADLINE_OPTION] = None,
) -> None:
    """Forecast each strategy's cost, days and label error, and recommend the settings."""
    seconds = deadline_seconds(deadline_option)
    limit = work_limit(max_work, no_work_limit)
    check_output(xlsx, "--xlsx")
    check_chart(chart)
    data = None if file is None else read_input(file)
    with deadline(seconds):
        request = {} if file is None or data is None else read_request(data, file)
        flags = {"pool_size": pool_size, "draws": draws, "seed": seed}
        request.update({name: value for name, value in flags.items() if value is not None})
        if file is None or any(v is not None for v in (pilot, costs, max_label_error, target, strategy)):
            request = compose_plan(request, pilot, costs, max_label_error, target, strategy)
        with plan_progress() as progress:
            plan = run(with_progress(progress), request, admit=lambda r: admitted("plan", r, limit))
        workbook = None if xlsx is None else workbooks().plan_workbook(plan, request)
        figure = None
        if chart is not None:
            from annoplan.reports.charts import plan_chart

            figure = plan_chart(plan, request)
    emit(plan, output.plan_document, output_format)
    if xlsx is not None and workbook is not None:
        write_workbook(xlsx, workbook)
    if chart is not None:
        write_chart(chart, figure)


@app.command("quote")
def quote_command(
    file: Annotated[str, typer.Argument(help="JSON quote request; - for stdin")],
    xlsx: Annotated[Path | None, XLSX_OPTION] = None,
    output_format: Annotated[output.Format | None, FORMAT_OPTION] = None,
    client: Annotated[
        bool, typer.Option("--client", help="the workbook is the client's copy: no vendor costs or margin")
    ] = False,
    max_work: Annotated[str | None, MAX_WORK_OPTION] = None,
    no_work_limit: Annotated[bool, NO_WORK_LIMIT_OPTION] = False,
    deadline_option: Annotated[str | None, DEADLINE_OPTION] = None,
) -> None:
    """Price correction-only work: unit prices that keep the vendor's margin at the chosen risk level."""
    seconds = deadline_seconds(deadline_option)
    limit = work_limit(max_work, no_work_limit)
    check_output(xlsx, "--xlsx")
    data = read_input(file)
    with deadline(seconds):
        request = read_request(data, file)
        quote = run(planner.make_quote, request, admit=lambda r: admitted("quote", r, limit))
        workbook = None if xlsx is None else workbooks().quote_workbook(quote, request, client=client)
    emit(quote, output.quote_document, output_format)
    if xlsx is not None and workbook is not None:
        write_workbook(xlsx, workbook)


#: most scored items read from one file (a pilot scores a few thousand items per round)
MAX_SCORED_ITEMS = 2_000_000


def read_scored_items(text: str, source: str) -> list[tuple[str, dict[str, Any]]]:
    """Scored items from CSV or JSON-lines ``text``, each named by its line; exits 2 naming a bad line."""
    records: list[tuple[str, dict[str, Any]]] = []
    lines = text.lstrip("\ufeff")
    if lines.lstrip().startswith("{"):
        for number, line in enumerate(lines.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = load_json(line, source)
            except InvalidInputError as error:
                fail(f"line {number}: {error.message.replace(source, 'the line', 1)}")
            if not isinstance(record, dict):
                fail(f"line {number}: expected a JSON object per line, got {type(record).__name__}")
            records.append((f"line {number}", record))
            if len(records) > MAX_SCORED_ITEMS:
                fail(f"FILE: {source} has more than {MAX_SCORED_ITEMS:,} scored items")
        return records
    reader = csv.DictReader(io.StringIO(lines, newline=""))
    try:
        for row in reader:
            if all(v is None or not str(v).strip() for v in row.values()):
                continue
            records.append((f"line {reader.line_num}", row))
            if len(records) > MAX_SCORED_ITEMS:
                fail(f"FILE: {source} has more than {MAX_SCORED_ITEMS:,} scored items")
    except csv.Error as exc:
        fail(f"line {reader.line_num}: {source} is not valid CSV ({exc})")
    return records


def parse_n_labels(pairs: list[str] | None) -> dict[str, int]:
    """``--n-labels v1=200`` options as a mapping; a malformed one exits 2."""
    out: dict[str, int] = {}
    for pair in pairs or []:
        version, sep, number = pair.rpartition("=")
        if not sep or not version.strip() or not number.strip().isdigit() or int(number) < 1:
            fail(
                f"--n-labels: {pair!r} is not VERSION=N with N a whole number >= 1 "
                "(e.g. --n-labels model-2=400)"
            )
        out[version.strip()] = int(number)
    return out


@app.command("pilot")
def pilot_command(
    file: Annotated[
        str,
        typer.Argument(
            help=(
                "scored items (.csv or JSON lines: round, n_labels, split eval|train, prediction, "
                "confidence, label) or a Label Studio JSON export; - for stdin"
            )
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="write the pilot to this file (default: standard output)"),
    ] = None,
    n_labels: Annotated[
        list[str] | None,
        typer.Option(
            "--n-labels",
            metavar="VERSION=N",
            help="Label Studio: the labels model VERSION was trained on (repeatable; default: the "
            "annotations made before its first prediction)",
        ),
    ] = None,
) -> None:
    """Write the pilot object of a plan request (rounds and calibration samples) from scored items."""
    from annoplan.planner.importers import pilot_from_label_studio, pilot_from_scored_items
    from annoplan.planner.schemas.curves import Pilot

    check_output(output, "--output")
    versions = parse_n_labels(n_labels)
    try:
        text = decode_text(read_bytes(file), file)
    except InvalidInputError as error:
        fail_on(error)
    try:
        if text.lstrip().startswith("["):
            document = load_json(text, file)
            tasks = isinstance(document, list) and any(
                isinstance(t, dict) and ({"predictions", "annotations", "data"} & set(t)) for t in document
            )
            if tasks:
                imported = pilot_from_label_studio(document, versions)
            else:
                records = [(f"items[{i}]", r if isinstance(r, dict) else {}) for i, r in enumerate(document)]
                imported = pilot_from_scored_items(records)
        else:
            if versions:
                fail("--n-labels: only a Label Studio export takes it; scored items carry n_labels per row")
            imported = pilot_from_scored_items(read_scored_items(text, file))
        pilot = parse_request(Pilot, imported.pilot).model_dump(mode="json", exclude_none=True)
    except InvalidInputError as error:
        fail_on(error)
    for warning in imported.warnings:
        typer.echo(f"warning: {warning}", err=True)
    rounds = pilot["rounds"]
    summary = ", ".join(
        f"{r['n_labels']:,} labels: {r['value']:.3f} (n_eval {r['n_eval']:,})" for r in rounds
    )
    typer.echo(f"{len(rounds)} rounds: {summary}", err=True)
    document_text = json.dumps(pilot, indent=1)
    if output is None:
        typer.echo(document_text)
        return
    try:
        output.write_text(document_text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"--output: cannot write {output} ({exc.strerror or exc.__class__.__name__})")
    typer.echo(f"wrote {output}", err=True)


@app.command("demo")
def demo_command(xlsx: Annotated[Path | None, XLSX_OPTION] = None) -> None:
    """Run annoplan on the bundled example: a learning-curve forecast and a plan, printed readably."""
    check_output(xlsx, "--xlsx")
    from annoplan.api.examples import EXAMPLES

    request = json.loads((EXAMPLES / "plan.json").read_text(encoding="utf-8"))
    with plan_progress() as progress:
        plan = run(with_progress(progress), request)
    typer.echo(f"annoplan demo: {plan.name or 'example plan'}")
    typer.echo(f"  {request['pool_size']:,} items to label; goal: {describe_goal(request['goal'])}")
    print_pilot(request["pilot"])
    print_curve(plan.learning_curve, request["pilot"]["metric"])
    typer.echo("")
    output.render(output.plan_document(plan), output.Format.table)
    if xlsx is not None:
        write_workbook(xlsx, workbooks().plan_workbook(plan, request))


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


def main() -> None:
    """Console-script entry point."""
    app()
