"""In Chromium: an organiser logs in, opens the dashboard, and sees a signature confirmed elsewhere
counted without reloading the page."""

import time

import pytest
from playwright.sync_api import expect

from tests.helpers.organisers import PASSWORD

pytestmark = pytest.mark.browser


def test_the_dashboard_counts_a_confirmation_live_without_reloading(
    app, live_server, browser, petition_id, make_organiser, pending_signature, outbox
):
    make_organiser("owner@example.org", petition_id, "owner")
    pending_signature(petition_id, "ana@example.org", "DE")
    outbox.deliver()
    confirm_path = outbox.confirm_path("ana@example.org")

    organiser = browser.new_context()
    page = organiser.new_page()
    page.goto(f"{live_server.url}/organiser/login")
    page.fill("#email", "owner@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/organiser/")
    page.click("text=Ban biometric mass surveillance")
    page.wait_for_url(f"{live_server.url}/organiser/p/demo")
    total = page.locator('[data-figure="total"]')
    assert total.inner_text() == "0"
    assert page.locator('[data-figure="pending"]').inner_text() == "1"
    page.evaluate("window.stillTheSamePage = true")

    signer = browser.new_context()  # someone else, in another browser
    confirm_page = signer.new_page()
    confirm_page.goto(f"{live_server.url}{confirm_path}")
    confirm_page.click("text=Confirm my signature")
    confirm_page.wait_for_selector("text=your signature is confirmed")
    confirmed_at = time.monotonic()

    # Playwright's own matcher: our Content-Security-Policy rightly forbids evaluating strings as code.
    expect(total).to_have_text("1", timeout=2000)
    seen_after = time.monotonic() - confirmed_at
    assert page.locator('[data-figure="pending"]').inner_text() == "0"
    assert page.locator('tr[data-country="DE"] [data-figure="country-total"]').inner_text() == "1"
    assert page.evaluate("window.stillTheSamePage") is True, "the page was not reloaded"
    assert seen_after < 2.0
    organiser.close()
    signer.close()
