"""``annoplan web``: the planner page on 127.0.0.1, opened in the browser."""

from __future__ import annotations

import secrets
import threading
import webbrowser
from typing import Annotated

import typer

from annoplan.api.settings import SettingsError, get_settings


def web_command(
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port on 127.0.0.1")] = 8000,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="open the page in the default browser")
    ] = True,
    log_level: Annotated[str, typer.Option(help="uvicorn log level: debug, info, warning")] = "warning",
) -> None:
    """Serve the one-page web planner on 127.0.0.1 and open it in the browser."""
    import uvicorn

    from annoplan.api.app import create_app

    try:
        settings = get_settings()
        key = None
        if not settings.api_keys:
            # a key for this run only: printed here, typed into the page, kept in the tab's session storage
            key = secrets.token_urlsafe(24)
            settings = settings.model_copy(update={"api_keys": (key,)})
        app = create_app(settings)
    except SettingsError as exc:
        typer.echo(f"annoplan: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # a bad URL, a missing driver, an unreachable database
        typer.echo(f"annoplan: ANNOPLAN_DATABASE_URL: cannot open the database ({exc})", err=True)
        raise typer.Exit(2) from None
    url = f"http://127.0.0.1:{port}/"
    typer.echo(f"annoplan web: {url}  (Ctrl-C stops it)", err=True)
    if key is not None:
        typer.echo(f"API key for this run (paste it into the page): {key}", err=True)
    else:
        typer.echo("API key: one of ANNOPLAN_API_KEYS", err=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    if open_browser:

        def open_when_started() -> None:
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=open_when_started, daemon=True).start()
    server.run()
