"""Hostile petition text in Chromium: a petition whose title, summary and body hold an XSS corpus is
opened on every page and in every email where its text appears, and nothing runs: no dialog opens,
no request leaves our host, no element keeps a handler or a script URL.

The pages are opened with the Content-Security-Policy switched off (`bypass_csp`), so that what is
proven is the escaping and sanitising itself; CSP is the second wall, checked in a second pass that
must report no violation at all."""

import re
from datetime import date
from urllib.parse import urlsplit

import pytest

from petition.extensions import db
from petition.mail.worker import serve
from petition.models import Audience, CampaignUpdate, Petition, Role
from petition.services import signature_links, signing, team, updates
from petition.timeutil import utcnow
from tests.helpers.fixtures import confirm_token, signer
from tests.helpers.organisers import PASSWORD

pytestmark = pytest.mark.browser

TITLE = "<img src=x onerror=alert(1)><svg onload=alert(2)>\"'><script>alert(3)</script>{{7*7}}"
SUMMARY = (
    '<iframe src="javascript:alert(4)"></iframe><a href="jav&#x09;ascript:alert(5)">x</a> '
    "<svg><script>alert(6)</script></svg></p><img src=//evil.example/s.png onerror=alert(7)> "
    "[s](javascript:alert(8)) <a href=//evil.example>home</a>"
)
BODY = "\n\n".join(
    [
        "Plain words first.",
        "[mixed case](JaVaScRiPt:alert(11))",
        "[entity](java&#115;cript:alert(12)) [hex entity](&#x6A;avascript:alert(13))",
        "[colon entity](javascript&colon;alert(14)) [tab](<java\tscript:alert(15)>)",
        "[leading space]( javascript:alert(16)) [newline](java%0Ascript:alert(17))",
        '<a href="jav&#x09;ascript:alert(18)">raw tab entity</a>',
        '<a href=" javascript:alert(19)">raw leading space</a>',
        "[reference][evil]\n\n[evil]: jAvAsCrIpT:alert(20)",
        "<javascript:alert(21)> <vbscript:msgbox(22)>",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgyMyk8L3NjcmlwdD4=)",
        "[DATA](DATA:text/html,<script>alert(24)</script>)",
        "![data image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMjUpPg==)",
        "<img src=x onerror=alert(26)> <img src=x onerror='alert(27)'/>",
        "<svg><script>alert(28)</script></svg> <svg onload=alert(29)>",
        "<script>alert(30)</script> <script src=//evil.example/x.js></script>",
        "<iframe src=javascript:alert(31)></iframe> <iframe srcdoc='<script>alert(32)</script>'></iframe>",
        '<p onmouseover="alert(33)">hover</p> <details open ontoggle=alert(34)>x</details>',
        "<input autofocus onfocus=alert(35)> <body onload=alert(36)>",
        "<math><mi xlink:href=javascript:alert(37)>x</mi></math>",
        "<object data=javascript:alert(38)></object> <embed src=javascript:alert(39)>",
        '<form action=javascript:alert(40)><button formaction="javascript:alert(41)">go</button></form>',
        "<base href=//evil.example/> <meta http-equiv=refresh content='0;url=javascript:alert(42)'>",
        "<style>@import '//evil.example/x.css';</style> <link rel=stylesheet href=//evil.example/y.css>",
        "[protocol-relative](//evil.example/login) [backslashes](\\\\evil.example) [mixed](/\\evil.example)",
        "![tracker](https://evil.example/t.png) ![relative tracker](//evil.example/t.png)",
        '![alt" onerror="alert(43)](x) [t](https://example.org "t\\" onclick=\\"alert(44)")',
        '<noscript><p title="</noscript><img src=x onerror=alert(45)>"></noscript>',
        "`<script>alert(46)</script>` and\n\n    <img src=x onerror=alert(47)>",
        "The end.",
    ]
)

