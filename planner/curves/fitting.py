"""Weighted, bounded least-squares fits of one family to pilot rounds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from planner.curves.families import Array, CurveFamily


@dataclass(frozen=True)
class FamilyFit:
    """One family fitted to the pilot: ``theta = (a, c, *shape)`` and its weighted residual sum of squares."""

    family: type[CurveFamily]
    theta: Array
    chi2: float

    def error(self, x: Array) -> Array:
        """Fitted error at relative sizes ``x``."""
        return self.family.error(x, self.theta)


#: ridge on ``(a, c)`` when profiling the shape grid: with 4-5 rounds many shapes fit exactly, and a weak
#: pull of the amplitude and the floor towards 0 picks the least extreme of them as the starting point
RIDGE = 1.0


def _profile_grid(family: type[CurveFamily], x: Array, e: Array, w: Array) -> tuple[Array, Array]:
    """For every shape of the family's grid, the ridge-weighted linear fit of ``(a, c)`` (clipped at 0).

    Returns the parameters (P, 2 + n_shape) and the penalised objective (P,) of every grid point.
    """
    shapes = family.grid()
    g = family.basis(x, shapes)  # (P, m)
    gg = (w * g * g).sum(-1) + RIDGE
    ge = (w * g * e).sum(-1)
    if family.has_floor:
        sw, sg, se = w.sum() + RIDGE, (w * g).sum(-1), (w * e).sum()
        det = gg * sw - sg * sg
        a = (sw * ge - sg * se) / det
        c = (gg * se - sg * ge) / det
    else:
        a, c = ge / gg, np.zeros(len(shapes))
    theta = np.column_stack([np.maximum(a, 0.0), np.maximum(c, 0.0), shapes])
    objective = (w * (family.error(x, theta) - e) ** 2).sum(-1) + RIDGE * (theta[:, :2] ** 2).sum(-1)
    return theta, objective


def fit_family(family: type[CurveFamily], x: Array, e: Array, sd: Array, n_starts: int = 1) -> FamilyFit:
    """Fit ``family`` to errors ``e`` at relative sizes ``x`` with noise ``sd`` (weighted least squares).

    The shape grid is profiled first (linear in ``(a, c)`` given the shape); its best ``n_starts`` points
    start a bounded continuous refinement, and the best result is kept.
    """
    theta_grid, chi2_grid = _profile_grid(family, x, e, 1.0 / sd**2)
    lower, upper = family.bounds()
    upper = upper + 1e-12  # least_squares wants lower < upper; a family without a floor pins c at 0
    best: FamilyFit | None = None
    for i in np.argsort(chi2_grid)[:n_starts]:
        res = least_squares(
            lambda th: (family.error(x, th) - e) / sd,
            np.clip(theta_grid[i], lower, upper),
            bounds=(lower, upper),
            max_nfev=200,
        )
        chi2 = float((res.fun**2).sum())
        if best is None or chi2 < best.chi2:
            best = FamilyFit(family, res.x, chi2)
    if best is None:  # pragma: no cover - n_starts >= 1 always gives one fit
        raise RuntimeError("no start point")
    return best
