"""Weighted, bounded least-squares fits of one family to pilot rounds (variable projection)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annoplan.planner.curves.families import Array, CurveFamily


@dataclass(frozen=True)
class FamilyFit:
    """One family fitted to the pilot: ``theta = (a, c, *shape)`` and its weighted residual sum of squares."""

    family: type[CurveFamily]
    theta: Array
    chi2: float

    def error(self, x: Array) -> Array:
        """Fitted error at relative sizes ``x``."""
        return self.family.error(x, self.theta)


#: ridge on ``(a, c)``: with 4-5 rounds many shapes fit the pilot exactly, and a weak pull of the amplitude
#: and the floor towards 0 picks the least extreme of them
RIDGE = 1.0
#: points per shape dimension of each zoom, and zoom levels after the family's own grid
ZOOM_POINTS = 9
ZOOM_LEVELS = 2


def _profile(family: type[CurveFamily], shapes: Array, x: Array, e: Array, w: Array) -> tuple[Array, Array]:
    """For each shape (P, n_shape), the ridge-weighted linear fit of ``(a, c)`` (clipped to [0, 1]).

    Returns the parameters (P, 2 + n_shape) and the penalised objective (P,) of every shape.
    """
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
    theta = np.column_stack([np.clip(a, 0.0, 1.0), np.clip(c, 0.0, 1.0), shapes])
    objective = (w * (family.error(x, theta) - e) ** 2).sum(-1) + RIDGE * (theta[:, :2] ** 2).sum(-1)
    return theta, objective


def _zoom(family: type[CurveFamily], shape: Array, steps: Array) -> Array:
    """A finer grid of shapes around ``shape``: +-1 step of the current grid in each shape dimension."""
    lower, upper = family.bounds()
    axes = [
        np.clip(np.linspace(v - s, v + s, ZOOM_POINTS), lo, hi)
        for v, s, lo, hi in zip(shape, steps, lower[2:], upper[2:], strict=True)
    ]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=-1)


def fit_family(family: type[CurveFamily], x: Array, e: Array, sd: Array) -> FamilyFit:
    """Fit ``family`` to errors ``e`` at relative sizes ``x`` with noise ``sd``.

    Weighted least squares with a weak ridge on ``(a, c)`` (see :data:`RIDGE`), by variable projection:
    given the shape the fit is linear, so the shape grid is profiled exactly, then zoomed twice around its
    best point. Vectorised throughout; no iterative solver.
    """
    w = 1.0 / sd**2
    shapes = family.grid()
    theta, objective = _profile(family, shapes, x, e, w)
    best = int(np.argmin(objective))
    steps = np.array([np.diff(g).max() if len(g) > 1 else 0.0 for g in family.shape_grid])
    for _ in range(ZOOM_LEVELS):
        shapes = _zoom(family, theta[best, 2:], steps)
        theta, objective = _profile(family, shapes, x, e, w)
        best = int(np.argmin(objective))
        steps = steps * 2.0 / (ZOOM_POINTS - 1)
    chi2 = float((w * (family.error(x, theta[best]) - e) ** 2).sum())
    return FamilyFit(family, theta[best], chi2)
