"""A signer's rights: withdraw a signature (uncounted and deleted), stop the updates about a petition,
and ask what is held about them."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from petition.models import CampaignUpdate, MailKind, Petition, Signature, SignatureStatus, UpdateProgress
from petition.services import counting, outbox, personal
from petition.services.sql import upsert_insert

# Unsubscribes are counted on a random shard of the update's progress (the workers use theirs).
_UNSUBSCRIBE_SHARDS = 8


@dataclass(frozen=True)
class Withdrawn:
    petition_id: int
    was_counted: bool


def withdraw(session: Session, signature_id: int, now: datetime) -> Withdrawn | None:
    """Delete the signature and everything held with it; uncount it if it was counted. The caller
    commits. The DELETE takes the row lock, so a confirmation racing with it either happened before
    (and is uncounted here) or finds nothing left to confirm."""
    row = session.execute(
        delete(Signature)
        .where(Signature.id == signature_id)
        .returning(Signature.petition_id, Signature.country, Signature.status)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    counted = row.status == SignatureStatus.CONFIRMED
    if counted:
        counting.add(session, row.petition_id, row.country, -1, now)
    return Withdrawn(row.petition_id, counted)


def unsubscribe(session: Session, signature_id: int, update_id: int | None, now: datetime) -> bool:
    """No more updates about this petition, whatever their audience (see docs/organisers.md). True
    the first time; the update whose link was used counts it once. The caller commits."""
    changed = session.execute(
        update(Signature)
        .where(Signature.id == signature_id, Signature.unsubscribed_at.is_(None))
        .values(unsubscribed_at=now, keep_informed=False)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed and update_id is not None and session.get(CampaignUpdate, update_id) is not None:
        session.execute(
            upsert_insert(session, UpdateProgress)
            .values(update_id=update_id, shard=100 + random.randrange(_UNSUBSCRIBE_SHARDS), sent=0, failed=0,
                    in_doubt=0, skipped=0, unsubscribed=1)
            .on_conflict_do_update(
                index_elements=["update_id", "shard"], set_={"unsubscribed": UpdateProgress.unsubscribed + 1}
            )
        )  # fmt: skip
    return bool(changed)


def request_data_report(session: Session, email_canonical: str, now: datetime) -> int:
    """Queue, for every signature held under this address, an email to that same address listing
    what is held. Answers nothing to the requester: the inbox is the proof of identity. Returns how
    many reports were queued (for tests and logs, never for the page)."""
    petition_ids = session.scalars(select(Petition.id)).all()
    keys = [(pid, personal.email_hash(pid, email_canonical)) for pid in petition_ids]
    if not keys:
        return 0
    signatures = session.scalars(
        select(Signature).where(
            tuple_(Signature.petition_id, Signature.email_hash).in_(keys),
            Signature.status != SignatureStatus.FLAGGED,
        )
    ).all()
    return sum(1 for s in signatures if outbox.mail_signer(session, s.id, s.petition_id, MailKind.DATA_REPORT, now))


def forget_ip_hashes(session: Session, now: datetime, keep_days: int) -> int:
    """IP hashes only help spot abuse while a burst is fresh; after `keep_days` they go."""
    result = session.execute(
        update(Signature)
        .where(Signature.ip_hash.is_not(None), Signature.created_at < now - timedelta(days=keep_days))
        .values(ip_hash=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
