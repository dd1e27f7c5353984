"""Charts: valid SVG, labelled for screen readers, escaped, and their tables equal the data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import numpy as np
import pytest

from empowered.analytics.situations import scatterplot
from empowered.analytics.wording import day_text
from empowered.charts import (
    BACKGROUND,
    DASHES,
    FONT,
    GRID,
    INK,
    MARKERS,
    PALETTE,
    SHADES,
    WIDTH,
    Chart,
    bar_chart,
    line_chart,
    scatterplot_grid,
)

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & "quotes" \'too\''


def parse(chart: Chart) -> ET.Element:
    root = ET.fromstring(chart.svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("viewBox", "").startswith(f"0 0 {WIDTH} ")
    title_id, desc_id = root.get("aria-labelledby", "").split()
    title = root.find(f"{NS}title")
    desc = root.find(f"{NS}desc")
    assert title is not None and title.get("id") == title_id and title.text == chart.title
    assert desc is not None and desc.get("id") == desc_id and desc.text == chart.description
    for element in root.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            assert "href" not in name.lower(), name
            assert "url(" not in value and "javascript:" not in value.lower()
        assert element.tag not in (f"{NS}script", f"{NS}foreignObject", f"{NS}image")
        size = element.get("font-size")
        if size is not None:
            assert float(size) >= FONT
    return root


def contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colours_contrast_with_the_background_and_series_differ_without_colour() -> None:
    for colour in (*PALETTE, INK, GRID, SHADES[-1]):
        assert contrast(colour, BACKGROUND) >= 3.0, colour
    assert len(set(DASHES)) == len(DASHES) == len(PALETTE)
    assert len(set(MARKERS)) == len(MARKERS)


def test_line_chart_is_labelled_and_its_table_is_the_data() -> None:
    start = date(2026, 1, 5)
    mood = [(start + timedelta(weeks=i), 3.0 + 0.25 * i) for i in range(5)]
    engagement: list[tuple[date, float | None]] = [(d, 2.5) for d, _ in mood]
    engagement[2] = (engagement[2][0], None)
    chart = line_chart(
        "Mood & engagement", {"mood": mood, "engagement": engagement}, y_label="1 to 5"
    )
    root = parse(chart)
    assert chart.table_columns == ("date", "mood", "engagement")
    assert [r[0] for r in chart.table_rows] == [day_text(d) for d, _ in mood]  # "5 January 2026"
    assert [float(r[1]) for r in chart.table_rows] == [v for _, v in mood]
    assert [r[2] for r in chart.table_rows] == ["2.5", "2.5", "", "2.5", "2.5"]
    lines = root.findall(f".//{NS}polyline")
    assert len({line.get("stroke-dasharray") for line in lines}) == 2  # not colour alone
    assert "&amp;" in chart.svg


def test_hostile_labels_come_out_escaped() -> None:
    chart = line_chart(HOSTILE, {HOSTILE: [(date(2026, 1, 5), 1.0)]}, y_label=HOSTILE)
    bars = bar_chart(HOSTILE, [(HOSTILE, 2.0)], value_label=HOSTILE)
    for c in (chart, bars):
        root = parse(c)
        assert "<script" not in c.svg
        texts = [t.text for t in root.iter(f"{NS}text")]
        assert HOSTILE in texts  # the label survives, as text
    assert chart.table_columns == ("date", HOSTILE)
    assert bars.table_rows == ((HOSTILE, "2"),)


def test_bar_chart_table_equals_its_bars_including_negative_values() -> None:
    bars = [("Reading recovery", 4.5), ("Precision teaching", -1.25), ("ELSA", 0.0)]
    chart = bar_chart("Mean gain", bars, value_label="points")
    root = parse(chart)
    assert [(label, float(v)) for label, v in chart.table_rows] == bars
    assert len(root.findall(f".//{NS}rect")) == 1 + len(bars)  # background + bars


def test_scatterplot_grid_outlines_flagged_slots_and_tables_the_counts() -> None:
    days = [date(2026, 3, 2) + timedelta(days=i) for i in range(5)]
    slots = [(18, "09:00"), (19, "09:30"), (24, "12:00")]
    incidents = [{"time_slot": 24, "occurred_on": days[i % 5]} for i in range(7)] + [
        {"time_slot": 18, "occurred_on": days[0]}
    ]
    grid = scatterplot(incidents, days=days, slots=slots)
    grid = type(grid)(grid.slots, grid.slot_labels, grid.days, grid.counts, (24,), grid.summary)
    chart = scatterplot_grid("When incidents happen", grid)
    root = parse(chart)
    assert chart.table_columns == ("time", *(day_text(d) for d in days))
    table = np.array([[int(c) for c in row[1:]] for row in chart.table_rows])
    assert (table == grid.counts).all()
    assert chart.table_rows[2][0] == "12:00 (stands out)"
    outlined = [r for r in root.iter(f"{NS}rect") if r.get("fill") == "none"]
    assert len(outlined) == 1
    assert any(t.text == "12:00 *" for t in root.iter(f"{NS}text"))


def test_ids_are_unique_per_chart() -> None:
    a = bar_chart("same", [("x", 1.0)], value_label="n")
    b = bar_chart("same", [("x", 1.0)], value_label="n")
    ids = lambda c: set(re.findall(r'id="([^"]+)"', c.svg))  # noqa: E731
    assert ids(a) and not ids(a) & ids(b)


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_single_point_charts_still_parse(n: int) -> None:
    points = [(date(2026, 1, 5), 2.0)][:n]
    parse(line_chart("Empty", {"mood": points}, y_label="mood"))
    parse(bar_chart("Empty", [("a", 1.0)][:n], value_label="n"))


def test_the_date_axis_gives_the_years_when_they_differ() -> None:
    """A printed pupil page read "2 Sep ... 30 Nov" for 15 months of check-ins."""

    def axis(points: list[tuple[date, float]]) -> list[str]:
        texts = [
            t.text or ""
            for t in parse(line_chart("Mood", {"mood": points}, y_label="1 to 5")).iter(f"{NS}text")
        ]
        return [t for t in texts if re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}( \d{4})?", t)]

    assert axis([(date(2025, 9, 2), 3.0), (date(2026, 11, 30), 2.0)]) == [
        "2 Sep 2025",
        "30 Nov 2026",
    ]
    assert axis([(date(2026, 9, 7), 3.0), (date(2026, 11, 30), 2.0)]) == ["7 Sep", "30 Nov"]
