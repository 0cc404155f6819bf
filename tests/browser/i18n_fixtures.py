"""Fixtures for the language and accessibility browser tests: Debian's Chromium and a live server.

Registered as a plugin in tests/conftest.py, and named `i18n_*`, so that tests/browser/conftest.py
can grow its own fixtures without stepping on these."""

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import missing_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def i18n_chromium():
    """One browser for the session (never `playwright install`: Debian's Chromium is driven directly)."""
    if not CHROMIUM.exists():
        missing_service("browser tests need /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def i18n_live_url(app):
    """The app served on 127.0.0.1 at a free port, in a thread, for as long as the test runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def i18n_page(i18n_chromium):
    """page(width=..., locale=...) -> a fresh page in its own context (no cookies shared between tests)."""
    contexts = []

    def make(width: int = 1024, height: int = 900, locale: str = "en-GB"):
        context = i18n_chromium.new_context(viewport={"width": width, "height": height}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()
