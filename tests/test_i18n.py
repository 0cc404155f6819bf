"""Each signer's language: how it is chosen, what is written in it, and the petition's own text in it."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from petition.extensions import db
from petition.models import Petition, Signature
from petition.services.translations import set_translation
from tests.conftest import form_token_of
from tests.helpers.catalogues import translator
from tests.helpers.fixtures import form_fields, html_lang

pytestmark = pytest.mark.usefixtures("compiled_catalogues")


def t(locale: str, message: str, **values) -> str:
    return translator(locale).gettext(message) % values if values else translator(locale).gettext(message)


def sign_in(client, lang: str, slug: str = "demo", **overrides):
    page = client.get(f"/p/{slug}?lang={lang}")
    data = form_fields(**overrides)
    data["form_token"] = form_token_of(page.get_data(as_text=True))
    action = re.search(r'<form class="sign-form" method="post" action="([^"]+)"', page.get_data(as_text=True))
    return client.post(action.group(1).replace("&amp;", "&"), data=data)


def translate(app, petition_id: int, locale: str, title: str, summary: str = "", body: str = "") -> None:
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        set_translation(db.session, petition, locale=locale, title=title, summary=summary, body=body)
        db.session.commit()


@pytest.mark.parametrize(
    ("query", "accept", "cookie", "expected"),
    [
        ("", None, None, "en"),
        ("", "de-AT,de;q=0.9,en;q=0.5", None, "de"),
        ("", "nb-NO,sv;q=0.8", None, "sv"),  # Norwegian is not offered: the next language the browser names
        ("", "sr-RS", None, "sr-Cyrl"),
        ("", "sr-Latn-RS,sr;q=0.8", None, "sr-Latn"),
        ("", "sr-ME", None, "sr-Latn"),
        ("", "de", "pl", "pl"),  # a remembered choice beats the browser
        ("?lang=el", "de", "pl", "el"),  # and the URL beats both
        ("?lang=sr-cyrl", None, None, "sr-Cyrl"),
        ("?lang=xx", "fi", None, "fi"),  # an unknown language is ignored
        ("?lang=%3Cscript%3E", None, None, "en"),
    ],
)
def test_the_page_language_follows_url_then_choice_then_browser(client, petition_id, query, accept, cookie, expected):
    if cookie:
        client.set_cookie("lang", cookie)
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get(f"/p/demo{query}", headers=headers)
    assert response.status_code == 200
    assert html_lang(response) == expected


def test_a_chosen_language_is_remembered_on_our_pages(client, petition_id):
    response = client.get("/p/demo?lang=pl")
    assert "lang=pl" in response.headers["Set-Cookie"] and "SameSite=Lax" in response.headers["Set-Cookie"]
    assert "Accept-Language" in response.headers["Vary"]
    assert response.headers["Content-Language"] == "pl"
    assert html_lang(client.get("/")) == "pl"
    assert t("pl", "Open petitions") in client.get("/").get_data(as_text=True)


def test_the_api_neither_remembers_a_language_nor_translates_the_title(app, client, petition_id):
    translate(app, petition_id, "de", "Biometrische Massenüberwachung verbieten")
    response = client.get("/api/v1/petitions/demo?lang=de", headers={"Accept-Language": "de"})
    assert "Set-Cookie" not in response.headers
    assert response.json["title"] == "Ban biometric mass surveillance"


def test_every_public_page_states_its_language_and_offers_the_others(app, client, petition_id, outbox):
    pages = ["/", "/p/demo", "/p/demo/check-email", "/no-such-page"]
    for path in pages:
        response = client.get(f"{path}?lang=sr-Cyrl")
        assert html_lang(response) == "sr-Cyrl", path
        html = response.get_data(as_text=True)
        assert 'hreflang="de">' in html and 'lang="de"' in html and ">Deutsch<" in html
        assert 'hreflang="sr-Cyrl"' in html and 'aria-current="true">Српски (ћирилица)<' in html
    assert t("sr_Cyrl", "Page not found") in client.get("/no-such-page?lang=sr-Cyrl").get_data(as_text=True)
    assert 'href="/no-such-page?lang=el"' in client.get("/no-such-page").get_data(as_text=True)
    # The switcher keeps the page and its other query arguments.
    html = client.get("/p/demo?lang=de&source=newsletter").get_data(as_text=True)
    assert 'href="/p/demo?lang=fi&amp;source=newsletter"' in html


def test_numbers_dates_and_counts_are_written_the_readers_way(app, client, petition_id):
    with app.app_context():  # a fixed closing day, whatever day the suite runs
        db.session.get(Petition, petition_id).closes_at = datetime(2027, 11, 25, 23, 59, 59, tzinfo=UTC)
        db.session.commit()
    de = client.get("/p/demo?lang=de").get_data(as_text=True)
    assert "Ziel: 1.000.000 Unterschriften" in de
    assert "25. November 2027" in de
    assert 'von <span class="figure">69.120</span>' in de  # Germany's ECI threshold
    fr = client.get("/p/demo?lang=fr").get_data(as_text=True)
    assert "Objectif\u00a0: 1\u202f000\u202f000 de signatures" in fr  # French: "de" before a million
    pl = client.get("/p/demo?lang=pl").get_data(as_text=True)
    assert "Cel: 1\u00a0000\u00a0000 podpisów" in pl
    assert "25 listopada 2027" in pl


def option_names(html: str) -> list[str]:
    select_html = html[html.index('id="country" name="country"') : html.index("</select>")]
    return re.findall(r'<option value="[A-Z]{2}">([^<]+)</option>', select_html)


def test_countries_are_named_and_sorted_for_each_language(client, petition_id):
    czech = option_names(client.get("/p/demo?lang=cs").get_data(as_text=True))
    # Czech: "Č" has its own place after "C", and "Ch" comes after "H".
    assert czech.index("Bulharsko") < czech.index("Česko") < czech.index("Dánsko")
    assert czech.index("Francie") < czech.index("Chorvatsko") < czech.index("Irsko")
    swedish = option_names(client.get("/p/demo?lang=sv").get_data(as_text=True))
    assert swedish[-1] == "Österrike"  # å, ä, ö follow z in Swedish
    german = option_names(client.get("/p/demo?lang=de").get_data(as_text=True))
    assert german.index("Niederlande") < german.index("Österreich") < german.index("Polen")  # ö sorts as o
    serbian = option_names(client.get("/p/demo?lang=sr-Cyrl").get_data(as_text=True))
    assert serbian.index("Литванија") < serbian.index("Мађарска") < serbian.index("Малта")
    assert serbian.index("Пољска") < serbian.index("Португалија")  # љ after л, as the Serbian alphabet has it
    greek = option_names(client.get("/p/demo?lang=el").get_data(as_text=True))
    assert greek[:3] == ["Αυστρία", "Βέλγιο", "Βουλγαρία"]
    assert len(czech) == len(swedish) == 27


def test_validation_messages_speak_the_signers_language(client, petition_id):
    response = sign_in(client, "de", first_name=" ", email="kein-email", consent=None)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="first_name-error">{t("de", "This field is required.")}<' in html
    assert f'id="email-error">{t("de", "Please enter a valid email address.")}<' in html
    assert "Bitte kreuzen Sie dieses Feld an" in html
    # The summary at the top links each message to its field.
    assert '<a href="#email">E-Mail-Adresse: Bitte geben Sie eine gültige E-Mail-Adresse ein.</a>' in html
    assert html_lang(response) == "de"


@pytest.mark.parametrize(
    ("lang", "locale", "subject_start"),
    [
        ("pl", "pl", "Potwierdź swój podpis"),
        ("sr-Cyrl", "sr_Cyrl", "Потврдите свој потпис"),
        ("el", "el", "Επιβεβαιώστε"),
    ],
)
def test_the_signer_gets_emails_and_pages_in_their_language(
    app, client, petition_id, outbox, lang, locale, subject_start
):
    response = sign_in(client, lang, email="ana@example.org")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/p/demo/check-email?lang={lang}"
    with app.app_context():
        assert db.session.scalars(select(Signature.locale)).one() == locale

    assert outbox.deliver() == 1
    [message] = outbox.to("ana@example.org")
    assert message["Subject"].startswith(subject_start)
    assert message["Content-Language"] == lang
    text = outbox.text_of(message)
    assert t(locale, "Hello %(name)s,", name="Ana") in text
    assert t(locale, "Your signature counts only once you confirm it. The link works for 7 days.") in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'<html lang="{lang}">' in html

    # The link opened in a browser that prefers English still speaks the signer's language.
    path = outbox.confirm_path("ana@example.org")
    page = client.get(path, headers={"Accept-Language": "en"})
    assert html_lang(page) == lang and t(locale, "Confirm my signature") in page.get_data(as_text=True)
    thanks = client.post(path, headers={"Accept-Language": "en"})
    assert thanks.status_code == 200 and html_lang(thanks) == lang
    assert t(locale, "Thank you: your signature is confirmed") in thanks.get_data(as_text=True)


def test_a_petition_shows_its_text_in_the_readers_language_when_it_has_one(app, client, petition_id, outbox):
    translate(app, petition_id, "de", "Biometrische Massenüberwachung verbieten", "Kurz gesagt.", "**Jetzt** handeln")
    de = client.get("/p/demo?lang=de").get_data(as_text=True)
    assert "<h1>Biometrische Massenüberwachung verbieten</h1>" in de and "<strong>Jetzt</strong>" in de
    assert "Kurz gesagt." in de
    # Without an Italian text the petition's own text shows in the Italian page,
    # marked as English, so that a screen reader reading Italian pronounces it as English.
    italian = client.get("/p/demo?lang=it").get_data(as_text=True)
    assert '<h1 lang="en">Ban biometric mass surveillance</h1>' in italian
    assert '<div class="body" lang="en">' in italian
    assert "<h1>Ban biometric mass surveillance</h1>" in client.get("/p/demo?lang=en").get_data(as_text=True)
    assert "Biometrische" in client.get("/?lang=de").get_data(as_text=True)
    # A translation without the full text shows the title in Polish and the full text marked as English.
    translate(app, petition_id, "pl", "Zakażmy biometrycznej inwigilacji")
    with app.app_context():
        db.session.execute(update(Petition).values(body_markdown="Cameras that recognise faces."))
        db.session.commit()
    polish = client.get("/p/demo?lang=pl").get_data(as_text=True)
    assert "<h1>Zakażmy biometrycznej inwigilacji</h1>" in polish
    assert '<div class="body" lang="en"><p>Cameras that recognise faces.</p>' in polish

    sign_in(client, "de", email="jan@example.org")
    outbox.deliver()
    [message] = outbox.to("jan@example.org")
    assert message["Subject"] == "Bitte bestätigen Sie Ihre Unterschrift: Biometrische Massenüberwachung verbieten"
    assert "http://petitions.test/p/demo?lang=de" not in outbox.text_of(message)  # the confirm mail links the token


def test_translate_command_adds_and_replaces_a_translation(runner, client, petition_id, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("Камере које препознају лица.", encoding="utf-8")
    args = ["petition", "translate", "--slug", "demo", "--lang", "sr-Cyrl", "--title", "Забранимо", "--body-file"]
    result = runner.invoke(args=[*args, str(body)])
    assert result.exit_code == 0, result.output
    assert "Saved the sr_Cyrl text of 'demo'" in result.output
    runner.invoke(args=["petition", "translate", "--slug", "demo", "--lang", "sr-Cyrl", "--title", "Забранимо надзор"])
    html = client.get("/p/demo?lang=sr-Cyrl").get_data(as_text=True)
    assert "<h1>Забранимо надзор</h1>" in html

    unknown = runner.invoke(args=["petition", "translate", "--slug", "demo", "--lang", "tlh", "--title", "x"])
    assert unknown.exit_code != 0 and "not one of the supported languages" in unknown.output
    missing = runner.invoke(args=["petition", "translate", "--slug", "nope", "--lang", "de", "--title", "x"])
    assert missing.exit_code != 0 and "No petition 'nope'" in missing.output
    own = runner.invoke(args=["petition", "translate", "--slug", "demo", "--lang", "en", "--title", "x"])
    assert own.exit_code != 0 and "language of the petition's own text" in own.output


def test_a_petition_written_in_another_language_says_so(runner, client):
    args = [
        "petition",
        "create",
        "--slug",
        "kamere",
        "--title",
        "Хиљаде камера",
        "--rules",
        "simple",
        "--lang",
        "sr-Cyrl",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "<h1>Хиљаде камера</h1>" in client.get("/p/kamere?lang=sr-Cyrl").get_data(as_text=True)
    assert '<h1 lang="sr-Cyrl">Хиљаде камера</h1>' in client.get("/p/kamere?lang=de").get_data(as_text=True)
    bad = runner.invoke(args=["petition", "create", "--slug", "x", "--title", "X", "--lang", "xx"])
    assert bad.exit_code != 0 and "not one of the supported languages" in bad.output


def test_the_table_of_countries_follows_the_readers_alphabet(client, petition_id):
    html = client.get("/p/demo?lang=cs").get_data(as_text=True)
    rows = re.findall(r'<th scope="row" id="country-([A-Z]{2})">', html)
    assert rows.index("BG") < rows.index("CZ") < rows.index("DK")  # Bulharsko, Česko, Dánsko
    assert rows.index("FR") < rows.index("HR") < rows.index("IE")  # Francie, Chorvatsko, Irsko


@pytest.mark.parametrize("path", ["/organiser/login", "/p/demo/share"])
def test_organiser_and_partner_pages_stay_in_english_and_say_so(client, petition_id, path):
    response = client.get(f"{path}?lang=de", headers={"Accept-Language": "de"})
    assert response.status_code == 200
    assert html_lang(response) == "en"
    assert 'id="languages"' not in response.get_data(as_text=True)
    # and the reader's choice for the public pages is left alone
    assert not any(c.startswith("lang=") for c in response.headers.getlist("Set-Cookie"))


def test_the_written_out_language_names_are_babels_own():
    from babel import Locale

    from petition.i18n import AUTONYMS, SUPPORTED_LOCALES

    assert set(AUTONYMS) == set(SUPPORTED_LOCALES)
    for code, name in AUTONYMS.items():
        parsed = Locale.parse(code)
        own = parsed.get_display_name(parsed)
        assert name == own[:1].upper() + own[1:], code
