"""What the command line prints: a response as a document of titled tables and notes, rendered as a rich
table, Markdown or JSON (``--format``).

The content (which rows and columns, counts as integers, money as amounts in the currency with thousands
separators) is decided by the ``*_document`` functions, apart from how it is drawn (:func:`render`), so that
any command (``fit``, ``plan``, ``quote``, ``replay``) can print its own document with the same renderer.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TextIO


class Format(StrEnum):
    """The output formats of ``--format``."""

    table = "table"
    json = "json"
    markdown = "markdown"


#: width of a rich table written to a file or a pipe (a terminal's own width is used on a terminal)
PIPE_WIDTH = 160


@dataclass(frozen=True)
class Table:
    """One titled table: a header and rows of display strings; every column but the first is numeric
    (right-aligned) unless ``text_columns`` names it."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text_columns: frozenset[int] = field(default_factory=lambda: frozenset({0}))


@dataclass(frozen=True)
class Notes:
    """A titled list of sentences (reasons, warnings)."""

    title: str
    lines: tuple[str, ...]


Block = Table | Notes


@dataclass(frozen=True)
class Document:
    """What a command prints: a heading and its blocks; ``data`` is the JSON form of the same response."""

    heading: str
    blocks: tuple[Block, ...]
    data: Any


def default_format(stream: TextIO | None = None) -> Format:
    """``table`` when ``stream`` (standard output) is a terminal, else ``json`` (piped or redirected)."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return Format.table if isatty is not None and isatty() else Format.json


# --- display strings ----------------------------------------------------------------------------------------


def amount(value: str | float | None, currency: str) -> str:
    """A money amount with thousands separators and its currency: ``"19508.26"`` -> ``"19,508.26 USD"``;
    the digits of a decimal string are kept as they are."""
    if value is None:
        return "-"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return f"{value} {currency}"
    return f"{number:,} {currency}"


def count(value: float | None) -> str:
    """A count as a whole number with thousands separators (``12,345``); ``-`` for none."""
    return "-" if value is None else f"{round(value):,}"


def share(value: float | None, digits: int = 1) -> str:
    """A share as a percentage (``0.893`` -> ``89.3%``)."""
    return "-" if value is None else f"{value:.{digits}%}"


def metric(value: float | None) -> str:
    """A metric value in [0, 1] with three decimals."""
    return "-" if value is None else f"{value:.3f}"


def days(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


# --- documents ----------------------------------------------------------------------------------------------


def _warnings(warnings: Sequence[str]) -> tuple[Block, ...]:
    return (Notes("Warnings", tuple(warnings)),) if warnings else ()


def fit_document(response: Any) -> Document:
    """The document of a fit response: the metric forecast and the labels needed per target."""
    name = response.metric
    forecast = Table(
        f"Forecast: {name} a model trained on N labels will measure",
        ("labels", "P10", "P50", "P90"),
        tuple((count(p.n_labels), metric(p.p10), metric(p.p50), metric(p.p90)) for p in response.predictions),
        text_columns=frozenset(),
    )
    blocks: list[Block] = [forecast]
    if response.labels_to_reach:
        blocks.append(
            Table(
                "Labels needed to reach each target",
                ("target", "P10", "P50", "P90", "P(reachable)"),
                tuple(
                    (
                        metric(t.target),
                        count(t.p10),
                        count(t.p50),
                        count(t.p90),
                        share(t.probability_reachable),
                    )
                    for t in response.labels_to_reach
                ),
                text_columns=frozenset(),
            )
        )
    families = sorted(response.families.items(), key=lambda item: -item[1])
    blocks.append(Table("Curve families", ("family", "weight"), tuple((k, share(w)) for k, w in families)))
    blocks.extend(_warnings(response.warnings))
    return Document(f"Learning curve ({name})", tuple(blocks), response.model_dump(mode="json"))


def _settings(settings: Any) -> str:
    parts = [f"batch {settings.batch_size:,}"]
    if settings.confidence_threshold is not None:
        parts.append(f"threshold {settings.confidence_threshold:.3g}")
    budget = settings.human_labels_budget
    if budget is not None:
        parts.append(f"budget {budget:,} labels")
    return ", ".join(parts)


def plan_document(plan: Any) -> Document:
    """The document of a plan: the strategies side by side, the recommendation and its reasons."""
    currency = plan.currency
    strategies = Table(
        f"Strategies (cost in {currency})",
        (
            "strategy",
            "cost P10",
            "cost P50",
            "cost P90",
            "human labels P50",
            "days P50",
            "label error P50",
            "P(goal)",
            "settings",
        ),
        tuple(
            (
                s.strategy,
                amount(s.cost.p10, currency),
                amount(s.cost.p50, currency),
                amount(s.cost.p90, currency),
                count(s.human_labels.p50),
                days(s.days.p50),
                share(s.label_error.p50, 2),
                share(s.probability_goal_met, 0),
                _settings(s.settings),
            )
            for s in plan.strategies
        ),
        text_columns=frozenset({0, 8}),
    )
    rec = plan.recommendation
    headline = [
        ("strategy", rec.strategy),
        ("batch size", count(rec.batch_size)),
        (
            "confidence threshold",
            "-" if rec.confidence_threshold is None else f"{rec.confidence_threshold:.3g}",
        ),
        (
            f"human labels to budget ({plan.assumptions.get('probability', 0.9):.0%})",
            count(rec.human_labels_budget),
        ),
        ("human labels P50", count(rec.human_labels_p50)),
        ("human work stops", rec.stop_rule or "-"),
        (
            "cost P10 / P50 / P90",
            " / ".join(amount(getattr(rec.cost, q), currency) for q in ("p10", "p50", "p90")),
        ),
    ]
    if rec.savings_vs_manual is not None:
        saved = rec.savings_vs_manual
        headline.append(
            (
                "savings vs manual P10 / P50 / P90",
                " / ".join(amount(getattr(saved, q), currency) for q in ("p10", "p50", "p90")),
            )
        )
    blocks: list[Block] = [
        strategies,
        Table(
            "Recommendation" if rec.reachable else "Not reachable: the closest attempt",
            ("", ""),
            tuple(headline),
            text_columns=frozenset({0, 1}),
        ),
        Notes("Reasons", tuple(rec.reasons)),
        *_warnings(plan.warnings),
    ]
    return Document(plan.name or "Plan", tuple(blocks), plan.model_dump(mode="json"))


def quote_document(quote: Any) -> Document:
    """The document of a quote: its status, the prices, the volumes and the bill with intervals."""
    currency = quote.currency
    terms = [
        ("status", str(quote.status)),
        ("valid", f"{quote.issued_on} to {quote.valid_until}"),
        ("price per correction", amount(quote.price_per_correction, currency)),
        ("price per audit", amount(quote.price_per_audit, currency)),
        ("price cap", amount(quote.price_cap, currency)),
        (
            "confidence threshold",
            "-" if quote.confidence_threshold is None else f"{quote.confidence_threshold:.3g}",
        ),
        ("audit rate", share(quote.audit_rate)),
        ("batch size", count(quote.batch_size)),
        ("max label error", share(quote.max_label_error)),
        ("P(goal met)", share(quote.probability_goal_met)),
        ("P(cost covered)", share(quote.probability_cost_covered)),
    ]
    blocks: list[Block] = [Table("Terms", ("", ""), tuple(terms), text_columns=frozenset({0, 1}))]
    volumes = [
        (label, getattr(quote, name))
        for label, name in (
            ("corrections", "expected_corrections"),
            ("reviews", "reviews"),
            ("routed items", "routed_items"),
            ("auto-accepted", "auto_accepted"),
            ("audits", "audits"),
            ("rounds", "rounds"),
        )
    ]
    rows = tuple((label, count(q.p10), count(q.p50), count(q.p90)) for label, q in volumes if q is not None)
    if rows:
        blocks.append(Table("Volumes", ("", "P10", "P50", "P90"), rows))
    money_rows = tuple(
        (label, *(amount(getattr(q, p), currency) for p in ("p10", "p50", "p90", "mean")))
        for label, q in (("client bill", quote.client_bill), ("vendor cost", quote.vendor_cost))
        if q is not None
    )
    if money_rows:
        blocks.append(Table(f"Money ({currency})", ("", "P10", "P50", "P90", "mean"), money_rows))
    blocks.append(Notes("Reasons", tuple(quote.reasons)))
    blocks.extend(_warnings(quote.warnings))
    title = " - ".join(part for part in (quote.name, quote.vendor) if part) or "Quote"
    return Document(title, tuple(blocks), quote.model_dump(mode="json"))


# --- rendering ----------------------------------------------------------------------------------------------


def render(document: Document, fmt: Format, stream: TextIO | None = None) -> None:
    """Write ``document`` to ``stream`` (standard output) as a rich table, Markdown or JSON."""
    stream = sys.stdout if stream is None else stream
    if fmt == Format.json:
        stream.write(json.dumps(document.data, indent=2) + "\n")
    elif fmt == Format.markdown:
        stream.write(markdown(document))
    else:
        stream.write(rich_text(document, terminal=default_format(stream) == Format.table))


def _escape(cell: str) -> str:
    return cell.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(document: Document) -> str:
    """``document`` as Markdown: a heading, pipe tables and bullet lists (user text escaped)."""
    out = [f"# {_escape(document.heading)}", ""]
    for block in document.blocks:
        out += [f"## {_escape(block.title)}", ""]
        if isinstance(block, Notes):
            out += [f"- {_escape(line)}" for line in block.lines]
        else:
            out.append("| " + " | ".join(_escape(c) for c in block.columns) + " |")
            out.append(
                "|"
                + "|".join(":---" if i in block.text_columns else "---:" for i in range(len(block.columns)))
                + "|"
            )
            out += ["| " + " | ".join(_escape(c) for c in row) + " |" for row in block.rows]
        out.append("")
    return "\n".join(out)


def rich_text(document: Document, terminal: bool) -> str:
    """``document`` drawn with rich: one boxed table per block (colours only on a terminal)."""
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=shutil.get_terminal_size().columns if terminal else PIPE_WIDTH,
        force_terminal=terminal,
        no_color=not terminal,
        highlight=False,
        emoji=False,
        markup=False,
    )
    console.print(Text(document.heading, style="bold"))
    for block in document.blocks:
        if isinstance(block, Notes):
            console.print(Text(f"\n{block.title}", style="bold"))
            for line in block.lines:
                console.print(Text(f"  - {line}"))
            continue
        console.print(Text(f"\n{block.title}", style="bold"))
        table = RichTable(show_header=any(block.columns))
        for i, column in enumerate(block.columns):
            table.add_column(column, justify="left" if i in block.text_columns else "right")
        for row in block.rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
    return buffer.getvalue()


def rows_of(records: Iterable[dict[str, Any]], columns: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Display rows of plain records (e.g. a replay's per-round history): whole numbers with thousands
    separators, others from 1,000 up with two decimals, below it to four significant digits; text as is."""

    def cell(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return "-" if value is None else str(value)
        if isinstance(value, int):
            return f"{value:,}"
        if isinstance(value, float):
            if value.is_integer():
                return f"{int(value):,}"
            return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"
        return str(value)

    return tuple(tuple(cell(record.get(c)) for c in columns) for record in records)
