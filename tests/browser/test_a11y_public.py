"""Accessibility of the public pages in Chromium: axe-core finds nothing, and a keyboard alone can sign and confirm."""

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_no_axe_violations, axe_violations, require_axe
from tests.helpers.catalogues import translator

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("compiled_catalogues")]


@pytest.fixture(autouse=True)
def _axe_available():
    require_axe()


@pytest.mark.parametrize("lang", ["en", "de", "sr-Cyrl"])
def test_signing_pages_have_no_axe_violations(i18n_page, i18n_live_url, petition_id, outbox, lang):
    page = i18n_page()
    page.goto(f"{i18n_live_url}/?lang={lang}")
    assert_no_axe_violations(page)

    page.goto(f"{i18n_live_url}/p/demo?lang={lang}")
    assert_no_axe_violations(page)

    # The form sent back with errors: summary, messages and invalid fields.
    page.locator("form.sign-form button[type=submit]").click()
    page.wait_for_selector(".error-summary")
    assert_no_axe_violations(page)

    page.fill("#first_name", "Ana")
    page.fill("#last_name", "Kovač")
    page.fill("#email", "ana@example.org")
    page.select_option("#country", "DE")
    page.check("#eligible")
    page.check("#consent")
    page.locator("form.sign-form button[type=submit]").click()
    page.wait_for_url("**/check-email**")
    assert_no_axe_violations(page)

    outbox.deliver()
    page.goto(i18n_live_url + outbox.confirm_path("ana@example.org"))
    assert_no_axe_violations(page)
    page.locator("main button[type=submit]").click()
    page.wait_for_selector("h1")
    assert_no_axe_violations(page)

    page.goto(f"{i18n_live_url}/no-such-page?lang={lang}")
    assert_no_axe_violations(page)
    page.goto(f"{i18n_live_url}/confirm/not-a-token?lang={lang}")
    assert_no_axe_violations(page)


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus by Tab")


def focus_is_visible(page) -> bool:
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
    )
    outline_style, outline_width, box_shadow = style
    return (outline_style != "none" and outline_width != "0px") or box_shadow != "none"


def test_a_keyboard_alone_can_sign_and_confirm(i18n_page, i18n_live_url, petition_id, outbox):
    de = translator("de")
    page = i18n_page(locale="de-DE")
    page.goto(f"{i18n_live_url}/p/demo")
    assert page.evaluate("document.documentElement.lang") == "de"

    # The first Tab reaches the skip link, which leads straight to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == de.gettext("Skip to content")
    assert focus_is_visible(page)

    # Sending the empty form puts the focus on the summary of errors; its links lead to the fields.
    tab_to(page, "form.sign-form button[type=submit]")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_selector(".error-summary")
    # Chromium applies `autofocus` only once the page's style sheet has loaded: on a busy machine, a
    # moment after the page is there. Wait for the whole page, then for the focus. (`expect` polls
    # without `eval`, which the page's CSP forbids; `wait_for_function` with a string needs it as soon
    # as its first try fails.)
    page.wait_for_load_state("load")
    expect(page.locator(".error-summary")).to_be_focused()
    tab_to(page, '.error-summary a[href="#first_name"]')
    page.keyboard.press("Enter")

    for field, text in (("#first_name", "Jürgen"), ("#last_name", "Weiß"), ("#email", "juergen@example.org")):
        expect(page.locator(field)).to_be_focused()
        page.keyboard.type(text)
        expect(page.locator(field)).to_have_value(text)
        page.keyboard.press("Tab")
    expect(page.locator("#country")).to_be_focused()
    page.keyboard.type("Deutschland")  # type-ahead in a focused select picks the country
    assert page.evaluate("document.activeElement.value") == "DE"
    tab_to(page, "#eligible")
    page.keyboard.press("Space")
    assert page.is_checked("#eligible")
    tab_to(page, "#consent")
    assert focus_is_visible(page)
    page.keyboard.press("Space")
    assert page.is_checked("#consent")
    tab_to(page, "form.sign-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/check-email**")
    assert page.locator("h1").inner_text() == de.gettext("Check your inbox")

    outbox.deliver()
    page.goto(i18n_live_url + outbox.confirm_path("juergen@example.org"))
    tab_to(page, "main button[type=submit]")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(de.gettext("Thank you: your signature is confirmed"))
    assert page.evaluate("document.documentElement.lang") == "de"


def test_the_axe_check_would_notice_a_field_without_a_label(i18n_page, i18n_live_url, petition_id):
    page = i18n_page()
    page.goto(f"{i18n_live_url}/p/demo")
    page.evaluate("document.querySelector('label[for=email]').remove()")
    violations = axe_violations(page)
    assert "label" in {v["id"] for v in violations}


@pytest.mark.parametrize("lang", ["en", "pl"])
def test_the_widget_and_the_privacy_pages_have_no_axe_violations(i18n_page, i18n_live_url, petition_id, lang):
    page = i18n_page()
    page.goto(f"{i18n_live_url}/embed/demo?lang={lang}")
    assert_no_axe_violations(page)
    page.locator("form.sign-form button[type=submit]").click()  # sent empty: the errors, announced
    page.wait_for_selector(".error-summary")
    assert_no_axe_violations(page)

    for path in ("/privacy", "/privacy/request", "/p/demo/share"):
        page.goto(f"{i18n_live_url}{path}?lang={lang}")
        assert_no_axe_violations(page)


def test_the_organiser_dashboard_has_no_axe_violations(
    i18n_page, i18n_live_url, petition_id, make_organiser, confirmed_signature
):
    from tests.helpers.organisers import PASSWORD

    make_organiser("owner@example.org", petition_id, "owner")
    confirmed_signature(petition_id, "ana@example.org", "DE")
    page = i18n_page()
    page.goto(f"{i18n_live_url}/organiser/login")
    assert_no_axe_violations(page)
    page.fill("#email", "owner@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{i18n_live_url}/organiser/")
    assert_no_axe_violations(page)
    page.goto(f"{i18n_live_url}/organiser/p/demo")
    page.wait_for_selector('[data-figure="total"]')
    assert_no_axe_violations(page)
