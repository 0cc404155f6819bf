"""A petition's life after opening: closing on time, forgetting unconfirmed signers, and deleting
personal data at the end of the retention period while every count stays."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from petition.extensions import db
from petition.models import MailKind, OutboxMessage, Petition, PetitionStatus, RuleSet, Signature, SignatureStatus
from petition.services import counting, lifecycle
from petition.timeutil import utcnow
from tests.conftest import form_token_of
from tests.helpers.fixtures import form_fields


def set_petition(app, petition_id, **values):
    with app.app_context():
        db.session.execute(update(Petition).where(Petition.id == petition_id).values(**values))
        db.session.commit()


def closed_mails(app) -> int:
    with app.app_context():
        return len(
            db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == MailKind.PETITION_CLOSED)).all()
        )


def test_close_expired_closes_petitions_past_their_closing_time_once(app, petition_id, make_organiser, runner, client):
    make_organiser("owner@example.org", petition_id, "owner")
    set_petition(app, petition_id, closes_at=utcnow() - timedelta(minutes=1))

    result = runner.invoke(args=["close-expired"])
    assert "closed demo" in result.output and "1 petition(s) closed" in result.output
    assert runner.invoke(args=["close-expired"]).output.strip() == "close-expired: 0 petition(s) closed"
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        assert petition.status == PetitionStatus.CLOSED and petition.closed_at is not None
    assert closed_mails(app) == 1
    assert client.get("/api/v1/petitions/demo").json["status"] == "closed"


def test_a_signature_after_the_closing_time_closes_the_petition(app, petition_id, make_organiser, client):
    make_organiser("owner@example.org", petition_id, "owner")
    token = form_token_of(client.get("/p/demo").get_data(as_text=True))
    set_petition(app, petition_id, closes_at=utcnow() - timedelta(seconds=1))

    assert client.post("/p/demo/sign", data=form_fields(form_token=token)).status_code == 403
    with app.app_context():
        assert db.session.get(Petition, petition_id).status == PetitionStatus.CLOSED
        assert db.session.scalar(select(Signature.id)) is None
    client.post("/p/demo/sign", data=form_fields(form_token=token))
    assert closed_mails(app) == 1


def test_a_partner_api_call_after_the_closing_time_closes_the_petition_too(
    app, petition_id, make_organiser, make_partner, api_sign
):
    make_organiser("owner@example.org", petition_id, "owner")
    _, key = make_partner()
    set_petition(app, petition_id, closes_at=utcnow() - timedelta(seconds=1))

    response = api_sign(key)

    assert response.status_code == 409 and response.json["error"] == "not_open"
    with app.app_context():
        assert db.session.get(Petition, petition_id).status == PetitionStatus.CLOSED
        assert db.session.scalar(select(Signature.id)) is None
    assert closed_mails(app) == 1


def _age_signature(app, signature_id, days, resent_days_ago=None):
    with app.app_context():
        then = utcnow() - timedelta(days=days)
        petition_id = db.session.get(Signature, signature_id).petition_id
        db.session.execute(update(Signature).where(Signature.id == signature_id).values(created_at=then))
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.signature_id == signature_id)
            .values(status="sent", sent_at=then, created_at=then)
        )
        if resent_days_ago is not None:
            again = utcnow() - timedelta(days=resent_days_ago)
            db.session.add(
                OutboxMessage(
                    kind="confirm",
                    petition_id=petition_id,
                    signature_id=signature_id,
                    status="sent",
                    sent_at=again,
                    created_at=again,
                    next_attempt_at=again,
                )
            )
        db.session.commit()


def test_purge_forgets_unconfirmed_signatures_whose_links_expired(
    app, petition_id, pending_signature, confirmed_signature, runner
):
    expired = pending_signature(petition_id, "old@example.org")
    resent = pending_signature(petition_id, "resent@example.org")
    fresh = pending_signature(petition_id, "fresh@example.org")
    confirmed = confirmed_signature(petition_id, "done@example.org")
    _age_signature(app, expired, days=8)
    _age_signature(app, resent, days=8, resent_days_ago=2)
    _age_signature(app, confirmed, days=30)

    result = runner.invoke(args=["purge"])
    assert "purge: 1 unconfirmed signature(s)" in result.output, result.output
    with app.app_context():
        left = set(db.session.scalars(select(Signature.id)))
    assert left == {resent, fresh, confirmed}


def test_purge_after_retention_removes_personal_data_and_keeps_every_count(
    app, petition_id, make_organiser, pending_signature, confirmed_signature, runner, web, client
):
    make_organiser("owner@example.org", petition_id, "owner")
    confirmed_signature(petition_id, "ana@example.org", "DE")
    confirmed_signature(petition_id, "jan@example.org", "CZ")
    pending_signature(petition_id, "late@example.org", "DE")
    owner = web("owner@example.org")
    owner.post("/organiser/p/demo/paper/tally", {"country": "DE", "count": "7", "note": "stall"})
    before = client.get("/api/v1/petitions/demo").json
    opened = utcnow() - timedelta(days=22 * 31)
    set_petition(
        app, petition_id, opens_at=opened, closes_at=opened + timedelta(days=300), status="closed", closed_at=opened
    )

    result = runner.invoke(args=["purge"])
    assert "demo: personal data removed from 2 signature(s), 1 unconfirmed deleted; counts kept" in result.output

    after = client.get("/api/v1/petitions/demo").json
    assert after["total"] == before["total"] == 9
    assert after["countries"] == before["countries"]
    with app.app_context():
        rows = db.session.scalars(select(Signature)).all()
        assert {s.status for s in rows} == {SignatureStatus.CONFIRMED} and len(rows) == 2
        assert all(s.email_sealed == b"" and s.first_name_sealed == b"" and s.ip_hash is None for s in rows)
        assert all(s.email_hash.startswith("purged:") for s in rows)
        assert counting.recount(db.session, db.session.get(Petition, petition_id), utcnow()) == []
    assert owner.get("/organiser/p/demo/export.csv").status_code == 410
    assert "was deleted on" in owner.get("/organiser/p/demo").get_data(as_text=True)
    assert "purge: demo" not in runner.invoke(args=["purge"]).output, "done once"


def test_nothing_is_purged_before_the_retention_date(app, petition_id, confirmed_signature, runner):
    confirmed_signature(petition_id, "ana@example.org", "DE")
    runner.invoke(args=["purge"])
    with app.app_context():
        assert db.session.scalar(select(Signature.email_sealed)) != b""


def test_retention_dates_follow_the_eci_regulation_and_the_organisers_setting():
    opened = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    eci = Petition(rules=RuleSet.ECI, status=PetitionStatus.OPEN, opens_at=opened)
    assert lifecycle.retention_date(eci) == date(2028, 8, 26), "21 months after collection started"
    eci.submitted_on = date(2027, 12, 10)
    assert lifecycle.retention_date(eci) == date(2028, 1, 10), "one month after submission, if sooner"

    simple = Petition(rules=RuleSet.SIMPLE, status=PetitionStatus.OPEN, opens_at=opened)
    assert lifecycle.retention_date(simple) is None, "open with no closing date: not known yet"
    simple.closed_at = datetime(2027, 1, 31, tzinfo=UTC)
    assert lifecycle.retention_date(simple) == date(2027, 4, 30), "3 months after closing by default"
    simple.retention_months = 12
    assert lifecycle.retention_date(simple) == date(2028, 1, 31)
    assert lifecycle.retention_date(Petition(rules=RuleSet.ECI, status=PetitionStatus.DRAFT, opens_at=opened)) is None


def test_the_dashboard_says_when_personal_data_will_go(app, petition_id, make_organiser, web):
    make_organiser("owner@example.org", petition_id, "owner")
    with app.app_context():
        expected = lifecycle.retention_date(db.session.get(Petition, petition_id))
    page = web("owner@example.org").get("/organiser/p/demo").get_data(as_text=True)
    assert f"will be deleted on {expected.isoformat()}" in page
