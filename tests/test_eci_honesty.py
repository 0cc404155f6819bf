"""Honest about the ECI: the legal status wherever someone signs or confirms, nationality instead of
country, the `eligible` statement of nationality and age, who runs the campaign and where to sign
officially, and the ECI's dates and figures read right."""

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.i18n import SUPPORTED_LOCALES, bcp47
from petition.models import Petition, Signature
from petition.rules import eci
from petition.rules.outlook import build_outlook
from petition.rules.progress import build_progress
from tests.helpers.catalogues import translator
from tests.helpers.fixtures import form_fields

pytestmark = pytest.mark.usefixtures("compiled_catalogues")

LEGAL = (
    "Since 1 January 2023, legally valid online statements of support for a European Citizens' Initiative can only "
    "be given through the European Commission's central online collection system; paper forms remain valid."
)
NOT_OFFICIAL = "Signing this petition shows your support for the campaign but is not an official statement of support."
OFFICIAL_URL = "https://eci.ec.europa.eu/045/public/"
ELIGIBLE = "I am a citizen of the member state I chose and old enough to sign there."


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def eci_notice(page: str) -> str | None:
    match = re.search(r'<div class="eci-notice">(.*?)</div>', page, re.S)
    return re.sub(r"[ \t\n]+", " ", match.group(1)) if match else None  # no-break spaces kept


@pytest.fixture
def official(app, petition_id):
    """The demo ECI with its organisers, registration number and page on the Commission's system."""
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        petition.organiser_name = "Reclaim Your Face coalition"
        petition.organiser_contact = "https://reclaim.example/contact"
        petition.eci_registration_number = "ECI(2024)000004"
        petition.eci_signing_url = OFFICIAL_URL
        db.session.commit()
    return petition_id


def confirmed_page(client, sign_form, outbox, address="ana@example.org", **query) -> str:
    sign_form(email=address)
    outbox.deliver()
    path = outbox.confirm_path(address)
    client.post(path)
    return text_of(client.get(path, query_string=query))


# -- The legal status, wherever someone signs or confirms --------------------------------------------


def test_every_step_of_signing_an_eci_says_what_it_is_not(app, official, client, sign_form, outbox, make_partner):
    partner_id, _ = make_partner()
    pages = {
        "petition page": client.get("/p/demo"),
        "widget": client.get(f"/embed/demo?partner={partner_id}"),
        "check your inbox": client.get("/p/demo/check-email"),
        "widget's check your inbox": client.get(f"/embed/demo/check-email?partner={partner_id}"),
    }
    sign_form(email="ana@example.org")
    outbox.deliver()
    path = outbox.confirm_path("ana@example.org")
    pages["confirmation page"] = client.get(path)
    client.post(path)
    pages["thanks page"] = client.get(path)
    for name, response in pages.items():
        notice = eci_notice(text_of(response))
        assert notice and LEGAL in notice and NOT_OFFICIAL in notice, name

    [message] = outbox.to("ana@example.org")
    assert LEGAL in outbox.text_of(message) and OFFICIAL_URL in outbox.text_of(message)
    assert LEGAL in html.unescape(message.get_body(preferencelist=("html",)).get_content())


def test_the_already_signed_email_says_it_too(app, official, sign_form, client, outbox):
    confirmed_page(client, sign_form, outbox)
    sign_form(email="ana@example.org")
    outbox.deliver()
    again = outbox.to("ana@example.org")[-1]
    assert "already" in again["Subject"]
    text = outbox.text_of(again)
    assert LEGAL in text and NOT_OFFICIAL in text and OFFICIAL_URL in text


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_the_legal_status_reads_in_every_language(app, petition_id, client, sign_form, outbox, locale):
    t = translator(locale).gettext
    tag = bcp47(locale)
    check = eci_notice(text_of(client.get("/p/demo/check-email", query_string={"lang": tag})))
    assert t(LEGAL) in check and t(NOT_OFFICIAL) in check
    if locale != "en":
        assert t(LEGAL) != LEGAL, "translated"

    page = client.get("/p/demo", query_string={"lang": tag})
    from tests.conftest import form_token_of

    client.post(
        f"/p/demo/sign?lang={tag}", data=form_fields(email="ana@example.org", form_token=form_token_of(text_of(page)))
    )
    outbox.deliver()
    [message] = outbox.to("ana@example.org")
    assert t(LEGAL) in outbox.text_of(message), locale


