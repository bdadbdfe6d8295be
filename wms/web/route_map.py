"""A route map drawn from our own data, as inline SVG: no map tiles, nothing loaded from elsewhere.

The depot and the stops are plotted on their coordinates in an equirectangular projection
(longitude scaled by the cosine of the middle latitude) fitted to their bounding box, so that
distances look right at the scale of a city or a region. Each route is a coloured polyline in
visiting order from the depot and back, each stop carries its number in the sequence, dropped
stops are crossed out in red, and a scale bar gives kilometres. Every piece of text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from wms.web.charts import PALETTE, nice_step

KM_PER_DEGREE = 111.195  # along a meridian, and along a parallel once scaled by cos(latitude)
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
_LEGEND_ROW = 24
MIN_SPAN_DEGREES = 0.01  # about a kilometre: a map of one point still has a scale


@dataclass(frozen=True)
class MapStop:
    latitude: float
    longitude: float
    label: str  # the number printed on it
    stop_id: str
    title: str = ""  # the tooltip


@dataclass(frozen=True)
class MapRoute:
    vehicle: str
    stops: Sequence[MapStop]
    label: str = ""  # the legend's text; the vehicle when empty
    color: str | None = None


@dataclass(frozen=True)
class MapDrop:
    latitude: float
    longitude: float
    stop_id: str
    title: str = ""


@dataclass(frozen=True)
class _Frame:
    """Degrees to pixels: x from longitude (times the cosine), y from latitude, north up."""

    cos: float
    min_x: float
    max_y: float
    scale: float  # pixels per projected degree
    left: float
    top: float

    def __call__(self, latitude: float, longitude: float) -> tuple[float, float]:
        x = self.left + (longitude * self.cos - self.min_x) * self.scale
        y = self.top + (self.max_y - latitude) * self.scale
        return x, y

    @property
    def km_per_pixel(self) -> float:
        return KM_PER_DEGREE / self.scale


def _t(value: str) -> str:
    return escape(value, quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _frame(
    points: Sequence[tuple[float, float]], width: float, height: float, margin: float
) -> _Frame:
    lats = [p[0] for p in points]
    cos = math.cos(math.radians((min(lats) + max(lats)) / 2))
    xs = [p[1] * cos for p in points]
    span_x = max(max(xs) - min(xs), MIN_SPAN_DEGREES)
    span_y = max(max(lats) - min(lats), MIN_SPAN_DEGREES)
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
    # Centre the box: the spare room goes equally to both sides.
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(lats) + min(lats)) / 2
    min_x = mid_x - (width / 2) / scale
    max_y = mid_y + (height / 2) / scale
    return _Frame(cos, min_x, max_y, scale, 0.0, 0.0)


def _scale_bar(frame: _Frame, width: float, height: float) -> list[str]:
    km = nice_step(frame.km_per_pixel * width / 4, 1)
    length = km / frame.km_per_pixel
    x, y = 16.0, height - 18.0
    label = f"{km:g} km"
    return [
        f'<g class="scale-bar" data-km="{km:g}" stroke="#111827" stroke-width="2">',
        f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x + length)}" y2="{_n(y)}"/>',
        f'<line x1="{_n(x)}" y1="{_n(y - 5)}" x2="{_n(x)}" y2="{_n(y + 5)}"/>',
        f'<line x1="{_n(x + length)}" y1="{_n(y - 5)}" x2="{_n(x + length)}" y2="{_n(y + 5)}"/>',
        f'<text x="{_n(x + length / 2)}" y="{_n(y - 8)}" text-anchor="middle" stroke="none" '
        f'fill="#111827" font-size="15">{_t(label)}</text>',
        "</g>",
    ]


def _grid(frame: _Frame, width: float, height: float) -> list[str]:
    """Light parallels and meridians at round degrees, labelled at the edges."""
    south, north = frame.max_y - height / frame.scale, frame.max_y
    west = frame.min_x / frame.cos
    east = (frame.min_x + width / frame.scale) / frame.cos
    out = ['<g class="graticule" stroke="#e5e7eb" stroke-width="1" fill="#9ca3af" font-size="12">']
    step = nice_step(north - south, 4)
    lat = math.ceil(south / step) * step
    while lat < north:
        _, y = frame(lat, west)
        out.append(f'<line x1="0" y1="{_n(y)}" x2="{_n(width)}" y2="{_n(y)}"/>')
        out.append(
            f'<text x="{_n(width - 4)}" y="{_n(y - 3)}" text-anchor="end" stroke="none">{lat:.2f}°</text>'
        )
        lat += step
    step = nice_step(east - west, 4)
    lon = math.ceil(west / step) * step
    while lon < east:
        x, _ = frame(north, lon)
        out.append(f'<line x1="{_n(x)}" y1="0" x2="{_n(x)}" y2="{_n(height)}"/>')
        out.append(f'<text x="{_n(x + 3)}" y="14" stroke="none">{lon:.2f}°</text>')
        lon += step
    out.append("</g>")
    return out


def route_color(index: int, route: MapRoute) -> str:
    return route.color or PALETTE[index % len(PALETTE)]


def _routes(
    frame: _Frame, depot: tuple[float, float], routes: Sequence[MapRoute]
) -> tuple[list[str], list[str]]:
    lines, marks = ['<g class="routes" fill="none">'], ['<g class="stops">']
    dx, dy = frame(*depot)
    for index, route in enumerate(routes):
        color = _t(route_color(index, route))
        vehicle = _t(route.vehicle)
        points = [(dx, dy), *(frame(s.latitude, s.longitude) for s in route.stops), (dx, dy)]
        lines.append(
            f'<polyline class="route-line" data-vehicle="{vehicle}" points="'
            + " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
            + f'" stroke="{color}" stroke-width="3" stroke-linejoin="round" '
            f'stroke-opacity="0.85"><title>{_t(route.label or route.vehicle)}</title></polyline>'
        )
        for stop in route.stops:
            x, y = frame(stop.latitude, stop.longitude)
            marks.append(
                f'<g class="route-stop" data-vehicle="{vehicle}" data-stop="{_t(stop.stop_id)}">'
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="11" fill="#ffffff" stroke="{color}" '
                f'stroke-width="2.5"/><text x="{_n(x)}" y="{_n(y)}" text-anchor="middle" '
                f'dominant-baseline="central" font-size="13" font-weight="600" fill="#111827">'
                f"{_t(stop.label)}</text><title>{_t(stop.title or stop.stop_id)}</title></g>"
            )
    lines.append("</g>")
    marks.append("</g>")
    return lines, marks


def _drops(frame: _Frame, dropped: Sequence[MapDrop]) -> list[str]:
    if not dropped:
        return []
    out = ['<g class="dropped" stroke="#b91c1c" stroke-width="3" stroke-linecap="round">']
    for d in dropped:
        x, y = frame(d.latitude, d.longitude)
        out.append(
            f'<g class="dropped-stop" data-stop="{_t(d.stop_id)}">'
            f'<line x1="{_n(x - 7)}" y1="{_n(y - 7)}" x2="{_n(x + 7)}" y2="{_n(y + 7)}"/>'
            f'<line x1="{_n(x - 7)}" y1="{_n(y + 7)}" x2="{_n(x + 7)}" y2="{_n(y - 7)}"/>'
            f"<title>{_t(d.title or d.stop_id)}</title></g>"
        )
    out.append("</g>")
    return out


def _legend(routes: Sequence[MapRoute], dropped: int, top: float) -> list[str]:
    out = ['<g class="legend" font-size="16" fill="#111827">']
    for index, route in enumerate(routes):
        y = top + index * _LEGEND_ROW
        out.append(
            f'<g class="legend-item" data-vehicle="{_t(route.vehicle)}">'
            f'<line x1="16" y1="{_n(y)}" x2="40" y2="{_n(y)}" stroke="{_t(route_color(index, route))}" '
            f'stroke-width="3"/><text x="48" y="{_n(y)}" dominant-baseline="central">'
            f"{_t(route.label or route.vehicle)}</text></g>"
        )
    if dropped:
        y = top + len(routes) * _LEGEND_ROW
        out.append(
            f'<g class="legend-item"><path d="M22 {_n(y - 5)} l10 10 m0 -10 l-10 10" '
            f'stroke="#b91c1c" stroke-width="2.5"/><text x="48" y="{_n(y)}" '
            f'dominant-baseline="central">{dropped} not routed</text></g>'
        )
    out.append("</g>")
    return out


def route_map(
    depot: tuple[float, float],
    routes: Sequence[MapRoute],
    dropped: Sequence[MapDrop] = (),
    *,
    depot_label: str = "Depot",
    width: int = 720,
    height: int = 540,
    map_id: str = "route-map",
    title: str = "Delivery routes",
) -> str:
    """The SVG map: depot, stops and routes fitted to the picture, legend and scale below."""
    points = [depot]
    points += [(s.latitude, s.longitude) for r in routes for s in r.stops]
    points += [(d.latitude, d.longitude) for d in dropped]
    points = [p for p in points if math.isfinite(p[0]) and math.isfinite(p[1])]
    frame = _frame(points, width, height, margin=36)
    legend_rows = len(routes) + (1 if dropped else 0)
    total = height + 16 + legend_rows * _LEGEND_ROW
    ident = _t(map_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="route-map" id="{ident}" role="img" '
        f'viewBox="0 0 {width} {total}" width="{width}" height="{total}" '
        f'aria-labelledby="{ident}-title" font-family="{_t(_FONT)}" font-size="12">',
        f'<title id="{ident}-title">{_t(title)}</title>',
        f'<rect class="map-area" x="0" y="0" width="{width}" height="{height}" fill="#f8fafc" '
        'stroke="#cbd5e1"/>',
        *_grid(frame, width, height),
    ]
    lines, marks = _routes(frame, depot, routes)
    parts += lines + _drops(frame, dropped) + marks
    x, y = frame(*depot)
    parts.append(
        f'<g class="depot"><rect x="{_n(x - 9)}" y="{_n(y - 9)}" width="18" height="18" '
        f'fill="#111827"/><text x="{_n(x + 13)}" y="{_n(y + 5)}" font-weight="700" font-size="15" '
        f'fill="#111827" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
        f"{_t(depot_label)}</text><title>{_t(depot_label)}</title></g>"
    )
    if not routes and not dropped:
        parts.append(
            f'<text class="empty" x="{width / 2:.0f}" y="{height / 2 + 30:.0f}" '
            f'text-anchor="middle" fill="#6b7280">No stops to draw</text>'
        )
    parts += _scale_bar(frame, width, height)
    parts.append(
        f'<g class="north" fill="#111827"><path d="M{width - 24} 40 l8 -20 l8 20 l-8 -6 z"/>'
        f'<text x="{width - 16}" y="54" text-anchor="middle" font-size="11">N</text></g>'
    )
    parts += _legend(routes, len(dropped), height + 16)
    parts.append("</svg>")
    return "\n".join(parts)
