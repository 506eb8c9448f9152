"""Settings of the HTTP API, read once from the environment (``ANNOPLAN_*``).

``get_settings()`` is cached; tests build a :class:`Settings` of their own and hand it to ``create_app``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: environment variable -> settings field
ENVIRONMENT = {
    "ANNOPLAN_API_KEYS": "api_keys",
    "ANNOPLAN_DATABASE_URL": "database_url",
    "ANNOPLAN_MAX_BODY_BYTES": "max_body_bytes",
    "ANNOPLAN_MAX_PLAN_WORK": "max_plan_work",
    "ANNOPLAN_MAX_CONCURRENT_COMPUTATIONS": "max_concurrent_computations",
    "ANNOPLAN_COMPUTATION_PROCESSES": "computation_processes",
    "ANNOPLAN_COMPUTATION_DEADLINE": "computation_deadline_seconds",
    "ANNOPLAN_MAX_WAITING_COMPUTATIONS": "max_waiting_computations",
    "ANNOPLAN_SHUTDOWN_SECONDS": "shutdown_seconds",
    "ANNOPLAN_MIN_FREE_DISK_BYTES": "min_free_disk_bytes",
}
#: settings given in seconds (a decimal number); the other numeric ones are whole numbers
SECONDS = ("computation_deadline_seconds", "shutdown_seconds")


class SettingsError(ValueError):
    """An ``ANNOPLAN_*`` environment variable is invalid; the message names it."""


class Settings(BaseModel):
    """What one API server needs to know: who may call it, where plans are stored, its limits, and where
    it computes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_keys: tuple[str, ...] = Field(default=(), description="keys accepted in X-API-Key")
    database_url: str = Field(
        default="sqlite:///annoplan.db", min_length=1, description="SQLAlchemy URL of the plan store"
    )
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1, description="largest request body (bytes)")
    max_plan_work: int = Field(
        default=25_000_000,
        ge=1,
        description="largest simulation a plan or quote may ask for, in work units (see api.admission)",
    )
    max_concurrent_computations: int = Field(
        default=2,
        ge=1,
        description="without computation processes: planner computations run at once (the rest wait)",
    )
    computation_processes: int = Field(
        default=0,
        ge=0,
        description=(
            "worker processes that run the planner computations, fed from one queue (annoplan serve: "
            "--workers); 0 runs them on max_concurrent_computations threads of the HTTP process"
        ),
    )
    computation_deadline_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description=(
            "longest a plan, quote, fit or workbook may compute (s, from when a worker starts it); past it "
            "the worker process is stopped and replaced and the caller gets a 503 naming the deadline"
        ),
    )
    max_waiting_computations: int = Field(
        default=64,
        ge=0,
        description="computations that may wait for a free worker; more are refused at once with a 503",
    )
    shutdown_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3_600,
        description="on SIGTERM: the longest wait for requests in flight before they fail and it stops",
    )
    min_free_disk_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=0,
        description="an SQLite store is not ready (503 on /readyz) with less free space on its disk",
    )

    @property
    def key_digests(self) -> tuple[bytes, ...]:
        """SHA-256 of every accepted key (compared in constant time, never the keys themselves)."""
        return tuple(hashlib.sha256(key.encode()).digest() for key in self.api_keys)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``ANNOPLAN_*`` variables; unset ones keep their defaults.

        Raises
        ------
        SettingsError
            naming the variable whose value is invalid.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for variable, name in ENVIRONMENT.items():
            raw = environ.get(variable)
            if raw is None or raw.strip() == "":
                continue
            if name == "api_keys":
                values[name] = tuple(key.strip() for key in raw.split(",") if key.strip())
            elif name == "database_url":
                values[name] = raw.strip()
            elif name in SECONDS:
                try:
                    values[name] = float(raw.strip())
                except ValueError:
                    raise SettingsError(f"{variable}: {raw!r} is not a number of seconds") from None
            else:
                try:
                    values[name] = int(raw.strip().replace("_", ""))
                except ValueError:
                    raise SettingsError(f"{variable}: {raw!r} is not a whole number") from None
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            variable = next(v for v, n in ENVIRONMENT.items() if n == error["loc"][0])
            raise SettingsError(f"{variable}: {error['msg']}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_environment()
