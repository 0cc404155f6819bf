"""Partners: NGOs and media that collect signatures on their own sites, by widget or API key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.models.base import Base
from petition.models.petition import Petition
from petition.timeutil import UTCDateTime, utcnow


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What partners and URLs use (`?partner=`, `widget:<public_id>`): random, so ids reveal no count.
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the API key. Keys are 256-bit random tokens, so a fast hash is as strong as a slow one
    # (argon2 is for low-entropy passwords) and lets every API request find its partner by index.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key's first characters, so organisers and partners can tell which key is which.
    key_hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    key_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    origins: Mapped[list[PartnerOrigin]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartnerOrigin.origin"
    )
    petition_links: Mapped[list[PartnerPetition]] = relationship(back_populates="partner", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PartnerOrigin(Base):
    """A site (`scheme://host[:port]`) allowed to frame the widget for its partner."""

    __tablename__ = "partner_origins"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(String(255), primary_key=True)

    partner: Mapped[Partner] = relationship(back_populates="origins")


class PartnerPetition(Base):
    """A petition a partner may collect for."""

    __tablename__ = "partner_petitions"
    __table_args__ = (Index("ix_partner_petitions_petition_id", "petition_id"),)

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="petition_links")
    petition: Mapped[Petition] = relationship()
