"""Organisers' petitions: the list, creating, editing with a preview, opening and closing, and the team."""

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import Membership, Petition, PetitionStatus, Role, SignatureCount
from petition.organiser.access import petition_for
from petition.organiser.forms import ActionForm, MemberForm, PetitionForm, RemoveMemberForm, format_targets
from petition.policy import body_limit
from petition.services import lifecycle, team
from petition.services.markdown import render_markdown
from petition.services.petitions import (
    BODY_MAX_CHARACTERS,
    PetitionFields,
    PetitionInvalid,
    create_petition,
    fields_of,
    open_petition,
    revisions_of,
    update_petition,
)
from petition.timeutil import utcnow

# Service error keys -> form fields, so each message shows beside its field.
_FIELD_OF_ERROR = {"closes": "closes_on", "registered": "registered_on", "retention": "retention_months",
                   "submitted": "submitted_on"}  # fmt: skip
# A petition's text at its longest, every character percent-encoded from four UTF-8 bytes (12 bytes
# each), with room for the other fields: the refusal names the long text, not a bare 413.
PETITION_FORM_BYTES = 12 * BODY_MAX_CHARACTERS + 256 * 1024


def index():
    rows = db.session.execute(
        select(Petition, Membership.role)
        .join(Membership, Membership.petition_id == Petition.id)
        .where(Membership.organiser_id == current_user.id)
        .order_by(Petition.created_at.desc())
    ).all()
    totals = dict(
        db.session.execute(
            select(SignatureCount.petition_id, func.sum(SignatureCount.count))
            .where(SignatureCount.petition_id.in_([p.id for p, _ in rows]))
            .group_by(SignatureCount.petition_id)
        ).all()
    )
    now = utcnow()
    return render_template("organiser/index.html", rows=rows, totals=totals, now=now)


def _fields_from(form: PetitionForm) -> PetitionFields:
    return PetitionFields(
        title=form.title.data or "",
        summary=form.summary.data or "",
        body=form.body.data or "",
        rules=form.rules.data or "eci",
        goal=form.goal.data,
        closes_on=form.closes_on.data,
        registered_on=form.registered_on.data,
        country_targets=getattr(form, "parsed_targets", None) or None,
        retention_months=form.retention_months.data,
        submitted_on=form.submitted_on.data,
        organiser_name=form.organiser_name.data or "",
        organiser_contact=form.organiser_contact.data or "",
        eci_registration_number=form.eci_registration_number.data or "",
        eci_signing_url=form.eci_signing_url.data or "",
    )


def _show_errors(form: PetitionForm, error: PetitionInvalid) -> None:
    for key, message in error.errors.items():
        field = getattr(form, _FIELD_OF_ERROR.get(key, key), None)
        if field is not None and key != "status":
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def _preview(form: PetitionForm):
    return render_markdown(form.body.data or "") if request.form.get("action") == "preview" else None


@body_limit(PETITION_FORM_BYTES)
def new():
    form = PetitionForm()
    if request.method == "GET":
        form.rules.data = "eci"
        return render_template("organiser/petition_form.html", form=form, petition=None, preview=None)
    preview = _preview(form)
    if form.validate() and preview is None:
        fields = _fields_from(form)
        try:
            petition = create_petition(
                db.session,
                slug=form.slug.data or "",
                title=fields.title,
                summary=fields.summary,
                body=fields.body,
                rules=fields.rules,
                goal=fields.goal,
                closes_on=fields.closes_on,
                registered_on=fields.registered_on,
                country_targets=fields.country_targets,
                retention_months=fields.retention_months,
                organiser_name=fields.organiser_name,
                organiser_contact=fields.organiser_contact,
                eci_registration_number=fields.eci_registration_number,
                eci_signing_url=fields.eci_signing_url,
                draft=True,
                now=utcnow(),
            )
            db.session.flush()
        except PetitionInvalid as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.add(Membership(organiser_id=current_user.id, petition_id=petition.id, role=Role.OWNER))
            db.session.commit()
            return redirect(url_for("organiser.edit", slug=petition.slug, created=1), code=303)
    status = 200 if preview is not None else 422
    return render_template("organiser/petition_form.html", form=form, petition=None, preview=preview), status


