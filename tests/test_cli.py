"""The command line an operator uses: demo data, petitions, organisers, the mail worker."""

from datetime import date, timedelta

from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Membership, Organiser, Petition, Role
from petition.services.accounts import verify_password
from petition.services.petitions import add_months


def api(client, slug):
    return client.get(f"/api/v1/petitions/{slug}")


def thresholds(client, slug):
    return {c["code"]: c["threshold"] for c in api(client, slug).json["countries"]}


def test_petition_create_opens_an_eci_petition_for_twelve_months(runner, client):
    result = runner.invoke(
        args=["petition", "create", "--slug", "faces", "--title", "Reclaim your face", "--registered", "2026-11-26"]
    )
    assert result.exit_code == 0, result.output
    assert "Created open petition 'faces'" in result.output
    data = api(client, "faces").json
    assert data["status"] == "open" and data["goal"] == {"total": 1_000_000, "min_countries": 7}
    opens, closes = date.fromisoformat(data["opens_at"][:10]), date.fromisoformat(data["closes_at"][:10])
    assert closes == add_months(opens, 12)  # opening 26 Nov 2026 -> last day 26 Nov 2027
    assert thresholds(client, "faces")["DE"] == 69_120  # 96 seats x 720


def test_eci_minimums_follow_the_registration_date(runner, client):
    runner.invoke(args=["petition", "create", "--slug", "old", "--title", "Old", "--registered", "2024-07-15"])
    runner.invoke(args=["petition", "create", "--slug", "new", "--title", "New", "--registered", "2024-07-16"])
    assert thresholds(client, "old")["DE"] == 67_680  # 96 x 705
    assert thresholds(client, "new")["DE"] == 69_120  # 96 x 720
    assert sum(thresholds(client, "old").values()) == 705 * 705
    assert sum(thresholds(client, "new").values()) == 720 * 720


def test_an_eci_collection_cannot_last_longer_than_twelve_months(app, runner):
    result = runner.invoke(args=["petition", "create", "--slug", "long", "--title", "T", "--closes", "2099-01-01"])
    assert result.exit_code != 0
    assert "at most 12 months" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Petition)) == 0


