"""Each route's policy is declared on its view (petition.policy), and every hook that reads it behaves
accordingly: the URL map is walked, so a route added later is checked (and must be classified in
tests/helpers/routes.py) without anyone remembering to.

The behaviour of each flag is checked where a person or a script would notice it: the language cookie
and the page's language, request logs, error documents, the login, the body limit. Headers by class
(framing, Referer, caching) are walked in tests/test_security_headers.py from the same table."""

import logging
import re

from petition import create_app, log_redaction
from petition.extensions import db
from tests.conftest import TEST_KEYS
from tests.helpers.routes import EXPECTED_POLICY, all_rules, endpoints_with, url_for_rule

RULES = all_rules()


def declared_flags(policy) -> set[str]:
    flags = {name for name in ("token_in_url", "frameable", "english_only", "private", "json_errors",
                               "login_free", "passive") if getattr(policy, name)}  # fmt: skip
    if not policy.language_cookie:
        flags.add("no_language_cookie")
    if policy.body_limit is not None:
        flags.add("large_body")
    return flags


def built_app():
    return create_app({**TEST_KEYS, "DATABASE_URL": "sqlite://", "TESTING": True})


def test_every_route_is_classified_and_declares_that_policy():
    app = built_app()
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - EXPECTED_POLICY.keys() == set(), "classify the new route in tests/helpers/routes.py"
    assert EXPECTED_POLICY.keys() - endpoints == set(), "a classified route no longer exists"
    wrong = {
        rule.endpoint: (declared_flags(rule.route_policy), EXPECTED_POLICY[rule.endpoint])
        for rule in app.url_map.iter_rules()
        if declared_flags(rule.route_policy) != EXPECTED_POLICY[rule.endpoint]
    }
    assert wrong == {}, "endpoint: (declared, expected)"
    with app.app_context():
        db.engine.dispose()


def test_a_language_is_remembered_and_spoken_only_where_declared(app, route_args, owner):
    """`?lang=de` on every GET route: the cookie only where the language may be remembered (never in an
    API answer, a widget or a staff page), and German only where the page is not English-only."""
    wrong = []
    for method, rule, endpoint in RULES:
        if method != "GET":
            continue
        url = url_for_rule(rule, endpoint, route_args)
        owner.client.delete_cookie("lang")
        for client in (app.test_client(), owner.client):
            response = client.get(f"{url}?lang=de")
            cookie = "lang=de" in response.headers.get("Set-Cookie", "")
            remembered = "no_language_cookie" not in EXPECTED_POLICY[endpoint]
            if response.status_code < 400 and cookie != remembered:
                wrong.append(f"{url}?lang=de -> {response.status_code}, cookie: {cookie}")
            if response.mimetype == "text/html" and response.status_code == 200:
                html_lang = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
                expected = "en" if "english_only" in EXPECTED_POLICY[endpoint] else "de"
                if html_lang and html_lang.group(1) != expected:  # (a fragment has no <html>)
                    wrong.append(f"{url}?lang=de is in {html_lang.group(1)}, not {expected}")
            response.close()
    assert wrong == [], "\n".join(wrong)


def test_the_api_does_not_remember_a_language(client, petition_id, make_partner):
    """What the red team saw: the partner statistics answered ?lang=de with Set-Cookie: lang=de."""
    _partner_id, key = make_partner()
    response = client.get("/api/v1/partner/stats?lang=de", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_every_token_url_and_only_those_are_cut_out_of_request_logs(app, route_args, caplog):
    token_routes = endpoints_with("token_in_url")
    with caplog.at_level(logging.INFO, logger="gunicorn.access"):
        for method, rule, endpoint in RULES:
            url = url_for_rule(rule, endpoint, route_args)
            caplog.clear()
            logging.getLogger("gunicorn.access").info('"%s %s HTTP/1.1" 200', method, url)
            [line] = [record.getMessage() for record in caplog.records]
            if endpoint in token_routes:
                token = url.rsplit("/", 1)[1]
                assert token not in line and "/[token]" in line, line
            else:
                assert line == f'"{method} {url} HTTP/1.1" 200', "a path without a secret is logged as it is"


def test_an_invitation_link_is_cut_out_of_request_logs(app, route_args):
    """What the red team saw: GET /organiser/invite/<token> in clear in the access log."""
    invite = route_args[("organiser.accept_invite", "token")]
    assert invite not in log_redaction.redact(f'127.0.0.1 - - "GET /organiser/invite/{invite} HTTP/1.1" 200')
    assert invite not in log_redaction.redact(f'"POST /organiser/invite/{invite}?next=/ HTTP/1.1" 303')


def test_errors_are_json_exactly_where_declared(app, route_args):
    """A wrong method (405, raised before any view) and an unknown URL under a route's prefix."""
    client = app.test_client()
    for _method, rule, endpoint in RULES:
        response = client.open(url_for_rule(rule, endpoint, route_args), method="PATCH")
        assert response.status_code == 405
        assert (response.mimetype == "application/json") == ("json_errors" in EXPECTED_POLICY[endpoint]), rule
    assert client.get("/api/v1/no-such-thing").json == {"error": "page_not_found", "status": 404}
    assert client.get("/no-such-thing").mimetype == "text/html"


def test_only_login_free_organiser_pages_open_without_a_login(app, route_args):
    client = app.test_client()
    for method, rule, endpoint in RULES:
        if not endpoint.startswith("organiser.") or method != "GET":
            continue
        response = client.get(url_for_rule(rule, endpoint, route_args))
        if "login_free" in EXPECTED_POLICY[endpoint]:
            assert response.status_code == 200, rule
        elif "passive" in EXPECTED_POLICY[endpoint]:
            assert response.status_code == 401, rule
        else:
            assert response.status_code == 303 and "/organiser/login" in response.headers["Location"], rule


def test_every_route_refuses_a_body_larger_than_it_needs(app, route_args, owner, make_partner):
    """65 KiB of form: more than any public or ordinary organiser form needs; the routes declared to take
    petition texts and CSV files take it (and refuse more than they need, tests/test_body_limits.py)."""
    body = "first_name=" + "x" * (65 * 1024)
    _partner_id, key = make_partner(name="Another NGO")
    for method, rule, endpoint in RULES:
        if method != "POST":
            continue
        url = url_for_rule(rule, endpoint, route_args)
        response = owner.client.post(
            url,
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"Authorization": f"Bearer {key}"},  # the partner API reads no body without a key
        )
        refused = response.status_code == 413
        assert refused == ("large_body" not in EXPECTED_POLICY[endpoint]), f"POST {url} -> {response.status_code}"
