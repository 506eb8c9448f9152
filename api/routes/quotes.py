"""Quotes: ``POST /v1/quotes``, ``GET /v1/quotes`` (the key's, newest first), ``GET /v1/quotes/{id}``,
``DELETE /v1/quotes/{id}``, ``GET /v1/quotes/{id}/report.xlsx``.

Quotes have versions. Re-quoting the same request (the same vendor, pool, pilot and goal; the vendor's own
pricing inputs, :data:`~planner.schemas.quotes.QUOTE_PRICING_INPUTS`, may differ) stores a new quote whose
``version`` is one above the newest earlier one of this API key and whose ``supersedes`` names it; the
earlier quote is never changed. Quotes stored before versions existed are each a version 1 of their own.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from annoplan import planner, reports
from annoplan.api.admission import admit_quote
from annoplan.api.auth import TenantDep
from annoplan.api.bodies import JSONRoute
from annoplan.api.deps import (
    ComputationsDep,
    CursorDep,
    IdempotencyKeyDep,
    InFlightDep,
    PageSizeDep,
    SettingsDep,
    StorageDep,
)
from annoplan.api.examples import openapi_examples
from annoplan.api.problems import problem_responses
from annoplan.api.reports import XLSX_RESPONSES, XlsxResponse, workbook_response
from annoplan.api.resources import (
    DEFAULT_PAGE_SIZE,
    QuotePage,
    create_stored,
    delete_stored,
    list_stored,
    quote_summary,
    read_stored,
    request_hash,
)
from annoplan.api.storage import Record, Storage
from annoplan.planner.schemas.quotes import QUOTE_PRICING_INPUTS, QuoteRequest, QuoteResponse

router = APIRouter(prefix="/quotes", tags=["quotes"], route_class=JSONRoute)

KIND = "quote"


def quote_lineage(req: QuoteRequest) -> str:
    """What the versions of one quote share: the hash of the request without the vendor's pricing inputs."""
    return request_hash(req, exclude=QUOTE_PRICING_INPUTS)


def stored_version(record: Record) -> int:
    """The version of a stored quote (1 for quotes stored before versions existed)."""
    version: int = json.loads(record.response).get("version", 1)
    return version


def versioned(quote: QuoteResponse, newest_earlier: Record | None) -> QuoteResponse:
    """``quote`` as the next version after ``newest_earlier`` (the first when None)."""
    if newest_earlier is None:
        return quote
    return quote.model_copy(
        update={"version": stored_version(newest_earlier) + 1, "supersedes": newest_earlier.id}
    )


def superseded_by(storage: Storage, record: Record) -> str | None:
    """The id of the newest version of the stored quote ``record`` when that is another quote, else None."""
    if record.lineage is None:
        return None
    newest = storage.newest(KIND, record.tenant, record.lineage)
    return newest.id if newest is not None and newest.id != record.id else None


@router.post(
    "",
    status_code=201,
    operation_id="createQuote",
    summary="Create a quote",
    response_model=QuoteResponse,
    responses={
        201: {"headers": {"Location": {"description": "the quote's URL", "schema": {"type": "string"}}}},
        **problem_responses(400, 401, 413, 415, 422),
    },
)
async def create_quote(
    body: Annotated[
        QuoteRequest,
        Body(openapi_examples=openapi_examples("quote.json", "Correction-only offer on a 50,000-item pool")),
    ],
    request: Request,
    tenant: TenantDep,
    storage: StorageDep,
    settings: SettingsDep,
    computations: ComputationsDep,
    in_flight: InFlightDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Price correction-only work so that revenue covers the vendor's cost plus margin with probability
    ``risk_level``; ``status`` ``not_possible`` (still 201) says why no honest price exists. The quote is
    stored for this API key and readable at its ``Location``. Re-quoting the same request (only the
    vendor's prices, costs, margin, risk, validity, currency, schedule or search settings changed) stores
    the next ``version``, which ``supersedes`` the newest earlier one; that one stays as it was."""
    await run_in_threadpool(admit_quote, body, settings.max_plan_work)  # off the event loop
    lineage = quote_lineage(body)

    async def compute() -> QuoteResponse:
        quote = await computations.run_async(planner.make_quote, body)
        newest_earlier = await run_in_threadpool(storage.newest, KIND, tenant, lineage)
        return versioned(quote, newest_earlier)

    return await create_stored(
        kind=KIND,
        request=body,
        compute=compute,
        lineage=lineage,
        in_flight=in_flight,
        storage=storage,
        tenant=tenant,
        idempotency_key=idempotency_key,
        location=lambda quote_id: request.app.url_path_for("get_quote", quote_id=quote_id),
    )


@router.get(
    "",
    operation_id="listQuotes",
    summary="List the stored quotes",
    response_model=QuotePage,
    responses=problem_responses(401, 422),
)
def list_quotes(
    tenant: TenantDep, storage: StorageDep, limit: PageSizeDep = DEFAULT_PAGE_SIZE, cursor: CursorDep = None
) -> QuotePage:
    """This API key's quotes, newest first, ``limit`` at a time: pass ``next_cursor`` as ``cursor`` for the
    next page (null on the last). Each item summarises a quote; its id reads the whole quote."""
    listed, next_cursor = list_stored(storage, KIND, tenant, limit, cursor)
    return QuotePage(items=[quote_summary(item) for item in listed], next_cursor=next_cursor)


@router.get(
    "/{quote_id}",
    operation_id="getQuote",
    summary="Read a stored quote",
    response_model=QuoteResponse,
    responses=problem_responses(401, 404),
)
def get_quote(quote_id: str, tenant: TenantDep, storage: StorageDep) -> Response:
    """The quote exactly as it was returned when created (404 for an unknown id or another key's quote)."""
    record = read_stored(storage, KIND, tenant, quote_id)
    return Response(record.response, media_type="application/json")


@router.delete(
    "/{quote_id}",
    status_code=204,
    operation_id="deleteQuote",
    summary="Delete a stored quote",
    responses=problem_responses(401, 404),
)
def delete_quote(quote_id: str, tenant: TenantDep, storage: StorageDep) -> Response:
    """Delete the quote for good (404 for an unknown id or another key's quote, which stays)."""
    delete_stored(storage, KIND, tenant, quote_id)
    return Response(status_code=204)


@router.get(
    "/{quote_id}/report.xlsx",
    operation_id="getQuoteReport",
    summary="Download a quote as an Excel workbook",
    response_class=XlsxResponse,
    responses={**XLSX_RESPONSES, **problem_responses(401, 404, 422)},
)
async def get_quote_report(
    quote_id: str,
    tenant: TenantDep,
    storage: StorageDep,
    computations: ComputationsDep,
    copy: Annotated[
        Literal["vendor", "client"],
        Query(description="client: the copy to send the client, without the vendor's costs and margin"),
    ] = "vendor",
) -> Response:
    """The quote's workbook: prices, validity, promised settings, volumes with intervals and a live bill."""
    record = await run_in_threadpool(read_stored, storage, KIND, tenant, quote_id)
    quote = QuoteResponse.model_validate_json(record.response)
    quote_request = QuoteRequest.model_validate_json(record.request)
    content = await computations.run_async(
        reports.quote_workbook, quote, quote_request, client=copy == "client"
    )
    suffix = "-client" if copy == "client" else ""
    return workbook_response(content, f"annoplan-quote-{record.id}{suffix}.xlsx")
