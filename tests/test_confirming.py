"""Confirming by email link: a GET never confirms, the POST counts once, bad links get one page."""

import base64
import json
import re

import itsdangerous.timed
from sqlalchemy import select

from petition.extensions import db
from petition.models import Signature, SignatureStatus
from petition.public import form_token
from petition.services import signature_links
from tests.helpers.fixtures import CONFIRM_LINK, confirm_token


def total(client) -> int:
    return client.get("/api/v1/petitions/demo").json["total"]


def test_opening_the_link_shows_a_button_and_counts_nothing(app, petition_id, sign_form, client, outbox):
    sign_form(email="ana@example.org")
    outbox.deliver()
    link = outbox.confirm_path("ana@example.org")

    page = client.get(link)

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<form method="post"' in html and "Confirm my signature" in html
    assert total(client) == 0


def test_pressing_the_button_counts_the_signature_for_its_country(app, petition_id, sign_form, client, outbox):
    sign_form(email="ana@example.org", country="PL")
    outbox.deliver()
    link = outbox.confirm_path("ana@example.org")

    response = client.post(link)

    # The thanks page comes with the answer: no redirect, no second request.
    assert response.status_code == 200
    assert "your signature is confirmed" in response.get_data(as_text=True)
    data = client.get("/api/v1/petitions/demo").json
    assert data["total"] == 1
    assert {c["code"]: c["count"] for c in data["countries"]}["PL"] == 1


def test_confirming_twice_is_harmless(app, petition_id, sign_form, client, outbox):
    sign_form(email="ana@example.org")
    outbox.deliver()
    link = outbox.confirm_path("ana@example.org")

    first, second = client.post(link), client.post(link)

    # Sending the form again (a reload of the thanks page) leads back to the thanks page.
    assert first.status_code == 200 and "your signature is confirmed" in first.get_data(as_text=True)
    assert second.status_code == 303 and second.headers["Location"] == link
    assert "your signature is confirmed" in client.get(link).get_data(as_text=True)
    assert total(client) == 1


def test_a_resent_link_and_the_first_link_both_work_once(app, petition_id, sign_form, client, outbox):
    sign_form(email="ana@example.org")
    sign_form(email="ana@example.org")
    outbox.deliver()
    first, second = outbox.to("ana@example.org")
    assert first["Message-ID"] != second["Message-ID"]
    first_link, second_link = (CONFIRM_LINK.search(outbox.text_of(m)).group(1) for m in (first, second))

    assert client.post(first_link).status_code == 200
    assert client.post(second_link).status_code == 303
    assert total(client) == 1


def _generic_error(response) -> bool:
    return response.status_code == 400 and "This link does not work" in response.get_data(as_text=True)


def test_a_tampered_link_gets_the_generic_page_and_changes_nothing(app, petition_id, sign_form, client, outbox):
    sign_form(email="ana@example.org")
    outbox.deliver()
    link = outbox.confirm_path("ana@example.org")
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")

    assert _generic_error(client.get(tampered))
    assert _generic_error(client.post(tampered))
    assert _generic_error(client.get("/confirm/not-a-token"))
    assert total(client) == 0


def test_an_expired_link_gets_the_generic_page(app, petition_id, pending_signature, client, monkeypatch):
    signature_id = pending_signature(petition_id)
    eight_days_ago = itsdangerous.timed.time.time() - 8 * 24 * 3600
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: eight_days_ago)
    with app.test_request_context():
        token = confirm_token(signature_id)
    monkeypatch.undo()

    assert _generic_error(client.post(f"/confirm/{token}"))
    assert total(client) == 0


def test_a_token_made_for_another_purpose_is_refused(app, petition_id, pending_signature, client):
    signature_id = pending_signature(petition_id)
    with app.test_request_context():
        # Signed with the same key under another salt; the withdrawal link even carries the same payload.
        other_purposes = [form_token.issue(petition_id), signature_links.WITHDRAW.make(signature_id)]

    for token in other_purposes:
        assert _generic_error(client.get(f"/confirm/{token}"))
        assert _generic_error(client.post(f"/confirm/{token}"))
    assert total(client) == 0


def test_the_link_carries_no_personal_data(app, petition_id, sign_form, outbox):
    sign_form(email="ana@example.org", first_name="Ana")
    outbox.deliver()
    token = outbox.confirm_path("ana@example.org").rsplit("/", 1)[1]
    payload = token.split(".")[0]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(decoded) == {"s", "d"} and isinstance(decoded["s"], int)
    assert re.fullmatch(r"[0-9a-f]{16}", decoded["d"]), "a keyed digest of the details, not the details"
    assert "Ana" not in token and "example" not in token


def test_a_flagged_signature_cannot_be_confirmed(app, petition_id, sign_form, client):
    sign_form(email="bot@example.org", website="http://spam.example")  # the honeypot, filled
    with app.app_context():
        signature = db.session.scalars(select(Signature)).one()
        assert signature.status == SignatureStatus.FLAGGED
        with app.test_request_context():
            token = confirm_token(signature.id)

    assert _generic_error(client.post(f"/confirm/{token}"))
    assert total(client) == 0


def test_confirmation_pages_do_not_leak_the_token(app, petition_id, sign_form, client, outbox):
    sign_form(email="ana@example.org")
    outbox.deliver()
    page = client.get(outbox.confirm_path("ana@example.org"))
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
