"""Moderation: blocked senders are refused quietly through every way of signing; owners review flagged
signatures, release real people and invalidate fakes, with a preview, exact counts and a log."""

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text

from petition.extensions import db
from petition.models import FlagReason, ModerationRecord, Petition, Signature, SignatureStatus
from petition.services import confirming, counting, signing
from petition.timeutil import utcnow
from tests.conftest import form_token_of
from tests.helpers.fixtures import form_fields, signer

OWN_FORM_POST = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}


def comparable(response):
    """Everything a client sees, except the date and the wait after a refused call (which counts the
    partner's calls, not anything about the signer)."""
    headers = tuple(sorted((k, v) for k, v in response.headers.items() if k not in ("Date", "Retry-After")))
    return response.status_code, headers, response.get_data()


def rows(app) -> dict[str, tuple]:
    """Every signature by its (decrypted) address: (status, flag reason)."""
    from petition.services.personal import unseal

    with app.app_context():
        return {
            unseal(s.email_sealed): (s.status, s.flag_reason)
            for s in db.session.scalars(select(Signature).order_by(Signature.id))
        }


def public_total(app) -> int:
    return app.test_client().get("/api/v1/petitions/demo").json["total"]


def log_entries(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            select(
                ModerationRecord.action, ModerationRecord.criteria, ModerationRecord.rows, ModerationRecord.uncounted
            ).order_by(ModerationRecord.id)
        ).all()


def block(owner, value, action="block_domain"):
    return owner.post("/organiser/p/demo/blocked", {"action": action, "value": value})


def flagged_signature(app, petition_id, address, reason=FlagReason.RATE, source="web", first="Zoltan"):
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        signing.sign(db.session, petition, signer(address, first=first), now=utcnow(), source=source, flag=reason)
        db.session.commit()


# Blocking ------------------------------------------------------------------------------------------


def test_a_blocked_domain_signing_on_our_form_is_kept_aside_unmailed_uncounted_and_looks_the_same(
    app, client, petition_id, owner, sign_form, outbox
):
    assert block(owner, "Spam.Example").status_code == 303

    good = sign_form(email="ana@example.org")
    bad = sign_form(email="bot@spam.example")
    sub = sign_form(email="bot@mail.spam.example")  # a subdomain is blocked with its domain

    assert comparable(good) == comparable(bad) == comparable(sub), "the answer is byte-identical"
    assert rows(app) == {
        "ana@example.org": (SignatureStatus.PENDING, None),
        "bot@spam.example": (SignatureStatus.FLAGGED, FlagReason.BLOCKED),
        "bot@mail.spam.example": (SignatureStatus.FLAGGED, FlagReason.BLOCKED),
    }
    outbox.deliver()
    assert [m["To"] for m in outbox.messages()] == ["ana@example.org"]
    client.post(outbox.confirm_path("ana@example.org"))
    assert public_total(app) == 1
    # A lookalike domain is not a subdomain.
    sign_form(email="eve@notspam.example")
    assert rows(app)["eve@notspam.example"][0] == SignatureStatus.PENDING


def test_a_blocked_address_through_the_partner_api_answers_the_same_and_is_not_mailed(
    app, petition_id, owner, make_partner, api_sign, outbox
):
    _, key = make_partner()
    assert block(owner, "Mallory@Example.net", action="block_address").status_code == 303

    good = api_sign(key, email="ana@example.org")
    bad = api_sign(key, email="Mallory+petition@example.NET")  # the same address, canonically

    assert comparable(good) == comparable(bad)
    assert good.status_code == 202 and bad.json == {"status": "pending"}
    assert rows(app)["Mallory+petition@example.net"] == (SignatureStatus.FLAGGED, FlagReason.BLOCKED)
    outbox.deliver()
    assert [m["To"] for m in outbox.messages()] == ["ana@example.org"]


def test_a_blocked_domain_signing_in_the_widget_is_kept_aside(app, client, petition_id, owner, outbox):
    block(owner, "spam.example")
    for address in ("ana@example.org", "bot@spam.example"):
        token = form_token_of(client.get("/embed/demo").get_data(as_text=True))
        response = client.post(
            "/embed/demo/sign", data=form_fields(email=address, form_token=token), headers=OWN_FORM_POST
        )
        assert response.status_code == 303
    assert rows(app)["bot@spam.example"] == (SignatureStatus.FLAGGED, FlagReason.BLOCKED)
    outbox.deliver()
    assert [m["To"] for m in outbox.messages()] == ["ana@example.org"]


