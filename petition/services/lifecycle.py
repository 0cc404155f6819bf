"""A petition's life after it opens: closing on time, forgetting unconfirmed signers, and deleting
personal data when the retention period ends, while every count stays."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import String, cast, delete, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from petition.models import (
    MailKind,
    MailStatus,
    Milestone,
    OutboxMessage,
    Petition,
    PetitionStatus,
    RuleSet,
    Signature,
    SignatureStatus,
    SignatureSubmission,
)
from petition.services import notifying
from petition.services.petitions import add_months
from petition.services.sql import upsert_insert

# Regulation (EU) 2019/788, Art. 19(5) and (6): statements of support are destroyed one month after the
# initiative is submitted to the Commission, and at the latest 21 months after collection started.
ECI_MONTHS_AFTER_SUBMISSION = 1
ECI_MONTHS_AFTER_OPENING = 21
DEFAULT_RETENTION_MONTHS = 3
PURGE_BATCH = 5000


def close(session: Session, petition: Petition, now: datetime) -> bool:
    """Close an open petition; True if this call closed it (the caller commits). Of any number of
    concurrent closers exactly one gets True, so organisers are told once."""
    closed = session.execute(
        update(Petition)
        .where(Petition.id == petition.id, Petition.status == PetitionStatus.OPEN)
        .values(status=PetitionStatus.CLOSED, closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not closed:
        return False
    stamped = session.execute(
        upsert_insert(session, Milestone)
        .values(petition_id=petition.id, kind="lifecycle", key="closed", reached_at=now, count_at=0)
        .on_conflict_do_nothing()
        .returning(Milestone.key)  # not rowcount: -1 for INSERTs with psycopg
    ).first()
    if stamped is not None:
        notifying.notify_organisers(session, petition.id, MailKind.PETITION_CLOSED, now)
    session.refresh(petition)
    return True


def close_if_expired(session: Session, petition_id: int, closes_at: datetime | None, now: datetime) -> bool:
    """Asked by every way of signing when a petition no longer accepts signatures: one found past its
    closing time is closed for good (and its organisers told). True if this call closed it; the
    caller commits, so the closing stands even though the attempt is refused."""
    if closes_at is None or now < closes_at:
        return False
    petition = session.get(Petition, petition_id)
    return petition is not None and close(session, petition, now)


def close_expired(session: Session, now: datetime) -> list[str]:
    """Close every open petition whose closing time has passed; returns their slugs. Commits."""
    due = session.scalars(
        select(Petition).where(Petition.status == PetitionStatus.OPEN, Petition.closes_at <= now).order_by(Petition.id)
    ).all()
    closed = [petition.slug for petition in due if close(session, petition, now)]
    session.commit()
    return closed


def retention_date(petition: Petition) -> date | None:
    """The day personal data goes, or None while it cannot be known yet (a simple petition still open
    without a closing date, or any draft)."""
    if petition.status == PetitionStatus.DRAFT:
        return None
    if petition.rules == RuleSet.ECI:
        if petition.opens_at is None:
            return None
        latest = add_months(petition.opens_at.astimezone(UTC).date(), ECI_MONTHS_AFTER_OPENING)
        if petition.submitted_on is not None:
            return min(latest, add_months(petition.submitted_on, ECI_MONTHS_AFTER_SUBMISSION))
        return latest
    ended = petition.closed_at or petition.closes_at
    if ended is None:
        return None
    return add_months(ended.astimezone(UTC).date(), petition.retention_months or DEFAULT_RETENTION_MONTHS)


def purge_unconfirmed(session: Session, now: datetime, token_max_age: timedelta) -> int:
    """Delete pending signatures whose every confirmation link has expired. Commits."""
    cutoff = now - token_max_age
    # A link sent again (signing again while pending) lives from when it was sent, not from the first try.
    recent_link = exists().where(
        OutboxMessage.signature_id == Signature.id,
        OutboxMessage.kind == MailKind.CONFIRM.value,
        or_(OutboxMessage.status == MailStatus.QUEUED, OutboxMessage.sent_at > cutoff),
    )
    deleted = 0
    while True:
        batch = select(Signature.id).where(
            Signature.status == SignatureStatus.PENDING, Signature.created_at < cutoff, ~recent_link
        )
        ids = session.scalars(batch.limit(PURGE_BATCH)).all()
        if not ids:
            break
        deleted += session.execute(delete(Signature).where(Signature.id.in_(ids))).rowcount
        session.commit()
    # Other details sent for a signature that has since been confirmed (through its first link) or
    # whose links have all expired: nothing can confirm them any more.
    session.execute(
        delete(SignatureSubmission).where(
            or_(
                SignatureSubmission.created_at < cutoff,
                SignatureSubmission.signature_id.in_(
                    select(Signature.id).where(Signature.status != SignatureStatus.PENDING)
                ),
            )
        )
    )
    session.commit()
    return deleted


@dataclass(frozen=True)
class PurgeReport:
    slug: str
    anonymised: int
    deleted: int


def purge_personal_data(session: Session, petition: Petition, now: datetime) -> PurgeReport:
    """Past the retention date: confirmed signatures keep their country, source and times (so counts,
    recounts and charts stay right) and lose every personal field; the others are deleted. Commits
    batch by batch, so an interrupted purge simply continues next time."""
    deleted = session.execute(
        delete(Signature).where(Signature.petition_id == petition.id, Signature.status != SignatureStatus.CONFIRMED)
    ).rowcount
    session.execute(
        delete(SignatureSubmission).where(
            SignatureSubmission.signature_id.in_(select(Signature.id).where(Signature.petition_id == petition.id))
        )
    )
    # Mail not yet sent to the people whose details are going would fail: drop it.
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.petition_id == petition.id,
            OutboxMessage.signature_id.is_not(None),
            OutboxMessage.status == MailStatus.QUEUED,
        )
    )
    session.commit()
    anonymised = 0
    while True:
        ids = session.scalars(
            select(Signature.id)
            .where(Signature.petition_id == petition.id, func.length(Signature.email_sealed) > 0)
            .limit(PURGE_BATCH)
        ).all()
        if not ids:
            break
        anonymised += session.execute(
            update(Signature)
            .where(Signature.id.in_(ids))
            .values(
                email_sealed=b"",
                first_name_sealed=b"",
                last_name_sealed=b"",
                # Unique per petition, and no longer derived from anyone's address.
                email_hash=literal("purged:") + cast(Signature.id, String),
                ip_hash=None,
                keep_informed=False,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    session.execute(
        update(Petition)
        .where(Petition.id == petition.id)
        .values(personal_data_purged_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return PurgeReport(petition.slug, anonymised, deleted)


def purge_due(session: Session, now: datetime) -> list[PurgeReport]:
    """Purge every petition whose retention date has come (and that has not been purged yet)."""
    today = now.astimezone(UTC).date()
    candidates = session.scalars(
        select(Petition).where(Petition.personal_data_purged_at.is_(None)).order_by(Petition.id)
    ).all()
    reports = []
    for petition in candidates:
        due = retention_date(petition)
        if due is None or due > today:
            continue
        if petition.status == PetitionStatus.OPEN:
            close(session, petition, now)
            session.commit()
        reports.append(purge_personal_data(session, petition, now))
    return reports
