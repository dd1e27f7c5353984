"""The home page around children in a real browser (issue 15, item 1): every card names
its child, the reasons open to show their evidence, no sideways scrolling at 320 px, and
axe-core finds nothing serious, with the evidence open as with it closed."""

from __future__ import annotations

import pytest
from browser_helpers import axe_violations, describe_violations, page_widths, too_wide

pytestmark = pytest.mark.browser

ROLES = ("senco", "dsl", "teacher", "teaching_assistant", "trust_admin")


@pytest.mark.parametrize("role", ROLES)
def test_every_home_card_names_its_child_at_320px(open_as, role: str) -> None:
    page = open_as(role, width=320, height=640, has_touch=True, is_mobile=True)
    page.goto("/")
    if role == "trust_admin":
        # The trust admin's home is the schools side by side: a school's page has the cards.
        page.locator("table.schools tbody a").first.click()
        page.wait_for_load_state()
    cards = page.locator("li.child-card")
    names = cards.locator("h3.child-name a").all_inner_texts()
    assert len(names) == cards.count(), "every card is headed by its child's name"
    assert all(n.strip() and not n.startswith("Pupil ") for n in names), names
    pupils = cards.evaluate_all("els => els.map(e => e.dataset.pupil)")
    assert len(pupils) == len(set(pupils)), "one card per child"
    # (the demo's assistant works with pupils with SEN: their cards are there too)
    assert names, f"the {role} has children on their home page in the small trust"
    first = cards.first.locator("ul.reasons details").first  # opens to show its evidence
    first.locator("summary").click()
    assert first.locator("ul li").first.is_visible()
    scroll, viewport = page_widths(page)
    assert scroll <= viewport, f"scrolls sideways: {too_wide(page)}"
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_the_counts_filter_the_children(open_as) -> None:
    page = open_as("senco")
    page.goto("/")
    counts = page.locator('nav[aria-label="Show children by reason"] a')
    assert counts.count() >= 2
    link = counts.first
    label, number = link.inner_text().rsplit(": ", 1)
    link.click()
    page.wait_for_load_state()
    assert page.locator("nav.home-counts strong").inner_text() == f"{label}: {number}"
    shown = page.locator("li.child-card").count()
    assert shown == min(int(number), 20)
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
