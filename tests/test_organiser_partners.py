"""The partners page of the organisers' area: who collects for a petition and what each brought in,
and owners registering partners, their sites and keys, checked against the partner API and the
widget's framing as a partner would meet them."""

import html as html_lib
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Partner
from petition.services import partners
from petition.services.petitions import get_by_slug
from tests.test_embed import frame_ancestors, sign_in_widget

KEY = re.compile(r"ptk_[A-Za-z0-9_-]{20,}")
PAGE = "/organiser/p/demo/partners"


@pytest.fixture
def people(app, make_petition, make_organiser, make_partner, web):
    """demo (owner, viewer), cameras (the same owner), other (someone else); partners of each."""
    demo = make_petition(slug="demo")
    cameras = make_petition(slug="cameras", title="Cameras off", rules="simple", goal=1000)
    other = make_petition(slug="other", title="Another campaign")
    make_organiser("owner@example.org", demo, "owner")
    make_organiser("owner@example.org", cameras, "owner")
    make_organiser("viewer@example.org", demo, "viewer")
    make_organiser("stranger@example.org", other, "owner")
    ngo_id, ngo_key = make_partner(name="Digital Rights NGO", origins=["https://ngo.example"], petitions=["demo"])
    cameras_id, _ = make_partner(name="Camera Watch", origins=["https://watch.example"], petitions=["cameras"])
    strangers_id, _ = make_partner(name="Their partner", origins=["https://theirs.example"], petitions=["other"])
    return {
        "anonymous": web(),
        "other organiser": web("stranger@example.org"),
        "viewer": web("viewer@example.org"),
        "owner": web("owner@example.org"),
        "ngo": ngo_id,
        "ngo_key": ngo_key,
        "cameras_partner": cameras_id,
        "strangers_partner": strangers_id,
    }


def partner_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Partner))


def origins_of(app, public_id) -> list[str]:
    with app.app_context():
        return [o.origin for o in partners.get_by_public_id(db.session, public_id).origins]


def keys_in(response) -> list[str]:
    return KEY.findall(response.get_data(as_text=True))


def row_of(html: str, public_id: str) -> dict[str, str]:
    cells = re.search(rf'<tr data-partner="{public_id}">(.*?)</tr>', html, re.S)
    assert cells, f"no row for partner {public_id}"
    found = dict(re.findall(r'data-figure="([a-z]+)">([^<]*)<', cells.group(1)))
    found["status"] = re.search(r"<td data-status>([^<]*)</td>", cells.group(1)).group(1)
    return found


# (method, path, form data, what the owner gets). NGO is the owner's partner of demo; CAMERAS is the
# owner's partner of another petition, which may be added to demo.
ROUTES = [
    ("GET", PAGE, None, 200),
    ("POST", f"{PAGE}/new", {"name": "Media", "origins": "https://media.example"}, 303),
    ("POST", f"{PAGE}/add", {"partner": "CAMERAS"}, 303),
    ("POST", f"{PAGE}/NGO/origins/add", {"origin": "https://news.example"}, 303),
    ("POST", f"{PAGE}/NGO/origins/remove", {"origin": "https://ngo.example"}, 303),
    ("POST", f"{PAGE}/NGO/rotate-key", {}, 200),
    ("POST", f"{PAGE}/NGO/revoke", {}, 303),
    ("POST", f"{PAGE}/NGO/remove", {}, 303),
]


@pytest.mark.parametrize(("method", "path", "data", "owner_gets"), ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES])
def test_only_the_petitions_own_organisers_reach_it_and_only_owners_change_it(
    app, people, method, path, data, owner_gets
):
    path = path.replace("NGO", people["ngo"])
    data = {k: v.replace("CAMERAS", people["cameras_partner"]) for k, v in (data or {}).items()}

    def send(person):
        return people[person].get(path) if method == "GET" else people[person].post(path, data)

    anonymous = send("anonymous")
    assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/organiser/login")

    stranger = send("other organiser")
    assert stranger.status_code == 404, "another organiser must not learn the petition exists"
    assert "Digital Rights NGO" not in stranger.get_data(as_text=True)

    before = partner_count(app), origins_of(app, people["ngo"])
    viewer = send("viewer")
    assert viewer.status_code == (200 if method == "GET" else 403)
    assert (partner_count(app), origins_of(app, people["ngo"])) == before, "a viewer changed something"

    owner = send("owner")
    assert owner.status_code == owner_gets, owner.get_data(as_text=True)[:500]
    assert owner.headers["Cache-Control"] == "no-store"


