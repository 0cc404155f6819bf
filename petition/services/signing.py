"""Taking a signature: store it pending with its confirmation email, or answer a repeat quietly.

Whatever state the address is in, the caller gets nothing it could show that would tell a visitor
whether someone signed; the difference only shows in which email (if any) the owner of the address
receives.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from petition.models import FlagReason, MailKind, OutboxMessage, Petition, Signature, SignatureStatus
from petition.services import activity, blocklist, personal
from petition.services.sql import upsert_insert


@dataclass(frozen=True)
class SignerInput:
    first_name: str
    last_name: str
    email: str
    email_canonical: str
    country: str
    keep_informed: bool = False


class SignOutcome(StrEnum):
    CREATED = "created"
    RESENT = "resent"  # still pending: the confirmation link went out again
    ALREADY_SIGNED = "already_signed"  # confirmed before: an "already signed" email went out
    MAIL_LIMIT = "mail_limit"  # too many emails for this signature: nothing sent
    FLAGGED = "flagged"  # looked automated: stored for review, never counted or mailed


def enqueue_mail(session: Session, kind: MailKind, signature: Signature | int, petition_id: int, now: datetime) -> None:
    signature_id = signature if isinstance(signature, int) else signature.id
    session.add(OutboxMessage(kind=kind, petition_id=petition_id, signature_id=signature_id, next_attempt_at=now))


def sign(
    session: Session,
    petition: Petition,
    signer: SignerInput,
    *,
    now: datetime,
    source: str = "web",
    locale: str = "en",
    ip: str | None = None,
    flag: FlagReason | None = None,
) -> SignOutcome:
    """Record a signature; the caller commits. Concurrent first signatures with one address are
    resolved by the unique constraint: exactly one insert wins, the others take the repeat path.

    `flag` is why the caller found the attempt suspicious (rate, honeypot, too fast); a sender on the
    petition's blocklist is flagged here, so every way of signing (form, widget, partner API) refuses
    blocked senders alike. A flagged attempt goes down exactly the same code path whatever its
    reason, so nothing about the answer differs."""
    digest = personal.email_hash(petition.id, signer.email_canonical)
    if flag is None and blocklist.is_blocked(session, petition.id, signer.email_canonical, digest):
        flag = FlagReason.BLOCKED
    suspicious = flag is not None
    status = SignatureStatus.FLAGGED if suspicious else SignatureStatus.PENDING
    inserted_id = session.execute(
        upsert_insert(session, Signature)
        .values(
            petition_id=petition.id,
            status=status,
            email_hash=digest,
            email_domain_hash=personal.domain_hash(petition.id, personal.domain_of(signer.email_canonical)),
            flag_reason=flag,
            **_sealed_fields(signer),
            country=signer.country,
            keep_informed=signer.keep_informed,
            source=source,
            locale=locale,
            ip_hash=personal.ip_hash(ip),
            emails_sent=0 if suspicious else 1,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["petition_id", "email_hash"])
        .returning(Signature.id)
    ).scalar()
    if inserted_id is not None:
        if suspicious:
            return SignOutcome.FLAGGED
        enqueue_mail(session, MailKind.CONFIRM, inserted_id, petition.id, now)
        activity.record(session, petition.id, source, now, signed=1)
        return SignOutcome.CREATED
    if suspicious:
        # A bot must not be able to make us mail someone, nor change a real signature.
        return SignOutcome.FLAGGED

    existing = session.scalars(
        select(Signature).where(Signature.petition_id == petition.id, Signature.email_hash == digest).with_for_update()
    ).one_or_none()
    if existing is None:
        # Deleted (withdrawn, invalidated, purged) between the insert that found it and this read:
        # the address is free again, so this is a first signature after all.
        return sign(session, petition, signer, now=now, source=source, locale=locale, ip=ip, flag=flag)
    if existing.status == SignatureStatus.CONFIRMED:
        sent = mail_if_allowed(session, existing, MailKind.ALREADY_SIGNED, now)
        return SignOutcome.ALREADY_SIGNED if sent else SignOutcome.MAIL_LIMIT
    # Pending (or flagged by an earlier, too hasty attempt): the latest details win, so a person can
    # fix a typo, and the link goes out again.
    for field, value in _sealed_fields(signer).items():
        setattr(existing, field, value)
    existing.country = signer.country
    existing.keep_informed = signer.keep_informed
    existing.locale = locale
    if existing.status == SignatureStatus.FLAGGED:
        activity.record(session, petition.id, existing.source, now, signed=1)
    existing.status = SignatureStatus.PENDING
    existing.flag_reason = None
    return SignOutcome.RESENT if mail_if_allowed(session, existing, MailKind.CONFIRM, now) else SignOutcome.MAIL_LIMIT


def _sealed_fields(signer: SignerInput) -> dict[str, bytes]:
    return {
        "email_sealed": personal.seal(signer.email),
        "first_name_sealed": personal.seal(signer.first_name),
        "last_name_sealed": personal.seal(signer.last_name),
    }


def mail_many_if_allowed(
    session: Session, signature_ids: list[int], petition_id: int, kind: MailKind, now: datetime
) -> int:
    """`mail_if_allowed` for many signatures of one petition at once (releasing flagged ones): the same
    limit, taken by the same conditional UPDATE, a few hundred rows per statement."""
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
        for signature_id in taken:
            enqueue_mail(session, kind, signature_id, petition_id, now)
        queued += len(taken)
    return queued


def mail_if_allowed(session: Session, signature: Signature, kind: MailKind, now: datetime) -> bool:
    """At most MAX_EMAILS_PER_SIGNATURE emails per signature, so nobody can flood an inbox through us."""
    limit = current_app.config["MAX_EMAILS_PER_SIGNATURE"]
    taken = session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.emails_sent < limit)
        .values(emails_sent=Signature.emails_sent + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken:
        enqueue_mail(session, kind, signature, signature.petition_id, now)
    return bool(taken)
