"""Security headers on every response, by route class: every URL rule of the app is requested (so a
route added later cannot escape), by a visitor and by a logged-in organiser, over HTTP and HTTPS, and
so are the error pages (404, 405, 400) that come before or instead of a view."""

import urllib.request

import pytest

from petition import create_app
from petition.extensions import db
from tests.conftest import TEST_KEYS
from tests.helpers.routes import all_rules, endpoints_with, url_for_rule
from tests.helpers.servers import Gunicorn

WIDGET_ENDPOINTS = endpoints_with("frameable")
TOKEN_ENDPOINTS = endpoints_with("token_in_url")
# Pages that show personal data or a secret, or are about one signature: never kept by any cache.
NO_STORE_ENDPOINTS = TOKEN_ENDPOINTS | WIDGET_ENDPOINTS | endpoints_with("private")


RULES = all_rules()


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{response.request.path}: no Content-Security-Policy"
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        assert name not in directives, f"{name} given twice"
        directives[name] = values
    return directives


def assert_common_headers(response, *, framable: bool) -> None:
    """What every response carries, whatever its route or status."""
    where = f"{response.request.method} {response.request.path} -> {response.status_code}"
    csp = csp_directives(response)
    assert csp.get("default-src") == ["'self'"], where
    assert csp.get("object-src") == ["'none'"], where
    assert csp.get("base-uri") == ["'none'"], where
    assert csp.get("form-action") == ["'self'"], where
    scripts = csp.get("script-src", csp["default-src"])
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        assert unsafe not in scripts, f"{where}: scripts allow {unsafe}"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"], where
    if framable:
        assert csp["frame-ancestors"][0] == "'self'" and "'none'" not in csp["frame-ancestors"], where
        assert "X-Frame-Options" not in response.headers, where
    else:
        assert csp.get("frame-ancestors") == ["'none'"], where
        assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in {"no-referrer", "strict-origin-when-cross-origin"}, where


def assert_class_headers(response, endpoint: str | None, https: bool) -> None:
    where = f"{response.request.method} {response.request.path} -> {response.status_code}"
    assert_common_headers(response, framable=endpoint in WIDGET_ENDPOINTS)
    if endpoint in TOKEN_ENDPOINTS:
        assert response.headers["Referrer-Policy"] == "no-referrer", f"{where}: the token could leak through Referer"
    if endpoint in NO_STORE_ENDPOINTS:
        assert "no-store" in response.headers.get("Cache-Control", ""), f"{where}: may be cached"
    hsts = response.headers.get("Strict-Transport-Security")
    if https:
        assert hsts and "max-age=31536000" in hsts, f"{where}: no HSTS over HTTPS"
    else:
        assert hsts is None, f"{where}: HSTS over plain HTTP"


@pytest.mark.parametrize(("method", "rule", "endpoint"), RULES, ids=[f"{m} {r}" for m, r, _ in RULES])
def test_every_route_sends_the_headers_of_its_class(app, route_args, owner, method, rule, endpoint):
    url = url_for_rule(rule, endpoint, route_args)
    for https in (False, True):
        for client in (app.test_client(), owner.client):
            response = client.open(url, method=method, base_url="https://localhost" if https else "http://localhost")
            assert response.status_code < 500, f"{method} {url} -> {response.status_code}"
            if client is owner.client and method == "GET" and endpoint.startswith("organiser."):
                expected = {302} if endpoint == "organiser.login" else {200}  # logged in: sent on to the list
                assert response.status_code in expected, f"the organiser should see {url}"
            assert_class_headers(response, endpoint, https)
            response.close()  # a streamed export holds its request open until closed


