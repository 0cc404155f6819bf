"""Signers' rights: the privacy notice, withdrawing, asking what is held; IPs never kept in clear."""

import re
from datetime import timedelta

from sqlalchemy import select, text

from petition.extensions import db
from petition.models import OutboxMessage, Signature
from petition.timeutil import utcnow

WITHDRAW_LINK = re.compile(r"http://petitions\.test(/withdraw/[A-Za-z0-9._-]+)")


def withdraw_path(outbox, address):
    for message in reversed(outbox.to(address)):
        match = WITHDRAW_LINK.search(outbox.text_of(message))
        if match:
            return match.group(1)
    raise AssertionError(f"no withdrawal link was sent to {address}")


def total(client):
    return client.get("/api/v1/petitions/demo").json["total"]


def signature_count(app):
    with app.app_context():
        return len(db.session.scalars(select(Signature)).all())


def test_the_privacy_notice_says_what_is_kept_why_for_how_long_and_by_whom(app, client, petition_id):
    app.config.update(PRIVACY_CONTROLLER="Reclaim Your Face coalition", PRIVACY_CONTACT="privacy@example.org")
    page = client.get("/privacy").get_data(as_text=True)
    for words in ("Reclaim Your Face coalition", "privacy@example.org", "Email address", "IP address",
                  "Deleted after 7 days", "retention date", "encrypted"):  # fmt: skip
        assert words in page, words
    assert 'href="/privacy"' in client.get("/p/demo").get_data(as_text=True)


def test_without_a_configured_controller_the_notice_names_the_organisers_in_the_readers_language(app, client):
    assert app.config["PRIVACY_CONTROLLER"] is None
    english = client.get("/privacy").get_data(as_text=True)
    assert "The controllers of your data are the organisers of the campaign you signed." in english
    german = client.get("/privacy?lang=de").get_data(as_text=True)
    assert "Verantwortlich für Ihre Daten sind die Organisatoren der Kampagne, die Sie unterschrieben haben." in german
    assert "the organisers" not in german


def test_a_signer_withdraws_a_confirmed_signature_and_it_is_uncounted_and_deleted(
    app, client, petition_id, sign_form, outbox
):
    sign_form(email="ana@example.org")
    sign_form(email="ben@example.org")
    outbox.deliver()
    client.post(outbox.confirm_path("ana@example.org"))
    client.post(outbox.confirm_path("ben@example.org"))
    assert total(client) == 2
    link = withdraw_path(outbox, "ana@example.org")

    page = client.get(link)
    assert page.status_code == 200 and "Withdraw my signature" in page.get_data(as_text=True)
    assert total(client) == 2, "opening the link changes nothing"

    response = client.post(link)
    assert response.status_code == 303
    assert "withdrawn" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert total(client) == 1
    assert signature_count(app) == 1
    again = client.post(link)
    assert again.status_code == 400 and "This link does not work" in again.get_data(as_text=True)
    assert client.post(outbox.confirm_path("ana@example.org")).status_code == 400
    assert total(client) == 1


def test_withdrawing_a_pending_signature_deletes_it_and_its_queued_mail(app, client, petition_id, sign_form, outbox):
    sign_form(email="ana@example.org")
    outbox.deliver()
    sign_form(email="ana@example.org")  # a second link is queued, not yet sent
    client.post(withdraw_path(outbox, "ana@example.org"))

    assert signature_count(app) == 0
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued")).all() == []
    assert total(client) == 0
    # The person may sign again later.
    assert sign_form(email="ana@example.org").status_code == 303
    assert signature_count(app) == 1


def request_data(client, email):
    page = client.get("/privacy/request").get_data(as_text=True)
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/privacy/request", data={"email": email, "form_token": token})


