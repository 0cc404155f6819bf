"""Confirmation links and confirming: a signature moves from pending to counted exactly once."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from petition.models import Signature, SignatureStatus
from petition.services import activity, counting, signature_links


def make_confirm_token(signature_id: int) -> str:
    """The payload is the signature's id only: a leaked link reveals nobody."""
    return signature_links.CONFIRM.make(signature_id)


def read_confirm_token(token: str) -> int | None:
    return signature_links.CONFIRM.read(token)


@dataclass(frozen=True)
class Confirmed:
    petition_id: int
    country: str


def confirm(session: Session, signature_id: int, now: datetime) -> Confirmed | None:
    """Confirm a pending signature and count it; the caller commits. Returns None when there was
    nothing to confirm (already confirmed, flagged, or gone), which makes repeats harmless: the
    conditional UPDATE lets exactly one of any number of racing requests through."""
    row = session.execute(
        update(Signature)
        .where(Signature.id == signature_id, Signature.status == SignatureStatus.PENDING)
        .values(status=SignatureStatus.CONFIRMED, confirmed_at=now)
        .returning(Signature.petition_id, Signature.country, Signature.source)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    counting.add(session, row.petition_id, row.country, 1, now)
    activity.record(session, row.petition_id, row.source, now, confirmed=1)
    return Confirmed(row.petition_id, row.country)
