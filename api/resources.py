"""Stored results over HTTP: create one idempotently, read one back, list a tenant's, delete one, for any
kind (plans, quotes).

Routes stay thin: they validate, call the planner through :func:`create_stored`, and read through
:func:`read_stored`, :func:`list_stored` and :func:`delete_stored`. The response body is the stored JSON
text itself, so a read returns exactly what the create returned; a listing summarises each stored response
and pages with an opaque cursor (the position of the page's last record).

Requests that share an idempotency key compute once: while one computes, the others (in this process) wait
for it and answer with what it stored (:class:`InFlight`); across processes the database's unique key
decides which of two racing results is stored, and both answer with it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hashlib
import json
import threading
from collections.abc import Awaitable, Callable
from collections.abc import Set as AbstractSet
from concurrent.futures import Future
from typing import Any, Protocol

from fastapi import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from annoplan.api.problems import FieldError, ProblemError
from annoplan.api.storage import Listed, Position, Record, Storage
from annoplan.planner.schemas.common import MoneyString, ResponseModel
from annoplan.planner.schemas.plans import MoneyQuantiles

REPLAYED_HEADER = "Idempotent-Replayed"


class StoredResponse(Protocol):
    """A response model that is stored: it has an id and serialises to JSON."""

    @property
    def id(self) -> str: ...

    def model_dump_json(self) -> str: ...


def request_hash(request: BaseModel, exclude: AbstractSet[str] = frozenset()) -> str:
    """SHA-256 of the validated request as canonical JSON (key order and spacing do not matter), without
    the top-level fields in ``exclude``."""
    dumped = request.model_dump(mode="json", exclude=set(exclude))
    canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def json_response(record: Record, status_code: int, headers: dict[str, str] | None = None) -> Response:
    return Response(record.response, status_code=status_code, media_type="application/json", headers=headers)


class InFlight:
    """The idempotent creations computing now in this process, by (tenant, kind, key): a request whose key
    is in flight waits for it instead of computing the same thing again. Thread-safe, so it holds across
    event loops too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str, str], Future[None]] = {}

    def claim(self, slot: tuple[str, str, str]) -> Future[None] | None:
        """None when the caller may compute ``slot`` (it must :meth:`release` it), else the running
        computation's future, done when it ends."""
        with self._lock:
            running = self._running.get(slot)
            if running is None:
                self._running[slot] = Future()
            return running

    def release(self, slot: tuple[str, str, str]) -> None:
        with self._lock:
            done = self._running.pop(slot)
        done.set_result(None)


async def create_stored(
    *,
    kind: str,
    request: BaseModel,
    compute: Callable[[], Awaitable[StoredResponse]],
    storage: Storage,
    in_flight: InFlight,
    tenant: str,
    idempotency_key: str | None,
    location: Callable[[str], str],
    lineage: str | None = None,
) -> Response:
    """Compute, store and return a ``kind`` result (201, ``Location``), or replay an earlier one.

    ``lineage``, stored with the result, makes it a version of the earlier results with that lineage
    (``compute`` numbers it: it runs before the result is stored).

    With an idempotency key already used by ``tenant`` for ``kind``: the same request replays the stored
    response (nothing is computed or stored again); a different request is refused with 422. While a
    request with the key computes, the others with it wait and then replay what it stored (or, if it
    failed, one of them computes in its place).
    """
    digest = request_hash(request)
    if idempotency_key is None:
        return await compute_and_store(
            kind, request, digest, compute, storage, tenant, None, location, lineage
        )
    slot = (tenant, kind, idempotency_key)
    while True:
        earlier = await run_in_threadpool(storage.find_idempotent, kind, tenant, idempotency_key)
        if earlier is not None:
            return replay(earlier, digest, location)
        running = in_flight.claim(slot)
        if running is None:
            break
        await asyncio.wrap_future(running)
    try:
        return await compute_and_store(
            kind, request, digest, compute, storage, tenant, idempotency_key, location, lineage
        )
    finally:
        in_flight.release(slot)


async def compute_and_store(
    kind: str,
    request: BaseModel,
    digest: str,
    compute: Callable[[], Awaitable[StoredResponse]],
    storage: Storage,
    tenant: str,
    idempotency_key: str | None,
    location: Callable[[str], str],
    lineage: str | None = None,
) -> Response:
    """Compute a ``kind`` result and store it; a full store answers 503 and stores nothing."""
    result = await compute()
    record = Record(
        kind=kind,
        id=result.id,
        tenant=tenant,
        request=request.model_dump_json(),
        response=result.model_dump_json(),
        request_hash=digest,
        idempotency_key=idempotency_key,
        lineage=lineage,
    )
    stored = await run_in_threadpool(storage.add, record)
    if stored.id != record.id:  # a request with the same key stored first (another process)
        return replay(stored, digest, location)
    return json_response(stored, 201, {"Location": location(stored.id)})


def replay(earlier: Record, digest: str, location: Callable[[str], str]) -> Response:
    """The stored response of a retry, or 422 when the key was used for a different request."""
    if earlier.request_hash != digest:
        raise ProblemError(
            "idempotency-key-reused",
            f"this Idempotency-Key was already used for a different {earlier.kind} request "
            f"({earlier.kind} {earlier.id}); use a new key for a new request",
        )
    return json_response(earlier, 201, {"Location": location(earlier.id), REPLAYED_HEADER: "true"})


