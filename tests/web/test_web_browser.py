"""The planner page in a real browser (Debian's chromium under Playwright) against a live server: upload the
bundled pilot, read the recommendation and the charts, change a price and see the plan move, download the
workbook, quote, report actuals, and render hostile names as text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.web.live import KEY, launch_chromium, live_server, plan_example, wait_for_plan

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_NOTES = "<script>alert(2)</script> & <b>bold</b>"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("web") / "annoplan.db") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab that records dialogs and console errors (a Content-Security-Policy violation is one)."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1800})
    page = context.new_page()
    page.dialogs = []
    page.console_errors = []

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()


def stored(base_url: str, path: str) -> Any:
    response = httpx.get(base_url + path, headers={"X-API-Key": KEY})
    response.raise_for_status()
    return response.json()


def shown_money(value: str, currency: str) -> str:
    return f"{float(value):,.2f} {currency}"


def test_the_bundled_pilot_plans_draws_its_charts_and_a_price_change_replans(
    page: Any, base_url: str, tmp_path: Path
) -> None:
    plan_id = plan_example(page, base_url)
    plan = stored(base_url, f"/v1/plans/{plan_id}")
    rec = plan["recommendation"]
    assert page.text_content("#rec-strategy") == rec["strategy"] == "hybrid"
    assert page.text_content("#rec-cost") == shown_money(rec["cost"]["p50"], "USD")
    assert page.locator("#reasons li").all_text_contents() == rec["reasons"]
    assert page.locator("#strategies tbody tr").count() == len(plan["strategies"])
    assert page.input_value("#pool_size") == "50000"  # the uploaded request filled the form

    # the charts are drawn: the curve's band, P50 line and the 4 pilot points; a range per strategy; the
    # threshold trade-off's three lines
    assert page.locator("#chart-curve polygon").count() == 1
    assert page.locator("#chart-curve .series-points circle").count() == 4
    assert page.locator("#chart-costs g.range").count() == len(plan["strategies"])
    assert page.locator("#chart-thresholds polyline").count() == 3
    box = page.locator("#chart-curve").bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    assert (tmp_path / "page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # a dearer correction re-plans without a click, through the API, and the page shows the new plan
    page.fill("#cost_correction", "1.40")
    page.dispatch_event("#cost_correction", "change")
    new_id = wait_for_plan(page, previous=plan_id)
    replanned = stored(base_url, f"/v1/plans/{new_id}")
    assert replanned["costs"]["correction"] == 1.4
    new_cost = replanned["recommendation"]["cost"]["p50"]
    assert float(new_cost) > float(rec["cost"]["p50"])
    assert page.text_content("#rec-cost") == shown_money(new_cost, "USD")

    # the workbook downloads through the API and opens
    with page.expect_download() as download:
        page.click("#download-plan")
    path = tmp_path / "plan.xlsx"
    download.value.save_as(str(path))
    workbook = openpyxl.load_workbook(path)
    assert {"Summary", "Assumptions", "Strategies"} <= set(workbook.sheetnames)
    summary = [str(c.value) for row in workbook["Summary"].iter_rows() for c in row if c.value is not None]
    assert "Handwritten digits: label the backlog" in summary
    assert page.dialogs == [] and page.console_errors == []


def test_a_quote_and_actuals_from_the_page(page: Any, base_url: str) -> None:
    plan_id = plan_example(page, base_url)
    page.fill("#vendor", "Example Labeling Co.")
    page.click("#quote-button")
    expect(page.locator("#status")).to_contain_text("Quoted", timeout=120_000)
    listed = stored(base_url, "/v1/quotes?limit=1")["items"][0]
    quote = stored(base_url, f"/v1/quotes/{listed['id']}")
    facts = page.locator("#quote-result dd").all_text_contents()
    assert shown_money(quote["price_per_correction"], "USD") in facts
    assert page.is_visible("#download-quote")

    page.fill("#actuals", "round,human_labels,cost,corrections\n1,500,180.00,40\n2,1000,400.00,75")
    page.click("#actuals-button")
    expect(page.locator("#status")).to_contain_text("Actuals reported", timeout=120_000)
    tracked = stored(base_url, f"/v1/plans/{plan_id}/actuals")
    assert tracked["rounds"] == 2
    assert page.text_content("#tracking-status").startswith(tracked["status"].replace("_", " "))
    assert page.locator("#advice li").all_text_contents() == tracked["advice"]
    assert page.locator("#chart-burnup .series-points circle").count() == 2
    assert page.dialogs == [] and page.console_errors == []


def test_hostile_names_render_as_text(page: Any, base_url: str) -> None:
    plan_id = plan_example(page, base_url, name=HOSTILE_NAME, notes=HOSTILE_NOTES)
    assert stored(base_url, f"/v1/plans/{plan_id}")["name"] == HOSTILE_NAME
    assert page.text_content("#plan-name") == HOSTILE_NAME
    assert page.text_content("#plan-notes") == HOSTILE_NOTES
    assert page.locator("img").count() == 0
    assert page.locator("#result script, #result b").count() == 0
    assert page.dialogs == [] and page.console_errors == []


def test_the_key_stays_in_the_tab_session(page: Any, base_url: str) -> None:
    page.goto(base_url + "/")
    page.fill("#api-key", KEY)
    page.click("#save-key")
    stored_where = page.evaluate(
        "() => [sessionStorage.getItem('annoplan.apiKey'), localStorage.length, document.cookie]"
    )
    assert stored_where == [KEY, 0, ""]
    page.click("#forget-key")
    assert page.evaluate("() => sessionStorage.getItem('annoplan.apiKey')") is None
    # without a key the API's 401 reaches the page as its problem detail
    page.set_input_files(
        "#pilot-file",
        files=[
            {
                "name": "pilot.json",
                "mimeType": "application/json",
                "buffer": json.dumps({"rounds": []}).encode(),
            }
        ],
    )
    expect(page.locator("#status")).to_have_text(re.compile(r"^401: "))
