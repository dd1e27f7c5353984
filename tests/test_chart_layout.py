"""Chart layout (issue 15): axes with units, a key for several series, weekday labels and a
colour key on the incident heatmap, and no chart at all when there is nothing to draw."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from empowered.analytics.situations import scatterplot
from empowered.charts import FONT, SHADES, WIDTH, Chart, bar_chart, line_chart, scatterplot_grid

NS = "{http://www.w3.org/2000/svg}"
TEMPLATES = Path(__file__).parents[1] / "src" / "empowered" / "web" / "templates"


def texts(chart: Chart) -> list[ET.Element]:
    return list(ET.fromstring(chart.svg).iter(f"{NS}text"))


def words(chart: Chart) -> list[str]:
    return [t.text or "" for t in texts(chart)]


def school_days(start: date, n: int) -> list[date]:
    days: list[date] = []
    d = start
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def heatmap(n_days: int, incidents: int = 4) -> Chart:
    days = school_days(date(2026, 3, 2), n_days)  # a Monday
    slots = [(18, "09:00"), (19, "09:30"), (24, "12:00")]
    rows = [{"time_slot": 24, "occurred_on": days[i % n_days]} for i in range(incidents)]
    return scatterplot_grid("When incidents happened", scatterplot(rows, days=days, slots=slots))


def test_heatmap_labels_weekdays_and_has_a_colour_key() -> None:
    few = words(heatmap(5))
    assert [w for w in few if w in ("Mon", "Tue", "Wed", "Thu", "Fri")] == [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
    ]
    # Many days: one label per school week, each on its Monday, spaced apart.
    many = heatmap(60)
    assert [w for w in words(many) if w in ("Tue", "Wed", "Thu", "Fri")] == []
    assert words(many).count("Mon") >= 3
    key = ET.fromstring(many.svg)
    swatches = [r.get("fill") for r in key.iter(f"{NS}rect") if r.get("width") == "18"]
    assert swatches == list(SHADES)
    assert {"Incidents:", "0", "1", "2", "3 or more"} <= set(words(many))


def test_heatmap_text_stays_inside_the_chart() -> None:
    for n in (3, 5, 12, 60, 190):
        for t in texts(heatmap(n)):
            if t.get("text-anchor") in (None, "start"):
                # 0.6 em per character is generous for a sans-serif font.
                end = float(t.get("x", 0)) + 0.6 * FONT * len(t.text or "")
                assert end <= WIDTH + 1, (n, t.text, end)


def test_line_chart_names_both_axes_and_keys_only_several_series() -> None:
    weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(4)]
    one = line_chart("Attendance", {"attendance %": [(d, 90.0) for d in weeks]}, y_label="%")
    assert "%" in words(one) and "week starting" in words(one)
    assert "attendance %" not in words(one)  # a single line needs no key
    two = line_chart(
        "Mood",
        {"mood": [(d, 3.0) for d in weeks], "engagement": [(d, 4.0) for d in weeks]},
        y_label="weekly average, 1 to 5",
    )
    assert {"mood", "engagement", "week starting", "weekly average, 1 to 5"} <= set(words(two))


def test_charts_with_nothing_to_draw_are_empty_and_the_page_says_so_in_words() -> None:
    weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(4)]
    no_values = line_chart("Mood", {"mood": [(d, None) for d in weeks]}, y_label="1 to 5")
    empties = [
        no_values,
        line_chart("Mood", {"mood": []}, y_label="1 to 5"),
        bar_chart("Score change", [], value_label="points"),
        heatmap(5, incidents=0),
    ]
    assert all(c.empty for c in empties)
    assert not any(c.empty for c in (heatmap(5), bar_chart("S", [("A", 0.0)], value_label="p")))
    template = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True).get_template(
        "_chart.html"
    )
    for chart in empties:
        html = template.render(chart=chart)
        assert "<svg" not in html and "Nothing to draw yet" in html
    assert "<svg" in template.render(chart=heatmap(5))


def test_heatmap_explains_the_star_only_when_a_time_is_starred() -> None:
    plain = heatmap(5)
    assert not [w for w in words(plain) if w.startswith("*")]
    grid = scatterplot(
        [{"time_slot": 24, "occurred_on": date(2026, 3, 2)}],
        days=school_days(date(2026, 3, 2), 5),
        slots=[(18, "09:00"), (24, "12:00")],
    )
    grid = type(grid)(grid.slots, grid.slot_labels, grid.days, grid.counts, (24,), grid.summary)
    starred = words(scatterplot_grid("Incidents", grid))
    assert "12:00 *" in starred and "* this time stands out" in starred
