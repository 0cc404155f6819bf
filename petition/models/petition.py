"""A petition: its text, its life (draft, open, closed) and the rules its goal follows."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petition.models.base import Base
from petition.timeutil import UTCDateTime, utcnow


def str_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    """Stored as its value in a VARCHAR with a CHECK constraint: portable and readable in a dump."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class PetitionStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class RuleSet(StrEnum):
    ECI = "eci"
    SIMPLE = "simple"


def status_at(
    status: PetitionStatus, opens_at: datetime | None, closes_at: datetime | None, now: datetime
) -> PetitionStatus:
    """The status people see: an open petition past its closing time is closed, whether or not the
    scheduled job has stamped it yet, and one whose opening time has not come is still a draft."""
    if status == PetitionStatus.OPEN and closes_at is not None and now >= closes_at:
        return PetitionStatus.CLOSED
    if status == PetitionStatus.OPEN and opens_at is not None and now < opens_at:
        return PetitionStatus.DRAFT
    return status


class Petition(Base):
    __tablename__ = "petitions"
    __table_args__ = (
        CheckConstraint("goal_total IS NULL OR goal_total > 0", name="goal_positive"),
        CheckConstraint("closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("eci_registration_number IS NULL OR rules = 'eci'", name="eci_number_only_for_eci"),
        CheckConstraint("eci_signing_url IS NULL OR rules = 'eci'", name="eci_signing_url_only_for_eci"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(1000), default="")
    body_markdown: Mapped[str] = mapped_column(Text, default="")
    # The language of the text above (a petition.i18n locale), so pages in other languages can mark it.
    locale: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    status: Mapped[PetitionStatus] = mapped_column(str_enum(PetitionStatus, "petition_status"))
    rules: Mapped[RuleSet] = mapped_column(str_enum(RuleSet, "rule_set"))
    goal_total: Mapped[int | None] = mapped_column(Integer)
    min_countries: Mapped[int | None] = mapped_column(Integer)
    registered_on: Mapped[date | None] = mapped_column(Date)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When collection actually ended (closed by hand, or stamped by `close-expired` / a late sign).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # ECI: the day the initiative was handed to the Commission; personal data goes a month later.
    submitted_on: Mapped[date | None] = mapped_column(Date)
    # Simple rules: months personal data is kept after closing (ECI dates follow the regulation).
    retention_months: Mapped[int | None] = mapped_column(Integer)
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who runs the campaign, shown on its page: a name, and an email address or web address.
    organiser_name: Mapped[str | None] = mapped_column(String(200))
    organiser_contact: Mapped[str | None] = mapped_column(String(300))
    # ECI: the Commission's registration number, "ECI(2024)000004", and the initiative's page on the
    # Commission's central online collection system, where the legally valid statements are given.
    eci_registration_number: Mapped[str | None] = mapped_column(String(20))
    eci_signing_url: Mapped[str | None] = mapped_column(String(500))

    country_targets: Mapped[list[CountryTarget]] = relationship(
        back_populates="petition", cascade="all, delete-orphan", order_by="CountryTarget.country"
    )
    translations: Mapped[list[PetitionTranslation]] = relationship(  # noqa: F821 (petition.models.translation)
        back_populates="petition", cascade="all, delete-orphan", order_by="PetitionTranslation.locale"
    )

    def status_at(self, now: datetime) -> PetitionStatus:
        return status_at(self.status, self.opens_at, self.closes_at, now)

    def is_accepting_signatures(self, now: datetime) -> bool:
        return self.status_at(now) == PetitionStatus.OPEN

    def thresholds(self) -> dict[str, int]:
        return {t.country: t.threshold for t in self.country_targets}

    @property
    def contact_href(self) -> str | None:
        """The organisers' contact as a link: an email address (checked when saved) or a web address."""
        contact = self.organiser_contact
        if not contact:
            return None
        return contact if "://" in contact else f"mailto:{contact}"


class CountryTarget(Base):
    """A per-country threshold: the ECI minimum fixed when the petition was created, or a simple target."""

    __tablename__ = "country_targets"
    __table_args__ = (CheckConstraint("threshold > 0", name="threshold_positive"),)

    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    threshold: Mapped[int] = mapped_column(Integer)

    petition: Mapped[Petition] = relationship(back_populates="country_targets")


class PetitionRevision(Base):
    """The text of a petition as it read from `created_at` on: people signed what they read, so the
    text of an open petition is never changed without keeping what it said before."""

    __tablename__ = "petition_revisions"
    __table_args__ = (Index("ix_petition_revisions_petition_created", "petition_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(1000))
    body_markdown: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who made this version; kept (as NULL) when their account is deleted.
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisers.id", ondelete="SET NULL"))
