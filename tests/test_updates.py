"""Campaign updates: who they reach and in which language, the one-click unsubscribe, withdrawn and
purged signers, the organisers' area and its permissions, the command line, pausing, and signing
mail that never waits behind an update."""

import dataclasses
import email
import email.policy
import re
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.mail.worker import Mailer, serve
from petition.models import Audience, CampaignUpdate, Petition, Signature, UpdateStatus
from petition.services import confirming, lifecycle, paper, privacy, signing, synthetic, updates
from petition.timeutil import utcnow
from tests.helpers.fixtures import signer
from tests.test_mail import SmtpSink

UNSUBSCRIBE = re.compile(r"<(https?://[^>]+/unsubscribe/[^>]+)>")


@pytest.fixture
def sign_up(app, petition_id):
    """sign_up(email, locale="en", informed=True, confirmed=True, petition=petition_id) -> signature id."""

    def make(address, locale="en", informed=True, confirmed=True, petition=None) -> int:
        with app.app_context():
            target = db.session.get(Petition, petition or petition_id)
            person = dataclasses.replace(signer(address), keep_informed=informed)
            signing.sign(db.session, target, person, now=utcnow(), locale=locale)
            db.session.commit()
            signature_id = db.session.scalar(select(Signature.id).order_by(Signature.id.desc()).limit(1))
            if confirmed:
                confirming.confirm(db.session, signature_id, utcnow())
                db.session.commit()
            return signature_id

    return make


def deliver_all(app) -> dict:
    """Run a mail worker until nothing is due (outbox first, then updates), as `mail-worker --once`."""
    with app.app_context():
        return serve(db.session, once=True, interval=0, stopping=lambda: False)


def send_update(app, petition_id, subject="We won", body="We **won**. Thank you!", audience=Audience.OPTED_IN,
                translations=None) -> tuple[int, int]:  # fmt: skip
    """Write and start an update (as the command line does); (update id, recipients)."""
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        draft = updates.draft(db.session, petition, subject=subject, body=body, audience=audience, now=utcnow())
        for locale, (t_subject, t_body) in (translations or {}).items():
            updates.translate(db.session, draft, locale=locale, subject=t_subject, body=t_body)
        recipients = updates.start(db.session, draft, now=utcnow(), organiser=None)
        db.session.commit()
        return draft.id, recipients


def progress(app, update_id) -> updates.Progress:
    with app.app_context():
        return updates.progress_of(db.session, db.session.get(CampaignUpdate, update_id))


def update_mail(outbox, update_id=None) -> list[email.message.EmailMessage]:
    found = [m for m in outbox.messages() if (m["Message-ID"] or "").startswith("<update-")]
    return [m for m in found if update_id is None or m["Message-ID"].startswith(f"<update-{update_id}.")]


def unsubscribe_path(message) -> str:
    return urlsplit(UNSUBSCRIBE.search(message["List-Unsubscribe"]).group(1)).path


