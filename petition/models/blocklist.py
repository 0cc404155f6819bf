"""Senders an organiser has blocked on a petition: whole email domains, and single addresses.

A blocked domain is kept in clear (ASCII/IDNA, lower-case) and also blocks its subdomains. A blocked
address is kept only as the petition's keyed hash of its canonical form (the same hash that
deduplicates signatures), so the list never holds anyone's address in clear.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from petition.models.base import Base
from petition.models.petition import str_enum
from petition.timeutil import UTCDateTime, utcnow


class BlockKind(StrEnum):
    DOMAIN = "domain"
    ADDRESS = "address"


class BlockedSender(Base):
    __tablename__ = "blocked_senders"
    __table_args__ = (UniqueConstraint("petition_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    kind: Mapped[BlockKind] = mapped_column(str_enum(BlockKind, "block_kind"))
    # A domain, or the keyed email hash of an address (64 hex digits).
    value: Mapped[str] = mapped_column(String(255))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
