"""In Chromium: an owner writes an update, previews it in two languages, sends a test to themselves,
sends it, and watches its progress reach the end without reloading; a signer unsubscribes from it."""

import dataclasses
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from petition.extensions import db
from petition.mail.worker import serve
from petition.models import Petition, Signature
from petition.services import confirming, signing
from petition.timeutil import utcnow
from tests.browser.axe import assert_no_axe_violations
from tests.helpers.fixtures import signer
from tests.helpers.organisers import PASSWORD

pytestmark = pytest.mark.browser


def confirmed_signer(app, petition_id, address, locale):
    with app.app_context():
        person = dataclasses.replace(signer(address), keep_informed=True)
        signing.sign(db.session, db.session.get(Petition, petition_id), person, now=utcnow(), locale=locale)
        db.session.commit()
        signature_id = db.session.scalar(select(Signature.id).order_by(Signature.id.desc()).limit(1))
        confirming.confirm(db.session, signature_id, utcnow())
        db.session.commit()


def deliver(app):
    with app.app_context():
        serve(db.session, once=True, interval=0, stopping=lambda: False)


def test_an_owner_writes_previews_tests_and_sends_an_update_and_watches_it_go_out(
    app, live_server, page, petition_id, make_organiser, outbox, traffic
):
    make_organiser("owner@example.org", petition_id, "owner")
    confirmed_signer(app, petition_id, "ana@example.org", "en")
    confirmed_signer(app, petition_id, "bea@example.org", "de")
    deliver(app)

    page.goto(f"{live_server.url}/organiser/login")
    page.fill("#email", "owner@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/organiser/p/demo")
    page.click("nav.tabs >> text=Updates")
    page.click("text=Write an update")
    page.fill("#subject", "The Commission answered")
    page.fill("#body", "They **listened**.\n\n- a hearing in March\n- a reply in writing")
    page.click("text=Save the draft")
    expect(page.locator("[role=status]")).to_have_text("Saved.")
    preview = page.locator('[data-preview="html"]')
    expect(preview.locator("strong")).to_have_text("listened")
    expect(preview.locator("li")).to_have_count(2)
    expect(page.locator('tr[data-language="de"] [data-count="opted_in"]')).to_have_text("1")
    assert_no_axe_violations(page)

    page.click("text=Add the Deutsch (de) translation")
    page.fill("#subject-de", "Die Kommission hat geantwortet")
    page.fill("#body-de", "Sie hat **zugehört**.")
    page.click('[data-translation="de"] >> text=Save the translation')
    expect(page.locator('[data-preview="subject"]')).to_have_text("Die Kommission hat geantwortet")
    expect(page.locator('[data-preview="html"] strong')).to_have_text("zugehört")
    page.click("text=as a test")
    expect(page.locator("[role=status]")).to_have_text("A test is on its way to your address.")
    deliver(app)
    [test] = outbox.to("owner@example.org")[-1:]
    assert test["Subject"] == "[Test] Die Kommission hat geantwortet"

    page.click("text=Send to 2 recipient(s)")
    expect(page.locator("[role=status]").first).to_contain_text("Sending to 2 recipient(s)")
    expect(page.locator('[data-figure="queued"]')).to_have_text("2")
    page.evaluate("window.stillTheSamePage = true")
    deliver(app)
    expect(page.locator('[data-figure="sent"]')).to_have_text("2", timeout=8000)
    expect(page.locator("[data-update-status]")).to_have_text("sent")
    assert page.evaluate("window.stillTheSamePage") is True, "followed without reloading"
    subjects = sorted(m["Subject"] for m in outbox.messages() if (m["Message-ID"] or "").startswith("<update-"))
    assert subjects == ["Die Kommission hat geantwortet", "The Commission answered"]
    assert not traffic.foreign(live_server) and not traffic.console_errors


def test_a_signer_unsubscribes_in_the_browser_from_the_link_in_an_update(app, live_server, page, petition_id, outbox):
    from tests.test_updates import send_update

    confirmed_signer(app, petition_id, "ana@example.org", "de")
    send_update(app, petition_id)
    deliver(app)
    [message] = [m for m in outbox.messages() if (m["Message-ID"] or "").startswith("<update-")]
    link = re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)

    page.goto(link)
    expect(page.locator("h1")).to_have_text("Updates abbestellen")
    assert_no_axe_violations(page)
    page.click("button >> text=Updates abbestellen")
    expect(page.locator("h1")).to_have_text("Keine Updates mehr")
    assert_no_axe_violations(page)
