"""Parametric learning-curve families in error space.

Every family models the error (1 - accuracy, or the metric's distance from perfect) at relative size ``x``
(the number of labels divided by the last pilot round's) as

    error(x) = c + a * g(x; shape),        a >= 0, c >= 0, g(1) = 1, g non-increasing,

where ``c`` is the floor the error never goes below (fixed at 0 for families without one), ``a`` the part
still reducible at the last pilot round, and ``g`` a declared basis with one or two *shape* parameters. Given
the shape the model is linear in ``(a, c)``, so a fit solves ``(a, c)`` in closed form at every point of a
grid of shapes, keeps the best and refines the grid around it (see :mod:`planner.curves.least_squares`).
A fit is one point estimate per family: it integrates over nothing. The forecast's uncertainty comes from
elsewhere (see :mod:`planner.curves.forecast`): the families' disagreement, weighted by their fixed
:attr:`CurveFamily.prior_weight`, the standard errors of the pilot's level and slope, and an extrapolation
drift.

A family is a small subclass declaring its name, shape parameters, the grid of each and a vectorised basis;
declaring the subclass registers it, and the contract tests then cover it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

FAMILIES: dict[str, type[CurveFamily]] = {}


def _shape_cols(shape: Array, k: int) -> list[Array]:
    """Split shape parameters of shape (..., k) into k arrays (..., 1) that broadcast against x (..., m)."""
    shape = np.asarray(shape, dtype=float)
    if shape.shape[-1] != k:
        raise ValueError(f"expected {k} shape parameters in the last axis, got array of shape {shape.shape}")
    return [shape[..., i : i + 1] for i in range(k)]


class CurveFamily:
    """Base of the learning-curve families: ``error = c + a * basis(x, shape)``.

    Subclasses declare ``name``, ``shape_names``, ``shape_grid`` (one 1-D grid per shape parameter, spanning
    its bounds) and :meth:`basis`; ``has_floor = False`` fixes ``c = 0``. Full parameter vectors are
    ``theta = (a, c, *shape)``.
    """

    name: ClassVar[str]
    shape_names: ClassVar[tuple[str, ...]]
    shape_grid: ClassVar[tuple[Array, ...]]
    has_floor: ClassVar[bool] = True
    #: prior weight in the forecast's model average (learned from how each family extrapolates real curves)
    prior_weight: ClassVar[float] = 1.0

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if len(cls.shape_grid) != len(cls.shape_names):
            raise TypeError(f"{cls.__name__}: one grid per shape parameter")
        FAMILIES[cls.name] = cls

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        return ("a", "c", *cls.shape_names)

    @classmethod
    def bounds(cls) -> tuple[Array, Array]:
        """Lower and upper bounds of ``theta``."""
        lo = [0.0, 0.0, *(float(g.min()) for g in cls.shape_grid)]
        hi = [1.0, 1.0 if cls.has_floor else 0.0, *(float(g.max()) for g in cls.shape_grid)]
        return np.array(lo), np.array(hi)

    @classmethod
    def basis(cls, x: Array, shape: Array) -> Array:
        """``g(x; shape)`` for ``x`` broadcasting against ``shape[..., :1]``; ``g(1) = 1``, non-increasing."""
        raise NotImplementedError

    @classmethod
    def grid(cls) -> Array:
        """Every combination of the shape grids, shape (n_points, n_shape)."""
        mesh = np.meshgrid(*cls.shape_grid, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=-1)

    @classmethod
    def error(cls, x: Array, theta: Array) -> Array:
        """Error at relative sizes ``x`` for parameters ``theta`` of shape (..., 2 + n_shape) -> (..., m)."""
        theta = np.asarray(theta, dtype=float)
        a, c = theta[..., 0:1], theta[..., 1:2]
        return c + a * cls.basis(np.asarray(x, dtype=float), theta[..., 2:])

    @classmethod
    def x_for_error(cls, target: float | Array, theta: Array, x_max: float = 1e9) -> Array:
        """Smallest relative size whose error is <= ``target``; ``inf`` where it never gets there.

        Bisection in log x on ``[1e-6, x_max]``, vectorised over the leading axes of ``theta``.
        """
        theta = np.asarray(theta, dtype=float)
        lead = theta.shape[:-1]
        rows = theta.reshape(-1, theta.shape[-1])
        t = np.broadcast_to(np.asarray(target, dtype=float), lead).reshape(-1, 1)
        lo = np.full(t.shape, np.log(1e-6))
        hi = np.full(t.shape, np.log(x_max))
        reachable = cls.error(np.exp(hi), rows) <= t
        for _ in range(50):
            mid = 0.5 * (lo + hi)
            ok = cls.error(np.exp(mid), rows) <= t
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
        return np.where(reachable, np.exp(hi), np.inf).reshape(lead)


def _log_grid(lo: float, hi: float, n: int) -> Array:
    return np.geomspace(lo, hi, n)


class Pow3(CurveFamily):
    """Power law with a floor: ``c + a * x**-b``."""

    name = "pow3"
    shape_names = ("b",)
    shape_grid = (_log_grid(0.01, 3.0, 48),)

    @classmethod
    def basis(cls, x: Array, shape: Array) -> Array:
        (b,) = _shape_cols(shape, 1)
        return np.power(x, -b)


class Pow2(Pow3):
    """Power law without a floor: ``a * x**-b`` (a straight line in log-log)."""

    name = "pow2"
    prior_weight = 1.5
    shape_grid = (_log_grid(0.01, 2.0, 48),)
    has_floor = False


class Pow4(CurveFamily):
    """Shifted power law: ``c + a * ((x + d) / (1 + d))**-b``."""

    name = "pow4"
    shape_names = ("b", "d")
    shape_grid = (_log_grid(0.02, 3.0, 20), _log_grid(0.01, 2.0, 12))

    @classmethod
    def basis(cls, x: Array, shape: Array) -> Array:
        b, d = _shape_cols(shape, 2)
        return np.power((x + d) / (1.0 + d), -b)


class Exp3(CurveFamily):
    """Exponential decay to a floor: ``c + a * exp(-b * (x - 1))``."""

    name = "exp3"
    prior_weight = 0.1  # saturates far too early on real curves
    shape_names = ("b",)
    shape_grid = (_log_grid(0.01, 20.0, 48),)

    @classmethod
    def basis(cls, x: Array, shape: Array) -> Array:
        (b,) = _shape_cols(shape, 1)
        return np.exp(-b * (x - 1.0))


class MMF4(CurveFamily):
    """Morgan-Mercer-Flodin: ``c + a * (1 + b) / (1 + b * x**d)`` (sigmoid in log x)."""

    name = "mmf4"
    shape_names = ("b", "d")
    shape_grid = (_log_grid(0.01, 100.0, 20), _log_grid(0.1, 3.0, 12))

    @classmethod
    def basis(cls, x: Array, shape: Array) -> Array:
        b, d = _shape_cols(shape, 2)
        return (1.0 + b) / (1.0 + b * np.power(x, d))


class Wbl4(CurveFamily):
    """Weibull: ``c + a * exp(-b * (x**d - 1))``."""

    name = "wbl4"
    shape_names = ("b", "d")
    shape_grid = (_log_grid(0.01, 20.0, 20), _log_grid(0.1, 2.0, 12))

    @classmethod
    def basis(cls, x: Array, shape: Array) -> Array:
        b, d = _shape_cols(shape, 2)
        return np.exp(-b * (np.power(x, d) - 1.0))


class LogPower(CurveFamily):
    """Log-power: ``a * (1 + exp(-b * k)) / (1 + (x / exp(b))**k)``, falling towards 0."""

    name = "logpower"
    prior_weight = 0.4  # optimistic on real curves
    shape_names = ("b", "k")
    shape_grid = (np.linspace(-6.0, 6.0, 20), _log_grid(0.05, 3.0, 12))
    has_floor = False

    @classmethod
    def basis(cls, x: Array, shape: Array) -> Array:
        b, k = _shape_cols(shape, 2)
        return (1.0 + np.exp(-b * k)) / (1.0 + np.power(x / np.exp(b), k))