def test_an_update_reaches_exactly_the_opted_in_confirmed_signers_each_in_their_language(
    app, petition_id, sign_up, outbox, make_petition
):
    sign_up("ana@example.org", "en")
    sign_up("bea@example.org", "de")
    sign_up("cai@example.org", "fr")  # no French translation: the update's own text, the frame in French
    sign_up("dan@example.org", "en", informed=False)
    sign_up("eva@example.org", "de", confirmed=False)  # still pending
    other = make_petition(slug="other", title="Another campaign")
    sign_up("fay@example.org", "en", petition=other)
    with app.app_context():  # a paper statement with an address: given for the count, not for our emails
        paper.import_statements(db.session, db.session.get(Petition, petition_id),
                                b"first_name,last_name,country,email\nGus,Paper,DE,gus@example.org\n", None, utcnow(),
                                save=True)  # fmt: skip
        db.session.commit()
    deliver_all(app)
    before = len(outbox.messages())

    update_id, recipients = send_update(
        app, petition_id, translations={"de": ("Wir haben gewonnen", "Wir haben **gewonnen**.")}
    )
    assert recipients == 3
    deliver_all(app)

    received = update_mail(outbox)
    assert len(outbox.messages()) == before + 3, "nothing else was sent"
    assert sorted(m["To"] for m in received) == ["ana@example.org", "bea@example.org", "cai@example.org"]
    by_address = {m["To"]: m for m in received}
    assert by_address["bea@example.org"]["Subject"] == "Wir haben gewonnen"
    assert by_address["bea@example.org"]["Content-Language"] == "de"
    assert "Wir haben **gewonnen**." in outbox.text_of(by_address["bea@example.org"])
    assert "<strong>gewonnen</strong>" in by_address["bea@example.org"].get_body(("html",)).get_content()
    french = by_address["cai@example.org"]
    assert french["Subject"] == "We won" and french["Content-Language"] == "fr"
    assert "Bonjour" in outbox.text_of(french), "the frame speaks French"
    assert '<div lang="en">' in french.get_body(("html",)).get_content(), "the English text says it is English"
    for message in received:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert UNSUBSCRIBE.search(message["List-Unsubscribe"]).group(1).startswith("http://petitions.test/unsubscribe/")
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        assert "/withdraw/" in outbox.text_of(message)
    assert len({m["Message-ID"] for m in received}) == 3
    figures = progress(app, update_id)
    assert (figures.recipients, figures.sent, figures.failed, figures.skipped, figures.queued) == (3, 3, 0, 0, 0)
    with app.app_context():
        assert db.session.get(CampaignUpdate, update_id).status == UpdateStatus.SENT
        assert [e.action for e in updates.events_of(db.session, update_id)] == ["sending", "finished"]


def test_news_for_everyone_reaches_every_confirmed_signer_except_who_unsubscribed(
    app, petition_id, sign_up, outbox, runner, tmp_path
):
    sign_up("ana@example.org", informed=True)
    sign_up("dan@example.org", informed=False)
    unsubscribed = sign_up("ulf@example.org", informed=True)
    sign_up("eva@example.org", confirmed=False)
    with app.app_context():
        privacy.unsubscribe(db.session, unsubscribed, None, utcnow())
        db.session.commit()
    body = tmp_path / "news.md"
    body.write_text("The petition was **handed in** today.\n", encoding="utf-8")

    result = runner.invoke(args=["petition", "update", "--slug", "demo", "--subject", "Handed in",
                                 "--body-file", str(body), "--audience", "all"])  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "queued: 2"
    deliver_all(app)
    assert sorted(m["To"] for m in update_mail(outbox)) == ["ana@example.org", "dan@example.org"]
    assert "this news is about that petition" in outbox.text_of(update_mail(outbox)[0])
    opted = runner.invoke(args=["petition", "update", "--slug", "demo", "--subject", "More",
                                "--body-file", str(body), "--lang", "de"])  # fmt: skip
    assert opted.output.splitlines()[-1] == "queued: 1", "the default audience: who opted in"
    with app.app_context():
        assert db.session.scalar(select(CampaignUpdate.locale).order_by(CampaignUpdate.id.desc()).limit(1)) == "de"
    refused = runner.invoke(args=["petition", "update", "--slug", "nope", "--subject", "x", "--body-file", str(body)])
    assert refused.exit_code != 0 and "No petition" in refused.output


