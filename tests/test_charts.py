"""hipcoach.present.charts: bar charts as SVG, read back with an XML parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from hipcoach.present.charts import bars

SVG = "{http://www.w3.org/2000/svg}"


def rects(svg: str) -> list[ET.Element]:
    """The bars: every rect that carries a title (the legend's keys carry none)."""
    return [r for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


def test_bars_are_as_long_as_their_values_and_say_them():
    svg = bars(["a", "b", "c"], [("plans", (1.0, 2.0, 0.0))], "plans", title="T", description="D")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "T" and root.find(f"{SVG}desc").text == "D"
    found = rects(svg)
    assert [r.find(f"{SVG}title").text for r in found] == ["a, plans: 1", "b, plans: 2"]  # no bar for 0
    assert abs(2 * float(found[0].get("width")) - float(found[1].get("width"))) < 0.2


def test_stacked_bars_follow_one_another():
    svg = bars(["a"], [("likely", (3.0,)), ("possible", (1.0,))], "respondents", stacked=True)
    first, second = rects(svg)
    assert abs(float(first.get("x")) + float(first.get("width")) - float(second.get("x"))) < 0.2
    assert "likely" in svg and "possible" in svg  # the legend


def test_text_is_escaped_and_the_chart_refers_to_nothing_outside():
    hostile = '<script>alert(1)</script>&"'
    svg = bars([hostile], [(hostile, (1.0,)), ("b", (2.0,))], hostile, title=hostile)
    root = ET.fromstring(svg)  # well-formed despite the text
    assert root.find(f"{SVG}title").text == hostile
    assert "<script" not in svg and "href" not in svg and "url(" not in svg


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=60),
                          st.floats(0, 1e6, allow_nan=False)), min_size=1, max_size=12))
def test_any_figures_give_one_well_formed_chart_the_same_each_time(rows):
    labels, values = [r[0] for r in rows], tuple(r[1] for r in rows)
    svg = bars(labels, [("n", values)], "unit")
    assert svg == bars(labels, [("n", values)], "unit")
    root = ET.fromstring(svg)
    width = float(root.get("width"))
    for rect in rects(svg):
        assert float(rect.get("x")) >= 0 and float(rect.get("x")) + float(rect.get("width")) <= width
