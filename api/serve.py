"""``annoplan serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from api.settings import SettingsError, get_settings
from api.storage import Storage

#: numeric libraries' thread pools, pinned to one thread per worker process (workers are the parallelism)
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def serve_command(
    host: Annotated[str, typer.Option(help="interface to listen on (0.0.0.0: all)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="worker processes (about one per core)")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level: debug, info, warning, error")] = "info",
) -> None:
    """Serve the HTTP API (settings from ANNOPLAN_API_KEYS, ANNOPLAN_DATABASE_URL, ...)."""
    import uvicorn

    try:
        settings = get_settings()
        Storage(settings.database_url).create_tables()  # once, before workers race to do it
    except SettingsError as exc:
        typer.echo(f"annoplan: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # a bad URL, a missing driver, an unreachable database
        typer.echo(f"annoplan: ANNOPLAN_DATABASE_URL: cannot open the database ({exc})", err=True)
        raise typer.Exit(2) from None
    if not settings.api_keys:
        typer.echo("annoplan: warning: ANNOPLAN_API_KEYS is empty: every /v1 request will get 401", err=True)
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
    )
