"""The trust-wide roles' home (the schools side by side) and a school's page, in a real
browser (issue 15, item 1): axe-clean at 1280 and at a 375 px phone, the page never
scrolls sideways at 320 px (the wide table scrolls inside its box, named and hinted by
tables.js, with the school's name kept in view), and a school's name leads to its page.
"""

from __future__ import annotations

import pytest
from browser_helpers import Site, axe_violations, describe_violations, page_widths, too_wide

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("role", ["trust_admin", "trust_analyst"])
def test_the_schools_side_by_side_are_accessible_and_fit_a_phone(
    open_as, site: Site, role: str
) -> None:
    problems = []
    for path in ("/", f"/schools/{site.school}"):
        for width in (1280, 375):
            page = open_as(role, width=width, height=800)
            page.goto(path)
            assert page.locator("table.schools tbody tr").count() >= 1, path
            violations = axe_violations(page)
            if violations:
                problems.append(
                    f"axe-core, {path} at {width}px:\n{describe_violations(violations)}"
                )
            if width == 375:
                # The table overflows a phone: its box scrolls, is named and says so.
                wrap = page.locator(".table-wrap:has(table.schools)")
                assert wrap.get_attribute("data-scrolls") is not None, path
                assert wrap.get_attribute("tabindex") == "0"
                page.set_viewport_size({"width": 320, "height": 640})
                scroll_width, viewport = page_widths(page)
                if scroll_width > viewport:
                    problems.append(f"{path} is {scroll_width}px wide at 320: {too_wide(page)}")
                # Scrolled to the end, the school's name is still beside its figures.
                wrap.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
                name = page.locator("table.schools tbody th").first.bounding_box()
                box = wrap.bounding_box()
                assert name is not None and box is not None
                assert name["x"] >= box["x"] - 1 and name["x"] < box["x"] + 40, path
    assert not problems, "\n".join(problems)


def test_a_schools_name_leads_to_its_page(open_as, site: Site) -> None:
    page = open_as("trust_admin")
    page.goto("/")
    (name,) = site.query(
        "SELECT school_name FROM core.dim_school WHERE school_urn = ?", [site.school]
    )[0]
    page.get_by_role("link", name=name).click()
    page.wait_for_url(f"**/schools/{site.school}")
    assert page.locator("h1").inner_text() == name
    assert page.locator('main a[href^="/pupils/"]').count() >= 1  # the school's children
