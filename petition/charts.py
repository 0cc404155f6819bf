"""Charts drawn on the server as SVG: no script, no third-party library, readable without colour (every
bar and tile carries its figures as text or a title), and allowed by our Content-Security-Policy
(presentation attributes only, no inline style)."""

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime

from markupsafe import Markup, escape

# A tile map of the 27 member states: (column, row), roughly where each lies.
EU_TILES = {
    "SE": (4, 0), "FI": (5, 0),
    "IE": (0, 1), "DK": (3, 1), "EE": (5, 1),
    "NL": (2, 2), "DE": (3, 2), "PL": (4, 2), "LV": (5, 2),
    "BE": (1, 3), "LU": (2, 3), "CZ": (3, 3), "SK": (4, 3), "LT": (5, 3),
    "PT": (0, 4), "FR": (1, 4), "AT": (3, 4), "HU": (4, 4), "RO": (5, 4),
    "ES": (1, 5), "IT": (2, 5), "SI": (3, 5), "HR": (4, 5), "BG": (5, 5),
    "MT": (2, 6), "GR": (5, 6), "CY": (6, 6),
}  # fmt: skip
# Light to dark as a country nears its minimum; greens once reached, darker with the safety margin.
# (lower bound of the share of the minimum, fill, text colour); the `.tiles .s0` ... rules and the
# legend's swatches in site.css match, and live.js steps tiles at the same bounds.
TILE_STEPS = [
    (0.0, "#f3f4f6", "#1b1b1b"),
    (1e-9, "#dbe8f5", "#1b1b1b"),
    (0.25, "#b3cfec", "#1b1b1b"),
    (0.5, "#78a9dc", "#1b1b1b"),
    (0.75, "#2f6fb3", "#ffffff"),
]
_REACHED = ("#2e8b57", "#ffffff")
_SAFE = ("#17502f", "#ffffff")
_NONE = ("#ffffff", "#767676")


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _fmt(number: int) -> str:
    return f"{number:,}"


def tile_step(fraction: float | None, reached: bool, safe: bool) -> str:
    """The colour step of a tile, also its class (site.css colours it, so live.js can recolour it)."""
    if fraction is None:
        return "none"
    if safe:
        return "safe"
    if reached:
        return "reached"
    step = 0
    for i, (floor, _fill, _ink) in enumerate(TILE_STEPS):
        if fraction >= floor:
            step = i
    return f"s{step}"


def tile_colours(fraction: float | None, reached: bool, safe: bool) -> tuple[str, str]:
    step = tile_step(fraction, reached, safe)
    if step == "none":
        return _NONE
    if step == "safe":
        return _SAFE
    if step == "reached":
        return _REACHED
    return TILE_STEPS[int(step[1:])][1:]


def _english_percent(c) -> str:
    # Rounded down: a country one signature short is at 99%, never 100%.
    return f"{min(c.total * 100 // c.threshold, 999)}%"


def _english_tip(c) -> str:
    return f"{c.name}: {_fmt(c.total)} of {_fmt(c.threshold)}" if c.threshold else c.name


def europe_tiles(
    countries: Sequence, label: str, *, percent: Callable = _english_percent, tip: Callable = _english_tip
) -> Markup:
    """`countries`: objects with code, name, total, threshold, fraction, reached, safe. `percent(c)` and
    `tip(c)` write a country's share and tooltip (English for organisers, the reader's way in public)."""
    by_code = {c.code: c for c in countries}
    size, gap = 56, 4
    width = 7 * (size + gap)
    height = 7 * (size + gap)
    parts = [
        f'<svg class="tiles" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for code, (col, row) in EU_TILES.items():
        c = by_code.get(code)
        fraction = c.fraction if c is not None else None
        reached, safe = bool(c and c.reached), bool(c and c.safe)
        step = tile_step(fraction, reached, safe)
        fill, ink = tile_colours(fraction, reached, safe)
        x, y = col * (size + gap), row * (size + gap)
        share = escape(percent(c)) if c is not None and c.threshold else "–"
        name = escape(tip(c)) if c is not None else code
        parts.append(
            f'<g data-country="{code}" class="{step}"><title>{name}</title>'
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="6" fill="{fill}"/>'
            f'<text x="{x + size / 2}" y="{y + 24}" text-anchor="middle" font-size="15" font-weight="700" '
            f'fill="{ink}">{code}</text>'
            f'<text x="{x + size / 2}" y="{y + 43}" text-anchor="middle" font-size="12" fill="{ink}" '
            f'data-live="tile-share">{share}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from our own codes and numbers; names escaped


def bar_chart(
    series: Sequence[tuple[datetime | date, int]],
    label: str,
    *,
    tick_every: int,
    tick_format: str,
    min_slots: int = 1,
    colour: str = "#0b5cad",
) -> Markup:
    """Columns over time, with the highest value and a few dates written on the axes.

    Drawn at its own size and scaled as a whole by the page (never stretched, so its text keeps its
    shape). A series shorter than `min_slots` leaves room on the right rather than widening each
    column: one day is one narrow column, not a block across the chart. Dates are written no closer
    than their own width."""
    peak = max((v for _, v in series), default=0)
    # Room on the left for the highest value, however many digits it has.
    width, height, left, bottom, top = 640, 180, max(44, round(6.5 * len(_fmt(peak)) + 10)), 22, 10
    plot_w, plot_h = width - left - 4, height - bottom - top
    scale = plot_h / peak if peak else 0
    step = plot_w / max(len(series), min_slots, 1)
    bar = max(step - (1 if step > 3 else 0), 0.5)
    label_width = 6.5 * len(datetime(2000, 1, 1).strftime(tick_format)) + 8
    tick_every = max(tick_every, math.ceil(label_width / step))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#767676"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" font-size="11" fill="#555">{_fmt(peak)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="11" fill="#555">0</text>',
    ]
    for i, (moment, value) in enumerate(series):
        x = left + i * step
        h = value * scale
        parts.append(
            f'<rect x="{_n(x)}" y="{_n(top + plot_h - h)}" width="{_n(bar)}" height="{_n(h)}" fill="{colour}">'
            f"<title>{moment.strftime(tick_format)}: {_fmt(value)}</title></rect>"
        )
        if i % tick_every == 0 and x + label_width <= width + 8:
            parts.append(
                f'<text x="{_n(x)}" y="{height - 6}" font-size="11" fill="#555">{moment.strftime(tick_format)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers and dates only


def threshold_bar(total: int, threshold: int | None, margin_target: int | None, label: str) -> Markup:
    """A horizontal bar of one country's count, with marks at its minimum and at the safety margin."""
    if not threshold:
        return Markup("")
    width, height = 200, 16
    scale_max = max(margin_target or threshold, total, 1)
    fill_w = min(total, scale_max) / scale_max * width
    mark = threshold / scale_max * width
    colour = _SAFE[0] if margin_target and total >= margin_target else _REACHED[0] if total >= threshold else "#2f6fb3"
    parts = [
        f'<svg class="bar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f'<rect x="0" y="2" width="{width}" height="{height - 4}" fill="#f3f4f6"/>',
        f'<rect x="0" y="2" width="{_n(fill_w)}" height="{height - 4}" fill="{colour}"/>',
        f'<line x1="{_n(mark)}" y1="0" x2="{_n(mark)}" y2="{height}" stroke="#1b1b1b" stroke-width="2"/>',
    ]
    if margin_target:
        margin = margin_target / scale_max * width
        parts.append(
            f'<line x1="{_n(margin)}" y1="0" x2="{_n(margin)}" y2="{height}" stroke="#1b1b1b" stroke-dasharray="3 2"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - numbers only
