"""The widget partners embed, through the test client: what it shows, who may frame it, signing from
inside it, and the share page partners copy the code from."""

import re

from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition, PetitionStatus, Signature, SignatureStatus
from petition.services import partners
from petition.timeutil import utcnow
from tests.conftest import form_token_of
from tests.helpers.fixtures import form_fields

# What a browser sends when the form inside our iframe is submitted: the iframe's origin is ours.
OWN_FORM_POST = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}


def frame_ancestors(response) -> str:
    match = re.search(r"frame-ancestors ([^;]*)", response.headers["Content-Security-Policy"])
    assert match, response.headers["Content-Security-Policy"]
    return match.group(1)


def signatures(app) -> list[Signature]:
    with app.app_context():
        return db.session.scalars(select(Signature).order_by(Signature.id)).all()


def with_partner(app, partner_id, change):
    with app.app_context():
        change(partners.get_by_public_id(db.session, partner_id))
        db.session.commit()


def test_the_widget_shows_the_petitions_own_text_total_and_form(
    client, make_petition, make_partner, confirmed_signature
):
    petition_id = make_petition(summary="Stop facial recognition in our streets.")
    confirmed_signature(petition_id)
    partner_id, _ = make_partner()

    page = client.get(f"/embed/demo?partner={partner_id}&title=Hacked&summary=Hacked")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "<h1>Ban biometric mass surveillance</h1>" in html
    assert "Stop facial recognition in our streets." in html
    assert "Hacked" not in html
    assert '<strong data-live="total">1</strong>' in html
    assert 'name="form_token"' in html
    assert f'action="/embed/demo/sign?partner={partner_id}"' in html
    assert "Collected with Digital Rights NGO." in html
    assert 'href="http://petitions.test/p/demo" target="_blank"' in html
    assert "<script>" not in html, "no inline scripts: the CSP forbids them"


def test_a_partner_chooses_theme_and_language_but_nothing_else(client, petition_id, make_partner):
    partner_id, _ = make_partner()
    dark = client.get(f"/embed/demo?partner={partner_id}&theme=dark&lang=en").get_data(as_text=True)
    assert 'class="widget theme-dark"' in dark
    assert 'lang="en"' in dark
    odd = client.get(f"/embed/demo?partner={partner_id}&theme=<script>&lang=xx").get_data(as_text=True)
    assert 'class="widget theme-light"' in odd and 'lang="en"' in odd
    assert "<script>&" not in odd


def test_the_widget_may_be_framed_only_by_its_partners_registered_sites(client, petition_id, make_partner):
    partner_id, _ = make_partner(origins=["https://ngo.example", "https://campaign.ngo.example:8443"])

    page = client.get(f"/embed/demo?partner={partner_id}")
    assert frame_ancestors(page) == "'self' https://campaign.ngo.example:8443 https://ngo.example"
    assert "X-Frame-Options" not in page.headers
    assert page.headers["Cache-Control"] == "no-store"


def test_every_other_page_refuses_framing(client, petition_id, make_partner):
    partner_id, _ = make_partner()
    pages = ["/", "/p/demo", f"/p/demo/share?partner={partner_id}", f"/p/demo?partner={partner_id}", "/nope"]
    for path in [*pages, "/p/demo/check-email", "/api/v1/petitions/demo", "/embed.js"]:
        response = client.get(path)
        assert frame_ancestors(response) == "'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_an_unknown_revoked_or_unlinked_partner_gets_no_widget(app, client, make_petition, make_partner):
    make_petition(slug="demo")
    make_petition(slug="cameras", rules="simple", goal=10_000)
    partner_id, _ = make_partner(petitions=["cameras"])
    revoked_id, _ = make_partner(name="Gone")
    with_partner(app, revoked_id, lambda p: partners.revoke(db.session, p, utcnow()))

    for partner in ("nobody", partner_id, revoked_id):
        response = client.get(f"/embed/demo?partner={partner}")
        assert response.status_code == 404, partner
        # The error page is framable by nobody but us: the partner's site shows the browser's refusal.
        assert frame_ancestors(response) == "'self'", partner


