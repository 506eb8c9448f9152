"""Typed dependencies of the routes: settings, storage, computations, idempotent creations in flight, the
Idempotency-Key header and the paging parameters of listings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from annoplan.api.computations import Computations
from annoplan.api.resources import MAX_CURSOR_LENGTH, MAX_PAGE_SIZE, InFlight
from annoplan.api.settings import Settings
from annoplan.api.storage import Storage


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_computations(request: Request) -> Computations:
    computations: Computations = request.app.state.computations
    return computations


async def get_in_flight(request: Request) -> InFlight:
    in_flight: InFlight = request.app.state.in_flight
    return in_flight


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
ComputationsDep = Annotated[Computations, Depends(get_computations)]
InFlightDep = Annotated[InFlight, Depends(get_in_flight)]
IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[!-~]+$",
        description=(
            "a key of your choice (printable ASCII, at most 255 characters) that makes a retry safe: the "
            "same key with the same body returns the stored response instead of creating another; the same "
            "key with a different body is refused with 422"
        ),
    ),
]
PageSizeDep = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"items per page (1 to {MAX_PAGE_SIZE})")
]
CursorDep = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
        description="next_cursor of the previous page (none: the first page)",
    ),
]
