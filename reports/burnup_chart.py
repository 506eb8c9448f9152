"""The burn-up chart of a tracked plan (matplotlib, drawn off-screen): the plan's P10-P90 band of the
cumulative cost by round, its P50, and the actual cost of the rounds reported.

``burnup_chart`` builds a :class:`matplotlib.figure.Figure` from an
:class:`planner.schemas.tracking.ActualsResponse` (no pyplot, no global state);
:func:`reports.charts.chart_bytes` renders it to PNG or SVG bytes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from matplotlib.figure import Figure

from annoplan.reports.charts import BAND, LINE, PILOT, TARGET


def burnup_chart(tracking: Any) -> Figure:
    """Plan band against actual: cumulative cost by round, with the re-plan's forecast of the total (its
    P10-P90 as an error bar after the last round reported)."""
    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    rows = tracking.burn_up
    rounds = [r.round for r in rows]
    axes.fill_between(
        rounds,
        [float(Decimal(r.plan_p10)) for r in rows],
        [float(Decimal(r.plan_p90)) for r in rows],
        color=BAND,
        alpha=0.6,
        label="plan P10-P90",
    )
    axes.plot(rounds, [float(Decimal(r.plan_p50)) for r in rows], color=LINE, linewidth=2, label="plan P50")
    done = [r for r in rows if r.actual is not None]
    axes.plot(
        [r.round for r in done],
        [float(Decimal(r.actual)) for r in done],
        color=PILOT,
        marker="o",
        linewidth=2,
        zorder=3,
        label="actual",
    )
    total = tracking.forecast.cost
    p10, p50, p90 = (float(Decimal(getattr(total, k))) for k in ("p10", "p50", "p90"))
    axes.errorbar(
        [max(rounds[-1], tracking.rounds) + 0.5],
        [p50],
        yerr=[[p50 - p10], [p90 - p50]],
        color=TARGET,
        fmt="s",
        capsize=4,
        label="re-planned total (P10-P90)",
    )
    axes.set_xlabel("round")
    axes.set_ylabel(f"cumulative cost ({tracking.currency})")
    axes.set_title(f"Burn-up: {tracking.status.replace('_', ' ')}")
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    return figure
