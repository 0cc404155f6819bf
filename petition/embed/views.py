"""The widget: `embed.js` inserts an iframe of `/embed/<slug>`, where people sign without leaving the
partner's page. Nothing here relies on cookies (browsers drop them in third-party iframes): the form
carries its own signed token, and posts are checked for our own origin (the iframe's, not the partner's)."""

import json

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _

from petition import intake
from petition.api.serialise import petition_detail
from petition.embed.options import THEMES, WidgetOptions, supported_languages
from petition.embed.snippet import PLACEHOLDER_PARTNER, embed_code
from petition.extensions import db
from petition.i18n import bcp47
from petition.intake import Door, Verdict
from petition.links import external_url
from petition.models import Partner, Petition
from petition.policy import english_only, for_blueprint, frameable
from petition.public import form_token
from petition.public.forms import SignForm
from petition.public.origin import is_same_origin_post
from petition.public.pages import (
    CachedPage,
    get_public_petition,
    new_sign_form,
    petition_context,
    petition_text,
    public_facts,
)
from petition.public_cache import public_cache
from petition.rules import eci
from petition.services import counting, partners
from petition.services.attribution import Channel
from petition.services.partners import normalise_origin
from petition.timeutil import utcnow

bp = Blueprint("embed", __name__)
# Served inside other sites, whose cookies browsers drop: a language chosen here is not remembered.
# The pages that render in a partner's iframe are `@frameable`: headers.py lets the partner's sites frame them.
for_blueprint(bp, language_cookie=False)


@bp.get("/embed.js")
def embed_js():
    response = send_from_directory(current_app.static_folder, "js/embed.js", max_age=300)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    return response


def _widget_partner(petition: Petition, options: WidgetOptions) -> Partner | None:
    """No partner: our own widget (a preview on our site, credited as `web`). A named partner must be
    active and collect for this petition, or the widget is not shown at all (404)."""
    if options.partner is None:
        return None
    partner = partners.active_partner_for(db.session, options.partner, petition)
    if partner is None:
        abort(404)
    return partner


def _parent_origin(partner: Partner | None, options: WidgetOptions) -> str | None:
    """Where the widget may post its height: the embedding page's origin, if that page is allowed to
    frame it at all. Anything else gets no message."""
    if options.origin is None:
        return None
    try:
        origin = normalise_origin(options.origin)
        allowed = {normalise_origin(request.host_url)}
    except ValueError:
        return None
    if partner is not None:
        allowed |= {o.origin for o in partner.origins}
    return origin if origin in allowed else None


def _new_form(petition: Petition, options: WidgetOptions, formdata=None) -> SignForm:
    return new_sign_form(petition, formdata, locale=options.lang)


def _html(template: str, petition: Petition, options: WidgetOptions, partner: Partner | None, **extra) -> str:
    with force_locale(options.lang):
        return render_template(
            template,
            petition=petition,
            options=options,
            partner=partner,
            parent_origin=_parent_origin(partner, options),
            petition_url=external_url("public.petition_page", slug=petition.slug),
            **extra,
        )


def _uncached(html: str, status: int = 200):
    response = current_app.make_response((html, status))
    # Each page carries a fresh form token and depends on who may frame it: never from a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _render(template: str, petition: Petition, options: WidgetOptions, partner: Partner | None, status=200, **extra):
    return _uncached(_html(template, petition, options, partner, **extra), status)


def _widget_html(petition: Petition, options: WidgetOptions, partner: Partner | None, form: SignForm, **extra) -> str:
    # The public page's figures and text, in the widget's language.
    with force_locale(options.lang):
        context = petition_context(petition, form)
    del context["petition"], context["status"]
    return _html(
        "embed/widget.html",
        petition,
        options,
        partner,
        accepting=petition.is_accepting_signatures(utcnow()),
        compact=True,
        **context,
        **extra,
    )


def _render_widget(
    petition: Petition, options: WidgetOptions, partner: Partner | None, form: SignForm, status=200, **extra
):
    return _uncached(_widget_html(petition, options, partner, form, **extra), status)


def _fresh_widget(slug: str, options: WidgetOptions) -> CachedPage:
    petition = get_public_petition(slug)
    form = _new_form(petition, options)
    form.source.data = options.source or ""
    form.form_token.data = form_token.SLOT
    return CachedPage(petition.id, _widget_html(petition, options, _widget_partner(petition, options), form))