def test_origin_changes_apply_on_the_next_request_without_a_restart(app, client, petition_id, make_partner):
    partner_id, _ = make_partner(origins=["https://ngo.example"])
    with_partner(app, partner_id, lambda p: partners.add_origin(db.session, p, "https://news.example/page"))
    assert "https://news.example" in frame_ancestors(client.get(f"/embed/demo?partner={partner_id}"))

    with_partner(app, partner_id, lambda p: partners.remove_origin(db.session, p, "https://ngo.example"))
    assert "https://ngo.example" not in frame_ancestors(client.get(f"/embed/demo?partner={partner_id}"))

    with_partner(app, partner_id, lambda p: partners.revoke(db.session, p, utcnow()))
    assert frame_ancestors(client.get(f"/embed/demo?partner={partner_id}")) == "'self'"


def test_the_widget_posts_its_height_only_to_a_checked_origin(client, petition_id, make_partner):
    partner_id, _ = make_partner(origins=["https://ngo.example"])
    registered = client.get(f"/embed/demo?partner={partner_id}&origin=https://ngo.example").get_data(as_text=True)
    assert 'data-parent-origin="https://ngo.example"' in registered
    stranger = client.get(f"/embed/demo?partner={partner_id}&origin=https://evil.example").get_data(as_text=True)
    assert "data-parent-origin" not in stranger


def sign_in_widget(client, partner_id, query="", headers=None, **overrides):
    """Load the widget and send its form as a browser would, hidden fields included."""
    html = client.get(f"/embed/demo?partner={partner_id}{query}").get_data(as_text=True)
    data = form_fields(**overrides)
    data.setdefault("form_token", form_token_of(html))
    data.setdefault("source", re.search(r'name="source" type="hidden" value="([^"]*)"', html).group(1))
    action = re.search(r'<form class="sign-form" method="post" action="([^"]+)"', html)
    return client.post(action.group(1).replace("&amp;", "&"), data=data, headers=headers or OWN_FORM_POST)


def test_signing_in_the_widget_credits_the_partner_and_the_source_code(app, client, petition_id, make_partner, outbox):
    partner_id, _ = make_partner()
    response = sign_in_widget(client, partner_id, "&source=june-letter&theme=dark", email="ana@example.org")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/embed/demo/check-email?partner={partner_id}&theme=dark"
    done = client.get(response.headers["Location"])
    assert "Check your inbox" in done.get_data(as_text=True)
    assert "https://ngo.example" in frame_ancestors(done)
    [signature] = signatures(app)
    assert signature.status == SignatureStatus.PENDING
    assert signature.source == f"widget:{partner_id}/june-letter"
    outbox.deliver()
    # The link leads to our own page, opened top-level from the email, never inside the partner's frame.
    link = outbox.confirm_path("ana@example.org")
    confirm_page = client.get(link)
    assert frame_ancestors(confirm_page) == "'none'"
    client.post(link)
    assert signatures(app)[0].status == SignatureStatus.CONFIRMED


def test_the_widget_speaks_the_partners_data_lang_else_the_readers_browser(client, petition_id, make_partner):
    partner_id, _ = make_partner()
    serbian = client.get(f"/embed/demo?partner={partner_id}&lang=sr-Cyrl").get_data(as_text=True)
    assert 'lang="sr-Cyrl"' in serbian and "Потпишите" in serbian
    polish = client.get(f"/embed/demo?partner={partner_id}", headers={"Accept-Language": "pl,en;q=0.5"})
    assert "Podpisz" in polish.get_data(as_text=True)


def test_the_widget_shows_the_petitions_own_translation_in_its_language(runner, client, petition_id, make_partner):
    partner_id, _ = make_partner()
    args = ["petition", "translate", "--slug", "demo", "--lang", "de", "--title", "Biometrische Überwachung verbieten"]
    assert runner.invoke(args=args).exit_code == 0

    german = client.get(f"/embed/demo?partner={partner_id}&lang=de").get_data(as_text=True)
    english = client.get(f"/embed/demo?partner={partner_id}&lang=en").get_data(as_text=True)

    assert "<h1>Biometrische Überwachung verbieten</h1>" in german
    assert "<h1>Ban biometric mass surveillance</h1>" in english


def test_a_signer_in_a_german_widget_gets_the_email_in_german(app, client, petition_id, make_partner, outbox):
    partner_id, _ = make_partner()
    sign_in_widget(client, partner_id, "&lang=de", email="ana@example.org")
    outbox.deliver()
    [message] = outbox.to("ana@example.org")
    assert message["Content-Language"] == "de"
    assert "Unterschrift" in message["Subject"]


