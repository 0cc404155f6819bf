"""Signing through the form: what a signer sees, what is stored, and which email goes out."""

import re
import time
from datetime import date

from sqlalchemy import func, select, text

from petition.extensions import db
from petition.models import (
    OutboxMessage,
    Petition,
    PetitionStatus,
    Signature,
    SignatureActivity,
    SignatureCount,
    SignatureStatus,
)
from petition.services import confirming, signing
from petition.timeutil import utcnow
from tests.conftest import form_token_of
from tests.helpers.fixtures import form_fields, signer


def signatures(app) -> list[Signature]:
    with app.app_context():
        return db.session.scalars(select(Signature).order_by(Signature.id)).all()


def test_signing_stores_a_pending_signature_and_mails_a_confirmation_link(app, petition_id, sign_form, outbox):
    response = sign_form(email="ana@example.org", country="DE")

    assert response.status_code == 303
    assert response.headers["Location"] == "/p/demo/check-email"
    [signature] = signatures(app)
    assert signature.status == SignatureStatus.PENDING and signature.country == "DE"
    assert outbox.deliver() == 1
    [message] = outbox.to("ana@example.org")
    assert "Ban biometric mass surveillance" in message["Subject"]
    assert outbox.confirm_path("ana@example.org").startswith("/confirm/")
    assert app.test_client().get("/api/v1/petitions/demo").json["total"] == 0


def test_check_email_page_tells_the_signer_what_to_do(client, petition_id):
    page = client.get("/p/demo/check-email")
    assert page.status_code == 200
    assert "Check your inbox" in page.get_data(as_text=True)


def test_each_invalid_field_gets_its_own_message_and_nothing_is_stored(app, petition_id, sign_form, outbox):
    response = sign_form(first_name="  ", last_name="K\u202eovač", email="not-an-address", country="XX", consent=None)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field, message in [
        ("first_name", "This field is required."),
        ("last_name", "Please remove invisible or control characters."),
        ("email", "Please enter a valid email address."),
        ("country", "Please choose a country from the list."),
        ("consent", "Please tick this box to sign"),
    ]:
        assert f'id="{field}-error">{message}' in html, field
    assert 'value="not-an-address"' in html, "what the signer typed is kept"
    assert signatures(app) == []
    assert outbox.deliver() == 0


def test_greece_may_be_given_as_el(app, petition_id, sign_form):
    assert sign_form(country="EL").status_code == 303
    assert signatures(app)[0].country == "GR"


def test_names_are_trimmed_and_normalised(app, petition_id, sign_form, outbox):
    sign_form(first_name="  Zoe\u0301   Marie ", last_name="Kovač")
    outbox.deliver()
    body = outbox.text_of(outbox.to("ana@example.org")[0])
    assert "Hello Zo\u00e9 Marie," in body


def test_signers_outside_the_eu_cannot_sign_an_eci_petition(app, petition_id, sign_form):
    response = sign_form(country="US")
    assert response.status_code == 422
    assert signatures(app) == []


def test_simple_petitions_accept_any_iso_country(app, make_petition, sign_form):
    make_petition(slug="cameras", rules="simple", goal=10_000)
    assert sign_form(slug="cameras", country="RS").status_code == 303
    assert signatures(app)[0].country == "RS"


def test_the_country_list_speaks_the_readers_language_and_keeps_a_choice_shown_with_an_error(
    app, petition_id, make_petition, client
):
    from petition.rules.countries import iso_countries

    make_petition(slug="cameras", rules="simple", goal=10_000)
    page = client.get("/p/cameras?lang=de").text
    options = re.findall(r"<option[^>]*>[^<]*</option>", page)
    assert len(options) == 1 + len(iso_countries()) and '<option value="RS">Serbien</option>' in options
    assert re.findall(r"<option selected[^>]*>", page) == ['<option selected value="">'], "the prompt, till chosen"
    fields = form_fields(country="RS", consent=None, form_token=form_token_of(page))
    again = client.post("/p/cameras/sign?lang=de", data=fields)
    assert again.status_code == 422
    chosen = re.findall(r"<option selected[^>]*>[^<]*</option>", again.text)
    assert chosen == ['<option selected value="RS">Serbien</option>']
    eci_page = client.get("/p/demo?lang=fr").text
    assert len(re.findall(r"<option ", eci_page)) == 1 + 27 and '<option value="DE">Allemagne</option>' in eci_page


