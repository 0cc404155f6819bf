"""A petition's text in another language, shown to readers of that language instead of the default text."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.models.base import Base
from petition.models.petition import Petition


class PetitionTranslation(Base):
    __tablename__ = "petition_translations"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    # One of petition.i18n.SUPPORTED_LOCALES (Babel identifiers such as `de` or `sr_Cyrl`).
    locale: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(1000), default="")
    body_markdown: Mapped[str] = mapped_column(Text, default="")

    petition: Mapped[Petition] = relationship(back_populates="translations")