def test_a_post_without_the_csrf_token_is_refused(app, people):
    response = people["owner"].client.post(f"{PAGE}/{people['ngo']}/revoke")
    assert response.status_code == 400
    with app.app_context():
        assert partners.get_by_public_id(db.session, people["ngo"]).is_active


def test_the_petition_nav_links_to_the_partners_page(people):
    for person in ("owner", "viewer"):
        assert f'href="{PAGE}"' in people[person].get("/organiser/p/demo").get_data(as_text=True)


def test_a_viewer_sees_partners_and_figures_but_no_controls(people):
    page = people["viewer"].get(PAGE).get_data(as_text=True)
    assert "Digital Rights NGO" in page and "https://ngo.example" in page
    assert row_of(page, people["ngo"])["status"] == "active"
    assert '<form method="post" action="/organiser/p/demo/partners' not in page
    assert "Register a partner" not in page


def test_a_partner_registered_on_the_page_gets_a_working_key_shown_exactly_once(app, people, api_sign):
    owner = people["owner"]
    form = {"name": "  Media   Outlet ", "origins": "https://Media.example/our-page\nhttp://blog.media.example:8080"}
    response = owner.post(f"{PAGE}/new", form)

    # Registered, then sent on to a page of its own: reloading that page registers nothing more.
    assert response.status_code == 303
    assert keys_in(response) == []
    landing = response.headers["Location"]
    with app.app_context():
        [media] = db.session.scalars(select(Partner).where(Partner.name == "Media Outlet")).all()
        assert [o.origin for o in media.origins] == ["http://blog.media.example:8080", "https://media.example"]
        assert [link.petition.slug for link in media.petition_links] == ["demo"]
        media_id, hint = media.public_id, media.key_hint
    assert landing.endswith(f"{PAGE}?registered={media_id}#partner-{media_id}")
    for _reload in range(2):
        page = owner.get(landing)
        assert page.status_code == 200 and keys_in(page) == []
        assert "Media Outlet is registered" in page.get_data(as_text=True)
    assert partner_count(app) == 4

    # The key is made when the organiser asks for it, and shown once.
    shown = owner.post(f"{PAGE}/{media_id}/rotate-key", {"replaces": hint})
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    [key] = keys_in(shown)
    assert shown.get_data(as_text=True).count(key) == 1
    assert "shown only this once" in shown.get_data(as_text=True)
    assert api_sign(key, email="ana@example.org").status_code == 202
    with app.app_context():
        assert key not in (partners.get_by_public_id(db.session, media_id).key_hash, hint)

    # The same form sent again (a reload of that page) neither shows nor replaces the key just copied.
    again = owner.post(f"{PAGE}/{media_id}/rotate-key", {"replaces": hint})
    assert again.status_code == 303 and keys_in(again) == []
    assert "already made and shown" in owner.get(again.headers["Location"]).get_data(as_text=True)
    assert api_sign(key, email="ben@example.org").status_code == 202

    later = owner.get(PAGE)
    assert keys_in(later) == [], "the key is never shown again"
    assert row_of(later.get_data(as_text=True), media_id)["status"] == "active"


