"""What the public pages and the widget share: finding a petition people may see, and the figures and
text its pages show."""

from dataclasses import dataclass
from functools import lru_cache

from flask import abort, g
from flask_babel import refresh
from sqlalchemy.orm import joinedload

from petition.extensions import db
from petition.formatting import (
    format_day,
    format_share,
    language_name,
    number_locale,
    plural_forms,
    reader_number_style,
)
from petition.i18n import current_locale
from petition.links import external_url
from petition.models import Petition, PetitionStatus, RuleSet, Signature, SignatureStatus
from petition.public import form_token, sharing
from petition.public.forms import SignForm
from petition.public.progress import country_lines, tile_map
from petition.services import counting
from petition.services.markdown import render_markdown
from petition.services.petition_facts import PetitionFacts, facts_cache
from petition.services.petitions import allowed_countries, get_by_slug
from petition.services.signature_links import SignatureLink
from petition.services.translations import text_for
from petition.timeutil import utcnow


def get_public_petition(slug: str) -> Petition:
    """404 for unknown petitions and drafts alike: a draft is nobody's business yet."""
    petition = get_by_slug(db.session, slug)
    if petition is None or petition.status_at(utcnow()) == PetitionStatus.DRAFT:
        abort(404)
    return petition


def public_facts(slug: str) -> PetitionFacts:
    """`get_public_petition` for the signing path: the cached snapshot, with the same 404s."""
    facts = facts_cache().by_slug(db.session, slug)
    if facts is None or facts.status_at(utcnow()) == PetitionStatus.DRAFT:
        abort(404)
    return facts


def new_sign_form(petition: Petition, formdata=None, locale: str | None = None) -> SignForm:
    return SignForm(
        formdata=formdata,
        allowed_countries=allowed_countries(petition),
        locale=locale or current_locale(),
        eci=petition.rules == RuleSet.ECI,
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
    locale = current_locale()
    style = reader_number_style()
    lines = country_lines(progress.countries, locale, style)
    return {
        "petition": petition,
        "text": text,
        "status": petition.status_at(now),
        "body_html": body_html(text.body_markdown),
        "progress": progress,
        "country_lines": lines,
        "tile_map": tile_map,
        "format_day": format_day,
        "format_share": format_share,
        "language_name": language_name,
        "number_locale": number_locale(),
        "number_style": style,
        "total_forms": plural_forms("%(count)s signature", "%(count)s signatures"),
        "days_left": days_left,
        "form": form,
        "preview": link_preview(petition, text),
    }


def link_preview(petition: Petition, text) -> dict:
    """What OpenGraph previews and search results show: the title, the summary, our own image."""
    return {
        "url": sharing.petition_url(petition),
        "description": sharing.description(text.summary),
        "image": external_url("static", filename=sharing.CARD_IMAGE),
        "image_size": sharing.CARD_SIZE,
    }


@lru_cache(maxsize=64)
def body_html(markdown: str):
    """A petition's text as HTML, kept by the text itself, so an organiser's edit is a new entry. Each
    rendering of a page needs it (once a second per process, language and page), and Markdown with
    its sanitiser took a seventh of that rendering for a text of 2,000 characters, more for longer
    ones. 64: every language of a few petitions at once; at most 64 texts of at most 100,000
    characters (BODY_MAX_CHARACTERS) with their HTML, a few hundred KB for usual texts."""
    return render_markdown(markdown)


def petition_text(petition: Petition):
    return text_for(db.session, petition, current_locale())


@dataclass(frozen=True)
class CachedPage:
    """A page rendered once for many visitors, with a slot where each one's own value goes."""

    petition_id: int
    html: str


def signature_from_link(link: SignatureLink, token: str) -> Signature:
    """The signature a link names, or the one generic 400 page for every bad, expired or spent link."""
    signature_id = link.read(token)
    signature = None
    if signature_id is not None:
        signature = db.session.get(Signature, signature_id, options=[joinedload(Signature.petition)])
    if signature is None or signature.status == SignatureStatus.FLAGGED:
        abort(400, description=f"{link.purpose}_link")
    speak_signers_language(signature.locale)
    return signature


def speak_signers_language(locale: str) -> None:
    """Without a `?lang=`, a page about one signature speaks the language the person signed in,
    whatever this browser says."""
    g.signer_locale = locale
    refresh()
