"""A petition's text in several languages: adding a translation, and picking the one a reader sees."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from petition.i18n import match_locale
from petition.models import Petition, PetitionTranslation
from petition.services.petitions import PetitionInvalid


@dataclass(frozen=True)
class PetitionText:
    title: str
    summary: str
    body_markdown: str
    locale: str  # the language of the title
    # A translation may leave out the summary or the full text: those parts then show in the petition's
    # own language, and say so.
    summary_locale: str = ""
    body_locale: str = ""


def default_text(petition: Petition) -> PetitionText:
    own = petition.locale or "en"
    return PetitionText(petition.title, petition.summary or "", petition.body_markdown or "", own, own, own)


def text_for(session: Session, petition: Petition, locale: str) -> PetitionText:
    """The petition in `locale` when organisers gave a translation, else its default text."""
    if locale == petition.locale:
        return default_text(petition)
    row = session.get(PetitionTranslation, (petition.id, locale))
    if row is None:
        return default_text(petition)
    own = default_text(petition)
    summary, summary_locale = (row.summary, locale) if row.summary else (own.summary, own.locale)
    body, body_locale = (row.body_markdown, locale) if row.body_markdown else (own.body_markdown, own.locale)
    return PetitionText(row.title, summary, body, locale, summary_locale, body_locale)


def translated_locales(session: Session, petition: Petition) -> list[str]:
    return list(
        session.scalars(
            select(PetitionTranslation.locale)
            .where(PetitionTranslation.petition_id == petition.id)
            .order_by(PetitionTranslation.locale)
        )
    )


def set_translation(
    session: Session, petition: Petition, *, locale: str, title: str, summary: str = "", body: str = ""
) -> PetitionTranslation:
    """Add or replace the petition's text in one language (the caller commits). Raises PetitionInvalid."""
    errors: dict[str, str] = {}
    code = match_locale(locale)
    title = " ".join(title.split())
    if code is None:
        errors["lang"] = f"'{locale}' is not one of the supported languages."
    elif code == petition.locale:
        errors["lang"] = f"'{code}' is the language of the petition's own text."
    if not 1 <= len(title) <= 200:
        errors["title"] = "The title must be 1 to 200 characters."
    if len(summary) > 1000:
        errors["summary"] = "The summary must be at most 1,000 characters."
    if errors:
        raise PetitionInvalid(errors)
    row = session.get(PetitionTranslation, (petition.id, code))
    if row is None:
        row = PetitionTranslation(petition_id=petition.id, locale=code)
        session.add(row)
    row.title, row.summary, row.body_markdown = title, summary, body
    return row