@frameable
@bp.get("/embed/<slug>")
def widget(slug: str):
    """Like our own page, the widget is rendered at most once a second per process for each set of
    options (a widget on a busy news site is the same page for everyone), with each reader's token
    put in on the way out. Framing is decided per request, in petition.headers."""
    options = WidgetOptions.from_args(request.args)
    page = public_cache().get_or_make(("widget", slug, options), lambda: _fresh_widget(slug, options))
    return _uncached(form_token.fill_slot(page.html, page.petition_id))


@frameable
@bp.post("/embed/<slug>/sign")
def sign(slug: str):
    facts = public_facts(slug)
    options = WidgetOptions.from_args(request.args)
    partner = _widget_partner(facts, options)
    door = Door(Channel.WIDGET, partner.public_id) if partner is not None else Door(Channel.WEB)
    with force_locale(options.lang):
        result = intake.submit(
            db.session,
            facts,
            door,
            request.form,
            now=utcnow(),
            locale=options.lang,
            ip=request.remote_addr,
            same_origin=is_same_origin_post(request),
        )
    if result.verdict == Verdict.TAKEN:
        return redirect(url_for("embed.check_email", slug=slug, **options.query()), code=303)
    petition = get_public_petition(slug)
    if result.verdict in (Verdict.CLOSED, Verdict.FOREIGN):
        reason = "closed" if result.verdict == Verdict.CLOSED else "foreign"
        return _render("embed/not_recorded.html", petition, options, partner, 403, reason=reason)
    if result.verdict == Verdict.FORM_EXPIRED:
        return _render_widget(petition, options, partner, result.form, 400, form_expired=True)
    if result.verdict == Verdict.ONE_MORE_STEP:
        fields = intake.fields_to_resend(result.reading, petition.id)
        return _render("embed/one_more_step.html", petition, options, partner, fields=fields)
    return _render_widget(petition, options, partner, result.form, 422)


@frameable
@bp.get("/embed/<slug>/check-email")
def check_email(slug: str):
    petition = get_public_petition(slug)
    options = WidgetOptions.from_args(request.args)
    partner = _widget_partner(petition, options)
    return _render("embed/check_email.html", petition, options, partner)


@bp.get("/embed/<slug>/link")
def fallback_link(slug: str):
    """What embed.js shows instead of a frame the browser refused (a site the partner did not register,
    a mistyped or revoked partner id): a link to the petition's own page, in the widget's language.
    Public facts only, readable from any site. A partner's misconfigured page sends every reader here, so
    the answer comes from the per-process cache, like the widget itself."""
    options = WidgetOptions.from_args(request.args)

    def make() -> dict:
        petition = get_public_petition(slug)
        with force_locale(options.lang):
            label = _("Sign “%(title)s” on the petition's own page", title=petition_text(petition).title)
        tag = bcp47(options.lang)
        href = external_url("public.petition_page", slug=petition.slug, lang=tag, source=options.source)
        return {"href": href, "text": label, "lang": tag}

    response = jsonify(public_cache().get_or_make(("fallback", slug, options.lang, options.source), make))
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@english_only
@bp.get("/p/<slug>/share")
def share(slug: str):
    """For partners: the embed code to copy, a live preview, and how to use the API."""
    petition = get_public_petition(slug)
    partner = partners.active_partner_for(db.session, request.args.get("partner"), petition)
    base_url = current_app.config["BASE_URL"]
    counts = counting.read_counts(db.session, petition.id)
    return render_template(
        "public/share.html",
        petition=petition,
        partner=partner,
        base_url=base_url,
        embed_code=embed_code(petition.slug, partner.public_id if partner else None),
        placeholder_partner=PLACEHOLDER_PARTNER,
        minimum_ages=eci.minimum_ages_in_words(),
        themes=THEMES,
        languages=supported_languages(),
        example_json=_example_detail(petition, counts),
    )


def _example_detail(petition: Petition, counts: counting.Counts) -> str:
    """The petition's real JSON as the API returns it now, with the country list shortened."""
    detail = petition_detail(petition, counts, utcnow())
    detail["countries"] = detail["countries"][:2]
    return json.dumps(detail, indent=2, ensure_ascii=False)
