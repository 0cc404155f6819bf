"""The signing loop in a real browser: sign, read the email, confirm, see the count, live."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def total_in_api(app) -> int:
    return app.test_client().get("/api/v1/petitions/demo").json["total"]


def fill_in_and_sign(page, email="ana@example.org"):
    page.get_by_label("First name").fill("Ana")
    page.get_by_label("Last name").fill("Kovač")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Nationality", exact=True).select_option("DE")
    page.get_by_label("I am a citizen of the member state I chose and old enough to sign there.").check()
    page.locator("#consent").check()
    page.get_by_role("button", name="Sign", exact=True).click()


def test_a_person_signs_confirms_by_email_and_is_counted(app, petition_id, live_server, page, traffic, outbox):
    page.goto(f"{live_server.url}/p/demo")
    expect(page.locator('[data-live="total"]')).to_have_text("0")

    fill_in_and_sign(page)
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    assert outbox.deliver() == 1
    [message] = outbox.to("ana@example.org")
    link = re.search(re.escape(live_server.url) + r"/confirm/[A-Za-z0-9._-]+", outbox.text_of(message)).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your signature")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm my signature")).to_be_visible()
    assert total_in_api(app) == 0, "opening the link counts nothing"

    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", name="Thank you: your signature is confirmed")).to_be_visible()

    page.get_by_role("link", name="See the petition").click()
    expect(page.locator('[data-live="total"]')).to_have_text("1")
    expect(page.locator('tr[data-country="DE"] td.num')).to_contain_text("1 of 69,120")
    assert total_in_api(app) == 1

    assert traffic.urls, "requests were recorded"
    assert traffic.foreign(live_server) == [], "a page asked another host for something"
    assert traffic.failed == []
    assert traffic.console_errors == [], "the browser reported errors (a CSP violation, a failed script...)"


def test_the_petition_page_follows_the_count_without_reloading(
    app, petition_id, live_server, page, traffic, confirmed_signature
):
    page.goto(f"{live_server.url}/p/demo")
    expect(page.locator('[data-live="total"]')).to_have_text("0")
    page.evaluate("window.sameDocument = true")

    confirmed_signature(petition_id, "bob@example.org", "DE")

    # live.js polls every 2 s: the new figure shows well within 8 s.
    expect(page.locator('[data-live="total"]')).to_have_text("1", timeout=8_000)
    expect(page.locator('tr[data-country="DE"] [data-live="count"]')).to_have_text("1")
    assert page.evaluate("window.sameDocument") is True, "the page was not reloaded"
    assert any("/api/v1/petitions/demo" in url for url in traffic.urls)
    assert traffic.foreign(live_server) == []
    assert traffic.failed == []
    assert traffic.console_errors == []


def test_the_petition_page_fits_a_small_phone(app, petition_id, live_server, browser, confirmed_signature, tmp_path):
    for i, country in enumerate(["DE", "FR", "SI"]):
        confirmed_signature(petition_id, f"s{i}@example.org", country)
    context = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/p/demo")
        expect(page.get_by_role("button", name="Sign", exact=True)).to_be_visible()
        folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / "petition-375.png"), full_page=True)

        widest = page.evaluate("document.documentElement.scrollWidth")
        assert widest <= 375, f"the page scrolls sideways on a 375 px phone ({widest} px wide)"
        overflowing = page.evaluate(
            """() => [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
                .map(e => e.tagName + (e.className ? '.' + e.className : ''))"""
        )
        assert overflowing == [], f"elements stick out of the screen: {overflowing}"
        form_top = page.locator(".sign-form").bounding_box()["y"]
        assert form_top < 1.5 * 812, f"the signing form starts {form_top:.0f} px down, under the country table"
        button = page.get_by_role("button", name="Sign", exact=True).bounding_box()
        assert button["height"] >= 44, "the Sign button is a comfortable touch target"
    finally:
        context.close()