def test_the_country_list_has_wtforms_own_markup(app):
    """The cached options (forms.CountrySelect) against WTForms' own Select, which rendered them before."""
    from werkzeug.datastructures import MultiDict
    from wtforms.widgets import Select

    from petition.public.forms import SignForm
    from petition.rules import eci
    from petition.rules.countries import iso_countries

    for lang in ("en", "de", "el"):
        for countries, is_eci in ((frozenset(eci.member_states()), True), (iso_countries(), False)):
            for chosen in (None, "DE", "de", "EL", "XX", "", '"><script>'):
                with app.test_request_context(f"/?lang={lang}"):
                    formdata = None if chosen is None else MultiDict({"country": chosen})
                    form = SignForm(formdata=formdata, allowed_countries=countries, locale=lang, eci=is_eci)
                    for attributes in ({}, {"required": True, "aria-describedby": "country-error country-hint"}):
                        assert str(form.country(**attributes)) == str(Select()(form.country, **attributes))


def test_the_response_is_the_same_for_new_pending_and_confirmed_addresses(app, petition_id, sign_form, client, outbox):
    first = sign_form(email="ana@example.org")
    again_pending = sign_form(email="ana@example.org")
    outbox.deliver()
    assert client.post(outbox.confirm_path("ana@example.org")).status_code == 200
    again_confirmed = sign_form(email="ana@example.org")

    for response in (again_pending, again_confirmed):
        assert response.status_code == first.status_code
        assert response.headers["Location"] == first.headers["Location"]
        assert response.get_data() == first.get_data()
        assert response.headers.get("Set-Cookie") == first.headers.get("Set-Cookie")


def test_signing_again_while_pending_resends_the_link_at_most_five_times(app, petition_id, sign_form, outbox):
    for _ in range(8):
        assert sign_form(email="ana@example.org").status_code == 303
    outbox.deliver()

    assert len(outbox.to("ana@example.org")) == 5
    assert len(signatures(app)) == 1


def test_signing_again_after_confirming_sends_an_already_signed_email(app, petition_id, sign_form, client, outbox):
    sign_form(email="ana@example.org")
    outbox.deliver()
    assert client.post(outbox.confirm_path("ana@example.org")).status_code == 200
    already_there = {message["Message-ID"] for message in outbox.messages()}

    sign_form(email="Ana+again@EXAMPLE.org")
    outbox.deliver()

    [reply] = [message for message in outbox.messages() if message["Message-ID"] not in already_there]
    assert reply["To"] == "ana@example.org"
    assert "You have already signed" in reply["Subject"]
    texts = [part.get_content() for part in reply.walk() if part.get_content_maintype() == "text"]
    assert len(texts) == 2 and not any("/confirm/" in text for text in texts), "no confirmation link in either part"
    assert client.get("/api/v1/petitions/demo").json["total"] == 1


def test_addresses_differing_only_in_case_or_plus_tag_are_one_signer(app, petition_id, sign_form):
    sign_form(email="ana@example.org")
    sign_form(email="ANA+petitions@Example.ORG")
    assert len(signatures(app)) == 1


