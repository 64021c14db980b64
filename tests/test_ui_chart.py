import re

from ui.chart import _ticks, svg_chart


def spec(mark: str, values: list[tuple[str, float]]) -> dict:
    return {"title": "Deals <by> year", "mark": {"type": mark},
            "data": {"values": [{"group": g, "value": v, "deals": 1} for g, v in values]},
            "encoding": {"x": {"field": "group", "title": "year"}, "y": {"field": "value", "title": "deals"}}}


def test_bars_one_per_group_scaled_to_the_axis():
    svg = svg_chart(spec("bar", [("oncology", 304.2), ("immunology", 528.6)]))
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 2
    assert abs(heights[1] / heights[0] - 528.6 / 304.2) < 0.01  # bar heights are proportional to the values
    assert "528.6" in svg and "immunology" in svg
    assert "Deals &lt;by&gt; year" in svg  # text from the data is escaped, never markup


def test_a_trend_is_a_line_with_a_point_per_year():
    svg = svg_chart(spec("line", [("2023", 17), ("2024", 15), ("2025", 21)]))
    assert svg.count("<circle") == 3 and "<polyline" in svg and "<rect" not in svg


def test_unknown_or_empty_specs_draw_nothing():
    assert svg_chart(None) == ""
    assert svg_chart({"mark": "arc", "encoding": {}}) == ""
    assert svg_chart(spec("bar", [])) == ""
    assert svg_chart(spec("point", [("a", 1)])) == ""


def test_axis_ticks_are_round_and_cover_the_maximum():
    assert _ticks(23) == [0, 10, 20, 30]
    assert _ticks(528.6)[-1] >= 528.6 and all(t == int(t) for t in _ticks(528.6))
    assert _ticks(3) == [0, 1, 2, 3]
    assert _ticks(0) == [0.0, 1.0]
    assert _ticks(2, whole=True) == [0, 1, 2]  # counts never get a 1.5 tick
    assert _ticks(2) == [0, 0.5, 1, 1.5, 2]
