"""The mail worker: claims due outbox rows, sends them, records the outcome.

Rows are claimed with a lease (`claimed_by`, `claimed_until`) in a short transaction, using
`FOR UPDATE SKIP LOCKED` on PostgreSQL so that several workers take disjoint batches; SQLite takes the
claim under its single write lock. Each message is marked sent in its own commit right after it went
out, so a crash resends at most the one message that was in flight.
"""

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, joinedload

from petition.db_engine import write_intent
from petition.mail.backends import PermanentFailure, TemporaryFailure, backend_from_url
from petition.mail.compose import Undeliverable, compose
from petition.models import MailStatus, OutboxMessage, Signature

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 12


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour: a mail server back within hours loses nothing."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    claimed: list[int] = field(default_factory=list)


def claim_batch(session: Session, worker: str, now: datetime, size: int) -> list[int]:
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == MailStatus.QUEUED,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    with write_intent():
        ids = list(
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due.scalar_subquery()))
                .values(claimed_by=worker, claimed_until=now + LEASE)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        session.commit()
    return sorted(ids)


def _finish(session: Session, outbox_id: int, worker: str, **values) -> None:
    with write_intent():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.claimed_by == worker)
            .values(claimed_by=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        session.commit()


def _retry_or_fail(session: Session, message: OutboxMessage, worker: str, now: datetime, reason: str) -> bool:
    attempts = message.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _finish(session, message.id, worker, attempts=attempts, status=MailStatus.FAILED, last_error=reason)
        return False
    _finish(session, message.id, worker, attempts=attempts, next_attempt_at=now + backoff(attempts), last_error=reason)
    return True


def deliver_due(session: Session, now: datetime, worker: str | None = None, batch_size: int = 100) -> DeliveryReport:
    """Send one batch of due messages. Returns what happened; an empty `claimed` means nothing was due."""
    worker = worker or worker_name()
    report = DeliveryReport(claimed=claim_batch(session, worker, now, batch_size))
    if not report.claimed:
        return report
    messages = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(report.claimed)).order_by(OutboxMessage.id)
    ).all()
    # The whole batch is composed first, from one query for its signatures and petitions: each
    # message's own commit below expires what the session loaded, and would cost reloads.
    session.scalars(
        select(Signature)
        .options(joinedload(Signature.petition))
        .where(Signature.id.in_([m.signature_id for m in messages if m.signature_id]))
    ).all()
    composed, undeliverable = [], []
    for message in messages:
        try:
            composed.append((message.id, message, compose(session, message)))
        except Undeliverable as error:
            undeliverable.append((message.id, str(error)))
    for outbox_id, reason in undeliverable:
        _finish(session, outbox_id, worker, status=MailStatus.FAILED, last_error=reason)
        report.failed += 1
    try:
        with backend_from_url(current_app.config["MAIL_URL"]) as backend:
            for outbox_id, message, email in composed:
                try:
                    backend.send(email)
                except PermanentFailure as error:
                    _finish(session, outbox_id, worker, status=MailStatus.FAILED, last_error=str(error))
                    report.failed += 1
                except TemporaryFailure as error:
                    if _retry_or_fail(session, message, worker, now, str(error)):
                        report.retried += 1
                    else:
                        report.failed += 1
                else:
                    _finish(
                        session, outbox_id, worker, status=MailStatus.SENT, sent_at=now, message_id=email["Message-ID"]
                    )
                    report.sent += 1
    except TemporaryFailure as error:
        # The server could not be reached at all: every claimed message waits and tries again.
        for message in messages:
            session.refresh(message)
            if message.status == MailStatus.QUEUED and message.claimed_by == worker:
                if _retry_or_fail(session, message, worker, now, str(error)):
                    report.retried += 1
                else:
                    report.failed += 1
    return report
