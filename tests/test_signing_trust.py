"""What a red team found on the signing path (issue 12) and what now holds: a link confirms the details
that were submitted with it; partners learn nothing about an address from their figures; an inbox
budget spent by others recovers; a closed petition's count is final; forged link payloads are
turned away like any bad link."""

from datetime import timedelta

import itsdangerous
import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Signature, SignatureStatus, SignatureSubmission
from petition.services import personal, signature_links


def details(app) -> tuple:
    """The one signature's state and details, as the organisers' export would show them."""
    with app.app_context():
        signature = db.session.scalars(select(Signature)).one()
        first = personal.unseal(signature.first_name_sealed)
        return signature.status, first, signature.country, signature.keep_informed


def total(client) -> int:
    return client.get("/api/v1/petitions/demo").json["total"]


def test_someone_else_resubmitting_an_address_cannot_change_what_its_owner_confirms(
    app, petition_id, sign_form, client, outbox
):
    sign_form(email="victim@example.org", first_name="Vera", country="DE")
    outbox.deliver()
    first_link = outbox.confirm_path("victim@example.org")
    sign_form(email="victim@example.org", first_name="Mallory", country="FR", keep_informed="y")
    outbox.deliver()
    second_link = outbox.confirm_path("victim@example.org")
    assert first_link != second_link

    page = client.get(first_link).get_data(as_text=True)
    assert "Vera" in page and "Germany" in page and "Mallory" not in page, "the page shows what is confirmed"
    client.post(first_link)

    assert details(app) == (SignatureStatus.CONFIRMED, "Vera", "DE", False)
    counts = {c["code"]: c["count"] for c in client.get("/api/v1/petitions/demo").json["countries"]}
    assert counts["DE"] == 1 and counts["FR"] == 0, "counted for the owner's country"
    client.post(second_link)  # the other details' link, pressed later, changes nothing
    assert details(app) == (SignatureStatus.CONFIRMED, "Vera", "DE", False)
    assert total(client) == 1


def test_a_person_fixing_a_typo_confirms_the_new_details_through_the_new_link(
    app, petition_id, sign_form, client, outbox
):
    sign_form(email="ana@example.org", first_name="Aan", country="AT")
    sign_form(email="ana@example.org", first_name="Ana", country="DE")
    outbox.deliver()
    newest = outbox.confirm_path("ana@example.org")

    page = client.get(newest).get_data(as_text=True)
    assert "Ana" in page and "Germany" in page and "Aan" not in page
    assert client.post(newest).status_code == 200

    assert details(app) == (SignatureStatus.CONFIRMED, "Ana", "DE", False)
    with app.app_context():
        assert db.session.scalars(select(SignatureSubmission)).all() == [], "the other details are gone"
    assert total(client) == 1


def test_a_link_for_details_nobody_submitted_is_a_bad_link(app, petition_id, pending_signature, client):
    signature_id = pending_signature(petition_id)
    with app.test_request_context():
        forged_digest = signature_links.CONFIRM.make(signature_id, "0123456789abcdef")
    assert client.get(f"/confirm/{forged_digest}").status_code == 400
    assert client.post(f"/confirm/{forged_digest}").status_code == 400
    assert total(client) == 0


def test_partner_figures_move_alike_for_new_pending_and_confirmed_addresses(
    app, client, petition_id, make_partner, api_sign, outbox
):
    _, key = make_partner()
    api_sign(key, email="pending@example.org")
    api_sign(key, email="confirmed@example.org")
    outbox.deliver()
    client.post(outbox.confirm_path("confirmed@example.org"))

    def figures() -> dict:
        stats = client.get("/api/v1/partner/stats", headers={"Authorization": f"Bearer {key}"}).json
        return stats["petitions"][0]

    moves = []
    for address in ("new@example.org", "pending@example.org", "confirmed@example.org"):
        before = figures()
        assert api_sign(key, email=address).status_code == 202
        after = figures()
        moves.append({name: after[name] - before[name] for name in ("submitted", "pending", "confirmed")})
    assert moves[0] == moves[1] == moves[2] == {"submitted": 1, "pending": 1, "confirmed": 0}


def test_an_email_budget_spent_by_others_recovers_the_next_day(app, petition_id, sign_form, outbox):
    for _ in range(8):  # someone else keeps submitting the address
        sign_form(email="ana@example.org")
    outbox.deliver()
    assert len(outbox.to("ana@example.org")) == 5, "at most five emails a day"

    with app.app_context():  # a day later, as far as the budget can tell
        signature = db.session.scalars(select(Signature)).one()
        signature.emails_sent_on -= timedelta(days=1)
        db.session.commit()
    sign_form(email="ana@example.org")
    outbox.deliver()
    assert len(outbox.to("ana@example.org")) == 6, "the owner signing the next day gets their link"


def test_a_closed_petitions_count_is_final(app, petition_id, sign_form, client, outbox, owner):
    sign_form(email="early@example.org")
    sign_form(email="late@example.org")
    outbox.deliver()
    client.post(outbox.confirm_path("early@example.org"))
    assert owner.post("/organiser/p/demo/close").status_code in (302, 303)

    late = outbox.confirm_path("late@example.org")
    page = client.get(late)
    assert page.status_code == 403 and "closed" in page.get_data(as_text=True)
    client.post(late)
    assert total(client) == 1, "a confirmation after closing is not counted"


@pytest.mark.parametrize("payload", [{"s": True}, {"s": "1"}, {"s": 1.0}, {"s": None}, {"s": 1, "d": 7}, [1], "1"])
def test_forged_link_payloads_get_the_generic_page(app, petition_id, pending_signature, client, payload):
    """Only a holder of SECRET_KEY could sign these; they must still never crash anything."""
    pending_signature(petition_id)
    with app.app_context():
        token = itsdangerous.URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="signature-confirm").dumps(payload)
    assert client.get(f"/confirm/{token}").status_code == 400
    assert client.post(f"/confirm/{token}").status_code == 400
    assert total(client) == 0


def test_deeply_nested_json_gets_the_apis_error_document(app, client, petition_id, make_partner):
    _, key = make_partner()
    for body in ("[" * 5_000, '{"a":' * 5_000):  # deeper than the parser goes, well under the body limit
        response = client.post(
            "/api/v1/petitions/demo/signatures",
            data=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        assert response.status_code == 400 and response.json["error"] == "bad_request"


def test_rate_limit_keys_in_redis_never_hold_a_client_address(app_config, petition_id, redis_url):
    import redis

    from petition import create_app
    from tests.conftest import form_token_of
    from tests.helpers.fixtures import form_fields

    app = create_app({**app_config, "REDIS_URL": redis_url})
    client = app.test_client()
    address = "203.0.113.77"
    environ = {"REMOTE_ADDR": address}
    token = form_token_of(client.get("/p/demo", environ_base=environ).get_data(as_text=True))
    client.post("/p/demo/sign", data=form_fields(form_token=token), environ_base=environ)
    client.post("/confirm/not-a-token", environ_base=environ)
    client.post("/api/v1/petitions/demo/signatures", json={}, environ_base=environ)  # no key: limited per address

    keys = [key.decode() for key in redis.Redis.from_url(redis_url).keys("*")]
    assert keys, "the limits were counted in Redis"
    assert not [key for key in keys if address in key], "no key names the client's address"
