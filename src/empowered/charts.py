"""Accessible charts as hand-written SVG: no JavaScript, no external files, no plotting library.

Every chart is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``
(unique ids per chart), scales to its container (``width="100%"`` and a ``viewBox``) and
comes with the data table a page shows beside it (:attr:`Chart.table_rows`), because a
chart alone is not accessible. Design rules:

* the viewBox is 400 units wide and text is at least 16 units, so text stays above 12 px
  when the chart is squeezed to 320 px (a phone); the page caps a chart's width (CSS
  ``figure.chart { max-width: 28rem }``) so on a wide screen its text stays near the body
  text's size (17.9 px at most) instead of growing with the window;
* every chart names its axes and their units, and has a key when it draws more than one
  series or shades by count (the incident heatmap);
* a chart with nothing to draw sets :attr:`Chart.empty`, and the page says so in words
  instead of drawing empty axes;
* every colour has at least 3:1 contrast with the white background, and colour is never the
  only cue: series also differ by dash pattern and marker shape, flagged scatterplot rows
  are outlined and starred, and shaded cells print their count;
* every text value is XML-escaped; there are no event handlers and no external references.

Hand-written SVG keeps a chart to a few kilobytes and well under a millisecond to build,
which matters for the pages' response-time target.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from empowered.analytics.situations import Scatterplot
from empowered.analytics.wording import day_text

WIDTH = 400
FONT = 16  # user units; 400 units drawn at 320 px is 12.8 px
MIN_CELL_FOR_COUNT = 18  # narrower scatterplot cells leave the count to the data table
BACKGROUND = "#ffffff"
INK = "#1a1a1a"
GRID = "#767676"  # 4.5:1 on white
# Each at least 3:1 against white (tests check it), and distinguishable for the common
# colour-vision deficiencies; dashes and markers carry the difference anyway.
PALETTE = ("#1f5fa8", "#b3450e", "#2b7a2b", "#7a3d9a", "#555555", "#a1145a")
DASHES = ("", "8 4", "2 4", "10 4 2 4", "4 4", "12 3")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "circle-open")
SHADES = ("#ffffff", "#c7dcef", "#6aa3d5", "#1f5fa8")  # 0, 1, 2, 3+ incidents

_ids = itertools.count(1)


@dataclass(frozen=True)
class Chart:
    svg: str
    title: str
    description: str
    table_columns: tuple[str, ...]
    table_rows: tuple[tuple[str, ...], ...]
    empty: bool = False  # nothing to draw: the page says so in words instead


def text(value: object) -> str:
    """XML-escape text content and attribute values (quotes included)."""
    return escape(str(value), {'"': "&quot;", "'": "&#x27;"})


def fmt(value: float | None) -> str:
    """A value as shown in the data table: up to 2 decimals, no trailing zeros."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    out = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if out == "-0" else out


def _open(title: str, description: str, height: float) -> tuple[str, list[str]]:
    n = next(_ids)
    tid, did = f"chart-{n}-title", f"chart-{n}-desc"
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{tid} {did}" '
        f'viewBox="0 0 {WIDTH} {height:g}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'font-family="sans-serif" font-size="{FONT}">',
        f'<title id="{tid}">{text(title)}</title>',
        f'<desc id="{did}">{text(description)}</desc>',
        f'<rect width="{WIDTH}" height="{height:g}" fill="{BACKGROUND}"/>',
    ]
    return tid, head


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    r = 4.0
    if kind == "square":
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" '
            f'fill="{colour}"/>'
        )
    if kind == "triangle":
        pts = f"{x:.1f},{y - r - 1:.1f} {x - r - 1:.1f},{y + r:.1f} {x + r + 1:.1f},{y + r:.1f}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    if kind == "diamond":
        pts = (
            f"{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y:.1f} "
            f"{x:.1f},{y + r + 1:.1f} {x - r - 1:.1f},{y:.1f}"
        )
        return f'<polygon points="{pts}" fill="{colour}"/>'
    if kind == "cross":
        return (
            f'<path d="M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}'
            f'L{x + r:.1f},{y - r:.1f}" stroke="{colour}" stroke-width="2"/>'
        )
    if kind == "circle-open":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{BACKGROUND}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>'


