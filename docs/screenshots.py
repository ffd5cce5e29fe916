"""Screenshots of the dashboard for docs/dashboard.md: docs/dashboard/*.png.

Run: .venv/bin/python docs/screenshots.py
Seeds a store with a month of questions (tests/dashboard_seed.py: the default pack's own
labelled questions, decided by the bot, on Telegram and Discord), serves the dashboard on a
free loopback port and photographs each page in Debian's Chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402 - after the path set-up

from factbot.settings import Settings, default_facts  # noqa: E402
from tests.dashboard_seed import seed, serving  # noqa: E402
from tests.test_dashboard_browser import ARGS, CHROMIUM  # noqa: E402

OUT = ROOT / "docs" / "dashboard"
WIDTH = 1280
MAX_HEIGHT = 2000  # the long pages are cut here: enough to see what they show
PAGES = (
    ("overview", "/?days=30"),
    ("unanswered", "/unanswered?days=30"),
    ("try", "/try?q=when+is+the+next+blackpink+concert"),
    ("try-answered", "/try?q=is+k-pop+popular+in+malaysia"),
    ("health", "/health"),
    ("accuracy", "/accuracy"),
)


def demo_facts(folder: Path) -> Settings:
    """The default packs with one fact of /hallyu left out, as a curator's pack in progress
    might be: Pack health then has a sentence no fact reaches to show."""
    import shutil

    import yaml

    shutil.copytree(default_facts(), folder, dirs_exist_ok=True)
    for path in folder.glob("*/pack.yaml"):
        data = yaml.safe_load(path.read_text("utf-8"))
        for topic in data["topics"]:
            if topic["command"] == "hallyu":
                topic["facts"] = topic["facts"][:-1]
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return Settings(facts=folder)


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = demo_facts(Path(tmp) / "facts")
        await shoot(settings)


async def shoot(settings: Settings) -> None:
    seeded = await seed(settings=settings)
    async with serving(seeded.store, settings=settings) as url, async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(viewport={"width": WIDTH, "height": 900})
        for name, path in PAGES:
            await page.goto(url + path)
            height = await page.evaluate("document.documentElement.scrollHeight")
            await page.screenshot(path=str(OUT / f"{name}.png"), full_page=True,
                                  clip={"x": 0, "y": 0, "width": WIDTH,
                                        "height": min(height, MAX_HEIGHT)})
            print(OUT / f"{name}.png")
        await browser.close()
    async with serving(seeded.store, token="a-token", settings=settings) as url, \
            async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(viewport={"width": WIDTH, "height": 420})
        await page.goto(url + "/login")
        await page.fill("#token", "a wrong one")
        await page.click("button[type=submit]")
        await page.wait_for_selector("p.error")
        await page.screenshot(path=str(OUT / "login.png"))
        print(OUT / "login.png")
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
