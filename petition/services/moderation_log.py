"""The moderation log: every block, unblock, release and invalidation, with who, when, what and how many."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from petition.models import ModerationRecord, Organiser


def record(
    session: Session,
    petition_id: int,
    organiser: Organiser,
    action: str,
    criteria: str,
    rows: int,
    now: datetime,
    uncounted: int = 0,
) -> ModerationRecord:
    """Added to the caller's transaction: the entry commits with the change it describes."""
    entry = ModerationRecord(
        petition_id=petition_id,
        organiser_id=organiser.id,
        organiser_email=organiser.email,
        action=action,
        criteria=criteria[:500],
        rows=rows,
        uncounted=uncounted,
        created_at=now,
    )
    session.add(entry)
    return entry


def records_of(session: Session, petition_id: int, limit: int = 100) -> list[ModerationRecord]:
    return list(
        session.scalars(
            select(ModerationRecord)
            .where(ModerationRecord.petition_id == petition_id)
            .order_by(ModerationRecord.created_at.desc(), ModerationRecord.id.desc())
            .limit(limit)
        )
    )
