"""A real browser for the tests: Debian's Chromium, headless, driven by Playwright (no browser download)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@dataclass
class PageView:
    errors: list[str] = field(default_factory=list)  # console errors and uncaught page errors
    text: str = ""
    charts: int = 0  # svg or canvas elements with something drawn in them
    links: list[str] = field(default_factory=list)
    screenshot: Path | None = None


def view(url: str, screenshot_name: str, chart_selector: str = "svg, canvas",
         ready: Callable[[Page], None] | None = None, height: int = 1000) -> PageView:
    """Open `url`, wait for the network to settle (and for `ready`, for pages drawn after loading), and report
    what a person would see; keep a screenshot (of the whole page, or of a `height` tall window for apps that
    scroll inside it)."""
    seen = PageView()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": height})
            page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: seen.errors.append(str(error)))
            page.goto(url, wait_until="networkidle")
            if ready:
                ready(page)
            seen.text = page.inner_text("body")
            seen.charts = page.eval_on_selector_all(
                chart_selector, "els => els.filter(e => e.tagName === 'CANVAS' ? e.width > 0 : "
                                "e.querySelector('polyline, path, rect, circle') !== null).length")
            seen.links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
            seen.screenshot = ARTIFACTS / screenshot_name
            page.screenshot(path=str(seen.screenshot), full_page=True)
        finally:
            browser.close()
    return seen
