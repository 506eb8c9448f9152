"""``annoplan compare``: what active learning and whole-pool policies really save on your own labeled data.

A thin shell over :mod:`simulators.sweep`: it reads the data sets and the rate card, replays random labeling,
each query strategy and each whole-pool policy over seeds (one pure task each, on this machine or a Dask
cluster), and prints per strategy the labels to reach each target with quantiles over seeds, the saving
versus random with its interval and the share of seeds where it lost, and the cost under the rate card.
Progress goes to standard error; bad input exits with code 2 and a one-line message naming the option.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from annoplan.api import output
from annoplan.api.progress import progress_bar
from annoplan.api.replay_cli import read_rate_card
from annoplan.simulators.costs import RateCard
from annoplan.simulators.datasets import MAX_CATEGORIES
from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.query_strategies import QUERY_STRATEGIES
from annoplan.simulators.sweep import BACKENDS, Comparison, Quantiles

DEFAULT_STRATEGIES = "random,least_confidence,margin,entropy,qbc,density"
DEFAULT_TARGETS = "0.95,0.98,0.99"
DEFAULT_SEEDS = 5
DEFAULT_MAX_LABELS = 2000
ROUNDS = 20
WHOLE_POOL_POLICIES = ("prelabel", "hybrid")
DEFAULT_CONFIDENCE_THRESHOLD = 0.95

_OPTION_OF_FIELD = {
    "strategy": "--strategies",
    "policy": "--policies",
    "seeds": "--seeds",
    "random_state": "--seed",
    "batch_size": "--batch-size",
    "max_labels": "--max-labels",
    "backend": "--backend",
    "n_jobs": "--jobs",
    "scheduler": "--scheduler",
    "targets": "--targets",
    "confidence_threshold": "--threshold",
}


def _fail(option: str, message: str) -> NoReturn:
    """Print a one-line error naming ``option`` to standard error and exit with code 2."""
    typer.echo(f"annoplan compare: {option}: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(2)


def _fail_on(error: SimulatorInputError) -> NoReturn:
    field = error.field
    if field.startswith("costs."):
        _fail("--costs", f"{field.removeprefix('costs.')}: {error.message}")
    _fail(_OPTION_OF_FIELD.get(field, f"DATA: {field}"), error.message)


def _names(option: str, text: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of known names, in order, without repeats."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in known]
    if unknown:
        _fail(option, f"unknown {', '.join(map(repr, unknown))}; expected some of {', '.join(known)}")
    return names


def parse_targets(text: str, absolute: bool) -> tuple[float, ...]:
    """``"0.95,0.98"`` as targets in (0, 1] (shares of the full-pool accuracy, or accuracies)."""
    try:
        targets = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        _fail("--targets", f"must be comma-separated numbers, got {text!r}")
    what = "accuracies" if absolute else "shares of the full-pool accuracy"
    if not targets or not all(math.isfinite(t) and 0.0 < t <= 1.0 for t in targets):
        hint = " (a percentage? write 0.95 for 95%)" if any(t > 1.0 for t in targets) else ""
        _fail("--targets", f"must be {what} in (0, 1], got {text!r}{hint}")
    return tuple(sorted(set(targets)))


def _check_chart(path: Path | None) -> None:
    from annoplan.api.cli import output_path_problem

    if path is None:
        return
    if path.suffix.lower() not in (".png", ".svg"):
        _fail("--chart", f"{path} must end in .png or .svg")
    problem = output_path_problem(path)
    if problem is not None:
        _fail("--chart", problem)


def _parse_format(text: str | None) -> output.Format:
    if text is None:
        return output.default_format()
    try:
        return output.Format(text)
    except ValueError:
        _fail("--format", f"must be one of {', '.join(f.value for f in output.Format)}, got {text!r}")


def compare_command(
    data: Annotated[
        list[Path],
        typer.Argument(
            help="Labeled data set(s): .npz (arrays X, y, optional text), or CSV with a 'label' column "
            f"(categorical columns one-hot, at most {MAX_CATEGORIES:,} values each).",
            show_default=False,
        ),
    ],
    strategies: Annotated[
        str,
        typer.Option(
            help="Query strategies to replay, comma-separated; random (the baseline, always run) and any of "
            + ", ".join(name for name in QUERY_STRATEGIES if name != "random")
            + ".",
        ),
    ] = DEFAULT_STRATEGIES,
    policies: Annotated[
        str,
        typer.Option(
            help="Whole-pool policies to replay too, comma-separated: prelabel, hybrid (compared with "
            "labeling the whole pool by hand).",
        ),
    ] = "",
    costs: Annotated[
        Path | None,
        typer.Option(
            help="JSON rate card: label, review, correction, audit, audit_rate, platform_fee, round_overhead "
            "(currency units per item; per round for round_overhead).",
            show_default=False,
        ),
    ] = None,
    seeds: Annotated[
        int, typer.Option(help="Replays of each strategy (paired over strategies).")
    ] = DEFAULT_SEEDS,
    seed: Annotated[int, typer.Option(help="Root seed of every replay's random numbers.")] = 0,
    batch_size: Annotated[
        int | None,
        typer.Option(help=f"Items per round (default: --max-labels / {ROUNDS}).", show_default=False),
    ] = None,
    max_labels: Annotated[
        int | None,
        typer.Option(
            help="Human labels each strategy's replay may use (default: the pool, at most "
            f"{DEFAULT_MAX_LABELS:,}); a target not reached by then counts as not reached.",
            show_default=False,
        ),
    ] = None,
    targets: Annotated[
        str,
        typer.Option(
            help="Targets, comma-separated: shares of the accuracy of a model trained on the whole pool "
            "(or accuracies with --absolute)."
        ),
    ] = DEFAULT_TARGETS,
    absolute: Annotated[bool, typer.Option("--absolute", help="Targets are accuracies.")] = False,
    threshold: Annotated[
        float,
        typer.Option(help="hybrid: auto-accept items whose confidence (max class probability) is >= this."),
    ] = DEFAULT_CONFIDENCE_THRESHOLD,
    jobs: Annotated[int, typer.Option(help="Worker processes (loky, or the local Dask cluster).")] = 1,
    backend: Annotated[
        str | None,
        typer.Option(
            help="serial, loky (joblib processes) or dask (a Dask cluster; needs annoplan[dask]) "
            "(default: serial with --jobs 1, else loky).",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="With --backend dask: the scheduler's address (tcp://host:8786); without it a local cluster "
            "of --jobs workers is started. The data set paths must be readable by every worker.",
            show_default=False,
        ),
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option(metavar="FILE.png|svg", help="Also draw the learning curves here.", show_default=False),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="table, json or markdown (default: table on a terminal, JSON when piped).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Compare query strategies and policies on your own labeled data, over seeds."""
    arms = _names("--strategies", strategies, tuple(QUERY_STRATEGIES))
    if "random" not in arms:
        arms = ("random", *arms)
    whole_pool = _names("--policies", policies, WHOLE_POOL_POLICIES)
    goals = parse_targets(targets, absolute)
    if seeds < 1:
        _fail("--seeds", f"must be an integer >= 1, got {seeds}")
    if seed < 0:
        _fail("--seed", f"must be an integer >= 0, got {seed}")
    if batch_size is not None and batch_size < 1:
        _fail("--batch-size", f"must be an integer >= 1, got {batch_size}")
    if max_labels is not None and max_labels < 1:
        _fail("--max-labels", f"must be an integer >= 1, got {max_labels}")
    if not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
        _fail("--threshold", f"must be in [0, 1], got {threshold}")
    if jobs < 1:
        _fail("--jobs", f"must be an integer >= 1, got {jobs}")
    engine = backend if backend is not None else ("serial" if jobs == 1 else "loky")
    if engine not in BACKENDS:
        _fail("--backend", f"unknown backend {engine!r}; expected one of {', '.join(BACKENDS)}")
    if scheduler is not None and engine != "dask":
        _fail("--scheduler", "needs --backend dask")
    _check_chart(chart)
    fmt = _parse_format(output_format)
    rate_card = read_rate_card(costs, _fail, _fail_on)
    for path in data:
        if not path.is_file():
            _fail("DATA", f"{path} is not a file")
    try:
        comparison, settings = _run(
            data, arms, whole_pool, goals, absolute, seeds, seed, batch_size, max_labels, rate_card,
            threshold, engine, jobs, scheduler,
        )  # fmt: skip
    except SimulatorInputError as error:
        _fail_on(error)
    document = compare_document(comparison, settings, rate_card)
    if chart is not None:
        _write_chart(chart, comparison)
    if fmt == output.Format.json:
        typer.echo(json.dumps(document.data))
    else:
        output.render(document, fmt)


