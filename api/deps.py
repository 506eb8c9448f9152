"""Typed dependencies of the routes: settings, storage, planner slots and the Idempotency-Key header."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request

from api.settings import Settings
from api.storage import Storage

T = TypeVar("T")


class Computations:
    """Planner computations run on ``limit`` dedicated threads of this process; the rest wait their turn.

    CPU-bound work in more threads than cores only slows every request down. Keeping it on a few threads
    also bounds memory: each thread that ever ran a plan keeps a malloc arena of its size, and the request
    thread pool has dozens of threads (in the load benchmark, a worker running plans on its request threads
    grew to 3.6 GB; on two computation threads it stays at 0.6 GB).
    """

    def __init__(self, limit: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="annoplan-compute")

    def run(self, compute: Callable[[], T]) -> T:
        """The result of ``compute()``, run on a computation thread (its exception, if it raises)."""
        return self._executor.submit(compute).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_computations(request: Request) -> Computations:
    computations: Computations = request.app.state.computations
    return computations


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
ComputationsDep = Annotated[Computations, Depends(get_computations)]
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