def test_a_simple_petition_does_not_talk_about_statements_of_support(app, make_petition, client, sign_form, outbox):
    make_petition(slug="cams", rules="simple", goal=100)
    assert eci_notice(text_of(client.get("/p/cams"))) is None
    assert eci_notice(text_of(client.get("/p/cams/check-email"))) is None
    sign_form(slug="cams", country="RS")
    outbox.deliver()
    assert LEGAL not in outbox.text_of(outbox.to("ana@example.org")[0])


# -- Nationality and the eligible tick ---------------------------------------------------------------


def test_an_eci_asks_for_nationality_and_the_statement_of_age_a_simple_petition_for_the_country(
    app, petition_id, make_petition, client
):
    page = text_of(client.get("/p/demo"))
    assert '<label for="country">Nationality</label>' in page
    assert 'autocomplete="country"' not in page, "it would fill in where someone lives"
    assert "An initiative counts each signer for the member state of their nationality" in page
    assert f'<label for="eligible">{ELIGIBLE}</label>' in page
    assert 'name="eligible" required' in page or re.search(r'<input[^>]*name="eligible"[^>]*required', page)
    assert (
        "Minimum age: 16 (Austria, Belgium, Estonia, Finland, Germany, Malta); 17 (Greece); "
        "18 (all other member states)." in page
    )
    assert "I agree that my name, email and nationality are stored" in page

    make_petition(slug="cams", rules="simple", goal=100)
    simple = text_of(client.get("/p/cams"))
    assert '<label for="country">Country</label>' in simple and 'autocomplete="country"' in simple
    assert 'name="eligible"' not in simple and "Minimum age" not in simple


def test_the_minimum_ages_read_in_the_readers_language_and_order(client, petition_id):
    page = text_of(client.get("/p/demo?lang=de"))
    assert (
        "Mindestalter: 16 (Belgien, Deutschland, Estland, Finnland, Malta, Österreich); 17 (Griechenland); "
        "18 (alle anderen Mitgliedstaaten)." in page
    )


def test_without_the_eligible_tick_an_eci_signature_is_refused_and_nothing_stored(app, petition_id, sign_form):
    response = sign_form(eligible=None)
    assert response.status_code == 422
    page = text_of(response)
    message = "Please confirm that you are a citizen of the member state you chose and old enough to sign there."
    assert f'id="eligible-error">{message}' in page
    assert f'<a href="#eligible">{message}</a>' in page, "listed in the summary of errors"
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="eligible"|id="eligible"[^>]*aria-invalid', page)
    with app.app_context():
        assert db.session.scalars(select(Signature)).all() == []
    assert sign_form(eligible="y").status_code == 303


def test_a_missing_nationality_is_asked_for_as_such(petition_id, sign_form):
    page = text_of(sign_form(country=""))
    assert 'id="country-error">Please choose your nationality.' in page


def test_a_simple_petition_needs_no_eligible_tick(app, make_petition, sign_form):
    make_petition(slug="cams", rules="simple", goal=100)
    assert sign_form(slug="cams", country="RS", eligible=None).status_code == 303


