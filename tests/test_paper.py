"""Paper signatures: counts typed in per country and CSV uploads of statements, counted with the
online ones everywhere (public totals, thresholds, recount) and shown apart on the dashboard."""

import io
import re

from sqlalchemy import select

from petition.extensions import db
from petition.models import PaperEntry, Signature, SignatureCount
from petition.services.personal import unseal


def upload(owner, text: str | bytes, action="import", name="paper.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return owner.post(
        "/organiser/p/demo/paper/upload",
        {"file": (io.BytesIO(data), name), "action": action},
        content_type="multipart/form-data",
    )


def public(client) -> dict:
    detail = client.get("/api/v1/petitions/demo").json
    return {"total": detail["total"], **{c["code"]: c["count"] for c in detail["countries"] if c["count"]}}


def test_a_count_typed_in_adds_to_the_public_total_and_the_countrys_threshold(
    app, owner, petition_id, confirmed_signature, client
):
    confirmed_signature(petition_id, "a@example.org", "BE")
    response = owner.post("/organiser/p/demo/paper/tally", {"country": "BE", "count": "250", "note": "Market, Ghent"})
    assert response.status_code == 303
    assert public(client) == {"total": 251, "BE": 251}

    html = owner.get("/organiser/p/demo").get_data(as_text=True)
    assert re.search(r'data-figure="paper">250<', html) and re.search(r'data-figure="online">1<', html)
    assert "Market, Ghent" in owner.get("/organiser/p/demo/paper").get_data(as_text=True)


def test_a_negative_count_corrects_but_never_below_zero(app, owner, petition_id, client):
    owner.post("/organiser/p/demo/paper/tally", {"country": "BE", "count": "250", "note": "typo"})
    assert owner.post("/organiser/p/demo/paper/tally", {"country": "BE", "count": "-50"}).status_code == 303
    assert public(client) == {"total": 200, "BE": 200}
    too_much = owner.post("/organiser/p/demo/paper/tally", {"country": "BE", "count": "-201"})
    assert too_much.status_code == 422
    assert "Only 200 paper signatures are recorded for this country." in too_much.get_data(as_text=True)
    for bad in ({"country": "US", "count": "5"}, {"country": "BE", "count": "0"}, {"country": "BE", "count": "x"}):
        assert owner.post("/organiser/p/demo/paper/tally", bad).status_code == 422, bad
    assert public(client)["total"] == 200


GOOD_AND_BAD = (
    "first_name,last_name,country,email\r\n"
    "Ana,Kovač,DE,ana@example.org\r\n"  # 2: good
    "Jan,Novák,CZ,\r\n"  # 3: good, no email
    ",Nobody,DE,\r\n"  # 4: no first name
    "Eve,Smith,US,eve@example.org\r\n"  # 5: not an EU country
    "Bob,Builder,FR,not-an-address\r\n"  # 6: bad email
    "Ana,Again,DE,ANA+paper@example.org\r\n"  # 7: the same person as line 2
    "\r\n"
    "Zoë,Brontë,EL,zoe@example.org\r\n"  # 9: good, Greece as EL
)


def test_checking_a_file_reports_each_refused_row_and_saves_nothing(app, owner, petition_id, client):
    response = upload(owner, GOOD_AND_BAD, action="check")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "3 statements would be imported." in html and "Nothing was saved." in html
    refused = dict(re.findall(r'<tr data-line="(\d+)"><td>\d+</td><td>([^<]*)</td>', html))
    assert set(refused) == {"4", "5", "6", "7"}
    assert "first_name" in refused["4"] and "country" in refused["5"] and "email" in refused["6"]
    assert "appears twice" in refused["7"]
    assert public(client) == {"total": 0}
    with app.app_context():
        assert db.session.scalar(select(Signature.id)) is None


def test_importing_saves_the_good_rows_as_confirmed_paper_signatures(app, owner, petition_id, client):
    response = upload(owner, GOOD_AND_BAD)
    html = response.get_data(as_text=True)
    assert "3 statements imported." in html and "4 rows refused" in html
    assert public(client) == {"total": 3, "CZ": 1, "DE": 1, "GR": 1}
    with app.app_context():
        rows = db.session.scalars(select(Signature).order_by(Signature.id)).all()
        assert [(unseal(s.first_name_sealed), s.country, s.source, s.status.value) for s in rows] == [
            ("Ana", "DE", "paper", "confirmed"),
            ("Jan", "CZ", "paper", "confirmed"),
            ("Zoë", "GR", "paper", "confirmed"),
        ]
    exported = owner.get("/organiser/p/demo/export.csv").get_data(as_text=True)
    assert "Jan,Novák,,CZ," in exported and exported.count(",paper") == 3


def test_a_person_who_signed_online_is_not_counted_again_on_paper(app, owner, petition_id, confirmed_signature, client):
    confirmed_signature(petition_id, "ana@example.org", "DE")
    html = upload(owner, "first_name;last_name;country;email\nAna;Kovač;DE;Ana@Example.org\n").get_data(as_text=True)
    assert "0 statements imported." in html and "already signed" in html
    assert public(client) == {"total": 1, "DE": 1}


def test_unreadable_files_are_refused_whole(app, owner, petition_id):
    assert "not UTF-8" in upload(owner, "first_name,last_name,country\nJosé,Ñ,ES\n".encode("latin-1")).get_data(
        as_text=True
    )
    assert "missing: country" in upload(owner, "first_name,last_name\nAna,K\n").get_data(as_text=True)
    assert "empty" in upload(owner, b"").get_data(as_text=True) or upload(owner, b"").status_code == 422
    huge = b"first_name,last_name,country\n" + b"Ana,Kovac,DE\n" * 500_000
    assert "larger than 5 MB" in upload(owner, huge).get_data(as_text=True)


def test_a_utf8_file_with_a_bom_and_semicolons_from_a_spreadsheet_is_read(app, owner, petition_id, client):
    text = "\ufeffFirst name;Last name;Country\r\nMarie;Curie;PL\r\n"
    assert "1 statement imported." in upload(owner, text).get_data(as_text=True)
    assert public(client) == {"total": 1, "PL": 1}


def test_paper_counts_reaching_a_threshold_tell_the_organisers(app, owner, petition_id, outbox):
    owner.post("/organiser/p/demo/paper/tally", {"country": "MT", "count": "4320", "note": "Valletta"})
    outbox.deliver()
    [message] = outbox.to("owner@example.org")
    assert message["Subject"].startswith("Malta reached its threshold")


def test_recount_keeps_paper_counts(app, owner, petition_id, confirmed_signature, runner, client):
    confirmed_signature(petition_id, "a@example.org", "BE")
    owner.post("/organiser/p/demo/paper/tally", {"country": "BE", "count": "40", "note": "stall"})
    upload(owner, "first_name,last_name,country\nJan,Peeters,BE\n")
    result = runner.invoke(args=["recount"])
    assert "0 counter(s) corrected" in result.output, result.output
    assert public(client) == {"total": 42, "BE": 42}

    with app.app_context():  # a counter drifts: recount brings back online + uploads + tallies
        db.session.execute(SignatureCount.__table__.delete())
        db.session.commit()
    result = runner.invoke(args=["recount"])
    assert "demo BE: counted 0, actual 42 (corrected)" in result.output
    assert public(client) == {"total": 42, "BE": 42}
    with app.app_context():
        kinds = sorted(e.kind.value for e in db.session.scalars(select(PaperEntry)))
        assert kinds == ["statements", "tally"]
