"""Every organiser route, tried by four people: nobody logged in, an organiser of another petition,
a viewer and an owner of this one. Nothing of a petition shows to anyone who does not belong to it."""

import io

import pytest

# (method, path, data for a POST, what an owner gets). Owners go last: their POST may change things.
ROUTES = [
    ("GET", "/organiser/p/demo", None, 200),
    ("GET", "/organiser/p/demo/figures", None, 200),
    ("GET", "/organiser/p/demo/edit", None, 200),
    ("POST", "/organiser/p/demo/edit", {"title": "Changed", "rules": "eci", "action": "save"}, 303),
    ("POST", "/organiser/p/demo/close", {}, 303),
    ("POST", "/organiser/p/draft/open", {}, 303),
    ("GET", "/organiser/p/demo/team", None, 200),
    ("POST", "/organiser/p/demo/team", {"email": "new@example.org", "role": "viewer"}, 303),
    ("POST", "/organiser/p/demo/team/remove", {"organiser_id": "VIEWER"}, 303),
    ("GET", "/organiser/p/demo/paper", None, 200),
    ("POST", "/organiser/p/demo/paper/tally", {"country": "DE", "count": "10", "note": "stall"}, 303),
    ("POST", "/organiser/p/demo/paper/upload", "CSV", 200),
    ("GET", "/organiser/p/demo/exports", None, 200),
    ("GET", "/organiser/p/demo/export.csv", None, 200),
    ("GET", "/organiser/p/demo/countries.csv", None, 200),
    ("GET", "/organiser/p/demo/updates", None, 200),
    ("POST", "/organiser/p/demo/updates/new", {"subject": "News", "body": "Text", "audience": "all"}, 303),
]
VIEWER_MAY = {("GET", "/organiser/p/demo"), ("GET", "/organiser/p/demo/figures"), ("GET", "/organiser/p/demo/team")}


@pytest.fixture
def people(app, make_petition, make_organiser, web):
    demo = make_petition(slug="demo")
    make_petition(slug="draft", draft=True)
    other_petition = make_petition(slug="other", title="Another campaign")
    from petition.extensions import db
    from petition.models import Petition

    make_organiser("owner@example.org", demo, "owner")
    with app.app_context():
        draft_id = db.session.query(Petition.id).filter_by(slug="draft").scalar()
    make_organiser("owner@example.org", draft_id, "owner")
    viewer_id = make_organiser("viewer@example.org", demo, "viewer")
    make_organiser("viewer@example.org", draft_id, "viewer")
    make_organiser("stranger@example.org", other_petition, "owner")
    return {
        "anonymous": web(),
        "other organiser": web("stranger@example.org"),
        "viewer": web("viewer@example.org"),
        "owner": web("owner@example.org"),
        "viewer_id": viewer_id,
    }


def send(person, method, path, data, viewer_id):
    if method == "GET":
        return person.get(path)
    if data == "CSV":
        upload = (io.BytesIO(b"first_name,last_name,country\nAna,Kovac,DE\n"), "paper.csv")
        return person.post(path, {"file": upload, "action": "check"}, content_type="multipart/form-data")
    data = {k: (str(viewer_id) if v == "VIEWER" else v) for k, v in data.items()}
    return person.post(path, data)


@pytest.mark.parametrize(("method", "path", "data", "owner_gets"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES])
def test_only_the_petitions_own_organisers_reach_it(app, people, method, path, data, owner_gets):
    viewer_id = people["viewer_id"]

    anonymous = send(people["anonymous"], method, path, data, viewer_id)
    if path.endswith("/figures"):
        assert anonymous.status_code == 401
    else:
        assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/organiser/login")

    stranger = send(people["other organiser"], method, path, data, viewer_id)
    assert stranger.status_code == 404, "another organiser must not learn the petition exists"
    assert "Ban biometric" not in stranger.get_data(as_text=True)

    viewer = send(people["viewer"], method, path, data, viewer_id)
    assert viewer.status_code == (200 if (method, path) in VIEWER_MAY else 403)

    owner = send(people["owner"], method, path, data, viewer_id)
    assert owner.status_code == owner_gets, owner.get_data(as_text=True)[:400]


def test_the_list_shows_only_petitions_the_organiser_belongs_to(app, people):
    page = people["other organiser"].get("/organiser/").get_data(as_text=True)
    assert "Another campaign" in page
    assert "Ban biometric" not in page
    assert "Ban biometric" in people["viewer"].get("/organiser/").get_data(as_text=True)


def test_any_logged_in_organiser_may_start_a_petition_but_nobody_else(app, people):
    assert people["anonymous"].get("/organiser/new").status_code == 303
    assert people["viewer"].get("/organiser/new").status_code == 200


def test_an_unknown_petition_is_404_for_everyone(app, people):
    assert people["owner"].get("/organiser/p/nope").status_code == 404
    assert people["owner"].get("/organiser/p/nope/export.csv").status_code == 404