def _day_label(d: date, *, with_year: bool = False) -> str:
    return f"{d.day} {d:%b} {d.year}" if with_year else f"{d.day} {d:%b}"


def line_chart(
    title: str,
    series: Mapping[str, Sequence[tuple[date, float | None]]],
    *,
    y_label: str,
    y_range: tuple[float, float] | None = None,
    x_label: str = "week starting",
    markers: Sequence[tuple[date, str]] = (),
) -> Chart:
    """Lines over dates, one per series; a missing value (None) breaks the line.

    ``markers``: (day, what) drawn as dashed vertical lines (a lasting change began there),
    with a key line of their own and their days in the description."""
    names = list(series)
    dates = sorted({d for points in series.values() for d, _ in points})
    values = [v for points in series.values() for _, v in points if v is not None]
    lo, hi = y_range if y_range else ((min(values), max(values)) if values else (0.0, 1.0))
    if hi <= lo:
        lo, hi = lo - 1, hi + 1
    legend_rows = math.ceil(len(names) / 2) if len(names) > 1 else 0
    marks = sorted(m for m in markers if dates and dates[0] <= m[0] <= dates[-1])
    key_y = 40.0 + 22 * legend_rows  # the markers' key line, under the series' key
    left, right, top = 48.0, 12.0, 36.0 + 22 * (legend_rows + bool(marks))
    plot_h = 180.0
    bottom = top + plot_h
    height = bottom + 62
    span = max((dates[-1] - dates[0]).days, 1) if dates else 1

    def x(d: date) -> float:
        return left + (WIDTH - left - right) * ((d - dates[0]).days / span if dates else 0.5)

    def y(v: float) -> float:
        return bottom - plot_h * (min(max(v, lo), hi) - lo) / (hi - lo)

    description = (
        f"Line chart of {y_label} from {day_text(dates[0])} to {day_text(dates[-1])}, "
        f"{len(names)} series: {', '.join(names)}. The data table beside it lists every value."
        if dates
        else f"Line chart of {y_label}: no data yet."
    )
    if marks:
        description += " Dashed vertical lines mark where a lasting change began: " + "; ".join(
            f"{what} from {day_text(d)}" for d, what in marks
        )
        description += "."
    _, out = _open(title, description, height)
    out.append(f'<text x="4" y="18" fill="{INK}">{text(y_label)}</text>')
    for k, name in enumerate(names if legend_rows else ()):
        lx, ly = 8 + (k % 2) * 196, 40 + 22 * (k // 2)
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{lx}" y1="{ly - 5}" x2="{lx + 30}" y2="{ly - 5}" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
        )
        out.append(_marker(MARKERS[k % len(MARKERS)], lx + 15, ly - 5, colour))
        out.append(f'<text x="{lx + 36}" y="{ly}" fill="{INK}">{text(name)}</text>')
    if marks:
        out.append(
            f'<line x1="8" y1="{key_y - 14}" x2="8" y2="{key_y + 2}" stroke="{INK}" '
            f'stroke-width="2" stroke-dasharray="4 3"/>'
        )
        out.append(f'<text x="16" y="{key_y}" fill="{INK}">lasting change began</text>')
    for d, _ in marks:
        out.append(
            f'<line x1="{x(d):.1f}" y1="{top - 4}" x2="{x(d):.1f}" y2="{bottom}" '
            f'stroke="{INK}" stroke-width="2" stroke-dasharray="4 3"/>'
        )
    for tick in (lo, (lo + hi) / 2, hi):
        out.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{WIDTH - right}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}" stroke-width="0.5"/>'
        )
        out.append(
            f'<text x="{left - 4}" y="{y(tick) + 5:.1f}" text-anchor="end" fill="{INK}">'
            f"{text(fmt(tick))}</text>"
        )
    out.append(f'<path d="M{left},{top - 4}V{bottom}H{WIDTH - right}" fill="none" stroke="{INK}"/>')
    if dates:
        # "2 Sep" to "30 Nov" could be 3 months or 15: the years are given when they differ.
        with_year = dates[0].year != dates[-1].year
        for d, anchor in ((dates[0], "start"), (dates[-1], "end")):
            out.append(
                f'<text x="{x(d):.1f}" y="{bottom + 22:.1f}" text-anchor="{anchor}" '
                f'fill="{INK}">{text(_day_label(d, with_year=with_year))}</text>'
            )
    out.append(
        f'<text x="{(left + WIDTH - right) / 2:.1f}" y="{bottom + 46:.1f}" text-anchor="middle" '
        f'fill="{INK}">{text(x_label)}</text>'
    )
    for k, name in enumerate(names):
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        segment: list[str] = []
        segments = []
        for d, v in sorted(series[name], key=lambda p: p[0]):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(d):.1f},{y(v):.1f}")
            out.append(_marker(MARKERS[k % len(MARKERS)], x(d), y(v), colour))
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                out.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2.5"{dash_attr}/>'
                )
    out.append("</svg>")
    lookup = {name: dict(series[name]) for name in names}
    rows = tuple((day_text(d), *(fmt(lookup[name].get(d)) for name in names)) for d in dates)
    return Chart("".join(out), title, description, ("date", *names), rows, empty=not values)


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, value_label: str) -> Chart:
    """Horizontal bars (long labels stay readable), each labelled with its value."""
    row_h, label_h = 26.0, 20.0
    top = 30.0
    height = top + len(bars) * (row_h + label_h) + 10
    values = [v for _, v in bars]
    lo, hi = min([0.0, *values]), max([0.0, *values])
    span = (hi - lo) or 1.0
    left, right = 8.0, 64.0

    def x(v: float) -> float:
        return left + (WIDTH - left - right) * (v - lo) / span

    description = (
        f"Bar chart of {value_label} for {len(bars)} items"
        + (f", from {fmt(min(values))} to {fmt(max(values))}" if values else "")
        + ". The data table beside it lists every value."
    )
    _, out = _open(title, description, height)
    out.append(f'<text x="4" y="18" fill="{INK}">{text(value_label)}</text>')
    for i, (label, v) in enumerate(bars):
        y0 = top + i * (row_h + label_h)
        out.append(f'<text x="{left}" y="{y0 + 15:.1f}" fill="{INK}">{text(label)}</text>')
        x0, x1 = sorted((x(0.0), x(v)))
        out.append(
            f'<rect x="{x0:.1f}" y="{y0 + label_h:.1f}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{row_h - 6}" fill="{PALETTE[0]}"/>'
        )
        out.append(
            f'<text x="{x1 + 4:.1f}" y="{y0 + label_h + 15:.1f}" fill="{INK}">{text(fmt(v))}</text>'
        )
    if lo < 0:
        out.append(
            f'<line x1="{x(0):.1f}" y1="{top}" x2="{x(0):.1f}" y2="{height - 10:.1f}" '
            f'stroke="{INK}"/>'
        )
    out.append("</svg>")
    rows = tuple((label, fmt(v)) for label, v in bars)
    return Chart("".join(out), title, description, ("item", value_label), rows, empty=not bars)


