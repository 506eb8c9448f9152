"""Charts of fits and plans (matplotlib, drawn off-screen): the learning curve with its P10-P90 band, the
pilot points, the target and the stop; each strategy's cost side by side; the threshold trade-off.

``fit_chart`` and ``plan_chart`` build a :class:`matplotlib.figure.Figure` from a planner result (no pyplot,
no global state); ``chart_bytes`` renders one to PNG or SVG bytes. ``costs_chart`` is the costs panel alone,
the picture the plan workbook embeds (a spreadsheet's native charts cannot draw ranges side by side).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: the formats a chart is written in, by file suffix
CHART_FORMATS = ("png", "svg")
#: dots per inch of a chart's PNG, and the size in pixels of the costs picture of the plan workbook
DPI = 100
COSTS_PICTURE = (640, 400)
BAND = "#9ecae1"
LINE = "#08519c"
PILOT = "#d94801"
TARGET = "#238b45"
STOP = "#6a51a3"


def _curve(
    axes: Axes,
    predictions: Sequence[Any],
    rounds: Sequence[Mapping[str, Any]],
    metric: str,
    targets: Sequence[float],
    stop_at: int | None,
) -> None:
    """The learning curve on ``axes``: P10-P90 band, P50 line, pilot points, targets and a stop marker."""
    labels = [p.n_labels for p in predictions]
    axes.fill_between(
        labels,
        [p.p10 for p in predictions],
        [p.p90 for p in predictions],
        color=BAND,
        alpha=0.6,
        label="P10-P90",
    )
    axes.plot(labels, [p.p50 for p in predictions], color=LINE, linewidth=2, label="P50 forecast")
    axes.scatter(
        [r["n_labels"] for r in rounds],
        [r["value"] for r in rounds],
        color=PILOT,
        zorder=3,
        label="pilot rounds",
    )
    for target in targets:
        axes.axhline(target, color=TARGET, linestyle="--", linewidth=1, label=f"target {target:g}")
    if stop_at is not None:
        axes.axvline(stop_at, color=STOP, linestyle=":", linewidth=1.5, label=f"stop at {stop_at:,} labels")
    axes.set_xscale("log")
    axes.set_xlabel("labels (log scale)")
    axes.set_ylabel(metric)
    axes.set_title("Learning curve")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")


def fit_chart(response: Any, rounds: Sequence[Mapping[str, Any]]) -> Figure:
    """The learning curve of a fit response with the pilot ``rounds`` it was fitted to and its targets."""
    figure = Figure(figsize=(8, 5), layout="constrained")
    targets = [t.target for t in response.labels_to_reach]
    _curve(figure.add_subplot(), response.predictions, rounds, response.metric, targets, None)
    return figure


def _costs(axes: Axes, plan: Any) -> None:
    """Each strategy's cost: the P10-P90 range as a bar, P50 and mean marked, the recommended one filled."""
    names = [s.strategy for s in plan.strategies]
    highest = 0.0
    for x, forecast in enumerate(plan.strategies):
        p10, p50, p90, mean = (float(getattr(forecast.cost, q)) for q in ("p10", "p50", "p90", "mean"))
        highest = max(highest, p90, mean)
        chosen = forecast.strategy == plan.recommendation.strategy
        axes.bar(
            x,
            p90 - p10,
            bottom=p10,
            width=0.5,
            color=LINE if chosen else BAND,
            edgecolor=LINE,
            label="P10-P90" if x == 0 else "_nolegend_",
        )
        axes.hlines(
            p50, x - 0.25, x + 0.25, color=PILOT, linewidth=2, label="P50" if x == 0 else "_nolegend_"
        )
        axes.plot(x, mean, marker="o", color="black", label="mean" if x == 0 else "_nolegend_")
    axes.set_xticks(range(len(names)), names)
    axes.set_ylabel(f"cost ({plan.currency})")
    axes.set_title(f"Cost by strategy (recommended: {plan.recommendation.strategy})")
    # room above the highest range: a bar's bottom is a hard edge of autoscaling, so a range of zero width
    # (a strategy without spread) at the top would otherwise sit on the frame
    axes.set_ylim(0, highest * 1.1 if highest > 0 else 1.0)
    axes.yaxis.set_major_formatter("{x:,.0f}")
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(fontsize="small")


def costs_chart(plan: Any) -> Figure:
    """Each strategy's cost side by side (P10-P90 range, P50, mean; the recommended one filled), alone: the
    picture of the plan workbook's Strategies sheet, ``COSTS_PICTURE`` pixels at ``DPI``."""
    width, height = COSTS_PICTURE
    figure = Figure(figsize=(width / DPI, height / DPI), layout="constrained")
    _costs(figure.add_subplot(), plan)
    return figure


def _thresholds(axes: Axes, plan: Any) -> None:
    """Coverage and risk (measured and its upper bound) by confidence threshold, the chosen one marked."""
    rows = plan.thresholds
    x = [r.threshold for r in rows]
    axes.plot(x, [r.coverage for r in rows], color=LINE, label="coverage (auto-accepted)")
    axes.set_xlabel("confidence threshold")
    axes.set_ylabel("coverage")
    axes.set_title("Threshold trade-off")
    risk = axes.twinx()
    risk.plot(x, [r.risk for r in rows], color=PILOT, label="risk")
    risk.plot(x, [r.upper_bound for r in rows], color=PILOT, linestyle="--", label="risk upper bound")
    risk.set_ylabel("risk")
    for row in rows:
        if row.chosen:
            axes.axvline(row.threshold, color=STOP, linestyle=":", label=f"chosen {row.threshold:.3g}")
    lines = axes.get_legend_handles_labels()
    more = risk.get_legend_handles_labels()
    axes.legend(lines[0] + more[0], lines[1] + more[1], fontsize="small", loc="center left")


def plan_chart(plan: Any, request: Mapping[str, Any]) -> Figure:
    """The pictures of a plan: the learning curve (pilot, target, the recommended stop), the strategies' costs
    side by side, and the threshold trade-off when hybrid was simulated."""
    panels = 3 if plan.thresholds else 2
    figure = Figure(figsize=(6 * panels, 5), layout="constrained")
    axes = figure.subplots(1, panels)
    pilot = request["pilot"]
    goal = request["goal"]
    targets = [goal["target"]] if goal.get("type") == "model_metric" else []
    metric = pilot.get("metric", "accuracy")
    _curve(
        axes[0],
        plan.learning_curve,
        pilot["rounds"],
        metric if isinstance(metric, str) else metric["name"],
        targets,
        plan.recommendation.stop_at_labels,
    )
    _costs(axes[1], plan)
    if plan.thresholds:
        _thresholds(axes[2], plan)
    figure.suptitle(plan.name or "Plan")
    return figure


def chart_bytes(figure: Figure, fmt: str) -> bytes:
    """``figure`` as PNG or SVG bytes."""
    if fmt not in CHART_FORMATS:
        raise ValueError(f"a chart is written as {' or '.join(CHART_FORMATS)}, not {fmt!r}")
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format=fmt, dpi=DPI, metadata={"Software": None} if fmt == "png" else {"Date": None}
    )
    return buffer.getvalue()
