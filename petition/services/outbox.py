"""The outbox: every email the service sends is a row queued here, in the same transaction as the
change that causes it (a signature taken, a milestone stamped, a report asked for), so that the two
commit or vanish together. The mail worker (petition.mail.worker) sends them.

A row names what to send and to whom by reference; the worker renders it when sending, so no
address or link sits in this table. On PostgreSQL, queueing also wakes the workers (NOTIFY, which
PostgreSQL delivers at commit), so they need not poll.
"""

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import bindparam, case, insert, text, update
from sqlalchemy.orm import Session

from petition.models import MailKind, OutboxMessage, Signature
from petition.services.sql import is_postgresql

WAKE_CHANNEL = "petition_outbox"
# The confirmation email of a new signature, as SQL: signing writes it inside the one statement that
# stores the signature (petition.services.signing), `{source}` naming the rows (with `id`) to mail.
QUEUE_CONFIRMATION_SQL = """
    INSERT INTO outbox (kind, status, petition_id, signature_id, detail, attempts, next_attempt_at, created_at)
    SELECT 'confirm', 'queued', :petition_id, id, :details_digest, 0, :now, :now FROM {source}"""
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
    """Queue one email; the caller commits. `detail` is what the kind alone does not say: a country
    or a percentage for organisers, the digest of the details a confirmation link confirms."""
    row = {"signature_id": signature_id, "organiser_id": organiser_id, "detail": detail}
    queue_many(session, kind, petition_id=petition_id, now=now, rows=[row])


def queue_many(session: Session, kind: MailKind, *, petition_id: int | None, now: datetime, rows: list[dict]) -> int:
    """Queue several emails of one kind; each row may name `signature_id`, `organiser_id`, `detail`."""
    if not rows:
        return 0
    values = [
        {"signature_id": None, "organiser_id": None, "detail": None, **row, "kind": kind.value,
         "petition_id": petition_id, "now": now}
        for row in rows
    ]  # fmt: skip
    session.connection().execute(_QUEUE, values)
    wake_workers(session)
    return len(values)


def wake_workers(session: Session) -> None:
    """Wake the mail workers when this transaction commits (PostgreSQL; SQLite workers poll)."""
    if is_postgresql(session):
        session.connection().execute(_WAKE)


def mail_signer(
    session: Session, signature_id: int, petition_id: int, kind: MailKind, now: datetime, digest: str | None = None
) -> bool:
    """Queue an email to a signer, within MAX_EMAILS_PER_SIGNATURE emails a day per signature, so that
    nobody can flood an inbox through us, and nobody can use up the owner's budget for good. True if
    it was queued. A confirmation email's link confirms the details named by `digest` (by default
    those stored on the signature)."""
    return mail_signers(session, [signature_id], petition_id, kind, now, digest) == 1


def mail_signers(
    session: Session,
    signature_ids: list[int],
    petition_id: int,
    kind: MailKind,
    now: datetime,
    digest: str | None = None,
) -> int:
    """`mail_signer` for many signatures of one petition at once (releasing flagged ones): the budget
    is taken by one conditional UPDATE per few hundred rows, so concurrent requests cannot overdraw it.
    A confirmation email carries the digest of the details it confirms, as they are now."""
    limit = current_app.config["MAX_EMAILS_PER_SIGNATURE"]
    today = now.astimezone(UTC).date()
    spent_today = case((Signature.emails_sent_on == today, Signature.emails_sent), else_=0)
    queued = 0
    for start in range(0, len(signature_ids), 500):
        taken = session.execute(
            update(Signature)
            .where(Signature.id.in_(signature_ids[start : start + 500]), spent_today < limit)
            .values(emails_sent=spent_today + 1, emails_sent_on=today)
            .returning(Signature.id, Signature.details_digest)
            .execution_options(synchronize_session=False)
        ).all()
        rows = [
            {"signature_id": signature_id, "detail": (digest or stored) if kind == MailKind.CONFIRM else None}
            for signature_id, stored in taken
        ]
        queued += queue_many(session, kind, petition_id=petition_id, now=now, rows=rows)
    return queued
