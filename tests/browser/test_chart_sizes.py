"""Charts keep a size that suits the page (issue 15, item 6): on a 1280 px screen a pupil
page's chart text is no larger than the page heading, and the incident heatmap is no wider
than the column it sits in (it once filled 1120 px with labels twice the heading's size)."""

from __future__ import annotations

import pytest
from browser_helpers import Site

pytestmark = pytest.mark.browser


def _busiest_pupil(site: Site) -> str:
    """The senco's pupil with the most recent incidents, so the heatmap is drawn."""
    rows = site.query(
        "SELECT pupil_key FROM core.fct_behaviour_incident WHERE school_urn = ? "
        "GROUP BY pupil_key ORDER BY max(occurred_on) DESC, count(*) DESC, pupil_key LIMIT 1",
        [site.school],
    )
    return str(rows[0][0])


def test_chart_text_is_no_larger_than_the_heading_and_the_heatmap_fits(open_as, site: Site) -> None:
    page = open_as("senco", width=1280, height=900)
    page.goto(f"/pupils/{_busiest_pupil(site)}")
    heading = page.locator("h1").bounding_box()
    assert heading is not None
    h1_size = float(page.locator("h1").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    charts = page.locator("figure.chart svg")
    assert charts.count() >= 2, "the pupil page draws its charts"
    # Rendered glyph size: the text's box height shrinks and grows with the viewBox scale.
    tallest = max(
        page.locator("figure.chart svg text").evaluate_all(
            "ts => ts.map(t => t.getBoundingClientRect().height)"
        )
    )
    assert tallest <= h1_size, f"chart text {tallest}px tall, heading {h1_size}px"
    heatmap = page.locator("#harder figure.chart svg")
    assert heatmap.count() == 1, "the busiest pupil's incidents are drawn"
    box = heatmap.bounding_box()
    column = page.locator("#harder").bounding_box()
    assert box is not None and column is not None
    assert box["width"] <= column["width"] and box["width"] <= 480, box
    assert box["height"] <= 700, box
