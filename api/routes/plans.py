"""Plans: ``POST /v1/plans``, ``GET /v1/plans`` (the key's, newest first), ``GET /v1/plans/{id}``,
``DELETE /v1/plans/{id}``, ``GET /v1/plans/{id}/report.xlsx``, ``POST|GET /v1/plans/{id}/actuals``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from starlette.concurrency import run_in_threadpool

from annoplan import planner, reports
from annoplan.api.admission import admit_actuals, admit_plan
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
from annoplan.api.problems import ProblemError, problem_responses
from annoplan.api.reports import XLSX_RESPONSES, XlsxResponse, workbook_response
from annoplan.api.resources import (
    DEFAULT_PAGE_SIZE,
    PlanPage,
    create_stored,
    delete_stored,
    list_stored,
    plan_summary,
    read_stored,
    request_hash,
)
from annoplan.api.storage import Record
from annoplan.planner.schemas.plans import PlanRequest, PlanResponse
from annoplan.planner.schemas.tracking import ActualsRequest, ActualsResponse
from annoplan.planner.tracking import track_plan
from annoplan.reports.tracking import tracked_plan_workbook

router = APIRouter(prefix="/plans", tags=["plans"], route_class=JSONRoute)

KIND = "plan"
#: a plan's latest actuals: one record per plan, under the plan's id, replaced by each report
ACTUALS_KIND = "actuals"


@router.post(
    "",
    status_code=201,
    operation_id="createPlan",
    summary="Create a plan",
    response_model=PlanResponse,
    responses={
        201: {"headers": {"Location": {"description": "the plan's URL", "schema": {"type": "string"}}}},
        **problem_responses(400, 401, 413, 415, 422),
    },
)
async def create_plan(
    body: Annotated[
        PlanRequest,
        Body(openapi_examples=openapi_examples("plan.json", "Label a 50,000-item backlog at 5% error")),
    ],
    request: Request,
    tenant: TenantDep,
    storage: StorageDep,
    settings: SettingsDep,
    computations: ComputationsDep,
    in_flight: InFlightDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> Response:
    """Forecast what each strategy costs to reach the goal (P10/P50/P90 of money, labels and days) and
    recommend the settings; the plan is stored for this API key and readable at its ``Location``."""
    # the size count certifies thresholds on the calibration sample: off the event loop
    await run_in_threadpool(admit_plan, body, settings.max_plan_work)
    return await create_stored(
        kind=KIND,
        request=body,
        compute=lambda: computations.run_async(planner.make_plan, body),
        in_flight=in_flight,
        storage=storage,
        tenant=tenant,
        idempotency_key=idempotency_key,
        location=lambda plan_id: request.app.url_path_for("get_plan", plan_id=plan_id),
    )


@router.get(
    "",
    operation_id="listPlans",
    summary="List the stored plans",
    response_model=PlanPage,
    responses=problem_responses(401, 422),
)
def list_plans(
    tenant: TenantDep, storage: StorageDep, limit: PageSizeDep = DEFAULT_PAGE_SIZE, cursor: CursorDep = None
) -> PlanPage:
    """This API key's plans, newest first, ``limit`` at a time: pass ``next_cursor`` as ``cursor`` for the
    next page (null on the last). Each item summarises a plan; its id reads the whole plan."""
    listed, next_cursor = list_stored(storage, KIND, tenant, limit, cursor)
    return PlanPage(items=[plan_summary(item) for item in listed], next_cursor=next_cursor)


@router.get(
    "/{plan_id}",
    operation_id="getPlan",
    summary="Read a stored plan",
    response_model=PlanResponse,
    responses=problem_responses(401, 404),
)
def get_plan(plan_id: str, tenant: TenantDep, storage: StorageDep) -> Response:
    """The plan exactly as it was returned when created (404 for an unknown id or another key's plan)."""
    record = read_stored(storage, KIND, tenant, plan_id)
    return Response(record.response, media_type="application/json")


@router.delete(
    "/{plan_id}",
    status_code=204,
    operation_id="deletePlan",
    summary="Delete a stored plan",
    responses=problem_responses(401, 404),
)
def delete_plan(plan_id: str, tenant: TenantDep, storage: StorageDep) -> Response:
    """Delete the plan for good (404 for an unknown id or another key's plan, which stays)."""
    delete_stored(storage, KIND, tenant, plan_id)
    storage.delete(ACTUALS_KIND, tenant, plan_id)
    return Response(status_code=204)


@router.get(
    "/{plan_id}/report.xlsx",
    operation_id="getPlanReport",
    summary="Download a plan as an Excel workbook",
    response_class=XlsxResponse,
    responses={**XLSX_RESPONSES, **problem_responses(401, 404)},
)
async def get_plan_report(
    plan_id: str, tenant: TenantDep, storage: StorageDep, computations: ComputationsDep
) -> Response:
    """The plan's workbook: summary, assumptions (editable, with live formulas), strategies, learning
    curve, thresholds, schedule, sensitivity, and a Burn-up sheet once actuals are reported."""
    record = await run_in_threadpool(read_stored, storage, KIND, tenant, plan_id)
    plan = PlanResponse.model_validate_json(record.response)
    plan_request = PlanRequest.model_validate_json(record.request)
    actuals = await run_in_threadpool(storage.get, ACTUALS_KIND, tenant, plan_id)
    if actuals is None:
        content = await computations.run_async(reports.plan_workbook, plan, plan_request)
    else:
        tracking = ActualsResponse.model_validate_json(actuals.response)
        content = await computations.run_async(tracked_plan_workbook, plan, plan_request, tracking)
    return workbook_response(content, f"annoplan-plan-{record.id}.xlsx")


@router.post(
    "/{plan_id}/actuals",
    operation_id="trackPlan",
    summary="Report the rounds really done and re-plan",
    response_model=ActualsResponse,
    responses=problem_responses(400, 401, 404, 413, 415, 422),
)
async def post_actuals(
    plan_id: str,
    body: ActualsRequest,
    tenant: TenantDep,
    storage: StorageDep,
    settings: SettingsDep,
    computations: ComputationsDep,
) -> Response:
    """The rounds done so far (cumulative; each report replaces the last) against the plan: what was
    spent, the forecast of the total re-planned from the actual state, the burn-up, a status, advice and
    the next rounds' policy when it changed. Stored: ``GET`` reads it back."""
    record = await run_in_threadpool(read_stored, storage, KIND, tenant, plan_id)
    plan = PlanResponse.model_validate_json(record.response)
    plan_request = PlanRequest.model_validate_json(record.request)
    await run_in_threadpool(admit_actuals, plan_request, plan, body, settings.max_plan_work)
    tracked = await computations.run_async(track_plan, plan_request, plan, body)
    stored = Record(
        kind=ACTUALS_KIND,
        id=plan_id,
        tenant=tenant,
        request=body.model_dump_json(),
        response=tracked.model_dump_json(),
        request_hash=request_hash(body),
    )
    await run_in_threadpool(storage.put, stored)
    return Response(stored.response, media_type="application/json")


@router.get(
    "/{plan_id}/actuals",
    operation_id="getPlanActuals",
    summary="Read a plan's latest actuals and re-plan",
    response_model=ActualsResponse,
    responses=problem_responses(401, 404),
)
def get_actuals(plan_id: str, tenant: TenantDep, storage: StorageDep) -> Response:
    """The answer to the plan's latest actuals, as ``POST`` returned it (404 when the plan is unknown or
    another key's, or no actuals were reported)."""
    read_stored(storage, KIND, tenant, plan_id)
    record = storage.get(ACTUALS_KIND, tenant, plan_id)
    if record is None:
        raise ProblemError("not-found", f"no actuals were reported for plan {plan_id!r}: POST them first")
    return Response(record.response, media_type="application/json")