def test_a_bad_source_code_is_dropped_not_stored(app, client, petition_id, make_partner):
    partner_id, _ = make_partner()
    sign_in_widget(client, partner_id, source="<b>x</b>")
    assert signatures(app)[0].source == f"widget:{partner_id}"


def test_the_widget_on_our_own_share_page_counts_as_our_site(app, client, petition_id):
    page = client.get("/embed/demo")
    assert frame_ancestors(page) == "'self'"
    data = form_fields(form_token=form_token_of(page.get_data(as_text=True)))
    assert client.post("/embed/demo/sign", data=data, headers=OWN_FORM_POST).status_code == 303
    assert signatures(app)[0].source == "web"


def test_invalid_fields_are_shown_inside_the_widget(app, client, petition_id, make_partner):
    partner_id, _ = make_partner()
    response = sign_in_widget(client, partner_id, email="not-an-address", consent=None)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error">Please enter a valid email address.' in html
    assert 'id="consent-error">Please tick this box to sign' in html
    assert 'class="widget theme-light"' in html
    assert signatures(app) == []


def test_a_post_from_the_partners_page_itself_is_refused(app, client, petition_id, make_partner):
    partner_id, _ = make_partner()
    response = sign_in_widget(
        client, partner_id, headers={"Origin": "https://ngo.example", "Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403
    assert "not recorded" in response.get_data(as_text=True)
    assert signatures(app) == []


def test_an_expired_widget_form_is_shown_again_with_a_fresh_token(app, client, petition_id, make_partner):
    partner_id, _ = make_partner()
    response = client.post(
        f"/embed/demo/sign?partner={partner_id}", data=form_fields(form_token="expired"), headers=OWN_FORM_POST
    )
    assert response.status_code == 400
    assert "This form had expired" in response.get_data(as_text=True)
    retry = client.post(
        f"/embed/demo/sign?partner={partner_id}",
        data=form_fields(form_token=form_token_of(response.get_data(as_text=True))),
        headers=OWN_FORM_POST,
    )
    assert retry.status_code == 303


def test_a_closed_petition_shows_no_form_in_the_widget(app, client, petition_id, make_partner):
    partner_id, _ = make_partner()
    token = form_token_of(client.get(f"/embed/demo?partner={partner_id}").get_data(as_text=True))
    with app.app_context():
        db.session.get(Petition, petition_id).status = PetitionStatus.CLOSED
        db.session.commit()
    page = client.get(f"/embed/demo?partner={partner_id}").get_data(as_text=True)
    assert "closed" in page and 'name="form_token"' not in page
    response = client.post(
        f"/embed/demo/sign?partner={partner_id}", data=form_fields(form_token=token), headers=OWN_FORM_POST
    )
    assert response.status_code == 403
    assert signatures(app) == []


def test_embed_js_is_served_as_a_cacheable_script(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "max-age=300" in response.headers["Cache-Control"]
    assert b"petition-widget:height" in response.get_data()


def test_the_share_page_gives_a_partner_its_embed_code_preview_and_api_examples(client, petition_id, make_partner):
    partner_id, _ = make_partner()
    html = client.get(f"/p/demo/share?partner={partner_id}").get_data(as_text=True)

    assert (
        f"&lt;script src=&#34;http://petitions.test/embed.js&#34; data-petition=&#34;demo&#34; "
        f"data-partner=&#34;{partner_id}&#34; async&gt;&lt;/script&gt;"
    ) in html
    assert f'<script src="/embed.js" data-petition="demo" data-partner="{partner_id}"' in html
    assert "curl http://petitions.test/api/v1/petitions/demo" in html
    assert "Authorization: Bearer $PETITION_API_KEY" in html
    assert "http://petitions.test/api/v1/partner/stats" in html
    assert '"slug": "demo"' in html, "the petition's real JSON as an example"
    assert 'href="/api/v1/openapi.json"' in html
    # every data-lang a partner may write, as the widget reads it
    assert "<code>data-lang</code>: en, bg, cs," in html and "sr-Cyrl, sr-Latn, sv" in html


def test_the_share_page_without_a_partner_id_explains_how_to_get_one(client, petition_id, make_petition):
    html = client.get("/p/demo/share").get_data(as_text=True)
    assert "YOUR-PARTNER-ID" in html
    assert '<script src="/embed.js" data-petition="demo" data-title' in html
    make_petition(slug="later", draft=True)
    assert client.get("/p/later/share").status_code == 404
