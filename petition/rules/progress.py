"""Progress of a petition towards its goal, computed from counts and thresholds alone."""

from dataclasses import dataclass


def share_to_show(fraction: float, decimals: int = 1) -> float:
    """The fraction to print with `decimals` places of percent: short of the whole never rounds up to
    100 %, so a country one signature under its minimum (69,119 of 69,120) reads 99.9 %, not 100.0 %."""
    if fraction >= 1:
        return fraction
    return min(fraction, 1 - 10 ** -(decimals + 2))


@dataclass(frozen=True)
class CountryProgress:
    code: str
    count: int
    threshold: int | None

    @property
    def reached(self) -> bool:
        return self.threshold is not None and self.count >= self.threshold


@dataclass(frozen=True)
class Progress:
    total: int
    goal_total: int | None
    min_countries: int | None
    countries: list[CountryProgress]

    @property
    def has_goal(self) -> bool:
        return self.goal_total is not None or any(c.threshold is not None for c in self.countries)

    @property
    def countries_reached(self) -> int:
        return sum(1 for c in self.countries if c.reached)

    @property
    def countries_with_threshold(self) -> int:
        return sum(1 for c in self.countries if c.threshold is not None)

    @property
    def goal_reached(self) -> bool:
        """ECI: the total and `min_countries` countries at their minimum. Simple goals: the total, and
        every per-country target that was set."""
        if not self.has_goal:
            return False
        if self.goal_total is not None and self.total < self.goal_total:
            return False
        if self.min_countries is not None:
            return self.countries_reached >= self.min_countries
        return self.countries_reached == self.countries_with_threshold

    @property
    def goal_fraction(self) -> float | None:
        if not self.goal_total:
            return None
        return min(1.0, self.total / self.goal_total)


def build_progress(
    counts: dict[str, int], thresholds: dict[str, int], goal_total: int | None, min_countries: int | None
) -> Progress:
    codes = sorted(set(thresholds) | {code for code, n in counts.items() if n})
    countries = [CountryProgress(code, counts.get(code, 0), thresholds.get(code)) for code in codes]
    return Progress(sum(counts.values()), goal_total, min_countries, countries)
