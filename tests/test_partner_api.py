"""The partner API: submitting signatures with a key, a partner's own counts, rate limits, and the
caching of the public read endpoints."""

import os
import uuid

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition, PetitionStatus, Signature, SignatureStatus
from petition.services import partners
from petition.timeutil import utcnow
from tests.helpers.partners import signer_json


def signatures(app) -> list[Signature]:
    with app.app_context():
        return db.session.scalars(select(Signature).order_by(Signature.id)).all()


def without_rate_limit(headers) -> dict:
    """Headers that must not differ between answers (the wait after a refusal does, by design)."""
    return {k: v for k, v in headers.items() if k != "Retry-After"}


def stats_of(client, key: str) -> dict:
    response = client.get("/api/v1/partner/stats", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    return response.json


def test_a_good_key_submits_a_pending_signature_credited_to_the_partner(
    app, client, petition_id, make_partner, api_sign, outbox
):
    partner_id, key = make_partner()
    response = api_sign(key, email="ana@example.org", source="newsletter-june")

    assert response.status_code == 202
    assert response.json == {"status": "pending"}
    [signature] = signatures(app)
    assert signature.status == SignatureStatus.PENDING
    assert signature.source == f"api:{partner_id}/newsletter-june"
    assert signature.ip_hash is None, "the partner's server address is not the signer's"
    assert outbox.deliver() == 1
    client.post(outbox.confirm_path("ana@example.org"))
    assert client.get("/api/v1/petitions/demo").json["total"] == 1
    assert stats_of(client, key)["petitions"] == [
        {"slug": "demo", "title": "Ban biometric mass surveillance", "submitted": 1, "pending": 0, "confirmed": 1}
    ]


def test_without_a_source_code_the_source_is_the_partner_alone(app, petition_id, make_partner, api_sign):
    partner_id, key = make_partner()
    assert api_sign(key).status_code == 202
    assert signatures(app)[0].source == f"api:{partner_id}"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ptk_not-a-real-key", "Bearer ", "Basic dXNlcjpwYXNz", "ptk_without_scheme"],
)
def test_a_missing_or_wrong_key_is_refused_with_401(app, client, petition_id, make_partner, authorization):
    make_partner()
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post("/api/v1/petitions/demo/signatures", json=signer_json(), headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"] == "unauthorized"
    assert signatures(app) == []
    assert client.get("/api/v1/partner/stats", headers=headers).status_code == 401


def test_a_revoked_key_stops_working_and_its_signatures_stay_credited(app, client, petition_id, make_partner, api_sign):
    partner_id, key = make_partner()
    assert api_sign(key, email="before@example.org").status_code == 202
    with app.app_context():
        partners.revoke(db.session, partners.get_by_public_id(db.session, partner_id), utcnow())
        db.session.commit()

    assert api_sign(key, email="after@example.org").status_code == 401
    assert client.get("/api/v1/partner/stats", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert [s.source for s in signatures(app)] == [f"api:{partner_id}"]


def test_rotating_the_key_retires_the_old_one_at_once(app, client, petition_id, make_partner, api_sign):
    partner_id, old_key = make_partner()
    with app.app_context():
        new_key = partners.rotate_key(db.session, partners.get_by_public_id(db.session, partner_id), utcnow()).key
        db.session.commit()

    assert api_sign(old_key).status_code == 401
    assert api_sign(new_key).status_code == 202


def test_a_key_cannot_collect_for_a_petition_of_another_partner(app, client, make_petition, make_partner, api_sign):
    make_petition(slug="demo")
    make_petition(slug="cameras", rules="simple", goal=10_000)
    make_partner(name="Ours", petitions=["demo"])
    _, their_key = make_partner(name="Theirs", petitions=["cameras"])

    response = api_sign(their_key, slug="demo")
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"
    assert signatures(app) == []
    assert api_sign(their_key, slug="cameras", country="RS").status_code == 202


def test_unknown_draft_and_closed_petitions(app, client, make_petition, make_partner, api_sign):
    petition_id = make_petition(slug="demo")
    make_petition(slug="later", draft=True)
    _, key = make_partner(petitions=["demo", "later"])

    assert api_sign(key, slug="nope").status_code == 404
    assert api_sign(key, slug="later").status_code == 404
    with app.app_context():
        db.session.get(Petition, petition_id).status = PetitionStatus.CLOSED
        db.session.commit()
    response = api_sign(key, slug="demo")
    assert response.status_code == 409 and response.json["error"] == "not_open"
    assert signatures(app) == []


def test_invalid_fields_get_422_with_the_forms_own_messages(app, petition_id, make_partner, api_sign, outbox):
    _, key = make_partner()
    response = api_sign(
        key, first_name="  ", last_name="K\u202eovač", email="not-an-address", country="US", consent=None
    )

    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["first_name"] == ["This field is required."]
    assert errors["last_name"] == ["Please remove invisible or control characters."]
    assert errors["email"][0].startswith("Please enter a valid email address.")
    assert errors["country"] == ["Please choose a country from the list."]
    assert errors["consent"][0].startswith("Please tick this box to sign")
    assert signatures(app) == []
    assert outbox.deliver() == 0


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ([], "body", "Send a JSON object with the signer's fields."),
        ("just a string", "body", "Send a JSON object with the signer's fields."),
        (signer_json(first_name=42), "first_name", "Must be a string."),
        (signer_json(email=["ana@example.org"]), "email", "Must be a string."),
        (signer_json(consent="yes"), "consent", "Must be true or false."),
        (signer_json(consent=False), "consent", "Please tick this box to sign: we cannot count you otherwise."),
        (signer_json(keep_informed="no"), "keep_informed", "Must be true or false."),
        (signer_json(source="has spaces"), "source", "Use 1 to 40 letters, digits, '-' or '_'."),
        (signer_json(source=7), "source", "Use 1 to 40 letters, digits, '-' or '_'."),
    ],
)
def test_bodies_of_the_wrong_shape_get_field_errors(app, petition_id, make_partner, api_sign, body, field, message):
    _, key = make_partner()
    response = api_sign(key, json=body)
    assert response.status_code == 422
    assert message in response.json["errors"][field]
    assert signatures(app) == []


