"""Every route of the app, with a valid-looking URL for each: tests that must cover all routes iterate
these, so a route added later is covered without anyone remembering to."""

import re

import pytest

from petition import create_app
from petition.extensions import db
from petition.models import Audience, Petition, Role
from petition.services import signature_links, team, updates
from petition.timeutil import utcnow

# How every route is classified, written out here, apart from the code that declares it: each endpoint's
# policy flags (petition.policy) beyond the defaults (`no_language_cookie` for language_cookie=False,
# `large_body` for a declared body_limit). tests/test_route_policy.py checks the app's declarations
# against this table and the behaviour of each flag; a route added later fails there until someone
# classifies it here.
API = {"json_errors", "no_language_cookie"}
ORGANISER = {"english_only", "private", "no_language_cookie"}
WIDGET = {"frameable", "no_language_cookie"}
ORGANISER_PAGES = (
    "logout", "index", "dashboard", "open", "close", "team", "remove_member", "paper",
    "record_tally", "partners", "create_partner", "add_partner", "add_partner_origin",
    "remove_partner_origin", "rotate_partner_key", "revoke_partner", "remove_partner", "exports",
    "export_signatures", "export_summary", "blocked", "flagged", "release_flagged", "invalidate_signatures",
    "updates", "new_update", "update", "translate_update", "test_update", "send_update", "pause_update",
    "resume_update",
)  # fmt: skip
EXPECTED_POLICY: dict[str, set[str]] = {
    "static": {"no_language_cookie"},
    "public.index": set(),
    "public.petition_page": set(),
    "public.sign": set(),
    "public.check_email": set(),
    "public.confirm_page": {"token_in_url"},
    "public.confirm": {"token_in_url"},
    "privacy.notice": set(),
    "privacy.data_request": set(),
    "privacy.data_request_sent": set(),
    "privacy.withdraw_page": {"token_in_url"},
    "privacy.withdraw": {"token_in_url"},
    "privacy.unsubscribe_page": {"token_in_url"},
    "privacy.unsubscribe": {"token_in_url"},
    "privacy.withdrawn": set(),
    "api.list_petitions": API,
    "api.get_petition": API,
    "api.openapi_document": API,
    "health.healthz": API,
    "live.petition_events": API,
    "partner_api.submit_signature": API,
    "partner_api.stats": API,
    "embed.embed_js": {"no_language_cookie"},
    "embed.widget": WIDGET,
    "embed.sign": WIDGET,
    "embed.check_email": WIDGET,
    "embed.fallback_link": {"no_language_cookie"},
    "embed.share": {"english_only", "no_language_cookie"},
    "organiser.login": ORGANISER | {"login_free"},
    "organiser.accept_invite": ORGANISER | {"login_free", "token_in_url"},
    "organiser.figures": ORGANISER | {"passive"},
    "organiser.update_progress": ORGANISER | {"passive"},
    **{f"organiser.{name}": ORGANISER for name in ORGANISER_PAGES},
    # Petition texts of up to 100,000 characters; CSV files of statements.
    **{f"organiser.{name}": ORGANISER | {"large_body"} for name in ("new", "edit", "upload_statements")},
}


def endpoints_with(flag: str) -> set[str]:
    return {endpoint for endpoint, flags in EXPECTED_POLICY.items() if flag in flags}


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
        unsubscribe = signature_links.UNSUBSCRIBE.make(signature_id, update_id=draft.id)
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
