"""A live server and Debian's chromium for the browser tests (and the screenshot script of the docs).

The server is the API app under uvicorn on a free loopback port, in a thread of the test process; the
browser is the system's chromium driven by the ``playwright`` package (Playwright's own browser downloads
are not used: ``make browser-tools`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import expect

from annoplan.api.app import create_app
from annoplan.api.settings import Settings

KEY = "web-test-key"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: where chromium is looked for when ANNOPLAN_CHROMIUM does not name it
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    """The chromium executable: ``ANNOPLAN_CHROMIUM``, else the first of :data:`CHROMIUM_NAMES` on PATH."""
    given = os.environ.get("ANNOPLAN_CHROMIUM")
    if given:
        return given
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def live_server(database: Path) -> Iterator[str]:
    """The app over an SQLite file at ``database``, served on 127.0.0.1; yields its base URL."""
    app = create_app(Settings(api_keys=(KEY,), database_url=f"sqlite:///{database}"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    while not server.started and thread.is_alive():
        started.wait(0.02)
    if not server.started:
        raise RuntimeError("the test server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
        app.state.storage.dispose()


def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium under Playwright, headless (``--no-sandbox``: containers run it as root)."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(
            "chromium is not installed: `make browser-tools` installs Debian's chromium "
            "(or set ANNOPLAN_CHROMIUM to a chromium executable)"
        )
    return playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])


def plan_example(page: Any, base_url: str, **fields: str) -> str:
    """Open the page at ``base_url``, set the key, upload ``examples/plan.json``, fill ``fields`` (input id:
    value) and plan; returns the plan's id once the page shows it."""
    page.goto(base_url + "/")
    page.fill("#api-key", KEY)
    page.click("#save-key")
    page.set_input_files("#pilot-file", str(EXAMPLES / "plan.json"))
    expect(page.locator("#pilot-status")).to_contain_text("4 rounds")
    for field, value in fields.items():
        page.fill(f"#{field}", value)
    page.click("#plan-button")
    return wait_for_plan(page, previous=None)


def wait_for_plan(page: Any, previous: str | None) -> str:
    """The id of the plan the page shows once it is another than ``previous``."""
    # (the page's Content-Security-Policy forbids eval, so the wait is a locator's, not a JS predicate)
    other = "" if previous is None else f"(?!{re.escape(previous)}\\))"
    shown = re.compile(rf"Planned \(plan {other}[0-9a-f]+\)")
    expect(page.locator("#status")).to_have_text(shown, timeout=120_000)
    status = page.text_content("#status") or ""
    return status.split("plan ", 1)[1].rstrip(").")
