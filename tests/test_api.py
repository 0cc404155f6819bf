"""The public JSON API: the contract's shapes, caching, CORS and the health check."""

import re
from datetime import date

from petition.rules import eci

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def test_a_petition_has_exactly_the_contract_shape(client, make_petition, confirmed_signature, pending_signature):
    petition_id = make_petition(slug="demo", registered_on=date(2026, 11, 26))
    confirmed_signature(petition_id, "a@example.org", "DE")
    confirmed_signature(petition_id, "b@example.org", "DE")
    confirmed_signature(petition_id, "c@example.org", "GR")
    pending_signature(petition_id, "d@example.org", "FR")

    response = client.get("/api/v1/petitions/demo")

    assert response.status_code == 200
    assert response.content_type == "application/json"
    data = response.json
    assert list(data) == [
        "slug", "title", "status", "opens_at", "closes_at", "total", "goal",
        "countries", "countries_reached", "goal_reached", "updated_at",
    ]  # fmt: skip
    assert data["slug"] == "demo" and data["status"] == "open"
    assert data["total"] == 3, "pending signatures are not counted"
    assert data["goal"] == {"total": 1_000_000, "min_countries": 7}
    assert ISO_Z.match(data["opens_at"]) and ISO_Z.match(data["closes_at"]) and ISO_Z.match(data["updated_at"])
    assert data["opens_at"].endswith("T00:00:00Z") and data["closes_at"].endswith("T23:59:59Z")
    countries = {c["code"]: c for c in data["countries"]}
    assert set(countries) == set(eci.member_states()), "every country with a threshold is listed"
    assert countries["DE"] == {"code": "DE", "count": 2, "threshold": 69_120, "reached": False}
    assert countries["GR"]["count"] == 1, "Greece is GR in the API"
    assert countries["FR"]["count"] == 0
    assert data["countries_reached"] == 0 and data["goal_reached"] is False


def test_a_petition_without_a_goal_has_a_null_goal(client, make_petition, confirmed_signature):
    petition_id = make_petition(slug="local", rules="simple")
    confirmed_signature(petition_id, "a@example.org", "RS")

    data = client.get("/api/v1/petitions/local").json

    assert data["goal"] is None and data["closes_at"] is None
    assert data["countries"] == [{"code": "RS", "count": 1, "threshold": None, "reached": False}]
    assert data["goal_reached"] is False


def test_simple_goals_with_country_targets(client, make_petition, confirmed_signature):
    petition_id = make_petition(slug="cams", rules="simple", goal=2, country_targets={"RS": 1})
    confirmed_signature(petition_id, "a@example.org", "RS")

    data = client.get("/api/v1/petitions/cams").json
    assert data["goal"] == {"total": 2, "min_countries": None}
    assert data["countries"] == [{"code": "RS", "count": 1, "threshold": 1, "reached": True}]
    assert data["countries_reached"] == 1 and data["goal_reached"] is False

    confirmed_signature(petition_id, "b@example.org", "HR")
    data = client.get("/api/v1/petitions/cams").json
    assert data["total"] == 2 and data["goal_reached"] is True


def test_the_list_shows_open_and_closed_petitions_but_no_drafts(client, make_petition, confirmed_signature):
    confirmed_signature(make_petition(slug="demo"), "a@example.org", "DE")
    make_petition(slug="secret", draft=True)

    data = client.get("/api/v1/petitions").json

    assert data == {
        "petitions": [{"slug": "demo", "title": "Ban biometric mass surveillance", "status": "open", "total": 1}]
    }


def test_unknown_and_draft_petitions_are_404_in_json(client, make_petition):
    make_petition(slug="secret", draft=True)
    for slug in ("nope", "secret"):
        response = client.get(f"/api/v1/petitions/{slug}")
        assert response.status_code == 404 and response.json["error"] == "not_found"


def test_reads_are_open_to_any_origin_and_cheap_to_revalidate(client, petition_id, confirmed_signature):
    first = client.get("/api/v1/petitions/demo", headers={"Origin": "https://news.example"})
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=1" in first.headers["Cache-Control"] and "stale-while-revalidate" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]

    unchanged = client.get("/api/v1/petitions/demo", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""

    confirmed_signature(petition_id)
    changed = client.get("/api/v1/petitions/demo", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json["total"] == 1


def test_no_personal_data_in_any_api_response(client, petition_id, confirmed_signature):
    confirmed_signature(petition_id, "ana.kovac@example.org", "DE")
    for path in ("/api/v1/petitions", "/api/v1/petitions/demo"):
        body = client.get(path).get_data(as_text=True)
        assert "ana" not in body.lower() and "example.org" not in body


def test_health_check_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_health_check_answers_503_when_the_database_is_unreachable(tmp_path):
    from petition import create_app
    from tests.conftest import base_config

    config = base_config("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2", tmp_path)
    response = create_app(config).test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "unavailable"


def test_pages_answer_503_not_500_when_the_database_is_unreachable(tmp_path):
    from petition import create_app
    from petition.services.confirming import make_confirm_token
    from tests.conftest import base_config

    config = base_config("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2", tmp_path)
    app = create_app(config)
    client = app.test_client()
    page = client.get("/p/demo")
    assert page.status_code == 503 and "briefly unavailable" in page.get_data(as_text=True)
    assert client.get("/api/v1/petitions/demo").status_code == 503
    # A confirmation link reads and writes straight through the driver (services.sql): the same answer.
    with app.app_context():
        link = f"/confirm/{make_confirm_token(1, None)}"
    for method in (client.get, client.post):
        answer = method(link)
        assert answer.status_code == 503 and "briefly unavailable" in answer.get_data(as_text=True)
