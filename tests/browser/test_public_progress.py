"""The petition page in Chromium: the ECI picture (total, countries at their threshold, the map and the
table) moves live, reads on a desk and on a phone, and keeps the form within reach."""

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_no_axe_violations, require_axe
from tests.helpers.organisers import PASSWORD

pytestmark = pytest.mark.browser

GERMANY_THRESHOLD = 69_120  # 96 seats x 720


def log_in(browser, live_server, email="owner@example.org"):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/organiser/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/organiser/")
    return context, page


def test_a_paper_count_pushes_a_country_over_its_threshold_and_the_open_page_shows_it_live(
    live_server, browser, page, traffic, petition_id, make_organiser, confirmed_signature
):
    make_organiser("owner@example.org", petition_id, "owner")
    confirmed_signature(petition_id, "ana@example.org", "FR")
    page.goto(f"{live_server.url}/p/demo")
    reached = page.locator('[data-live="countries-reached"]')
    germany_tile = page.locator('svg.tiles g[data-country="DE"]')
    germany_row = page.locator('tr[data-country="DE"]')
    expect(reached).to_have_text("0")
    headline = page.locator("#countries-reached").inner_text()
    assert headline == "Countries that reached their threshold: 0 of the 7 needed"
    assert germany_tile.get_attribute("class") == "s0"
    assert page.locator("tbody tr").first.get_attribute("data-country") == "FR", "sorted by progress"
    page.evaluate("window.sameDocument = true")

    organiser, paper_page = log_in(browser, live_server)
    paper_page.goto(f"{live_server.url}/organiser/p/demo/paper")
    paper_page.select_option("#country", "DE")
    paper_page.fill("#count", str(GERMANY_THRESHOLD - 1))
    paper_page.fill("#note", "market stalls, Berlin")
    with paper_page.expect_navigation():
        paper_page.get_by_role("button", name="Record", exact=True).click()
    expect(paper_page.get_by_role("status")).to_have_text("Recorded.")

    # One short: 99.9 %, blue, not reached.
    expect(germany_row.locator('[data-live="share"]')).to_have_text("99.9%", timeout=8_000)
    assert germany_tile.get_attribute("class") == "s4"
    assert germany_tile.locator('[data-live="tile-share"]').text_content() == "99%"
    expect(reached).to_have_text("0")
    expect(germany_row.locator('[data-live="reached"]')).to_be_hidden()

    paper_page.select_option("#country", "DE")
    paper_page.fill("#count", "1")
    with paper_page.expect_navigation():
        paper_page.get_by_role("button", name="Record", exact=True).click()

    expect(reached).to_have_text("1", timeout=8_000)
    expect(germany_tile).to_have_attribute("class", "reached")
    assert germany_tile.locator('[data-live="tile-share"]').text_content() == "100%"
    expect(germany_row.locator('[data-live="share"]')).to_have_text("100.0%")
    assert germany_row.locator('[data-live="reached"]').get_attribute("hidden") is None
    assert page.locator('[data-live="total"]').inner_text() == "69,121"
    assert page.evaluate("document.querySelector('[data-live=\"countries-bar\"]').value") == 1
    assert page.locator("tbody tr").first.get_attribute("data-country") == "DE", "the table follows the progress"
    assert page.evaluate("window.sameDocument") is True, "the page was not reloaded"
    assert traffic.foreign(live_server) == []
    assert traffic.console_errors == []
    organiser.close()


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_public_map_reads_on_a_desk_and_on_a_phone(
    i18n_page, i18n_live_url, petition_id, confirmed_signature, width, height
):
    require_axe()
    for i, country in enumerate(["DE", "DE", "FR", "MT"]):
        confirmed_signature(petition_id, f"s{i}@example.org", country)
    page = i18n_page(width=width, height=height)
    page.goto(f"{i18n_live_url}/p/demo")

    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    tiles = page.locator("svg.tiles")
    box = tiles.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert box["width"] >= min(380, width - 40), "the map is not shrunk to a stamp"
    assert tiles.locator("g[data-country]").count() == 27
    # The figures lead: total and countries side by side above the map, the map above the text.
    total = page.locator("p.total").bounding_box()
    countries = page.locator("#countries-reached").bounding_box()
    body = page.locator("div.body").bounding_box()
    assert total["y"] < box["y"] and countries["y"] < box["y"] and box["y"] < body["y"]
    # The table is the map's alternative, closed at first.
    assert page.locator("details.countries").get_attribute("open") is None
    form = page.locator("form.sign-form")
    if width >= 1000:
        assert countries["y"] == pytest.approx(total["y"], abs=2), "total and countries side by side"
        form_box = form.bounding_box()
        assert form_box["x"] > box["x"] + box["width"] and form_box["y"] < height, "the form beside the text"
        expect(page.locator(".sign-jump a")).to_be_hidden()
    else:
        jump = page.get_by_role("link", name="Sign this petition")
        assert jump.bounding_box()["y"] + jump.bounding_box()["height"] < height, "the Sign link is on the first screen"
        assert jump.bounding_box()["height"] >= 44
        jump.click()
        expect(form).to_be_in_viewport()
    assert_no_axe_violations(page)
    page.locator("details.countries summary").click()
    rows = page.locator("tbody tr")
    assert rows.first.get_attribute("data-country") == "MT", "Malta's 1 of 4,320 is ahead of Germany's 2 of 69,120"
    assert page.locator('tr[data-country="MT"] [data-live="share"]').inner_text() == "0.0%"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_no_axe_violations(page)
