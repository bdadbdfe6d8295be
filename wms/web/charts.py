"""Small server-rendered SVG charts: a line chart with axes, ticks, a legend and markers, and
optionally bars (quantities at a point of x, such as arrivals in a week) behind the lines.

Pure functions over plain values. The chart is returned as inline SVG markup that a page embeds as
it is: no script, nothing loaded from elsewhere, every piece of text escaped. The plot area scales
with the viewBox, so CSS may size the chart to its container.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Point = tuple[float, float]
Formatter = Callable[[float], str]

# Colours that stay apart for the common kinds of colour blindness, then darker fallbacks.
PALETTE = ("#1f5fbf", "#d55e00", "#009e73", "#7b3294", "#b8860b", "#cc3377", "#0e7490", "#4b5563")
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
_CHAR_WIDTH = 6.6  # average width of a 12 px legend character, to lay the legend out
_LEGEND_ROW = 20


@dataclass(frozen=True)
class Series:
    """One line: its points (x, y), the legend's label, and how it is drawn."""

    label: str
    points: Sequence[Point]
    color: str | None = None
    dashed: bool = False


@dataclass(frozen=True)
class Bars:
    """Bars rising from zero: a height at each x (an arrival in a week), ``width`` in x units,
    drawn behind the lines and listed in the legend after them."""

    label: str
    points: Sequence[Point]
    color: str | None = None
    width: float = 0.6


@dataclass(frozen=True)
class Marker:
    """A vertical line across the plot at ``x`` (an AQL, a limit), labelled at the top."""

    x: float
    label: str = ""
    color: str = "#6b7280"


@dataclass(frozen=True)
class Guide:
    """A horizontal reference line at ``y`` (Pa = 95 %), labelled at the right end."""

    y: float
    label: str = ""
    color: str = "#9ca3af"


@dataclass(frozen=True)
class Box:
    """The plot area inside the chart, in SVG user units."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True)
class Scale:
    """Maps data values on [low, high] linearly onto the pixels [start, end]."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def nice_step(span: float, count: int) -> float:
    """A step of 1, 2, 2.5 or 5 times a power of ten that cuts ``span`` into about ``count``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power * (1 + 1e-9):
            return float(factor * power)
    return float(10 * power)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (both ends included when they fall on a step)."""
    step = nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [_clean(i * step) for i in range(first, last + 1)]


def _clean(value: float) -> float:
    return round(value, 12) + 0.0  # 0.30000000000000004 -> 0.3, -0.0 -> 0.0


def decimals_for(step: float) -> int:
    """How many decimals show ticks ``step`` apart without noise (0.25 -> 2, 5 -> 0)."""
    for places in range(0, 10):
        if abs(round(step, places) - step) < step * 1e-6:
            return places
    return 10


def _formatter(step: float) -> Formatter:
    places = decimals_for(step)
    return lambda value: f"{value:.{places}f}"


def _domain(values: list[float], given: tuple[float, float] | None) -> tuple[float, float, bool]:
    """The axis' range and whether it was given (a given range is not widened to nice ends)."""
    if given is not None:
        low, high = given
        if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
            raise ValueError(f"an axis range needs low < high, not {given!r}")
        return low, high, True
    if not values:
        return 0.0, 1.0, False
    low, high = min(values), max(values)
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    return low, high, False


def _widen(low: float, high: float, count: int) -> tuple[float, float]:
    step = nice_step(high - low, count)
    return _clean(math.floor(low / step + 1e-9) * step), _clean(
        math.ceil(high / step - 1e-9) * step
    )


def _finite(points: Sequence[Point]) -> list[Point]:
    return [(float(x), float(y)) for x, y in points if math.isfinite(x) and math.isfinite(y)]


def _text(value: str) -> str:
    return escape(value, quote=True)


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _line(x1: float, y1: float, x2: float, y2: float, attrs: str = "") -> str:
    return f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"{attrs}/>'