def test_simple_petitions_take_a_goal_and_country_targets(runner, client):
    result = runner.invoke(
        args=["petition", "create", "--slug", "cams", "--title", "Hiljade kamera", "--rules", "simple",
              "--goal", "5000", "--target", "RS=4000", "--closes", "2099-12-31"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = api(client, "cams").json
    assert data["goal"] == {"total": 5000, "min_countries": None}
    assert data["countries"] == [{"code": "RS", "count": 0, "threshold": 4000, "reached": False}]
    assert data["closes_at"] == "2099-12-31T23:59:59Z"


def test_drafts_are_created_hidden(runner, client):
    assert runner.invoke(args=["petition", "create", "--slug", "later", "--title", "T", "--draft"]).exit_code == 0
    assert api(client, "later").status_code == 404


def test_bad_petition_input_is_refused_with_a_reason(runner):
    cases = [
        (["--slug", "Not A Slug", "--title", "T"], "lower-case letters"),
        (["--slug", "x", "--title", "T", "--rules", "eci", "--goal", "5"], "1,000,000"),
        (["--slug", "x", "--title", "T", "--closes", "2000-01-01"], "in the past"),
        (["--slug", "x", "--title", "T", "--rules", "simple", "--target", "ZZ=5"], "ISO country"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["petition", "create", *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    runner.invoke(args=["petition", "create", "--slug", "taken", "--title", "T"])
    result = runner.invoke(args=["petition", "create", "--slug", "taken", "--title", "T"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_demo_is_idempotent_and_prints_working_credentials(app, runner, client):
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == second.exit_code == 0
    password = first.output.split("password:")[1].split()[0]
    assert password in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Petition)) == 1
        [organiser] = db.session.scalars(select(Organiser)).all()
        assert verify_password(organiser.password_hash, password)
        [membership] = db.session.scalars(select(Membership)).all()
        assert membership.role == Role.OWNER
    assert api(client, "demo").json["status"] == "open"


def test_organiser_create_takes_the_password_from_the_environment(app, runner, petition_id):
    result = runner.invoke(
        args=["organiser", "create", "Lead@Example.org", "--petition", "demo"],
        env={"ORGANISER_PASSWORD": "correct horse battery staple"},
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        organiser = db.session.scalars(select(Organiser)).one()
        assert organiser.email == "lead@example.org"
        assert verify_password(organiser.password_hash, "correct horse battery staple")
        assert db.session.get(Membership, (organiser.id, petition_id)).role == Role.OWNER
    again = runner.invoke(args=["organiser", "create", "lead@example.org"], env={"ORGANISER_PASSWORD": "x" * 20})
    assert again.exit_code != 0 and "already exists" in again.output


def test_organiser_passwords_must_be_long_enough(runner):
    result = runner.invoke(args=["organiser", "create", "a@example.org"], env={"ORGANISER_PASSWORD": "short"})
    assert result.exit_code != 0 and "at least 12 characters" in result.output


def test_mail_worker_once_delivers_what_is_due_and_exits(runner, petition_id, pending_signature, outbox):
    pending_signature(petition_id, "ana@example.org")
    pending_signature(petition_id, "ben@example.org")

    result = runner.invoke(args=["mail-worker", "--once"])

    assert result.exit_code == 0 and "sent 2" in result.output
    assert sorted(m["To"] for m in outbox.messages()) == ["ana@example.org", "ben@example.org"]
    assert runner.invoke(args=["mail-worker", "--once"]).output.startswith("mail-worker: sent 0")


def test_every_command_explains_itself(runner):
    for command in (["demo"], ["petition", "create"], ["organiser", "create"], ["mail-worker"], ["recount"]):
        result = runner.invoke(args=[*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_petition_create_names_who_runs_it_and_where_to_sign_officially(app, runner, client):
    result = runner.invoke(
        args=["petition", "create", "--slug", "faces", "--title", "Reclaim your face",
              "--organiser-name", "Reclaim Your Face coalition", "--organiser-contact", "info@reclaim.example",
              "--eci-number", "eci(2024)000004", "--eci-url", "https://eci.ec.europa.eu/045/public/"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = client.get("/p/faces").get_data(as_text=True)
    assert "Organised by Reclaim Your Face coalition." in page
    assert '<a href="mailto:info@reclaim.example">Contact the organisers</a>' in page
    assert "Registered by the European Commission as ECI(2024)000004." in page
    with app.app_context():
        petition = db.session.scalar(select(Petition).where(Petition.slug == "faces"))
        assert petition.eci_signing_url == "https://eci.ec.europa.eu/045/public/"


def test_petition_create_refuses_an_official_address_elsewhere_and_eci_details_on_a_simple_petition(runner, app):
    result = runner.invoke(
        args=["petition", "create", "--slug", "faces", "--title", "T", "--eci-url", "https://eci.ec.europa.eu.evil.example/"]
    )  # fmt: skip
    assert result.exit_code != 0 and "the Commission's site" in result.output
    result = runner.invoke(
        args=["petition", "create", "--slug", "cams", "--title", "T", "--rules", "simple",
              "--eci-number", "ECI(2024)000004"]
    )  # fmt: skip
    assert result.exit_code != 0 and "Only a European Citizens' Initiative has a registration number" in result.output
    result = runner.invoke(args=["petition", "create", "--slug", "x", "--title", "T", "--organiser-contact", "call us"])
    assert result.exit_code != 0 and "email address or a web address" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Petition)) == 0


def test_a_registration_date_in_the_future_or_before_2020_is_refused(runner, client):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    result = runner.invoke(args=["petition", "create", "--slug", "soon", "--title", "T", "--registered", tomorrow])
    assert result.exit_code != 0 and "The registration date is in the future." in result.output
    result = runner.invoke(args=["petition", "create", "--slug", "old", "--title", "T", "--registered", "2019-12-31"])
    assert result.exit_code != 0 and "before 2020" in result.output
    result = runner.invoke(args=["petition", "create", "--slug", "first", "--title", "T", "--registered", "2020-01-01"])
    assert result.exit_code == 0, result.output
    assert thresholds(client, "first")["DE"] == 67_680  # the 705-seat minimums of the time
