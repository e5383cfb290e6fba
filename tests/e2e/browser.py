"""A real browser for the back office stories: Debian's chromium driven by Playwright.

Never `playwright install`: the tests use /usr/bin/chromium (`apt-get install chromium`, done by
.ci/run). When it is missing the story fails with that sentence instead of being skipped.
Screenshots go to $PALABRE_SCREENSHOTS, else to pytest's temporary folder; the run lists them
(the `screenshots` fixture of tests/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = Path(os.environ.get("PALABRE_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def check_basics(page: Page) -> None:
    """The RGAA basics a page can fail on: its language, one main heading, a label for every field."""
    assert await page.locator("html").get_attribute("lang") in ("fr", "en")
    assert await page.locator("h1").count() == 1
    fields = page.locator("main input:not([type=hidden]), main select, main textarea")
    for index in range(await fields.count()):
        field_id = await fields.nth(index).get_attribute("id")
        assert field_id and await page.locator(f"label[for='{field_id}']").count() == 1, f"unlabelled field on {page.url}"


async def shoot(page: Page, folder: Path, name: str) -> None:
    """The current page at a phone's width and a desktop's, whole height (after checking its basics)."""
    await check_basics(page)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)
