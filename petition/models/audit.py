"""Audit logs kept for organisers: every export of personal data, and every moderation action (who
did what to which signatures, when, and to how many)."""

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


class ModerationRecord(Base):
    """One moderation action on a petition: blocking or unblocking a sender, releasing flagged
    signatures, invalidating signatures. Written in the transaction that acts, so the log and the
    change stand or fall together."""

    __tablename__ = "moderation_records"
    __table_args__ = (Index("ix_moderation_records_petition_created", "petition_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id", ondelete="SET NULL"))
    # In clear, as for exports: the log says who it was after the account is gone.
    organiser_email: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(16))  # block, unblock, release, invalidate
    # The filter as the organiser gave it (domain, source, window, status); never a blocked address.
    criteria: Mapped[str] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(Integer)
    # For invalidations: how many counted signatures were taken off the total.
    uncounted: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