def test_the_database_refuses_a_second_signature_with_the_same_email_hash(app, petition_id, sign_form):
    sign_form(email="ana@example.org")
    with app.app_context():
        existing = db.session.scalars(select(Signature)).one()
        clone = Signature(
            petition_id=existing.petition_id,
            status=SignatureStatus.PENDING,
            email_hash=existing.email_hash,
            email_sealed=b"x",
            first_name_sealed=b"x",
            last_name_sealed=b"x",
            country="DE",
        )
        db.session.add(clone)
        try:
            db.session.commit()
        except Exception as error:
            assert "unique" in str(error).lower()
        else:
            raise AssertionError("a duplicate email hash was accepted")


def test_no_name_or_address_is_readable_in_the_database(app, petition_id, sign_form):
    sign_form(first_name="Ana", last_name="Kovač", email="ana.kovac@example.org")
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM signatures")).all()
        outbox_rows = db.session.execute(text("SELECT * FROM outbox")).all()
    dump = repr(rows + outbox_rows).lower()
    for secret in ("ana.kovac", "example.org", "kovač", "kova\\xc4\\x8d", "ana"):
        assert secret not in dump


def test_a_new_signature_and_its_email_are_committed_together(app, petition_id, sign_form):
    sign_form()
    with app.app_context():
        [message] = db.session.scalars(select(OutboxMessage)).all()
        [signature] = db.session.scalars(select(Signature)).all()
        assert message.signature_id == signature.id and message.kind == "confirm"


def test_signing_and_confirming_inside_a_callers_transaction_are_undone_with_it(app, petition_id):
    """On PostgreSQL a lone signature or confirmation commits by itself (one round trip); inside a
    transaction its caller opened, it must stand or fall with what the caller wrote before it."""
    with app.app_context():
        title = db.session.get(Petition, petition_id).title

        def caller_writes_first():
            db.session.get(Petition, petition_id).title = "Renamed, then rolled back"
            db.session.flush()  # written inside the caller's transaction, not yet committed

        caller_writes_first()
        signing.sign(db.session, db.session.get(Petition, petition_id), signer("ana@example.org"), now=utcnow())
        db.session.rollback()
        assert db.session.scalars(select(Signature)).all() == []
        assert db.session.scalars(select(OutboxMessage)).all() == []
        assert db.session.scalar(select(func.coalesce(func.sum(SignatureActivity.signed), 0))) == 0

        signing.sign(db.session, db.session.get(Petition, petition_id), signer("ana@example.org"), now=utcnow())
        db.session.commit()
        [signature_id] = db.session.scalars(select(Signature.id)).all()
        caller_writes_first()
        assert confirming.confirm(db.session, signature_id, utcnow()) is not None
        db.session.rollback()
        assert db.session.get(Signature, signature_id).status == SignatureStatus.PENDING
        assert db.session.scalar(select(func.coalesce(func.sum(SignatureCount.count), 0))) == 0
        assert db.session.get(Petition, petition_id).title == title


