"""A signature: who signed (sealed), for which country, and where it stands on the way to being counted."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.models.base import Base
from petition.models.petition import Petition, str_enum
from petition.timeutil import UTCDateTime, utcnow


class SignatureStatus(StrEnum):
    PENDING = "pending"  # waiting for the signer to confirm by email
    CONFIRMED = "confirmed"  # counted
    FLAGGED = "flagged"  # looked automated or abusive: kept for review, never counted, never mailed


class FlagReason(StrEnum):
    """Why a signature was flagged, so organisers can review (and release) one kind at a time."""

    RATE = "rate"  # the client address signed more often than SIGN_RATE_LIMIT allows
    HONEYPOT = "honeypot"  # the hidden field people never see was filled in
    TOO_FAST = "too_fast"  # the form came back sooner than MIN_FILL_SECONDS after it was served
    BLOCKED = "blocked"  # the address or its domain is on the petition's blocklist

    @property
    def description(self) -> str:
        """What organisers read (in English, like the rest of their pages)."""
        return _FLAG_REASON_DESCRIPTIONS[self]


_FLAG_REASON_DESCRIPTIONS = {
    FlagReason.RATE: "more signatures from one address than the rate limit allows",
    FlagReason.HONEYPOT: "filled in the hidden field that only scripts see",
    FlagReason.TOO_FAST: "sent sooner after the form was shown than a person can fill it in",
    FlagReason.BLOCKED: "a blocked sender",
}


class Signature(Base):
    __tablename__ = "signatures"
    __table_args__ = (
        # One signature per person and petition, whatever the race between requests.
        UniqueConstraint("petition_id", "email_hash"),
        # Exports and charts walk confirmed signatures of one petition in time order.
        Index("ix_signatures_petition_status_confirmed", "petition_id", "status", "confirmed_at"),
        # Counts per source and per partner (dashboard, partner stats) read this index alone.
        Index("ix_signatures_petition_source_status", "petition_id", "source", "status"),
        # Moderation finds the signatures of one email domain (release, invalidate, review).
        Index("ix_signatures_petition_domain", "petition_id", "email_domain_hash"),
        # A reason belongs to a flagged signature only (flagged rows older than reasons have none).
        CheckConstraint("flag_reason IS NULL OR status = 'flagged'", name="flag_reason_only_when_flagged"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    status: Mapped[SignatureStatus] = mapped_column(str_enum(SignatureStatus, "signature_status"))
    # HMAC of the canonical email, keyed per petition: deduplicates without revealing the address.
    email_hash: Mapped[str] = mapped_column(String(64))
    # Keyed hash of the email's ASCII domain, per petition, so organisers can act on one domain without
    # the database holding domains in clear (a personal domain names its owner). Empty before 0006.
    email_domain_hash: Mapped[str | None] = mapped_column(String(32))
    # Sealed personal fields: read and written only through petition.services.personal.
    email_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    first_name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    last_name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    country: Mapped[str] = mapped_column(String(2))
    keep_informed: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(100), default="web")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    ip_hash: Mapped[str | None] = mapped_column(String(32))
    # Emails sent to this address about this signature on `emails_sent_on` (a day, UTC): at most
    # MAX_EMAILS_PER_SIGNATURE a day, so nobody floods an inbox through us, and nobody can spend the
    # owner's budget for good.
    emails_sent: Mapped[int] = mapped_column(Integer, default=0)
    emails_sent_on: Mapped[date | None] = mapped_column(Date)
    # Keyed digest of the details a confirmation link confirms (names, country, mailing-list choice):
    # a link confirms what was submitted with it, never details someone else submitted later.
    details_digest: Mapped[str | None] = mapped_column(String(16))
    flag_reason: Mapped[FlagReason | None] = mapped_column(str_enum(FlagReason, "flag_reason"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The signer asked (through the link in an update) for no more emails about this petition.
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    petition: Mapped[Petition] = relationship()


class SignatureSubmission(Base):
    """Other details sent for a signature that is still pending (a typo fixed, or someone else using
    the address). The signature keeps the details it was first submitted with; each submission's own
    email carries a link that confirms exactly that submission's details, and whichever link is
    pressed first wins. Deleted with the signature, and once it is confirmed."""

    __tablename__ = "signature_submissions"
    __table_args__ = (UniqueConstraint("signature_id", "details_digest"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"))
    details_digest: Mapped[str] = mapped_column(String(16))
    email_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    first_name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    last_name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    country: Mapped[str] = mapped_column(String(2))
    keep_informed: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
