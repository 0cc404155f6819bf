"""Public pages: the list of petitions, a petition with its signing form, and confirmation."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import TooManyRequests

from petition import intake, live, rate_limits
from petition.extensions import db
from petition.i18n import current_locale, lang_arg
from petition.intake import Door, Verdict
from petition.models import Petition, PetitionStatus, SignatureCount, SignatureStatus
from petition.public import form_token
from petition.public.forms import SOURCE_CODE
from petition.public.origin import is_same_origin_post
from petition.public.pages import (
    CachedPage,
    get_public_petition,
    new_sign_form,
    petition_context,
    petition_text,
    public_facts,
    signature_from_link,
    speak_signers_language,
)
from petition.public.sharing import share_links
from petition.public_cache import public_cache
from petition.services import confirming, counting, signature_links
from petition.services.attribution import Channel
from petition.services.petition_facts import facts_cache
from petition.timeutil import utcnow

bp = Blueprint("public", __name__)
WEB = Door(Channel.WEB)


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


def _render_petition_page(slug: str, source: str) -> CachedPage:
    petition = get_public_petition(slug)
    form = new_sign_form(petition)
    form.source.data = source
    form.form_token.data = form_token.SLOT
    return CachedPage(petition.id, render_template("public/petition.html", **petition_context(petition, form)))


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
    facts = public_facts(slug)
    result = intake.submit(
        db.session,
        facts,
        WEB,
        request.form,
        now=utcnow(),
        locale=current_locale(),
        ip=request.remote_addr,
        same_origin=is_same_origin_post(request),
    )
    if result.verdict == Verdict.TAKEN:
        return redirect(url_for("public.check_email", slug=slug, lang=lang_arg()), code=303)
    petition = get_public_petition(slug)
    if result.verdict == Verdict.CLOSED:
        text = petition_text(petition)
        return render_template(
            "public/not_open.html", petition=petition, text=text, status=petition.status_at(utcnow())
        ), 403
    if result.verdict == Verdict.FOREIGN:
        return render_template(
            "public/form_expired.html", petition=petition, text=petition_text(petition), foreign=True
        ), 403
    if result.verdict == Verdict.FORM_EXPIRED:
        # An expired page: show the form again with what was typed, and a fresh token.
        return render_template(
            "public/petition.html", form_expired=True, **petition_context(petition, result.form)
        ), 400
    if result.verdict == Verdict.ONE_MORE_STEP:
        html = render_template(
            "public/one_more_step.html",
            petition=petition,
            text=petition_text(petition),
            action=url_for("public.sign", slug=slug, lang=lang_arg()),
            fields=intake.fields_to_resend(result.reading, petition.id),
        )
        return no_store(html)
    return render_template("public/petition.html", **petition_context(petition, result.form)), 422


def no_store(html: str, status: int = 200):
    """A page that holds what this person typed: for their browser only, never kept by a cache."""
    response = current_app.make_response((html, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/p/<slug>/check-email")
def check_email(slug: str):
    def render() -> CachedPage:
        petition = get_public_petition(slug)
        html = render_template("public/check_email.html", petition=petition, text=petition_text(petition))
        return CachedPage(petition.id, html)

    return public_cache().get_or_make(("check_email", slug, _query_key()), render).html


def _query_key() -> tuple:
    """What of the query string a cached page depends on (its language links repeat it)."""
    return tuple(sorted(request.args.items(multi=True)))


# The confirmation page needs only these three facts about a signature.
_SIGNATURE_STATE = text("SELECT status, petition_id, locale FROM signatures WHERE id = :signature_id")
_TOKEN_SLOT = "token-slot-5e0b7a"  # noqa: S105 (a placeholder, not a secret)


@bp.get("/confirm/<token>")
def confirm_page(token: str):
    """Shows a button and changes nothing: mail scanners that follow links must not confirm.

    The page is the same for every signer of a petition reading it in one language but for the
    token, so it comes from the one-second cache with the token put in."""
    signature_id = signature_links.CONFIRM.read(token)
    row = None
    if signature_id is not None:
        row = db.session.connection().execute(_SIGNATURE_STATE, {"signature_id": signature_id}).first()
    if row is None or row.status == SignatureStatus.FLAGGED:
        abort(400, description="confirm_link")
    speak_signers_language(row.locale)
    confirmed = row.status == SignatureStatus.CONFIRMED
    key = ("confirm", row.petition_id, confirmed, current_locale(), _query_key())

    def render() -> CachedPage:
        petition = db.session.get(Petition, row.petition_id)
        text = petition_text(petition)
        if confirmed:
            html = render_template(
                "public/thanks.html", petition=petition, text=text, sharing=share_links(petition, text.title)
            )
        else:
            html = render_template("public/confirm.html", petition=petition, text=text, token=token)
        return CachedPage(petition.id, html.replace(token, _TOKEN_SLOT))

    return public_cache().get_or_make(key, render).html.replace(_TOKEN_SLOT, token)


@bp.post("/confirm/<token>")
def confirm(token: str):
    limited = rate_limits.hit("confirm", current_app.config["CONFIRM_RATE_LIMIT"], ip=request.remote_addr)
    if limited.over:
        raise TooManyRequests(retry_after=limited.retry_after)
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
    _stamp_milestones_if_crossed(confirmed)
    return redirect(url_for("public.confirm_page", token=token, lang=lang_arg()), code=303)


def _stamp_milestones_if_crossed(confirmed: confirming.Confirmed) -> None:
    """After the confirmation committed. The signature is confirmed and counted whatever happens
    here: a missed stamp is made by the next confirmation or by `recount`, so the signer still gets
    their thanks page."""
    try:
        facts = facts_cache().by_id(db.session, confirmed.petition_id)
        if facts is None or not confirming.may_cross_milestone(facts, confirmed):
            return
        petition = db.session.get(Petition, confirmed.petition_id, options=[joinedload(Petition.country_targets)])
        if counting.stamp_milestones(db.session, petition, utcnow()):
            db.session.commit()
            facts_cache().forget(confirmed.petition_id)
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.warning("milestone check failed after a confirmation", exc_info=True)
