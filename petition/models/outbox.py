"""The transactional outbox: a row per email to send, committed with the change that caused it.

A row names what to send and to whom by reference (a signature, an organiser); the worker renders it
when sending, so no address or confirmation link sits in this table.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from petition.models.base import Base
from petition.models.petition import str_enum
from petition.timeutil import UTCDateTime, utcnow


class MailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # permanently: left for organisers to see


class MailKind(StrEnum):
    CONFIRM = "confirm"
    ALREADY_SIGNED = "already_signed"
    DATA_REPORT = "data_report"
    # To organisers (the row names an organiser, and in `detail` the country or percentage).
    ORGANISER_ADDED = "organiser_added"
    COUNTRY_REACHED = "organiser_country_reached"
    GOAL_PROGRESS = "organiser_goal_progress"
    PETITION_CLOSED = "organiser_petition_closed"
    # A campaign update sent to the organiser who asked for a test (`detail`: "<update id>:<locale>").
    UPDATE_TEST = "update_test"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[MailStatus] = mapped_column(str_enum(MailStatus, "mail_status"), default=MailStatus.QUEUED)
    petition_id: Mapped[int | None] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id", ondelete="CASCADE"))
    # What the message is about when the kind alone does not say: a country code, a percentage.
    detail: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker's lease: another worker may take the row only once it has run out.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