def test_someone_who_confirmed_before_their_domain_was_blocked_gets_no_more_mail(
    app, petition_id, owner, confirmed_signature, sign_form, outbox
):
    confirmed_signature(petition_id, "ana@spam.example")
    outbox.deliver()
    sent = len(outbox.messages())
    block(owner, "spam.example")
    sign_form(email="ana@spam.example")
    outbox.deliver()
    assert len(outbox.messages()) == sent, "no 'already signed' email to a blocked sender"
    assert public_total(app) == 1, "blocking changes the future, not who is counted"


def test_blocked_addresses_are_never_stored_or_shown_in_clear(app, petition_id, owner, make_organiser, web):
    block(owner, "secret.person@example.org", action="block_address")
    with app.app_context():
        dump = repr(db.session.execute(text("SELECT * FROM blocked_senders")).all())
        dump += repr(db.session.execute(text("SELECT * FROM moderation_records")).all())
    assert "secret.person" not in dump
    page = owner.get("/organiser/p/demo/blocked").get_data(as_text=True)
    assert "secret.person" not in page and "1 address(es) blocked" in page

    assert block(owner, "Secret.Person+x@Example.org", action="unblock_address").status_code == 303
    assert "0 address(es) blocked" in owner.get("/organiser/p/demo/blocked").get_data(as_text=True)


def test_a_domain_can_be_unblocked_and_idn_domains_are_stored_in_ascii(app, petition_id, owner, sign_form):
    block(owner, "Bücher.example")
    page = owner.get("/organiser/p/demo/blocked").get_data(as_text=True)
    assert "xn--bcher-kva.example" in page
    entry = re.search(r'name="action" value="unblock"><input type="hidden" name="value" value="(\d+)"', page)
    assert owner.post("/organiser/p/demo/blocked", {"action": "unblock", "value": entry.group(1)}).status_code == 303
    sign_form(email="leser@xn--bcher-kva.example")
    assert rows(app)["leser@xn--bcher-kva.example"][0] == SignatureStatus.PENDING
    assert [a for a, *_ in log_entries(app)] == ["block", "unblock"]


@pytest.mark.parametrize("value", ["", "not a domain", "a@b.example", "-bad-.example", "x" * 300])
def test_a_bad_domain_gets_a_message_and_blocks_nothing(app, petition_id, owner, value):
    response = block(owner, value)
    assert response.status_code == 422
    assert "domain" in response.get_data(as_text=True)
    assert log_entries(app) == []


# Permissions and CSRF ------------------------------------------------------------------------------

PREVIEW = {"domain": "spam.example", "step": "preview"}
ROUTES = [
    ("GET", "/organiser/p/demo/blocked", None, 200, 200),
    ("POST", "/organiser/p/demo/blocked", {"action": "block_domain", "value": "spam.example"}, 403, 303),
    ("GET", "/organiser/p/demo/flagged", None, 403, 200),
    ("POST", "/organiser/p/demo/flagged/release", PREVIEW, 403, 200),
    ("POST", "/organiser/p/demo/flagged/invalidate", PREVIEW, 403, 200),
]


@pytest.fixture
def people(app, petition_id, make_petition, make_organiser, web):
    make_organiser("owner@example.org", petition_id, "owner")
    make_organiser("viewer@example.org", petition_id, "viewer")
    make_organiser("stranger@example.org", make_petition(slug="other", title="Another campaign"), "owner")
    return {
        "anonymous": web(),
        "other organiser": web("stranger@example.org"),
        "viewer": web("viewer@example.org"),
        "owner": web("owner@example.org"),
    }


