"""Partner management (CLI and the service functions the organiser dashboard calls) and attribution:
what organisers see each partner and each source bring in."""

import hashlib

import pytest
from sqlalchemy import select, text

from petition.extensions import db
from petition.models import Membership, Organiser, Partner, Role
from petition.services import attribution, partners
from petition.services.attribution import Channel, Source, parse_source, source_for
from petition.timeutil import utcnow


def partner_row(app, public_id: str) -> Partner:
    with app.app_context():
        partner = partners.get_by_public_id(db.session, public_id)
        db.session.expunge(partner)
        return partner


def origins_of(app, public_id: str) -> list[str]:
    with app.app_context():
        return [o.origin for o in partners.get_by_public_id(db.session, public_id).origins]


def test_partner_create_prints_exactly_the_id_and_the_key(app, runner, petition_id, api_sign):
    result = runner.invoke(
        args=[
            "partner",
            "create",
            "--name",
            "Digital Rights NGO",
            "--origin",
            "https://ngo.example/",
            "--petition",
            "demo",
        ]
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("id: ") and lines[1].startswith("key: ")
    partner_id, key = lines[0][4:], lines[1][5:]
    assert api_sign(key).status_code == 202
    assert origins_of(app, partner_id) == ["https://ngo.example"]


def test_only_a_hash_of_the_key_is_stored(app, runner, petition_id):
    result = runner.invoke(args=["partner", "create", "--name", "NGO", "--origin", "https://ngo.example"])
    key = result.output.splitlines()[1][5:]
    with app.app_context():
        dump = repr(db.session.execute(text("SELECT * FROM partners")).all())
    assert key not in dump
    assert key[10:] not in dump
    assert hashlib.sha256(key.encode()).hexdigest() in dump


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "NGO", "--origin", "ftp://ngo.example"], "is not an http:// or https:// address"),
        (["--name", "NGO", "--origin", "https://ngo.example", "--petition", "nope"], "No petition 'nope'"),
        (["--name", "  ", "--origin", "https://ngo.example"], "The name must be 1 to 200 characters"),
        (["--name", "NGO"], "Missing option '--origin'"),
    ],
)
def test_partner_create_refuses_bad_input_and_stores_nothing(app, runner, petition_id, args, message):
    result = runner.invoke(args=["partner", "create", *args])
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalars(select(Partner)).all() == []


def test_several_origins_and_petitions_at_once(app, runner, make_petition):
    make_petition(slug="demo")
    make_petition(slug="cameras", rules="simple", goal=10_000)
    result = runner.invoke(
        args=["partner", "create", "--name", "Media", "--origin", "https://b.example", "--origin", "http://a.example:8080",
              "--petition", "demo", "--petition", "cameras"]
    )  # fmt: skip
    partner_id = result.output.splitlines()[0][4:]
    assert origins_of(app, partner_id) == ["http://a.example:8080", "https://b.example"]
    listing = runner.invoke(args=["partner", "list"]).output
    assert f"{partner_id}  Media [active, key ptk_" in listing
    assert "petitions: cameras, demo" in listing


def test_rotate_revoke_and_change_origins_and_petitions_from_the_cli(
    app, runner, make_petition, make_partner, api_sign
):
    make_petition(slug="demo")
    make_petition(slug="cameras", rules="simple", goal=10_000)
    partner_id, old_key = make_partner(origins=["https://ngo.example"], petitions=["demo"])

    rotated = runner.invoke(args=["partner", "rotate-key", partner_id])
    assert rotated.exit_code == 0 and rotated.output.startswith("key: ptk_")
    new_key = rotated.output.strip()[5:]
    assert api_sign(old_key).status_code == 401
    assert api_sign(new_key, email="a@example.org").status_code == 202

    assert runner.invoke(args=["partner", "add-origin", partner_id, "https://News.Example/x"]).exit_code == 0
    assert runner.invoke(args=["partner", "remove-origin", partner_id, "https://ngo.example"]).exit_code == 0
    assert origins_of(app, partner_id) == ["https://news.example"]
    assert runner.invoke(args=["partner", "remove-origin", partner_id, "https://ngo.example"]).exit_code != 0

    assert api_sign(new_key, slug="cameras", country="RS").status_code == 403
    assert runner.invoke(args=["partner", "allow", partner_id, "--petition", "cameras"]).exit_code == 0
    assert api_sign(new_key, slug="cameras", country="RS").status_code == 202
    assert runner.invoke(args=["partner", "disallow", partner_id, "--petition", "cameras"]).exit_code == 0
    assert api_sign(new_key, slug="cameras", email="b@example.org", country="RS").status_code == 403

    assert runner.invoke(args=["partner", "revoke", partner_id]).exit_code == 0
    assert api_sign(new_key, email="c@example.org").status_code == 401
    assert runner.invoke(args=["partner", "rotate-key", partner_id]).exit_code != 0
    assert partner_row(app, partner_id).revoked_at is not None
    assert runner.invoke(args=["partner", "revoke", "nobody"]).exit_code != 0


def test_source_values_round_trip():
    assert source_for(Channel.WIDGET, "abc123", "june") == "widget:abc123/june"
    assert source_for(Channel.API, "abc123") == "api:abc123"
    assert source_for(Channel.WEB, code="fb") == "web/fb"
    assert parse_source("widget:abc123/june") == Source(Channel.WIDGET, "abc123", "june")
    assert parse_source("api:abc123") == Source(Channel.API, "abc123", None)
    assert parse_source("paper") == Source(Channel.PAPER)
    assert parse_source("web/fb") == Source(Channel.WEB, None, "fb")
    assert parse_source("widget") == Source(None)
    assert parse_source("web:someone") == Source(None)
    assert parse_source("telepathy") == Source(None)


