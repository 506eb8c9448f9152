"""The curve backtest: it reads real curve files as they come, and `--parts` splits a forecast."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from annoplan.planner.curves import FAMILIES
from benchmarks.curve_backtest import (
    Curve,
    evaluate,
    load_jsonl_curves,
    main,
    parts_table,
    pilot_indices,
    point_forecasts,
    reach_check,
    reach_table,
    save_jsonl_curves,
    scoring_targets,
    share_interval,
)


def power_law(anchors: np.ndarray) -> np.ndarray:
    return 0.05 + 0.8 * anchors**-0.4


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    return path


ANCHORS = np.unique(np.geomspace(16, 20_000, 60).astype(int))


def test_gaps_repeats_and_bad_values_are_dropped(tmp_path: Path) -> None:
    values: list[float | None] = [float(v) for v in power_law(ANCHORS)]
    sem: list[float | None] = [0.01] * len(ANCHORS)
    values[3], values[7], values[9] = None, math.nan, 1.5
    sem[20] = None
    anchors = [int(a) for a in ANCHORS]
    anchors[11] = anchors[10]  # a repeated anchor
    path = write(tmp_path / "c.jsonl", [{"anchors": anchors, "values": values, "values_sem": sem}])

    (curve,) = load_jsonl_curves(path)

    assert len(curve.anchors) == len(ANCHORS) - 4
    assert np.all(np.diff(curve.anchors) > 0)
    assert np.all(np.isfinite(curve.errors)) and np.all((curve.errors >= 0) & (curve.errors <= 1))
    assert curve.sem is not None and int(np.isnan(curve.sem).sum()) == 1


def test_accuracy_curves_are_read_as_error(tmp_path: Path) -> None:
    acc = 1.0 - power_law(ANCHORS)
    row = {"anchors": ANCHORS.tolist(), "values": acc.tolist(), "metric": "accuracy", "n_eval": 1000}
    (curve,) = load_jsonl_curves(write(tmp_path / "c.jsonl", [row]))
    np.testing.assert_allclose(curve.errors, power_law(ANCHORS))
    assert curve.n_eval == 1000


def test_a_gappy_curve_is_backtested_to_finite_numbers(tmp_path: Path) -> None:
    values: list[float | None] = [float(v) for v in power_law(ANCHORS)]
    values[-1] = None  # the horizon itself is missing: the last measured anchor becomes the horizon
    sem: list[float | None] = [0.002] * len(ANCHORS)
    sem[-5] = math.nan
    short = {"anchors": [16, 32, 64], "values": [0.5, 0.4, 0.3]}  # too short for a pilot: skipped
    gappy = {"anchors": ANCHORS.tolist(), "values": values, "values_sem": sem}
    path = write(tmp_path / "c.jsonl", [gappy, short])

    summary = evaluate(load_jsonl_curves(path), n_rounds=4)

    for method in ("naive", "annoplan"):
        assert summary[method]["n"] == 1
        assert np.isfinite(summary[method]["mae"])
    assert summary["annoplan"]["cover"] == 1.0  # a smooth power law lies inside its own forecast
    assert summary["annoplan"]["cover_lo"] == summary["annoplan"]["cover_hi"] == 1.0
    # the power law gains 0.07 past the pilot: three fraction targets and the issue's horizon + 0.01 target
    assert summary["annoplan"]["n_targets"] == 3
    assert summary["annoplan"]["x2h"] in (0.0, 1.0)


def test_the_issues_horizon_target_is_scored_where_the_pilot_has_not_reached_it() -> None:
    """The issue's protocol: labels to reach the horizon error + 0.01, besides 25/50/75% of the gain."""
    kinds, targets = zip(*scoring_targets(0.30, 0.20), strict=True)
    assert kinds == ("fraction", "fraction", "fraction", "horizon")
    np.testing.assert_allclose(targets, [0.275, 0.25, 0.225, 0.21])
    # a gain of 0.008: fraction targets, but the last round already meets the horizon target
    assert [kind for kind, _ in scoring_targets(0.208, 0.20)] == ["fraction"] * 3
    assert scoring_targets(0.203, 0.20) == []


