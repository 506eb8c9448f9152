"""``annoplan vendors FILE``: compare vendors' offers on one scenario, every offer on the same draws."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from annoplan.api import output
from annoplan.api.cli import (
    DEADLINE_OPTION,
    FORMAT_OPTION,
    MAX_WORK_OPTION,
    NO_WORK_LIMIT_OPTION,
    XLSX_OPTION,
    check_output,
    check_request,
    deadline,
    deadline_seconds,
    emit,
    fail,
    read_input,
    read_object,
    read_request,
    run,
    work_limit,
    write_workbook,
)
from annoplan.planner.validation import parse_request

QUOTE_OPTION = typer.Option(
    "--quote",
    metavar="QUOTE.json",
    show_default=False,
    help="a quote (annoplan quote's JSON output) that a quote_id offer names; repeat for several",
)


def read_quotes(paths: list[Path] | None) -> dict[str, Any]:
    """The quotes of ``--quote`` files by id (version 1 each: files carry no history); a file that is not a
    quote exits 2 naming ``--quote``."""
    from annoplan.planner.comparisons import StoredQuote
    from annoplan.planner.schemas.quotes import QuoteResponse

    quotes: dict[str, Any] = {}
    for path in paths or []:
        document = read_object(str(path), "--quote")
        try:
            quote = QuoteResponse.model_validate(document)
        except ValueError as exc:
            first = str(exc).splitlines()[1:2] or ["not a quote"]
            fail(f"--quote: {path} is not a quote response ({first[0].strip()})")
        quotes[quote.id] = StoredQuote(quote)
    return quotes


def admitted(request: Any, quotes: dict[str, Any], limit: int | None) -> Any:
    """The validated comparison; exit 2 when it would simulate more than ``limit`` work units, as the HTTP
    API refuses it."""
    from annoplan.api.admission import admit_comparison
    from annoplan.api.problems import ProblemError
    from annoplan.planner.schemas.comparisons import ComparisonRequest

    check_request(ComparisonRequest, request)
    model = parse_request(ComparisonRequest, request)
    if limit is not None:
        try:
            admit_comparison(model, quotes, limit)
        except ProblemError as exc:
            fields = ", ".join(error.field for error in exc.errors or ())
            fail(
                f"{fields}: {exc.detail} (the HTTP API's cap: --max-work N raises it, --no-work-limit lifts "
                "it)"
            )
    return model


def comparison_document(comparison: Any) -> output.Document:
    """The document of a comparison: the offers side by side, the recommendation's reasons, the rates."""
    currency = comparison.currency
    rows = tuple(
        (
            offer.vendor,
            offer.strategy,
            output.amount(offer.cost.p10, currency),
            output.amount(offer.cost.p50, currency),
            output.amount(offer.cost.p90, currency),
            output.share(offer.probability_cheapest),
            output.amount(offer.expected_regret, currency),
            output.days(offer.days.p50),
            output.share(offer.label_error.p50, 2),
            output.share(offer.probability_goal_met, 0),
        )
        for offer in comparison.offers
    )
    columns = (
        "vendor",
        "strategy",
        "cost P10",
        "cost P50",
        "cost P90",
        "P(cheapest)",
        "regret",
        "days P50",
        "label error P50",
        "P(goal)",
    )
    blocks: list[output.Block] = [
        output.Table(f"Offers (cost in {currency})", columns, rows, text_columns=frozenset({0, 1}))
    ]
    reasons = (f"pick {comparison.recommendation.vendor}", *comparison.recommendation.reasons)
    blocks.append(output.Notes("Recommendation", reasons))
    if comparison.fx is not None:
        from annoplan.planner.comparisons import fx_summary

        blocks.append(output.Notes("Exchange rates", (fx_summary(comparison.fx),)))
    if comparison.warnings:
        blocks.append(output.Notes("Warnings", tuple(comparison.warnings)))
    return output.Document(
        comparison.name or "Vendors compared", tuple(blocks), comparison.model_dump(mode="json")
    )


def vendors_command(
    file: Annotated[str, typer.Argument(help="JSON comparison request: a scenario and offers; - for stdin")],
    xlsx: Annotated[Path | None, XLSX_OPTION] = None,
    output_format: Annotated[output.Format | None, FORMAT_OPTION] = None,
    quote: Annotated[list[Path] | None, QUOTE_OPTION] = None,
    max_work: Annotated[str | None, MAX_WORK_OPTION] = None,
    no_work_limit: Annotated[bool, NO_WORK_LIMIT_OPTION] = False,
    deadline_option: Annotated[str | None, DEADLINE_OPTION] = None,
) -> None:
    """Compare vendors' offers (rate cards, quotes) on one scenario: which is cheapest, and how surely."""
    seconds = deadline_seconds(deadline_option)
    limit = work_limit(max_work, no_work_limit)
    check_output(xlsx, "--xlsx")
    quotes = read_quotes(quote)
    data = read_input(file)
    with deadline(seconds):
        request = read_request(data, file)
        from annoplan.planner.comparisons import compare_offers

        model = run(lambda valid: valid, request, admit=lambda r: admitted(r, quotes, limit))
        comparison = run(lambda valid: compare_offers(valid, quotes), model)
        workbook = None
        if xlsx is not None:
            from annoplan.reports.comparison import comparison_workbook

            workbook = comparison_workbook(comparison, model)
    emit(comparison, comparison_document, output_format)
    if xlsx is not None and workbook is not None:
        write_workbook(xlsx, workbook)
