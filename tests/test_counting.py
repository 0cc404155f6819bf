"""Counting: page views read counters, never signatures; thresholds are stamped once; recount repairs."""

import re

from sqlalchemy import event, select, text

from petition.extensions import db
from petition.models import Milestone


def test_page_views_and_api_reads_never_touch_the_signatures_table(app, client, petition_id, confirmed_signature):
    confirmed_signature(petition_id)
    statements = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        for path in ("/", "/p/demo", "/api/v1/petitions", "/api/v1/petitions/demo"):
            assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert statements, "the reads did query the database"
    assert not [s for s in statements if re.search(r"\bsignatures\b", s)]


def milestones(app, petition_id):
    with app.app_context():
        rows = db.session.scalars(select(Milestone).where(Milestone.petition_id == petition_id)).all()
        return {(m.kind, m.key): m.count_at for m in rows}


def test_crossing_a_country_target_is_stamped_once(app, client, make_petition, sign_form, outbox):
    petition_id = make_petition(slug="cams", rules="simple", goal=3, country_targets={"RS": 2})

    def sign_and_confirm(address):
        sign_form(slug="cams", email=address, country="RS")
        outbox.deliver()
        client.post(outbox.confirm_path(address))

    sign_and_confirm("a@example.org")  # 1 of 3: a quarter of the goal, no country yet
    assert milestones(app, petition_id) == {("goal_percent", "25"): 1}
    sign_and_confirm("b@example.org")
    assert milestones(app, petition_id) == {("goal_percent", "25"): 1, ("goal_percent", "50"): 2, ("country", "RS"): 2}
    sign_and_confirm("c@example.org")
    assert milestones(app, petition_id) == {
        ("goal_percent", "25"): 1,
        ("goal_percent", "50"): 2,
        ("country", "RS"): 2,
        ("goal_percent", "75"): 3,
        ("goal_percent", "100"): 3,
        ("goal", "total"): 3,
    }


def corrupt(app, petition_id, country, delta):
    with app.app_context():
        db.session.execute(
            text("UPDATE signature_counts SET count = count + :d WHERE petition_id = :p AND country = :c"),
            {"d": delta, "p": petition_id, "c": country},
        )
        db.session.commit()


def test_recount_reports_and_repairs_drift(app, client, runner, petition_id, confirmed_signature):
    confirmed_signature(petition_id, "a@example.org", "DE")
    confirmed_signature(petition_id, "b@example.org", "AT")
    corrupt(app, petition_id, "DE", 5)
    assert client.get("/api/v1/petitions/demo").json["total"] == 7

    result = runner.invoke(args=["recount"])

    assert result.exit_code == 0, result.output
    assert "demo DE: counted 6, actual 1 (corrected)" in result.output
    assert "AT" not in result.output
    assert client.get("/api/v1/petitions/demo").json["total"] == 2
    again = runner.invoke(args=["recount", "--petition", "demo"])
    assert again.exit_code == 0 and "0 counter(s) corrected" in again.output


def test_recount_restores_lost_counters(app, client, runner, petition_id, confirmed_signature):
    confirmed_signature(petition_id, "a@example.org", "DE")
    confirmed_signature(petition_id, "b@example.org", "DE")
    with app.app_context():
        db.session.execute(text("DELETE FROM signature_counts"))
        db.session.commit()

    result = runner.invoke(args=["recount"])

    assert "demo DE: counted 0, actual 2 (corrected)" in result.output
    countries = {c["code"]: c["count"] for c in client.get("/api/v1/petitions/demo").json["countries"]}
    assert countries["DE"] == 2


def test_recount_of_an_unknown_petition_says_so(runner, petition_id):
    result = runner.invoke(args=["recount", "--petition", "nope"])
    assert result.exit_code != 0 and "No petition 'nope'" in result.output