ERRORS = [
    ("GET", "/no/such/page", 404, None),
    ("GET", "/p/no-such-petition", 404, "public.petition_page"),
    ("GET", "/embed/no-such-petition", 404, "embed.widget"),
    ("GET", "/organiser/p/no-such-petition", 404, "organiser.dashboard"),
    ("GET", "/api/v1/petitions/no-such-petition", 404, "api.get_petition"),
    # A wrong method on a known URL gets that URL's headers: framable inside the widget, no Referer on token pages.
    ("DELETE", "/p/demo", 405, "public.petition_page"),
    ("GET", "/p/demo/sign", 405, "public.sign"),
    ("GET", "/embed/demo/sign", 405, "embed.sign"),
    ("PUT", "/api/v1/petitions/demo/signatures", 405, "partner_api.submit_signature"),
    ("PUT", "/confirm/not-a-token", 405, "public.confirm"),
    ("GET", "/organiser/nothing-here", 404, "organiser.dashboard"),  # an unknown URL has its prefix's class
    ("GET", "/confirm/not-a-token", 400, "public.confirm_page"),
    ("POST", "/confirm/not-a-token", 400, "public.confirm"),
    ("GET", "/withdraw/not-a-token", 400, "privacy.withdraw_page"),
    ("POST", "/unsubscribe/not-a-token", 400, "privacy.unsubscribe"),
    ("GET", "/organiser/invite/not-a-token", 404, "organiser.accept_invite"),
]


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
@pytest.mark.parametrize(("method", "url", "status", "endpoint"), ERRORS, ids=[f"{m} {u}" for m, u, _, _ in ERRORS])
def test_error_responses_carry_the_same_headers(app, petition_id, owner, method, url, status, endpoint, https):
    base_url = "https://localhost" if https else "http://localhost"
    response = owner.client.open(url, method=method, base_url=base_url)
    assert response.status_code == status
    assert_class_headers(response, endpoint, https)


@pytest.mark.parametrize(
    ("method", "url"),
    [("PUT", "/confirm/some-token"), ("DELETE", "/withdraw/some-token"), ("PATCH", "/organiser/invite/some-token")],
)
def test_a_wrong_method_on_a_token_url_still_keeps_the_token_out_of_referer(client, petition_id, method, url):
    """Routing fails before any endpoint is known; the URL alone says it holds a secret."""
    response = client.open(url, method=method)
    assert response.status_code == 405
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]


def test_an_organiser_url_with_a_wrong_method_is_not_cached(owner):
    response = owner.client.put("/organiser/p/demo/export.csv")
    assert response.status_code == 405
    assert "no-store" in response.headers["Cache-Control"]


def test_a_client_claiming_https_without_a_trusted_proxy_gets_no_hsts(client, petition_id):
    response = client.get("/p/demo", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def _served_by_gunicorn(tmp_path, trusted_proxies: str) -> dict[str, str]:
    """GET /privacy from this machine's address, claiming HTTPS, from gunicorn run with gunicorn.conf.py."""
    env = {**TEST_KEYS, "DATABASE_URL": f"sqlite:///{tmp_path}/unused.db", "TRUSTED_PROXIES": trusted_proxies}
    server = Gunicorn(env, workers=1)
    try:
        claim = urllib.request.Request(
            f"{server.base_url}/privacy", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.1"}
        )
        with urllib.request.urlopen(claim, timeout=30) as response:
            return dict(response.headers)
    finally:
        server.stop()


def test_gunicorn_believes_no_forwarded_scheme_when_no_proxy_is_trusted(tmp_path):
    """The red team's finding: from 127.0.0.1, X-Forwarded-Proto: https earned HSTS with TRUSTED_PROXIES=0
    (gunicorn's forwarded_allow_ips trusted loopback whatever TRUSTED_PROXIES said)."""
    assert "Strict-Transport-Security" not in _served_by_gunicorn(tmp_path, "0")
    assert "Strict-Transport-Security" in _served_by_gunicorn(tmp_path, "1"), "a proxy on this host is believed"


def test_https_through_a_trusted_proxy_gets_hsts(app_config, petition_id):
    app = create_app({**app_config, "TRUSTED_PROXIES": 1})
    response = app.test_client().get("/p/demo", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.1"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    with app.app_context():
        db.engine.dispose()
