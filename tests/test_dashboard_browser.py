"""The dashboard in a real browser: Debian's Chromium, driven by Playwright.

Every page is opened on a store holding a month of questions (tests/dashboard_seed.py);
the charts are drawn (their points counted), a question is typed into "Try a question",
"Copy YAML" runs the one script under the Content-Security-Policy, and a wrong token is
refused. Without /usr/bin/chromium or the playwright package the tests skip, saying why;
with FACTBOT_REQUIRE_SERVICES=1 (.ci/run) that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from factbot.dashboard import views
from factbot.settings import Settings
from tests.conftest import missing_service
from tests.dashboard_seed import DAYS, PLATFORMS, Seeded, seed, serving

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

# Debian's Chromium (playwright cannot download its own here); FACTBOT_TEST_CHROMIUM names
# another build of it.
CHROMIUM = os.environ.get("FACTBOT_TEST_CHROMIUM") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "browser-token-" + "q9" * 12


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if importlib.util.find_spec("playwright") is None:
        missing_service("the playwright package is not installed (make installs it with "
                        "the test extra)")
    if not os.access(CHROMIUM, os.X_OK):
        missing_service(f"no browser at {CHROMIUM}: apt-get install chromium (make test "
                        f"does it where it runs as root), or set FACTBOT_TEST_CHROMIUM")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="module")
def loaded() -> views.Loaded:
    return views.load(Settings())


@pytest.fixture
async def seeded() -> Seeded:
    return await seed()


async def open_page(browser: Browser) -> tuple[Page, list[str]]:
    """A fresh page, and the errors its console reports (a CSP violation is one)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


async def points(page: Page, chart: str, series: str) -> int:
    selector = f'{chart} svg.chart g.series[data-series="{series}"] :is(circle, rect)'
    return await page.locator(selector).count()


async def test_every_page_in_chromium(browser: Browser, seeded: Seeded,
                                      loaded: views.Loaded) -> None:
    async with serving(seeded.store) as url:
        page, errors = await open_page(browser)

        await page.goto(f"{url}/?days=30")
        assert await page.locator("h1").inner_text() == "Overview"
        for platform in PLATFORMS:
            assert await points(page, "#asked-chart", platform) == DAYS
        for outcome in ("answered", "“I don't know”", "“Not what I asked”"):
            assert await points(page, "#outcome-chart", outcome) == DAYS
        box = await page.locator("#asked-chart svg.chart").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 80
        # The drawn line goes through one point a day: its first and last are apart.
        line = page.locator('#asked-chart g.series[data-series="telegram"] polyline')
        assert len((await line.get_attribute("points") or "").split()) == DAYS
        assert await page.locator("table.top-topics tbody tr").count() > 0
        await page.click("text=7 days")
        assert await points(page, "#asked-chart", "telegram") == 7

        await page.click("nav >> text=Unanswered")
        groups = page.locator("article.group")
        assert await groups.count() > 3
        concert = groups.filter(has_text="blackpink concert kl when")
        assert "keywords: [concert]" in await concert.locator("pre.yaml").inner_text()
        # The one script, served under the CSP: the button copies and says so.
        await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        button = concert.locator("button.copy")
        await button.click()
        await page.wait_for_function(
            "b => b.textContent === 'Copied'", arg=await button.element_handle())
        copied = await page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("- command: hallyu\n  keywords: [concert]")

        await page.click("nav >> text=Pack health")
        topics = [t for p in loaded.report.packs for t in p.topics]
        assert await page.locator("table.topics tbody tr").count() == len(topics)
        assert "OK" in await page.locator("p.verdict").inner_text()

        await page.click("nav >> text=Accuracy")
        # Three runs of the seed and the evaluation of this start.
        assert await points(page, ".accuracy-chart", "on-topic top-1") == 4
        assert await page.locator("table.runs tbody tr").count() == 4

        await page.click("button:has-text('Reload packs')")
        await page.wait_for_selector("p.message")
        assert "Reloaded 1 pack(s)" in await page.locator("p.message").inner_text()
        assert await points(page, ".accuracy-chart", "on-topic top-1") == 5
        assert errors == []


async def test_try_a_question_shows_the_decision(browser: Browser, seeded: Seeded,
                                                 loaded: views.Loaded) -> None:
    cases: list[tuple[str, Any]] = [
        ("is k-pop popular in malaysia", loaded.bot.decide("is k-pop popular in malaysia")),
        ("when is the next blackpink concert",
         loaded.bot.decide("when is the next blackpink concert"))]
    assert cases[0][1].intent == "hallyu" and cases[1][1].intent is None
    async with serving(seeded.store) as url:
        page, errors = await open_page(browser)
        await page.goto(f"{url}/try")
        for text, decision in cases:
            await page.fill("#q", text)
            await page.press("#q", "Enter")
            await page.wait_for_selector("#decision")
            heading = await page.locator("#decision h2").inner_text()
            assert heading == (f"Answered: /{decision.intent}" if decision.intent
                               else "“I don't know”")
            assert await page.locator("table.candidates tbody tr").count() >= 1
            assert await page.locator("table.words tbody tr").count() >= 1
        assert await page.locator(".refused-by").inner_text() == "asks when"
        assert errors == []


async def test_a_wrong_token_is_refused_and_the_right_one_lets_in(browser: Browser,
                                                                   seeded: Seeded) -> None:
    async with serving(seeded.store, token=TOKEN) as url:
        page, _errors = await open_page(browser)
        await page.goto(f"{url}/")
        assert page.url == f"{url}/login"
        await page.fill("#token", "not-the-token")
        await page.click("button[type=submit]")
        await page.wait_for_selector("p.error")
        assert await page.locator("p.error").inner_text() == "That token is not right."
        assert await page.context.cookies() == []
        assert (await page.goto(f"{url}/health")) is not None and page.url == f"{url}/login"
        await page.fill("#token", TOKEN)
        await page.click("button[type=submit]")
        await page.wait_for_selector("h1:has-text('Overview')")
        cookies = await page.context.cookies()
        assert [(c["httpOnly"], c["sameSite"]) for c in cookies] == [(True, "Strict")]
        assert TOKEN not in cookies[0]["value"]
