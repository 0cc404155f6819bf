"""Signatures collected on paper: counted per country by hand, or uploaded statement by statement."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from petition.models.base import Base
from petition.models.petition import str_enum
from petition.timeutil import UTCDateTime, utcnow


class PaperKind(StrEnum):
    # A number of paper statements for one country, typed in with a note; a negative tally corrects one.
    TALLY = "tally"
    # Statements uploaded as CSV rows: each accepted row is also a confirmed Signature with source `paper`.
    STATEMENTS = "statements"


class PaperEntry(Base):
    __tablename__ = "paper_entries"
    __table_args__ = (
        CheckConstraint("count <> 0", name="count_not_zero"),
        CheckConstraint("kind = 'tally' OR count > 0", name="statements_positive"),
        Index("ix_paper_entries_petition_country", "petition_id", "country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(2))
    count: Mapped[int] = mapped_column(Integer)
    kind: Mapped[PaperKind] = mapped_column(str_enum(PaperKind, "paper_kind"))
    note: Mapped[str] = mapped_column(String(500), default="")
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
