"""The LCDB cross-validation: the extra horizons it may score each held-out curve at."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.build_curve_model import LcdbCurve
from benchmarks.curve_cv import horizons, main, training_only, training_share


def falling_curve(n_anchors: int) -> LcdbCurve:
    anchors = np.round(16 * np.sqrt(2) ** np.arange(n_anchors))
    values = 0.05 + 0.5 * anchors**-0.3
    spread = np.full(n_anchors, 0.01)
    return LcdbCurve("set#1/LR", "set", "linear", anchors, values, spread / 5, spread, values / 2, spread / 5)


def test_a_curve_is_scored_at_its_last_anchor_and_its_halvings_while_anchors_last() -> None:
    curve = falling_curve(20)
    cuts = horizons(curve, 3)
    assert cuts[0] is curve and len(horizons(curve, 1)) == 1
    assert [int(c.anchors[-1]) for c in cuts[1:]] == [int(curve.anchors[-3]), int(curve.anchors[-5])]
    for cut in cuts[1:]:
        n = len(cut.anchors)
        # every per-anchor column is cut alike, and the cut is named apart from the whole curve
        assert all(len(getattr(cut, f)) == n for f in ("values", "sem", "std", "train", "train_sem"))
        np.testing.assert_array_equal(cut.values, curve.values[:n])
        assert cut.name != curve.name and cut.group == curve.group
    # a short curve has no room for a halving that leaves 8 anchors
    short = falling_curve(9)
    assert len(horizons(short, 3)) == 1


def test_fewer_than_one_horizon_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--curves", "any.jsonl", "--horizons", "0"])
    assert "--horizons must be 1 or more" in capsys.readouterr().err


def test_a_share_of_the_training_groups_keeps_whole_groups_seeded() -> None:
    base = falling_curve(12)
    curves = [
        dataclasses.replace(base, name=f"set{g}#{i}/LR", group=f"set{g}") for g in range(10) for i in range(3)
    ]
    assert training_share(curves, 1.0, 0) == curves
    half = training_share(curves, 0.5, 0)
    groups = {c.group for c in half}
    # every curve of a kept group and none of the others, the same groups for the same seed
    assert len(groups) == 5 and len(half) == 15
    assert [c.name for c in half] == [c.name for c in training_share(curves, 0.5, 0)]
    assert {c.group for c in training_share(curves, 0.5, 1)} != groups
    assert len(training_share(curves, 0.01, 0)) == 3


def test_a_training_share_outside_zero_to_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--curves", "any.jsonl", "--train-groups", "0"])
    assert "--train-groups must be in (0, 1]" in capsys.readouterr().err


def test_extra_curves_of_a_scored_group_are_never_trained_on(capsys: pytest.CaptureFixture[str]) -> None:
    base = falling_curve(12)
    scored = [dataclasses.replace(base, name=f"set{g}#1/LR", group=f"set{g}") for g in range(3)]
    extra = [dataclasses.replace(base, name=f"set{g}#2/KNN", group=f"set{g}") for g in range(2, 6)]
    kept = training_only(extra, scored)
    assert [c.group for c in kept] == ["set3", "set4", "set5"]
    assert "3 of 3 groups (1 dropped" in capsys.readouterr().out
