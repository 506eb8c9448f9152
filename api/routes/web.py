"""The one-page web planner: ``GET /`` and its assets under ``/web/``, without a key.

The page is static (HTML, one script, one style sheet, shipped in the package as :mod:`api.web`). It asks
for an API key, keeps it in the browser's session storage and makes every call through the ``/v1`` API,
like any other client. Every answer carries a strict Content-Security-Policy: scripts, styles and fetches
from this origin only, no inline script or style, no frames, no plugins, no form posts elsewhere.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Response

from annoplan.api.problems import ProblemError

router = APIRouter(include_in_schema=False)

#: the package holding the page (api.web, found relative to this one wherever the api package is installed)
WEB_PACKAGE = __name__.rsplit(".", 2)[0] + ".web"

#: the page's policy: nothing but this origin's own script, style and API; images only as data: URLs
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
#: the assets served under /web/, by name: their media types
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


@cache
def asset_bytes(name: str) -> bytes:
    """The bytes of the packaged file ``name`` of :mod:`api.web`."""
    return files(WEB_PACKAGE).joinpath(name).read_bytes()


def _page(name: str, media_type: str) -> Response:
    return Response(asset_bytes(name), media_type=media_type, headers=SECURITY_HEADERS)


@router.get("/")
def index() -> Response:
    """The planner page."""
    return _page("index.html", "text/html; charset=utf-8")


@router.get("/web/{name}")
def asset(name: str) -> Response:
    """One of the page's :data:`ASSETS` (anything else is a 404)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise ProblemError("not-found", f"no web asset named {name!r}")
    return _page(name, media_type)
