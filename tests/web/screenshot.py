"""The planner page's screenshot in docs/: ``python -m tests.web.screenshot docs/web-planner.png``.

Plans the bundled example in Debian's chromium against a throwaway server (as the browser tests do) and saves
the page's top (the form and the plan) as a PNG, shown in the README and in docs/web-planner.md.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.web.live import launch_chromium, live_server, plan_example


def take_screenshot(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder) / "annoplan.db") as base_url:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1240, "height": 1000}, device_scale_factor=1)
            plan_example(page, base_url)
            page.locator("#result").scroll_into_view_if_needed()
            page.locator("#result").screenshot(path=str(out))
            browser.close()


if __name__ == "__main__":
    take_screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/web-planner.png"))
