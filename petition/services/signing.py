"""Taking a signature: store it pending with its confirmation email, or answer a repeat quietly.

Whatever state the address is in, the caller gets nothing it could show that would tell a visitor
whether someone signed; the difference only shows in which email (if any) the owner of the address
receives.

A first signature is the hot path of a viral campaign, so it is one statement on PostgreSQL (the
signature, its outbox row and the hourly sign-up tally in one CTE, committed by itself: one round
trip) and three short ones on SQLite, written out as SQL once rather than built through the ORM on
every request.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy import Date, LargeBinary, select, update
from sqlalchemy.orm import Session

from petition.models import FlagReason, MailKind, Signature, SignatureStatus, SignatureSubmission
from petition.services import activity, blocklist, outbox, personal
from petition.services.outbox import QUEUE_CONFIRMATION_SQL as _QUEUE_CONFIRMATION
from petition.services.outbox import WAKE_CHANNEL
from petition.services.sql import is_postgresql, typed_text, upsert_insert, write_first
from petition.timeutil import UTCDateTime


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


_INSERT_SIGNATURE = """
    INSERT INTO signatures (petition_id, status, email_hash, email_domain_hash, email_sealed, first_name_sealed,
                            last_name_sealed, details_digest, country, keep_informed, source, locale, ip_hash,
                            emails_sent, emails_sent_on, flag_reason, created_at)
    VALUES (:petition_id, :status, :email_hash, :email_domain_hash, :email_sealed, :first_name_sealed,
            :last_name_sealed, :details_digest, :country, :keep_informed, :source, :locale, :ip_hash,
            :emails_sent, :today, :flag_reason, :now)
    ON CONFLICT (petition_id, email_hash) DO NOTHING
    RETURNING id"""
_TALLY_SIGN_UP = """
    INSERT INTO signature_activity (petition_id, hour, source, shard, signed, confirmed)
    SELECT :petition_id, :hour, :source, :shard, 1, 0 FROM {source} WHERE true
    ON CONFLICT (petition_id, hour, source, shard) DO UPDATE SET signed = signature_activity.signed + 1"""


def _typed(sql: str):
    sealed = dict.fromkeys(personal.SEALED_COLUMNS, LargeBinary)
    return typed_text(sql, now=UTCDateTime, hour=UTCDateTime, today=Date, **sealed)


# PostgreSQL: one round trip. The outbox row and the tally exist only if the signature was new and
# not flagged; NOTIFY wakes the mail workers when the transaction commits.
_SIGN_POSTGRESQL = _typed(
    f"""
    WITH taken AS ({_INSERT_SIGNATURE} ),
    fresh AS (SELECT id FROM taken WHERE :status = 'pending'),
    mailed AS ({_QUEUE_CONFIRMATION.format(source="fresh")} RETURNING id),
    tallied AS ({_TALLY_SIGN_UP.format(source="fresh")})
    SELECT taken.id, (SELECT count(pg_notify('{WAKE_CHANNEL}', '')) FROM mailed) FROM taken"""  # noqa: S608 (constants only, never input)
)
_SIGN_SQLITE = _typed(_INSERT_SIGNATURE)
_QUEUE_SQLITE = _typed(_QUEUE_CONFIRMATION.format(source="(SELECT :signature_id AS id)"))
_TALLY_SQLITE = _typed(_TALLY_SIGN_UP.format(source="(SELECT 1)"))


def sign(
    session: Session,
    petition,
    signer: SignerInput,
    *,
    now: datetime,
    source: str = "web",
    locale: str = "en",
    ip: str | None = None,
    flag: FlagReason | None = None,
    blocked: "blocklist.BlockedSenders | None" = None,
) -> SignOutcome:
    """Record a signature for `petition` (anything with an `id`); the caller commits (on PostgreSQL a
    first signature outside any transaction has committed by itself, see `sql.write_first`).
    Concurrent first signatures with one address are resolved by the unique constraint: exactly one
    insert wins, the others take the repeat path.

    `flag` is why the caller found the attempt suspicious (rate, honeypot, too fast); a sender on the
    petition's blocklist is flagged here (from `blocked`, the petition's cached list, or else from the
    database), so every way of signing refuses blocked senders alike. A flagged attempt goes down
    exactly the same code path whatever its reason, so nothing about the answer differs."""
    digest = personal.email_hash(petition.id, signer.email_canonical)
    if flag is None:
        senders = blocked if blocked is not None else blocklist.blocked_senders(session, petition.id)
        if senders.blocks(signer.email_canonical, digest):
            flag = FlagReason.BLOCKED
    status = SignatureStatus.FLAGGED if flag is not None else SignatureStatus.PENDING
    source = source[:100]
    params = {
        "details_digest": _digest(petition.id, signer),
        "today": now.astimezone(UTC).date(),
        "petition_id": petition.id,
        "status": status.value,
        "email_hash": digest,
        "email_domain_hash": personal.domain_hash(petition.id, personal.domain_of(signer.email_canonical)),
        **_sealed_fields(signer),
        "country": signer.country,
        "keep_informed": signer.keep_informed,
        "source": source,
        "locale": locale,
        "ip_hash": personal.ip_hash(ip),
        "emails_sent": 0 if flag is not None else 1,
        "flag_reason": flag.value if flag is not None else None,
        "now": now,
        "hour": activity.hour_of(now),
        "shard": random.randrange(current_app.config["COUNTER_SHARDS"]),
    }
    if is_postgresql(session):
        row = write_first(session, _SIGN_POSTGRESQL, params)
        inserted_id = row[0] if row is not None else None
    else:
        connection = session.connection()
        inserted_id = connection.execute(_SIGN_SQLITE, params).scalar()
        if inserted_id is not None and flag is None:
            connection.execute(_QUEUE_SQLITE, {**params, "signature_id": inserted_id})
            connection.execute(_TALLY_SQLITE, params)
    if inserted_id is not None:
        return SignOutcome.FLAGGED if flag is not None else SignOutcome.CREATED
    if flag is not None:
        # A bot must not be able to make us mail someone, nor change a real signature.
        return SignOutcome.FLAGGED
    return _sign_again(session, petition, signer, digest, now=now, source=source, locale=locale, ip=ip)


def _sign_again(
    session: Session, petition, signer: SignerInput, digest: str, *, now: datetime, source: str, locale: str, ip
) -> SignOutcome:
    """The address has a signature here already: mail its owner again.

    A pending signature keeps the details it was first submitted with; other details (a typo fixed,
    or someone else using the address) are kept beside it, and the new email's link confirms those,
    while the first email's link still confirms the first details. A flagged signature was never
    mailed, so it simply takes the new details.

    Every accepted attempt counts as a sign-up in the hourly figures, whatever the address's state,
    so that no figure a partner can read moves differently for a new, a pending or a confirmed address."""
    existing = session.execute(
        select(Signature.id, Signature.status, Signature.details_digest)
        .where(Signature.petition_id == petition.id, Signature.email_hash == digest)
        .with_for_update()
    ).one_or_none()
    if existing is None:
        # Deleted (withdrawn, invalidated, purged) between the insert that found it and this read:
        # the address is free again, so this is a first signature after all.
        return sign(session, petition, signer, now=now, source=source, locale=locale, ip=ip)
    activity.record(session, petition.id, source, now, signed=1)
    if existing.status == SignatureStatus.CONFIRMED:
        sent = outbox.mail_signer(session, existing.id, petition.id, MailKind.ALREADY_SIGNED, now)
        return SignOutcome.ALREADY_SIGNED if sent else SignOutcome.MAIL_LIMIT
    details = _digest(petition.id, signer)
    if existing.status == SignatureStatus.FLAGGED:
        session.execute(
            update(Signature)
            .where(Signature.id == existing.id)
            .values(
                **_sealed_fields(signer),
                details_digest=details,
                country=signer.country,
                keep_informed=signer.keep_informed,
                locale=locale,
                status=SignatureStatus.PENDING,
                flag_reason=None,
            )
            .execution_options(synchronize_session=False)
        )
    elif details != existing.details_digest:
        _keep_submission(session, existing.id, signer, details, locale, now)
    sent = outbox.mail_signer(session, existing.id, petition.id, MailKind.CONFIRM, now, digest=details)
    return SignOutcome.RESENT if sent else SignOutcome.MAIL_LIMIT


def _keep_submission(session: Session, signature_id: int, signer: SignerInput, details: str, locale: str, now) -> None:
    row = {
        "signature_id": signature_id,
        "details_digest": details,
        **_sealed_fields(signer),
        "country": signer.country,
        "keep_informed": signer.keep_informed,
        "locale": locale,
        "created_at": now,
    }
    statement = upsert_insert(session, SignatureSubmission).values(**row)
    # The same details sent again: the latest sealing and language win (sealed values differ each time).
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["signature_id", "details_digest"],
            set_={name: statement.excluded[name] for name in ("email_sealed", "locale", "created_at")},
        )
    )


def _digest(petition_id: int, signer: SignerInput) -> str:
    return personal.details_digest(
        petition_id, signer.first_name, signer.last_name, signer.country, signer.keep_informed
    )


def _sealed_fields(signer: SignerInput) -> dict[str, bytes]:
    return {
        "email_sealed": personal.seal(signer.email),
        "first_name_sealed": personal.seal(signer.first_name),
        "last_name_sealed": personal.seal(signer.last_name),
    }
