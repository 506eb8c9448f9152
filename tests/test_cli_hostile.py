"""Hostile and odd input files for ``annoplan fit``, ``plan`` and ``quote``: every one exits 2 with one line
naming the field (or the option), fast and in bounded memory, never a traceback; ``--deadline`` stops a
computation that runs too long (exit 124); the work cap of the HTTP API applies to the CLI too.
"""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner, Result

from annoplan import planner, reports
from annoplan.api import cli as api_cli
from annoplan.api.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
PLAN = json.loads((ROOT / "examples" / "plan.json").read_text())
QUOTE = json.loads((ROOT / "examples" / "quote.json").read_text())
ROUNDS = [
    {"n_labels": 250, "value": 0.742, "n_eval": 2000},
    {"n_labels": 500, "value": 0.781, "n_eval": 2000},
    {"n_labels": 1000, "value": 0.812, "n_eval": 2000},
    {"n_labels": 2000, "value": 0.836, "n_eval": 2000},
]
FIT = {"metric": "accuracy", "rounds": ROUNDS, "targets": [0.85]}
#: a request of each command that parses (the huge plan and quote are refused by the work cap)
REQUESTS = {"fit": FIT, "plan": {**PLAN, "draws": 200}, "quote": {**QUOTE, "draws": 200}}
#: the planner function each command calls
CALLS = {"fit": "fit_curve", "plan": "make_plan", "quote": "make_quote"}


def invoke(*args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), input=stdin, env=env)