PROBLEMS_JS = """() => {
  const problems = [];
  const urlAttributes = [
    'href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background', 'srcset', 'ping'];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    const forbidden = ['object', 'embed', 'applet', 'base', 'frame', 'frameset'];
    if (forbidden.includes(tag)) problems.push(`<${tag}>`);
    if (tag === 'meta' && (el.httpEquiv || '').toLowerCase() === 'refresh') problems.push('<meta refresh>');
    if (tag === 'script' && !(el.src && new URL(el.src).host === location.host)) problems.push(`<script ${el.src}>`);
    const frameSource = tag === 'iframe' && new URL(el.getAttribute('src') || 'about:srcdoc', document.baseURI);
    if (frameSource && frameSource.host !== location.host) problems.push(`<iframe ${el.getAttribute('src')}>`);
    for (const attribute of el.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith('on') || name === 'srcdoc') problems.push(`<${tag} ${name}>`);
      if (!urlAttributes.includes(name)) continue;
      if (tag === 'link' && el.rel === 'icon' && attribute.value === 'data:,') continue;
      let url;
      try { url = new URL(attribute.value, document.baseURI); } catch (e) { continue; }
      const shown = `<${tag} ${name}="${attribute.value}">`;
      if (!['http:', 'https:', 'mailto:'].includes(url.protocol)) problems.push(shown);
      if (['src', 'srcset', 'background', 'poster', 'data'].includes(name) && url.host !== location.host) {
        problems.push(`${shown} loads from another host`);
      }
    }
  }
  return problems;
}"""


