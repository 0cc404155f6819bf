"""The widget in a real browser (Debian's Chromium through Playwright): a partner page on another site
embeds it, a person signs inside the iframe and confirms from the email, and the signature is credited
to that partner; the same page on a site that is not registered cannot show the widget at all."""

import html
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from petition.extensions import db
from petition.models import Signature, SignatureStatus
from petition.services import attribution

pytestmark = pytest.mark.browser

CONFIRM_PATH = re.compile(r"(/confirm/[A-Za-z0-9._-]+)")


def serve_in_thread(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def our_site(app):
    """The app on http://127.0.0.1:<port>, with BASE_URL saying so (links in emails point there)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    serve_in_thread(server)
    yield app.config["BASE_URL"]
    server.shutdown()


@pytest.fixture
def partner_site():
    """A partner's article page on its own server; `page["html"]` is what it serves at any path."""
    page = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serve_in_thread(server)
    page["port"] = server.server_port
    yield page
    server.shutdown()


def article(base_url: str, partner_id: str) -> str:
    """The embed code exactly as the share page gives it, in a partner's page."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NGO news</title></head>
<body><h1>Why we support the ban</h1><p>Sign below.</p>
<script src="{base_url}/embed.js" data-petition="demo" data-partner="{partner_id}" async></script>
<p id="after">More of the article.</p>
</body></html>"""


def test_a_person_signs_inside_the_widget_on_a_partners_site_and_is_credited_to_it(
    app, our_site, partner_site, browser, petition_id, make_partner, outbox
):
    # A different site: localhost is not 127.0.0.1, so the iframe is third-party to the partner's page.
    partner_origin = f"http://localhost:{partner_site['port']}"
    partner_id, key = make_partner(name="Digital Rights NGO", origins=[partner_origin])
    partner_site["html"] = article(our_site, partner_id)
    page = browser.new_page()

    page.goto(f"{partner_origin}/2026/ban-it?source=june-letter")
    widget = page.frame_locator("iframe.petition-widget")
    widget.get_by_role("heading", name="Ban biometric mass surveillance").wait_for()
    # The iframe takes the height of its content (it starts at 640px).
    page.wait_for_function("document.querySelector('iframe.petition-widget').offsetHeight !== 640")
    content_height = page.frames[1].evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
    assert abs(page.eval_on_selector("iframe.petition-widget", "f => f.offsetHeight") - content_height) <= 1

    widget.get_by_label("First name", exact=True).fill("Ana")
    widget.get_by_label("Last name", exact=True).fill("Kovač")
    widget.get_by_label("Email", exact=True).fill("ana@example.org")
    widget.get_by_label("Nationality", exact=True).select_option("DE")
    widget.get_by_label("I am a citizen").check()
    widget.get_by_label("I agree").check()
    widget.get_by_role("button", name="Sign").click()
    widget.get_by_role("heading", name="Check your inbox").wait_for()
    assert page.url.startswith(partner_origin), "the partner's page stays where it was"

    assert outbox.deliver() == 1
    link = CONFIRM_PATH.search(outbox.text_of(outbox.to("ana@example.org")[0]))
    confirm_url = f"{our_site}{link.group(1)}"
    assert our_site in outbox.text_of(outbox.to("ana@example.org")[0])
    page.goto(confirm_url)  # the email link opens our own page, top-level
    page.get_by_role("button", name="Confirm my signature").click()
    page.get_by_role("heading", name=re.compile("your signature is confirmed")).wait_for()

    with app.app_context():
        [signature] = db.session.scalars(select(Signature)).all()
        assert signature.status == SignatureStatus.CONFIRMED
        assert signature.source == f"widget:{partner_id}/june-letter"
        [row] = attribution.by_partner(db.session, petition_id)
        assert (row.partner.name, row.widget.confirmed, row.api.signatures) == ("Digital Rights NGO", 1, 0)
    stats = app.test_client().get("/api/v1/partner/stats", headers={"Authorization": f"Bearer {key}"}).json
    assert stats["petitions"] == [
        {"slug": "demo", "title": "Ban biometric mass surveillance", "submitted": 1, "pending": 0, "confirmed": 1}
    ]


def test_the_same_page_on_an_unregistered_site_cannot_frame_the_widget_and_shows_a_link_instead(
    app, our_site, partner_site, browser, petition_id, make_partner
):
    registered = f"http://localhost:{partner_site['port']}"
    partner_id, _ = make_partner(origins=[registered])
    partner_site["html"] = article(our_site, partner_id)
    page = browser.new_page(locale="de-DE")

    # The very same page, served from an origin the partner did not register.
    with page.expect_console_message(lambda message: "frame-ancestors" in message.text) as refusal:
        page.goto(f"http://127.0.0.1:{partner_site['port']}/2026/ban-it")
    assert "blocked" in refusal.value.text

    # Instead of the browser's grey error frame: a link to the petition's own page, in the reader's language.
    link = page.locator("p.petition-widget-link a")
    link.wait_for(timeout=10_000)
    expect(link).to_have_text("„Ban biometric mass surveillance“ auf der Seite der Petition unterschreiben")
    assert link.get_attribute("href") == f"{our_site}/p/demo?lang=de"
    assert page.locator("iframe.petition-widget").count() == 0
    assert page.locator("p.petition-widget-link + #after").count() == 1, "where the widget was"


def test_the_code_from_the_share_page_works_as_pasted(app, our_site, partner_site, browser, petition_id, make_partner):
    registered = f"http://localhost:{partner_site['port']}"
    partner_id, _ = make_partner(origins=[registered])
    share = app.test_client().get(f"/p/demo/share?partner={partner_id}").get_data(as_text=True)
    code = html.unescape(re.search(r'<code id="embed-code">(.*?)</code>', share, re.S).group(1))
    partner_site["html"] = f"<!doctype html><html lang=en><title>NGO</title><h1>Sign</h1>{code}<p id=after></p>"
    page = browser.new_page()
    page.goto(f"{registered}/campaign")
    widget = page.frame_locator("iframe.petition-widget")
    widget.get_by_role("heading", name="Ban biometric mass surveillance").wait_for()
    expect(widget.get_by_label("Nationality", exact=True)).to_be_visible()

    # The code for someone without a partner id yet, pasted unchanged: a link, not a broken frame.
    placeholder = html.unescape(
        re.sub(r"</?mark>", "", re.search(r'<code id="embed-code">(.*?)</code>', app.test_client().get(
            "/p/demo/share").get_data(as_text=True), re.S).group(1))
    )  # fmt: skip
    assert 'data-partner="YOUR-PARTNER-ID"' in placeholder
    partner_site["html"] = f"<!doctype html><html lang=en><title>NGO</title><h1>Sign</h1>{placeholder}"
    page.goto(f"{registered}/campaign")
    page.locator("p.petition-widget-link a").wait_for(timeout=10_000)
    assert page.locator("iframe.petition-widget").count() == 0
