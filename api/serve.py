"""``annoplan serve``: run the HTTP API with uvicorn, its computations in a pool of worker processes."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from annoplan.api.computations import THREAD_VARIABLES
from annoplan.api.settings import SettingsError, get_settings

__all__ = ["THREAD_VARIABLES", "serve_command"]

WORKERS_HELP = (
    "computation processes (about one per core): one HTTP process takes every request and hands its plan, "
    "quote, fit or workbook to the next free one"
)


def serve_command(
    host: Annotated[str, typer.Option(help="interface to listen on (0.0.0.0: all)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help=WORKERS_HELP)] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level: debug, info, warning, error")] = "info",
) -> None:
    """Serve the HTTP API (settings from ANNOPLAN_API_KEYS, ANNOPLAN_DATABASE_URL, ...)."""
    import uvicorn

    from annoplan.api.app import create_app

    try:
        settings = get_settings().model_copy(update={"computation_processes": workers})
        app = create_app(settings)  # creates the tables
    except SettingsError as exc:
        typer.echo(f"annoplan: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # a bad URL, a missing driver, an unreachable database
        typer.echo(f"annoplan: ANNOPLAN_DATABASE_URL: cannot open the database ({exc})", err=True)
        raise typer.Exit(2) from None
    if not settings.api_keys:
        typer.echo("annoplan: warning: ANNOPLAN_API_KEYS is empty: every /v1 request will get 401", err=True)
    # one process serves HTTP (uvicorn's workers would each keep the connections they accepted); the
    # computation processes start with the app and stop with it
    # SIGTERM: stop accepting, give the requests in flight shutdown_seconds, then fail them and stop the
    # computation processes (a computation past its deadline is stopped anyway)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        proxy_headers=False,
        timeout_graceful_shutdown=math.ceil(settings.shutdown_seconds),
    )
