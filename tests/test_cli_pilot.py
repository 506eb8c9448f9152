"""``annoplan pilot``: the pilot object from scored items (CSV, JSON lines) and from a Label Studio export,
and ``annoplan plan`` composing a request from flags."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from annoplan.api.cli import app
from annoplan.planner.errors import InvalidInputError
from annoplan.planner.importers import pilot_from_label_studio, pilot_from_scored_items
from annoplan.planner.schemas.curves import Pilot

runner = CliRunner()
EXAMPLE = json.loads((Path(__file__).resolve().parents[1] / "examples" / "plan.json").read_text())
#: rounds of the generated pilot: (round, n_labels, accuracy of its model)
ROUNDS = ((1, 100, 0.70), (2, 200, 0.80), (3, 400, 0.88))
N_EVAL = 300
N_TRAIN = 50


def scored_items(seed: int = 0) -> list[dict[str, Any]]:
    """Items a model scored each round: eval items right with the round's accuracy, train items right more
    often; confidence higher when right."""
    rng = np.random.default_rng(seed)
    rows = []
    for number, n_labels, accuracy in ROUNDS:
        for split, n, p in (("eval", N_EVAL, accuracy), ("train", N_TRAIN, min(1.0, accuracy + 0.1))):
            right = rng.random(n) < p
            label = rng.integers(0, 5, n)
            prediction = np.where(right, label, (label + 1) % 5)
            confidence = np.where(right, rng.uniform(0.5, 1.0, n), rng.uniform(0.2, 0.8, n)).round(4)
            rows += [
                {
                    "round": number,
                    "n_labels": n_labels,
                    "split": split,
                    "prediction": f"class{prediction[i]}",
                    "confidence": float(confidence[i]),
                    "label": f"class{label[i]}",
                }
                for i in range(n)
            ]
    return rows


def expected(rows: list[dict[str, Any]], number: int, split: str) -> tuple[float, int]:
    chosen = [r for r in rows if r["round"] == number and r["split"] == split]
    return sum(r["prediction"] == r["label"] for r in chosen) / len(chosen), len(chosen)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("writer", [write_csv, write_jsonl], ids=["csv", "jsonl"])
def test_scored_items_give_rounds_train_values_and_calibration(tmp_path: Path, writer: Any) -> None:
    rows = scored_items()
    source = writer(tmp_path / ("items.csv" if writer is write_csv else "items.jsonl"), rows)
    out = tmp_path / "pilot.json"
    result = runner.invoke(app, ["pilot", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.stderr
    pilot = json.loads(out.read_text())
    Pilot.model_validate(pilot)  # a plan request's pilot as it is
    assert [r["n_labels"] for r in pilot["rounds"]] == [100, 200, 400]
    for (number, _, _), entry, sample in zip(ROUNDS, pilot["rounds"], pilot["calibration"], strict=True):
        value, n_eval = expected(rows, number, "eval")
        train_value, _ = expected(rows, number, "train")
        assert entry["value"] == pytest.approx(value)
        assert entry["n_eval"] == n_eval == N_EVAL
        assert entry["train_value"] == pytest.approx(train_value)
        assert len(sample["confidence"]) == len(sample["correct"]) == N_EVAL
        assert sum(sample["correct"]) == round(value * N_EVAL)
    assert "3 rounds" in result.stderr


def test_pilot_to_standard_output_and_rounds_in_any_order(tmp_path: Path) -> None:
    rows = scored_items()[::-1]  # the last round first
    result = runner.invoke(app, ["pilot", str(write_csv(tmp_path / "items.csv", rows))])
    assert result.exit_code == 0, result.stderr
    assert [r["n_labels"] for r in json.loads(result.stdout)["rounds"]] == [100, 200, 400]


def test_a_round_without_train_items_has_no_train_value() -> None:
    rows = [r for r in scored_items() if r["split"] == "eval"]
    pilot = pilot_from_scored_items((f"row {i}", r) for i, r in enumerate(rows)).pilot
    assert all("train_value" not in r for r in pilot["rounds"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"split": "test"}, "line 5.split: 'test' is not eval or train"),
        ({"confidence": "89"}, "line 5.confidence: '89' is outside [0, 1] (it looks like a percentage"),
        ({"confidence": "high"}, "line 5.confidence: 'high' is not a number"),
        ({"n_labels": "1e2.5"}, "line 5.n_labels: '1e2.5' is not a whole number"),
        ({"n_labels": "150"}, "round 1.n_labels: its items disagree (100, 150)"),
        ({"round": "x"}, "line 5.round: 'x' is not a whole number"),
        ({"label": ""}, "line 5.label: is empty"),
    ],
    ids=["split", "percentage", "text confidence", "n_labels", "round n_labels", "round", "empty label"],
)
def test_a_bad_cell_exits_2_naming_line_and_column(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    rows = scored_items()
    rows[3] = {**rows[3], **change}  # line 5 of the CSV: the header is line 1
    result = runner.invoke(app, ["pilot", str(write_csv(tmp_path / "items.csv", rows))])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"annoplan: {message}"), result.stderr


def test_missing_columns_and_eval_less_rounds_are_named(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "confidence"} for r in scored_items()]
    result = runner.invoke(app, ["pilot", str(write_csv(tmp_path / "a.csv", rows))])
    assert result.exit_code == 2
    assert "line 2: missing the column(s) confidence" in result.stderr
    rows = [r for r in scored_items() if not (r["round"] == 2 and r["split"] == "eval")]
    result = runner.invoke(app, ["pilot", str(write_jsonl(tmp_path / "b.jsonl", rows))])
    assert result.exit_code == 2
    assert "round 2: has no eval items" in result.stderr
    rows = [r for r in scored_items() if r["round"] == 1]
    result = runner.invoke(app, ["pilot", str(write_csv(tmp_path / "c.csv", rows))])
    assert result.exit_code == 2
    assert "a pilot needs at least 2 rounds" in result.stderr


def test_a_broken_json_line_is_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", scored_items()[:5])
    path.write_text(path.read_text() + '{"round": 1,\n', encoding="utf-8")
    result = runner.invoke(app, ["pilot", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("annoplan: line 6: the line is not valid JSON")


# --- Label Studio -------------------------------------------------------------------------------------------

START = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)


def label_studio_export(seed: int = 0) -> list[dict[str, Any]]:
    """A classification project: 600 tasks annotated one an hour; model v1 predicted after 100 annotations,
    v2 after 300, each on every task with its own accuracy."""
    rng = np.random.default_rng(seed)
    classes = ["cat", "dog", "bird"]
    versions = (("v1", 100, 0.7), ("v2", 300, 0.85))
    tasks = []
    for t in range(600):
        label = classes[int(rng.integers(0, 3))]
        annotated = START + datetime.timedelta(hours=t)
        predictions = []
        for version, after, accuracy in versions:
            right = rng.random() < accuracy
            predicted = label if right else classes[(classes.index(label) + 1) % 3]
            predictions.append(
                {
                    "model_version": version,
                    "score": round(float(rng.uniform(0.6, 1.0) if right else rng.uniform(0.3, 0.7)), 4),
                    "created_at": (START + datetime.timedelta(hours=after - 0.5)).isoformat(),
                    "result": [{"type": "choices", "value": {"choices": [predicted]}}],
                }
            )
        tasks.append(
            {
                "id": t + 1,
                "data": {"text": f"item {t}"},
                "annotations": [
                    {
                        "was_cancelled": False,
                        "created_at": annotated.isoformat().replace("+00:00", "Z"),
                        "result": [{"type": "choices", "value": {"choices": [label]}}],
                    }
                ],
                "predictions": predictions,
            }
        )
    return tasks


def test_label_studio_export_gives_a_round_per_model_version(tmp_path: Path) -> None:
    tasks = label_studio_export()
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    result = runner.invoke(app, ["pilot", str(path)])
    assert result.exit_code == 0, result.stderr
    pilot = json.loads(result.stdout)
    Pilot.model_validate(pilot)
    # v1 was trained on the 100 annotations made before its predictions, v2 on 300
    assert [r["n_labels"] for r in pilot["rounds"]] == [100, 300]
    for index, (version, n_labels) in enumerate((("v1", 100), ("v2", 300))):
        pairs = [
            (t["predictions"][index]["result"][0]["value"]["choices"][0], t["annotations"][0]["result"][0])
            for t in tasks
        ]
        right = [p == a["value"]["choices"][0] for p, a in pairs]
        assert version in {t["predictions"][index]["model_version"] for t in tasks}
        assert pilot["rounds"][index]["n_eval"] == 600 - n_labels
        assert pilot["rounds"][index]["value"] == pytest.approx(np.mean(right[n_labels:]))
        assert pilot["rounds"][index]["train_value"] == pytest.approx(np.mean(right[:n_labels]))
        assert pilot["calibration"][index]["correct"] == right[n_labels:]


def test_label_studio_without_times_takes_the_labels_from_options(tmp_path: Path) -> None:
    tasks = label_studio_export()
    for task in tasks:
        del task["annotations"][0]["created_at"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    result = runner.invoke(app, ["pilot", str(path)])
    assert result.exit_code == 2
    assert "--n-labels: model version 'v1'" in result.stderr and "--n-labels v1=N" in result.stderr
    result = runner.invoke(app, ["pilot", str(path), "--n-labels", "v1=100", "--n-labels", "v2=300"])
    assert result.exit_code == 0, result.stderr
    rounds = json.loads(result.stdout)["rounds"]
    assert [(r["n_labels"], r["n_eval"]) for r in rounds] == [(100, 600), (300, 600)]
    result = runner.invoke(app, ["pilot", str(path), "--n-labels", "v3=100"])
    assert result.exit_code == 2
    assert "no predictions of model version(s) v3 (found: v1, v2)" in result.stderr


def test_label_studio_errors_name_the_task() -> None:
    tasks = label_studio_export()[:20]
    del tasks[7]["predictions"][1]["score"]
    with pytest.raises(InvalidInputError) as info:
        pilot_from_label_studio(tasks)
    assert info.value.field == "tasks[7].predictions[1].score"
    tasks = label_studio_export()[:20]
    tasks[2]["predictions"][0]["score"] = 87
    with pytest.raises(InvalidInputError, match="looks like a percentage") as info:
        pilot_from_label_studio(tasks)
    assert info.value.field == "tasks[2].predictions[0].score"


# --- plan from flags ----------------------------------------------------------------------------------------


def test_plan_composes_the_request_from_flags(tmp_path: Path) -> None:
    pilot = tmp_path / "pilot.json"
    pilot.write_text(json.dumps(EXAMPLE["pilot"]), encoding="utf-8")
    costs = tmp_path / "costs.json"
    costs.write_text(json.dumps(EXAMPLE["costs"]), encoding="utf-8")
    flags = ["--pilot", str(pilot), "--costs", str(costs), "--pool-size", "20000", "--draws", "200"]
    result = runner.invoke(app, ["plan", *flags, "--max-label-error", "0.03", "--strategy", "manual"])
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert [s["strategy"] for s in plan["strategies"]] == ["manual"]
    assert plan["strategies"][0]["human_labels"]["p50"] == 20000  # manual labels the whole pool
    assert plan["assumptions"]["draws"] == 200
    result = runner.invoke(app, ["plan", *flags, "--target", "0.95", "--strategy", "manual"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["strategies"][0]["strategy"] == "manual"


def test_plan_flags_name_what_is_missing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", "--pool-size", "100"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "annoplan: --pilot FILE, --costs FILE, --max-label-error E or --target T:"
    )
    result = runner.invoke(app, ["plan", "--max-label-error", "0.03", "--target", "0.9"])
    assert result.exit_code == 2
    assert "give one goal" in result.stderr


def test_plan_flags_override_a_request_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({**EXAMPLE, "draws": 200, "strategies": ["manual"]}), encoding="utf-8")
    result = runner.invoke(app, ["plan", str(path), "--pool-size", "0"])
    assert result.exit_code == 2
    assert result.stderr.startswith("annoplan: pool_size:")
