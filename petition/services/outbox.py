"""The outbox: every email the service sends is a row queued here, in the same transaction as the
change that causes it (a signature taken, a milestone stamped, a report asked for), so that the two
commit or vanish together. The mail worker (petition.mail.worker) sends them.

A row names what to send and to whom by reference; the worker renders it when sending, so no
address or link sits in this table. On PostgreSQL, queueing also wakes the workers (NOTIFY, which
PostgreSQL delivers at commit), so they need not poll.
"""

from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.orm import Session

from petition.models import MailKind, OutboxMessage, Signature
from petition.services.sql import is_postgresql

WAKE_CHANNEL = "petition_outbox"
_WAKE = text(f"SELECT pg_notify('{WAKE_CHANNEL}', '')")
_QUEUE = insert(OutboxMessage.__table__).values(
    kind=bindparam("kind"),
    status="queued",
    petition_id=bindparam("petition_id"),
    signature_id=bindparam("signature_id"),
    organiser_id=bindparam("organiser_id"),
    detail=bindparam("detail"),
    attempts=0,
    next_attempt_at=bindparam("now"),
    created_at=bindparam("now"),
)


def queue(
    session: Session,
    kind: MailKind,
    *,
    petition_id: int | None,
    now: datetime,
    signature_id: int | None = None,
    organiser_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Queue one email; the caller commits."""
    queue_many(session, kind, petition_id=petition_id, now=now, signature_ids=[signature_id], organiser_id=organiser_id,
               detail=detail)  # fmt: skip


def queue_many(
    session: Session,
    kind: MailKind,
    *,
    petition_id: int | None,
    now: datetime,
    signature_ids: Iterable[int | None] = (None,),
    organiser_id: int | None = None,
    detail: str | None = None,
) -> int:
    rows = [
        {
            "kind": kind.value,
            "petition_id": petition_id,
            "signature_id": signature_id,
            "organiser_id": organiser_id,
            "detail": detail,
            "now": now,
        }
        for signature_id in signature_ids
    ]
    if not rows:
        return 0
    connection = session.connection()
    connection.execute(_QUEUE, rows)
    wake_workers(session)
    return len(rows)


def wake_workers(session: Session) -> None:
    """Wake the mail workers when this transaction commits (PostgreSQL; SQLite workers poll)."""
    if is_postgresql(session):
        session.connection().execute(_WAKE)


def mail_signer(session: Session, signature_id: int, petition_id: int, kind: MailKind, now: datetime) -> bool:
    """Queue an email to a signer, within MAX_EMAILS_PER_SIGNATURE emails per signature, so that
    nobody can flood an inbox through us. True if it was queued."""
    return mail_signers(session, [signature_id], petition_id, kind, now) == 1


def mail_signers(session: Session, signature_ids: list[int], petition_id: int, kind: MailKind, now: datetime) -> int:
    """`mail_signer` for many signatures of one petition at once (releasing flagged ones): the limit
    is taken by one conditional UPDATE per few hundred rows, so concurrent requests cannot overdraw it."""
    limit = current_app.config["MAX_EMAILS_PER_SIGNATURE"]
    queued = 0
    for start in range(0, len(signature_ids), 500):
        taken = session.scalars(
            update(Signature)
            .where(Signature.id.in_(signature_ids[start : start + 500]), Signature.emails_sent < limit)
            .values(emails_sent=Signature.emails_sent + 1)
            .returning(Signature.id)
            .execution_options(synchronize_session=False)
        ).all()
        queued += queue_many(session, kind, petition_id=petition_id, now=now, signature_ids=taken)
    return queued
