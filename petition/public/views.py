"""Public pages: the list of petitions, a petition with its signing form, and confirmation."""

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale, refresh
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from petition import live
from petition.extensions import db, limiter
from petition.formatting import format_day, format_share, plural_forms
from petition.i18n import current_locale, lang_arg
from petition.models import Petition, PetitionStatus, Signature, SignatureCount, SignatureStatus
from petition.policy import token_in_url, unlimited
from petition.public import form_token
from petition.public.abuse import looks_automated
from petition.public.forms import SOURCE_CODE, SignForm
from petition.public.origin import is_same_origin_post
from petition.public_cache import public_cache
from petition.rules.countries import country_name, sorted_by_name
from petition.services import confirming, counting, lifecycle, signature_links, signing
from petition.services.markdown import render_markdown
from petition.services.personal import canonical_email
from petition.services.petitions import allowed_countries, get_by_slug
from petition.services.signature_links import SignatureLink
from petition.services.translations import text_for
from petition.timeutil import utcnow

bp = Blueprint("public", __name__)


def get_public_petition(slug: str) -> Petition:
    """404 for unknown petitions and drafts alike: a draft is nobody's business yet."""
    petition = get_by_slug(db.session, slug)
    if petition is None or petition.status_at(utcnow()) == PetitionStatus.DRAFT:
        abort(404)
    return petition


def new_sign_form(petition: Petition, formdata=None) -> SignForm:
    return SignForm(
        formdata=formdata,
        allowed_countries=allowed_countries(petition),
        locale=current_locale(),
        check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"],
    )


def petition_context(petition: Petition, form: SignForm) -> dict:
    now = utcnow()
    counts = counting.read_counts(db.session, petition.id)
    progress = counting.progress_of(petition, counts)
    days_left = None
    if petition.closes_at is not None and petition.is_accepting_signatures(now):
        days_left = max(0, (petition.closes_at - now).days)
    if not form.form_token.data or form.errors:
        form.form_token.data = form_token.issue(petition.id)
    text = petition_text(petition)
    return {
        "petition": petition,
        "text": text,
        "status": petition.status_at(now),
        "body_html": render_markdown(text.body_markdown),
        "progress": progress,
        "country_rows": in_reading_order(progress.countries, current_locale()),
        "country_name": localised_country_name,
        "format_day": format_day,
        "format_share": format_share,
        "total_forms": plural_forms("%(count)s signature", "%(count)s signatures"),
        "days_left": days_left,
        "form": form,
    }


def in_reading_order(countries: list, locale: str) -> list:
    """Countries in the reader's alphabetical order, so anyone finds their own where they expect it."""
    rank = {code: i for i, (code, _name) in enumerate(sorted_by_name([c.code for c in countries], locale))}
    return sorted(countries, key=lambda c: rank[c.code])


def petition_text(petition: Petition):
    return text_for(db.session, petition, current_locale())


def localised_country_name(code: str) -> str:
    return country_name(code, current_locale())


@bp.get("/")
def index():
    now = utcnow()
    petitions = db.session.scalars(
        select(Petition).where(Petition.status == PetitionStatus.OPEN).order_by(Petition.created_at.desc())
    ).all()
    petitions = [(p, petition_text(p)) for p in petitions if p.is_accepting_signatures(now)]
    totals = dict(
        db.session.execute(
            select(SignatureCount.petition_id, func.sum(SignatureCount.count)).group_by(SignatureCount.petition_id)
        ).all()
    )
    return render_template("public/index.html", petitions=petitions, totals=totals)


@dataclass(frozen=True)
class CachedPage:
    """A page rendered once for many visitors, with `form_token.SLOT` where each one's token goes."""

    petition_id: int
    html: str


def _render_petition_page(slug: str, source: str) -> CachedPage:
    petition = get_public_petition(slug)
    form = new_sign_form(petition)
    form.source.data = source
    form.form_token.data = form_token.SLOT
    page_args = {"source": source} if source else {}  # what the cache key holds, for the language links
    html = render_template("public/petition.html", page_args=page_args, **petition_context(petition, form))
    return CachedPage(petition.id, html)


@unlimited
@bp.get("/p/<slug>")
def petition_page(slug: str):
    """Everyone sees the same page but for their form token, so the page is rendered at most once a
    second per process (see public_cache) and each visitor's token is put in on the way out."""
    source = request.args.get("source", "")
    if source and not SOURCE_CODE.match(source):
        source = ""  # it would be dropped when the form is sent anyway
    page = public_cache().get_or_make(
        ("page", slug, source, str(get_locale())), lambda: _render_petition_page(slug, source)
    )
    return form_token.fill_slot(page.html, page.petition_id)


