"""Liveness and readiness, outside authentication (for load balancers and orchestrators)."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import StorageDep
from api.problems import ProblemError, problem_responses

logger = logging.getLogger("annoplan.api")

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]


@router.get("/healthz", operation_id="health", summary="The process is up")
def health() -> Health:
    """Answers as long as the process serves requests; it checks nothing else."""
    return Health(status="ok")


@router.get(
    "/readyz", operation_id="readiness", summary="The database answers", responses=problem_responses(503)
)
def readiness(storage: StorageDep) -> Readiness:
    """Ready when the database answers a query; 503 otherwise (take this instance out of rotation)."""
    try:
        storage.ping()
    except Exception:
        logger.exception("readiness check: the database does not answer")
        raise ProblemError("not-ready", "the database does not answer") from None
    return Readiness(status="ready")
