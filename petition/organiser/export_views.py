"""Exports for owners: confirmed signatures (all, or one country) and per-country figures, as CSV."""

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_login import current_user

from petition.extensions import db
from petition.organiser.access import petition_for
from petition.rules.countries import iso_countries, normalise_country, sorted_by_name
from petition.services import dashboard, exports
from petition.services.petitions import allowed_countries
from petition.timeutil import utcnow


def _csv_response(body, filename: str) -> Response:
    return Response(
        stream_with_context(body),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Accel-Buffering": "no"},
    )


def _country_filter() -> str | None:
    raw = request.args.get("country", "")
    if not raw.strip():
        return None
    code = normalise_country(raw)
    if code not in iso_countries():
        abort(400, description="Unknown country code.")
    return code


def export_signatures(slug: str):
    petition, _role = petition_for(slug, owner=True)
    country = _country_filter()
    if petition.personal_data_purged_at is not None:
        message = "The personal data of this petition was deleted at the end of its retention period."
        return render_template("organiser/message.html", petition=petition, messages=[message]), 410
    now = utcnow()
    petition_id, petition_slug = petition.id, petition.slug
    record_id = exports.begin_record(db.session, petition_id, current_user.organiser, "signatures", country, now)
    rows = exports.signature_rows(db.session, petition_id, country)
    body = exports.logged_csv(db.session, record_id, exports.SIGNATURE_COLUMNS, rows)
    name = f"{petition_slug}-signatures{'-' + country if country else ''}-{now.date().isoformat()}.csv"
    return _csv_response(body, name)


def export_summary(slug: str):
    petition, _role = petition_for(slug, owner=True)
    now = utcnow()
    figures = dashboard.figures(db.session, petition, now, current_app.extensions.get("organiser_activity_cache"))
    petition_slug = petition.slug
    record_id = exports.begin_record(db.session, petition.id, current_user.organiser, "summary", None, now)
    body = exports.logged_csv(db.session, record_id, exports.SUMMARY_COLUMNS, exports.summary_rows(figures))
    return _csv_response(body, f"{petition_slug}-countries-{now.date().isoformat()}.csv")


def exports_page(slug: str):
    petition, role = petition_for(slug, owner=True)
    return render_template(
        "organiser/exports.html",
        petition=petition,
        role=role,
        countries=sorted_by_name(allowed_countries(petition)),
        records=exports.records_of(db.session, petition.id),
    )
