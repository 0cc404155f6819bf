"""Hourly sign-ups and confirmations per source: recorded where signatures are taken and confirmed,
read by the organisers' dashboard (charts, confirmation rate per source)."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from petition.models import SignatureActivity
from petition.services.sql import upsert_insert


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def record(
    session: Session, petition_id: int, source: str, now: datetime, *, signed: int = 0, confirmed: int = 0
) -> None:
    """`n = n + k` on a random shard of (petition, hour, source), like the counters: exact, and
    concurrent confirmations rarely wait for one another."""
    shard = random.randrange(current_app.config["COUNTER_SHARDS"])
    _add_to_shard(session, petition_id, hour_of(now), source[:100], shard, signed, confirmed)


@dataclass(frozen=True)
class Tally:
    signed: int
    confirmed: int

    @property
    def confirmation_rate(self) -> float | None:
        return None if self.signed <= 0 else min(1.0, self.confirmed / self.signed)


PAPER = "paper"  # the source of paper statements and tallies (petition/services/paper.py)


@dataclass(frozen=True)
class History:
    hours: dict[datetime, Tally]  # every source
    sources: dict[str, Tally]
    paper_hours: dict[datetime, Tally]  # paper alone: a tally typed in at once is not an hour's signing


def history(session: Session, petition_id: int, now: datetime, cache: dict | None = None) -> History:
    """Every hour and source so far. Hours more than an hour old no longer change (rows are written at
    the hour of the sign-up or confirmation), so with a `cache` they are read once per hour and only
    the last two hours are read on each call: a year of shards is a few hundred thousand rows, and the
    dashboard refreshes every second or two."""
    settled_before = hour_of(now) - timedelta(hours=1)
    key = (petition_id, settled_before)
    settled = cache.get(key) if cache is not None else None
    if settled is None:
        settled = _read(session, petition_id, until=settled_before)
        if cache is not None:
            for old in [k for k in list(cache) if k[0] == petition_id]:
                cache.pop(old, None)
            cache[key] = settled
    recent = _read(session, petition_id, since=settled_before)
    return History(
        _merge(settled.hours, recent.hours),
        _merge(settled.sources, recent.sources),
        _merge(settled.paper_hours, recent.paper_hours),
    )


def _read(session: Session, petition_id: int, since: datetime | None = None, until: datetime | None = None) -> History:
    query = select(
        SignatureActivity.hour,
        SignatureActivity.source,
        func.sum(SignatureActivity.signed),
        func.sum(SignatureActivity.confirmed),
    ).where(SignatureActivity.petition_id == petition_id)
    if since is not None:
        query = query.where(SignatureActivity.hour >= since)
    if until is not None:
        query = query.where(SignatureActivity.hour < until)
    hours: dict[datetime, Tally] = {}
    sources: dict[str, Tally] = {}
    paper_hours: dict[datetime, Tally] = {}
    for hour, source, signed, confirmed in session.execute(
        query.group_by(SignatureActivity.hour, SignatureActivity.source)
    ):
        tally = Tally(int(signed or 0), int(confirmed or 0))
        hours[hour] = _add(hours.get(hour), tally)
        sources[source] = _add(sources.get(source), tally)
        if source.split("/", 1)[0] == PAPER:
            paper_hours[hour] = _add(paper_hours.get(hour), tally)
    return History(hours, sources, paper_hours)


def _add(a: Tally | None, b: Tally) -> Tally:
    return b if a is None else Tally(a.signed + b.signed, a.confirmed + b.confirmed)


def _merge(a: dict, b: dict) -> dict:
    merged = dict(a)
    for key, tally in b.items():
        merged[key] = _add(merged.get(key), tally)
    return merged


def compact(session: Session, now: datetime) -> int:
    """Fold the shards of every settled hour into shard 0, a day at a time; returns the rows removed.

    Shards matter only while an hour is being written; afterwards they only multiply what the
    dashboard reads (a busy year is 16 shards x 8,760 hours x each source). Rows are taken out with
    DELETE ... RETURNING and their exact sums added to shard 0 in the same transaction, so a count is
    never lost or doubled. Commits once per day of activity."""
    settled_before = hour_of(now) - timedelta(hours=2)
    removed = 0
    petitions = session.execute(
        select(SignatureActivity.petition_id, func.min(SignatureActivity.hour))
        .where(SignatureActivity.shard != 0, SignatureActivity.hour < settled_before)
        .group_by(SignatureActivity.petition_id)
    ).all()
    for petition_id, first_hour in petitions:
        day = first_hour
        while day < settled_before:
            until = min(day + timedelta(days=1), settled_before)
            taken = session.execute(
                delete(SignatureActivity)
                .where(
                    SignatureActivity.petition_id == petition_id,
                    SignatureActivity.hour >= day,
                    SignatureActivity.hour < until,
                    SignatureActivity.shard != 0,
                )
                .returning(
                    SignatureActivity.hour,
                    SignatureActivity.source,
                    SignatureActivity.signed,
                    SignatureActivity.confirmed,
                )
            ).all()
            sums: dict[tuple[datetime, str], list[int]] = {}
            for hour, source, signed, confirmed in taken:
                entry = sums.setdefault((hour, source), [0, 0])
                entry[0] += signed
                entry[1] += confirmed
            for (hour, source), (signed, confirmed) in sums.items():
                _add_to_shard(session, petition_id, hour, source, 0, signed, confirmed)
            session.commit()
            removed += len(taken) - len(sums)
            day = until
    return removed


def _add_to_shard(
    session: Session, petition_id: int, hour: datetime, source: str, shard: int, signed: int, confirmed: int
) -> None:
    table = SignatureActivity.__table__
    stmt = upsert_insert(session, SignatureActivity).values(
        petition_id=petition_id, hour=hour, source=source, shard=shard, signed=signed, confirmed=confirmed
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.petition_id, table.c.hour, table.c.source, table.c.shard],
            set_={
                "signed": table.c.signed + stmt.excluded.signed,
                "confirmed": table.c.confirmed + stmt.excluded.confirmed,
            },
        )
    )
