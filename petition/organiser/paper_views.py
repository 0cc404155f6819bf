"""Paper signatures, for owners: per-country tallies with a note, and CSV uploads of statements."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from petition import live
from petition.extensions import db
from petition.models import Petition
from petition.organiser.access import petition_for
from petition.organiser.forms import TallyForm, UploadForm
from petition.policy import body_limit
from petition.services import counting, paper
from petition.services.petitions import allowed_countries
from petition.timeutil import utcnow


def _page(petition: Petition, *, tally_form=None, upload_form=None, report=None, upload_error=None, status=200):
    return render_template(
        "organiser/paper.html",
        petition=petition,
        tally_form=tally_form or TallyForm(countries=allowed_countries(petition)),
        upload_form=upload_form or UploadForm(),
        entries=paper.entries_of(db.session, petition.id),
        report=report,
        upload_error=upload_error,
        recorded=bool(request.args.get("recorded")),
        columns=paper.REQUIRED_COLUMNS + paper.OPTIONAL_COLUMNS,
    ), status


def paper_page(slug: str):
    petition, _role = petition_for(slug, owner=True)
    return _page(petition)


def record_tally(slug: str):
    petition, _role = petition_for(slug, owner=True)
    form = TallyForm(countries=allowed_countries(petition))
    if not form.validate():
        return _page(petition, tally_form=form, status=422)
    now = utcnow()
    try:
        paper.record_tally(
            db.session, petition, form.country.data, form.count.data, form.note.data, current_user.id, now
        )
    except paper.PaperInvalid as error:
        db.session.rollback()
        for key, message in error.errors.items():
            getattr(form, key).errors = [message]
        return _page(petition, tally_form=form, status=422)
    db.session.commit()
    live.announce(petition.id)
    counting.stamp_milestones(db.session, petition, now)
    db.session.commit()
    return redirect(url_for("organiser.paper", slug=slug, recorded=1), code=303)


# Twice the largest file accepted: a file somewhat too large is told so on the page, not by a bare 413.
@body_limit(2 * paper.UPLOAD_MAX_BYTES)
def upload_statements(slug: str):
    petition, _role = petition_for(slug, owner=True)
    form = UploadForm()
    upload = request.files.get("file")
    if not form.validate() or upload is None or not upload.filename:
        return _page(petition, upload_form=form, upload_error="Choose a CSV file to upload.", status=422)
    save = form.action.data == "import"
    now = utcnow()
    data = upload.stream.read(paper.UPLOAD_MAX_BYTES + 1)
    try:
        report = paper.import_statements(db.session, petition, data, current_user.id, now, save=save)
    except paper.PaperInvalid as error:
        db.session.rollback()
        return _page(petition, upload_form=form, upload_error=" ".join(error.errors.values()), status=422)
    if save:
        db.session.commit()
        if report.accepted:
            live.announce(petition.id)
            counting.stamp_milestones(db.session, petition, now)
            db.session.commit()
    else:
        db.session.rollback()
    return _page(petition, report=report)
