"""Signing end to end in Chromium in German, Polish, Greek and Serbian Cyrillic: page, form, emails, confirmation.

Every step also runs at 320 px wide, the narrowest phone: nothing may scroll sideways. Screenshots of
each step go to $SCREENSHOT_DIR when it is set (to look at them), else to the test's temporary folder.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from petition.extensions import db
from petition.models import Petition
from petition.services.translations import set_translation
from tests.helpers.catalogues import translator

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("compiled_catalogues")]

# Each language's petition text, and a word of the email's body only a reader of that language would see.
CASES = {
    "de": ("de", "Biometrische Massenüberwachung verbieten", "Hallo Jürgen,"),
    "pl": ("pl", "Zakażmy biometrycznej inwigilacji", "Dzień dobry, Agnieszka,"),
    "el": ("el", "Απαγόρευση της βιομετρικής μαζικής παρακολούθησης", "Γεια σας Ελένη,"),
    "sr-Cyrl": ("sr_Cyrl", "Забранимо биометријски масовни надзор", "Здраво, Јована,"),
}
SIGNERS = {"de": "Jürgen", "pl": "Agnieszka", "el": "Ελένη", "sr-Cyrl": "Јована"}


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def assert_fits(page, name: str, folder: Path) -> None:
    """Nothing wider than the screen, then a full-page screenshot to look at."""
    # Measured once the page's stylesheet has loaded: on a busy machine a form's answer could be
    # measured before it, with the map at its unstyled 468 px (seen once in CI).
    page.wait_for_load_state("load")
    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth,"
        " [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.tagName + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || '').trim().slice(0, 40)).slice(0, 5)]"
    )
    width, viewport, wide = overflow
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert width <= viewport and not wide, f"{name}: the page is {width}px wide at {viewport}px: {wide}"


@pytest.mark.parametrize("lang", list(CASES))
def test_sign_confirm_and_read_the_emails_in_the_signers_language(
    app, i18n_page, i18n_live_url, petition_id, outbox, tmp_path, lang
):
    locale, title, greeting = CASES[lang]
    t = translator(locale).gettext
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        set_translation(db.session, petition, locale=locale, title=title, summary="", body="")
        db.session.commit()
    folder = screenshot_dir(tmp_path)
    page = i18n_page(width=320, height=640)
    address = f"signer-{locale.lower()}@example.org"

    page.goto(f"{i18n_live_url}/p/demo?lang={lang}")
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.locator("h1").inner_text() == title
    assert_fits(page, f"{lang}-1-petition", folder)

    page.get_by_role("button", name=t("Sign"), exact=True).click()
    page.wait_for_selector(".error-summary")
    assert t("This field is required.") in page.locator(".error-summary").inner_text()
    assert_fits(page, f"{lang}-2-errors", folder)

    page.get_by_label(t("First name"), exact=True).fill(SIGNERS[lang])
    page.get_by_label(t("Last name"), exact=True).fill("Test")
    page.get_by_label(t("Email"), exact=True).fill(address)
    page.get_by_label(t("Nationality"), exact=True).select_option("DE")
    page.get_by_label(t("I am a citizen of the member state I chose and old enough to sign there.")).check()
    page.get_by_label(t("I agree that my name, email and nationality are stored to count my signature.")).check()
    page.get_by_role("button", name=t("Sign"), exact=True).click()
    page.wait_for_url("**/check-email**")
    assert page.locator("h1").inner_text() == t("Check your inbox")
    assert title in page.locator("main").inner_text()
    assert_fits(page, f"{lang}-3-check-email", folder)

    assert outbox.deliver() == 1
    [message] = outbox.to(address)
    assert message["Subject"] == t("Please confirm your signature: %(title)s") % {"title": title}
    assert message["Content-Language"] == lang
    body = outbox.text_of(message)
    assert body.startswith(greeting)
    assert (
        t("If you did not sign, ignore this email: nothing will be counted and your details will be deleted.") in body
    )
    html_mail = message.get_body(preferencelist=("html",)).get_content()
    assert re.search(rf'<html lang="{lang}">', html_mail)

    # The link from the email, opened in a browser that asks for English, still speaks the signer's language.
    english_browser = i18n_page(width=320, height=640, locale="en-GB")
    english_browser.goto(i18n_live_url + outbox.confirm_path(address))
    assert english_browser.evaluate("document.documentElement.lang") == lang
    assert_fits(english_browser, f"{lang}-4-confirm", folder)
    english_browser.get_by_role("button", name=t("Confirm my signature")).click()
    english_browser.wait_for_selector("h1")
    assert english_browser.locator("h1").inner_text() == t("Thank you: your signature is confirmed")
    assert_fits(english_browser, f"{lang}-5-thanks", folder)

    api = english_browser.request.get(f"{i18n_live_url}/api/v1/petitions/demo").json()
    assert api["total"] == 1 and api["title"] == "Ban biometric mass surveillance"


@pytest.mark.parametrize("lang", ["de", "fi", "el", "sr-Cyrl", "hu", "ga"])
def test_long_words_and_numbers_fit_a_320px_screen(i18n_page, i18n_live_url, petition_id, tmp_path, lang):
    """Finnish and German compounds, Greek and Cyrillic text, and wide localised numbers, with every
    section open and every error shown."""
    folder = screenshot_dir(tmp_path)
    page = i18n_page(width=320, height=640)
    page.goto(f"{i18n_live_url}/p/demo?lang={lang}")
    page.locator("form.sign-form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert_fits(page, f"{lang}-320-all-open", folder)


def test_the_live_total_keeps_the_right_plural_as_it_grows(i18n_page, i18n_live_url, petition_id, confirmed_signature):
    page = i18n_page(width=320, height=640)
    page.goto(f"{i18n_live_url}/p/demo?lang=pl")
    total = page.locator("p.total")
    assert total.inner_text() == "0 podpisów"
    confirmed_signature(petition_id, "a@example.org")
    expect(total).to_have_text("1 podpis", timeout=8000)
    confirmed_signature(petition_id, "b@example.org")
    expect(total).to_have_text("2 podpisy", timeout=8000)
    assert total.get_attribute("aria-live") == "polite"
