"""A signature: who signed (sealed), for which country, and where it stands on the way to being counted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.models.base import Base
from petition.models.petition import Petition, str_enum
from petition.timeutil import UTCDateTime, utcnow


class SignatureStatus(StrEnum):
    PENDING = "pending"  # waiting for the signer to confirm by email
    CONFIRMED = "confirmed"  # counted
    FLAGGED = "flagged"  # looked automated or abusive: kept for review, never counted, never mailed


class Signature(Base):
    __tablename__ = "signatures"
    __table_args__ = (
        # One signature per person and petition, whatever the race between requests.
        UniqueConstraint("petition_id", "email_hash"),
        # Exports and charts walk confirmed signatures of one petition in time order.
        Index("ix_signatures_petition_status_confirmed", "petition_id", "status", "confirmed_at"),
        # Counts per source and per partner (dashboard, partner stats) read this index alone.
        Index("ix_signatures_petition_source_status", "petition_id", "source", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    status: Mapped[SignatureStatus] = mapped_column(str_enum(SignatureStatus, "signature_status"))
    # HMAC of the canonical email, keyed per petition: deduplicates without revealing the address.
    email_hash: Mapped[str] = mapped_column(String(64))
    # Sealed personal fields: read and written only through petition.services.personal.
    email_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    first_name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    last_name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    country: Mapped[str] = mapped_column(String(2))
    keep_informed: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100), default="web")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    ip_hash: Mapped[str | None] = mapped_column(String(32))
    emails_sent: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    petition: Mapped[Petition] = relationship()