def test_point_forecasts_name_every_part_and_the_right_family_wins(tmp_path: Path) -> None:
    """``--parts``: on a noiseless 3-parameter power law, pow3 alone extrapolates it; persistence does not."""
    values = [float(v) for v in power_law(ANCHORS)]
    path = write(tmp_path / "c.jsonl", [{"anchors": [int(a) for a in ANCHORS], "values": values}])
    (curve,) = load_jsonl_curves(path)
    idx = pilot_indices(curve.anchors, 4)
    assert idx is not None
    truth = float(curve.errors[-1])

    parts = point_forecasts(curve, idx, float(curve.anchors[-1]))

    assert set(parts) == {*FAMILIES, "mix", "mix+prior", "last pilot"}
    assert abs(parts["pow3"] - truth) < 0.02 * truth
    assert parts["last pilot"] == curve.errors[idx[-1]] > truth * 1.2
    ratios = parts_table([curve, curve], 4)
    assert set(ratios) == set(parts) and all(math.isfinite(r) and r >= 0 for r in ratios.values())


def test_a_share_is_bootstrapped_over_curves_not_over_targets() -> None:
    # two curves: one whose four targets all hit, one whose four all miss; the share is 0.5 either way,
    # but resampling curves (not targets) spans from 0 to 1: the targets of one curve move together
    hits = np.array([1.0] * 4 + [0.0] * 4)
    curve = np.array([0] * 4 + [1] * 4)
    lo, hi = share_interval(hits, curve, seed=0)
    assert (lo, hi) == (0.0, 1.0)
    one_each = share_interval(np.array([1.0, 0.0]), np.array([0, 1]), seed=0)
    assert one_each == (0.0, 1.0)
    assert share_interval(np.array([1.0] * 8), np.arange(8), seed=0) == (1.0, 1.0)
    assert all(np.isnan(share_interval(np.array([]), np.array([], dtype=int), seed=0)))


def test_saved_runs_come_back_with_their_signals(tmp_path: Path) -> None:
    # a replayed run saved once is backtested again from the file, told the same signals
    run = Curve(
        "adult/logreg",
        ANCHORS.astype(float),
        power_law(ANCHORS),
        None,
        2000,
        power_law(ANCHORS) / 3,
        "linear",
        "tabular",
    )
    path = tmp_path / "runs.jsonl"
    save_jsonl_curves([run], path)
    (back,) = load_jsonl_curves(path)
    assert back.name == run.name and back.n_eval == 2000 and back.model == "linear" and back.sem is None
    assert back.kind == "tabular"
    np.testing.assert_allclose(back.anchors, run.anchors)
    np.testing.assert_allclose(back.errors, run.errors)
    assert back.train_errors is not None
    np.testing.assert_allclose(back.train_errors, run.errors / 3)
    again, first = (evaluate([c], n_rounds=4, signals=True)["annoplan"] for c in (back, run))
    assert {k: v for k, v in again.items() if k != "ms"} == {k: v for k, v in first.items() if k != "ms"}


def test_saving_runs_without_data_sets_to_replay_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    curves = write(
        tmp_path / "c.jsonl", [{"anchors": ANCHORS.tolist(), "values": power_law(ANCHORS).tolist()}]
    )
    with pytest.raises(SystemExit):
        main(["--curves", str(curves), "--save-curves", str(tmp_path / "runs.jsonl")])
    assert "--datasets" in capsys.readouterr().err
    assert not (tmp_path / "runs.jsonl").exists()


@pytest.mark.parametrize("where", ["a folder", "a missing folder"])
def test_a_runs_file_that_cannot_be_written_is_refused_before_any_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    # the replays take minutes: a file that cannot be written is refused before them, not after
    target = tmp_path if where == "a folder" else tmp_path / "missing" / "runs.jsonl"
    with pytest.raises(SystemExit):
        main(["--datasets", str(tmp_path / "no-such-data"), "--save-curves", str(target)])
    assert "--save-curves" in capsys.readouterr().err


