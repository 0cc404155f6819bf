"""Counters of confirmed signatures, and the moments thresholds were crossed.

Counts live in sharded rows (petition, country, shard) changed only by `count = count + k`, so that
concurrent confirmations neither lose increments nor queue behind one hot row, and a page view reads a
few dozen small rows instead of counting a million signatures.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from petition.models.base import Base
from petition.timeutil import UTCDateTime, utcnow


class SignatureCount(Base):
    __tablename__ = "signature_counts"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Milestone(Base):
    """A threshold crossed, stamped once: ('country', 'DE'), ('goal', 'total'), ('goal', 'countries')."""

    __tablename__ = "milestones"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    count_at: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class SignatureActivity(Base):
    """Sign-ups and confirmations per petition, hour and source, kept like the counters (`n = n + k` on a
    random shard) in the transaction that signs or confirms. The dashboard's charts and per-source rates
    read these rows instead of grouping up to a million signatures on every refresh, and they outlive
    the purge of personal data."""

    __tablename__ = "signature_activity"

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    signed: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    confirmed: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
