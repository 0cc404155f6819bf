"""The organisers' figures for one petition: counts online and on paper, pending signatures,
confirmation rates per source, activity over time and, for ECI rules, the outlook.

Reads counters, the small paper and activity tables, and pending signatures through their index; it
never counts confirmed signatures one by one.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from petition.models import PaperEntry, Petition, RuleSet, Signature, SignatureStatus
from petition.rules.countries import country_name
from petition.rules.outlook import Outlook, build_outlook, with_margin
from petition.services import activity, counting
from petition.services.attribution import parse_source

PAPER = "paper"
HOURS_SHOWN = 48
DAYS_SHOWN = 400
RECENT_DAYS = 7


@dataclass(frozen=True)
class CountryFigures:
    code: str
    name: str
    online: int
    paper: int
    threshold: int | None

    @property
    def total(self) -> int:
        return self.online + self.paper

    @property
    def fraction(self) -> float | None:
        return None if not self.threshold else self.total / self.threshold

    @property
    def reached(self) -> bool:
        return self.threshold is not None and self.total >= self.threshold

    @property
    def margin_target(self) -> int | None:
        return with_margin(self.threshold) if self.threshold else None

    @property
    def safe(self) -> bool:
        return self.margin_target is not None and self.total >= self.margin_target


@dataclass(frozen=True)
class SourceFigures:
    source: str
    signed: int
    confirmed: int

    @property
    def rate(self) -> float | None:
        return None if self.signed <= 0 else min(1.0, self.confirmed / self.signed)


@dataclass(frozen=True)
class Figures:
    total: int
    paper: int
    pending: int
    goal_total: int | None
    min_countries: int | None
    countries: list[CountryFigures]
    channels: list[SourceFigures]  # by the part of the source before "/": web, widget:<id>, api:<id>, paper
    sources: list[SourceFigures]  # by the full source, with its campaign code
    hourly: list[tuple[datetime, int]]  # confirmed online per hour, the last HOURS_SHOWN hours
    daily: list[tuple[date, int]]  # confirmed online per day since opening
    paper_daily: list[tuple[date, int]]  # recorded on paper per day, apart: a tally is typed in at once
    outlook: Outlook | None
    updated_at: datetime | None

    @property
    def online(self) -> int:
        return self.total - self.paper

    @property
    def countries_reached(self) -> int:
        return sum(1 for c in self.countries if c.reached)

    @property
    def goal_fraction(self) -> float | None:
        return None if not self.goal_total else min(1.0, self.total / self.goal_total)

    @property
    def online_confirmation_rate(self) -> float | None:
        online = [s for s in self.channels if s.source != PAPER]
        signed = sum(s.signed for s in online)
        return None if signed <= 0 else min(1.0, sum(s.confirmed for s in online) / signed)


def paper_by_country(session: Session, petition_id: int) -> dict[str, int]:
    rows = session.execute(
        select(PaperEntry.country, func.sum(PaperEntry.count))
        .where(PaperEntry.petition_id == petition_id)
        .group_by(PaperEntry.country)
    ).all()
    return {country: int(n) for country, n in rows if n}


def count_pending(session: Session, petition_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Signature)
        .where(Signature.petition_id == petition_id, Signature.status == SignatureStatus.PENDING)
    )


def figures(session: Session, petition: Petition, now: datetime, cache: dict | None = None) -> Figures:
    counts = counting.read_counts(session, petition.id)
    progress = counting.progress_of(petition, counts)
    paper = paper_by_country(session, petition.id)
    countries = [
        CountryFigures(c.code, country_name(c.code), c.count - paper.get(c.code, 0), paper.get(c.code, 0), c.threshold)
        for c in progress.countries
    ]
    history = activity.history(session, petition.id, now, cache)
    online = _without(history.hours, history.paper_hours)
    outlook = None
    if petition.rules == RuleSet.ECI or any(c.threshold for c in countries):
        outlook = build_outlook(
            progress,
            now=now,
            opens_at=petition.opens_at,
            closes_at=petition.closes_at if petition.is_accepting_signatures(now) else None,
            recent_per_day=recent_pace(history.hours, now, petition.opens_at),
        )
    return Figures(
        total=progress.total,
        paper=sum(paper.values()),
        pending=count_pending(session, petition.id),
        goal_total=petition.goal_total,
        min_countries=petition.min_countries,
        countries=countries,
        channels=_grouped(history.sources, lambda source: source.split("/", 1)[0]),
        sources=_grouped(history.sources, lambda source: source),
        hourly=hourly_series(online, now),
        daily=daily_series(online, now, petition.opens_at),
        paper_daily=daily_series(history.paper_hours, now, petition.opens_at) if history.paper_hours else [],
        outlook=outlook,
        updated_at=counts.updated_at,
    )


@dataclass(frozen=True)
class PartnerFigures:
    """A partner's rows of the per-source table: its widget, its API calls, and each campaign code."""

    widget: SourceFigures
    api: SourceFigures
    sources: list[SourceFigures]

    @property
    def total(self) -> SourceFigures:
        return SourceFigures("", self.widget.signed + self.api.signed, self.widget.confirmed + self.api.confirmed)


