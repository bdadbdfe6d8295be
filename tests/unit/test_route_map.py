"""The route map as SVG: fitted to the points, one polyline per route from the depot and back,
numbered stops, dropped stops crossed out, a scale bar in kilometres, every text escaped."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from wms.web.route_map import KM_PER_DEGREE, MapDrop, MapRoute, MapStop, route_map

SVG = "{http://www.w3.org/2000/svg}"
DEPOT = (31.23, 121.47)


def _points(element: ET.Element) -> list[tuple[float, float]]:
    return [
        (float(x), float(y))
        for x, y in (pair.split(",") for pair in (element.get("points") or "").split())
    ]


def test_each_route_is_a_polyline_from_the_depot_through_its_stops_and_back() -> None:
    routes = [
        MapRoute("VAN-1", [MapStop(31.30, 121.50, "1", "a"), MapStop(31.35, 121.40, "2", "b")]),
        MapRoute("VAN-2", [MapStop(31.10, 121.60, "1", "c")]),
    ]
    svg = ET.fromstring(route_map(DEPOT, routes, width=600, height=400))

    lines = svg.findall(f".//{SVG}polyline")
    assert [p.get("data-vehicle") for p in lines] == ["VAN-1", "VAN-2"]
    first = _points(lines[0])
    assert len(first) == 4
    assert first[0] == first[-1]
    assert lines[0].get("stroke") != lines[1].get("stroke")
    numbers = [t.text for t in svg.findall(f".//{SVG}g[@class='route-stop']/{SVG}text")]
    assert numbers == ["1", "2", "1"]


def test_the_map_keeps_north_up_east_right_and_equal_scales() -> None:
    north_east = MapStop(31.33, 121.57, "1", "ne")
    south_west = MapStop(31.13, 121.37, "2", "sw")
    svg = ET.fromstring(
        route_map(DEPOT, [MapRoute("V", [north_east, south_west])], width=600, height=600)
    )

    _, ne, sw, _ = _points(svg.findall(f".//{SVG}polyline")[0])
    assert ne[0] > sw[0]  # east is to the right
    assert ne[1] < sw[1]  # north is up
    dx, dy = ne[0] - sw[0], sw[1] - ne[1]
    # 0.2 degrees of longitude are cos(latitude) times as long as 0.2 degrees of latitude.
    assert abs(dx / dy - math.cos(math.radians(31.23))) < 0.01


def test_the_scale_bar_says_how_many_kilometres_its_length_is() -> None:
    stop = MapStop(31.33, 121.47, "1", "n")  # 0.1 degrees north of the depot: 11.1 km
    svg = ET.fromstring(route_map(DEPOT, [MapRoute("V", [stop])], width=600, height=600))

    depot, north, _ = _points(svg.findall(f".//{SVG}polyline")[0])
    km_per_px = 0.1 * KM_PER_DEGREE / (depot[1] - north[1])
    bar = svg.find(f".//{SVG}g[@class='scale-bar']")
    assert bar is not None
    line = bar.find(f"{SVG}line")
    assert line is not None
    length = float(line.get("x2", 0)) - float(line.get("x1", 0))
    km = float(bar.get("data-km", 0))
    assert abs(length * km_per_px - km) < 0.01 * km
    assert bar.find(f"{SVG}text").text == f"{km:g} km"  # type: ignore[union-attr]


def test_dropped_stops_are_crossed_out_and_text_is_escaped() -> None:
    svg_text = route_map(
        DEPOT,
        [MapRoute("V<1>", [MapStop(31.3, 121.5, "1", "s&1", title="Li <b>Na</b>")])],
        [MapDrop(31.2, 121.4, "far", title="too heavy & late")],
        depot_label="SHA <DC>",
    )
    svg = ET.fromstring(svg_text)  # well-formed despite the markup in the names

    drops = svg.findall(f".//{SVG}g[@class='dropped-stop']")
    assert [d.get("data-stop") for d in drops] == ["far"]
    assert "<b>" not in svg_text
    assert "SHA &lt;DC&gt;" in svg_text
    assert "1 not routed" in svg_text


def test_a_map_with_only_the_depot_still_draws_with_a_scale() -> None:
    svg = ET.fromstring(route_map(DEPOT, []))

    assert svg.find(f".//{SVG}g[@class='depot']") is not None
    assert svg.find(f".//{SVG}g[@class='scale-bar']") is not None
    assert svg.find(f".//{SVG}text[@class='empty']") is not None