def test_a_body_that_is_not_json_gets_422(app, client, petition_id, make_partner):
    _, key = make_partner()
    response = client.post(
        "/api/v1/petitions/demo/signatures",
        data="first_name=Ana",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert "body" in response.json["errors"]


def test_greece_may_be_given_as_el_through_the_api_too(app, petition_id, make_partner, api_sign):
    _, key = make_partner()
    assert api_sign(key, country="EL").status_code == 202
    assert signatures(app)[0].country == "GR"


def test_duplicates_get_the_same_answer_and_stay_one_signature(
    app, client, petition_id, make_partner, api_sign, sign_form, outbox
):
    _, key = make_partner()
    first = api_sign(key, email="ana@example.org")
    again_pending = api_sign(key, email="ana@example.org")
    outbox.deliver()
    client.post(outbox.confirm_path("ana@example.org"))
    again_confirmed = api_sign(key, email="ana@example.org")

    for response in (again_pending, again_confirmed):
        assert response.status_code == first.status_code == 202
        assert response.get_data() == first.get_data()
        assert without_rate_limit(response.headers) == without_rate_limit(first.headers)
    assert len(signatures(app)) == 1
    outbox.deliver()
    assert "already signed" in outbox.to("ana@example.org")[-1]["Subject"]


def test_an_address_that_signed_on_our_page_keeps_its_first_source(app, petition_id, make_partner, api_sign, sign_form):
    _, key = make_partner()
    sign_form(email="ana@example.org")
    assert api_sign(key, email="ana@example.org").status_code == 202
    [signature] = signatures(app)
    assert signature.source == "web"


def test_stats_show_only_the_partners_own_signatures(
    app, client, make_petition, make_partner, api_sign, sign_form, outbox
):
    make_petition(slug="demo")
    make_petition(slug="cameras", rules="simple", goal=10_000)
    _, ours = make_partner(name="Ours", petitions=["demo", "cameras"])
    _, theirs = make_partner(name="Theirs", petitions=["demo"])
    api_sign(ours, email="a@example.org")
    api_sign(ours, email="b@example.org")
    api_sign(theirs, email="c@example.org")
    sign_form(email="d@example.org")
    outbox.deliver()
    for address in ("a@example.org", "c@example.org", "d@example.org"):
        client.post(outbox.confirm_path(address))

    mine = stats_of(client, ours)
    assert mine["partner"]["name"] == "Ours"
    assert [(p["slug"], p["pending"], p["confirmed"]) for p in mine["petitions"]] == [
        ("cameras", 0, 0),
        ("demo", 1, 1),
    ]
    assert [(p["slug"], p["pending"], p["confirmed"]) for p in stats_of(client, theirs)["petitions"]] == [
        ("demo", 0, 1)
    ]


def test_stats_and_submissions_are_private_and_not_cached(client, petition_id, make_partner, api_sign):
    _, key = make_partner()
    response = client.get("/api/v1/partner/stats", headers={"Authorization": f"Bearer {key}"})
    assert response.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert api_sign(key).headers["Cache-Control"] == "no-store"


@pytest.fixture
def limited(app_config, request):
    """A tiny limit, on memory storage or, when TEST_REDIS_URL is set, on Redis as in production; or
    with a Redis that does not answer (a closed port): then each process counts alone."""
    app_config["PARTNER_API_RATE_LIMIT"] = "3/minute"
    if request.param == "redis down":
        app_config["REDIS_URL"] = "redis://127.0.0.1:9/0"
    if request.param == "redis":
        url = os.environ.get("TEST_REDIS_URL")
        if not url:
            from tests.conftest import missing_service

            missing_service("Redis tests need TEST_REDIS_URL")
        app_config["REDIS_URL"] = url
    return request.param


@pytest.mark.parametrize("limited", ["memory", "redis", "redis down"], indirect=True)
def test_each_key_is_rate_limited_on_its_own(limited, app, client, petition_id, make_partner, api_sign):
    _, key = make_partner(name=f"Busy {uuid.uuid4().hex[:6]}")
    _, other_key = make_partner(name="Quiet")
    answers = [api_sign(key, email=f"p{i}@example.org").status_code for i in range(4)]

    assert answers == [202, 202, 202, 429]
    refused = api_sign(key, email="p9@example.org")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json["error"] == "too_many_requests" and 1 <= refused.json["retry_after"] <= 60
    assert api_sign(other_key, email="other@example.org").status_code == 202
    assert len(signatures(app)) == 4


def test_public_reads_are_cacheable_and_revalidate_with_etag(client, petition_id):
    for path in ("/api/v1/petitions", "/api/v1/petitions/demo", "/api/v1/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "max-age=" in response.headers["Cache-Control"]
        assert "stale-while-revalidate=" in response.headers["Cache-Control"]
        etag = response.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b"", path
        assert again.headers["ETag"] == etag


def test_the_etag_changes_when_the_total_changes(client, petition_id, confirmed_signature):
    before = client.get("/api/v1/petitions/demo")
    confirmed_signature(petition_id)
    after = client.get("/api/v1/petitions/demo", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.json["total"] == before.json["total"] + 1