def partner_figures(
    session: Session, petition_id: int, now: datetime, cache: dict | None = None
) -> dict[str, PartnerFigures]:
    """The dashboard's per-source figures gathered per partner, keyed by the partner's public id: the
    same numbers as its `widget:<id>` and `api:<id>` rows, from the same cheap activity table."""
    history = activity.history(session, petition_id, now, cache)
    channels = {row.source: row for row in _grouped(history.sources, lambda source: source.split("/", 1)[0])}
    sources: dict[str, list[SourceFigures]] = {}
    for row in _grouped(history.sources, lambda source: source):
        partner_id = parse_source(row.source).partner_id
        if partner_id is not None:
            sources.setdefault(partner_id, []).append(row)

    def channel(name: str) -> SourceFigures:
        return channels.get(name) or SourceFigures(name, 0, 0)

    return {
        partner_id: PartnerFigures(channel(f"widget:{partner_id}"), channel(f"api:{partner_id}"), rows)
        for partner_id, rows in sources.items()
    }


def _grouped(sources: dict[str, activity.Tally], key) -> list[SourceFigures]:
    totals: dict[str, list[int]] = {}
    for source, tally in sources.items():
        entry = totals.setdefault(key(source), [0, 0])
        entry[0] += tally.signed
        entry[1] += tally.confirmed
    rows = [SourceFigures(name, signed, confirmed) for name, (signed, confirmed) in totals.items()]
    return sorted(rows, key=lambda s: (-s.confirmed, s.source))


def _without(hours: dict[datetime, activity.Tally], part: dict[datetime, activity.Tally]) -> dict:
    return {
        hour: activity.Tally(t.signed - part[hour].signed, t.confirmed - part[hour].confirmed) if hour in part else t
        for hour, t in hours.items()
    }


def hourly_series(hours: dict[datetime, activity.Tally], now: datetime) -> list[tuple[datetime, int]]:
    last = activity.hour_of(now)
    series = []
    for back in range(HOURS_SHOWN - 1, -1, -1):
        hour = last - timedelta(hours=back)
        tally = hours.get(hour)
        series.append((hour, max(0, tally.confirmed) if tally else 0))
    return series


def daily_series(
    hours: dict[datetime, activity.Tally], now: datetime, opens_at: datetime | None
) -> list[tuple[date, int]]:
    today = now.astimezone(UTC).date()
    first = opens_at.astimezone(UTC).date() if opens_at else today
    first = max(first, today - timedelta(days=DAYS_SHOWN - 1))
    if hours:
        first = min(first, max(min(hours).date(), today - timedelta(days=DAYS_SHOWN - 1)))
    by_day: dict[date, int] = {}
    for hour, tally in hours.items():
        by_day[hour.date()] = by_day.get(hour.date(), 0) + tally.confirmed
    days = (today - first).days + 1
    return [(first + timedelta(days=i), max(0, by_day.get(first + timedelta(days=i), 0))) for i in range(max(days, 1))]


def recent_pace(hours: dict[datetime, activity.Tally], now: datetime, opens_at: datetime | None) -> float:
    """Confirmed signatures per day over the last RECENT_DAYS days (or since opening, if sooner)."""
    since = now - timedelta(days=RECENT_DAYS)
    if opens_at is not None and opens_at > since:
        since = opens_at
    window_days = max((now - since).total_seconds() / 86400, 1.0)
    first_hour = activity.hour_of(since)
    recent = sum(t.confirmed for hour, t in hours.items() if hour >= first_hour)
    return max(0.0, recent / window_days)