@bp.post("/p/<slug>/sign")
def sign(slug: str):
    petition = get_public_petition(slug)
    now = utcnow()
    if not lifecycle.accepts_signatures(db.session, petition, now):
        return render_template(
            "public/not_open.html", petition=petition, text=petition_text(petition), status=petition.status_at(now)
        ), 403
    if not is_same_origin_post(request):
        return render_template(
            "public/form_expired.html", petition=petition, text=petition_text(petition), foreign=True
        ), 403
    form = new_sign_form(petition, request.form)
    token_check = form_token.check(form.form_token.data, petition.id)
    if token_check == form_token.TokenCheck.INVALID:
        # An expired page: show the form again with what was typed, and a fresh token.
        form.form_token.data = None
        context = petition_context(petition, form)
        return render_template("public/petition.html", form_expired=True, **context), 400
    if not form.validate():
        return render_template("public/petition.html", **petition_context(petition, form)), 422

    signing.sign(
        db.session,
        petition,
        signer_from_form(form),
        now=now,
        source=f"web/{form.source_code}" if form.source_code else "web",
        locale=current_locale(),
        ip=request.remote_addr,
        flag=looks_automated(form, token_check, petition.id, request.remote_addr),
    )
    slug = petition.slug  # read before the commit expires it: saves a query
    db.session.commit()
    return redirect(url_for("public.check_email", slug=slug, lang=lang_arg()), code=303)


def signer_from_form(form: SignForm) -> signing.SignerInput:
    address, local_part, ascii_domain = form.email_parts
    return signing.SignerInput(
        first_name=form.first_name.data,
        last_name=form.last_name.data,
        email=address,
        email_canonical=canonical_email(local_part, ascii_domain),
        country=form.country.data,
        keep_informed=bool(form.keep_informed.data),
    )


@bp.get("/p/<slug>/check-email")
def check_email(slug: str):
    petition = get_public_petition(slug)
    return render_template("public/check_email.html", petition=petition, text=petition_text(petition))


def signature_from_link(link: SignatureLink, token: str) -> Signature:
    """The signature a link names, or the one generic 400 page for every bad, expired or spent link."""
    signature_id = link.read(token)
    signature = None
    if signature_id is not None:
        signature = db.session.get(Signature, signature_id, options=[joinedload(Signature.petition)])
    if signature is None or signature.status == SignatureStatus.FLAGGED:
        abort(400, description=f"{link.purpose}_link")
    # Without a `?lang=`, the page speaks the language the person signed in, whatever this browser says.
    g.signer_locale = signature.locale
    refresh()
    return signature


@token_in_url
@bp.get("/confirm/<token>")
def confirm_page(token: str):
    """Shows a button and changes nothing: mail scanners that follow links must not confirm."""
    signature = signature_from_link(signature_links.CONFIRM, token)
    template = "public/thanks.html" if signature.status == SignatureStatus.CONFIRMED else "public/confirm.html"
    petition = signature.petition
    return render_template(template, petition=petition, text=petition_text(petition), token=token)


@token_in_url
@bp.post("/confirm/<token>")
@limiter.limit(lambda: current_app.config["CONFIRM_RATE_LIMIT"])
def confirm(token: str):
    signature_id = signature_links.CONFIRM.read(token)
    if signature_id is None:
        abort(400, description="confirm_link")
    # The common case in one statement: the update succeeds only on a pending signature.
    confirmed = confirming.confirm(db.session, signature_id, utcnow())
    db.session.commit()
    if confirmed is None:
        # Unknown, withdrawn or flagged: the generic bad-link page; otherwise it was confirmed before.
        signature_from_link(signature_links.CONFIRM, token)
        return redirect(url_for("public.confirm_page", token=token, lang=lang_arg()), code=303)
    live.announce(confirmed.petition_id)
    try:
        petition = db.session.get(Petition, confirmed.petition_id, options=[joinedload(Petition.country_targets)])
        counting.stamp_milestones(db.session, petition, utcnow())
    except SQLAlchemyError:
        # The signature is confirmed and counted; a missed stamp is made by the next confirmation
        # or by `recount`, so the signer still gets their thanks page.
        db.session.rollback()
        current_app.logger.warning("milestone check failed after a confirmation", exc_info=True)
    return redirect(url_for("public.confirm_page", token=token, lang=lang_arg()), code=303)
