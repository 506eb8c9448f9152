"""``annoplan replay``: run a labeling policy on a real labeled data set and print what it cost.

A thin shell over :mod:`simulators`: it reads the data set and the rate card, runs
:func:`simulators.replay.replay_pool` (and :func:`simulators.pilot.simulate_pilot` for
``--emit-pilot``), and prints the result as JSON on standard output. Progress and notes go to
standard error; bad input exits with code 2 and a one-line message naming the option.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from annoplan.api import output
from annoplan.api.replay_plan import PricedPolicy, rate_card_of, replay_settings, side_by_side, split_start
from annoplan.planner.errors import InvalidInputError
from annoplan.planner.schemas.policy import Policy
from annoplan.simulators.costs import RateCard
from annoplan.simulators.datasets import MAX_CATEGORIES, load_dataset
from annoplan.simulators.errors import SimulatorInputError
from annoplan.simulators.pilot import DEFAULT_PILOT_ROUNDS, simulate_pilot
from annoplan.simulators.query_strategies import QUERY_STRATEGIES
from annoplan.simulators.replay import POLICIES, ReplayRound, replay_pool

DEFAULT_CONFIDENCE_THRESHOLD = 0.95
DEFAULT_BATCH_SIZE = 100
DEFAULT_DELTA = 0.05
DEFAULT_PILOT_ROUNDS_TEXT = ",".join(map(str, DEFAULT_PILOT_ROUNDS))
PROGRESS_INTERVAL_SECONDS = 2.0

_OPTION_OF_FIELD = {
    "data": "DATA",
    "policy": "--policy",
    "strategy": "--strategy",
    "confidence_threshold": "--threshold",
    "batch_size": "--batch-size",
    "max_labels": "--max-labels",
    "max_label_error": "--max-label-error",
    "delta": "--delta",
    "random_state": "--seed",
    "n_labels": "--pilot-rounds",
    "costs": "--costs",
    "n_eval": "DATA",
}


def _fail(option: str, message: str) -> NoReturn:
    """Print a one-line error naming ``option`` to standard error and exit with code 2."""
    one_line = " ".join(str(message).split())
    typer.echo(f"annoplan replay: {option}: {one_line}", err=True)
    raise typer.Exit(2)


def _fail_on(error: SimulatorInputError) -> NoReturn:
    """Exit 2 with the option (or data set field) that ``error`` names."""
    field = error.field
    if field.startswith("costs."):
        _fail("--costs", f"{field.removeprefix('costs.')}: {error.message}")
    if field in _OPTION_OF_FIELD:
        _fail(_OPTION_OF_FIELD[field], error.message)
    _fail(f"DATA: {field}", error.message)


def _note(message: str) -> None:
    typer.echo(f"annoplan replay: {message}", err=True)


def read_json_object(
    path: Path, option: str, what: str, fail: Callable[[str, str], NoReturn] = _fail
) -> dict[str, Any]:
    """The JSON object of a file given to ``option`` (the command line's one bounded reader of JSON files);
    anything else exits through ``fail`` naming ``option``: the file ``must hold a JSON object {what}``."""
    # imported here: api.cli imports this module
    from annoplan.api.cli import decode_text, load_json, read_bytes

    try:
        values = load_json(decode_text(read_bytes(str(path)), path.name), path.name)
    except InvalidInputError as error:
        fail(option, f"{error.field}: {error.message}" if error.field else error.message)
    if not isinstance(values, dict):
        fail(option, f"{path.name} must hold a JSON object {what}")
    return values


def read_rate_card(
    path: Path | None,
    fail: Callable[[str, str], NoReturn] = _fail,
    fail_on: Callable[[SimulatorInputError], NoReturn] = _fail_on,
) -> RateCard:
    """The rate card of a JSON file given to ``--costs`` (a plan request's ``costs`` object), or the default
    one; errors exit through ``fail`` / ``fail_on`` (each command names its own options)."""
    if path is None:
        return RateCard()
    values = read_json_object(path, "--costs", "of unit prices", fail)
    try:
        return RateCard.from_mapping(values)
    except SimulatorInputError as error:
        fail_on(error)


def _check_output(path: Path | None) -> None:
    """Exit 2 naming --emit-pilot when it cannot be written, before the replay runs."""
    from annoplan.api.cli import output_path_problem

    problem = None if path is None else output_path_problem(path)
    if problem is not None:
        _fail("--emit-pilot", problem)


def _parse_pilot_rounds(text: str) -> tuple[int, ...]:
    """``"100,200,400"`` as a tuple of positive integers."""
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        _fail("--pilot-rounds", f"must be comma-separated integers, got {text!r}")
    if not sizes or min(sizes) < 1:
        _fail("--pilot-rounds", f"must be integers >= 1, got {text!r}")
    return sizes


def _parse_share(option: str, text: str | None) -> float | None:
    """``text`` as a number in (0, 1) (None when the option was not given)."""
    if text is None:
        return None
    try:
        share = float(text)
    except ValueError:
        _fail(option, f"must be a number in (0, 1), got {text!r}")
    if not 0.0 < share < 1.0:  # NaN fails too
        _fail(option, f"must be in (0, 1), got {text}")
    return share


def _check_options(
    policy: str,
    strategy: str | None,
    threshold: float | None,
    batch_size: int,
    max_labels: int | None,
    max_label_error: float | None = None,
    delta: float | None = None,
) -> None:
    """Cheap checks before the data set is read, so that a typo fails fast."""
    if policy not in POLICIES:
        _fail("--policy", f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")
    if strategy is not None and strategy not in QUERY_STRATEGIES:
        names = ", ".join(name for name in QUERY_STRATEGIES if name != "random")
        _fail("--strategy", f"unknown strategy {strategy!r}; expected one of {names}")
    if threshold is not None and not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
        _fail("--threshold", f"must be in [0, 1], got {threshold}")
    if batch_size < 1:
        _fail("--batch-size", f"must be an integer >= 1, got {batch_size}")
    if max_labels is not None and max_labels < 1:
        _fail("--max-labels", f"must be an integer >= 1, got {max_labels}")
    if strategy is not None and policy != "active_learning":
        _note(f"--strategy is used by --policy active_learning only; ignored for {policy}")
    hybrid_only = {"--threshold": threshold, "--max-label-error": max_label_error, "--delta": delta}
    if policy != "hybrid":
        for option, value in hybrid_only.items():
            if value is not None:
                _note(f"{option} is used by --policy hybrid only; ignored for {policy}")
    elif delta is not None and max_label_error is None:
        _note("--delta has no effect without --max-label-error")


class _Progress:
    """Prints a progress line to standard error at most every few seconds."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def __call__(self, record: ReplayRound) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL_SECONDS:
            return
        self.last = now
        metric = "n/a" if record.metric is None else f"{record.metric:.3f}"
        _note(
            f"round {record.round_index}: {record.human_labels} human labels, "
            f"{record.auto_accepted} auto-accepted, {record.remaining} left, accuracy {metric}"
        )


def replay_command(
    data: Annotated[
        Path,
        typer.Argument(
            help="Data set: .npz (arrays X, y, optional text), or CSV with a 'label' column. A "
            "categorical column (non-numeric in a CSV) is one-hot encoded and may hold at most "
            f"{MAX_CATEGORIES:,} distinct values: drop id columns, give free text as an .npz 'text' array.",
            show_default=False,
        ),
    ],
    policy: Annotated[
        str | None,
        typer.Option(
            help=f"Labeling policy: {', '.join(POLICIES)} (not with --plan or --quote, which carry theirs).",
            show_default=False,
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="Query strategy of active_learning: "
            + ", ".join(name for name in QUERY_STRATEGIES if name != "random")
            + " (default least_confidence).",
            show_default=False,
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="hybrid: auto-accept items whose confidence (max class probability) is >= this "
            f"(default {DEFAULT_CONFIDENCE_THRESHOLD}).",
            show_default=False,
        ),
    ] = None,
    max_label_error: Annotated[
        str | None,
        typer.Option(
            metavar="<share>",
            help="hybrid: the label-error goal, in (0, 1): the largest share of the pool that may end up "
            "wrong. Each round's lot of confident items is then audited on a random sample sized to keep "
            "the goal with probability 1 - --delta, whatever the model does; a lot the audit rejects "
            "delivers only its audited items and the threshold rises (default none: no guarantee, a "
            "random share of each lot, the rate card's audit_rate, is audited).",
            show_default=False,
        ),
    ] = None,
    delta: Annotated[
        str | None,
        typer.Option(
            metavar="<prob>",
            help="hybrid with --max-label-error: the probability, in (0, 1), that the goal may be missed "
            f"(default {DEFAULT_DELTA}).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Items sent to humans per round.")] = (DEFAULT_BATCH_SIZE),
    costs: Annotated[
        Path | None,
        typer.Option(
            help="JSON rate card: label, review, correction, audit, audit_rate, platform_fee, "
            "round_overhead (currency units per item; per round for round_overhead).",
            show_default=False,
        ),
    ] = None,
    max_labels: Annotated[
        int | None,
        typer.Option(
            help="Stop after this many human-touched items (hybrid: auto-accept the rest then; with "
            "--max-label-error the rest is one audited lot, and if its audit rejects it humans check "
            "its unaudited items).",
            show_default=False,
        ),
    ] = None,
    pilot_rounds: Annotated[
        str,
        typer.Option(help="Cumulative label counts of the --emit-pilot rounds."),
    ] = DEFAULT_PILOT_ROUNDS_TEXT,
    emit_pilot: Annotated[
        Path | None,
        typer.Option(
            help="Also write the 'pilot' object of a plan request (random pilot rounds) here.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of every choice in the replay.")] = 0,
    warm_start: Annotated[
        bool,
        typer.Option(
            help="Refit each round from the last round's model (faster; the models, and so the items "
            "chosen, differ slightly from refitting from scratch, hence off by default).",
        ),
    ] = False,
    plan: Annotated[
        Path | None,
        typer.Option(
            help="A plan (the JSON of annoplan plan): replay its recommended policy from its start "
            "labels and "
            "print the forecast and the replay side by side.",
            show_default=False,
        ),
    ] = None,
    quote: Annotated[
        Path | None,
        typer.Option(
            help="A quote (the JSON of annoplan quote): replay its policy; --costs then takes the vendor's "
            "costs (a quote request's vendor_costs object).",
            show_default=False,
        ),
    ] = None,
    start_labels: Annotated[
        int | None,
        typer.Option(
            help="Random items labeled before round 1 (the pilot's); the first model trains on them "
            "(default: the policy's start_labels with --plan/--quote, else 0).",
            show_default=False,
        ),
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
    """Replay a labeling policy, or the one a plan or quote priced, on a labeled data set; print its cost."""
    if plan is not None or quote is not None:
        _replay_priced(data, plan, quote, costs, start_labels, seed, output_format, policy)
        return
    if policy is None:
        _fail("--policy", f"give one of {', '.join(POLICIES)}, or --plan PLAN.json or --quote QUOTE.json")
    goal = _parse_share("--max-label-error", max_label_error)
    goal_delta = _parse_share("--delta", delta)
    _check_options(policy, strategy, threshold, batch_size, max_labels, goal, goal_delta)
    pilot_sizes = _parse_pilot_rounds(pilot_rounds)
    _check_output(emit_pilot)
    rate_card = read_rate_card(costs)
    fmt = _parse_format(output_format)
    n_start = _check_start_labels(start_labels)
    try:
        X, y, _ = load_dataset(data)
        X, y, before = _start(X, y, n_start, seed)
        result = replay_pool(
            X,
            y,
            policy=policy,
            strategy=strategy or "least_confidence",
            batch_size=batch_size,
            confidence_threshold=(DEFAULT_CONFIDENCE_THRESHOLD if threshold is None else threshold),
            max_label_error=goal,
            delta=DEFAULT_DELTA if goal_delta is None else goal_delta,
            costs=rate_card,
            max_labels=max_labels,
            labeled=before,
            warm_start=warm_start,
            random_state=seed,
            progress=_Progress(),
        )
        pilot = None
        if emit_pilot is not None:
            pilot = simulate_pilot(X, y, n_labels=pilot_sizes, random_state=seed)
    except SimulatorInputError as error:
        _fail_on(error)
    if pilot is not None and emit_pilot is not None:
        _write_pilot(emit_pilot, pilot.to_dict(), pilot_sizes, pilot.pool_size)
    if fmt == output.Format.json:
        typer.echo(json.dumps(_totals(result)))
    else:
        output.render(_replay_document(result, None), fmt)


def _totals(result: Any) -> dict[str, Any]:
    """The replay's totals, with ``label_error_of``: which items its label error counts (a replay stopped
    at ``--max-labels`` leaves items unlabeled, and their labels are unknown, not right)."""
    totals: dict[str, Any] = result.to_dict()
    labeled = result.pool_size - result.unlabeled
    if result.unlabeled == 0:
        counted = f"every item of the pool ({result.pool_size:,})"
    else:
        counted = (
            f"the {labeled:,} labeled items only: {result.unlabeled:,} of the pool's {result.pool_size:,} "
            "are unlabeled, their labels unknown (not counted as right)"
        )
    position = list(totals).index("label_error") + 1
    items = list(totals.items())
    return dict([*items[:position], ("label_error_of", counted), *items[position:]])


def _parse_format(text: str | None) -> output.Format:
    """``--format`` (default: table on a terminal, JSON when piped)."""
    if text is None:
        return output.default_format()
    try:
        return output.Format(text)
    except ValueError:
        _fail("--format", f"must be one of {', '.join(f.value for f in output.Format)}, got {text!r}")


def _check_start_labels(start_labels: int | None) -> int:
    if start_labels is not None and start_labels < 0:
        _fail("--start-labels", f"must be an integer >= 0, got {start_labels}")
    return start_labels or 0


def _start(X: Any, y: Any, n_start: int, seed: int) -> tuple[Any, Any, tuple[Any, Any] | None]:
    """The data without its ``n_start`` start labels, and those labeled items (None without any)."""
    if n_start == 0:
        return X, y, None
    n_items = len(y)
    if n_start >= n_items - 2:
        _fail(
            "--start-labels",
            f"must leave items to replay: the data set has {n_items:,} items, asked {n_start:,}",
        )
    labeled, rest = split_start(n_items, n_start, seed)
    return X[rest], y[rest], (X[labeled], y[labeled])


def _priced_policy(
    plan: Path | None, quote: Path | None, costs: Path | None
) -> tuple[PricedPolicy, RateCard]:
    """The policy of a plan or a quote, what it forecast, and the prices to count with."""
    from pydantic import ValidationError

    option = "--plan" if plan is not None else "--quote"
    path = plan if plan is not None else quote
    assert path is not None
    document = read_json_object(path, option, f"(the output of annoplan {option[2:]})")
    if document.get("policy") is None:
        _fail(
            option,
            f"{path.name} has no policy: a {option[2:]} made before policies existed, a quote that was not "
            f"possible, or not a {option[2:]}; make it again",
        )
    try:
        policy = Policy.model_validate(document["policy"])
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        _fail(option, f"policy.{where}: {first['msg']}")
    if plan is not None:
        forecast = next(
            (f for f in document.get("strategies", []) if f.get("strategy") == policy.strategy), None
        )
        if forecast is None:
            _fail(option, f"{path.name} has no forecast of its policy's strategy {policy.strategy!r}")
        priced = PricedPolicy(
            "plan", policy, forecast, str(document.get("currency", "")), document.get("costs")
        )
        given = read_rate_card(costs) if costs is not None else None
    else:
        given = _read_vendor_costs(costs) if costs is not None else None
        vendor = None if given is None else given.to_dict()
        priced = PricedPolicy("quote", policy, document, str(document.get("currency", "")), vendor)
    return priced, rate_card_of(priced, given)


def _read_vendor_costs(path: Path) -> RateCard:
    """A quote request's vendor_costs object as the vendor's rate card (a label from scratch costed like a
    correction, as the quote prices it)."""
    from pydantic import ValidationError

    from annoplan.planner.quotes import vendor_rate_card
    from annoplan.planner.schemas.quotes import VendorCosts

    values = read_json_object(path, "--costs", "of the vendor's costs (a quote request's vendor_costs)")
    try:
        return vendor_rate_card(VendorCosts.model_validate(values, strict=False))
    except ValidationError as error:
        first = error.errors()[0]
        _fail("--costs", f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")


def _replay_priced(
    data: Path,
    plan: Path | None,
    quote: Path | None,
    costs: Path | None,
    start_labels: int | None,
    seed: int,
    output_format: str | None,
    policy: str | None,
) -> None:
    """``--plan`` / ``--quote``: replay the policy the document priced and print both side by side."""
    if plan is not None and quote is not None:
        _fail("--plan", "give --plan or --quote, not both")
    if policy is not None:
        _fail("--policy", "the policy comes from the plan or the quote: leave --policy out")
    fmt = _parse_format(output_format)
    priced, rate_card = _priced_policy(plan, quote, costs)
    n_start = _check_start_labels(priced.policy.start_labels if start_labels is None else start_labels)
    settings = replay_settings(priced.policy)
    try:
        X, y, _ = load_dataset(data)
        X, y, before = _start(X, y, n_start, seed)
        result = replay_pool(
            X, y, **settings, costs=rate_card, labeled=before, random_state=seed, progress=_Progress()
        )
    except SimulatorInputError as error:
        _fail_on(error)
    notes = _priced_notes(priced, result, n_start, priced.policy.pool_size)
    rows = side_by_side(priced, result)
    summary = {k: v for k, v in _totals(result).items() if k != "history"}
    data_out = {
        "kind": priced.kind,
        "policy": priced.policy.model_dump(mode="json"),
        "start_labels": n_start,
        "side_by_side": rows,
        "replay": summary,
        "notes": notes,
    }
    if fmt == output.Format.json:
        typer.echo(json.dumps(data_out))
    else:
        output.render(_replay_document(result, (priced, rows, notes)), fmt)


def _priced_notes(priced: PricedPolicy, result: Any, n_start: int, forecast_pool: int | None) -> list[str]:
    notes = [
        f"started from {n_start:,} random labels; replayed {result.pool_size:,} items in "
        f"{result.rounds:,} rounds"
    ]
    if forecast_pool is not None and forecast_pool != result.pool_size:
        notes.append(
            f"the {priced.kind} forecast a pool of {forecast_pool:,} items, this data set's pool is "
            f"{result.pool_size:,}: compare shares rather than totals"
        )
    if priced.policy.after_cap == "model_labels_rest":
        notes.append("the replay stops at the cap: the items the model would label are left unlabeled here")
    if priced.policy.stop_at_metric is not None:
        notes.append("the replay runs to the cap; it does not stop when the metric reaches the target")
    if result.max_label_error is not None:
        verdict = "within" if result.label_error <= result.max_label_error else "OVER"
        notes.append(
            f"label error {result.label_error:.2%}: {verdict} the goal of {result.max_label_error:.2%} "
            f"({result.lots_rejected} of {result.lots} lots rejected)"
        )
    return notes


def _replay_document(
    result: Any, priced: tuple[PricedPolicy, list[dict[str, Any]], list[str]] | None
) -> output.Document:
    """The replay as a document: the side-by-side table (with a plan or a quote), then the totals."""
    totals = _totals(result)
    blocks: list[output.Block] = []
    if priced is not None:
        doc, rows, notes = priced
        columns = ("quantity", "p10", "p50", "p90", "replay")
        blocks.append(
            output.Table(
                f"{doc.kind.capitalize()} and replay",
                ("", "P10", "P50", "P90", "replay"),
                output.rows_of(rows, columns),
            )
        )
        blocks.append(output.Notes("Notes", tuple(notes)))
    keys = (
        "cost",
        "human_labels",
        "fresh_labels",
        "reviews",
        "corrections",
        "auto_accepted",
        "audits",
        "rounds",
        "label_error",
        "label_error_of",
        "unlabeled",
        "final_metric",
    )
    blocks.append(
        output.Table(
            "Replay totals",
            ("", "value"),
            output.rows_of(
                [{"quantity": k.replace("_", " "), "value": totals.get(k)} for k in keys],
                ("quantity", "value"),
            ),
        )
    )
    return output.Document(f"annoplan replay: {result.policy}", tuple(blocks), totals)


def _write_pilot(path: Path, pilot: dict[str, Any], requested: tuple[int, ...], pool_size: int) -> None:
    """Write the pilot JSON and note on standard error where it differs from what was asked."""
    emitted = [item["n_labels"] for item in pilot["rounds"]]
    if sorted(set(requested)) != emitted:
        _note(
            f"pilot rounds at {', '.join(map(str, emitted)) or 'none'} labels "
            f"(asked {', '.join(map(str, requested))}; pool of {pool_size} items)"
        )
    try:
        path.write_text(json.dumps(pilot, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        _fail("--emit-pilot", f"cannot write {path}: {exc.strerror}")