def test_the_unsubscribe_link_works_once_and_without_a_session(app, petition_id, sign_up, outbox):
    ana = sign_up("ana@example.org")
    sign_up("bea@example.org")
    update_id, _ = send_update(app, petition_id)
    deliver_all(app)
    [message] = [m for m in update_mail(outbox) if m["To"] == "ana@example.org"]
    path = unsubscribe_path(message)
    stranger = app.test_client()  # no cookie, no login, no form token: a mail client's one-click POST

    page = stranger.get(path)
    assert page.status_code == 200 and "Stop the updates" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    with app.app_context():
        assert db.session.get(Signature, ana).unsubscribed_at is None, "opening the link changes nothing"

    first = stranger.post(path, data={"List-Unsubscribe": "One-Click"})
    assert first.status_code == 200
    assert "No more updates" in first.get_data(as_text=True)
    assert "already" not in first.get_data(as_text=True)
    assert not first.headers.getlist("Set-Cookie"), "no session was needed, none was started"
    second = stranger.post(path, data={"List-Unsubscribe": "One-Click"})
    assert second.status_code == 200 and "You had already asked for this." in second.get_data(as_text=True)
    with app.app_context():
        signature = db.session.get(Signature, ana)
        assert signature.unsubscribed_at is not None and signature.keep_informed is False
        assert signature.status.value == "confirmed", "the signature still counts"
    assert progress(app, update_id).unsubscribed == 1, "counted once"

    for audience in (Audience.OPTED_IN, Audience.ALL):
        later, recipients = send_update(app, petition_id, subject="Later", audience=audience)
        assert recipients == 1
        deliver_all(app)
        assert [m["To"] for m in update_mail(outbox, later)] == ["bea@example.org"]
    assert stranger.post(path.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 400


def test_withdrawn_and_purged_signers_get_nothing(app, petition_id, sign_up, outbox, make_petition):
    ana, bea = sign_up("ana@example.org"), sign_up("bea@example.org")
    cai, dan = sign_up("cai@example.org"), sign_up("dan@example.org")
    update_id, recipients = send_update(app, petition_id)
    assert recipients == 4
    with app.app_context():  # after sending started, before anyone's turn
        privacy.withdraw(db.session, bea, utcnow())
        db.session.commit()

    def meanwhile():
        """Called by the worker before each message: withdraws and unsubscribes people it has claimed."""
        with app.app_context():
            if db.session.get(Signature, cai) is not None:
                privacy.withdraw(db.session, cai, utcnow())
                privacy.unsubscribe(db.session, dan, None, utcnow())
                db.session.commit()
        return False

    with app.app_context():
        mailer = Mailer()
        while mailer.updates.deliver(db.session, utcnow(), meanwhile).claimed:
            pass
        mailer.close()
    assert [m["To"] for m in update_mail(outbox)] == ["ana@example.org"]
    figures = progress(app, update_id)
    assert (figures.sent, figures.skipped, figures.queued) == (1, 3, 0)
    assert ana

    purged = make_petition(slug="purged", title="Old campaign")
    sign_up("eve@example.org", petition=purged)
    sign_up("fay@example.org", petition=purged, informed=False)
    started, recipients = send_update(app, purged, audience=Audience.ALL)
    assert recipients == 2
    with app.app_context():
        lifecycle.purge_personal_data(db.session, db.session.get(Petition, purged), utcnow())
    deliver_all(app)
    assert update_mail(outbox, started) == []
    assert progress(app, started).skipped == 2
    assert send_update(app, purged, audience=Audience.ALL)[1] == 0, "nobody left to write to"


def test_pausing_stops_the_workers_and_resuming_sends_the_rest_once(app, petition_id, outbox):
    with app.app_context():
        synthetic.fill(db.session, db.session.get(Petition, petition_id), 80, 1.0, utcnow() - timedelta(days=1))
        db.session.commit()
    update_id, recipients = send_update(app, petition_id, audience=Audience.ALL)
    assert recipients == 80
    with app.app_context():
        mailer = Mailer()
        assert mailer.updates.deliver(db.session, utcnow()).sent == 50, "one slice"
        campaign_update = db.session.get(CampaignUpdate, update_id)
        assert updates.pause(db.session, campaign_update, now=utcnow(), organiser=None)
        db.session.commit()
        assert not mailer.updates.deliver(db.session, utcnow()).claimed, "paused: nothing claimed"
        mailer.close()
    deliver_all(app)
    assert len(update_mail(outbox)) == 50
    with app.app_context():
        campaign_update = db.session.get(CampaignUpdate, update_id)
        assert updates.resume(db.session, campaign_update, now=utcnow(), organiser=None)
        db.session.commit()
    deliver_all(app)
    ids = [m["Message-ID"] for m in update_mail(outbox)]
    assert len(ids) == 80 and len(set(ids)) == 80, "each recipient once"
    with app.app_context():
        assert [e.action for e in updates.events_of(db.session, update_id)] == [
            "sending",
            "paused",
            "resumed",
            "finished",
        ]


def test_a_refused_address_fails_and_a_deferred_one_is_tried_again(app, petition_id, sign_up):
    sink = SmtpSink()
    app.config["MAIL_URL"] = sink.url
    sink.start()
    try:
        sign_up("ana@example.org")
        sign_up("nobody@example.org")
        deliver_all(app)
        sink.refuse_rcpt.add("nobody@example.org")
        update_id, _ = send_update(app, petition_id)
        deliver_all(app)
        updates_received = [r for r in sink.received if b"List-Unsubscribe-Post" in r.data]
        assert [r.rcpt_tos for r in updates_received] == [["ana@example.org"]]
        figures = progress(app, update_id)
        assert (figures.sent, figures.failed, figures.queued) == (1, 1, 0)
    finally:
        sink.stop()


def test_signing_mail_overtakes_an_update_that_is_going_out(app, petition_id, sign_form):
    """A confirmation email leaves within a moment although hundreds of update messages are queued
    before it, on a mail server that takes 10 ms per message."""
    sink = SmtpSink()
    app.config["MAIL_URL"] = sink.url
    sink.on_message = lambda count: time.sleep(0.01)
    sink.start()
    with app.app_context():
        synthetic.fill(db.session, db.session.get(Petition, petition_id), 400, 1.0, utcnow() - timedelta(days=1))
        db.session.commit()
    update_id, _ = send_update(app, petition_id, audience=Audience.ALL)
    stop = threading.Event()

    def work():
        with app.app_context():
            serve(db.session, once=False, interval=0.05, stopping=stop.is_set)

    worker = threading.Thread(target=work)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while len(sink.received) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sign_form(email="newcomer@example.org").status_code == 303
        signed_at = time.monotonic()
        while not sink.to("newcomer@example.org") and time.monotonic() - signed_at < 10:
            time.sleep(0.005)
        latency = time.monotonic() - signed_at
        assert sink.to("newcomer@example.org"), "the confirmation email left"
        position = next(i for i, r in enumerate(sink.received) if "newcomer@example.org" in r.rcpt_tos)
    finally:
        stop.set()
        worker.join(30)
        sink.stop()
    assert latency < 1.0, f"the confirmation waited {latency:.2f} s"
    assert position < 200, f"it went out as message {position + 1} of 401, not after the update"
    assert progress(app, update_id).sent < 400, "the update was still going out"


def test_a_test_goes_to_the_organiser_alone_and_is_logged(app, petition_id, sign_up, owner, outbox):
    sign_up("ana@example.org")
    deliver_all(app)
    created = owner.post("/organiser/p/demo/updates/new", {"subject": "Draft news", "body": "Hello *all*.",
                                                           "audience": "opted_in"})  # fmt: skip
    assert created.status_code == 303
    page_url = created.headers["Location"].split("?")[0]
    assert owner.post(page_url + "/test", {"lang": "de"}).status_code == 303
    deliver_all(app)
    [test] = outbox.to("owner@example.org")
    assert test["Subject"] == "[Test] Draft news" and test["Content-Language"] == "de"
    assert "[first name]" in outbox.text_of(test)
    assert update_mail(outbox) == [], "no signer got anything"
    page = owner.get(page_url).get_data(as_text=True)
    assert "tested: to owner@example.org in de" in page


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_owners_and_editors_write_preview_and_send_and_see_recipients_per_language(
    app, petition_id, sign_up, make_organiser, web, outbox, role
):
    sign_up("ana@example.org", "en")
    sign_up("bea@example.org", "de")
    sign_up("ben@example.org", "de", informed=False)
    make_organiser("writer@example.org", petition_id, role)
    writer = web("writer@example.org")
    assert 'href="/organiser/p/demo/updates"' in writer.get("/organiser/p/demo").get_data(as_text=True)

    created = writer.post("/organiser/p/demo/updates/new", {"subject": "Good news", "body": "It **worked**.",
                                                            "audience": "opted_in"})  # fmt: skip
    page_url = created.headers["Location"].split("?")[0]
    page = writer.get(page_url).get_data(as_text=True)
    assert re.search(r'data-language="de".*?data-count="opted_in">1<.*?data-count="all">2<', page, re.S)
    assert "<strong>worked</strong>" in page and "Hello [first name]," in page, "the preview"
    assert "Send to 2 recipient(s)" in page
    assert writer.post(page_url + "/translation", {"lang": "de", "subject": "Gute Nachricht",
                                                   "body": "Es hat **geklappt**."}).status_code == 303  # fmt: skip
    german = writer.get(page_url + "?lang=de").get_data(as_text=True)
    assert "Gute Nachricht" in german and "<strong>geklappt</strong>" in german and "Hallo [first name]," in german
    assert writer.post(page_url + "/send").status_code == 303
    assert writer.post(page_url, {"subject": "Changed", "body": "x", "audience": "all"}).status_code == 422
    deliver_all(app)
    assert sorted((m["To"], m["Subject"]) for m in update_mail(outbox)) == [
        ("ana@example.org", "Good news"),
        ("bea@example.org", "Gute Nachricht"),
    ]
    figures = writer.get(page_url + "/progress").json
    assert figures == {"status": "sent", "recipients": 2, "queued": 0, "sent": 2, "failed": 0, "in_doubt": 0,
                       "skipped": 0, "unsubscribed": 0}  # fmt: skip
    listing = writer.get("/organiser/p/demo/updates").get_data(as_text=True)
    assert "Good news" in listing and "writer@example.org" in listing


def test_viewers_and_strangers_cannot_write_or_send(app, petition_id, make_petition, make_organiser, web, sign_up):
    sign_up("ana@example.org")
    update_id, _ = send_update(app, petition_id)
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        draft = updates.draft(db.session, petition, subject="Draft", body="x", audience=Audience.ALL, now=utcnow())
        db.session.commit()
        draft_id = draft.id
    make_organiser("viewer@example.org", petition_id, "viewer")
    make_organiser("stranger@example.org", make_petition(slug="other"), "owner")
    viewer, stranger, anonymous = web("viewer@example.org"), web("stranger@example.org"), web()
    base = "/organiser/p/demo/updates"
    attempts = [
        ("GET", base, None), ("GET", f"{base}/new", None), ("POST", f"{base}/new", {"subject": "x", "body": "y"}),
        ("GET", f"{base}/{draft_id}", None), ("POST", f"{base}/{draft_id}", {"subject": "x", "body": "y"}),
        ("POST", f"{base}/{draft_id}/translation", {"lang": "de", "subject": "x", "body": "y"}),
        ("POST", f"{base}/{draft_id}/test", {}), ("POST", f"{base}/{draft_id}/send", {}),
        ("POST", f"{base}/{update_id}/pause", {}), ("POST", f"{base}/{update_id}/resume", {}),
        ("GET", f"{base}/{update_id}/progress", None),
    ]  # fmt: skip
    for method, url, data in attempts:
        for person, expected in ((viewer, 403), (stranger, 404)):
            answer = person.get(url) if method == "GET" else person.post(url, data)
            assert answer.status_code == expected, (method, url, expected)
        answer = anonymous.get(url) if method == "GET" else anonymous.post(url, data)
        assert answer.status_code in (303, 401), (method, url)
    assert 'href="/organiser/p/demo/updates"' not in viewer.get("/organiser/p/demo").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CampaignUpdate, draft_id).status == UpdateStatus.DRAFT
        assert db.session.get(CampaignUpdate, draft_id).subject == "Draft"


