"""Exports: confirmed signatures as CSV a spreadsheet opens safely, one country at a time if wanted,
per-country figures, and a log of every export."""

import csv
import io

from sqlalchemy import select

from petition.extensions import db
from petition.models import ExportRecord
from petition.services.exports import neutralise


def read_csv(response) -> list[dict]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM, so that spreadsheets read accents right"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_an_owner_exports_the_confirmed_signatures_of_one_country(
    app, owner, petition_id, confirmed_signature, pending_signature
):
    confirmed_signature(petition_id, "ana@example.org", "DE")
    confirmed_signature(petition_id, "zoe@example.org", "FR")
    pending_signature(petition_id, "pending@example.org", "DE")

    response = owner.get("/organiser/p/demo/export.csv?country=DE")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="demo-signatures-DE-' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    header = response.get_data().split(b"\r\n", 1)[0]
    assert header == b"\xef\xbb\xbffirst_name,last_name,email,country,confirmed_at,source"
    rows = read_csv(response)
    assert [(r["first_name"], r["last_name"], r["email"], r["country"], r["source"]) for r in rows] == [
        ("Ana", "Kovač", "ana@example.org", "DE", "web")
    ]
    assert rows[0]["confirmed_at"].endswith("Z")

    everyone = read_csv(owner.get("/organiser/p/demo/export.csv"))
    assert sorted(r["email"] for r in everyone) == ["ana@example.org", "zoe@example.org"]
    assert read_csv(owner.get("/organiser/p/demo/export.csv?country=el")) == [], "Greece as EL, nobody from there"


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(app, owner, petition_id, pending_signature):
    from petition.services import confirming

    dangerous = [("=HYPERLINK(1)", "@SUM(A1)", "=cmd@example.org"), ("+Ana", "-Kovač", "+plus@example.org")]
    for first, last, email in dangerous:
        signature_id = pending_signature(petition_id, email, "DE", first=first, last=last)
        with app.app_context():
            from petition.timeutil import utcnow

            confirming.confirm(db.session, signature_id, utcnow())
            db.session.commit()
    rows = read_csv(owner.get("/organiser/p/demo/export.csv"))
    cells = {(r["first_name"], r["last_name"], r["email"]) for r in rows}
    assert cells == {("'=HYPERLINK(1)", "'@SUM(A1)", "'=cmd@example.org"), ("'+Ana", "'-Kovač", "'+plus@example.org")}


def test_neutralise_covers_every_formula_opener():
    for text in ("=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("Ana") == "Ana" and neutralise("") == "" and neutralise(None) == ""


def test_the_export_streams_in_chunks(app, owner, petition_id, confirmed_signature):
    for n in range(3):
        confirmed_signature(petition_id, f"p{n}@example.org", "DE")
    response = owner.get("/organiser/p/demo/export.csv", buffered=False)
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) >= 2, "the header goes out before the rows are read"
    response.close()


def test_every_export_is_logged_with_who_when_and_how_many_rows(app, owner, petition_id, confirmed_signature):
    confirmed_signature(petition_id, "a@example.org", "DE")
    confirmed_signature(petition_id, "b@example.org", "AT")
    owner.get("/organiser/p/demo/export.csv?country=AT").get_data()
    owner.get("/organiser/p/demo/export.csv").get_data()
    owner.get("/organiser/p/demo/countries.csv").get_data()

    with app.app_context():
        records = db.session.scalars(select(ExportRecord).order_by(ExportRecord.id)).all()
        assert [(r.organiser_email, r.kind, r.country, r.rows) for r in records] == [
            ("owner@example.org", "signatures", "AT", 1),
            ("owner@example.org", "signatures", None, 2),
            ("owner@example.org", "summary", None, 28),
        ]
        assert all(r.finished_at is not None and r.started_at <= r.finished_at for r in records)
    page = owner.get("/organiser/p/demo/exports").get_data(as_text=True)
    assert "Export log" in page and "signatures (AT)" in page


def test_an_export_cut_short_is_still_logged(app, owner, petition_id, confirmed_signature):
    confirmed_signature(petition_id, "a@example.org", "DE")
    response = owner.get("/organiser/p/demo/export.csv", buffered=False)
    next(iter(response.response))
    response.close()
    with app.app_context():
        [record] = db.session.scalars(select(ExportRecord)).all()
        assert record.finished_at is None and record.rows is not None


def test_the_per_country_summary_counts_online_and_paper(app, owner, petition_id, confirmed_signature):
    confirmed_signature(petition_id, "a@example.org", "MT")
    owner.post("/organiser/p/demo/paper/tally", {"country": "MT", "count": "4400", "note": "Valletta"})
    rows = read_csv(owner.get("/organiser/p/demo/countries.csv"))
    malta = next(r for r in rows if r["country"] == "MT")
    assert malta == {
        "country": "MT", "name": "Malta", "threshold": "4320", "online": "1", "paper": "4400", "total": "4401",
        "reached": "yes", "margin_target": "5400", "margin_reached": "no",
    }  # fmt: skip
    assert rows[-1]["name"] == "total" and rows[-1]["total"] == "4401"


def test_an_unknown_country_filter_is_a_clear_400(app, owner, petition_id):
    assert owner.get("/organiser/p/demo/export.csv?country=XX").status_code == 400
    assert owner.get("/organiser/p/demo/export.csv?country=%3D").status_code == 400
    # A NUL anywhere in a URL is not found before the export looks at it (tests/test_hostile_urls.py).
    assert owner.get("/organiser/p/demo/export.csv?country=%00%3D").status_code == 404
