"""Emails to the organisers of a petition, queued in the outbox in the same transaction as the change
that caused them (a milestone stamped, the petition closed), so each goes out once."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from petition.models import MailKind, Membership
from petition.services import outbox

# Shares of the goal that earn an email; stamped as ("goal_percent", "25") ... milestones.
GOAL_PERCENTAGES = (25, 50, 75, 100)


def notify_organisers(
    session: Session, petition_id: int, kind: MailKind, now: datetime, detail: str | None = None
) -> int:
    organiser_ids = session.scalars(
        select(Membership.organiser_id).where(Membership.petition_id == petition_id).order_by(Membership.organiser_id)
    ).all()
    for organiser_id in organiser_ids:
        notify_organiser(session, petition_id, organiser_id, kind, now, detail)
    return len(organiser_ids)


def notify_organiser(
    session: Session, petition_id: int, organiser_id: int, kind: MailKind, now: datetime, detail: str | None = None
) -> None:
    outbox.queue(session, kind, petition_id=petition_id, organiser_id=organiser_id, detail=detail, now=now)


def milestones_reached(session: Session, petition_id: int, stamped: list[tuple[str, str]], now: datetime) -> None:
    """Called with the milestones one transaction has just stamped (and will commit)."""
    for kind, key in stamped:
        if kind == "country":
            notify_organisers(session, petition_id, MailKind.COUNTRY_REACHED, now, key)
        elif kind == "goal_percent":
            notify_organisers(session, petition_id, MailKind.GOAL_PROGRESS, now, key)
