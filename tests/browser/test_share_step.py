"""The thanks page in Chromium: on an ECI, the way to sign officially; then the share step, whose links
are plain and whose copy button puts the petition's address on the clipboard. No other host is asked
for anything, and axe finds nothing."""

import re

import pytest
from playwright.sync_api import expect

from petition.extensions import db
from petition.models import Petition
from tests.browser.axe import assert_no_axe_violations, require_axe

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("compiled_catalogues")]

OFFICIAL_URL = "https://eci.ec.europa.eu/045/public/"


@pytest.fixture
def official_petition(app, petition_id):
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        petition.organiser_name = "Reclaim Your Face coalition"
        petition.organiser_contact = "info@reclaim.example"
        petition.eci_registration_number = "ECI(2024)000004"
        petition.eci_signing_url = OFFICIAL_URL
        db.session.commit()
    return petition_id


def sign_and_confirm(page, base: str, outbox, address="ana@example.org") -> None:
    page.goto(f"{base}/p/demo")
    page.fill("#first_name", "Ana")
    page.fill("#last_name", "Kovač")
    page.fill("#email", address)
    page.select_option("#country", "DE")
    page.check("#eligible")
    page.check("#consent")
    page.locator("form.sign-form button[type=submit]").click()
    page.wait_for_url("**/check-email**")
    outbox.deliver()
    page.goto(base + outbox.confirm_path(address))
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", name="Thank you: your signature is confirmed")).to_be_visible()


def test_the_thanks_page_sends_an_eci_signer_to_sign_officially_and_offers_plain_share_links(
    app, official_petition, live_server, browser, traffic, outbox
):
    require_axe()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.on("request", lambda request: traffic.urls.append(request.url))
    context.on("console", traffic.on_console)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/p/demo")
        expect(page.get_by_text("Organised by Reclaim Your Face coalition.")).to_be_visible()
        sign_and_confirm(page, live_server.url, outbox)

        expect(page.get_by_role("heading", name="Now sign officially")).to_be_visible()
        official = page.get_by_role("link", name="Give your official statement of support on the Commission's site")
        expect(official.first).to_have_attribute("href", OFFICIAL_URL)

        expect(page.get_by_role("heading", name="Pass it on")).to_be_visible()
        address = f"{live_server.url}/p/demo?source=share-link"
        expect(page.get_by_label("Link to the petition")).to_have_value(address)
        page.get_by_role("button", name="Copy link").click()
        expect(page.locator("[data-copy-status]")).to_have_text("Link copied")
        assert page.evaluate("navigator.clipboard.readText()") == address

        links = page.locator(".share-links a")
        names = [links.nth(i).inner_text() for i in range(links.count())]
        assert names == ["Send by email", "WhatsApp", "Telegram", "Facebook", "Bluesky", "X", "LinkedIn", "Reddit"]
        assert page.locator(".share-links a").first.get_attribute("href").startswith("mailto:?subject=")

        widest = page.evaluate("document.documentElement.scrollWidth")
        assert widest <= 390, f"the thanks page scrolls sideways on a phone ({widest} px)"
        assert_no_axe_violations(page)
        assert traffic.foreign(live_server) == [], "a share link or the page asked another host for something"
        assert traffic.console_errors == []
    finally:
        context.close()


def test_without_scripts_the_link_is_still_there_to_copy_by_hand(app, petition_id, live_server, browser, outbox):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_and_confirm(page, live_server.url, outbox)
        expect(page.get_by_label("Link to the petition")).to_have_value(re.compile(r"/p/demo\?source=share-link$"))
        expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
    finally:
        context.close()
