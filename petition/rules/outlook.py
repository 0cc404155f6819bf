"""Where an ECI collection stands and where it is heading: what each country still needs per day to
reach its minimum (and the safety margin) by the closing date, and a projection at the current pace.

Member states' checks reject some statements (wrong ID number, double signing, illegible); campaigns
aim about 25% above each minimum so that enough survive verification.
"""

import math
from dataclasses import dataclass
from datetime import datetime

from petition.rules.progress import Progress

SAFETY_MARGIN = 0.25


def with_margin(threshold: int) -> int:
    return math.ceil(threshold * (1 + SAFETY_MARGIN))


@dataclass(frozen=True)
class CountryOutlook:
    code: str
    count: int
    threshold: int
    margin_target: int
    needed_per_day: float | None  # to reach the minimum by the closing date; 0 once reached
    needed_per_day_with_margin: float | None
    projected: int | None  # at the current pace, shared out as the signatures so far are

    @property
    def fraction(self) -> float:
        return self.count / self.threshold

    @property
    def reached(self) -> bool:
        return self.count >= self.threshold

    @property
    def safe(self) -> bool:
        return self.count >= self.margin_target


@dataclass(frozen=True)
class Outlook:
    days_left: float | None
    days_elapsed: float
    total: int
    goal_total: int | None
    min_countries: int | None
    recent_per_day: float  # signatures per day lately: the basis of every projection
    needed_per_day: float | None
    needed_per_day_with_margin: float | None
    projected_total: int | None
    countries: list[CountryOutlook]

    @property
    def reached(self) -> list[CountryOutlook]:
        return [c for c in self.countries if c.reached]

    @property
    def below_margin(self) -> list[CountryOutlook]:
        """Reached on paper, but close enough to the minimum that rejected statements could undo it."""
        return [c for c in self.countries if c.reached and not c.safe]

    @property
    def closest(self) -> list[CountryOutlook]:
        """Countries not there yet, the nearest to their minimum first."""
        return sorted((c for c in self.countries if not c.reached), key=lambda c: (-c.fraction, c.code))

    @property
    def projected_countries_reached(self) -> int | None:
        if any(c.projected is None for c in self.countries):
            return None
        return sum(1 for c in self.countries if c.projected >= c.threshold)

    @property
    def on_track(self) -> bool | None:
        if self.projected_total is None or self.goal_total is None:
            return None
        return not self.shortfall

    @property
    def shortfall(self) -> tuple[str, ...]:
        """Why the goal would be missed at the current pace: "total" (too few signatures), "countries"
        (too few countries at their minimum, though the total may be there), both, or neither."""
        if self.projected_total is None or self.goal_total is None:
            return ()
        reasons = []
        if self.projected_total < self.goal_total:
            reasons.append("total")
        if self.min_countries is not None and (self.projected_countries_reached or 0) < self.min_countries:
            reasons.append("countries")
        return tuple(reasons)


def _per_day(missing: int, days_left: float | None) -> float | None:
    if missing <= 0:
        return 0.0
    if days_left is None or days_left <= 0:
        return None
    return missing / days_left


def build_outlook(
    progress: Progress,
    *,
    now: datetime,
    opens_at: datetime | None,
    closes_at: datetime | None,
    recent_per_day: float,
) -> Outlook:
    days_left = max(0.0, (closes_at - now).total_seconds() / 86400) if closes_at else None
    days_elapsed = max(0.0, (now - opens_at).total_seconds() / 86400) if opens_at else 0.0
    countries = []
    for c in progress.countries:
        if c.threshold is None:
            continue
        margin = with_margin(c.threshold)
        projected = None
        if days_left is not None:
            # There is no per-country pace: the current pace is shared out as the signatures so far are.
            share = c.count / progress.total if progress.total else 0.0
            projected = c.count + round(share * recent_per_day * days_left)
        countries.append(
            CountryOutlook(
                code=c.code,
                count=c.count,
                threshold=c.threshold,
                margin_target=margin,
                needed_per_day=_per_day(c.threshold - c.count, days_left),
                needed_per_day_with_margin=_per_day(margin - c.count, days_left),
                projected=projected,
            )
        )
    goal = progress.goal_total
    return Outlook(
        days_left=days_left,
        days_elapsed=days_elapsed,
        total=progress.total,
        goal_total=goal,
        min_countries=progress.min_countries,
        recent_per_day=recent_per_day,
        needed_per_day=_per_day(goal - progress.total, days_left) if goal else None,
        needed_per_day_with_margin=_per_day(with_margin(goal) - progress.total, days_left) if goal else None,
        projected_total=progress.total + round(recent_per_day * days_left) if days_left is not None else None,
        countries=countries,
    )
