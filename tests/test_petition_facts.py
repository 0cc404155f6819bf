"""What signing and confirming read about a petition is kept a moment per process: an organiser's
change still takes effect at once in the process that made it, and within PETITION_CACHE_SECONDS
everywhere else."""

import time

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import Organiser, Signature, SignatureStatus
from petition.services import blocklist
from petition.timeutil import utcnow
from tests.conftest import form_token_of
from tests.helpers.fixtures import form_fields


def statuses(app) -> dict[str, SignatureStatus]:
    from petition.services import personal

    with app.app_context():
        rows = db.session.execute(select(Signature.email_hash, Signature.status)).all()
        known = {personal.email_hash(1, f"{name}@{domain}"): f"{name}@{domain}" for name, domain in ADDRESSES}
        return {known[h]: s for h, s in rows}


ADDRESSES = [("ana", "example.org"), ("bot", "spam.example"), ("eve", "spam.example"), ("ivo", "spam.example")]


@pytest.fixture
def cached_app(app):
    app.extensions["petition_facts"].seconds = 0.5
    return app


def test_a_block_made_by_an_organiser_applies_to_the_next_signature(cached_app, petition_id, owner, sign_form):
    assert sign_form(email="ana@example.org").status_code == 303  # the petition is now in the cache
    owner.post("/organiser/p/demo/blocked", {"action": "block_domain", "value": "spam.example"})

    assert sign_form(email="bot@spam.example").status_code == 303
    assert statuses(cached_app)["bot@spam.example"] == SignatureStatus.FLAGGED, "at once, in this process"


def test_a_change_made_elsewhere_applies_within_the_cache_time(cached_app, petition_id, make_organiser, sign_form):
    assert sign_form(email="ana@example.org").status_code == 303
    organiser_id = make_organiser(petition_id=petition_id)
    with cached_app.app_context():  # as another process (or the command line) would
        blocklist.block_domain(
            db.session, petition_id, "spam.example", db.session.get(Organiser, organiser_id), utcnow()
        )
        db.session.commit()

    sign_form(email="eve@spam.example")
    time.sleep(0.6)
    sign_form(email="ivo@spam.example")

    seen = statuses(cached_app)
    assert seen["eve@spam.example"] == SignatureStatus.PENDING, "this process had not read the block yet"
    assert seen["ivo@spam.example"] == SignatureStatus.FLAGGED, "within PETITION_CACHE_SECONDS it has"


def test_closing_by_an_organiser_stops_signing_at_once(cached_app, petition_id, owner, sign_form, client):
    assert sign_form(email="ana@example.org").status_code == 303
    token = form_token_of(client.get("/p/demo").get_data(as_text=True))
    assert owner.post("/organiser/p/demo/close").status_code in (302, 303)
    refused = client.post("/p/demo/sign", data=form_fields(email="bot@spam.example", form_token=token))
    assert refused.status_code == 403