@pytest.mark.parametrize(
    ("method", "path", "data", "viewer_gets", "owner_gets"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES]
)
def test_only_the_petitions_own_organisers_reach_moderation(app, people, method, path, data, viewer_gets, owner_gets):
    def send(person):
        return person.get(path) if method == "GET" else person.post(path, data)

    anonymous = send(people["anonymous"])
    assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/organiser/login")
    stranger = send(people["other organiser"])
    assert stranger.status_code == 404 and "Ban biometric" not in stranger.get_data(as_text=True)
    assert send(people["viewer"]).status_code == viewer_gets
    assert log_entries(app) == [], "nobody but the owner changed anything"
    assert send(people["owner"]).status_code == owner_gets


def test_the_viewer_sees_the_blocklist_without_the_forms(app, people):
    people["owner"].post("/organiser/p/demo/blocked", {"action": "block_domain", "value": "spam.example"})
    page = people["viewer"].get("/organiser/p/demo/blocked").get_data(as_text=True)
    assert "spam.example" in page and "Unblock" not in page and 'name="value"' not in page


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/organiser/p/demo/blocked", {"action": "block_domain", "value": "spam.example"}),
        ("/organiser/p/demo/flagged/release", {"domain": "bots.example", "step": "confirm", "expected": "1"}),
        ("/organiser/p/demo/flagged/invalidate", {"domain": "bots.example", "step": "confirm", "expected": "1"}),
    ],
)
def test_moderation_posts_without_the_csrf_token_are_refused(app, petition_id, owner, path, data):
    flagged_signature(app, petition_id, "bot@bots.example")
    for token in (None, "forged"):
        body = dict(data, **({"csrf_token": token} if token else {}))
        assert owner.client.post(path, data=body).status_code == 400
    assert log_entries(app) == []
    assert rows(app) == {"bot@bots.example": (SignatureStatus.FLAGGED, FlagReason.RATE)}


# Review, release, invalidate -----------------------------------------------------------------------