def _safe_id(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", value) or "chart"


@dataclass(frozen=True)
class _Layout:
    width: int
    height: int
    box: Box
    legend_columns: int
    legend_column_width: float
    legend_top: float


_LEFT, _RIGHT = 68.0, 24.0
_MARKER_ROW = 14
_MARKER_CHAR_WIDTH = 6.2  # 11 px marker labels


def _layout(
    width: int, plot_height: int, labels: list[str], *, title: bool, marker_rows: int
) -> _Layout:
    # Above the plot: the title, then a row per band of marker labels.
    top = (30.0 if title else 8.0) + marker_rows * _MARKER_ROW + (6.0 if marker_rows else 8.0)
    plot_width = width - _LEFT - _RIGHT
    longest = max((len(label) for label in labels), default=0)
    column = longest * _CHAR_WIDTH + 36
    columns = max(1, min(len(labels), int(plot_width // column))) if labels else 1
    rows = math.ceil(len(labels) / columns) if labels else 0
    legend_top = top + plot_height + 56
    height = int(legend_top + rows * _LEGEND_ROW + (8 if rows else 0))
    return _Layout(
        width, height, Box(_LEFT, top, plot_width, plot_height), columns, column, legend_top
    )


@dataclass(frozen=True)
class _PlacedMarker:
    marker: Marker
    x: float  # in pixels
    row: int  # the band of labels above the plot, 0 nearest the plot


def _place_markers(
    markers: Sequence[Marker], sx: Scale, low: float, high: float, width: int
) -> list[_PlacedMarker]:
    """Markers inside the x range, each label in the lowest band where it overlaps no other."""
    placed: list[_PlacedMarker] = []
    ends: list[float] = []  # where the last label of each band ends
    for m in sorted(
        (m for m in markers if math.isfinite(m.x) and low <= m.x <= high), key=lambda m: m.x
    ):
        px = sx(m.x)
        half = len(m.label) * _MARKER_CHAR_WIDTH / 2
        start = min(max(px - half, 0.0), width - 2 * half)
        row = next((r for r, end in enumerate(ends) if end + 8 <= start), len(ends))
        if row == len(ends):
            ends.append(0.0)
        if m.label:
            ends[row] = start + 2 * half
        placed.append(_PlacedMarker(m, px, row))
    return placed


def line_chart(
    series: Sequence[Series],
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 760,
    plot_height: int = 320,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    x_ticks: int = 8,
    y_ticks: int = 5,
    x_format: Formatter | None = None,
    y_format: Formatter | None = None,
    markers: Sequence[Marker] = (),
    guides: Sequence[Guide] = (),
    chart_id: str = "chart",
    empty_text: str = "No data to draw",
    bars: Sequence[Bars] = (),
) -> str:
    """An SVG line chart of ``series``: axes with ticks and labels, a legend below the plot,
    vertical ``markers``, horizontal ``guides`` and ``bars`` from zero behind the lines.
    Non-finite points are left out."""
    lines = [(s, _finite(s.points)) for s in series]
    columns = [(b, _finite(b.points)) for b in bars]
    xs = [x for _, pts in lines for x, _ in pts] + [m.x for m in markers if math.isfinite(m.x)]
    xs += [x + side * b.width / 2 for b, pts in columns for x, _ in pts for side in (-1, 1)]
    ys = [y for _, pts in lines for _, y in pts]
    ys += [y for _, pts in columns for _, y in pts] + ([0.0] if any(p for _, p in columns) else [])
    x_low, x_high, x_given = _domain(xs, x_range)
    y_low, y_high, y_given = _domain(ys, y_range)
    if not x_given:
        x_low, x_high = _widen(x_low, x_high, x_ticks)
    if not y_given:
        y_low, y_high = _widen(y_low, y_high, y_ticks)
    sx = Scale(x_low, x_high, _LEFT, width - _RIGHT)
    placed = _place_markers(markers, sx, x_low, x_high, width)
    rows = max((p.row + 1 for p in placed if p.marker.label), default=0)
    labels = [s.label for s in series] + [b.label for b in bars]
    layout = _layout(width, plot_height, labels, title=bool(title), marker_rows=rows)
    box = layout.box
    sy = Scale(y_low, y_high, box.bottom, box.top)
    ident = _safe_id(chart_id)
    ticks = (nice_ticks(x_low, x_high, x_ticks), nice_ticks(y_low, y_high, y_ticks))
    fx = x_format or _formatter(nice_step(x_high - x_low, x_ticks))
    fy = y_format or _formatter(nice_step(y_high - y_low, y_ticks))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{ident}" role="img" '
        f'viewBox="0 0 {layout.width} {layout.height}" width="{layout.width}" '
        f'height="{layout.height}" aria-labelledby="{ident}-title" '
        f'font-family="{_text(_FONT)}" font-size="12">',
        f'<title id="{ident}-title">{_text(title or y_label or "chart")}</title>',
        f'<defs><clipPath id="{ident}-plot"><rect x="{_num(box.left)}" y="{_num(box.top)}" '
        f'width="{_num(box.width)}" height="{_num(box.height)}"/></clipPath></defs>',
        f'<rect class="plot-area" x="{_num(box.left)}" y="{_num(box.top)}" '
        f'width="{_num(box.width)}" height="{_num(box.height)}" fill="#ffffff" stroke="none"/>',
    ]
    if title:
        parts.append(
            f'<text class="chart-title" x="{_num(box.left)}" y="18" font-size="14" '
            f'font-weight="600" fill="#111827">{_text(title)}</text>'
        )
    parts += _grid(box, sx, sy, ticks, fx, fy)
    parts += _axis_labels(box, x_label, y_label)
    parts += _bars(columns, sx, sy, ident, len(series))
    parts += _lines(lines, sx, sy, ident)
    parts += _guides(box, sy, guides, y_low, y_high)
    parts += _markers(box, placed, width)
    if not any(pts for _, pts in lines) and not any(pts for _, pts in columns):
        parts.append(
            f'<text class="empty" x="{_num(box.left + box.width / 2)}" '
            f'y="{_num(box.top + box.height / 2)}" text-anchor="middle" fill="#6b7280">'
            f"{_text(empty_text)}</text>"
        )
    parts += _legend(layout, [s for s, _ in lines], [b for b, _ in columns])
    parts.append("</svg>")
    return "\n".join(parts)


def _grid(
    box: Box,
    sx: Scale,
    sy: Scale,
    ticks: tuple[list[float], list[float]],
    fx: Formatter,
    fy: Formatter,
) -> list[str]:
    x_ticks, y_ticks = ticks
    ink = ' stroke="#374151"'
    return [
        '<g class="grid" stroke="#e5e7eb" stroke-width="1">',
        *(_line(sx(x), box.top, sx(x), box.bottom) for x in x_ticks),
        *(_line(box.left, sy(y), box.right, sy(y)) for y in y_ticks),
        "</g>",
        '<g class="axes" stroke="#374151" stroke-width="1">'
        + _line(box.left, box.bottom, box.right, box.bottom)
        + _line(box.left, box.top, box.left, box.bottom)
        + "</g>",
        '<g class="x-ticks" fill="#374151" text-anchor="middle">',
        *(
            _line(sx(x), box.bottom, sx(x), box.bottom + 5, ink)
            + f'<text x="{_num(sx(x))}" y="{_num(box.bottom + 18)}">{_text(fx(x))}</text>'
            for x in x_ticks
        ),
        "</g>",
        '<g class="y-ticks" fill="#374151" text-anchor="end">',
        *(
            _line(box.left - 5, sy(y), box.left, sy(y), ink)
            + f'<text x="{_num(box.left - 8)}" y="{_num(sy(y))}" dominant-baseline="middle">'
            f"{_text(fy(y))}</text>"
            for y in y_ticks
        ),
        "</g>",
    ]


def _axis_labels(box: Box, x_label: str, y_label: str) -> list[str]:
    out = []
    if x_label:
        out.append(
            f'<text class="x-label" x="{_num(box.left + box.width / 2)}" '
            f'y="{_num(box.bottom + 40)}" text-anchor="middle" fill="#111827">'
            f"{_text(x_label)}</text>"
        )
    if y_label:
        cx, cy = 16.0, box.top + box.height / 2
        out.append(
            f'<text class="y-label" x="{_num(cx)}" y="{_num(cy)}" text-anchor="middle" '
            f'transform="rotate(-90 {_num(cx)} {_num(cy)})" fill="#111827">{_text(y_label)}</text>'
        )
    return out


def _markers(box: Box, placed: list[_PlacedMarker], width: int) -> list[str]:
    lines, labels = [], []
    for p in placed:
        m = p.marker
        ly = box.top - 6 - p.row * _MARKER_ROW
        half = len(m.label) * _MARKER_CHAR_WIDTH / 2
        lx = min(max(p.x, half), width - half)
        lines.append(
            _line(
                p.x,
                ly + 3 if m.label else box.top,
                p.x,
                box.bottom,
                f' stroke="{_text(m.color)}" stroke-width="1.5" stroke-dasharray="2 3"',
            )
        )
        if m.label:
            # Labels go over every line, each on a white halo, so that none is crossed out.
            labels.append(
                f'<text x="{_num(lx)}" y="{_num(ly)}" text-anchor="middle" fill="{_text(m.color)}" '
                f'font-size="11" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                f"{_text(m.label)}</text>"
            )
    if not lines:
        return []
    return ['<g class="marker">', *lines, *labels, "</g>"]


def _guides(box: Box, sy: Scale, guides: Sequence[Guide], low: float, high: float) -> list[str]:
    out = []
    for g in guides:
        if not (math.isfinite(g.y) and low <= g.y <= high):
            continue
        py = sy(g.y)
        out.append(
            '<g class="guide">'
            + _line(
                box.left, py, box.right, py, f' stroke="{_text(g.color)}" stroke-dasharray="6 4"'
            )
            + (
                f'<text x="{_num(box.right - 4)}" y="{_num(py - 4)}" text-anchor="end" '
                f'fill="#4b5563" font-size="11" stroke="#ffffff" stroke-width="3" '
                f'paint-order="stroke">{_text(g.label)}</text>'
                if g.label
                else ""
            )
            + "</g>"
        )
    return out


def series_color(index: int, series: Series) -> str:
    """The series' own colour, else the palette's, in order."""
    return series.color or PALETTE[index % len(PALETTE)]


def _lines(lines: list[tuple[Series, list[Point]]], sx: Scale, sy: Scale, ident: str) -> list[str]:
    out = [f'<g class="series" clip-path="url(#{ident}-plot)" fill="none">']
    for index, (s, pts) in enumerate(lines):
        color = _text(series_color(index, s))
        label = _text(s.label)
        if len(pts) == 1:
            ((x, y),) = pts
            out.append(
                f'<circle class="series-point" data-series="{label}" cx="{_num(sx(x))}" '
                f'cy="{_num(sy(y))}" r="3.5" fill="{color}"/>'
            )
        elif pts:
            d = " ".join(
                f"{'M' if i == 0 else 'L'}{_num(sx(x))},{_num(sy(y))}"
                for i, (x, y) in enumerate(pts)
            )
            dash = ' stroke-dasharray="7 4"' if s.dashed else ""
            out.append(
                f'<path class="series-line" data-series="{label}" d="{d}" stroke="{color}" '
                f'stroke-width="2" stroke-linejoin="round"{dash}/>'
            )
    out.append("</g>")
    return out


def bars_color(index: int, bars: Bars, series_count: int) -> str:
    """The bars' own colour, else the palette's after the lines' colours."""
    return bars.color or PALETTE[(series_count + index) % len(PALETTE)]


def _bars(
    columns: list[tuple[Bars, list[Point]]], sx: Scale, sy: Scale, ident: str, series_count: int
) -> list[str]:
    if not any(pts for _, pts in columns):
        return []
    out = [f'<g class="bars" clip-path="url(#{ident}-plot)" stroke="none">']
    for index, (b, pts) in enumerate(columns):
        color = _text(bars_color(index, b, series_count))
        label = _text(b.label)
        for x, height in pts:
            left, right = sx(x - b.width / 2), sx(x + b.width / 2)
            top, bottom = sy(max(height, 0.0)), sy(min(height, 0.0))
            out.append(
                f'<rect class="series-bar" data-series="{label}" x="{_num(left)}" y="{_num(top)}" '
                f'width="{_num(right - left)}" height="{_num(bottom - top)}" fill="{color}" '
                f'fill-opacity="0.55"><title>{label}: {_text(_num(height))}</title></rect>'
            )
    out.append("</g>")
    return out


def _legend(layout: _Layout, series: list[Series], bars: Sequence[Bars] = ()) -> list[str]:
    if not series and not bars:
        return []
    out = ['<g class="legend" fill="#111827">']
    for index, s in enumerate(series):
        x, y = _legend_place(layout, index)
        dash = ' stroke-dasharray="7 4"' if s.dashed else ""
        out.append(
            '<g class="legend-item">'
            + _line(
                x,
                y,
                x + 24,
                y,
                f' stroke="{_text(series_color(index, s))}" stroke-width="2.5"{dash}',
            )
            + f'<text x="{_num(x + 30)}" y="{_num(y)}" dominant-baseline="middle">'
            f"{_text(s.label)}</text></g>"
        )
    for index, b in enumerate(bars):
        x, y = _legend_place(layout, len(series) + index)
        color = _text(bars_color(index, b, len(series)))
        out.append(
            f'<g class="legend-item"><rect x="{_num(x + 6)}" y="{_num(y - 6)}" width="12" '
            f'height="12" fill="{color}" fill-opacity="0.55"/>'
            f'<text x="{_num(x + 30)}" y="{_num(y)}" dominant-baseline="middle">'
            f"{_text(b.label)}</text></g>"
        )
    out.append("</g>")
    return out


def _legend_place(layout: _Layout, index: int) -> tuple[float, float]:
    row, column = divmod(index, layout.legend_columns)
    x = layout.box.left + column * layout.legend_column_width
    return x, layout.legend_top + row * _LEGEND_ROW
