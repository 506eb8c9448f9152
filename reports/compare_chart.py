"""The chart of ``annoplan compare``: each strategy's learning curve (median over seeds, P10-P90 band) with
the accuracy each target stands for.

``compare_chart`` builds a :class:`matplotlib.figure.Figure` from a :class:`simulators.sweep.Comparison` (no
pyplot, no global state); :func:`reports.charts.chart_bytes` renders it.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

#: colours of the strategies, in order (random first, in grey)
PALETTE = ("#636363", "#08519c", "#d94801", "#238b45", "#6a51a3", "#a50f15", "#0b7a75", "#b8860b", "#54278f")
TARGET = "#969696"


def compare_chart(comparison: Any) -> Figure:
    """Learning curves of every strategy of ``comparison`` on one axis, log labels.

    Parameters
    ----------
    comparison : simulators.sweep.Comparison
        Its arms' ``curve_labels`` and ``curve`` (accuracy quantiles over seeds at each round's labels).

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = Figure(figsize=(8, 5.5), layout="constrained")
    axes = figure.subplots()
    drawn = 0
    for i, arm in enumerate(comparison.arms):
        if not arm.curve_labels:
            continue
        color = PALETTE[i % len(PALETTE)]
        labels = list(arm.curve_labels)
        low = [q.p10 for q in arm.curve]
        high = [q.p90 for q in arm.curve]
        axes.fill_between(labels, low, high, color=color, alpha=0.12, linewidth=0)
        axes.plot(labels, [q.p50 for q in arm.curve], color=color, linewidth=2, label=arm.arm)
        drawn += 1
    if arms := comparison.arms:
        for target in arms[0].targets:
            if target.level.p50 is not None:
                axes.axhline(target.level.p50, color=TARGET, linestyle="--", linewidth=1)
                name = f"{target.target:g}" if comparison.absolute else f"{target.target:.0%} of full pool"
                axes.annotate(
                    name,
                    (0.005, target.level.p50),
                    xycoords=("axes fraction", "data"),
                    fontsize=8,
                    color=TARGET,
                    va="bottom",
                )
    if not drawn:
        axes.text(
            0.5, 0.5, "the data sets' rounds differ: no common curve", ha="center", transform=axes.transAxes
        )
    axes.set_xscale("log")
    axes.set_xlabel("human labels (log scale)")
    axes.set_ylabel("accuracy on the held-out set")
    axes.set_title(f"Learning curves: median and P10-P90 over {comparison.n_cases} runs")
    axes.grid(True, which="major", alpha=0.3)
    if drawn:
        axes.legend(loc="lower right", fontsize=9)
    return figure
