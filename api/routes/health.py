"""Liveness and readiness, outside authentication (for load balancers and orchestrators)."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from annoplan.api.deps import SettingsDep, StorageDep
from annoplan.api.problems import ProblemError, problem_responses
from annoplan.api.storage import StorageFull

logger = logging.getLogger("annoplan.api")

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]


@router.get("/healthz", operation_id="health", summary="The process is up")
async def health() -> Health:
    """Answers as long as the process serves requests; it checks nothing else (and, on the event loop,
    never waits behind computations)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readiness",
    summary="The database answers and takes writes",
    responses=problem_responses(503),
)
async def readiness(storage: StorageDep, settings: SettingsDep) -> Readiness:
    """Ready when the database takes a write (a probe row, written and deleted) and, for an SQLite file,
    its disk has ``ANNOPLAN_MIN_FREE_DISK_BYTES`` free; 503 otherwise (take this instance out of
    rotation). The check runs on a thread of its own, never behind computations."""
    try:
        await asyncio.to_thread(storage.ping)
        await asyncio.to_thread(storage.check_writable, settings.min_free_disk_bytes)
    except StorageFull as exc:
        logger.error("readiness check: the store cannot take writes (%s)", exc)
        raise ProblemError("not-ready", "the store cannot take writes: its disk is full") from None
    except Exception:
        logger.exception("readiness check: the database does not answer")
        raise ProblemError("not-ready", "the database does not answer") from None
    return Readiness(status="ready")
