"""The planner page over HTTP: served at / and /web/ without a key, with a strict Content-Security-Policy,
shipped as package data, and nothing inline or from another origin that the policy would have to allow."""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from annoplan.api.routes.web import ASSETS, CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parents[2]


class Tags(HTMLParser):
    """Every start tag of a page, with its attributes; the text inside script and style elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = tag

    def handle_data(self, data: str) -> None:
        if self._open in ("script", "style") and data.strip():
            self.inline.append(data)


def page_tags(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def test_the_page_and_its_assets_are_served_without_a_key_under_the_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    for name, media_type in ASSETS.items():
        asset = client.get(f"/web/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"] == media_type
    for response in [page, *(client.get(f"/web/{name}") for name in ASSETS)]:
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_the_policy_allows_no_inline_script_eval_or_other_origin() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == directives["style-src"] == directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == directives["base-uri"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/web/index.html", "/web/__init__.py", "/web/..%2Fapp.py", "/web/"])
def test_only_the_listed_assets_are_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_page_needs_nothing_inline_or_from_elsewhere(client: TestClient) -> None:
    tags = page_tags(client.get("/").text)
    assert tags.inline == []  # no inline script or style the policy would block
    sources: list[str] = []
    for tag, attrs in tags.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)  # no inline handlers
        assert "style" not in attrs, tag
        for attribute in ("src", "href", "action"):
            source = attrs.get(attribute)
            if source:
                sources.append(source)
    assert sorted(sources) == ["/web/app.js", "/web/charts.js", "/web/style.css", "data:,"]
    for name in ASSETS:
        text = client.get(f"/web/{name}").text
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), name  # no CDN, offline
    script = client.get("/web/app.js").text
    assert "innerHTML" not in script and "eval(" not in script and "localStorage" not in script


def test_every_call_of_the_page_goes_to_the_v1_api(client: TestClient) -> None:
    script = client.get("/web/app.js").text
    called = set(re.findall(r'api\("(?:GET|POST)", [`"](/[^`"$]*)', script))
    called |= set(re.findall(r"download\(`(/[^`$]*)", script))
    assert called and all(path.startswith("/v1/") for path in called), called
    assert script.count("fetch(") == 1  # one function makes every request, with the key header


def test_the_assets_ship_as_package_data() -> None:
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = package_data["annoplan.api.web"]
    shipped = {p.name for p in files("annoplan.api.web").iterdir() if p.name != "__init__.py" and p.is_file()}
    assert shipped >= {"index.html", *ASSETS}
    assert all(any(Path(name).match(pattern) for pattern in patterns) for name in shipped)


def test_the_page_is_not_in_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/web") for p in paths)