def test_the_page_gives_each_partner_the_share_pages_embed_code(app, client, people):
    ngo = people["ngo"]
    share = client.get(f"/p/demo/share?partner={ngo}").get_data(as_text=True)
    shared_code = re.search(r'<code id="embed-code">([^<]*)</code>', share).group(1)

    page = people["owner"].get(PAGE).get_data(as_text=True)
    code = re.search(rf'<code id="embed-code-{ngo}">([^<]*)</code>', page).group(1)

    assert code == shared_code
    assert html_lib.unescape(code) == (
        f'<script src="http://petitions.test/embed.js" data-petition="demo" data-partner="{ngo}" async></script>'
    )
    assert f"http://petitions.test/p/demo/share?partner={ngo}" in page
    assert '<script src="http://petitions.test/embed.js"' not in page, "the code is shown, never run"


def test_a_new_key_replaces_the_old_one_at_once(people, api_sign):
    old = people["ngo_key"]
    assert api_sign(old, email="first@example.org").status_code == 202

    response = people["owner"].post(f"{PAGE}/{people['ngo']}/rotate-key", {})

    [new] = keys_in(response)
    assert new != old
    assert response.get_data(as_text=True).count(new) == 1
    assert api_sign(old, email="second@example.org").status_code == 401
    assert api_sign(new, email="third@example.org").status_code == 202
    assert keys_in(people["owner"].get(PAGE)) == []


def test_revoking_stops_the_key_and_the_widget_and_keeps_the_figures(app, client, people, api_sign):
    ngo, key = people["ngo"], people["ngo_key"]
    assert api_sign(key, email="ana@example.org").status_code == 202

    response = people["owner"].post(f"{PAGE}/{ngo}/revoke", {})

    assert response.status_code == 303
    assert api_sign(key, email="ben@example.org").status_code == 401
    assert client.get(f"/embed/demo?partner={ngo}").status_code == 404
    page = people["owner"].get(response.headers["Location"]).get_data(as_text=True)
    assert "its key and widget stopped working" in page
    assert row_of(page, ngo) == {"signed": "1", "confirmed": "0", "rate": "0.0%", "status": "revoked"}
    assert f"{PAGE}/{ngo}/rotate-key" not in page, "a revoked partner offers nothing to change"
    assert people["owner"].post(f"{PAGE}/{ngo}/rotate-key", {}).status_code == 409


def test_sites_added_and_removed_on_the_page_apply_to_the_widget_at_once(app, client, people):
    ngo, owner = people["ngo"], people["owner"]
    widget = f"/embed/demo?partner={ngo}"
    assert "https://news.example" not in frame_ancestors(client.get(widget))

    assert owner.post(f"{PAGE}/{ngo}/origins/add", {"origin": "https://News.example/campaign"}).status_code == 303
    assert frame_ancestors(client.get(widget)) == "'self' https://news.example https://ngo.example"

    assert owner.post(f"{PAGE}/{ngo}/origins/remove", {"origin": "https://ngo.example"}).status_code == 303
    assert frame_ancestors(client.get(widget)) == "'self' https://news.example"
    assert "https://news.example" in owner.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("", "is not an http:// or https:// address of a site"),
        ("ngo.example", "is not an http:// or https:// address of a site"),
        ("javascript:alert(1)", "is not an http:// or https:// address of a site"),
        ("https://user:secret@ngo.example", "is not an http:// or https:// address of a site"),
        ("https://ngo.example:99999", "is not a web address"),
        ("https://bad_host.example", "is not an http:// or https:// address of a site"),
        ("https://x.example; script-src *", "is not"),
        ("https://" + "a" * 400 + ".example", "Field cannot be longer than 300 characters"),
    ],
)
def test_a_bad_site_gets_a_clear_message_and_changes_nothing(app, client, people, origin, message):
    ngo = people["ngo"]
    response = people["owner"].post(f"{PAGE}/{ngo}/origins/add", {"origin": origin})

    assert response.status_code == 422
    assert message in html_lib.unescape(response.get_data(as_text=True))
    assert origins_of(app, ngo) == ["https://ngo.example"]
    assert frame_ancestors(client.get(f"/embed/demo?partner={ngo}")) == "'self' https://ngo.example"


