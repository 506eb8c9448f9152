"""``annoplan fit`` through the typer app.

The response JSON goes to standard output, warnings to standard error; bad input exits 2 with one line on
standard error naming the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner, Result

from annoplan.api.cli import app

runner = CliRunner()
ROUNDS = [
    {"n_labels": 250, "value": 0.742, "n_eval": 2000},
    {"n_labels": 500, "value": 0.781, "n_eval": 2000},
    {"n_labels": 1000, "value": 0.812, "n_eval": 2000},
    {"n_labels": 2000, "value": 0.836, "n_eval": 2000},
]
REQUEST = {"metric": "accuracy", "rounds": ROUNDS, "targets": [0.85], "at_labels": [4000, 8000]}


def invoke(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=stdin)


def ok_json(result: Result) -> dict[str, Any]:
    """Exit 0 and a standard output that is exactly one JSON document."""
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def assert_bad_input(result: Result, *names: str) -> str:
    """Exit 2, nothing on standard output, one line on standard error that names ``names``."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


def assert_forecast(data: dict[str, Any], sizes: list[int], targets: list[float]) -> None:
    assert [p["n_labels"] for p in data["predictions"]] == sizes
    for p in data["predictions"]:
        assert set(p) == {"n_labels", "p10", "p50", "p90"}
        assert 0.0 <= p["p10"] <= p["p50"] <= p["p90"] <= 1.0
    assert [r["target"] for r in data["labels_to_reach"]] == targets
    assert isinstance(data["warnings"], list)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def request_file(tmp_path: Path) -> Path:
    path = tmp_path / "pilot.json"
    path.write_text(json.dumps(REQUEST), encoding="utf-8")
    return path


CSV_TEXT = "n_labels,value,n_eval\n" + "".join(
    f"{r['n_labels']},{r['value']},{r['n_eval']}\n" for r in ROUNDS
)


# --- happy paths --------------------------------------------------------------------------------------------


def test_fit_a_json_file(request_file: Path) -> None:
    data = ok_json(invoke("fit", str(request_file)))
    assert_forecast(data, [4000, 8000], [0.85])
    assert data["metric"] == "accuracy"


def test_fit_reads_standard_input(request_file: Path) -> None:
    from_stdin = ok_json(invoke("fit", "-", stdin=json.dumps(REQUEST)))
    assert from_stdin == ok_json(invoke("fit", str(request_file)))


