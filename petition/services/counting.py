"""Counting confirmed signatures: exact under concurrency, cheap to read, and checkable by `recount`.

Every change is `count = count + delta` on one of `COUNTER_SHARDS` rows per (petition, country),
picked at random, so concurrent confirmations in one country rarely wait for each other. Reading a
petition sums at most shards x countries small rows, never the signatures themselves.
"""

import random
import zlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from petition.models import Milestone, PaperKind, Petition, SignatureCount, SignatureStatus
from petition.rules.progress import Progress, build_progress
from petition.services import notifying
from petition.services.sql import is_postgresql, upsert_insert


def add(session: Session, petition_id: int, country: str, delta: int, now: datetime, shard: int | None = None) -> None:
    if shard is None:
        shard = random.randrange(current_app.config["COUNTER_SHARDS"])
    table = SignatureCount.__table__
    stmt = upsert_insert(session, SignatureCount).values(
        petition_id=petition_id, country=country, shard=shard, count=delta, updated_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.petition_id, table.c.country, table.c.shard],
        set_={"count": table.c.count + stmt.excluded.count, "updated_at": stmt.excluded.updated_at},
    )
    session.execute(stmt)


@dataclass(frozen=True)
class Counts:
    by_country: dict[str, int]
    updated_at: datetime | None

    @property
    def total(self) -> int:
        return sum(self.by_country.values())


def read_counts(session: Session, petition_id: int) -> Counts:
    rows = session.execute(
        select(SignatureCount.country, func.sum(SignatureCount.count), func.max(SignatureCount.updated_at))
        .where(SignatureCount.petition_id == petition_id)
        .group_by(SignatureCount.country)
    ).all()
    by_country = {country: int(n) for country, n, _ in rows if n}
    return Counts(by_country, max((ts for *_, ts in rows if ts is not None), default=None))


def progress_of(petition: Petition, counts: Counts) -> Progress:
    return build_progress(counts.by_country, petition.thresholds(), petition.goal_total, petition.min_countries)


def stamp_milestones(session: Session, petition: Petition, now: datetime) -> list[tuple[str, str]]:
    """Record each threshold crossed and not yet recorded; returns the ones this call stamped. The
    caller commits (the stamps and the organisers' emails together).

    Called after the confirming transaction has committed: of several confirmations racing across a
    threshold, the last to commit is sure to see the crossing, and the primary key keeps it single."""
    progress = progress_of(petition, read_counts(session, petition.id))
    crossed = [("country", c.code, c.count) for c in progress.countries if c.reached]
    if progress.goal_total is not None and progress.total >= progress.goal_total:
        crossed.append(("goal", "total", progress.total))
    if progress.min_countries is not None and progress.countries_reached >= progress.min_countries:
        crossed.append(("goal", "countries", progress.countries_reached))
    if progress.goal_total:
        for percent in notifying.GOAL_PERCENTAGES:
            if progress.total * 100 >= progress.goal_total * percent:
                crossed.append(("goal_percent", str(percent), progress.total))
    if not crossed:
        return []
    known = set(session.execute(select(Milestone.kind, Milestone.key).where(Milestone.petition_id == petition.id)))
    stamped = []
    for kind, key, count in crossed:
        if (kind, key) in known:
            continue
        stmt = (
            upsert_insert(session, Milestone)
            .values(petition_id=petition.id, kind=kind, key=key, reached_at=now, count_at=count)
            .on_conflict_do_nothing()
            # RETURNING, not rowcount: SQLAlchemy 2.1 with psycopg reports -1 rows for any INSERT, which
            # made every racing stamper believe it had stamped the milestone.
            .returning(Milestone.key)
        )
        if session.execute(stmt).first() is not None:
            stamped.append((kind, key))
    if stamped:
        # The organisers' emails commit with the stamps: a milestone stamped is a milestone announced, once.
        notifying.milestones_reached(session, petition.id, stamped, now)
    return stamped


_RECOUNT_SQL = text(
    """
    SELECT country, SUM(actual) AS actual, SUM(counted) AS counted FROM (
        SELECT country, COUNT(*) AS actual, 0 AS counted FROM signatures
         WHERE petition_id = :petition_id AND status = :confirmed GROUP BY country
        UNION ALL
        SELECT country, 0 AS actual, SUM(count) AS counted FROM signature_counts
         WHERE petition_id = :petition_id GROUP BY country
        UNION ALL
        SELECT country, SUM(count) AS actual, 0 AS counted FROM paper_entries
         WHERE petition_id = :petition_id AND kind = :paper_tally GROUP BY country
    ) AS all_sides GROUP BY country
    """
)


@dataclass(frozen=True)
class Drift:
    country: str
    counted: int
    actual: int


def recount(session: Session, petition: Petition, now: datetime) -> list[Drift]:
    """Bring every counter of one petition back to the number of confirmed signatures plus the paper
    statements tallied by hand (uploaded paper statements are confirmed signatures already).

    Both sides are read in one statement, so they come from one snapshot even while people confirm;
    the correction is applied as a delta, which stays right whatever commits after that snapshot.
    Recounts of one petition are serialised so that two never apply the same correction twice."""
    if is_postgresql(session):
        session.execute(select(func.pg_advisory_xact_lock(zlib.crc32(f"recount:{petition.id}".encode()))))
    rows = session.execute(
        _RECOUNT_SQL,
        {
            "petition_id": petition.id,
            "confirmed": SignatureStatus.CONFIRMED.value,
            "paper_tally": PaperKind.TALLY.value,
        },
    ).all()
    drifts = [Drift(country, int(counted), int(actual)) for country, actual, counted in rows if actual != counted]
    for drift in drifts:
        add(session, petition.id, drift.country, drift.actual - drift.counted, now, shard=0)
    session.commit()
    stamp_milestones(session, petition, now)
    session.commit()
    return drifts
