"""Confirming: a signature moves from pending to counted exactly once.

The hot path is one statement on PostgreSQL (the status change, the counter, the hourly tally and a
read of the petition's counters as they stood), committed by itself, and four short ones on SQLite.
Its figures tell whether a milestone could have been crossed; only then does the caller look at the
milestone table.
"""

import random
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from petition.models import Signature, SignatureStatus, SignatureSubmission
from petition.services import activity, notifying, signature_links
from petition.services.sql import is_postgresql, typed_text, write_first
from petition.timeutil import UTCDateTime

# Confirmations in flight at once (across every process) are counted by none of the others' reads.
# Any confirmation that brings a figure within this distance of an unstamped threshold checks the
# milestones after it commits, so the last of a racing group is sure to see the crossing.
MILESTONE_MARGIN = 256

# Confirms only while the petition accepts signatures (a closed petition's count is final), and only
# the details the link was sent for.
_CONFIRM = """
    UPDATE signatures SET status = 'confirmed', confirmed_at = :now
     WHERE id = :signature_id AND status = 'pending' AND (:any_details OR details_digest {same_as} :digest)
       AND EXISTS (SELECT 1 FROM petitions p
                    WHERE p.id = signatures.petition_id AND p.status = 'open'
                      AND (p.closes_at IS NULL OR p.closes_at > :now) AND (p.opens_at IS NULL OR p.opens_at <= :now))
    RETURNING petition_id, country, source, locale"""
_COUNT = """
    INSERT INTO signature_counts (petition_id, country, shard, count, updated_at)
    SELECT petition_id, country, :shard, 1, :now FROM {source} WHERE true
    ON CONFLICT (petition_id, country, shard)
    DO UPDATE SET count = signature_counts.count + 1, updated_at = excluded.updated_at"""
_TALLY = """
    INSERT INTO signature_activity (petition_id, hour, source, shard, signed, confirmed)
    SELECT petition_id, :hour, source, :shard, 0, 1 FROM {source} WHERE true
    ON CONFLICT (petition_id, hour, source, shard) DO UPDATE SET confirmed = signature_activity.confirmed + 1"""
_FIGURES = """
    SELECT coalesce(sum(count), 0), coalesce(sum(CASE WHEN country = :country THEN count ELSE 0 END), 0)
      FROM signature_counts WHERE petition_id = :petition_id"""


def _typed(sql: str):
    return typed_text(sql, now=UTCDateTime, hour=UTCDateTime)


_CONFIRM_POSTGRESQL = _typed(
    f"""
    WITH confirmed AS ({_CONFIRM.format(same_as="IS NOT DISTINCT FROM")}),
    counted AS ({_COUNT.format(source="confirmed")}),
    tallied AS ({_TALLY.format(source="confirmed")})
    SELECT c.petition_id, c.country, c.locale,
           (SELECT coalesce(sum(n.count), 0) FROM signature_counts n WHERE n.petition_id = c.petition_id)
             AS total_before,
           (SELECT coalesce(sum(n.count), 0) FROM signature_counts n
             WHERE n.petition_id = c.petition_id AND n.country = c.country) AS country_before
      FROM confirmed c"""  # noqa: S608 (constants only, never input)
)
_CONFIRM_SQLITE = _typed(_CONFIRM.format(same_as="IS"))
_COUNT_SQLITE = _typed(_COUNT.format(source="(SELECT :petition_id AS petition_id, :country AS country)"))
_TALLY_SQLITE = _typed(_TALLY.format(source="(SELECT :petition_id AS petition_id, :source AS source)"))
_FIGURES_SQLITE = text(_FIGURES)


def make_confirm_token(signature_id: int, digest: str | None) -> str:
    """The payload is the signature's id and the digest of its details: a leaked link reveals nobody."""
    return signature_links.CONFIRM.make(signature_id, digest)


@dataclass(frozen=True)
class Confirmed:
    petition_id: int
    country: str
    locale: str  # the language the person signed in: their thanks page speaks it
    # The petition's total and the country's count with this confirmation, as far as this
    # transaction could see (confirmations committing at the same moment may be missing).
    total: int = 0
    country_count: int = 0


