"""A petition's partners, for its organisers: who collects for it and what each brought in (everyone on
the team), and registering partners, their sites and keys (owners only).

An API key exists in clear only in the answer to the POST that made it: it is never put in a URL, a
session, a flash message or a log, and organiser pages are sent `no-store`. So registering redirects
(a reload must not register the partner twice) to a page that offers to make the key, and making a
key names the key it replaces: the same form sent again, by a reload, changes nothing."""

from dataclasses import dataclass

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from petition.embed.snippet import embed_code, share_url
from petition.extensions import db
from petition.models import Partner, PartnerPetition, Petition, Role
from petition.organiser.access import petition_for
from petition.organiser.forms import ActionForm, AddPartnerForm, OriginForm, PartnerForm
from petition.services import dashboard, partners
from petition.services.partners import NewKey
from petition.timeutil import utcnow

# What a redirect after a change says; anything else in `?done=` is ignored.
DONE = {
    "added": "The partner may now collect for this petition.",
    "origin-added": "The site was added: the widget may appear there from now on.",
    "origin-removed": "The site was removed: the widget no longer appears there.",
    "revoked": "The partner is revoked: its key and widget stopped working. What it collected stays counted.",
    "removed": "The partner no longer collects for this petition. What it collected stays counted.",
    "key-kept": "That key was already made and shown, so nothing changed. If it was lost, make a new one.",
}
SHARED = "This partner also collects for another campaign: only someone who owns all of them may change it."
NO_FIGURES = dashboard.PartnerFigures(dashboard.SourceFigures("", 0, 0), dashboard.SourceFigures("", 0, 0), [])


@dataclass(frozen=True)
class PartnerRow:
    partner: Partner
    figures: dashboard.PartnerFigures
    collects: bool  # False: no longer collects for this petition, listed for what it brought in before
    manageable: bool  # active, and the organiser owns every petition the partner collects for
    embed_code: str
    share_url: str


def _rows(petition: Petition, role: Role) -> list[PartnerRow]:
    cache = current_app.extensions.setdefault("organiser_activity_cache", {})
    figures = dashboard.partner_figures(db.session, petition.id, utcnow(), cache)
    linked = partners.partners_of(db.session, petition.id)
    former = partners.by_public_ids(db.session, set(figures) - {p.public_id for p in linked})
    return [
        PartnerRow(
            partner=p,
            figures=figures.get(p.public_id, NO_FIGURES),
            collects=collects,
            manageable=role == Role.OWNER
            and collects
            and p.is_active
            and partners.organiser_may_manage(db.session, current_user.id, p),
            embed_code=embed_code(petition.slug, p.public_id),
            share_url=share_url(petition.slug, p.public_id),
        )
        for collects, group in ((True, linked), (False, former))
        for p in group
    ]


def _page(
    petition: Petition,
    role: Role,
    *,
    status: int = 200,
    new_key: NewKey | None = None,
    partner_form: PartnerForm | None = None,
    add_form: AddPartnerForm | None = None,
    origin_errors: dict[str, str] | None = None,
):
    add_form = add_form or AddPartnerForm()
    candidates = []
    if role == Role.OWNER:
        candidates = partners.partners_to_add(db.session, current_user.id, petition.id)
        add_form.partner.choices = [(p.public_id, f"{p.name} ({p.public_id})") for p in candidates]
    return render_template(
        "organiser/partners.html",
        petition=petition,
        role=role,
        rows=_rows(petition, role),
        new_key=new_key,
        partner_form=partner_form or PartnerForm(formdata=None),
        add_form=add_form,
        candidates=candidates,
        action_form=ActionForm(),
        origin_errors=origin_errors or {},
        done=DONE.get(request.args.get("done", "")),
        registered=request.args.get("registered") if new_key is None else None,
    ), status


def _done(petition: Petition, what: str):
    return redirect(url_for("organiser.partners", slug=petition.slug, done=what), code=303)


def _managed_partner(petition: Petition, partner_id: str) -> Partner:
    """A partner of this petition that the logged-in owner may change: 404 if it does not collect for
    this petition, 403 if it also collects for a petition they do not own, 409 if it is revoked."""
    partner = partners.get_by_public_id(db.session, partner_id)
    if partner is None or db.session.get(PartnerPetition, (partner.id, petition.id)) is None:
        abort(404)
    if not partners.organiser_may_manage(db.session, current_user.id, partner):
        _refuse(petition, 403, SHARED)
    if not partner.is_active:
        _refuse(petition, 409, "This partner is revoked: nothing about it can change any more.")
    return partner


