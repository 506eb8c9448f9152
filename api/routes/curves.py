"""``POST /v1/curves/fit``: learning-curve forecasts from pilot rounds (computed, not stored)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from annoplan import planner
from annoplan.api.admission import admit_fit
from annoplan.api.bodies import JSONRoute
from annoplan.api.deps import ComputationsDep
from annoplan.api.examples import openapi_examples
from annoplan.api.problems import problem_responses
from annoplan.planner.schemas.curves import FitRequest, FitResponse

router = APIRouter(prefix="/curves", tags=["curves"], route_class=JSONRoute)


@router.post(
    "/fit",
    operation_id="fitCurve",
    summary="Forecast a learning curve",
    responses=problem_responses(400, 401, 413, 415, 422),
)
async def fit_curve(
    request: Annotated[
        FitRequest, Body(openapi_examples=openapi_examples("pilot_fit.json", "Four pilot rounds"))
    ],
    computations: ComputationsDep,
) -> FitResponse:
    """P10/P50/P90 of the metric a model trained on given numbers of labels will measure, and of the
    labels needed to reach each target. Deterministic: the same request always gives the same answer, so a
    retry is safe without an idempotency key."""
    admit_fit(request)
    return await computations.run_async(planner.fit_curve, request)
