"""Partner fixtures: a registered partner with its key, and the partner API as a partner calls it."""

import pytest

from petition.extensions import db
from petition.services import partners
from petition.services.petitions import get_by_slug
from petition.timeutil import utcnow


@pytest.fixture
def make_partner(app):
    """make_partner(name=..., origins=[...], petitions=["demo"]) -> (partner id, API key)."""

    def make(name="Digital Rights NGO", origins=("https://ngo.example",), petitions=("demo",)) -> tuple[str, str]:
        with app.app_context():
            new = partners.create_partner(
                db.session,
                name=name,
                origins=list(origins),
                petitions=[get_by_slug(db.session, slug) for slug in petitions],
                now=utcnow(),
            )
            db.session.commit()
            return new.partner.public_id, new.key

    return make


def signer_json(**overrides) -> dict:
    body = {"first_name": "Ana", "last_name": "Kovač", "email": "ana@example.org", "country": "DE", "consent": True}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def api_sign(client):
    """api_sign(key, slug="demo", **fields): POST a signature to the partner API."""

    def send(key: str | None, slug="demo", json=None, **overrides):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return client.post(
            f"/api/v1/petitions/{slug}/signatures",
            json=signer_json(**overrides) if json is None else json,
            headers=headers,
        )

    return send
