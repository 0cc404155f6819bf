"""Races on PostgreSQL through real HTTP: many people (or one impatient person) at the same moment.

Each test serves the app from a threaded server and fires requests from many client threads released
together by a barrier, so the database sees truly concurrent transactions with real commits."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Milestone, OutboxMessage, Petition, Signature, SignatureStatus
from petition.public import form_token
from petition.services import counting, signing
from petition.timeutil import utcnow
from tests.helpers.fixtures import confirm_token, form_fields, signer
from tests.helpers.live_server import LiveServer, Reply, request

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
def server(app):
    with LiveServer(app) as live:
        yield live


def all_at_once(calls: list) -> list:
    """Run every zero-argument call in its own thread, released together; results in call order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def in_threads(jobs: list[list], threads: int) -> list:
    """Spread zero-argument calls over `threads` threads that start together; all results."""
    chunks = [jobs[i::threads] for i in range(threads)]
    results = all_at_once([lambda chunk=chunk: [job() for job in chunk] for chunk in chunks])
    return [reply for chunk in results for reply in chunk]


def queue_pending(app, petition_id: int, people: list[tuple[str, str]]) -> list[str]:
    """Pending signatures for (email, country) pairs; returns their confirmation paths."""
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        for address, country in people:
            signing.sign(db.session, petition, signer(address, country=country), now=utcnow())
        db.session.commit()
        ids = db.session.scalars(select(Signature.id).order_by(Signature.id)).all()
        return [f"/confirm/{confirm_token(i)}" for i in ids]


def api(app, slug="demo") -> dict:
    return app.test_client().get(f"/api/v1/petitions/{slug}").json


def test_fifty_clicks_on_one_confirmation_link_count_once(app, petition_id, server):
    [path] = queue_pending(app, petition_id, [("ana@example.org", "DE")])

    replies = all_at_once([lambda: request(server, "POST", path)] * 50)

    # One click confirmed and got the thanks page; the others found it done and were sent to it.
    assert Counter(r.status for r in replies) == {200: 1, 303: 49}
    assert {r.location for r in replies if r.status == 303} == {path}
    detail = api(app)
    assert detail["total"] == 1
    assert next(c for c in detail["countries"] if c["code"] == "DE")["count"] == 1
    with app.app_context():
        assert counting.recount(db.session, db.session.get(Petition, petition_id), utcnow()) == []


def test_three_hundred_confirmations_from_thirty_two_threads_are_counted_exactly(app, petition_id, server):
    countries = ["DE", "FR", "IT", "PL", "AT", "GR", "SI"]
    people = [(f"signer{i}@example.org", countries[i % len(countries)]) for i in range(301)]
    paths = queue_pending(app, petition_id, people)

    replies = in_threads([lambda p=p: request(server, "POST", p) for p in paths], threads=32)

    assert Counter(r.status for r in replies) == {200: len(paths)}
    expected = Counter(country for _, country in people)
    detail = api(app)
    assert detail["total"] == len(people)
    assert {c["code"]: c["count"] for c in detail["countries"] if c["count"]} == expected
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        assert counting.read_counts(db.session, petition_id).by_country == expected
        assert counting.recount(db.session, petition, utcnow()) == [], "no counter drifted"


def test_twenty_simultaneous_signatures_with_one_address_make_one_row(app, petition_id, server):
    with app.app_context():
        token = form_token.issue(petition_id)
    fields = form_fields(email="ana@example.org", form_token=token)

    replies = all_at_once([lambda: request(server, "POST", "/p/demo/sign", fields)] * 20)

    assert {r.status for r in replies} == {303}
    assert len({(r.status, r.location, r.body) for r in replies}) == 1, "every signer sees the same answer"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
        mails = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        assert mails == app.config["MAX_EMAILS_PER_SIGNATURE"], "repeats resend the link, up to the limit"


def test_confirmations_racing_across_a_threshold_stamp_the_milestone_once(app, make_petition, server):
    petition_id = make_petition(slug="cameras", rules="simple", goal=30, country_targets={"RS": 20, "DE": 5})
    people = [(f"rs{i}@example.org", "RS") for i in range(30)] + [(f"de{i}@example.org", "DE") for i in range(4)]
    paths = queue_pending(app, petition_id, people)

    replies: list[Reply] = all_at_once([lambda p=p: request(server, "POST", p) for p in paths])

    assert {r.status for r in replies} == {200}
    with app.app_context():
        milestones = db.session.execute(
            select(Milestone.kind, Milestone.key, Milestone.count_at).where(Milestone.petition_id == petition_id)
        ).all()
    stamped = Counter((kind, key) for kind, key, _ in milestones)
    quarters = {("goal_percent", str(percent)): 1 for percent in (25, 50, 75, 100)}
    assert stamped == {("country", "RS"): 1, ("goal", "total"): 1, **quarters}, "DE (4 of 5) is not reached"
    counts_at = {(kind, key): count for kind, key, count in milestones}
    assert counts_at[("country", "RS")] >= 20 and counts_at[("goal", "total")] >= 30
    assert api(app, "cameras")["total"] == 34


def test_signatures_and_confirmations_of_different_people_interleave(app, petition_id, server):
    """Signing and confirming at the same time: nobody's confirmation is lost or counted twice."""
    paths = queue_pending(app, petition_id, [(f"early{i}@example.org", "FR") for i in range(40)])
    with app.app_context():
        token = form_token.issue(petition_id)
    signs = [
        lambda i=i: request(
            server, "POST", "/p/demo/sign", form_fields(email=f"late{i}@example.org", country="IT", form_token=token)
        )
        for i in range(40)
    ]
    confirms = [lambda p=p: request(server, "POST", p) for p in paths]

    replies = in_threads([job for pair in zip(signs, confirms, strict=True) for job in pair], threads=16)

    assert Counter(r.status for r in replies) == {303: 40, 200: 40}  # each signature taken, each confirmation done
    detail = api(app)
    assert detail["total"] == 40
    with app.app_context():
        statuses = Counter(db.session.scalars(select(Signature.status)).all())
    assert statuses == {SignatureStatus.CONFIRMED: 40, SignatureStatus.PENDING: 40}
