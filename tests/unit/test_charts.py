"""The SVG line chart: well-formed XML, escaped text, points scaled into the plot area."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from wms.web.charts import Bars, Guide, Marker, Series, line_chart, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def plot_area(root: ET.Element) -> tuple[float, float, float, float]:
    rect = root.find(f".//{SVG}rect[@class='plot-area']")
    assert rect is not None
    x, y = float(rect.get("x", "0")), float(rect.get("y", "0"))
    return x, y, x + float(rect.get("width", "0")), y + float(rect.get("height", "0"))


def path_points(path: ET.Element) -> list[tuple[float, float]]:
    return [
        (float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", path.get("d", ""))
    ]


def test_a_chart_is_well_formed_svg_with_a_path_per_series_and_a_legend() -> None:
    svg = line_chart(
        [
            Series("major", [(0, 1), (1, 0.5), (2, 0)]),
            Series("minor", [(0, 1), (2, 0.2)], dashed=True),
        ],
        x_label="p (%)",
        y_label="Pa",
    )
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    paths = root.findall(f".//{SVG}path[@class='series-line']")
    assert [p.get("data-series") for p in paths] == ["major", "minor"]
    assert paths[1].get("stroke-dasharray")
    legend = [t.text for t in root.iterfind(f".//{SVG}g[@class='legend-item']/{SVG}text")]
    assert legend == ["major", "minor"]
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"p (%)", "Pa"} <= texts


def test_every_piece_of_text_is_escaped() -> None:
    nasty = '<script>alert("x")</script> & "quotes"'
    svg = line_chart(
        [Series(nasty, [(0, 0), (1, 1)], color='red" onload="evil()')],
        title=nasty,
        x_label=nasty,
        y_label=nasty,
        markers=[Marker(0.5, nasty)],
        guides=[Guide(0.5, nasty)],
        chart_id='x" onclick="evil()',
    )
    assert "<script>" not in svg
    assert 'onload="evil()"' not in svg
    assert 'onclick="evil()"' not in svg
    root = parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count(nasty) == 6  # title, both axis labels, marker, guide and legend
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == nasty
    assert all(el.get("onload") is None and el.get("onclick") is None for el in root.iter())


def test_points_are_scaled_into_the_plot_area() -> None:
    svg = line_chart([Series("s", [(0, 0), (5, 0.5), (10, 1)])], x_range=(0, 10), y_range=(0, 1))
    root = parse(svg)
    left, top, right, bottom = plot_area(root)
    path = root.find(f".//{SVG}path[@class='series-line']")
    assert path is not None
    (x0, y0), (x1, y1), (x2, y2) = path_points(path)
    assert (x0, y0) == pytest.approx((left, bottom), abs=0.01)  # the origin at bottom left
    assert (x2, y2) == pytest.approx((right, top), abs=0.01)  # the far corner at top right
    assert (x1, y1) == pytest.approx(((left + right) / 2, (top + bottom) / 2), abs=0.01)


def test_the_axes_carry_round_ticks_covering_the_data() -> None:
    root = parse(line_chart([Series("s", [(0.3, 2), (7.7, 9)])], x_ticks=8, y_ticks=5))
    x_ticks = [t.text for t in root.iterfind(f".//{SVG}g[@class='x-ticks']/{SVG}text")]
    y_ticks = [t.text for t in root.iterfind(f".//{SVG}g[@class='y-ticks']/{SVG}text")]
    assert x_ticks == ["0", "1", "2", "3", "4", "5", "6", "7", "8"]
    assert y_ticks == ["2", "4", "6", "8", "10"]


def test_nice_ticks_use_steps_of_one_two_or_five() -> None:
    assert nice_ticks(0, 1, 5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0, 12.6, 8) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    assert nice_ticks(0, 0.07, 5) == [0.0, 0.02, 0.04, 0.06]


def test_a_single_point_is_drawn_as_a_dot_inside_the_plot() -> None:
    root = parse(line_chart([Series("one", [(3, 0.4)])]))
    left, top, right, bottom = plot_area(root)
    dot = root.find(f".//{SVG}circle[@class='series-point']")
    assert dot is not None
    assert left <= float(dot.get("cx", "-1")) <= right
    assert top <= float(dot.get("cy", "-1")) <= bottom
    assert root.find(f".//{SVG}path[@class='series-line']") is None


def test_an_empty_chart_still_has_axes_and_says_there_is_nothing_to_draw() -> None:
    for series in ([], [Series("nothing", [])]):
        root = parse(line_chart(series, empty_text="No plan in use"))
        assert root.find(f".//{SVG}path[@class='series-line']") is None
        assert root.find(f".//{SVG}g[@class='axes']") is not None
        assert "No plan in use" in [t.text for t in root.iter(f"{SVG}text")]


def test_points_that_are_not_finite_are_left_out() -> None:
    root = parse(line_chart([Series("s", [(0, 1), (1, float("nan")), (2, float("inf")), (3, 0)])]))
    path = root.find(f".//{SVG}path[@class='series-line']")
    assert path is not None
    assert len(path_points(path)) == 2


def test_markers_outside_the_range_are_not_drawn_and_labels_do_not_overlap() -> None:
    root = parse(
        line_chart(
            [Series("s", [(0, 1), (10, 0)])],
            x_range=(0, 10),
            y_range=(0, 1),
            markers=[Marker(1.0, "AQL 1.0"), Marker(1.1, "p95 1.1"), Marker(20, "far away")],
        )
    )
    labels = root.findall(f".//{SVG}g[@class='marker']/{SVG}text")
    assert [t.text for t in labels] == ["AQL 1.0", "p95 1.1"]
    # Two labels this close print in different bands above the plot.
    assert labels[0].get("y") != labels[1].get("y")
    _, top, _, _ = plot_area(root)
    assert all(float(t.get("y", "0")) < top for t in labels)


def test_a_given_range_must_be_increasing() -> None:
    with pytest.raises(ValueError, match="low < high"):
        line_chart([Series("s", [(0, 0)])], x_range=(1, 1))


def bar_rects(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{SVG}g[@class='bars']/{SVG}rect[@class='series-bar']")


def test_bars_rise_from_zero_to_their_height_centred_on_their_x() -> None:
    svg = line_chart(
        [Series("stock", [(0, 50), (4, 10)])],
        bars=[Bars("arrivals", [(1, 100), (3, 50)], width=0.5)],
        x_range=(0, 4),
        y_range=(0, 100),
    )
    root = parse(svg)
    left, top, right, bottom = plot_area(root)
    first, second = bar_rects(root)
    assert [r.get("data-series") for r in (first, second)] == ["arrivals", "arrivals"]
    x, y = float(first.get("x", "0")), float(first.get("y", "0"))
    width, height = float(first.get("width", "0")), float(first.get("height", "0"))
    per_unit = (right - left) / 4
    assert x + width / 2 == pytest.approx(left + per_unit, abs=0.02)  # centred on x = 1
    assert width == pytest.approx(per_unit / 2, abs=0.02)
    assert (y, y + height) == pytest.approx((top, bottom), abs=0.02)  # 0 to 100: the full height
    assert float(second.get("height", "0")) == pytest.approx(height / 2, abs=0.02)
    assert "arrivals: 100" in ET.tostring(first, encoding="unicode")  # a tooltip with the value


def test_bars_alone_widen_the_axes_to_zero_and_join_the_legend_after_the_lines() -> None:
    root = parse(
        line_chart(
            [Series("with the plan", [(0, 40), (1, 45)]), Series("empty", [])],
            bars=[Bars("arrivals <b>", [(2, 120)], color="#123456")],
        )
    )
    y_ticks = [t.text for t in root.iterfind(f".//{SVG}g[@class='y-ticks']/{SVG}text")]
    assert y_ticks[0] == "0"
    assert float(y_ticks[-1] or 0) >= 120
    legend = [t.text for t in root.iterfind(f".//{SVG}g[@class='legend-item']/{SVG}text")]
    assert legend == ["with the plan", "empty", "arrivals <b>"]
    [swatch] = root.findall(f".//{SVG}g[@class='legend-item']/{SVG}rect")
    assert swatch.get("fill") == "#123456"
    left, _, right, _ = plot_area(root)
    [rect] = bar_rects(root)
    assert left <= float(rect.get("x", "-1")) < right


def test_a_chart_of_bars_only_is_not_empty_and_non_finite_bars_are_left_out() -> None:
    root = parse(
        line_chart([], bars=[Bars("arrivals", [(0, 5), (1, float("nan"))])], empty_text="none")
    )
    assert len(bar_rects(root)) == 1
    assert "none" not in [t.text for t in root.iter(f"{SVG}text")]
    assert root.find(f".//{SVG}g[@class='bars']") is not None
    assert parse(line_chart([Series("s", [(0, 1)])])).find(f".//{SVG}g[@class='bars']") is None