def preview_count(response) -> int:
    match = re.search(r'data-preview-count="(\d+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:600]
    return int(match.group(1))


def act(owner, action, **criteria):
    """Preview, then confirm exactly what the preview offered (its hidden fields); both responses."""
    preview = owner.post(f"/organiser/p/demo/flagged/{action}", {**criteria, "step": "preview"})
    assert preview.status_code == 200, preview.get_data(as_text=True)[:600]
    html = preview.get_data(as_text=True)
    at = html.index('name="step" value="confirm"')
    form = html[html.rindex("<form", 0, at) : html.index("</form>", at)]
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    hidden.pop("csrf_token", None)
    return preview, owner.post(f"/organiser/p/demo/flagged/{action}", hidden)


def test_the_flagged_page_groups_without_names_or_addresses(app, petition_id, owner):
    flagged_signature(app, petition_id, "zoltan.private@bots.example", FlagReason.RATE)
    flagged_signature(app, petition_id, "other@bots.example", FlagReason.TOO_FAST, source="widget:abc")
    flagged_signature(app, petition_id, "solo@elsewhere.example", FlagReason.HONEYPOT)

    page = owner.get("/organiser/p/demo/flagged").get_data(as_text=True)

    assert "3 flagged signatures" in page
    assert utcnow().strftime("%Y-%m-%d %H:00 UTC") in page, "grouped by hour, in UTC"
    for shown in ("bots.example", "elsewhere.example", "widget:abc", "DE"):
        assert shown in page, shown
    # Reasons read as words, and selecting one still selects it.
    assert ">sent sooner after the form was shown than a person can fill it in<" in page
    assert ">filled in the hidden field that only scripts see<" in page
    assert "too_fast<" not in page and ">honeypot<" not in page
    assert 'href="/organiser/p/demo/flagged?reason=too_fast#moderate"' in page
    assert "Zoltan" not in page and "zoltan.private" not in page and "Kovač" not in page


def test_release_previews_the_count_mails_and_the_signer_can_then_confirm_and_is_counted(
    app, client, petition_id, owner, outbox
):
    flagged_signature(app, petition_id, "rally1@school.example")
    flagged_signature(app, petition_id, "rally2@school.example")
    flagged_signature(app, petition_id, "bot@bots.example")

    preview, done = act(owner, "release", domain="school.example")

    assert preview_count(preview) == 2
    assert done.status_code == 303
    assert "2 signatures released." in owner.get(done.headers["Location"]).get_data(as_text=True)
    statuses = rows(app)
    assert statuses["rally1@school.example"] == statuses["rally2@school.example"] == (SignatureStatus.PENDING, None)
    assert statuses["bot@bots.example"] == (SignatureStatus.FLAGGED, FlagReason.RATE)
    assert public_total(app) == 0, "released is not counted: only confirmed is"
    outbox.deliver()
    assert sorted(m["To"] for m in outbox.messages()) == ["rally1@school.example", "rally2@school.example"]
    client.post(outbox.confirm_path("rally1@school.example"))
    assert public_total(app) == 1
    [entry] = log_entries(app)
    assert entry[0] == "release" and entry[1].startswith("domain school.example") and entry[2] == 2


def test_release_by_reason_and_source(app, petition_id, owner):
    flagged_signature(app, petition_id, "a@one.example", FlagReason.TOO_FAST, source="widget:abc/news")
    flagged_signature(app, petition_id, "b@two.example", FlagReason.TOO_FAST, source="web")
    flagged_signature(app, petition_id, "c@three.example", FlagReason.RATE, source="widget:abc")

    preview, _ = act(owner, "release", source="widget:abc", reason="too_fast")

    assert preview_count(preview) == 1
    assert [a for a, (s, _) in rows(app).items() if s == SignatureStatus.PENDING] == ["a@one.example"]


def test_invalidating_confirmed_signatures_corrects_the_public_totals_and_recount_finds_no_drift(
    app, client, runner, petition_id, owner, confirmed_signature, pending_signature
):
    confirmed_signature(petition_id, "ana@example.org", "DE")
    confirmed_signature(petition_id, "fake1@evil.example", "DE")
    confirmed_signature(petition_id, "fake2@evil.example", "FR")
    pending_signature(petition_id, "fake3@evil.example", "FR")
    flagged_signature(app, petition_id, "fake4@evil.example")
    assert public_total(app) == 3

    preview, done = act(owner, "invalidate", domain="evil.example")

    assert preview_count(preview) == 4
    assert "confirmed: 2" in preview.get_data(as_text=True)
    assert done.status_code == 303
    detail = client.get("/api/v1/petitions/demo").json
    assert detail["total"] == 1
    assert {c["code"]: c["count"] for c in detail["countries"] if c["count"]} == {"DE": 1}
    assert list(rows(app)) == ["ana@example.org"], "invalidated signatures and their data are gone"
    result = runner.invoke(args=["recount"])
    assert result.exit_code == 0 and "0 counter(s) corrected" in result.output, result.output
    [entry] = log_entries(app)
    assert entry == ("invalidate", entry[1], 4, 2) and entry[1].startswith("domain evil.example")
    page = owner.get("/organiser/p/demo/flagged").get_data(as_text=True)
    assert "owner@example.org" in page and 'data-action="invalidate"' in page


def test_invalidating_by_time_window_and_status(app, petition_id, owner, confirmed_signature, pending_signature):
    confirmed_signature(petition_id, "early@example.org")
    with app.app_context():
        db.session.execute(text("UPDATE signatures SET created_at = :t"), {"t": "2020-01-01 09:30:00"})
        db.session.commit()
    pending_signature(petition_id, "late-pending@example.org")
    confirmed_signature(petition_id, "late-confirmed@example.org")

    preview, _ = act(owner, "invalidate", since="2021-01-01", status="confirmed")

    assert preview_count(preview) == 1
    assert list(rows(app)) == ["early@example.org", "late-pending@example.org"]
    assert public_total(app) == 1


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({}, "at least one criterion"),
        ({"status": "confirmed"}, "at least one criterion"),
        ({"since": "2026-13-45"}, "Give a date and time"),
        ({"until": "yesterday"}, "Give a date and time"),
        ({"since": "2026-11-27", "until": "2026-11-26"}, "must come after its start"),
        ({"domain": "not a domain"}, "domain"),
        ({"source": "paper"}, "paper page"),
        ({"domain": "evil.example", "status": "deleted"}, "Choose pending, confirmed or flagged"),
    ],
)
@pytest.mark.parametrize("action", ["release", "invalidate"])
def test_bad_filters_get_a_clear_message_and_change_nothing(
    app, petition_id, owner, confirmed_signature, action, criteria, message
):
    confirmed_signature(petition_id, "ana@evil.example")
    flagged_signature(app, petition_id, "bot@evil.example")
    before = rows(app)
    if action == "release" and "status" in criteria and criteria.get("domain"):
        criteria = {**criteria, "reason": "nonsense"}
        message = "Choose one of the reasons"
    for step in ("preview", "confirm"):
        response = owner.post(f"/organiser/p/demo/flagged/{action}", {**criteria, "step": step, "expected": "1"})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert rows(app) == before and public_total(app) == 1 and log_entries(app) == []


