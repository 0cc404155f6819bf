"""Browser fixtures: the app on a live local server, and Debian's Chromium driven by Playwright.

Never `playwright install`: the system browser is used through executable_path. Tests here skip
when /usr/bin/chromium is missing (fail under REQUIRE_TEST_SERVICES=1)."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import missing_service
from tests.helpers.live_server import LiveServer

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        missing_service(f"browser tests need Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


class Traffic:
    """Every request the pages of one browser context made, and what the console complained about."""

    def __init__(self):
        self.urls: list[str] = []
        self.console_errors: list[str] = []
        self.failed: list[tuple[int, str]] = []

    def on_console(self, message) -> None:
        source = message.location.get("url") or ""
        # Chromium asks every site for /favicon.ico on its own; the app has none (yet), a 404 is expected.
        if message.type == "error" and not source.endswith("/favicon.ico"):
            self.console_errors.append(f"{message.text} at {source}")

    def foreign(self, server: LiveServer) -> list[str]:
        return [url for url in self.urls if urlsplit(url).netloc != server.host]


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def browser_context(browser, traffic):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.on("request", lambda request: traffic.urls.append(request.url))
    context.on("response", lambda r: traffic.failed.append((r.status, r.url)) if r.status >= 400 else None)
    context.on("console", traffic.on_console)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


@pytest.fixture
def i18n_live_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def i18n_page(browser):
    """page(width=..., locale=...) -> a fresh page in its own context (no cookies shared between tests)."""
    contexts = []

    def make(width: int = 1024, height: int = 900, locale: str = "en-GB"):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()
