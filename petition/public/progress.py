"""The countries on a petition's public page: sorted by progress towards their threshold, with their
share of it, and the tile map of the member states the organisers' dashboard also draws.

live.js keeps the same order and the same tiles current, so the rules here and there must agree:
by share of the threshold, then by count, then in the reader's alphabetical order (`rank`)."""

from dataclasses import dataclass

from markupsafe import Markup

from petition import charts
from petition.formatting import NumberStyle
from petition.rules.countries import country_name, sorted_by_name
from petition.rules.progress import CountryProgress


@dataclass(frozen=True)
class CountryLine:
    code: str
    name: str
    count: int
    threshold: int | None
    rank: int  # its place in the reader's alphabetical order
    share: str  # of its threshold, rounded down to a tenth of a percent ("" without a threshold)
    tile_share: str  # the same in whole percent, on the map
    safe: bool = False  # the organisers' safety margin: not a public notion

    @property
    def total(self) -> int:
        return self.count

    @property
    def reached(self) -> bool:
        return self.threshold is not None and self.count >= self.threshold

    @property
    def fraction(self) -> float | None:
        return self.count / self.threshold if self.threshold else None

    @property
    def step(self) -> str:
        return charts.tile_step(self.fraction, self.reached, self.safe)


def by_progress(line: CountryLine) -> tuple:
    fraction = line.fraction
    return (fraction is None, -(fraction or 0.0), -line.count, line.rank)


def country_lines(countries: list[CountryProgress], locale: str, style: NumberStyle) -> list[CountryLine]:
    """Countries closest to (or furthest past) their threshold first; without thresholds, by count."""
    named = sorted_by_name([c.code for c in countries], locale)
    rank = {code: i for i, (code, _name) in enumerate(named)}
    lines = [
        CountryLine(
            c.code,
            country_name(c.code, locale),
            c.count,
            c.threshold,
            rank[c.code],
            style.share(c.count, c.threshold) if c.threshold else "",
            style.share(c.count, c.threshold, 0) if c.threshold else "",
        )
        for c in countries
    ]
    return sorted(lines, key=by_progress)


def tile_map(lines: list[CountryLine], label: str) -> Markup:
    """The dashboard's map, with the reader's names in the tooltips and percentages written their way."""
    return charts.europe_tiles(lines, label, percent=lambda line: line.tile_share, tip=lambda line: line.name)