def test_a_confirmation_that_no_longer_matches_the_preview_changes_nothing(app, petition_id, owner):
    flagged_signature(app, petition_id, "bot1@bots.example")
    response = owner.post(
        "/organiser/p/demo/flagged/release", {"domain": "bots.example", "step": "confirm", "expected": "5"}
    )
    assert response.status_code == 409
    assert "changed since the preview" in response.get_data(as_text=True)
    assert preview_count(response) == 1
    assert rows(app)["bot1@bots.example"][0] == SignatureStatus.FLAGGED and log_entries(app) == []
    missing = owner.post("/organiser/p/demo/flagged/release", {"domain": "bots.example", "step": "confirm"})
    assert missing.status_code == 422 and rows(app)["bot1@bots.example"][0] == SignatureStatus.FLAGGED


def test_the_preview_does_not_cover_signatures_made_after_it(app, petition_id, owner):
    flagged_signature(app, petition_id, "bot1@bots.example")
    preview = owner.post("/organiser/p/demo/flagged/release", {"domain": "bots.example", "step": "preview"})
    html = preview.get_data(as_text=True)
    until = re.search(r'name="until" value="([^"]+)"', html[html.index("expected") - 2000 :]).group(1)
    time.sleep(1.1)  # the pinned end is a whole second
    flagged_signature(app, petition_id, "bot2@bots.example")  # signed after the preview's moment

    done = owner.post(
        "/organiser/p/demo/flagged/release",
        {"domain": "bots.example", "until": until, "step": "confirm", "expected": str(preview_count(preview))},
    )

    assert done.status_code == 303
    assert rows(app)["bot2@bots.example"][0] == SignatureStatus.FLAGGED


# Concurrency (PostgreSQL) --------------------------------------------------------------------------


@pytest.mark.postgresql_only
def test_an_invalidation_racing_with_confirmations_neither_loses_nor_double_counts(app, petition_id, pending_signature):
    from petition.models import Organiser
    from petition.services import accounts, moderation

    fakes = [pending_signature(petition_id, f"fake{i}@evil.example", "DE") for i in range(40)]
    real = [pending_signature(petition_id, f"real{i}@example.org", "DE") for i in range(40)]
    with app.app_context():
        organiser = accounts.create_organiser(db.session, "owner@example.org", "x" * 12)
        db.session.commit()
        organiser_id = organiser.id
    barrier = threading.Barrier(9)

    def confirm_all(ids):
        barrier.wait(timeout=30)
        with app.app_context():
            for signature_id in ids:
                confirming.confirm(db.session, signature_id, utcnow())
                db.session.commit()

    def invalidate():
        barrier.wait(timeout=30)
        with app.app_context():
            criteria = moderation.Criteria(domain="evil.example")
            who = db.session.get(Organiser, organiser_id)
            done = moderation.invalidate(db.session, petition_id, criteria, who, utcnow())
            db.session.commit()
            return done

    everyone = fakes + real
    with ThreadPoolExecutor(max_workers=9) as pool:
        confirmers = [pool.submit(confirm_all, everyone[i::8]) for i in range(8)]
        invalidated = pool.submit(invalidate)
        for job in confirmers:
            job.result()
        result = invalidated.result()

    assert result.rows == 40
    assert public_total(app) == 40, "every real confirmation counted, no fake one"
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        assert counting.read_counts(db.session, petition_id).by_country == {"DE": 40}
        assert counting.recount(db.session, petition, utcnow()) == [], "no drift"
        uncounted = db.session.scalar(select(ModerationRecord.uncounted))
    assert 0 <= uncounted <= 40 and uncounted == result.uncounted