def _day_columns(days: Sequence[date], left: float, cell_w: float) -> list[int]:
    """Columns to label: every day when the cells are wide enough for a weekday, else the
    first school day of each week, spaced so that labels do not overlap and none runs
    past the right edge."""
    if cell_w >= 44:
        return list(range(len(days)))
    picked: list[int] = []
    for j, d in enumerate(days):
        new_week = j == 0 or days[j - 1].isocalendar()[:2] != d.isocalendar()[:2]
        spaced = not picked or (j - picked[-1]) * cell_w >= 56
        if new_week and spaced and left + j * cell_w + 50 <= WIDTH:
            picked.append(j)
    return picked


def _shade_key(y: float) -> list[str]:
    """The heatmap's colour key: a swatch per shade with the count it stands for."""
    out = [f'<text x="4" y="{y + 14:.1f}" fill="{INK}">Incidents:</text>']
    for k, shade in enumerate(SHADES):
        x0 = 96 + k * 64
        label = f"{k} or more" if k == len(SHADES) - 1 else str(k)
        out.append(
            f'<rect x="{x0}" y="{y:.1f}" width="18" height="18" fill="{shade}" '
            f'stroke="{GRID}" stroke-width="0.5"/>'
        )
        out.append(f'<text x="{x0 + 22}" y="{y + 14:.1f}" fill="{INK}">{label}</text>')
    return out


