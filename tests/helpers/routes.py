"""Every route of the app, with a valid-looking URL for each: tests that must cover all routes iterate
these, so a route added later is covered without anyone remembering to."""

import re

import pytest

from petition import create_app
from petition.extensions import db
from petition.models import Audience, Petition, Role
from petition.services import signature_links, team, updates
from petition.timeutil import utcnow


def all_rules() -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) for every route, read from the app itself (at collection time)."""
    from tests.conftest import TEST_KEYS

    app = create_app({**TEST_KEYS, "DATABASE_URL": "sqlite://", "TESTING": True})
    found = [
        (method, rule.rule, rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    with app.app_context():
        db.engine.dispose()
    return sorted(found, key=lambda r: (r[1], r[0]))


@pytest.fixture
def route_args(app, petition_id, pending_signature, make_partner) -> dict:
    """A valid value for every URL argument any route has (a pending signature's links, an unused
    invitation to the demo petition): a new argument name fails the tests until it is given one here."""
    signature_id = pending_signature(petition_id)
    partner_id, _key = make_partner()
    with app.app_context():
        invited = team.add_member(
            db.session, db.session.get(Petition, petition_id), "newcomer@example.org", Role.VIEWER, utcnow()
        )
        db.session.commit()
        invite = team.make_invite_token(invited)
        petition = db.session.get(Petition, petition_id)
        draft = updates.draft(db.session, petition, subject="News", body="Text", audience=Audience.ALL, now=utcnow())
        db.session.commit()
        confirm = signature_links.CONFIRM.make(signature_id)
        withdraw = signature_links.WITHDRAW.make(signature_id)
        unsubscribe = signature_links.UNSUBSCRIBE.make(signature_id, draft.id)
    return {
        "slug": "demo",
        "filename": "css/site.css",
        "partner_id": partner_id,
        ("public.confirm_page", "token"): confirm,
        ("public.confirm", "token"): confirm,
        ("privacy.withdraw_page", "token"): withdraw,
        ("privacy.withdraw", "token"): withdraw,
        ("privacy.unsubscribe_page", "token"): unsubscribe,
        ("privacy.unsubscribe", "token"): unsubscribe,
        "update_id": str(draft.id),
        ("organiser.accept_invite", "token"): invite,
    }


def url_for_rule(rule: str, endpoint: str, args: dict) -> str:
    def value(match) -> str:
        name = match.group(1).split(":")[-1]
        key = (endpoint, name) if (endpoint, name) in args else name
        assert key in args, f"give the URL argument <{name}> of {endpoint} a value in the `route_args` fixture"
        return args[key]

    return re.sub(r"<([^>]+)>", value, rule)