def confirm(session: Session, link: signature_links.Link | int, now: datetime) -> Confirmed | None:
    """Confirm a pending signature and count it; the caller commits (on PostgreSQL, outside any
    transaction, the statement has committed by itself: see `sql.write_first`). Returns None when
    there was nothing to confirm (already confirmed, flagged, gone, its details submitted again since
    the link was sent, or the petition closed), which makes repeats harmless: the conditional UPDATE
    lets exactly one of any number of racing requests through.

    `link` is what a confirmation link names; a bare signature id (tests, tools) confirms whatever
    details are stored."""
    if isinstance(link, int):
        link, any_details = signature_links.Link(link), True
    else:
        any_details = False
    params = {
        "signature_id": link.signature_id,
        "digest": link.digest,
        "any_details": any_details,
        "now": now,
        "hour": activity.hour_of(now),
        "shard": random.randrange(current_app.config["COUNTER_SHARDS"]),
    }
    if is_postgresql(session):
        row = write_first(session, _CONFIRM_POSTGRESQL, params)
        if row is None:
            return None
        petition_id, country, locale, total_before, country_before = row
        return Confirmed(petition_id, country, locale, total_before + 1, country_before + 1)
    connection = session.connection()
    row = connection.execute(_CONFIRM_SQLITE, params).first()
    if row is None:
        return None
    params.update(petition_id=row.petition_id, country=row.country, source=row.source)
    connection.execute(_COUNT_SQLITE, params)
    connection.execute(_TALLY_SQLITE, params)
    total, country_count = connection.execute(_FIGURES_SQLITE, params).one()
    return Confirmed(row.petition_id, row.country, row.locale, total, country_count)


def confirm_link(session: Session, link: signature_links.Link, now: datetime) -> Confirmed | None:
    """`confirm` for a confirmation link. A link sent for other details than the signature's first
    ones (see signing._sign_again) first makes those the signature's details, then confirms: each
    link confirms what was submitted with it. The caller commits."""
    confirmed = confirm(session, link, now)
    if confirmed is None and link.digest is not None and _adopt_submission(session, link):
        confirmed = confirm(session, link, now)
        session.execute(delete(SignatureSubmission).where(SignatureSubmission.signature_id == link.signature_id))
    return confirmed


def _adopt_submission(session: Session, link: signature_links.Link) -> bool:
    submission = session.scalars(
        select(SignatureSubmission).where(
            SignatureSubmission.signature_id == link.signature_id, SignatureSubmission.details_digest == link.digest
        )
    ).one_or_none()
    if submission is None:
        return False
    adopted = session.execute(
        update(Signature)
        .where(Signature.id == link.signature_id, Signature.status == SignatureStatus.PENDING)
        .values(
            {
                name: getattr(submission, name)
                for name in (*SUBMITTED_DETAILS, "email_sealed", "details_digest", "locale")
            }
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(adopted)


# What a submission carries besides the address and its language.
SUBMITTED_DETAILS = ("first_name_sealed", "last_name_sealed", "country", "keep_informed")


def may_cross_milestone(facts, confirmed: Confirmed) -> bool:
    """Whether this confirmation brought a figure to, or near, a threshold not yet stamped: then the
    caller runs `counting.stamp_milestones` after committing. `facts` is the petition's snapshot
    (thresholds, goal, milestones already stamped)."""
    near = [(("country", confirmed.country), facts.thresholds.get(confirmed.country), confirmed.country_count)]
    if facts.goal_total:
        near.append((("goal", "total"), facts.goal_total, confirmed.total))
        for percent in notifying.GOAL_PERCENTAGES:
            near.append((("goal_percent", str(percent)), -(-facts.goal_total * percent // 100), confirmed.total))
    return any(
        threshold is not None and figure >= threshold - MILESTONE_MARGIN and milestone not in facts.milestones
        for milestone, threshold, figure in near
    )
