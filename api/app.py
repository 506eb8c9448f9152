"""The annoplan HTTP API: ``create_app(settings)`` builds it; ``annoplan serve`` runs it with uvicorn.

Routes live one router per resource in :mod:`api.routes`; errors are RFC 9457 problem+json
(:mod:`api.problems`); plans and quotes are stored per API key (:mod:`api.storage`).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from annoplan.api.auth import require_tenant
from annoplan.api.computations import Computations
from annoplan.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from annoplan.api.problems import PROBLEM_DESCRIPTIONS, PROBLEM_MEDIA_TYPE, install_problem_handlers
from annoplan.api.resources import InFlight
from annoplan.api.routes import comparisons, curves, health, pilots, plans, quotes, web
from annoplan.api.settings import Settings, get_settings
from annoplan.api.storage import Storage

logger = logging.getLogger("annoplan.api")

DESCRIPTION = """\
Forecast what labeling strategies cost from a few pilot rounds, recommend the cheapest settings that meet a
quality goal, and price correction-only work.

Every `/v1` operation needs an API key in the `X-API-Key` header. Plans and quotes are stored and belong to
the key that created them. Errors are RFC 9457 `application/problem+json`: invalid input answers 422 with an
`errors` list naming each field as a dotted path into the body (`pilot.rounds[2].value`). Money is a decimal
string in the request's ISO 4217 currency. `POST` of plans and quotes accepts an `Idempotency-Key` header that
makes retries safe.
"""


#: where the assets of the API's documentation pages are served
DOCS_ASSETS = "/docs/assets"


def package_version() -> str:
    try:
        return version("annoplan")
    except PackageNotFoundError:
        return "0.0.0"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While served: the computation processes (if any) are started before the first request, and the
    computations are shut down after the last."""
    computations: Computations = app.state.computations
    await asyncio.to_thread(computations.start)
    try:
        yield
    finally:
        await asyncio.to_thread(computations.shutdown)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API over the database of ``settings`` (default: from ``ANNOPLAN_*``); tables are created here."""
    settings = settings if settings is not None else get_settings()
    storage = Storage(settings.database_url)
    storage.create_tables()
    if not settings.api_keys:
        logger.warning("no API keys configured (ANNOPLAN_API_KEYS): every /v1 request will get 401")

    # /docs (Swagger UI) and /redoc load their scripts, styles and icon from DOCS_ASSETS, served from the
    # installed package: the pages work without the internet
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},
        title="annoplan",
        lifespan=lifespan,
        version=package_version(),
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "curves", "description": "learning-curve forecasts from pilot rounds"},
            {"name": "plans", "description": "cost forecasts and recommendations, stored per API key"},
            {"name": "quotes", "description": "correction-only price offers, stored per API key"},
            {
                "name": "comparisons",
                "description": "vendors' offers on one scenario, common draws, stored per key",
            },
            {"name": "pilots", "description": "the pilot object of a plan from scored items or exports"},
            {"name": "health", "description": "liveness and readiness, without an API key"},
        ],
    )
    app.state.settings = settings
    app.state.storage = storage
    app.state.key_digests = settings.key_digests
    app.state.computations = Computations(
        threads=settings.max_concurrent_computations,
        processes=settings.computation_processes,
        deadline_seconds=settings.computation_deadline_seconds,
        max_waiting=settings.max_waiting_computations,
    )
    app.state.in_flight = InFlight()
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)

    authenticated = [Depends(require_tenant)]
    app.include_router(health.router)
    app.include_router(web.router)
    app.include_router(pilots.router, prefix="/v1", dependencies=authenticated)
    app.include_router(curves.router, prefix="/v1", dependencies=authenticated)
    app.include_router(plans.router, prefix="/v1", dependencies=authenticated)
    app.include_router(quotes.router, prefix="/v1", dependencies=authenticated)
    app.include_router(comparisons.router, prefix="/v1", dependencies=authenticated)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_media_types(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def problem_media_types(document: dict[str, Any]) -> dict[str, Any]:
    """Every error response is documented as what the app sends: ``application/problem+json`` with the
    Problem schema (FastAPI would say JSON, or the route's media type, and its own validation schema)."""
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                if status[:1] in "45":
                    response["content"] = copy.deepcopy(problem)
                    if status == "422":
                        response["description"] = PROBLEM_DESCRIPTIONS[422]
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document
