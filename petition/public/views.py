"""Public pages: the list of petitions, a petition with its signing form, and confirmation."""

from enum import StrEnum
from types import SimpleNamespace

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from markupsafe import escape
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import TooManyRequests

from petition import intake, live, rate_limits
from petition.db_engine import done_writing
from petition.extensions import db
from petition.i18n import current_locale, lang_arg
from petition.intake import Door, Verdict
from petition.models import Petition, PetitionStatus, SignatureCount, SignatureStatus
from petition.policy import token_in_url
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
    speak_signers_language,
)
from petition.public.sharing import share_links
from petition.public_cache import public_cache
from petition.rules.countries import country_name
from petition.services import confirming, counting, personal, signature_links
from petition.services.attribution import Channel
from petition.services.petition_facts import facts_cache
from petition.services.sql import read_first
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
    page_args = {"source": source} if source else {}  # what the cache key holds, for the language links
    html = render_template("public/petition.html", page_args=page_args, **petition_context(petition, form))
    return CachedPage(petition.id, html)


# Stands for the campaign code (`?source=`) in a page rendered for every code. It matches SOURCE_CODE,
# so it goes through the form field and the language links' URLs unchanged, as any code then does.
_SOURCE_SLOT = "source-slot-3f9d2b"


@bp.get("/p/<slug>")
def petition_page(slug: str):
    """Everyone sees the same page but for their form token and campaign code, so the page is rendered
    at most once a second per process (see public_cache) and language, once without a code and once
    for all codes, and each visitor's token and code are put in on the way out. (Keyed by the code
    itself, a partner's many newsletters, or made-up codes, would each cost a rendering.)"""
    source = request.args.get("source", "")
    if source and not SOURCE_CODE.match(source):
        source = ""  # it would be dropped when the form is sent anyway
    rendered_for = _SOURCE_SLOT if source else ""
    page = public_cache().get_or_make(
        ("page", slug, rendered_for, str(get_locale())), lambda: _render_petition_page(slug, rendered_for)
    )
    html = page.html.replace(_SOURCE_SLOT, source) if source else page.html
    return form_token.fill_slot(html, page.petition_id)


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

    return public_cache().get_or_make(("check_email", slug, current_locale(), _query_key()), render).html


def _query_key() -> tuple:
    """What of the query string a cached page depends on (its language links repeat it)."""
    return tuple(sorted(request.args.items(multi=True)))


# What the confirmation page needs about a signature, in one indexed read.
_SIGNATURE_STATE = text(
    "SELECT status, petition_id, locale, details_digest, first_name_sealed, country FROM signatures WHERE id = :id"
)
_SUBMISSION = text(
    "SELECT first_name_sealed, country FROM signature_submissions WHERE signature_id = :id AND details_digest = :d"
)
_TOKEN_SLOT = "token-slot-5e0b7a"  # noqa: S105 (a placeholder, not a secret)
_NAME_SLOT, _COUNTRY_SLOT = "name-slot-5e0b7a", "country-slot-5e0b7a"


class LinkState(StrEnum):
    PENDING = "pending"  # the button confirms
    CONFIRMED = "confirmed"  # the thanks page
    CLOSED = "closed"  # the petition closed before the signer confirmed: not counted, and said so
    BAD = "bad"  # forged, expired, withdrawn, flagged, or superseded by details submitted since


def _link_state(token: str):
    """Where a confirmation link stands, and the signature's row (None when BAD)."""
    link = signature_links.CONFIRM.read_link(token)
    found = read_first(db.session, _SIGNATURE_STATE, {"id": link.signature_id}) if link else None
    row = SimpleNamespace(**found._asdict()) if found is not None else None
    if row is None or row.status == SignatureStatus.FLAGGED:
        return LinkState.BAD, None
    if row.status == SignatureStatus.CONFIRMED:
        return LinkState.CONFIRMED, row
    if row.details_digest != link.digest:
        # A link for other details submitted later (see signing._sign_again): the page shows those.
        submitted = read_first(db.session, _SUBMISSION, {"id": link.signature_id, "d": link.digest})
        if submitted is None:
            return LinkState.BAD, None
        row.first_name_sealed, row.country = submitted.first_name_sealed, submitted.country
    facts = facts_cache().by_id(db.session, row.petition_id)
    if facts is None or not facts.is_accepting_signatures(utcnow()):
        return LinkState.CLOSED, row
    return LinkState.PENDING, row