def test_fit_a_csv_of_rounds_with_target_and_size(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rounds.csv", CSV_TEXT)
    data = ok_json(invoke("fit", str(path), "--target", "0.9", "--at", "5000"))
    assert_forecast(data, [5000], [0.9])
    # the same rounds as JSON give the same forecast
    same = ok_json(
        invoke("fit", "-", stdin=json.dumps({"rounds": ROUNDS, "targets": [0.9], "at_labels": [5000]}))
    )
    assert data == same


def test_fit_options_repeat(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rounds.csv", CSV_TEXT)
    data = ok_json(
        invoke("fit", str(path), "--target", "0.85", "--target", "0.9", "--at", "3000", "--at", "6000")
    )
    assert_forecast(data, [3000, 6000], [0.85, 0.9])


def test_fit_an_xlsx_of_rounds(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["n_labels", "value", "n_eval"])
    for r in ROUNDS:
        sheet.append([r["n_labels"], r["value"], r["n_eval"]])
    path = tmp_path / "rounds.xlsx"
    book.save(path)

    data = ok_json(invoke("fit", str(path), "--target", "0.9", "--at", "5000"))
    assert_forecast(data, [5000], [0.9])
    csv_path = write_csv(tmp_path / "rounds.csv", CSV_TEXT)
    assert data == ok_json(invoke("fit", str(csv_path), "--target", "0.9", "--at", "5000"))


def test_fit_a_csv_with_the_error_rate_metric(tmp_path: Path) -> None:
    text = "n_labels,value\n100,0.30\n200,0.22\n400,0.17\n800,0.14\n"
    path = write_csv(tmp_path / "errors.csv", text)
    data = ok_json(invoke("fit", str(path), "--metric", "error_rate", "--at", "1600", "--at", "3200"))
    assert data["metric"] == "error_rate"
    first, second = data["predictions"]
    assert second["p50"] <= first["p50"] < 0.14


def test_warnings_go_to_standard_error_not_into_standard_output(tmp_path: Path) -> None:
    path = tmp_path / "small.json"
    path.write_text(json.dumps({"rounds": ROUNDS[2:], "at_labels": [40000]}), encoding="utf-8")
    result = invoke("fit", str(path))
    data = ok_json(result)  # standard output is pure JSON
    assert len(data["warnings"]) >= 2  # two rounds, and a forecast past 10x the last round
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(data["warnings"])
    for line, warning in zip(lines, data["warnings"], strict=True):
        assert line == f"warning: {warning}"


# --- bad input ----------------------------------------------------------------------------------------------


def test_invalid_json_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"rounds": [', encoding="utf-8")
    assert_bad_input(invoke("fit", str(path)), "FILE", "JSON")


def test_invalid_json_on_standard_input_exits_2() -> None:
    assert_bad_input(invoke("fit", "-", stdin="not json"), "FILE")


def test_a_json_list_exits_2() -> None:
    assert_bad_input(invoke("fit", "-", stdin=json.dumps([REQUEST])), "request")


@pytest.mark.parametrize("name", ["missing.json", "missing.csv", "missing.xlsx"])
def test_a_missing_file_exits_2(tmp_path: Path, name: str) -> None:
    assert_bad_input(invoke("fit", str(tmp_path / name)), "FILE")


def test_unsorted_rounds_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "unsorted.json"
    path.write_text(json.dumps({**REQUEST, "rounds": list(reversed(ROUNDS))}), encoding="utf-8")
    line = assert_bad_input(invoke("fit", str(path)), "rounds")
    assert "n_labels" in line


def test_a_nan_value_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "nan.json"
    text = json.dumps(REQUEST).replace('"value": 0.781', '"value": NaN', 1)
    assert "NaN" in text
    path.write_text(text, encoding="utf-8")
    assert_bad_input(invoke("fit", str(path)), "rounds[1].value")


def test_a_target_outside_0_1_exits_2(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rounds.csv", CSV_TEXT)
    assert_bad_input(invoke("fit", str(path), "--target", "1.5"), "targets")


def test_a_csv_without_a_value_column_exits_2(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rounds.csv", "n_labels,accuracy\n100,0.7\n200,0.8\n")
    assert_bad_input(invoke("fit", str(path)), "value")


def test_a_non_numeric_csv_cell_exits_2(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rounds.csv", "n_labels,value\n100,0.7\n200,high\n400,0.85\n")
    line = assert_bad_input(invoke("fit", str(path)), "rounds[1].value")
    assert "high" in line


def test_a_non_numeric_xlsx_cell_exits_2(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    for row in (["n_labels", "value"], [100, 0.7], ["two hundred", 0.8]):
        sheet.append(row)
    path = tmp_path / "rounds.xlsx"
    book.save(path)
    assert_bad_input(invoke("fit", str(path)), "rounds[1].n_labels")


def test_a_file_that_is_not_a_workbook_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "rounds.xlsx"
    path.write_text(CSV_TEXT, encoding="utf-8")
    assert_bad_input(invoke("fit", str(path)), "FILE")


def test_a_pilot_object_with_calibration_samples_fits_as_is(tmp_path: Path) -> None:
    """A plan's ``pilot`` object (as ``annoplan replay --emit-pilot`` writes it) is a fit request."""
    pilot: dict[str, Any] = {
        "metric": "accuracy",
        "rounds": ROUNDS,
        "calibration": [{"n_labels": 2000, "confidence": [0.99, 0.55, 0.8], "correct": [True, False, True]}],
    }
    path = tmp_path / "pilot.json"
    path.write_text(json.dumps(pilot))
    data = ok_json(invoke("fit", str(path), "--target", "0.85"))
    assert data["labels_to_reach"][0]["target"] == 0.85
    pilot["calibration"][0]["correct"] = [True]
    path.write_text(json.dumps(pilot))
    result = invoke("fit", str(path))
    assert result.exit_code == 2 and "calibration[0]" in result.stderr
