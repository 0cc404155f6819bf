"""Campaign updates: an email organisers write once and the mail workers send to a petition's signers.

The recipient list is never stored: a sending update holds a cursor, and the workers walk the
petition's confirmed signatures in confirmation order from it, a small slice at a time. Only the
messages in hand (claimed, being sent, or waiting to be tried again) have a row of their own, and it
names a signature by reference; it is deleted once the outcome is counted in `update_progress`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.models.base import Base
from petition.models.petition import str_enum
from petition.timeutil import UTCDateTime, utcnow


class Audience(StrEnum):
    OPTED_IN = "opted_in"  # confirmed signers who ticked "Keep me informed"
    ALL = "all"  # every confirmed signer: news about the petition they signed (closed, handed in, answered)


class UpdateStatus(StrEnum):
    DRAFT = "draft"  # being written: previews and tests only
    SENDING = "sending"  # the workers walk the signers
    PAUSED = "paused"  # the workers leave it alone until it is resumed
    SENT = "sent"  # every recipient was handled


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # claimed by a worker (with a lease), or waiting to be tried again
    SENDING = "sending"  # handed to the mail server, or about to be: never sent again


class CampaignUpdate(Base):
    __tablename__ = "campaign_updates"
    __table_args__ = (Index("ix_campaign_updates_petition_created", "petition_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    # Who wrote it; kept in clear like the other audit logs, so the log outlives the account.
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id", ondelete="SET NULL"))
    organiser_email: Mapped[str] = mapped_column(String(254))
    # The language of `subject` and `body_markdown`: what signers without a translation read.
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "update_audience"))
    status: Mapped[UpdateStatus] = mapped_column(str_enum(UpdateStatus, "update_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when sending starts: the audience is the signers confirmed by then.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many signers it was for when sending started (shown before sending, printed by the CLI).
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # The workers' cursor: the last signature handed out, in (confirmed_at, id) order.
    walked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    walked_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    walk_done: Mapped[bool] = mapped_column(Boolean, default=False)

    translations: Mapped[list[UpdateTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="UpdateTranslation.locale", back_populates="update"
    )


class UpdateTranslation(Base):
    """The update in another language, for the signers who signed in it."""

    __tablename__ = "campaign_update_translations"

    update_id: Mapped[int] = mapped_column(ForeignKey("campaign_updates.id", ondelete="CASCADE"), primary_key=True)
    locale: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)

    update: Mapped[CampaignUpdate] = relationship(back_populates="translations")


class UpdateDelivery(Base):
    """One message of an update while it is in a worker's hands or waits to be tried again. A row
    in `sending` is never sent again: a worker that dies after marking it leaves it to be counted
    `in_doubt` once its lease runs out (at most once, never twice)."""

    __tablename__ = "update_deliveries"
    __table_args__ = (
        # Withdrawing a signature deletes its row here (ON DELETE CASCADE): find it by signature.
        Index("ix_update_deliveries_signature", "signature_id"),
    )

    update_id: Mapped[int] = mapped_column(ForeignKey("campaign_updates.id", ondelete="CASCADE"), primary_key=True)
    signature_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("signatures.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, "delivery_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class UpdateProgress(Base):
    """What became of an update's messages, counted in the transaction that records each outcome.
    Each worker adds to its own shard row, so workers never wait for one another on a counter."""

    __tablename__ = "update_progress"

    update_id: Mapped[int] = mapped_column(ForeignKey("campaign_updates.id", ondelete="CASCADE"), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # Being handed to the mail server when a worker died: maybe delivered, never sent again.
    in_doubt: Mapped[int] = mapped_column(Integer, default=0)
    # Withdrew, unsubscribed or had their data deleted after sending started, before their turn.
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    # Unsubscribed through this update's link.
    unsubscribed: Mapped[int] = mapped_column(Integer, default=0)


class UpdateEvent(Base):
    """The audit log of updates: tests, sending, pausing, resuming, finishing; who and when."""

    __tablename__ = "update_events"
    __table_args__ = (Index("ix_update_events_update_created", "update_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("campaign_updates.id", ondelete="CASCADE"))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id", ondelete="SET NULL"))
    organiser_email: Mapped[str] = mapped_column(String(254))  # "" for the workers, "command line" for the CLI
    action: Mapped[str] = mapped_column(String(16))  # tested, sending, paused, resumed, finished
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