@body_limit(PETITION_FORM_BYTES)
def edit(slug: str):
    petition, _role = petition_for(slug, owner=True)
    now = utcnow()
    form = PetitionForm()
    if request.method == "GET":
        current = fields_of(petition)
        form = PetitionForm(
            formdata=None,
            title=current.title,
            summary=current.summary,
            body=current.body,
            rules=current.rules,
            goal=current.goal,
            closes_on=current.closes_on,
            registered_on=current.registered_on,
            targets=format_targets(current.country_targets or {}),
            retention_months=current.retention_months,
            submitted_on=current.submitted_on,
            organiser_name=current.organiser_name,
            organiser_contact=current.organiser_contact,
            eci_registration_number=current.eci_registration_number,
            eci_signing_url=current.eci_signing_url,
        )
        return _edit_page(petition, form, None, now, created=bool(request.args.get("created")))
    preview = _preview(form)
    if form.validate() and preview is None:
        try:
            update_petition(db.session, petition, _fields_from(form), now=now, editor_id=current_user.id)
        except PetitionInvalid as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            return redirect(url_for("organiser.edit", slug=petition.slug, saved=1), code=303)
    return _edit_page(petition, form, preview, now, status=200 if preview is not None else 422)


def _edit_page(petition: Petition, form: PetitionForm, preview, now, status: int = 200, created: bool = False):
    context = {
        "petition": petition,
        "form": form,
        "preview": preview,
        "status": petition.status_at(now),
        "revisions": revisions_of(db.session, petition.id),
        "action_form": ActionForm(),
        "saved": bool(request.args.get("saved")),
        "created": created,
        "retention_date": lifecycle.retention_date(petition),
        "render_markdown": render_markdown,
    }
    return render_template("organiser/petition_form.html", **context), status


def open_(slug: str):
    petition, _role = petition_for(slug, owner=True)
    try:
        open_petition(db.session, petition, utcnow())
    except PetitionInvalid as error:
        db.session.rollback()
        return render_template("organiser/message.html", petition=petition, messages=list(error.errors.values())), 409
    db.session.commit()
    return redirect(url_for("organiser.dashboard", slug=petition.slug), code=303)


def close(slug: str):
    petition, _role = petition_for(slug, owner=True)
    now = utcnow()
    if petition.status != PetitionStatus.OPEN:
        message = "Only an open petition can be closed."
        return render_template("organiser/message.html", petition=petition, messages=[message]), 409
    lifecycle.close(db.session, petition, now)
    db.session.commit()
    return redirect(url_for("organiser.dashboard", slug=petition.slug), code=303)


def team_page(slug: str):
    petition, role = petition_for(slug)
    form = MemberForm()
    error = None
    if request.method == "POST":
        if role != Role.OWNER:
            abort(403)
        if form.validate():
            try:
                team.add_member(db.session, petition, form.email.data, Role(form.role.data), utcnow())
            except team.TeamChangeRefused as refused:
                db.session.rollback()
                error = str(refused)
            else:
                db.session.commit()
                return redirect(url_for("organiser.team", slug=slug, added=1), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "organiser/team.html",
        petition=petition,
        role=role,
        form=form,
        remove_form=RemoveMemberForm(),
        members=team.members_of(db.session, petition.id),
        error=error,
        added=bool(request.args.get("added")),
    ), status


def remove_member(slug: str):
    petition, _role = petition_for(slug, owner=True)
    form = RemoveMemberForm()
    organiser_id = form.organiser_id.data or ""
    if not organiser_id.isdigit():
        abort(400)
    try:
        team.remove_member(db.session, petition, int(organiser_id))
    except team.TeamChangeRefused as refused:
        db.session.rollback()
        return render_template("organiser/message.html", petition=petition, messages=[str(refused)]), 409
    db.session.commit()
    if int(organiser_id) == current_user.id:
        return redirect(url_for("organiser.index"), code=303)
    return redirect(url_for("organiser.team", slug=slug), code=303)
