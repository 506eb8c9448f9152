"""Every error of the HTTP API as RFC 9457 ``application/problem+json``, mapped in one place.

A problem carries ``type`` (a URN naming the kind of problem, stable for clients to switch on), ``title``
(the same for every problem of that type), ``status``, ``detail`` (this occurrence, in plain words) and
``instance`` (the request path); invalid input adds ``errors``, one entry per offending field, named as a
dotted path into the JSON body (``pilot.rounds[2].value``) exactly as the CLI and the Python API name it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from annoplan.api.computations import ComputationCrashed, ComputationsBusy, ComputationTimedOut
from annoplan.api.storage import StorageFull
from annoplan.planner.errors import FitError, InvalidInputError, NotFoundError, PlannerError
from annoplan.planner.validation import field_loc, field_path

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:annoplan:problem:"


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem: its status and title (the same for every occurrence)."""

    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return TYPE_PREFIX + self.slug


#: every problem the API answers with, by slug
PROBLEM_TYPES: dict[str, ProblemType] = {
    t.slug: t
    for t in (
        ProblemType("malformed-body", 400, "Malformed request body"),
        ProblemType("unauthorized", 401, "Missing or invalid API key"),
        ProblemType("not-found", 404, "Not found"),
        ProblemType("method-not-allowed", 405, "Method not allowed"),
        ProblemType("body-too-large", 413, "Request body too large"),
        ProblemType("unsupported-media-type", 415, "Unsupported media type"),
        ProblemType("invalid-input", 422, "Invalid input"),
        ProblemType("fit-failed", 422, "The learning curve could not be fitted"),
        ProblemType("simulation-too-large", 422, "Simulation too large for this server"),
        ProblemType("idempotency-key-reused", 422, "Idempotency key reused with a different request"),
        ProblemType("internal-error", 500, "Internal server error"),
        ProblemType("not-ready", 503, "Service not ready"),
        ProblemType("computation-deadline", 503, "Computation past its deadline"),
        ProblemType("computations-busy", 503, "Too many computations waiting"),
        ProblemType("storage-full", 503, "Storage full"),
    )
}
#: the problem type of an HTTP error raised by the framework itself (routing, body reading), by status
FRAMEWORK_SLUGS = (
    "malformed-body",
    "unauthorized",
    "not-found",
    "method-not-allowed",
    "body-too-large",
    "unsupported-media-type",
    "invalid-input",
    "internal-error",
    "not-ready",
)
FRAMEWORK_TYPES = {PROBLEM_TYPES[slug].status: PROBLEM_TYPES[slug] for slug in FRAMEWORK_SLUGS}
#: seconds a client should wait before retrying a 503 caused by load or a full store
RETRY_AFTER_SECONDS = 5
#: the API's own failures -> problem types, whether a retry may succeed later (Retry-After), and the
#: detail in words (a crash says nothing of the internals: the log has them, the detail the request id)
SERVICE_TYPES: tuple[tuple[type[Exception], str, bool], ...] = (
    (ComputationTimedOut, "computation-deadline", False),
    (ComputationsBusy, "computations-busy", True),
    (StorageFull, "storage-full", True),
    (ComputationCrashed, "internal-error", False),
)
#: planner errors -> problem types (the most specific class first)
PLANNER_TYPES: tuple[tuple[type[PlannerError], str], ...] = (
    (InvalidInputError, "invalid-input"),
    (FitError, "fit-failed"),
    (NotFoundError, "not-found"),
    (PlannerError, "invalid-input"),
)


class FieldError(BaseModel):
    """One offending input: where it is, and what is wrong with it."""

    model_config = ConfigDict(populate_by_name=True)

    field: str = Field(description="dotted path into the body (pilot.rounds[2].value), or a header's name")
    location: Literal["body", "header", "query", "path"] = Field(alias="in")
    message: str
    type: str = Field(description="machine-readable kind of error, e.g. greater_than_equal")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:annoplan:problem:invalid-input"])
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["pilot.rounds[2].value: Input should be less than or equal to 1"])
    instance: str = Field(description="the request path", examples=["/v1/plans"])
    errors: list[FieldError] | None = Field(default=None, description="invalid input only: every field")


