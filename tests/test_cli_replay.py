"""``annoplan replay`` through the typer app: JSON output, pilot file, exit 2 naming the option."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from sklearn.datasets import make_classification
from typer.testing import CliRunner, Result

from annoplan.api.cli import app

runner = CliRunner()
CONTRACT_KEYS = (
    "cost",
    "human_labels",
    "reviews",
    "corrections",
    "auto_accepted",
    "audits",
    "rounds",
    "label_error",
    "history",
)


def invoke(*args: str) -> Result:
    """Run ``annoplan replay ARGS`` (the app is a group once it has several commands)."""
    is_group = hasattr(typer.main.get_command(app), "commands")
    prefix = ["replay"] if is_group else []
    return runner.invoke(app, [*prefix, *args])


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    X, y = make_classification(n_samples=900, n_features=6, n_informative=4, random_state=0)
    path = tmp_path_factory.mktemp("data") / "items.npz"
    np.savez(
        path,
        X=X.astype(np.float32),
        y=y.astype(np.int32),
        class_names=np.array(["neg", "pos"]),
        categorical=np.zeros(6, dtype=bool),
    )
    return path


def error_line(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("policy", ["random", "active_learning", "prelabel", "hybrid"])
def test_prints_the_replay_as_json(policy: str, data_file: Path) -> None:
    result = invoke(str(data_file), "--policy", policy, "--batch-size", "50", "--max-labels", "200")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    for key in CONTRACT_KEYS:
        assert key in payload
    assert payload["policy"] == policy
    assert payload["rounds"] == len(payload["history"])
    assert payload["human_labels"] <= 200
    if policy == "hybrid":
        assert payload["human_labels"] + payload["auto_accepted"] == payload["pool_size"]


def test_costs_file_and_options_are_used(data_file: Path, tmp_path: Path) -> None:
    costs = tmp_path / "costs.json"
    costs.write_text(json.dumps({"currency": "USD", "label": 2.0, "round_overhead": 10.0}))
    result = invoke(
        str(data_file),
        "--policy",
        "active_learning",
        "--strategy",
        "margin",
        "--batch-size",
        "25",
        "--max-labels",
        "100",
        "--costs",
        str(costs),
        "--seed",
        "3",
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["strategy"] == "margin"
    assert payload["cost"] == pytest.approx(2.0 * 100 + 10.0 * 4)
    assert payload["costs"]["label"] == 2.0


def test_same_seed_same_output(data_file: Path) -> None:
    args = (str(data_file), "--policy", "hybrid", "--threshold", "0.8", "--batch-size", "60")
    assert invoke(*args).stdout == invoke(*args).stdout


def test_warm_start_replays_the_same_work_with_models_refitted_from_the_last(data_file: Path) -> None:
    args = ("--policy", "active_learning", "--batch-size", "50", "--max-labels", "200", "--format", "json")
    cold, warm = invoke(str(data_file), *args), invoke(str(data_file), *args, "--warm-start")
    assert cold.exit_code == warm.exit_code == 0, warm.output
    cold_totals, warm_totals = json.loads(cold.stdout), json.loads(warm.stdout)
    assert cold_totals["human_labels"] == warm_totals["human_labels"] == 200
    assert cold_totals["rounds"] == warm_totals["rounds"] == 4


def test_emit_pilot_writes_the_plan_requests_pilot(data_file: Path, tmp_path: Path) -> None:
    pilot_file = tmp_path / "pilot.json"
    result = invoke(
        str(data_file),
        "--policy",
        "random",
        "--max-labels",
        "50",
        "--pilot-rounds",
        "50,100,200",
        "--emit-pilot",
        str(pilot_file),
    )
    assert result.exit_code == 0, result.stderr
    pilot = json.loads(pilot_file.read_text())
    assert pilot["metric"] == "accuracy"
    assert [item["n_labels"] for item in pilot["rounds"]] == [50, 100, 200]
    assert all(0.0 <= item["value"] <= 1.0 and item["n_eval"] == 180 for item in pilot["rounds"])
    assert [item["n_labels"] for item in pilot["calibration"]] == [50, 100, 200]
    calibration = pilot["calibration"][0]
    assert len(calibration["confidence"]) == len(calibration["correct"]) > 0


def test_emit_pilot_scales_rounds_to_a_small_pool(data_file: Path, tmp_path: Path) -> None:
    pilot_file = tmp_path / "pilot.json"
    result = invoke(
        str(data_file), "--policy", "random", "--max-labels", "10", "--emit-pilot", str(pilot_file)
    )
    assert result.exit_code == 0, result.stderr
    sizes = [item["n_labels"] for item in json.loads(pilot_file.read_text())["rounds"]]
    assert sizes == [45, 90, 180, 360]  # 100..800 scaled to half of the 720-item pool
    assert "pilot rounds" in result.stderr


def write_npz(path: Path, X: np.ndarray, y: np.ndarray) -> Path:
    np.savez(path, X=X.astype(np.float32), y=y.astype(np.int32))
    return path


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--policy", "manual"], "--policy"),
        (["--policy", "active_learning", "--strategy", "coin_flip"], "--strategy"),
        (["--policy", "hybrid", "--threshold", "1.5"], "--threshold"),
        (["--policy", "hybrid", "--threshold", "-0.1"], "--threshold"),
        (["--policy", "random", "--batch-size", "0"], "--batch-size"),
        (["--policy", "random", "--max-labels", "0"], "--max-labels"),
        (["--policy", "random", "--pilot-rounds", "100,x"], "--pilot-rounds"),
        (["--policy", "hybrid", "--max-label-error", "0"], "--max-label-error"),
        (["--policy", "hybrid", "--max-label-error", "1.5"], "--max-label-error"),
        (["--policy", "hybrid", "--max-label-error", "x"], "--max-label-error"),
        (["--policy", "hybrid", "--max-label-error", "nan"], "--max-label-error"),
        (["--policy", "random", "--max-label-error", "-0.1"], "--max-label-error"),
        (["--policy", "hybrid", "--max-label-error", "0.05", "--delta", "0"], "--delta"),
        (["--policy", "hybrid", "--max-label-error", "0.05", "--delta", "1"], "--delta"),
        (["--policy", "random", "--delta", "x"], "--delta"),
    ],
)
def test_bad_options_exit_2_naming_the_option(extra: list[str], option: str, data_file: Path) -> None:
    result = invoke(str(data_file), *extra)
    assert result.exit_code == 2
    assert option in error_line(result)
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot read"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"review": -1}', "review"),
        ('{"label": "free"}', "label"),
        ('{"audit_rate": 2}', "audit_rate"),
        ('{"lable": 1}', "lable"),
    ],
)
def test_bad_costs_file_exits_2_naming_the_field(
    content: str | None, words: str, data_file: Path, tmp_path: Path
) -> None:
    costs = tmp_path / "costs.json"
    if content is not None:
        costs.write_text(content)
    result = invoke(str(data_file), "--policy", "random", "--costs", str(costs))
    assert result.exit_code == 2
    line = error_line(result)
    assert "--costs" in line and words in line


def test_bad_data_exits_2_naming_the_problem(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    one_class = write_npz(tmp_path / "one.npz", X, np.zeros(50))
    X_nan = X.copy()
    X_nan[7, 1] = np.nan
    with_nan = write_npz(tmp_path / "nan.npz", X_nan, np.arange(50) % 2)
    no_label = tmp_path / "nolabel.csv"
    no_label.write_text("a,b\n1,2\n3,4\n")
    cases = [
        (one_class, "class"),
        (with_nan, "NaN"),
        (no_label, "'label'"),
        (tmp_path / "missing.npz", "not found"),
        (tmp_path / "data.xlsx", "unsupported"),
    ]
    for path, words in cases:
        result = invoke(str(path), "--policy", "random")
        assert result.exit_code == 2, (path, result.output)
        line = error_line(result)
        assert "DATA" in line and words in line, line


def test_strategy_for_another_policy_is_noted_not_fatal(data_file: Path) -> None:
    result = invoke(str(data_file), "--policy", "random", "--strategy", "entropy", "--max-labels", "100")
    assert result.exit_code == 0
    assert "--strategy" in result.stderr
    assert json.loads(result.stdout)["strategy"] == "random"


def test_hybrid_without_a_goal_audits_at_random_and_reports_no_guarantee(data_file: Path) -> None:
    result = invoke(str(data_file), "--policy", "hybrid", "--threshold", "0.7", "--batch-size", "50")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["max_label_error"] is None and payload["delta"] is None
    assert payload["lots"] == payload["lots_rejected"] == 0
    assert payload["human_labels"] + payload["auto_accepted"] == payload["pool_size"]


def test_hybrid_with_a_goal_audits_every_lot_and_keeps_it(data_file: Path) -> None:
    args = (str(data_file), "--policy", "hybrid", "--threshold", "0.7", "--batch-size", "50")
    plain = json.loads(invoke(*args).stdout)
    result = invoke(*args, "--max-label-error", "0.05", "--delta", "0.1")
    assert result.exit_code == 0, result.stderr
    assert "ignored" not in result.stderr and "no effect" not in result.stderr
    payload = json.loads(result.stdout)
    assert (payload["max_label_error"], payload["delta"]) == (0.05, 0.1)
    assert payload["lots"] > 0
    assert 0 <= payload["lots_rejected"] <= payload["lots"]
    assert payload["human_labels"] + payload["auto_accepted"] == payload["pool_size"]
    assert payload["label_error"] <= 0.05
    # the lot audits check more auto-accepted items than the rate card's 5% random audits
    assert payload["audits"] > plain["audits"]


def test_delta_defaults_to_five_percent_with_a_goal(data_file: Path) -> None:
    result = invoke(str(data_file), "--policy", "hybrid", "--threshold", "0.7", "--max-label-error", "0.05")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["delta"] == 0.05


def test_delta_without_a_goal_is_noted_not_fatal(data_file: Path) -> None:
    result = invoke(str(data_file), "--policy", "hybrid", "--threshold", "0.7", "--delta", "0.1")
    assert result.exit_code == 0, result.stderr
    assert "--delta has no effect without --max-label-error" in result.stderr
    payload = json.loads(result.stdout)
    assert payload["max_label_error"] is None and payload["delta"] is None


def test_goal_options_for_another_policy_are_noted_not_fatal(data_file: Path) -> None:
    result = invoke(
        str(data_file),
        "--policy",
        "random",
        "--max-labels",
        "100",
        "--max-label-error",
        "0.05",
        "--delta",
        "0.1",
    )
    assert result.exit_code == 0, result.stderr
    assert "--max-label-error is used by --policy hybrid only" in result.stderr
    assert "--delta is used by --policy hybrid only" in result.stderr
    payload = json.loads(result.stdout)
    assert payload["human_labels"] == 100
    assert payload["max_label_error"] is None and payload["delta"] is None
    assert payload["lots"] == 0


# --- hostile and odd files: exit 2 with one line, before any replay -----------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"label": 1, "review": 0.1\xff}', "UTF-8"),
        (b'{"label": ' + b"9" * 5000 + b"}", "5,000 digits"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
    ],
    ids=["invalid UTF-8", "5000 digits", "nested 100000 deep"],
)
def test_a_hostile_costs_file_exits_2_naming_the_option(
    content: bytes, words: str, data_file: Path, tmp_path: Path
) -> None:
    costs = tmp_path / "costs.json"
    costs.write_bytes(content)
    result = invoke(str(data_file), "--policy", "random", "--costs", str(costs))
    assert result.exit_code == 2, (result.stderr, result.exception)
    line = error_line(result)
    assert "--costs" in line and words in line, line
    assert result.stdout == ""


def test_a_long_integer_in_the_costs_file_is_named_by_its_field(data_file: Path, tmp_path: Path) -> None:
    costs = tmp_path / "costs.json"
    costs.write_text('{"label": 1, "review": ' + "1" * 5000 + "}")
    line = error_line(invoke(str(data_file), "--policy", "random", "--costs", str(costs)))
    assert "--costs: review:" in line


@pytest.mark.parametrize("option", ["DATA", "--costs"])
def test_a_directory_exits_2_saying_it_is_a_directory(option: str, data_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder.npz" if option == "DATA" else tmp_path / "costs.json"
    folder.mkdir()
    args = [str(folder), "--policy", "random"]
    if option == "--costs":
        args = [str(data_file), "--policy", "random", "--costs", str(folder)]
    result = invoke(*args)
    assert result.exit_code == 2
    line = error_line(result)
    assert option in line and "is a directory" in line, line


def test_a_text_file_named_npz_exits_2_saying_what_format_is_expected(tmp_path: Path) -> None:
    path = tmp_path / "items.npz"
    path.write_text("X,y\n1,0\n2,1\n")
    result = invoke(str(path), "--policy", "random")
    assert result.exit_code == 2
    line = error_line(result)
    assert "DATA" in line and "not an .npz archive" in line and "numpy.savez" in line, line
    assert "pickle" not in line


def test_a_csv_of_unique_junk_strings_exits_2_naming_the_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "items.csv"
    rows = [f"{rng.integers(10**12):x}{i},{i % 2}" for i in range(5_000)]
    path.write_text("comment,label\n" + "\n".join(rows) + "\n")
    result = invoke(str(path), "--policy", "random")
    assert result.exit_code == 2, (result.stderr, result.exception)
    line = error_line(result)
    assert "DATA" in line and "'comment'" in line and "5,000 distinct values" in line, line


@pytest.mark.parametrize("where", ["missing folder", "directory"])
def test_an_unusable_emit_pilot_path_exits_2_before_replaying(
    where: str, data_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "no-such-folder" / "pilot.json" if where == "missing folder" else tmp_path
    result = invoke(str(data_file), "--policy", "random", "--emit-pilot", str(out))
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing was replayed
    line = error_line(result)
    assert "--emit-pilot" in line
    assert ("does not exist" if where == "missing folder" else "is a directory") in line


def test_a_csv_that_is_not_utf8_exits_2_naming_data(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(b"a,label\n1,x\n2,\xff\n3,x\n")
    result = invoke(str(path), "--policy", "random")
    assert result.exit_code == 2
    line = error_line(result)
    assert "DATA" in line and "utf-8" in line, line


def test_the_help_states_the_category_cap() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "1,000" in " ".join(result.stdout.split())


def test_a_capped_replay_says_its_label_error_counts_only_the_labeled_items(data_file: Path) -> None:
    result = invoke(str(data_file), "--policy", "random", "--batch-size", "50", "--max-labels", "200")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["unlabeled"] == payload["pool_size"] - 200 > 0
    assert payload["label_error"] == 0.0  # human labels are taken as right
    assert payload["label_error_of"] == (
        f"the 200 labeled items only: {payload['unlabeled']:,} of the pool's {payload['pool_size']:,} are "
        "unlabeled, their labels unknown (not counted as right)"
    )
    keys = list(payload)
    assert keys.index("label_error_of") == keys.index("label_error") + 1
    table = invoke(
        str(data_file),
        "--policy",
        "random",
        "--batch-size",
        "50",
        "--max-labels",
        "200",
        "--format",
        "markdown",
    )
    assert table.exit_code == 0, table.stderr
    assert "label error of" in table.stdout and "200 labeled items only" in table.stdout


def test_a_replay_of_the_whole_pool_counts_every_item(data_file: Path) -> None:
    payload = json.loads(invoke(str(data_file), "--policy", "hybrid", "--batch-size", "50").stdout)
    assert payload["unlabeled"] == 0
    assert payload["label_error_of"] == f"every item of the pool ({payload['pool_size']:,})"