def test_a_folder_without_data_sets_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--datasets", str(tmp_path)])
    assert "no .npz" in capsys.readouterr().err


def test_the_reach_check_judges_a_noisy_run_by_its_last_measurement() -> None:
    # one labeling run on a plateau: its measurements scatter around 0.3, a few dip 5% below it, and the
    # last reads 0.3. The lowest of its measurements is noise, not the curve reaching 3% below 0.3
    errors = np.full(ANCHORS.size, 0.3)
    errors[-12:-1:3] = 0.285
    run = Curve("plateau/x", ANCHORS.astype(float), errors, None, 5000)
    predicted, reached = reach_check([run], n_rounds=4, signals=False)
    assert reached == [False] * 4
    assert all(0.0 <= p <= 1.0 for p in predicted)
    # the same values as a mean over splits (a standard error given) dipped below the target: it was reached
    mean = Curve("plateau/x", ANCHORS.astype(float), errors, np.full(ANCHORS.size, 1e-3), None)
    assert reach_check([mean], n_rounds=4, signals=False)[1] == [True, False, False, False]


def test_the_reach_check_bins_the_forecasts_chance_against_what_the_curve_reached() -> None:
    # a power law falling by half past the pilot reaches every target 3-30% below its last pilot value; a
    # flat curve reaches none of them
    falling = Curve("falling/x", ANCHORS.astype(float), 0.01 + 0.8 * ANCHORS**-0.4, None, 5000)
    flat = Curve("flat/x", ANCHORS.astype(float), np.full(ANCHORS.size, 0.3), None, 5000)
    predicted, reached = reach_check([falling, flat], n_rounds=4, signals=False)

    assert reached == [True] * 4 + [False] * 4
    assert all(0.0 <= p <= 1.0 for p in predicted)
    # the forecast gives the falling curve's nearest target a better chance than its farthest, and than
    # the flat curve's nearest
    assert predicted[0] > predicted[3] and predicted[0] > predicted[4]

    lines = reach_table(predicted, reached)
    assert lines[0].startswith("8 targets:") and "reached 0.50" in lines[0]
    # every target falls in one bin: the bins' counts add up to all targets
    assert sum(int(line.split(":")[1].split("targets")[0]) for line in lines[1:]) == 8
    assert reach_table([], []) == ["no targets (no curve long enough for the pilot)"]
    assert reach_table([1.0, 0.0], [True, False])[1:] == [
        "  forecast 0.0-0.2:     1 targets, forecast 0.00, reached 0.00",
        "  forecast 0.9-1.0:     1 targets, forecast 1.00, reached 1.00",
    ]


def test_the_summary_gives_each_kind_of_data_set_its_own_figures() -> None:
    # two runs of each kind: a curve still learning (text) and one flattening early (tabular); the kinds'
    # figures are those of their own curves, and the pooled median lies between them
    learning = [
        Curve(f"t{i}/lr", ANCHORS, 0.05 + 0.8 * ANCHORS**-0.3, None, 2000, kind="text") for i in (0, 1)
    ]
    flat = [Curve(f"b{i}/lr", ANCHORS, 0.2 + 0.8 * ANCHORS**-0.9, None, 2000, kind="tabular") for i in (0, 1)]
    summary = evaluate([*learning, *flat], n_rounds=4)["annoplan"]
    alone = {
        kind: evaluate(curves, n_rounds=4)["annoplan"]
        for kind, curves in (("text", learning), ("tabular", flat))
    }
    for kind, own in alone.items():
        assert summary[f"n:{kind}"] == 2
        for figure in ("mae", "cover", "lcover", "never"):
            assert summary[f"{figure}:{kind}"] == pytest.approx(own[figure], nan_ok=True)
    assert 0.0 <= summary["never"] <= 1.0
    low, high = sorted(own["mae"] for own in alone.values())
    assert low <= summary["mae"] <= high
    # curves without a kind (LCDB's) give no kind figures
    plain = Curve("p/lr", ANCHORS, 0.05 + 0.8 * ANCHORS**-0.3, None, 2000)
    assert not any(":" in key for key in evaluate([plain], n_rounds=4)["annoplan"])