def test_the_widget_asks_the_same(app, petition_id, make_partner, client):
    partner_id, _ = make_partner()
    page = text_of(client.get(f"/embed/demo?partner={partner_id}"))
    assert f'<label for="eligible">{ELIGIBLE}</label>' in page and 'autocomplete="country"' not in page
    from tests.conftest import form_token_of

    refused = client.post(
        f"/embed/demo/sign?partner={partner_id}",
        data=form_fields(eligible=None, form_token=form_token_of(page)),
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert refused.status_code == 422 and 'id="eligible-error"' in text_of(refused)


def test_the_partner_api_takes_eligible_as_optional_and_refuses_false(app, petition_id, make_partner, api_sign):
    _, key = make_partner()
    assert api_sign(key, email="left-out@example.org").status_code == 202, "the partner's form carried it"
    assert api_sign(key, email="said-yes@example.org", eligible=True).status_code == 202
    said_no = api_sign(key, email="said-no@example.org", eligible=False)
    assert said_no.status_code == 422
    assert said_no.json["errors"]["eligible"] == [
        "Please confirm that you are a citizen of the member state you chose and old enough to sign there."
    ]
    wrong_type = api_sign(key, email="typo@example.org", eligible="yes")
    assert wrong_type.status_code == 422 and wrong_type.json["errors"]["eligible"] == ["Must be true or false."]
    with app.app_context():
        assert len(db.session.scalars(select(Signature)).all()) == 2


def test_the_openapi_document_describes_eligible(client):
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]["SignatureInput"]
    eligible = schema["properties"]["eligible"]
    assert eligible["type"] == "boolean" and "eligible" not in schema["required"]
    assert "16 in AT, BE, DE, EE, FI, MT; 17 in GR; 18 elsewhere" in eligible["description"]
    assert "nationality" in schema["description"]


# -- Who runs it, and signing officially ---------------------------------------------------------------


def test_the_page_shows_who_runs_the_campaign(official, client):
    page = text_of(client.get("/p/demo"))
    assert "Organised by Reclaim Your Face coalition." in page
    assert '<a href="https://reclaim.example/contact" rel="noopener">Contact the organisers</a>' in page
    assert "Registered by the European Commission as ECI(2024)000004." in page


def test_an_email_contact_becomes_a_mail_link_and_nothing_shows_when_nothing_was_given(
    app, petition_id, make_petition, client
):
    assert "Organised by" not in text_of(client.get("/p/demo"))
    make_petition(
        slug="cams", rules="simple", organiser_name="Hiljade kamera", organiser_contact="info@hiljade.example"
    )
    assert '<a href="mailto:info@hiljade.example">Contact the organisers</a>' in text_of(client.get("/p/cams"))


def test_after_confirming_an_eci_signer_is_sent_to_sign_officially(official, client, sign_form, outbox):
    page = confirmed_page(client, sign_form, outbox)
    assert '<h2 id="official-title">Now sign officially</h2>' in page
    assert f'<a class="button" href="{OFFICIAL_URL}" rel="noopener">' in page
    assert page.index("Now sign officially") < page.index("Pass it on")


def test_without_an_official_address_the_thanks_page_only_states_the_rule(petition_id, client, sign_form, outbox):
    page = confirmed_page(client, sign_form, outbox)
    assert "Now sign officially" not in page and LEGAL in page


def test_organisers_set_who_runs_it_and_the_official_address_on_the_edit_page(app, owner, petition_id, client):
    fields = {
        "title": "Ban biometric mass surveillance", "summary": "", "body": "", "rules": "eci", "closes_on": "",
        "goal": "", "targets": "", "retention_months": "", "submitted_on": "", "action": "save",
        "organiser_name": "Reclaim Your Face", "organiser_contact": "team@reclaim.example",
        "eci_registration_number": "ECI(2024)000004", "eci_signing_url": "https://evil.example/sign",
    }  # fmt: skip
    refused = owner.post("/organiser/p/demo/edit", fields)
    assert refused.status_code == 422
    assert 'id="eci_signing_url-error">Give the https:// address of the initiative on the Commission' in html.unescape(
        refused.get_data(as_text=True)
    )
    saved = owner.post("/organiser/p/demo/edit", {**fields, "eci_signing_url": OFFICIAL_URL})
    assert saved.status_code == 303
    page = text_of(client.get("/p/demo"))
    assert "Organised by Reclaim Your Face." in page and f'href="{OFFICIAL_URL}"' in page


# -- Dates and figures -------------------------------------------------------------------------------------