def test_an_owner_adds_an_editor_who_is_told_what_they_may_do(app, petition_id, owner, outbox):
    assert owner.post("/organiser/p/demo/team", {"email": "writer@example.org", "role": "editor"}).status_code == 303
    deliver_all(app)
    [invite] = outbox.to("writer@example.org")
    assert "editor" in outbox.text_of(invite) and "write updates" in outbox.text_of(invite)


@pytest.mark.postgresql_only
def test_two_workers_share_an_update_without_sending_anything_twice(app, petition_id, outbox):
    with app.app_context():
        synthetic.fill(db.session, db.session.get(Petition, petition_id), 300, 1.0, utcnow() - timedelta(days=1))
        db.session.commit()
    update_id, _ = send_update(app, petition_id, audience=Audience.ALL)
    start, errors, sent = threading.Barrier(2), [], {}

    def work(name):
        try:
            with app.app_context():
                mailer = Mailer(worker=name)
                start.wait()
                total = 0
                while report := mailer.updates.deliver(db.session, utcnow()):
                    total += report.sent
                    if not report.claimed:
                        break
                sent[name] = total
                mailer.close()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("worker-a", "worker-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    ids = [m["Message-ID"] for m in update_mail(outbox)]
    assert len(ids) == 300 and len(set(ids)) == 300
    assert all(n > 0 for n in sent.values()), sent
    assert progress(app, update_id).sent == 300


def test_update_mail_headers_are_parsed_back_identically(app, petition_id, sign_up, outbox):
    sign_up("ana@example.org", "el")
    send_update(app, petition_id, subject="Νέα: =?UTF-8?Q?=0A?=Bcc: evil@example.org", body="Κείμενο")
    deliver_all(app)
    [message] = update_mail(outbox)
    assert message.get_all("To") == ["ana@example.org"] and message["Bcc"] is None
    raw = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert raw["Subject"] == message["Subject"] and "\n" not in str(message["Subject"])


class DroppingSink(SmtpSink):
    """Drops the connection once the message data has arrived for some recipients: the client cannot
    tell whether the message was taken."""

    def __init__(self):
        super().__init__()
        self.drop_data: set[str] = set()

    async def handle_DATA(self, server, session, envelope):
        if self.drop_data & set(envelope.rcpt_tos):
            server.transport.abort()
            return "250 OK"
        return await super().handle_DATA(server, session, envelope)


def test_a_connection_lost_while_the_message_went_out_counts_in_doubt_and_is_never_resent(app, petition_id, sign_up):
    sink = DroppingSink()
    app.config["MAIL_URL"] = sink.url
    sink.start()
    try:
        sign_up("ana@example.org")
        sign_up("bea@example.org")
        deliver_all(app)
        sink.drop_data.add("bea@example.org")
        update_id, _ = send_update(app, petition_id)
        deliver_all(app)
        sink.drop_data.clear()
        deliver_all(app)
        later = deliver_all(app)
    finally:
        sink.stop()
    figures = progress(app, update_id)
    assert (figures.sent, figures.in_doubt, figures.queued) == (1, 1, 0)
    assert later == {"sent": 0, "retried": 0, "failed": 0}
    assert not [r for r in sink.to("bea@example.org") if b"List-Unsubscribe-Post" in r.data], "not sent again"


def test_an_update_without_a_subject_is_refused_with_its_text_kept_and_a_draft_is_edited_in_the_same_form(
    app, petition_id, owner
):
    blank = {"subject": "", "body": "Keep *this* text.", "audience": "all"}
    refused = owner.post("/organiser/p/demo/updates/new", blank)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert '<div class="error" role="alert"><p>The subject must be 1 to 200 characters.</p></div>' in page
    assert "Keep *this* text.</textarea>" in page
    assert '<input checked id="audience-1" name="audience" type="radio" value="all">' in page
    assert '<button type="submit">Save the draft</button>' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CampaignUpdate)) == 0

    created = owner.post("/organiser/p/demo/updates/new", {"subject": "News", "body": "Text.", "audience": "all"})
    draft = owner.get(created.headers["Location"]).get_data(as_text=True)
    assert '<input id="subject" maxlength="200" name="subject" type="text" value="News">' in draft
    assert '<button type="submit">Save</button>' in draft
