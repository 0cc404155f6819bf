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
    locale: str  # the language the text is written in


def default_text(petition: Petition) -> PetitionText:
    return PetitionText(petition.title, petition.summary or "", petition.body_markdown or "", petition.locale or "en")


def text_for(session: Session, petition: Petition, locale: str) -> PetitionText:
    """The petition in `locale` when organisers gave a translation, else its default text."""
    if locale == petition.locale:
        return default_text(petition)
    row = session.get(PetitionTranslation, (petition.id, locale))
    if row is None:
        return default_text(petition)
    return PetitionText(row.title, row.summary or "", row.body_markdown or "", locale)


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
