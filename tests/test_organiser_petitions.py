"""Organisers create, edit, preview, open and close petitions in the browser, with the CLI's checks."""

from datetime import date, timedelta

from sqlalchemy import select

from petition.extensions import db
from petition.models import Petition, PetitionRevision, PetitionStatus
from tests.conftest import form_token_of
from tests.helpers.fixtures import form_fields


def new_petition(**fields) -> dict:
    data = {"slug": "cameras", "title": "No cameras in Belgrade", "summary": "Stop them.", "body": "", "rules": "eci"}
    data.update(fields)
    data.setdefault("action", "save")
    return data


def test_an_organiser_creates_a_draft_opens_it_and_people_can_sign(app, owner, client):
    response = owner.post("/organiser/new", new_petition(rules="simple", goal="5000", targets="RS=3000, DE=100"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/organiser/p/cameras/edit?created=1"
    assert "created as a draft" in owner.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/p/cameras").status_code == 404, "a draft is not public"
    assert "cameras" in owner.get("/organiser/").get_data(as_text=True)

    assert owner.post("/organiser/p/cameras/open").status_code == 303
    page = client.get("/p/cameras")
    assert page.status_code == 200
    detail = client.get("/api/v1/petitions/cameras").json
    assert detail["status"] == "open" and detail["goal"] == {"total": 5000, "min_countries": None}
    assert {c["code"]: c["threshold"] for c in detail["countries"]} == {"DE": 100, "RS": 3000}
    token = form_token_of(page.get_data(as_text=True))
    assert client.post("/p/cameras/sign", data=form_fields(country="RS", form_token=token)).status_code == 303


def test_the_browser_applies_the_same_checks_as_the_command_line(app, owner, petition_id):
    too_late = date.today() + timedelta(days=400)
    response = owner.post(
        "/organiser/new",
        new_petition(slug="Demo!", title="", rules="eci", goal="5000", closes_on=too_late.isoformat()),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Use 1-64 lower-case letters" in html
    assert "The title must be 1 to 200 characters." in html
    assert "ECI rules fix the goal at 1,000,000 signatures." in html
    assert "An ECI collection lasts at most 12 months" in html

    taken = owner.post("/organiser/new", new_petition(slug="demo"))
    assert "A petition with the address &#39;demo&#39; already exists." in taken.get_data(as_text=True)
    past = owner.post("/organiser/new", new_petition(rules="simple", closes_on="2020-01-01"))
    assert "The closing date is in the past." in past.get_data(as_text=True)
    bad_targets = owner.post("/organiser/new", new_petition(rules="simple", targets="Germany: lots"))
    assert "is not CC=N" in bad_targets.get_data(as_text=True)
    nonsense = owner.post("/organiser/new", new_petition(goal="many", closes_on="31/12/2026"))
    assert nonsense.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Petition.id).where(Petition.slug != "demo")) is None


def test_the_preview_shows_the_text_as_people_will_see_it_and_saves_nothing(app, owner, petition_id):
    response = owner.post(
        "/organiser/p/demo/edit",
        {"title": "Ban it", "rules": "eci", "body": "**Stop** it <script>alert(1)</script>", "action": "preview"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<strong>Stop</strong>" in html
    assert "<script>alert(1)</script>" not in html
    with app.app_context():
        assert db.session.get(Petition, petition_id).title == "Ban biometric mass surveillance"


def test_editing_the_text_of_an_open_petition_keeps_every_version(app, owner, petition_id, client):
    edit = {"title": "Ban biometric surveillance now", "summary": "New summary", "body": "New text", "rules": "eci"}
    assert owner.post("/organiser/p/demo/edit", {**edit, "action": "save"}).status_code == 303
    assert owner.post("/organiser/p/demo/edit", {**edit, "body": "Newer text", "action": "save"}).status_code == 303

    assert "Ban biometric surveillance now" in client.get("/p/demo").get_data(as_text=True)
    with app.app_context():
        versions = db.session.scalars(
            select(PetitionRevision).order_by(PetitionRevision.created_at, PetitionRevision.id)
        ).all()
        assert [v.body_markdown for v in versions][1:] == ["New text", "Newer text"]
        assert versions[0].title == "Ban biometric mass surveillance", "the text people first signed is kept"
        assert versions[-1].organiser_id is not None
    page = owner.get("/organiser/p/demo/edit").get_data(as_text=True)
    assert "Text history" in page and "Ban biometric mass surveillance" in page


def test_editing_a_draft_keeps_no_history(app, owner, make_petition, make_organiser):
    draft = make_petition(slug="later", draft=True)
    make_organiser("owner@example.org", draft, "owner")
    edit = {"title": "Later, changed", "rules": "simple", "goal": "100", "action": "save"}
    assert owner.post("/organiser/p/later/edit", edit).status_code == 303
    with app.app_context():
        petition = db.session.get(Petition, draft)
        assert petition.rules == "simple" and petition.goal_total == 100 and petition.min_countries is None
        assert db.session.scalar(select(PetitionRevision.id)) is None


def test_the_rules_of_an_open_petition_do_not_change(app, owner, petition_id):
    response = owner.post("/organiser/p/demo/edit", {"title": "X", "rules": "simple", "goal": "10", "action": "save"})
    assert response.status_code == 422
    assert "The rules cannot change once the petition has opened." in response.get_data(as_text=True)


def test_closing_stops_signing_and_tells_the_organisers_once(app, owner, petition_id, client, outbox):
    token = form_token_of(client.get("/p/demo").get_data(as_text=True))
    assert owner.post("/organiser/p/demo/close").status_code == 303
    assert owner.post("/organiser/p/demo/close").status_code == 409

    assert client.get("/api/v1/petitions/demo").json["status"] == "closed"
    assert client.post("/p/demo/sign", data=form_fields(form_token=token)).status_code == 403
    outbox.deliver()
    [message] = outbox.to("owner@example.org")
    assert "Collection has closed" in message["Subject"]
    with app.app_context():
        assert db.session.get(Petition, petition_id).closed_at is not None


def test_a_closed_petition_keeps_its_text_but_takes_its_submission_date(app, owner, petition_id):
    owner.post("/organiser/p/demo/close")
    form = {"title": "Ban biometric mass surveillance", "rules": "eci", "action": "save"}
    with app.app_context():
        petition = db.session.get(Petition, petition_id)
        form["summary"], form["body"] = petition.summary, petition.body_markdown
        form["closes_on"] = petition.closes_at.date().isoformat()
    changed = owner.post("/organiser/p/demo/edit", {**form, "title": "Something else"})
    assert changed.status_code == 422
    assert "A closed petition keeps the text" in changed.get_data(as_text=True)

    submitted = owner.post("/organiser/p/demo/edit", {**form, "submitted_on": date.today().isoformat()})
    assert submitted.status_code == 303
    with app.app_context():
        assert db.session.get(Petition, petition_id).submitted_on == date.today()
    assert "Personal data of signers will be deleted on" in owner.get("/organiser/p/demo/edit").get_data(as_text=True)


def test_a_draft_past_its_closing_date_cannot_open(app, owner, make_petition, make_organiser):
    draft = make_petition(slug="late", rules="simple", draft=True, closes_on=date.today())
    make_organiser("owner@example.org", draft, "owner")
    with app.app_context():
        petition = db.session.get(Petition, draft)
        petition.closes_at = petition.opens_at + timedelta(seconds=1)
        db.session.commit()
    response = owner.post("/organiser/p/late/open")
    assert response.status_code == 409
    assert "The closing date has passed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Petition, draft).status == PetitionStatus.DRAFT