@pytest.fixture
def brought_in(app, client, make_petition, make_partner, api_sign, sign_form, outbox):
    """Two partners and our own page collect for `demo`; some signers confirm."""
    make_petition(slug="demo")
    ngo_id, ngo_key = make_partner(name="NGO", petitions=["demo"])
    media_id, media_key = make_partner(name="Media", petitions=["demo"])
    idle_id, _ = make_partner(name="Idle", petitions=["demo"])
    api_sign(ngo_key, email="a@example.org", source="letter")
    api_sign(ngo_key, email="b@example.org", source="letter")
    api_sign(ngo_key, email="c@example.org")
    api_sign(media_key, email="d@example.org")
    sign_form(email="e@example.org")
    sign_form(email="f@example.org", website="bot")  # flagged
    outbox.deliver()
    for address in ("a@example.org", "c@example.org", "d@example.org", "e@example.org"):
        client.post(outbox.confirm_path(address))
    with app.app_context():
        db.session.execute(
            text("UPDATE signatures SET source = :s WHERE source = :old"),
            {"s": f"widget:{ngo_id}/front-page", "old": f"api:{ngo_id}"},
        )
        db.session.commit()
    return {"ngo": ngo_id, "media": media_id, "idle": idle_id}


def test_organisers_see_each_partners_signatures_and_confirmation_rate(app, brought_in):
    with app.app_context():
        rows = attribution.by_partner(db.session, 1)
        summary = [
            (r.partner.name, r.widget.signatures, r.api.signatures, r.total.confirmed, r.total.confirmation_rate)
            for r in rows
        ]
    assert summary == [
        ("NGO", 1, 2, 2, pytest.approx(2 / 3)),
        ("Media", 0, 1, 1, 1.0),
        ("Idle", 0, 0, 0, None),
    ]


def test_organisers_see_each_source_with_its_partner(app, brought_in):
    ngo = brought_in["ngo"]
    with app.app_context():
        rows = attribution.by_source(db.session, 1)
        summary = {r.source: (r.parsed.channel, r.partner_name, r.parsed.code, *vars(r.tally).values()) for r in rows}
    assert summary == {
        f"api:{ngo}/letter": (Channel.API, "NGO", "letter", 1, 1, 0),
        f"widget:{ngo}/front-page": (Channel.WIDGET, "NGO", "front-page", 0, 1, 0),
        f"api:{brought_in['media']}": (Channel.API, "Media", None, 0, 1, 0),
        "web": (Channel.WEB, None, None, 0, 1, 1),
    }


def test_a_partner_no_longer_linked_still_shows_what_it_brought_in(app, brought_in):
    with app.app_context():
        media = partners.get_by_public_id(db.session, brought_in["media"])
        partners.disallow_petition(db.session, media, media.petition_links[0].petition)
        partners.revoke(db.session, media, utcnow())
        db.session.commit()
        names = [r.partner.name for r in attribution.by_partner(db.session, 1)]
    assert names == ["NGO", "Media", "Idle"]


def test_a_partner_whose_id_starts_like_another_gets_only_its_own_counts(app, make_petition, make_partner, api_sign):
    make_petition(slug="demo")
    short_id, _ = make_partner(name="Short")
    long_id, long_key = make_partner(name="Long")
    with app.app_context():
        long = partners.get_by_public_id(db.session, long_id)
        db.session.execute(
            text("UPDATE partners SET public_id = :p WHERE id = :i"), {"p": short_id + "x", "i": long.id}
        )
        db.session.commit()
    api_sign(long_key, email="long@example.org")
    with app.app_context():
        short = partners.get_by_public_id(db.session, short_id)
        [row] = attribution.partner_counts(db.session, short)
    assert (row.pending, row.confirmed) == (0, 0)


def test_only_an_owner_of_every_petition_of_a_partner_may_manage_it(app, make_petition, make_partner):
    demo = make_petition(slug="demo")
    cameras = make_petition(slug="cameras", rules="simple", goal=10_000)
    shared_id, _ = make_partner(name="Shared", petitions=["demo", "cameras"])
    own_id, _ = make_partner(name="Own", petitions=["demo"])
    with app.app_context():
        owner = Organiser(email="owner@example.org", password_hash="x")
        viewer = Organiser(email="viewer@example.org", password_hash="x")
        db.session.add_all([owner, viewer])
        db.session.flush()
        db.session.add_all(
            [
                Membership(organiser_id=owner.id, petition_id=demo, role=Role.OWNER),
                Membership(organiser_id=viewer.id, petition_id=demo, role=Role.VIEWER),
                Membership(organiser_id=viewer.id, petition_id=cameras, role=Role.VIEWER),
            ]
        )
        db.session.commit()
        own = partners.get_by_public_id(db.session, own_id)
        shared = partners.get_by_public_id(db.session, shared_id)
        assert partners.organiser_may_manage(db.session, owner.id, own)
        assert not partners.organiser_may_manage(db.session, owner.id, shared)
        assert not partners.organiser_may_manage(db.session, viewer.id, own)
        assert [p.name for p in partners.partners_of(db.session, cameras)] == ["Shared"]


def test_partner_list_for_a_petition_shows_counts_and_rates(app, runner, brought_in):
    output = runner.invoke(args=["partner", "list", "--petition", "demo"]).output
    assert f"{brought_in['ngo']}  NGO: 2 confirmed, 1 pending, confirmation rate 67% (widget 1, api 2)" in output
    assert "Idle: 0 confirmed, 0 pending, confirmation rate -" in output
