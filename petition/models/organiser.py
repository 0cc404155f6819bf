"""People who run petitions, and which petitions each may see or change."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.models.base import Base
from petition.models.petition import Petition, str_enum
from petition.timeutil import UTCDateTime, utcnow


class Role(StrEnum):
    OWNER = "owner"  # changes the petition, exports, manages the team
    EDITOR = "editor"  # writes and sends updates to signers; otherwise sees what viewers see
    VIEWER = "viewer"


class Organiser(Base):
    __tablename__ = "organisers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased at creation; organisers are staff, not signers, so their address is kept in clear.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organiser", cascade="all, delete-orphan")


class Membership(Base):
    __tablename__ = "memberships"

    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id", ondelete="CASCADE"), primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "membership_role"))

    organiser: Mapped[Organiser] = relationship(back_populates="memberships")
    petition: Mapped[Petition] = relationship()


class OrganiserSession(Base):
    """One login. The browser's signed session cookie holds a random token; only its hash is kept here,
    with when the login began and when it was last used, so that logout and both timeouts are decided
    by the server and a copied cookie dies with the session."""

    __tablename__ = "organiser_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organiser: Mapped[Organiser] = relationship()


class LoginFailure(Base):
    """A failed login, keyed by a keyed hash of the account tried or of the client address, so that
    every process sees the same throttle and no address or IP is stored in clear."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_failed_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