def test_removing_a_site_the_partner_does_not_have_changes_nothing(app, people):
    response = people["owner"].post(f"{PAGE}/{people['ngo']}/origins/remove", {"origin": "https://else.example"})
    assert response.status_code == 422
    assert "The partner has no such site." in response.get_data(as_text=True)
    assert origins_of(app, people["ngo"]) == ["https://ngo.example"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "origins": "https://media.example"}, "The name must be 1 to 200 characters."),
        ({"name": "x" * 201, "origins": "https://media.example"}, "The name must be 1 to 200 characters."),
        ({"name": "Media\x00", "origins": "https://media.example"}, "may not contain invisible or control characters"),
        (
            {"name": "\u202eaideM", "origins": "https://media.example"},
            "may not contain invisible or control characters",
        ),
        ({"name": "Media", "origins": ""}, "Give at least one site address"),
        ({"name": "Media", "origins": "https://media.example\nftp://media.example"}, "'ftp://media.example' is not"),
        ({"name": "Media", "origins": "x" * 6000}, "Field cannot be longer than 5000 characters."),
    ],
)
def test_a_bad_new_partner_gets_a_clear_message_and_nothing_is_stored(app, people, data, message):
    before = partner_count(app)
    response = people["owner"].post(f"{PAGE}/new", data)

    assert response.status_code == 422
    assert message in html_lib.unescape(response.get_data(as_text=True))
    assert partner_count(app) == before
    assert keys_in(response) == []


def test_an_owner_adds_a_partner_of_their_other_petition(app, people, api_sign, make_partner):
    owner, cameras_partner = people["owner"], people["cameras_partner"]
    page = owner.get(PAGE).get_data(as_text=True)
    assert f'<option value="{cameras_partner}">Camera Watch' in page
    assert people["strangers_partner"] not in page, "someone else's partner is not offered"

    assert owner.post(f"{PAGE}/add", {"partner": cameras_partner}).status_code == 303

    with app.app_context():
        slugs = sorted(
            link.petition.slug for link in partners.get_by_public_id(db.session, cameras_partner).petition_links
        )
    assert slugs == ["cameras", "demo"]
    page = owner.get(PAGE).get_data(as_text=True)
    assert row_of(page, cameras_partner)["status"] == "active"
    assert f'<option value="{cameras_partner}"' not in page


@pytest.mark.parametrize("which", ["strangers_partner", "unknown"])
def test_someone_elses_or_an_unknown_partner_cannot_be_added(app, people, which):
    public_id = people.get(which, "0123456789ab")
    response = people["owner"].post(f"{PAGE}/add", {"partner": public_id})

    assert response.status_code == 422
    assert "Choose one of the partners of your other petitions." in response.get_data(as_text=True)
    with app.app_context():
        demo = get_by_slug(db.session, "demo")
        demo_partners = [p.public_id for p in partners.partners_of(db.session, demo.id)]
    assert public_id not in demo_partners


def test_a_partner_shared_with_a_campaign_the_owner_does_not_own_cannot_be_changed_by_them(
    app, people, make_partner, api_sign
):
    shared_id, shared_key = make_partner(name="Shared", origins=["https://shared.example"], petitions=["demo", "other"])
    owner = people["owner"]

    page = owner.get(PAGE).get_data(as_text=True)
    assert "also collects for a campaign you do not own" in page
    for action, data in [
        ("rotate-key", {}),
        ("revoke", {}),
        ("origins/add", {"origin": "https://mine.example"}),
        ("origins/remove", {"origin": "https://shared.example"}),
    ]:
        assert owner.post(f"{PAGE}/{shared_id}/{action}", data).status_code == 403, action
    assert api_sign(shared_key).status_code == 202
    assert origins_of(app, shared_id) == ["https://shared.example"]

    # Stopping it collecting for their own petition is theirs to decide, and changes nothing elsewhere.
    assert owner.post(f"{PAGE}/{shared_id}/remove", {}).status_code == 303
    assert api_sign(shared_key, slug="demo", email="ben@example.org").status_code == 403
    assert api_sign(shared_key, slug="other", email="ben@example.org").status_code == 202


