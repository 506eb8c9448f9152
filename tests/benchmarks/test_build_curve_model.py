"""The build of the learned curve model: how it cuts pilots from LCDB curves."""

from __future__ import annotations

import numpy as np

from benchmarks.build_curve_model import LcdbCurve, cut_pilot


def plateau_curve() -> LcdbCurve:
    """A curve that predicts the majority class (the same mean error over every split) up to 400 labels,
    then learns."""
    anchors = np.unique(np.geomspace(16, 20_000, 40).astype(int)).astype(float)
    values = np.where(anchors <= 400, 0.3, 0.3 * (anchors / 400) ** -0.5)
    spread = np.full(anchors.size, 0.02)
    return LcdbCurve("plateau#1/LR", "plateau", "linear", anchors, values, spread / 5, spread, values, spread)


def test_a_single_run_on_a_plateau_measures_the_same_error_each_round() -> None:
    curve = plateau_curve()
    rng = np.random.default_rng(3)
    singles = [p for p in (cut_pilot(curve, rng) for _ in range(400)) if p is not None and p.single]
    on_plateau = [p for p in singles if curve.anchors[p.last] <= 400]
    learning = [p for p in singles if curve.anchors[p.idx[0]] > 400]
    assert len(on_plateau) > 10 and len(learning) > 10
    # the same predictions on every split: one run's errors are equal too, not the mean plus fresh noise
    assert all(np.all(p.errors == p.errors[0]) for p in on_plateau)
    # where the mean moves, each round has its own noise
    assert all(len(np.unique(p.errors)) == len(p.errors) for p in learning)
