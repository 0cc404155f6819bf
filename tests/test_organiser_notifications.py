"""Emails to organisers: a country at its threshold, 25/50/75/100% of the goal, the petition closed;
each once, even when confirmations race."""

import threading

from sqlalchemy import func, select

from petition.extensions import db
from petition.models import MailKind, OutboxMessage, Petition
from petition.services import counting, lifecycle
from petition.timeutil import utcnow


def confirm_by_email(client, outbox, address) -> None:
    outbox.deliver()
    assert client.post(outbox.confirm_path(address)).status_code == 200


def test_organisers_hear_once_when_a_country_reaches_its_threshold(
    app, petition_id, make_organiser, pending_signature, client, outbox
):
    make_organiser("owner@example.org", petition_id, "owner")
    make_organiser("viewer@example.org", petition_id, "viewer")
    with app.app_context():
        counting.add(db.session, petition_id, "MT", 4319, utcnow())  # one short of Malta's 4,320
        db.session.commit()
    pending_signature(petition_id, "one@example.org", "MT")
    pending_signature(petition_id, "two@example.org", "MT")
    confirm_by_email(client, outbox, "one@example.org")
    confirm_by_email(client, outbox, "two@example.org")
    outbox.deliver()

    for organiser in ("owner@example.org", "viewer@example.org"):
        [message] = outbox.to(organiser)
        assert message["Subject"] == "Malta reached its threshold: Ban biometric mass surveillance"
        assert "http://petitions.test/organiser/p/demo" in outbox.text_of(message)


def test_organisers_hear_at_a_quarter_half_three_quarters_and_the_whole_goal(
    app, make_petition, make_organiser, pending_signature, client, outbox
):
    petition_id = make_petition(slug="demo", rules="simple", goal=4)
    make_organiser("owner@example.org", petition_id, "owner")
    for n in range(5):
        pending_signature(petition_id, f"s{n}@example.org", "RS")
        confirm_by_email(client, outbox, f"s{n}@example.org")
    outbox.deliver()
    subjects = [m["Subject"] for m in outbox.to("owner@example.org")]
    assert subjects == [
        "25% of the goal: Ban biometric mass surveillance",
        "50% of the goal: Ban biometric mass surveillance",
        "75% of the goal: Ban biometric mass surveillance",
        "100% of the goal: Ban biometric mass surveillance",
    ]
    assert "has reached its goal of 4 signatures" in outbox.text_of(outbox.to("owner@example.org")[-1])


def _race(app, work, threads=8) -> None:
    barrier = threading.Barrier(threads)
    errors = []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                work()
            except Exception as error:
                errors.append(error)
            finally:
                db.session.remove()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors


def _mails(app, kind) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind))


def test_racing_stamps_announce_each_milestone_once(app, make_petition, make_organiser):
    petition_id = make_petition(slug="demo", rules="simple", goal=4, country_targets={"RS": 2})
    make_organiser("owner@example.org", petition_id, "owner")
    with app.app_context():
        counting.add(db.session, petition_id, "RS", 4, utcnow())
        db.session.commit()

    def stamp():
        from petition.db_engine import write_intent

        with write_intent():  # as in the confirming request (a POST) or the recount command
            counting.stamp_milestones(db.session, db.session.get(Petition, petition_id), utcnow())
            db.session.commit()

    _race(app, stamp)
    assert _mails(app, MailKind.GOAL_PROGRESS) == 4
    assert _mails(app, MailKind.COUNTRY_REACHED) == 1


def test_racing_closers_announce_the_closing_once(app, petition_id, make_organiser):
    make_organiser("owner@example.org", petition_id, "owner")

    def close():
        from petition.db_engine import write_intent

        with write_intent():
            lifecycle.close(db.session, db.session.get(Petition, petition_id), utcnow())
            db.session.commit()

    _race(app, close)
    assert _mails(app, MailKind.PETITION_CLOSED) == 1