def test_asking_what_is_held_emails_it_to_the_address_only(app, client, make_petition, sign_form, outbox):
    make_petition(slug="demo")
    make_petition(slug="cams", rules="simple")
    sign_form(slug="demo", email="ana@example.org", first_name="Ana", country="DE")
    sign_form(slug="cams", email="ana@example.org", first_name="Ana", country="RS")
    outbox.deliver()
    before = len(outbox.messages())

    known = request_data(client, "Ana@Example.org")
    unknown = request_data(client, "nobody@example.org")

    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    outbox.deliver()
    reports = outbox.messages()[before:]
    assert len(reports) == 2 and {m["To"] for m in reports} == {"ana@example.org"}
    bodies = "\n".join(outbox.text_of(m) for m in reports)
    assert "First name: Ana" in bodies and "Country: Germany" in bodies and "Country: Serbia" in bodies
    assert "/withdraw/" in bodies


def test_a_malformed_address_in_a_data_request_gets_a_message(client, petition_id):
    response = request_data(client, "not an address")
    assert response.status_code == 422
    assert "Please enter a valid email address" in response.get_data(as_text=True)


def test_ip_addresses_are_kept_only_as_short_keyed_hashes(app, client, petition_id, sign_form):
    sign_form(email="ana@example.org")
    with app.app_context():
        row = db.session.execute(text("SELECT ip_hash FROM signatures")).one()
        dump = repr(db.session.execute(text("SELECT * FROM signatures")).all())
    assert row.ip_hash and len(row.ip_hash) == 16
    assert "127.0.0.1" not in dump


def test_the_daily_purge_forgets_ip_hashes_after_the_configured_days(app, petition_id, sign_form, runner):
    sign_form(email="old@example.org")
    sign_form(email="new@example.org")
    with app.app_context():
        old = db.session.scalars(select(Signature).order_by(Signature.id)).first()
        old.created_at = utcnow() - timedelta(days=app.config["IP_HASH_DAYS"] + 1)
        db.session.commit()

    result = runner.invoke(args=["purge"])

    assert result.exit_code == 0, result.output
    assert "purge: 1 IP address hash(es)" in result.output
    with app.app_context():
        hashes = [s.ip_hash for s in db.session.scalars(select(Signature).order_by(Signature.id))]
    assert hashes[0] is None and hashes[1] is not None


NEW_KEY = "2m0DyKqg6pWcZb8s5x4vN1tR7uQeHjLaFoIkPzYwXcU="


def test_rotating_the_data_key_keeps_every_signature_readable(app, runner, petition_id, sign_form, outbox):
    sign_form(email="ana@example.org", first_name="Ana")
    old_key = app.config["DATA_KEYS"]
    app.config["DATA_KEYS"] = f"{NEW_KEY},{old_key}"

    result = runner.invoke(args=["rotate-keys"])
    assert result.exit_code == 0 and "1 signature(s) re-encrypted" in result.output
    assert "0 signature(s)" in runner.invoke(args=["rotate-keys"]).output

    app.config["DATA_KEYS"] = NEW_KEY  # the old key is gone: everything must open with the new one
    outbox.deliver()
    [message] = outbox.to("ana@example.org")
    assert "Hello Ana," in outbox.text_of(message)


def test_request_logs_never_show_link_tokens(app, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('"%s %s HTTP/1.1" %s', "POST", "/confirm/eyJzIjoxfQ.aw.sig", 303)
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        logging.getLogger("gunicorn.access").info("%(r)s", {"r": "GET /withdraw/eyJzIjoxfQ.aw.sig?x=1 HTTP/1.1"})
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ['"POST /confirm/[token] HTTP/1.1" 303', "GET /withdraw/[token]?x=1 HTTP/1.1"]


def test_the_widget_links_to_the_privacy_notice_in_a_new_tab(client, petition_id, make_partner):
    """Inside a partner's iframe the notice (which refuses framing) opens in its own tab."""
    partner_id, _ = make_partner()
    widget = client.get(f"/embed/demo?partner={partner_id}").get_data(as_text=True)
    assert re.search(r'<a href="/privacy\?lang=en" target="_blank" rel="noopener">How we handle your data</a>', widget)
    assert client.get("/privacy?lang=en").status_code == 200
    # in the widget's language
    polish = client.get(f"/embed/demo?partner={partner_id}&lang=pl").get_data(as_text=True)
    assert re.search(r'<a href="/privacy\?lang=pl" target="_blank" rel="noopener">', polish)
