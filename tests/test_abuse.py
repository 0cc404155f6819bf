"""Abuse: floods and scripts are stored as flagged, never counted or mailed, and cannot tell."""

import random
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from sqlalchemy import select

from petition import create_app
from petition.extensions import db
from petition.models import Signature, SignatureStatus
from tests.conftest import TEST_KEYS, form_token_of
from tests.helpers.fixtures import form_fields
from tests.helpers.servers import Gunicorn


def random_ip() -> str:
    """A fresh client address per test, so limits counted in a shared Redis never meet another run's."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def signing_client(app, ip):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def sign(client, address, **headers):
    token = form_token_of(client.get("/p/demo").get_data(as_text=True))
    return client.post("/p/demo/sign", data=form_fields(email=address, form_token=token), headers=headers)


def statuses(app):
    with app.app_context():
        return [s.status for s in db.session.scalars(select(Signature).order_by(Signature.id))]


def comparable(response):
    headers = tuple(sorted((k, v) for k, v in response.headers.items() if k != "Date"))
    return response.status_code, headers, response.get_data()


def test_signing_over_the_limit_is_flagged_unmailed_and_looks_the_same(app, petition_id, outbox):
    app.config["SIGN_RATE_LIMIT"] = "3/minute"
    client = signing_client(app, random_ip())

    responses = [sign(client, f"person{i}@example.org") for i in range(5)]

    assert len({comparable(r) for r in responses}) == 1, "every answer is byte-identical"
    assert statuses(app) == [SignatureStatus.PENDING] * 3 + [SignatureStatus.FLAGGED] * 2
    outbox.deliver()
    assert len(outbox.messages()) == 3
    assert app.test_client().get("/api/v1/petitions/demo").json["total"] == 0


def test_the_limit_is_per_client_address(app, petition_id):
    app.config["SIGN_RATE_LIMIT"] = "2/minute"
    first, second = signing_client(app, random_ip()), signing_client(app, random_ip())
    for i in range(2):
        sign(first, f"a{i}@example.org")
        sign(second, f"b{i}@example.org")
    assert statuses(app) == [SignatureStatus.PENDING] * 4


def test_x_forwarded_for_from_a_client_changes_nothing(app, petition_id):
    app.config["SIGN_RATE_LIMIT"] = "2/minute"
    client = signing_client(app, random_ip())
    for i in range(4):
        sign(client, f"x{i}@example.org", **{"X-Forwarded-For": random_ip()})
    assert statuses(app).count(SignatureStatus.FLAGGED) == 2


def test_one_trusted_proxy_gives_the_real_client_address(app_config, database_url):
    app = create_app({**app_config, "TRUSTED_PROXIES": 1, "SIGN_RATE_LIMIT": "2/minute"})
    with app.app_context():
        from petition.services.petitions import create_petition
        from petition.timeutil import utcnow

        create_petition(db.session, slug="demo", title="T", now=utcnow())
        db.session.commit()
    proxy = signing_client(app, random_ip())
    for i in range(4):  # four different people behind one proxy
        sign(proxy, f"p{i}@example.org", **{"X-Forwarded-For": random_ip()})
    assert statuses(app) == [SignatureStatus.PENDING] * 4


@pytest.fixture
def redis_url():
    import os

    from tests.conftest import missing_service

    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        missing_service("Redis tests need TEST_REDIS_URL")
    return url


def _sign_over_http(base_url: str, address: str) -> int:
    page = urllib.request.urlopen(f"{base_url}/p/demo", timeout=10).read().decode()
    body = urllib.parse.urlencode(form_fields(email=address, form_token=form_token_of(page))).encode()
    request = urllib.request.Request(f"{base_url}/p/demo/sign", data=body, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        return opener.open(request, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _flagged_after_alternating(app, database_url, tmp_path, storage: str) -> list[SignatureStatus]:
    env = {**TEST_KEYS, "DATABASE_URL": database_url, "MAIL_URL": f"file://{tmp_path}/out",
           "MIN_FILL_SECONDS": "0", "SIGN_RATE_LIMIT": "3/minute", "REDIS_URL": storage,
           "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex}  # fmt: skip
    servers = [Gunicorn(env, workers=1), Gunicorn(env, workers=1)]
    try:
        codes = [_sign_over_http(servers[i % 2].base_url, f"g{i}@example.org") for i in range(6)]
    finally:
        for server in servers:
            server.stop()
    assert codes == [303] * 6
    return statuses(app)


def test_limits_are_shared_by_every_process_through_redis(app, petition_id, database_url, tmp_path, redis_url):
    """Two gunicorn processes take turns: with Redis they share one count (3 pass, 3 flagged)."""
    assert _flagged_after_alternating(app, database_url, tmp_path, redis_url).count(SignatureStatus.FLAGGED) == 3


def test_without_redis_each_process_counts_alone(app, petition_id, database_url, tmp_path):
    """The control: in-memory limits multiply with processes, which is why production needs Redis."""
    assert _flagged_after_alternating(app, database_url, tmp_path, "").count(SignatureStatus.FLAGGED) == 0


def test_confirming_too_often_answers_429_with_retry_after(app, petition_id, sign_form, outbox):
    app.config["CONFIRM_RATE_LIMIT"] = "2/minute"
    sign_form(email="ana@example.org")
    outbox.deliver()
    client = signing_client(app, random_ip())
    link = outbox.confirm_path("ana@example.org")
    codes = [client.post(link).status_code for _ in range(3)]
    assert codes == [200, 303, 429]  # confirmed (the thanks page), done before (a redirect to it), limited
    limited = client.post(link)
    assert limited.headers.get("Retry-After") and "Too many attempts" in limited.get_data(as_text=True)