def assert_bad_input(result: Result, *names: str, code: int = 2) -> str:
    """Exit ``code``, nothing on standard output, one line on standard error that names ``names``."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


class Recorder:
    """Stands in for a planner function: records that it ran and answers a response with no warnings."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: Any) -> Any:
        self.calls += 1
        return self

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        return {"warnings": []}


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Every planner function replaced by one :class:`Recorder` (and the workbooks by empty bytes)."""
    stand_in = Recorder()
    for name in CALLS.values():
        monkeypatch.setattr(planner, name, stand_in)
    monkeypatch.setattr(reports, "plan_workbook", lambda *args, **kwargs: b"")
    monkeypatch.setattr(reports, "quote_workbook", lambda *args, **kwargs: b"")
    return stand_in


def write_rounds_xlsx(path: Path, rows: list[list[Any]], **cells: Any) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for coordinate, value in cells.items():
        sheet[coordinate] = value
    book.save(path)
    return path


GOOD_ROWS: list[list[Any]] = [["n_labels", "value"]] + [[r["n_labels"], r["value"]] for r in ROUNDS]


# --- spreadsheets: read within bounds -----------------------------------------------------------------------


def test_an_xlsx_whose_one_stray_cell_sits_at_the_last_row_and_column_is_read_in_bounds(
    tmp_path: Path,
) -> None:
    """The sheet declares the dimension A1:XFD1048576 (17 billion cells); only the cells there are read."""
    path = write_rounds_xlsx(tmp_path / "rounds.xlsx", GOOD_ROWS, XFD1048576="stray")
    assert path.stat().st_size < 10_000
    result = invoke("fit", str(path), "--target", "0.85")
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert [r["target"] for r in json.loads(result.stdout)["labels_to_reach"]] == [0.85]


def test_an_xlsx_with_a_number_at_its_last_row_exits_2_naming_that_round(tmp_path: Path) -> None:
    path = write_rounds_xlsx(tmp_path / "rounds.xlsx", GOOD_ROWS, A1048576=4000)
    assert path.stat().st_size < 10_000
    assert_bad_input(invoke("fit", str(path)), "rounds[4]")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_table_past_the_row_cap_exits_2_naming_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    monkeypatch.setattr(api_cli, "MAX_TABLE_ROWS", 3)
    path = tmp_path / f"rounds{suffix}"
    if suffix == ".xlsx":
        write_rounds_xlsx(path, GOOD_ROWS)
    else:
        path.write_text("\n".join(",".join(map(str, row)) for row in GOOD_ROWS) + "\n")
    line = assert_bad_input(invoke("fit", str(path)), "FILE", "3 rows")
    assert path.name in line


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (datetime.datetime(2024, 3, 1, 12, 0), "date"),
        (datetime.date(2024, 3, 1), "date"),
        (True, "TRUE"),
        (False, "FALSE"),
    ],
    ids=["datetime", "date", "TRUE", "FALSE"],
)
def test_a_date_or_a_boolean_cell_in_an_xlsx_exits_2_naming_the_cell(
    tmp_path: Path, value: Any, words: str
) -> None:
    rows = [list(row) for row in GOOD_ROWS]
    rows[3][0] = value  # the third round's n_labels
    path = write_rounds_xlsx(tmp_path / "rounds.xlsx", rows)
    line = assert_bad_input(invoke("fit", str(path)), "rounds[2].n_labels")
    assert words in line


@pytest.mark.parametrize("cell", ["TRUE", "false", "True"])
def test_a_boolean_csv_cell_exits_2_naming_the_cell(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "rounds.csv"
    path.write_text(f"n_labels,value\n100,0.7\n200,{cell}\n400,0.85\n", encoding="utf-8")
    assert_bad_input(invoke("fit", str(path)), "rounds[1].value", cell)


def test_an_xlsx_that_unpacks_to_too_much_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_rounds_xlsx(tmp_path / "rounds.xlsx", GOOD_ROWS)
    monkeypatch.setattr(api_cli, "MAX_REQUEST_BYTES", 2_000)  # the workbook's XML parts hold more
    assert_bad_input(invoke("fit", str(path)), "FILE", "unpacks")


# --- JSON and CSV text: one safe reader ---------------------------------------------------------------------


def invalid_utf8(command: str) -> bytes:
    return json.dumps(REQUESTS[command]).replace('"', '"\xff', 1).encode("latin-1")


@pytest.mark.parametrize("command", ["fit", "plan", "quote"])
def test_invalid_utf8_in_a_json_file_exits_2(tmp_path: Path, command: str) -> None:
    path = tmp_path / "request.json"
    path.write_bytes(invalid_utf8(command))
    assert_bad_input(invoke(command, str(path)), "FILE", "UTF-8", "line 1")
    assert_bad_input(invoke(command, "-", stdin=invalid_utf8(command)), "FILE", "UTF-8")


def test_invalid_utf8_in_a_csv_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "rounds.csv"
    path.write_bytes(b"n_labels,value\n100,0.7\n200,0.8\xff\n400,0.85\n")
    assert_bad_input(invoke("fit", str(path)), "FILE", "UTF-8", "line 3")


@pytest.mark.parametrize("command", ["fit", "plan", "quote"])
def test_an_integer_of_5000_digits_exits_2_naming_its_field(tmp_path: Path, command: str) -> None:
    request = json.loads(json.dumps(REQUESTS[command]))
    rounds = request["rounds"] if command == "fit" else request["pilot"]["rounds"]
    rounds[1]["n_labels"] = 7
    text = json.dumps(request).replace('"n_labels": 7,', '"n_labels": ' + "7" * 5000 + ",", 1)
    path = tmp_path / "request.json"
    path.write_text(text, encoding="utf-8")
    field = "rounds[1].n_labels" if command == "fit" else "pilot.rounds[1].n_labels"
    line = assert_bad_input(invoke(command, str(path)), field)
    assert "5,000 digits" in line


@pytest.mark.parametrize("command", ["fit", "plan", "quote"])
@pytest.mark.parametrize("bracket", ["[", '{"a":'])
def test_json_nested_100000_deep_exits_2(tmp_path: Path, command: str, bracket: str) -> None:
    closing = "]" if bracket == "[" else "}"
    path = tmp_path / "request.json"
    path.write_text(f'{{"notes": {bracket * 100_000}1{closing * 100_000}}}', encoding="utf-8")
    assert_bad_input(invoke(command, str(path)), "FILE", "nested")
    assert_bad_input(invoke(command, "-", stdin=path.read_text()), "FILE", "nested")


# --- paths --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["fit", "plan", "quote"])
@pytest.mark.parametrize("name", ["folder", "folder.json", "folder.csv", "folder.xlsx"])
def test_a_directory_given_as_file_exits_2_saying_so(tmp_path: Path, command: str, name: str) -> None:
    folder = tmp_path / name
    folder.mkdir()
    assert_bad_input(invoke(command, str(folder)), "FILE", "is a directory")


@pytest.mark.parametrize("command", ["plan", "quote", "demo"])
@pytest.mark.parametrize("where", ["missing folder", "directory"])
def test_an_unusable_xlsx_path_exits_2_before_computing(
    tmp_path: Path, recorder: Recorder, command: str, where: str
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(REQUESTS.get(command, {})), encoding="utf-8")
    out = tmp_path / "no-such-folder" / "out.xlsx" if where == "missing folder" else tmp_path
    args = [command, str(request)] if command != "demo" else [command]
    words = "does not exist" if where == "missing folder" else "is a directory"
    assert_bad_input(invoke(*args, "--xlsx", str(out)), "--xlsx", words)
    assert recorder.calls == 0


# --- the work cap of plans and quotes -----------------------------------------------------------------------

HUGE = {
    "plan": {**PLAN, "pool_size": 5_000_000, "batch_sizes": [1, 2, 3]},
    "quote": {**QUOTE, "pool_size": 5_000_000, "batch_sizes": [1, 2, 3]},
}


@pytest.mark.parametrize("command", ["plan", "quote"])
def test_a_plan_or_quote_past_the_work_cap_exits_2_before_computing(
    tmp_path: Path, recorder: Recorder, command: str
) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(HUGE[command]), encoding="utf-8")
    line = assert_bad_input(invoke(command, str(path)), "draws", "batch_sizes", "25,000,000", "--max-work")
    assert "work units" in line and "rounds" in line
    assert recorder.calls == 0


@pytest.mark.parametrize("command", ["plan", "quote"])
@pytest.mark.parametrize(
    ("options", "env"),
    [
        (["--no-work-limit"], {}),
        (["--max-work", "10_000_000_000"], {}),
        ([], {"ANNOPLAN_MAX_PLAN_WORK": "10000000000"}),
    ],
    ids=["no limit", "max work", "environment"],
)
def test_the_work_cap_can_be_raised_knowingly(
    tmp_path: Path, recorder: Recorder, command: str, options: list[str], env: dict[str, str]
) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(HUGE[command]), encoding="utf-8")
    result = invoke(command, str(path), *options, env=env)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert recorder.calls == 1


@pytest.mark.parametrize("command", ["plan", "quote"])
def test_the_work_cap_is_lowered_by_max_work(tmp_path: Path, recorder: Recorder, command: str) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(REQUESTS[command]), encoding="utf-8")
    assert_bad_input(invoke(command, str(path), "--max-work", "1000"), "draws", "1,000")
    assert recorder.calls == 0


@pytest.mark.parametrize("command", ["plan", "quote"])
@pytest.mark.parametrize("value", ["0", "-5", "many", "1.5"])
def test_a_bad_max_work_exits_2_naming_the_option(tmp_path: Path, command: str, value: str) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(REQUESTS[command]), encoding="utf-8")
    assert_bad_input(invoke(command, str(path), "--max-work", value), "--max-work", value)
    assert_bad_input(
        invoke(command, str(path), env={"ANNOPLAN_MAX_PLAN_WORK": value}), "ANNOPLAN_MAX_PLAN_WORK", value
    )


# --- the deadline -------------------------------------------------------------------------------------------


def spin(request: Any) -> Any:
    """A planner function that runs Python for 60 seconds (the deadline stops it long before)."""
    stop = time.monotonic() + 60
    while time.monotonic() < stop:
        pass
    raise AssertionError("the deadline did not stop the computation")


@pytest.mark.parametrize("command", ["fit", "plan", "quote"])
def test_a_computation_past_the_deadline_stops_with_exit_124(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setattr(planner, CALLS[command], spin)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(REQUESTS[command]), encoding="utf-8")
    line = assert_bad_input(invoke(command, str(path), "--deadline", "0.2"), "--deadline", "0.2", code=124)
    assert "ANNOPLAN_COMPUTATION_DEADLINE" in line
    line = assert_bad_input(
        invoke(command, str(path), env={"ANNOPLAN_COMPUTATION_DEADLINE": "0.3"}), "0.3", code=124
    )


def test_the_deadline_covers_reading_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rounds.csv"
    path.write_text("n_labels,value\n100,0.7\n", encoding="utf-8")
    monkeypatch.setattr(api_cli, "rounds_from_rows", lambda rows, source: spin(rows))
    assert_bad_input(invoke("fit", str(path), "--deadline", "0.2"), "--deadline", code=124)


def test_the_deadline_is_lifted_after_the_command(tmp_path: Path) -> None:
    import signal

    path = tmp_path / "request.json"
    path.write_text(json.dumps(FIT), encoding="utf-8")
    before = signal.getsignal(signal.SIGALRM)
    result = invoke("fit", str(path), "--deadline", "30")
    assert result.exit_code == 0, result.stderr
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before


@pytest.mark.parametrize("command", ["fit", "plan", "quote"])
@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_deadline_exits_2_naming_the_option_or_variable(
    tmp_path: Path, recorder: Recorder, command: str, value: str
) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(REQUESTS[command]), encoding="utf-8")
    assert_bad_input(invoke(command, str(path), "--deadline", value), "--deadline", value)
    assert_bad_input(
        invoke(command, str(path), env={"ANNOPLAN_COMPUTATION_DEADLINE": value}),
        "ANNOPLAN_COMPUTATION_DEADLINE",
        value,
    )
    assert recorder.calls == 0