def test_an_expired_form_asks_to_send_again_and_keeps_what_was_typed(app, petition_id, client):
    response = client.post("/p/demo/sign", data=form_fields(first_name="Ana", form_token="expired.or.forged"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form had expired" in html
    assert 'value="Ana"' in html
    assert signatures(app) == []
    # The page carries a fresh token that works.
    retry = client.post("/p/demo/sign", data=form_fields(form_token=form_token_of(html)))
    assert retry.status_code == 303


def test_a_post_from_another_site_is_refused(app, petition_id, client):
    token = form_token_of(client.get("/p/demo").get_data(as_text=True))
    response = client.post(
        "/p/demo/sign",
        data=form_fields(form_token=token),
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert "not recorded" in response.get_data(as_text=True)
    assert signatures(app) == []


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


def test_a_form_sent_sooner_than_a_person_types_asks_for_one_more_click(app, petition_id, sign_form, client, outbox):
    """A browser that fills the form in by itself sends it within MIN_FILL_SECONDS, like a script: the
    person is asked to press one more button, and a script gets no further without waiting."""
    app.config["MIN_FILL_SECONDS"] = 60
    response = sign_form(email="ana@example.org", keep_informed="y", source="june")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "One more step" in html and "Send my signature" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert signatures(app) == [] and outbox.deliver() == 0, "nothing is stored or sent yet"
    fields = hidden_fields(html)
    assert {k: v for k, v in fields.items() if k != "form_token"} == {
        "first_name": "Ana", "last_name": "Kovač", "email": "ana@example.org", "country": "DE",
        "consent": "y", "eligible": "y", "keep_informed": "y", "source": "june",
    }  # fmt: skip

    again = client.post("/p/demo/sign", data=fields)
    assert again.status_code == 200 and "One more step" in again.get_data(as_text=True), "still too soon"
    assert signatures(app) == []

    app.config["MIN_FILL_SECONDS"] = 1
    time.sleep(1.1)  # the person reads the page and presses the button
    sent = client.post("/p/demo/sign", data=hidden_fields(again.get_data(as_text=True)))
    assert sent.status_code == 303 and sent.headers["Location"] == "/p/demo/check-email"
    [signature] = signatures(app)
    assert signature.status == SignatureStatus.PENDING and signature.source == "web/june" and signature.keep_informed
    assert outbox.deliver() == 1 and outbox.confirm_path("ana@example.org")


def test_the_extra_step_looks_the_same_whatever_the_address_has_done(
    app, petition_id, sign_form, confirmed_signature, pending_signature
):
    confirmed_signature(petition_id, "done@example.org")
    pending_signature(petition_id, "waiting@example.org")
    app.config["MIN_FILL_SECONDS"] = 60

    def page_for(address: str) -> str:
        html = sign_form(email=address).get_data(as_text=True)
        return re.sub(r'value="[^"]*"', 'value=""', html)

    assert page_for("done@example.org") == page_for("waiting@example.org") == page_for("new@example.org")


def test_a_quick_form_with_the_honeypot_filled_is_still_quietly_not_counted(app, petition_id, sign_form, outbox):
    app.config["MIN_FILL_SECONDS"] = 60
    response = sign_form(email="bot@example.org", website="http://spam.example")
    assert response.status_code == 303 and response.headers["Location"] == "/p/demo/check-email"
    [signature] = signatures(app)
    assert signature.status == SignatureStatus.FLAGGED
    assert outbox.deliver() == 0


def test_a_filled_honeypot_is_quietly_not_counted(app, petition_id, sign_form, outbox):
    response = sign_form(email="bot@example.org", website="http://spam.example")
    assert response.status_code == 303
    assert signatures(app)[0].status == SignatureStatus.FLAGGED
    assert outbox.deliver() == 0


def test_a_closed_petition_refuses_signatures_with_a_clear_page(app, petition_id, client):
    token = form_token_of(client.get("/p/demo").get_data(as_text=True))
    with app.app_context():
        db.session.get(Petition, petition_id).status = PetitionStatus.CLOSED
        db.session.commit()
    response = client.post("/p/demo/sign", data=form_fields(form_token=token))
    assert response.status_code == 403
    assert "This petition is closed" in response.get_data(as_text=True)
    assert signatures(app) == []
    page = client.get("/p/demo").get_data(as_text=True)
    assert 'name="form_token"' not in page and "closed" in page


def test_a_draft_petition_is_not_public(app, make_petition, client):
    make_petition(slug="later", draft=True)
    assert client.get("/p/later").status_code == 404
    assert client.post("/p/later/sign", data=form_fields()).status_code == 404


def test_a_petition_past_its_closing_time_refuses_signatures(app, make_petition, client):
    make_petition(slug="old", rules="simple", closes_on=date.today())
    token = form_token_of(client.get("/p/old").get_data(as_text=True))
    with app.app_context():
        from datetime import UTC, datetime, timedelta

        petition = db.session.scalars(select(Petition).where(Petition.slug == "old")).one()
        petition.closes_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    response = client.post("/p/old/sign", data=form_fields(form_token=token))
    assert response.status_code == 403
