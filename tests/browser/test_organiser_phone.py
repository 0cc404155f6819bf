"""The organisers' area in Chromium: the dashboard on a 390 px phone (tables that fit, charts that keep
their shape), and pages that a reload cannot make act twice. axe-core finds nothing on any of them."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from petition.charts import EU_TILES
from petition.extensions import db
from petition.models import FlagReason, Partner
from petition.services import counting
from petition.timeutil import utcnow
from tests.browser.axe import assert_no_axe_violations, require_axe
from tests.helpers.organisers import PASSWORD
from tests.test_moderation import flagged_signature

pytestmark = pytest.mark.browser

MEMBER_STATES = sorted(EU_TILES)


def logged_in_page(browser, live_server, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/organiser/login")
    page.fill("#email", "owner@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/organiser/")
    return context, page


def sticking_out(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
            .map(e => e.tagName + (e.className && e.className.baseVal === undefined ? '.' + e.className : ''))"""
    )


@pytest.mark.parametrize("width", [390, 1280])
def test_the_dashboard_fits_a_phone_and_its_charts_keep_their_shape(
    app, live_server, browser, petition_id, make_organiser, confirmed_signature, width
):
    require_axe()
    make_organiser("owner@example.org", petition_id, "owner")
    confirmed_signature(petition_id, "ana@example.org", "DE")
    with app.app_context():  # every member state, with wide figures
        for i, code in enumerate(MEMBER_STATES):
            counting.add(db.session, petition_id, code, 1_234_567 + 1000 * i, utcnow())
        db.session.commit()
    context, page = logged_in_page(browser, live_server, width, 844)
    try:
        page.goto(f"{live_server.url}/organiser/p/demo")
        page.wait_for_selector('[data-figure="total"]')
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")

        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the dashboard scrolls sideways"
        assert sticking_out(page) == []
        table = page.locator("table.country-table").bounding_box()
        assert table["x"] >= 0 and table["x"] + table["width"] <= width
        assert page.locator("table.country-table tbody tr").count() == 27
        for svg in page.locator("svg.chart").all():
            box = svg.bounding_box()
            _, _, view_w, view_h = map(float, svg.get_attribute("viewBox").split())
            assert box["width"] / box["height"] == pytest.approx(view_w / view_h, rel=0.02), "stretched chart"
        assert_no_axe_violations(page)
    finally:
        context.close()


def test_registering_a_partner_and_showing_its_key_survive_a_reload(
    app, live_server, browser, petition_id, make_organiser
):
    require_axe()
    make_organiser("owner@example.org", petition_id, "owner")
    context, page = logged_in_page(browser, live_server, 390, 844)
    try:
        page.goto(f"{live_server.url}/organiser/p/demo/partners")
        page.fill("#name", "Media Outlet")
        page.fill("#origins", "https://media.example")
        with page.expect_navigation():  # and its stylesheet: layout is measured below
            page.get_by_role("button", name="Register", exact=True).click()
        expect(page.get_by_role("heading", name="Media Outlet is registered")).to_be_visible()
        assert "registered=" in page.url
        page.reload()
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Partner)) == 1, "a reload registered it again"
        assert_no_axe_violations(page)

        with page.expect_navigation():
            page.get_by_role("button", name="Make and show its API key").click()
        key = page.locator("#new-key").inner_text()
        assert re.fullmatch(r"ptk_[A-Za-z0-9_-]{20,}", key)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert_no_axe_violations(page)
        page.reload()  # the browser sends the form again: the key just copied must survive it
        expect(page.get_by_role("status").first).to_contain_text("already made and shown")
        assert page.locator("#new-key").count() == 0
        with app.app_context():
            [partner] = db.session.scalars(select(Partner)).all()
            assert key.startswith(partner.key_hint), "the key shown is still the partner's key"
    finally:
        context.close()


def test_the_flagged_page_reads_as_sentences_on_a_phone(app, live_server, browser, petition_id, make_organiser):
    require_axe()
    make_organiser("owner@example.org", petition_id, "owner")
    flagged_signature(app, petition_id, "bot@bots.example", FlagReason.TOO_FAST)
    context, page = logged_in_page(browser, live_server, 390, 844)
    try:
        page.goto(f"{live_server.url}/organiser/p/demo/flagged")
        expect(page.get_by_role("heading", name="1 flagged signature", exact=True)).to_be_visible()
        assert "too_fast" not in page.locator("main").inner_text()
        page.select_option("#release-reason", "too_fast")
        with page.expect_navigation():
            page.get_by_role("button", name="Preview release").click()
        expect(page.locator("#preview")).to_contain_text("1 signature would be released")
        assert_no_axe_violations(page)
    finally:
        context.close()
