"""Numbers on a petition page are written the same way by the server and by the browser after a live
update, in every language: thousands separators (and CLDR's "no separator in four digits" in Polish,
Spanish, Italian...), percentages, and Portugal's Portuguese rather than Brazil's."""

import pytest
from playwright.sync_api import expect

from petition import live
from petition.extensions import db
from petition.i18n import SUPPORTED_LOCALES, bcp47
from petition.services import counting
from petition.timeutil import utcnow

pytestmark = pytest.mark.browser

# Four, five and seven digits, shares over 1,000 % and under 1 %.
COUNTS = {"DE": 1234, "FR": 12345, "IT": 1_000_000, "PL": 9999, "ES": 10000, "SI": 5}

SNAPSHOT = """() => {
  const texts = (selector) => [...document.querySelectorAll(selector)].map(e => e.textContent.trim());
  return {
    total: document.querySelector("p.total").textContent.trim(),
    reached: document.querySelector("#countries-reached").textContent.trim(),
    rows: [...document.querySelectorAll("tbody tr")].map(r => [r.dataset.country,
      ...[...r.querySelectorAll(".figure")].map(e => e.textContent), !r.querySelector('[data-live="reached"]').hidden]),
    tiles: texts('svg.tiles [data-live="tile-share"]'),
  };
}"""


@pytest.mark.sqlite_only  # numbers do not depend on the database
def test_the_server_and_the_browser_write_numbers_alike_in_every_language(app, live_server, browser, petition_id):
    # A context each: a browser opens at most six connections to one site, and each page holds one open
    # for its event stream.
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in SUPPORTED_LOCALES]
    try:
        pages = {}
        for locale, context in zip(SUPPORTED_LOCALES, contexts, strict=True):
            page = context.new_page()
            page.set_default_timeout(10_000)
            page.goto(f"{live_server.url}/p/demo?lang={bcp47(locale)}")
            pages[locale] = page
        with app.app_context():
            for code, n in COUNTS.items():
                counting.add(db.session, petition_id, code, n, utcnow())
            db.session.commit()
            live.announce(petition_id)
        total = sum(COUNTS.values())
        for locale, page in pages.items():
            # The live figures: written by live.js with Intl.NumberFormat.
            expect(page.locator('[data-live="total"]')).not_to_have_text("0", timeout=10_000)
            expect(page.locator('[data-live="countries-reached"]')).to_have_text("1")
            live_figures = page.evaluate(SNAPSHOT)
            # The same figures written by the server: reloaded without the live feed, else live.js could
            # write them over before they are read (its first event comes at once).
            page.route("**/api/v1/petitions/**", lambda route: route.abort())
            page.reload()
            served = page.evaluate(SNAPSHOT)
            assert live_figures == served, f"{locale}: the browser and the server write numbers differently"
        assert pages["pl"].locator('tr[data-country="DE"] [data-live="count"]').text_content() == "1234"
        assert pages["pl"].locator('[data-live="total"]').inner_text() == f"{total:,}".replace(",", "\u00a0")
        assert pages["pt"].locator('tr[data-country="DE"] [data-live="count"]').text_content() == "1234"
        assert pages["pt"].locator('tr[data-country="CZ"] th').text_content() == "Chéquia"
        assert pages["de"].locator('tr[data-country="DE"] [data-live="count"]').text_content() == "1.234"
        assert pages["de"].locator('tr[data-country="IT"] [data-live="share"]').text_content() == "1.827,4\u00a0%"
    finally:
        for context in contexts:
            context.close()