def read_stored(storage: Storage, kind: str, tenant: str, record_id: str) -> Record:
    """The caller's ``kind`` record ``record_id``; 404 if it does not exist or belongs to another key."""
    record = storage.get(kind, tenant, record_id)
    if record is None:
        raise ProblemError("not-found", f"no {kind} with id {record_id!r} belongs to this API key")
    return record


#: most items of one page of a listing, and how many a page has when the request does not say
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
#: the longest cursor a listing accepts (those it hands out are about 90 characters)
MAX_CURSOR_LENGTH = 200


class PlanSummary(ResponseModel):
    """A stored plan in a listing: what tells plans apart (``GET /v1/plans/{id}`` has the whole plan)."""

    id: str
    name: str | None
    created_at: dt.datetime = Field(description="when the plan was stored (UTC)")
    currency: str
    recommended_strategy: str | None = Field(description="the recommendation's strategy")
    cost: MoneyQuantiles | None = Field(description="the recommendation's cost")


class QuoteSummary(ResponseModel):
    """A stored quote in a listing: what tells quotes apart (``GET /v1/quotes/{id}`` has the whole quote)."""

    id: str
    name: str | None
    vendor: str | None
    created_at: dt.datetime = Field(description="when the quote was stored (UTC)")
    version: int = Field(description="1 for a first quote; each re-quote of the same request adds 1")
    supersedes: str | None = Field(description="the id of the version this one replaces, if any")
    status: str = Field(description="quoted, or not_possible")
    currency: str
    valid_until: dt.date
    price_per_correction: MoneyString | None
    price_cap: MoneyString | None


class PlanPage(ResponseModel):
    """One page of the API key's plans, newest first."""

    items: list[PlanSummary]
    next_cursor: str | None = Field(
        description="pass as cursor for the next page; null on the last page",
    )


class QuotePage(ResponseModel):
    """One page of the API key's quotes, newest first."""

    items: list[QuoteSummary]
    next_cursor: str | None = Field(
        description="pass as cursor for the next page; null on the last page",
    )


def plan_summary(listed: Listed) -> PlanSummary:
    """The summary of a stored plan (read from its stored JSON, whatever version stored it)."""
    plan = json.loads(listed.response)
    recommendation = plan.get("recommendation") or {}
    return PlanSummary(
        id=listed.id,
        name=plan.get("name"),
        created_at=listed.created_at,
        currency=plan["currency"],
        recommended_strategy=recommendation.get("strategy"),
        cost=recommendation.get("cost"),
    )


def quote_summary(listed: Listed) -> QuoteSummary:
    """The summary of a stored quote (read from its stored JSON, whatever version stored it)."""
    quote = json.loads(listed.response)
    return QuoteSummary(
        id=listed.id,
        name=quote.get("name"),
        vendor=quote.get("vendor"),
        created_at=listed.created_at,
        version=quote.get("version", 1),
        supersedes=quote.get("supersedes"),
        status=quote["status"],
        currency=quote["currency"],
        valid_until=quote["valid_until"],
        price_per_correction=quote.get("price_per_correction"),
        price_cap=quote.get("price_cap"),
    )


def encode_cursor(position: Position) -> str:
    """An opaque cursor for the page after ``position`` (URL-safe base64 of its time and id)."""
    raw = json.dumps([position.created_at.isoformat(), position.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor of :func:`encode_cursor` stands for; 422 naming ``cursor`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value: Any = json.loads(raw)
        moment, record_id = value
        created_at = dt.datetime.fromisoformat(moment)
        if created_at.tzinfo is None or not isinstance(record_id, str) or not record_id.isprintable():
            raise ValueError("not a position")
    except (binascii.Error, ValueError, TypeError):
        message = "not a cursor this API handed out: pass next_cursor of the previous page, or none"
        raise ProblemError(
            "invalid-input",
            f"cursor: {message}",
            errors=[FieldError(field="cursor", location="query", message=message, type="value_error")],
        ) from None
    return Position(created_at=created_at, id=record_id)


def list_stored(
    storage: Storage, kind: str, tenant: str, limit: int, cursor: str | None
) -> tuple[list[Listed], str | None]:
    """A page of the caller's ``kind`` records, newest first, and the cursor of the next page (None on the
    last page)."""
    after = decode_cursor(cursor) if cursor is not None else None
    listed = storage.listing(kind, tenant, limit + 1, after)
    if len(listed) <= limit:
        return listed, None
    page = listed[:limit]
    return page, encode_cursor(Position(created_at=page[-1].created_at, id=page[-1].id))


def delete_stored(storage: Storage, kind: str, tenant: str, record_id: str) -> None:
    """Delete the caller's ``kind`` record ``record_id``; 404 if it does not exist or belongs to another
    key (which keeps it)."""
    if not storage.delete(kind, tenant, record_id):
        raise ProblemError("not-found", f"no {kind} with id {record_id!r} belongs to this API key")
