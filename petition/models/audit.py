"""The record of every export of personal data: who took which signatures, when, and how many."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from petition.models.base import Base
from petition.timeutil import UTCDateTime, utcnow


class ExportRecord(Base):
    """Written before the first row leaves, completed with the row count after the last one; an export
    cut short keeps `finished_at` empty and the rows that did go out."""

    __tablename__ = "export_records"
    __table_args__ = (Index("ix_export_records_petition_started", "petition_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id", ondelete="SET NULL"))
    # Kept in clear with the record, so the log still says who it was after the account is deleted.
    organiser_email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(16))  # "signatures" or "summary"
    country: Mapped[str | None] = mapped_column(String(2))
    rows: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