def _refuse(petition: Petition, status: int, text: str):
    abort(make_response(render_template("organiser/message.html", petition=petition, messages=[text]), status))


def partners_page(slug: str):
    petition, role = petition_for(slug)
    return _page(petition, role)


def create_partner(slug: str):
    petition, role = petition_for(slug, owner=True)
    form = PartnerForm()
    if not form.validate():
        return _page(petition, role, partner_form=form, status=422)
    try:
        new = partners.create_partner(
            db.session, name=form.name.data or "", origins=form.origin_list(), petitions=[petition], now=utcnow()
        )
        db.session.commit()
    except partners.PartnerInvalid as error:
        db.session.rollback()
        for field, text in error.errors.items():
            target = form.origins if field == "origin" else form.name
            target.errors = [*target.errors, text]
        return _page(petition, role, partner_form=form, status=422)
    # Its first key was never shown: the page we redirect to offers to make the one the partner gets.
    partner_id = new.partner.public_id
    return redirect(
        url_for("organiser.partners", slug=petition.slug, registered=partner_id, _anchor=f"partner-{partner_id}"),
        code=303,
    )


def add_partner(slug: str):
    petition, role = petition_for(slug, owner=True)
    form = AddPartnerForm()
    partner = partners.get_by_public_id(db.session, form.partner.data) if form.validate() else None
    # The same answer for an unknown id and someone else's partner: ids reveal nothing.
    if (
        partner is None
        or not partner.is_active
        or not partners.organiser_may_manage(db.session, current_user.id, partner)
    ):
        form.partner.errors = ["Choose one of the partners of your other petitions."]
        return _page(petition, role, add_form=form, status=422)
    partners.allow_petition(db.session, partner, petition, utcnow())
    db.session.commit()
    return _done(petition, "added")


def add_origin(slug: str, partner_id: str):
    return _change_origin(slug, partner_id, partners.add_origin, "origin-added")


def remove_origin(slug: str, partner_id: str):
    return _change_origin(slug, partner_id, partners.remove_origin, "origin-removed")


def _change_origin(slug: str, partner_id: str, change, done: str):
    petition, role = petition_for(slug, owner=True)
    partner = _managed_partner(petition, partner_id)
    form = OriginForm()
    problem = None
    if not form.validate():
        problem = " ".join(form.origin.errors)
    else:
        try:
            if change(db.session, partner, form.origin.data or "") is False:
                problem = "The partner has no such site."
        except ValueError as error:
            problem = str(error)
    if problem:
        db.session.rollback()
        return _page(petition, role, origin_errors={partner.public_id: problem}, status=422)
    db.session.commit()
    return _done(petition, done)


def rotate_key(slug: str, partner_id: str):
    """A new key, shown once. The form names the key it replaces (`replaces`, the key's public hint):
    sent again by a reload after the key was shown, it would otherwise make another key and silently
    kill the one just copied."""
    petition, role = petition_for(slug, owner=True)
    partner = _managed_partner(petition, partner_id)
    replaces = request.form.get("replaces")
    if replaces is not None and replaces != partner.key_hint:
        return _done(petition, "key-kept")
    new = partners.rotate_key(db.session, partner, utcnow())
    db.session.commit()
    return _page(petition, role, new_key=new)


def revoke(slug: str, partner_id: str):
    petition, _role = petition_for(slug, owner=True)
    partners.revoke(db.session, _managed_partner(petition, partner_id), utcnow())
    db.session.commit()
    return _done(petition, "revoked")


def remove_partner(slug: str, partner_id: str):
    """Stop a partner collecting for this petition. Only this petition's ownership is needed: it
    changes nothing for the partner's other campaigns."""
    petition, _role = petition_for(slug, owner=True)
    partner = partners.get_by_public_id(db.session, partner_id)
    if partner is None or not partners.disallow_petition(db.session, partner, petition):
        abort(404)
    db.session.commit()
    return _done(petition, "removed")