def scatterplot_grid(title: str, grid: Scatterplot) -> Chart:
    """Touchette's scatterplot: time slots down, school days across, shading by count.

    Day columns carry their weekday ("Mon" over "5 Jan"); a key under the grid says what
    each shade counts. Flagged slots (statistically harder for this child) are outlined
    and starred, so the flag does not rely on colour; each shaded cell prints its count
    when it fits.
    """
    flagged = set(grid.flagged_slots)
    n_slots, n_days = len(grid.slots), len(grid.days)
    left, top = 72.0, 66.0
    cell_w = (WIDTH - left - 8) / max(n_days, 1)
    cell_h = 22.0
    grid_bottom = top + n_slots * cell_h
    height = grid_bottom + (70 if flagged else 42)
    description = (
        f"{grid.summary} Darker cells mean more incidents; starred, outlined rows stand out."
    )
    _, out = _open(title, description, height)
    out.append(f'<text x="4" y="18" fill="{INK}">Time of day (down) by school day (across)</text>')
    for j in _day_columns(grid.days, left, cell_w):
        d, x0 = grid.days[j], left + j * cell_w
        out.append(f'<text x="{x0:.1f}" y="{top - 26:.1f}" fill="{INK}">{d:%a}</text>')
        out.append(
            f'<text x="{x0:.1f}" y="{top - 8:.1f}" fill="{INK}">{text(_day_label(d))}</text>'
        )
    for i, (slot, label) in enumerate(zip(grid.slots, grid.slot_labels, strict=True)):
        y0 = top + i * cell_h
        star = " *" if slot in flagged else ""
        out.append(
            f'<text x="{left - 6}" y="{y0 + 16:.1f}" text-anchor="end" fill="{INK}">'
            f"{text(label + star)}</text>"
        )
        for j in range(n_days):
            count = int(grid.counts[i, j])
            shade = SHADES[min(count, len(SHADES) - 1)]
            x0 = left + j * cell_w
            out.append(
                f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{cell_w:.1f}" height="{cell_h}" '
                f'fill="{shade}" stroke="{GRID}" stroke-width="0.5"/>'
            )
            if count and cell_w >= MIN_CELL_FOR_COUNT:
                ink = BACKGROUND if count >= 3 else INK
                out.append(
                    f'<text x="{x0 + cell_w / 2:.1f}" y="{y0 + 16:.1f}" text-anchor="middle" '
                    f'fill="{ink}">{count}</text>'
                )
        if slot in flagged:
            out.append(
                f'<rect x="{left:.1f}" y="{y0 + 1:.1f}" width="{cell_w * n_days:.1f}" '
                f'height="{cell_h - 2}" fill="none" stroke="{INK}" stroke-width="2.5"/>'
            )
    out.extend(_shade_key(grid_bottom + 12))
    if flagged:  # the grid may be a whole school's (strategies page), so no "this child"
        out.append(f'<text x="4" y="{height - 12:.1f}" fill="{INK}">* this time stands out</text>')
    out.append("</svg>")
    columns = ("time", *(day_text(d) for d in grid.days))
    rows = tuple(
        (
            label + (" (stands out)" if slot in flagged else ""),
            *(str(int(c)) for c in grid.counts[i]),
        )
        for i, (slot, label) in enumerate(zip(grid.slots, grid.slot_labels, strict=True))
    )
    return Chart("".join(out), title, description, columns, rows, empty=not bool(grid.counts.any()))