class Watch:
    """What the pages of one browser context did: dialogs opened, requests to other hosts (refused
    before they leave), CSP violations reported, and markup problems found in each page's DOM."""

    def __init__(self, context, host: str):
        self.host = host
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        self.csp: list[str] = []
        self.problems: dict[str, list[str]] = {}
        context.route("**/*", self._route)
        context.on("page", self._attach)

    def _route(self, route) -> None:
        if urlsplit(route.request.url).netloc == self.host:
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def _attach(self, page) -> None:
        page.on("dialog", lambda dialog: (self.dialogs.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.csp.append(message.text)

    def inspect(self, page, label: str) -> None:
        page.wait_for_load_state("load")
        page.wait_for_timeout(50)  # let onload/onerror handlers and autofocus fire, if any survived
        for frame in page.frames:
            if frame is not page.main_frame and urlsplit(frame.url).netloc != self.host:
                # A frame of anything but our own pages is a problem in itself (and one whose script
                # was blocked may never give an execution context to look into).
                self.problems[f"{label}: a frame at {frame.url!r}"] = ["foreign frame"]
                continue
            found = frame.evaluate(PROBLEMS_JS)
            if found:
                self.problems[f"{label} ({frame.url})"] = found

    def assert_nothing_ran(self) -> None:
        assert self.dialogs == [], f"script ran: {self.dialogs}"
        assert self.foreign == [], f"requests to other hosts: {self.foreign}"
        assert self.problems == {}, f"dangerous markup survived: {self.problems}"


@pytest.fixture
def hostile_petition(app, make_petition) -> int:
    """A simple petition (goal 1, DE 1), so that one confirmation also mails the organisers."""
    return make_petition(
        title=TITLE, summary=SUMMARY, body=BODY, rules="simple", goal=1,
        country_targets={"DE": 1}, registered_on=date(2026, 11, 26), organiser_name=TITLE,
    )  # fmt: skip


def test_the_watch_sees_script_that_runs(browser, live_server):
    """Guards the test below: an unsafe page is caught by each of the watch's senses."""
    context = browser.new_context(bypass_csp=True)
    watch = Watch(context, live_server.host)
    page = context.new_page()
    page.set_content(
        '<img src="x" onerror="alert(1)"><a href="jav&#x09;ascript:alert(2)">x</a>'
        '<img src="https://evil.example/t.png">'
    )
    watch.inspect(page, "unsafe")
    context.close()
    assert watch.dialogs and watch.problems
    assert any("evil.example" in url for url in watch.foreign)


def log_in(page, base: str) -> None:
    page.goto(f"{base}/organiser/login")
    page.fill("#email", "owner@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/organiser/")


def emails_as_html(outbox) -> dict[str, str]:
    pages = {}
    for message in outbox.messages():
        html = message.get_body(preferencelist=("html",))
        assert html is not None, f"{message['Subject']} has no HTML part"
        pages[f"email to {message['To']}: {message['Subject']}"] = html.get_content()
    return pages


@pytest.mark.parametrize("bypass_csp", [True, False], ids=["sanitising alone", "with CSP"])
def test_hostile_petition_text_runs_nowhere(
    app, live_server, browser, hostile_petition, make_organiser, make_partner, client, outbox, bypass_csp
):
    base = live_server.url
    make_organiser("owner@example.org", hostile_petition, "owner")
    partner_id, _key = make_partner(origins=["https://ngo.example"])
    with app.app_context():
        petition = db.session.get(Petition, hostile_petition)
        signing.sign(db.session, petition, signer("ana@example.org"), now=utcnow())
        db.session.commit()
        signature_id = signing_id(petition.id)
        confirm = confirm_token(signature_id)
        withdraw = signature_links.WITHDRAW.make(signature_id)

    context = browser.new_context(bypass_csp=bypass_csp)
    context.set_default_timeout(10_000)
    watch = Watch(context, live_server.host)
    page = context.new_page()

    def visit(path: str) -> None:
        page.goto(f"{base}{path}")
        watch.inspect(page, path)

    for path in ["/", "/p/demo", "/p/demo/share", "/embed/demo", f"/embed/demo?partner={partner_id}",
                 "/p/demo/check-email", f"/embed/demo/check-email?partner={partner_id}",
                 f"/confirm/{confirm}", f"/withdraw/{withdraw}"]:  # fmt: skip
        visit(path)
    page.goto(f"{base}/p/demo")
    assert page.inner_text("h1") == TITLE, "the title is shown as typed: escaped, not interpreted"
    page.goto(f"{base}/confirm/{confirm}")
    page.get_by_role("button", name="Confirm my signature").click()
    page.wait_for_url(f"{base}/confirm/{confirm}")
    watch.inspect(page, "thanks page")

    log_in(page, base)
    watch.inspect(page, "organiser index")
    for path in ["/organiser/p/demo", "/organiser/p/demo/team", "/organiser/p/demo/paper",
                 "/organiser/p/demo/exports", "/organiser/p/demo/edit"]:  # fmt: skip
        visit(path)
    page.get_by_role("button", name="Preview the text").click()
    page.wait_for_selector("section.preview")
    assert "Plain words first." in page.inner_text("section.preview")
    watch.inspect(page, "edit preview")
    page.get_by_role("button", name="Close now").click()
    page.wait_for_url(f"{base}/organiser/p/demo")
    # An update written with the same corpus (the subject from the title, a German text from the summary).
    with app.app_context():
        news = updates.draft(db.session, db.session.get(Petition, hostile_petition), subject=TITLE, body=BODY,
                             audience=Audience.ALL, now=utcnow())  # fmt: skip
        updates.translate(db.session, news, locale="de", subject=TITLE, body=SUMMARY)
        db.session.commit()
        news_id = news.id
        unsubscribe = signature_links.UNSUBSCRIBE.make(signature_id, update_id=news_id)
    for path in ["/organiser/p/demo/updates", f"/organiser/p/demo/updates/{news_id}",
                 f"/organiser/p/demo/updates/{news_id}?lang=de"]:  # fmt: skip
        visit(path)
    with app.app_context():
        updates.start(db.session, db.session.get(CampaignUpdate, news_id), now=utcnow(), organiser=None)
        db.session.commit()
    visit(f"/organiser/p/demo/updates/{news_id}")
    visit(f"/unsubscribe/{unsubscribe}")
    visit("/p/demo")  # closed now: the page without the form

    # The emails, as a mail client that runs no CSP of ours would show them.
    with app.app_context():
        team.add_member(db.session, db.session.get(Petition, hostile_petition), "colleague@example.org", Role.VIEWER,
                        utcnow())  # fmt: skip
        signing.sign(db.session, db.session.get(Petition, hostile_petition), signer("ana@example.org"), now=utcnow())
        db.session.commit()
    request_data(client, "ana@example.org")
    outbox.deliver()
    with app.app_context():
        serve(db.session, once=True, interval=0, stopping=lambda: False)  # the update too
    assert any((m["Message-ID"] or "").startswith("<update-") for m in outbox.messages()), "the update went out"
    emails = emails_as_html(outbox)
    kinds = " | ".join(emails)
    for subject_word in ("Please confirm", "already signed", "What we hold", "You can now follow", "threshold",
                         "of the goal", "has closed"):  # fmt: skip
        assert re.search(subject_word, kinds, re.I), f"no {subject_word!r} email among: {kinds}"
    for label, html in emails.items():
        page.set_content(html)
        watch.inspect(page, label)

    context.close()
    watch.assert_nothing_ran()
    assert watch.csp == [], f"CSP had to block something: {watch.csp}"


def signing_id(petition_id: int) -> int:
    from sqlalchemy import select

    from petition.models import Signature

    return db.session.scalars(select(Signature.id).where(Signature.petition_id == petition_id)).one()


def request_data(client, address: str) -> None:
    page = client.get("/privacy/request").get_data(as_text=True)
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/privacy/request", data={"email": address, "form_token": token}).status_code == 303
