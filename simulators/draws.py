"""Whole learning-curve draws on a grid of label counts: the common currency of forecasts and simulations."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CurveDraws:
    """Whole learning-curve draws: ``error`` (n_draws, len(n_grid)), non-increasing along the grid."""

    n_grid: Array
    error: Array

    @property
    def n_draws(self) -> int:
        return int(self.error.shape[0])

    @cached_property
    def _log_step(self) -> tuple[float, float] | None:
        """(log of the first size, log step) when the grid is geometric: positions then need no search."""
        log_grid = np.log(self.n_grid)
        steps = np.diff(log_grid)
        if steps.size and np.allclose(steps, steps[0], rtol=1e-9, atol=0.0):
            return float(log_grid[0]), float(steps[0])
        return None

    def error_at(self, n_labels: Array) -> Array:
        """Error of every draw at ``n_labels``.

        ``n_labels`` of shape (m,) gives (n_draws, m), the same sizes for every draw; shape (n_draws, m) gives
        one row of sizes per draw. Linear interpolation in log n; flat beyond the grid.
        """
        n = np.asarray(n_labels, dtype=float)
        size = len(self.n_grid)
        log_n = np.log(np.maximum(n, 1e-300))
        pos: Array  # grid positions (fractional)
        if self._log_step is not None:
            start, step = self._log_step
            pos = np.clip((log_n - start) / step, 0.0, size - 1.0)
        else:
            pos = np.interp(log_n, np.log(self.n_grid), np.arange(size, dtype=float))
        lo: npt.NDArray[np.int_] = np.minimum(np.floor(pos).astype(int), size - 1)
        hi = np.minimum(lo + 1, size - 1)
        frac = pos - lo
        if n.ndim == 2:
            rows = np.arange(self.n_draws)[:, None]
            return self.error[rows, lo] * (1 - frac) + self.error[rows, hi] * frac
        return self.error[:, lo] * (1 - frac) + self.error[:, hi] * frac

    def labels_to_reach(self, target_error: float | Array) -> Array:
        """Per draw, the fewest labels whose error is <= ``target_error`` (one for all draws, or one per
        draw); ``inf`` where never reached."""
        target = np.asarray(target_error, dtype=float)
        per_draw = np.broadcast_to(target, (self.n_draws,))
        below = self.error <= per_draw[:, None]
        reached = below.any(axis=1)
        first = np.argmax(below, axis=1)
        i = np.maximum(first, 1)
        rows = np.arange(self.n_draws)
        e_before, e_after = self.error[rows, i - 1], self.error[rows, i]
        drop = np.maximum(e_before - e_after, 1e-300)
        share = np.clip((e_before - per_draw) / drop, 0.0, 1.0)
        log_n = np.log(self.n_grid)
        need = np.exp(log_n[i - 1] + share * (log_n[i] - log_n[i - 1]))
        need = np.where(first == 0, self.n_grid[0], need)
        return np.where(reached, need, np.inf)

    def at(self, n_labels: Array, draws: npt.NDArray[np.intp] | None = None) -> Array:
        """Error of each draw at its own number of labels: ``n_labels`` (n_draws,) -> (n_draws,).

        The same interpolation as :meth:`error_at`, on a size-major copy of the table: a simulation asks this
        every round, and draws at nearby sizes then read nearby memory. With ``draws`` (indices of draws, the
        shape of ``n_labels``), entry i is draw ``draws[i]`` at ``n_labels[i]`` (draws may repeat or be
        left out), with the very numbers the whole table gives.
        """
        log_n = np.log(np.maximum(np.asarray(n_labels, dtype=float), 1e-300))
        size = len(self.n_grid)
        pos: Array  # grid positions (fractional)
        if self._log_step is not None:
            start, step = self._log_step
            pos = np.minimum(np.maximum((log_n - start) / step, 0.0), size - 1.0)
        else:
            pos = np.interp(log_n, np.log(self.n_grid), np.arange(size, dtype=float))
        lo: npt.NDArray[np.intp] = (
            np.minimum(pos.astype(np.intp), size - 2) if size > 1 else np.zeros(pos.shape, np.intp)
        )
        frac = pos - lo
        flat = self._size_major
        index = lo * self.n_draws + (self._rows if draws is None else draws)
        below = flat.take(index)
        if size == 1:
            return below
        return below + (flat.take(index + self.n_draws) - below) * frac

    @cached_property
    def _size_major(self) -> Array:
        """The table flattened size by size: entry ``i * n_draws + d`` is draw d at ``n_grid[i]``."""
        return np.ascontiguousarray(self.error.T).reshape(-1)

    @cached_property
    def _rows(self) -> npt.NDArray[np.intp]:
        return np.arange(self.n_draws, dtype=np.intp)