def _run(
    data: list[Path],
    arms: tuple[str, ...],
    whole_pool: tuple[str, ...],
    goals: tuple[float, ...],
    absolute: bool,
    seeds: int,
    seed: int,
    batch_size: int | None,
    max_labels: int | None,
    rate_card: RateCard,
    threshold: float,
    engine: str,
    jobs: int,
    scheduler: str | None,
) -> tuple[Comparison, dict[str, Any]]:
    """Read the data sets, run the sweep and compare; the settings used per data set."""
    from annoplan.simulators._common import default_n_eval
    from annoplan.simulators.sweep import compare_outcomes, load_features, make_tasks, run_sweep

    budgets: dict[str, int] = {}
    batches: dict[str, int] = {}
    for path in data:
        _, y = load_features(path)
        pool = len(y) - default_n_eval(len(y))
        budget = min(pool, DEFAULT_MAX_LABELS) if max_labels is None else max_labels
        budgets[str(path)] = budget
        batches[str(path)] = batch_size if batch_size is not None else max(1, budget // ROUNDS)
    tasks = make_tasks(
        data,
        strategies=arms,
        policies=whole_pool,
        batch_size=batches.__getitem__,
        max_labels=budgets.__getitem__,
        seeds=seeds,
        root_seed=seed,
        costs=rate_card,
        confidence_threshold=threshold,
        reference=not absolute,
    )
    with progress_bar() as bar:
        progress = None if bar is None else bar.counter(len(tasks), "replays")
        outcomes = run_sweep(tasks, backend=engine, n_jobs=jobs, scheduler=scheduler, progress=progress)
    settings = {
        "data": [path.name for path in data],
        "seeds": seeds,
        "seed": seed,
        "max_labels": {Path(k).name: v for k, v in budgets.items()},
        "batch_size": {Path(k).name: v for k, v in batches.items()},
        "backend": engine,
        "replays": len(tasks),
        "estimator": "logistic regression",
    }
    return compare_outcomes(outcomes, goals, absolute=absolute), settings


def _labels(q: Quantiles) -> str:
    return " / ".join("never" if v is None else f"{round(v):,}" for v in (q.p10, q.p50, q.p90))


def _saving(q: Quantiles | None) -> str:
    if q is None or q.p50 is None:
        return "-"
    return f"{q.p50:+.0%} [{output.share(q.p10, 0)}, {output.share(q.p90, 0)}]"


def compare_document(comparison: Comparison, settings: dict[str, Any], costs: RateCard) -> output.Document:
    """The comparison as tables: labels to reach each target per strategy, then the whole-pool policies."""
    target_word = "accuracy" if comparison.absolute else "of full-pool accuracy"
    rows = []
    for arm in comparison.arms:
        for t in arm.targets:
            rows.append(
                (
                    arm.arm,
                    f"{t.target:g}" if comparison.absolute else f"{t.target:.0%}",
                    _labels(t.labels),
                    output.share(t.reached, 0),
                    _saving(t.saving),
                    "-" if t.lost is None else f"{t.lost:.0%} of {t.n_compared}",
                    "-" if t.cost.p50 is None else f"{t.cost.p50:,.2f}",
                )
            )
    blocks: list[output.Block] = [
        output.Table(
            f"Labels to reach each target ({target_word}), over {comparison.n_cases} runs",
            (
                "strategy",
                "target",
                "labels P10 / P50 / P90",
                "reached",
                "saving vs random P50 [P10, P90]",
                "lost to random",
                "cost P50",
            ),
            tuple(rows),
            text_columns=frozenset({0, 2, 4, 5}),
        )
    ]
    if comparison.policies:
        blocks.append(
            output.Table(
                "Whole pool: cost against labeling it all by hand",
                (
                    "policy",
                    "cost P50",
                    "by hand P50",
                    "saving P50 [P10, P90]",
                    "lost",
                    "corrections P50",
                    "auto-accepted P50",
                    "label error P50",
                ),
                tuple(
                    (
                        p.policy,
                        f"{p.cost.p50:,.2f}" if p.cost.p50 is not None else "-",
                        f"{p.manual_cost.p50:,.2f}" if p.manual_cost.p50 is not None else "-",
                        _saving(p.saving),
                        f"{p.lost:.0%}",
                        output.count(p.corrections.p50),
                        output.count(p.auto_accepted.p50),
                        output.share(p.label_error.p50),
                    )
                    for p in comparison.policies
                ),
            )
        )
    notes = [
        f"{settings['replays']} replays on {', '.join(settings['data'])}; {settings['seeds']} seeds, paired: "
        "every strategy of a seed starts from the same evaluation set and first random batch",
        "labels to reach a target are interpolated between rounds; 'never': that quantile of runs did not "
        "reach it within --max-labels; a run that never reached it counts in the saving with its last labels "
        "(a bound)",
        "saving vs random = 1 - labels / random's labels on the same seed; seeds where the shared first "
        "batch already reached the target, or neither run did, are left out",
    ]
    if not comparison.absolute:
        q = comparison.full_pool_metric
        notes.append(
            f"full-pool accuracy (a model trained on every pool item): P50 {output.metric(q.p50)} "
            f"[{output.metric(q.p10)}, {output.metric(q.p90)}]"
        )
    blocks.append(output.Notes("Notes", tuple(notes)))
    data = {"settings": settings, "costs": costs.to_dict(), **comparison.to_dict()}
    return output.Document("annoplan compare", tuple(blocks), data)


def _write_chart(path: Path, comparison: Comparison) -> None:
    from annoplan.reports.charts import chart_bytes
    from annoplan.reports.compare_chart import compare_chart

    try:
        path.write_bytes(chart_bytes(compare_chart(comparison), path.suffix.lower().lstrip(".")))
    except OSError as exc:
        _fail("--chart", f"cannot write {path} ({exc.strerror or exc.__class__.__name__})")