class ProblemError(Exception):
    """Raised anywhere in the API to answer with a problem of type ``slug``."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.type = PROBLEM_TYPES[slug]
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})


def problem_content(
    kind: ProblemType, detail: str, instance: str, errors: Sequence[FieldError] | None = None
) -> dict[str, Any]:
    """The JSON of a problem."""
    problem = Problem(
        type=kind.uri,
        title=kind.title,
        status=kind.status,
        detail=detail,
        instance=instance,
        errors=list(errors) if errors is not None else None,
    )
    return problem.model_dump(mode="json", by_alias=True, exclude_none=True)


def problem_response(
    kind: ProblemType,
    detail: str,
    instance: str,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem as an ``application/problem+json`` response."""
    return JSONResponse(
        problem_content(kind, detail, instance, errors),
        status_code=kind.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def field_errors(errors: Sequence[Mapping[str, Any]], body: Any) -> list[FieldError]:
    """Pydantic errors of a request as field errors; body locations without union-member tags."""
    out: list[FieldError] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        source = str(loc[0]) if loc else "body"
        rest = loc[1:]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        kind = str(error.get("type", "value_error"))
        if source == "body":
            if kind == "json_invalid":
                continue
            path = field_path(field_loc(rest, body)) if isinstance(body, dict) else ""
            entry = FieldError(field=path or "body", location="body", message=message, type=kind)
        elif source in ("header", "query", "path"):
            entry = FieldError(
                field=".".join(str(p) for p in rest) or source, location=source, message=message, type=kind
            )
        else:
            entry = FieldError(field=str(source), location="body", message=message, type=kind)
        if entry not in out:
            out.append(entry)
    return out


def summarize(errors: Sequence[FieldError]) -> str:
    """The detail line of invalid input: the most specific error, and how many more there are."""
    first = max(errors, key=lambda e: e.field.count(".") + e.field.count("["))
    more = f" (and {len(errors) - 1} more: see errors)" if len(errors) > 1 else ""
    return f"{first.field}: {first.message}{more}"


async def validation_problem(request: Request, exc: Exception) -> JSONResponse:
    """A request the schema rejects: 400 for a body that is not JSON, 415 for one not sent as JSON,
    else 422 with every offending field."""
    assert isinstance(exc, RequestValidationError)
    instance = request.url.path
    raw = list(exc.errors())
    bad_json = next((e for e in raw if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        reason = (bad_json.get("ctx") or {}).get("error", "invalid JSON")
        position = bad_json.get("loc", ("body", "?"))[-1]
        detail = f"the body is not valid JSON: {reason} (at character {position})"
        return problem_response(PROBLEM_TYPES["malformed-body"], detail, instance)
    if isinstance(exc.body, bytes | bytearray) and exc.body:
        detail = "send the body as JSON with the header Content-Type: application/json"
        return problem_response(PROBLEM_TYPES["unsupported-media-type"], detail, instance)
    errors = field_errors(raw, exc.body)
    if not errors:
        errors = [FieldError(field="body", location="body", message="invalid request", type="value_error")]
    if len(errors) == 1 and errors[0].field == "body" and errors[0].type == "missing":
        errors = [errors[0].model_copy(update={"message": "the request needs a JSON body"})]
    return problem_response(PROBLEM_TYPES["invalid-input"], summarize(errors), instance, errors)


async def http_problem(request: Request, exc: Exception) -> JSONResponse:
    """Errors the framework raises itself: unknown paths, wrong methods, unreadable bodies."""
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    kind = FRAMEWORK_TYPES.get(exc.status_code)
    if kind is None:
        phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in set(HTTPStatus) else "Error"
        kind = ProblemType("http-error", exc.status_code, phrase)
    if exc.status_code == 404:
        detail = f"there is no resource at {path}; the API is described at /docs"
    elif exc.status_code == 405:
        allowed = allowed_methods(request) or (exc.headers or {}).get("Allow", "")
        detail = f"{request.method} is not allowed on {path}" + (f"; allowed: {allowed}" if allowed else "")
        return problem_response(kind, detail, path, headers={**(exc.headers or {}), "Allow": allowed})
    elif exc.status_code == 400:
        detail = unreadable_body(exc.__cause__)
    else:
        detail = str(exc.detail)
    return problem_response(kind, detail, path, headers=exc.headers)


#: the methods a 405's ``Allow`` header may name
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path (the framework names only the first matching
    route's: ``POST`` at ``/v1/plans``, which ``GET`` serves too)."""
    allowed = [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def unreadable_body(cause: BaseException | None) -> str:
    """Why a body could not be parsed, in words: the framework says only that parsing failed."""
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not UTF-8 text (byte {cause.start}); send JSON encoded as UTF-8"
    if isinstance(cause, RecursionError):
        return "the body's JSON is nested too deeply to read; no request needs more than a few levels"
    return "the body could not be read as UTF-8 JSON"


async def service_problem(request: Request, exc: Exception) -> JSONResponse:
    """A failure of the service itself (a computation past its deadline, too many waiting, a full store,
    a crashed computation process): 503 (or 500 for a crash), never the caller's fault."""
    slug, retry = next((slug, retry) for cls, slug, retry in SERVICE_TYPES if isinstance(exc, cls))
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if retry else {}
    if isinstance(exc, ComputationTimedOut):
        detail = (
            f"{exc}; it was stopped. Ask for less work (fewer draws, batch sizes or strategies), or ask "
            "the operator to raise ANNOPLAN_COMPUTATION_DEADLINE"
        )
    elif isinstance(exc, ComputationsBusy):
        detail = f"{exc}; retry in {RETRY_AFTER_SECONDS} s"
    elif isinstance(exc, StorageFull):
        detail = "the store cannot take a write now (its disk is full); nothing was stored: retry later"
    else:
        request_id = getattr(request.state, "request_id", "")
        detail = f"the server failed to answer; quote request id {request_id} when reporting it"
    return problem_response(PROBLEM_TYPES[slug], detail, request.url.path, headers=headers)


async def raised_problem(request: Request, exc: Exception) -> JSONResponse:
    """A :class:`ProblemError` raised by a route or a dependency."""
    assert isinstance(exc, ProblemError)
    return problem_response(exc.type, exc.detail, request.url.path, exc.errors, exc.headers)


async def planner_problem(request: Request, exc: Exception) -> JSONResponse:
    """A planner error: invalid input names its field (422); an unfittable pilot says what would help."""
    assert isinstance(exc, PlannerError)
    slug = next(slug for cls, slug in PLANNER_TYPES if isinstance(exc, cls))
    errors = None
    if isinstance(exc, InvalidInputError):
        field = exc.field or "body"
        errors = [FieldError(field=field, location="body", message=exc.message, type="value_error")]
    return problem_response(PROBLEM_TYPES[slug], str(exc), request.url.path, errors)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every handled error of ``app`` with problem+json (the catch-all is a middleware)."""
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(StarletteHTTPException, http_problem)
    app.add_exception_handler(ProblemError, raised_problem)
    app.add_exception_handler(PlannerError, planner_problem)
    for cls, _, _ in SERVICE_TYPES:
        app.add_exception_handler(cls, service_problem)


def _descriptions() -> dict[int, str]:
    titles: dict[int, list[str]] = {}
    for kind in PROBLEM_TYPES.values():
        titles.setdefault(kind.status, []).append(kind.title)
    return {status: "; ".join(names) for status, names in titles.items()}


#: the OpenAPI description of each error status: the titles of its problem types
PROBLEM_DESCRIPTIONS = _descriptions()


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses (documented as problem+json by the app)."""
    return {status: {"model": Problem, "description": PROBLEM_DESCRIPTIONS[status]} for status in statuses}
