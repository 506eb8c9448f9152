"""Comparisons: ``POST /v1/comparisons`` (vendors' offers on one scenario, common draws), ``GET
/v1/comparisons`` (the key's, newest first), ``GET /v1/comparisons/{id}``, ``DELETE /v1/comparisons/{id}``,
``GET /v1/comparisons/{id}/report.xlsx``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from annoplan.api.admission import admit_comparison
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
from annoplan.api.resources import DEFAULT_PAGE_SIZE, create_stored, delete_stored, list_stored, read_stored
from annoplan.api.routes.quotes import KIND as QUOTE_KIND
from annoplan.api.routes.quotes import superseded_by
from annoplan.api.storage import Listed, Storage
from annoplan.planner.comparisons import StoredQuote, compare_offers
from annoplan.planner.schemas.common import ResponseModel
from annoplan.planner.schemas.comparisons import ComparisonRequest, ComparisonResponse, StoredQuoteOffer
from annoplan.planner.schemas.quotes import QuoteResponse
from annoplan.reports.comparison import comparison_workbook

router = APIRouter(prefix="/comparisons", tags=["comparisons"], route_class=JSONRoute)

KIND = "comparison"


class ComparisonSummary(ResponseModel):
    """A stored comparison in a listing (``GET /v1/comparisons/{id}`` has the whole comparison)."""

    id: str
    name: str | None
    created_at: dt.datetime = Field(description="when the comparison was stored (UTC)")
    currency: str
    vendors: list[str] = Field(description="the offers' vendors, in the request's order")
    recommended_vendor: str


class ComparisonPage(ResponseModel):
    """One page of the API key's comparisons, newest first."""

    items: list[ComparisonSummary]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last page")


def comparison_summary(listed: Listed) -> ComparisonSummary:
    comparison = json.loads(listed.response)
    return ComparisonSummary(
        id=listed.id,
        name=comparison.get("name"),
        created_at=listed.created_at,
        currency=comparison["currency"],
        vendors=[offer["vendor"] for offer in comparison["offers"]],
        recommended_vendor=comparison["recommendation"]["vendor"],
    )


def stored_quotes(storage: Storage, tenant: str, req: ComparisonRequest) -> dict[str, StoredQuote]:
    """The caller's stored quotes that the request's ``quote_id`` offers name, each with its version and
    the newest version of the same request when that is another quote (others' and unknown ids are left
    out: the planner refuses them naming the offer)."""
    out: dict[str, StoredQuote] = {}
    for offer in req.offers:
        if isinstance(offer, StoredQuoteOffer) and offer.quote_id not in out:
            record = storage.get(QUOTE_KIND, tenant, offer.quote_id)
            if record is not None:
                quote = QuoteResponse.model_validate_json(record.response)
                out[offer.quote_id] = StoredQuote(quote, quote.version, superseded_by(storage, record))
    return out


@router.post(
    "",
    status_code=201,
    operation_id="createComparison",
    summary="Compare vendors' offers",
    response_model=ComparisonResponse,
    responses={
        201: {"headers": {"Location": {"description": "the comparison's URL", "schema": {"type": "string"}}}},
        **problem_responses(400, 401, 413, 415, 422),
    },
)
async def create_comparison(
    body: Annotated[
        ComparisonRequest,
        Body(openapi_examples=openapi_examples("comparison.json", "Three vendors for a 50,000-item backlog")),
    ],
    request: Request,
    tenant: TenantDep,
    storage: StorageDep,
    settings: SettingsDep,
    computations: ComputationsDep,
    in_flight: InFlightDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Price every offer (rate cards, this key's stored quotes, quote prices inline) on the same simulated
    futures: per vendor the best strategy, cost quantiles, days, label error, the probability of being the
    cheapest and the expected regret, with a recommendation. Stored for this API key."""
    quotes = await run_in_threadpool(stored_quotes, storage, tenant, body)
    await run_in_threadpool(admit_comparison, body, quotes, settings.max_plan_work)  # off the event loop
    return await create_stored(
        kind=KIND,
        request=body,
        compute=lambda: computations.run_async(compare_offers, body, quotes),
        in_flight=in_flight,
        storage=storage,
        tenant=tenant,
        idempotency_key=idempotency_key,
        location=lambda comparison_id: request.app.url_path_for(
            "get_comparison", comparison_id=comparison_id
        ),
    )


@router.get(
    "",
    operation_id="listComparisons",
    summary="List the stored comparisons",
    response_model=ComparisonPage,
    responses=problem_responses(401, 422),
)
def list_comparisons(
    tenant: TenantDep, storage: StorageDep, limit: PageSizeDep = DEFAULT_PAGE_SIZE, cursor: CursorDep = None
) -> ComparisonPage:
    """This API key's comparisons, newest first, ``limit`` at a time (``next_cursor`` pages on)."""
    listed, next_cursor = list_stored(storage, KIND, tenant, limit, cursor)
    return ComparisonPage(items=[comparison_summary(item) for item in listed], next_cursor=next_cursor)


@router.get(
    "/{comparison_id}",
    operation_id="getComparison",
    summary="Read a stored comparison",
    response_model=ComparisonResponse,
    responses=problem_responses(401, 404),
)
def get_comparison(comparison_id: str, tenant: TenantDep, storage: StorageDep) -> Response:
    """The comparison exactly as it was returned when created (404 for an unknown id or another key's)."""
    record = read_stored(storage, KIND, tenant, comparison_id)
    return Response(record.response, media_type="application/json")


@router.delete(
    "/{comparison_id}",
    status_code=204,
    operation_id="deleteComparison",
    summary="Delete a stored comparison",
    responses=problem_responses(401, 404),
)
def delete_comparison(comparison_id: str, tenant: TenantDep, storage: StorageDep) -> Response:
    """Delete the comparison for good (404 for an unknown id or another key's, which stays)."""
    delete_stored(storage, KIND, tenant, comparison_id)
    return Response(status_code=204)


@router.get(
    "/{comparison_id}/report.xlsx",
    operation_id="getComparisonReport",
    summary="Download a comparison as an Excel workbook",
    response_class=XlsxResponse,
    responses={**XLSX_RESPONSES, **problem_responses(401, 404)},
)
async def get_comparison_report(
    comparison_id: str, tenant: TenantDep, storage: StorageDep, computations: ComputationsDep
) -> Response:
    """The Vendors workbook: the offers side by side, a chart of their costs, the assumptions and FX rates."""
    record = await run_in_threadpool(read_stored, storage, KIND, tenant, comparison_id)
    comparison = ComparisonResponse.model_validate_json(record.response)
    comparison_request = ComparisonRequest.model_validate_json(record.request)
    content = await computations.run_async(comparison_workbook, comparison, comparison_request)
    return workbook_response(content, f"annoplan-comparison-{record.id}.xlsx")