def test_a_country_one_signature_short_reads_99_9_percent(app):
    from petition.formatting import format_share

    with app.test_request_context("/?lang=de"):
        assert format_share(69_119, 69_120).startswith("99,9")
        assert format_share(69_120, 69_120).startswith("100,0")
    with app.test_request_context("/"):
        assert format_share(999_999, 1_000_000) == "99.9%"


def test_the_outlook_names_too_few_countries_as_the_reason(app):
    thresholds = eci.thresholds_for(datetime(2026, 1, 1).date())
    progress = build_progress({"DE": 600_000, "FR": 300_000}, thresholds, eci.GOAL_TOTAL, eci.MIN_COUNTRIES)
    outlook = build_outlook(
        progress,
        now=datetime(2026, 6, 1, tzinfo=UTC),
        opens_at=datetime(2026, 1, 1, tzinfo=UTC),
        closes_at=datetime(2026, 12, 31, tzinfo=UTC),
        recent_per_day=5_000,
    )
    assert outlook.projected_total >= eci.GOAL_TOTAL
    assert outlook.shortfall == ("countries",) and outlook.on_track is False
    slow = build_outlook(
        progress, now=datetime(2026, 6, 1, tzinfo=UTC), opens_at=datetime(2026, 1, 1, tzinfo=UTC),
        closes_at=datetime(2026, 12, 31, tzinfo=UTC), recent_per_day=0,
    )  # fmt: skip
    assert slow.shortfall == ("total", "countries")


def test_the_dashboard_shows_a_country_one_short_as_99_9_and_names_too_few_countries(app, owner, petition_id):
    from petition.services import counting
    from petition.timeutil import utcnow

    threshold = eci.thresholds_for(datetime(2026, 11, 26).date())["DE"]
    with app.app_context():
        counting.add(db.session, petition_id, "DE", threshold - 1, utcnow())
        db.session.commit()
    page = owner.get("/organiser/p/demo/figures").get_data(as_text=True)
    assert "99.9%" in page and "100.0%" not in page
    tile = re.search(r'<g data-country="DE"[^>]*>.*?</g>', page, re.S).group(0)
    assert ">99%</text>" in tile, "the map's whole percent is not rounded up to 100% either"
    outlook = re.search(r'<section class="outlook">.*?</section>', page, re.S).group(0)
    assert "Not on track" in outlook


def test_the_dashboards_outlook_says_too_few_countries_when_the_total_is_there(app, owner, petition_id):
    from petition.services import counting
    from petition.timeutil import utcnow

    with app.app_context():
        counting.add(db.session, petition_id, "DE", 1_000_000, utcnow())  # a million, all of them German
        db.session.commit()
    outlook = re.search(
        r'<section class="outlook">.*?</section>', owner.get("/organiser/p/demo/figures").get_data(as_text=True), re.S
    ).group(0)
    assert "Not on track: too few countries." in outlook
    assert "only 1 of the 7 countries needed would reach their minimum" in outlook


@pytest.mark.parametrize(
    ("contact", "url", "refused"),
    [
        ("javascript:alert(1)", "", {"organiser_contact"}),
        ("https://reclaim.example/a b", "", {"organiser_contact"}),
        ("ana@", "", {"organiser_contact"}),
        ("", "http://eci.ec.europa.eu/045/public/", {"eci_signing_url"}),
        ("", "https://eci.ec.europa.eu.evil.example/", {"eci_signing_url"}),
        ("", "https://someone@eci.ec.europa.eu/045/", {"eci_signing_url"}),
        ("", "https://eci.ec.europa.eu/045/\x00", {"eci_signing_url"}),
        ("Team@Reclaim.example", "https://eci.ec.europa.eu/045/public/", set()),
        ("https://reclaim.example/contact", "https://europa.eu/citizens-initiative/", set()),
    ],
)
def test_only_real_addresses_become_links(contact, url, refused):
    from petition.services.campaign import check_campaign

    errors: dict[str, str] = {}
    check_campaign("Reclaim Your Face", contact, "ECI(2024)000004", url, is_eci=True, errors=errors)
    assert set(errors) == refused
