"""The documentation pages work offline: /docs (Swagger UI) and /redoc reference no other host, and the
scripts, styles and icon they load are served by the app itself, without an API key."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

#: what a page loads: the targets of src= and href= attributes
LOADED = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def loaded_urls(client: TestClient, page: str) -> list[str]:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "://" not in response.text, "the page names another host"
    urls = LOADED.findall(response.text)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    return urls


@pytest.mark.parametrize(
    ("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]
)
def test_a_documentation_page_loads_only_assets_the_app_serves(
    client: TestClient, page: str, script: str
) -> None:
    urls = loaded_urls(client, page)
    assert any(url.endswith(script) for url in urls)
    kinds = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert asset.headers["content-type"].startswith(kinds[suffix]), url
        assert len(asset.content) > 1000, url


def test_the_swagger_ui_served_reads_the_openapi_version_of_the_document(client: TestClient) -> None:
    version = client.get("/openapi.json").json()["openapi"]
    assert version.startswith("3.1")
    [script] = [url for url in loaded_urls(client, "/docs") if url.endswith("swagger-ui-bundle.js")]
    bundle = client.get(script).text
    assert "SwaggerUIBundle" in bundle
    assert "openapi: 3.1.x" in bundle  # Swagger UI 5: renders OpenAPI 3.1 (4.x shows a blank error)


def test_an_unknown_asset_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/docs/assets/missing.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