def test_a_partner_of_another_petition_is_404_here(people):
    for action in ("rotate-key", "revoke", "remove"):
        assert people["owner"].post(f"{PAGE}/{people['cameras_partner']}/{action}", {}).status_code == 404
    assert people["owner"].post(f"{PAGE}/nobody/revoke", {}).status_code == 404


def test_each_partners_figures_are_what_came_in_through_it(
    app, client, people, make_partner, api_sign, sign_form, outbox
):
    ngo, key = people["ngo"], people["ngo_key"]
    media, media_key = make_partner(name="Media", origins=["https://media.example"], petitions=["demo"])
    api_sign(key, email="a@example.org", source="letter")
    api_sign(key, email="b@example.org")
    assert sign_in_widget(client, ngo, "&source=front-page", email="c@example.org").status_code == 303
    api_sign(media_key, email="d@example.org")
    sign_form(email="e@example.org")  # our own page: nobody's partner
    outbox.deliver()
    for address in ("a@example.org", "c@example.org", "e@example.org"):
        client.post(outbox.confirm_path(address))

    page = people["viewer"].get(PAGE).get_data(as_text=True)

    assert row_of(page, ngo) == {"signed": "3", "confirmed": "2", "rate": "66.7%", "status": "active"}
    assert row_of(page, media) == {"signed": "1", "confirmed": "0", "rate": "0.0%", "status": "active"}
    assert f'data-source="widget:{ngo}/front-page"' in page and f'data-source="api:{ngo}/letter"' in page
    dashboard = people["viewer"].get("/organiser/p/demo/figures").get_data(as_text=True)
    for channel in (f"widget:{ngo}", f"api:{ngo}"):
        assert f'<tr data-source="{channel}">' in dashboard, "the same figures as the dashboard's rows"


def test_a_partner_no_longer_collecting_still_shows_what_it_brought_in(app, people, api_sign):
    ngo = people["ngo"]
    api_sign(people["ngo_key"], email="a@example.org")
    assert people["owner"].post(f"{PAGE}/{ngo}/remove", {}).status_code == 303

    page = people["owner"].get(PAGE).get_data(as_text=True)
    assert row_of(page, ngo) == {"signed": "1", "confirmed": "0", "rate": "0.0%", "status": "no longer collects here"}
    assert f"{PAGE}/{ngo}/revoke" not in page
    assert people["owner"].post(f"{PAGE}/{ngo}/remove", {}).status_code == 404


NASTY = [
    "\x00",
    "https://\x00.example",
    "https://exämple.org",
    "https://xn--.example",
    "https://[::1]:8443",
    "https://[zz]",
    "http://%00.example",
    "https://a..b",
    "//ngo.example",
    "https://ngo.example:0",
    " HTTPS://NGO.EXAMPLE:443/x?y#z ",
    "https://" + "a" * 64 + ".example",
    "https://ngo.example'; frame-ancestors *",
    "\u202ehttps://ngo.example",
]
typed = st.one_of(st.sampled_from(NASTY), st.text(st.characters(exclude_categories=("Cs",)), max_size=40))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=typed, origins=typed, origin=typed)
def test_whatever_is_typed_the_answer_is_never_a_500_and_a_refusal_changes_nothing(app, people, name, origins, origin):
    owner, ngo = people["owner"], people["ngo"]
    before = partner_count(app)
    created = owner.post(f"{PAGE}/new", {"name": name, "origins": origins})
    assert created.status_code in (303, 422)
    assert partner_count(app) == before + (created.status_code == 303)

    before = origins_of(app, ngo)
    added = owner.post(f"{PAGE}/{ngo}/origins/add", {"origin": origin})
    assert added.status_code in (303, 422)
    if added.status_code == 422:
        assert origins_of(app, ngo) == before
    assert all(partners.normalise_origin(o) == o for o in origins_of(app, ngo)), "only clean origins are stored"