@token_in_url
@bp.get("/confirm/<token>")
def confirm_page(token: str):
    """Shows what is being confirmed (first name, country) and a button, and changes nothing: mail
    scanners that follow links must not confirm. Once confirmed, the thanks page."""
    state, row = _link_state(token)
    if state == LinkState.BAD:
        abort(400, description="confirm_link")
    speak_signers_language(row.locale)
    return _link_page(token, state, row.petition_id, row)


def _link_page(token: str, state: LinkState, petition_id: int, row=None):
    """The page a confirmation link shows in `state`; `row` (the signature's name and country) is
    needed only while it is pending.

    The page is the same for every signer of a petition reading it in one language but for the
    token, the name and the country, so it comes from the one-second cache with those put in."""
    locale = current_locale()
    key = ("confirm", petition_id, state, locale, _query_key())

    def render() -> CachedPage:
        petition = db.session.get(Petition, petition_id)
        text = petition_text(petition)
        context = {"petition": petition, "text": text, "token": token}
        if state == LinkState.CLOSED:
            html = render_template("public/not_open.html", status=PetitionStatus.CLOSED, **context)
        elif state == LinkState.CONFIRMED:
            html = render_template("public/thanks.html", sharing=share_links(petition, text.title), **context)
        else:
            html = render_template("public/confirm.html", first_name=_NAME_SLOT, country=_COUNTRY_SLOT, **context)
        # The token is in the form's action and in every language link (which repeat this URL): each
        # visitor's own goes back in on the way out, and no visitor's is kept in the cache.
        return CachedPage(petition.id, html.replace(token, _TOKEN_SLOT))

    html = public_cache().get_or_make(key, render).html.replace(_TOKEN_SLOT, token)
    if state == LinkState.PENDING:
        first_name = personal.unseal(row.first_name_sealed)
        country = country_name(row.country, locale)
        html = html.replace(_NAME_SLOT, str(escape(first_name))).replace(_COUNTRY_SLOT, str(escape(country)))
    return html, 403 if state == LinkState.CLOSED else 200


@token_in_url
@bp.post("/confirm/<token>")
def confirm(token: str):
    limited = rate_limits.hit("confirm", current_app.config["CONFIRM_RATE_LIMIT"], ip=request.remote_addr)
    if limited.over:
        raise TooManyRequests(retry_after=limited.retry_after)
    link = signature_links.CONFIRM.read_link(token)
    if link is None:
        abort(400, description="confirm_link")
    # The common case in one statement: the update succeeds only on a pending signature with the
    # link's details, while the petition is open.
    confirmed = confirming.confirm_link(db.session, link, utcnow())
    db.session.commit()
    if confirmed is None:
        state, _row = _link_state(token)
        if state == LinkState.BAD:
            abort(400, description="confirm_link")
        # Confirmed before (harmless), or the petition has closed: the page says which.
        return redirect(url_for("public.confirm_page", token=token, lang=lang_arg()), code=303)
    live.announce(confirmed.petition_id)
    _stamp_milestones_if_crossed(confirmed)
    # The thanks page itself, not a redirect to it: a browser would only load the same page from the
    # same URL, at the cost of a second request and a read of the signature for every signer. Sending
    # the form again (a reload) is harmless: it finds the signature confirmed and redirects.
    # Rendering it (once a second, on a cache miss) reads, and on SQLite must not hold the write lock
    # a read begun above (the milestone check's) would still hold.
    db.session.commit()
    done_writing()
    speak_signers_language(confirmed.locale)
    return _link_page(token, LinkState.CONFIRMED, confirmed.petition_id)


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
