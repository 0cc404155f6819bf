"""No open redirect: every redirect the app answers leads to a page of this site, whatever a link or a
form put in `next=`, the widget's options or any other parameter. "Of this site" is judged the way a
browser reads the Location header (tabs and newlines dropped, backslashes read as slashes)."""

import re
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.helpers.organisers import PASSWORD
from tests.helpers.routes import all_rules, url_for_rule

OUR_HOST = "localhost"
# Decoded values: sent percent-encoded, as a link would carry them.
HOSTILE = [
    "//evil.example",
    "//evil.example/organiser/",
    "///evil.example",
    "https://evil.example",
    "http://evil.example/organiser/",
    "HTTPS://evil.example",
    "https:evil.example",
    "https:/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "//petitions.test@evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "／／evil.example",  # fullwidth solidus
    "＼＼evil.example",
    "/\r\nSet-Cookie: organiser_session=x",
    "/\r\nLocation: https://evil.example",
]
# Raw query strings: encoded once, twice, or in pieces, as a crafted link would.
HOSTILE_ENCODED = [
    "%2F%2Fevil.example",
    "%2F%5Cevil.example",
    "%5C%5Cevil.example",
    "%2F%09%2Fevil.example",
    "/%0A/evil.example",
    "%252F%252Fevil.example",
    "https%3A%2F%2Fevil.example",
    "javascript%3Aalert(1)",
    "%0D%0ASet-Cookie:%20x=1",
    "/%0D%0ASet-Cookie:%20x=1",
    "%E2%80%8B//evil.example",
]


def leaves_the_site(location: str, base: str = f"http://{OUR_HOST}/organiser/login") -> bool:
    """Would a browser following this Location leave our host (or run a script)? Follows the URL
    standard's lenient parsing for http(s) base URLs."""
    url = location.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14"
                         "\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")  # fmt: skip
    url = re.sub(r"[\t\n\r]", "", url).replace("\\", "/")
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    if scheme:
        if scheme.group(1).lower() not in {"http", "https"}:
            return True
        rest = url[scheme.end() :].lstrip("/")
        host = urlsplit(f"{scheme.group(1)}://{rest}").hostname
        # "https:evil.example" is relative to an https base of another scheme, absolute otherwise.
        return host != OUR_HOST
    if url.startswith("//"):
        return True
    return urlsplit(base).hostname != OUR_HOST


def assert_stays_here(response) -> None:
    assert response.status_code < 500, response.status_code
    location = response.headers.get("Location")
    if location is not None:
        assert not leaves_the_site(location), f"redirects off the site: {location!r}"


def test_the_judge_knows_an_open_redirect_when_it_sees_one():
    """Guards the tests below: every hostile value would leave the site if it were echoed."""
    for value in HOSTILE[:-2]:
        if value.startswith(("／", "＼")):
            continue  # fullwidth characters are a path to browsers: harmless even if echoed
        assert leaves_the_site(value), value
    for value in ("/organiser/p/demo", "/organiser/", "/p/demo?next=//x", "/%2F%2Fevil.example"):
        assert not leaves_the_site(value), value


@pytest.fixture
def owner_email(make_organiser, petition_id) -> str:
    make_organiser("owner@example.org", petition_id)
    return "owner@example.org"


def test_logging_in_never_follows_next_off_the_site(web, owner_email):
    for target in HOSTILE:
        browser = web()
        response = browser.post(
            f"/organiser/login?next={quote(target, safe='')}", {"email": owner_email, "password": PASSWORD}
        )
        if "\x00" in target:  # a NUL anywhere in a URL is not found (tests/test_hostile_urls.py)
            assert response.status_code == 404
            continue
        assert response.status_code == 303
        assert response.headers["Location"] == "/organiser/", repr(target)


def test_an_organiser_already_logged_in_is_not_sent_off_the_site(web, owner_email):
    browser = web(owner_email)
    for target in HOSTILE:
        response = browser.get(f"/organiser/login?next={quote(target, safe='')}")
        if "\x00" in target:
            assert response.status_code == 404
            continue
        assert response.status_code == 302
        assert response.headers["Location"] == "/organiser/", repr(target)


def test_encoded_next_values_are_refused_too(web, owner_email):
    logged_in = web(owner_email)
    for raw in HOSTILE_ENCODED:
        response = web().post(f"/organiser/login?next={raw}", {"email": owner_email, "password": PASSWORD})
        assert_stays_here(response)
        assert_stays_here(logged_in.get(f"/organiser/login?next={raw}"))


def test_a_local_next_is_followed_after_logging_in(web, owner_email):
    """The control: the feature itself still works, query string and all."""
    browser = web()
    sent_to_login = browser.get("/organiser/p/demo/edit?tab=text")
    assert sent_to_login.status_code == 303
    login_url = sent_to_login.headers["Location"]
    assert login_url.startswith("/organiser/login?next=")
    response = browser.post(login_url, {"email": owner_email, "password": PASSWORD})
    assert response.headers["Location"] == "/organiser/p/demo/edit?tab=text"


PIECES = ["/", "//", "\\", "%2F", "%5C", "%09", "%0A", "\t", "\n", "\r", " ", "\x00", ":", "@", ".", "?", "#",
          "evil.example", "javascript", "https", "http:", "organiser", "%", "％", "／", "\u200b", "é"]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=8))
@example(pieces=["/", "\t", "/", "evil.example"])
@example(pieces=["/", "\r", "\n", "evil.example"])
def test_no_next_built_from_url_tricks_leads_off_the_site(owner, pieces):
    target = "".join(pieces)
    # Percent-encoded as a careful link would, and nearly raw as a crafted one would.
    for query in (f"next={quote(target, safe='')}", "next=" + target.replace("&", "%26").replace("#", "%23")):
        assert_stays_here(owner.get(f"/organiser/login?{query}"))


def test_the_widget_redirects_only_to_its_own_next_page(app, client, petition_id, make_partner):
    from tests.conftest import form_token_of
    from tests.helpers.fixtures import form_fields

    partner_id, _key = make_partner(origins=["https://ngo.example"])
    query = f"partner={partner_id}&origin={quote('https://evil.example')}&next=//evil.example&lang=//evil.example"
    page = client.get(f"/embed/demo?{query}").get_data(as_text=True)
    response = client.post(f"/embed/demo/sign?{query}", data=form_fields(form_token=form_token_of(page)))
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/embed/demo/check-email?") and not leaves_the_site(location)
    # The stranger's origin is carried along but never trusted: no height message is posted to it.
    assert "data-parent-origin" not in client.get(location).get_data(as_text=True)


RULES = all_rules()
REDIRECT_PARAMETERS = ["next", "url", "redirect", "redirect_to", "return", "return_to", "continue", "origin", "to"]


def test_no_route_redirects_off_the_site_whatever_its_parameters(app, route_args, owner):
    """Every route, as a visitor and as an organiser, with every usual redirect parameter set to
    another host: any redirect still lands here. (One test, so the routes share one setup.)"""
    for method, rule, endpoint in RULES:
        url = url_for_rule(rule, endpoint, route_args)
        for value in ("//evil.example", "https://evil.example/", "/\\evil.example"):
            query = "&".join(f"{name}={quote(value, safe='')}" for name in REDIRECT_PARAMETERS)
            for client in (app.test_client(), owner.client):
                response = client.open(f"{url}?{query}", method=method)
                assert response.status_code < 500, f"{method} {url} -> {response.status_code}"
                assert_stays_here(response)
                response.close()
