"""Every page, for every role, in a real browser: no serious or critical WCAG 2.2 A/AA
violation found by axe-core, and no sideways scrolling at 320 px wide.

The pages come from each role's navigation (asked of the policy and the app's NAV, and
checked against the links a signed-in user is really shown), plus the sign-in page, a
pupil's page, the register with a filter applied and the refusal page.
"""

from __future__ import annotations

import pytest
from browser_helpers import (
    PUPIL,
    ROLES,
    PageCase,
    Site,
    axe_version,
    axe_violations,
    describe_violations,
    expected_nav,
    nav_links,
    open_page,
    page_cases,
    page_widths,
    too_wide,
)

pytestmark = pytest.mark.browser

CASES = [
    *page_cases(),
    # A pupil's plan, reached from the pupil page: the SENCo's (with the forms to write and
    # agree it) and the trust admin's (read only).
    PageCase("senco", f"/pupils/{PUPIL}/plan"),
    PageCase("trust_admin", f"/pupils/{PUPIL}/plan"),
    # Finding a child (issue 15, item 3): a teacher's class and group lists, a visitor's
    # named pupil, a SENCo's search results and the prompt a search too short gets.
    PageCase("teacher", "/pupils"),
    PageCase("visiting_professional", "/pupils"),
    PageCase("senco", "/pupils?q=ev"),
    PageCase("senco", "/pupils?q=e"),
]


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_shown_is_the_navigation_tested(open_as, site: Site, role: str) -> None:
    """Sign in, follow every link in the navigation: each is a page the tests below visit,
    and each page offers the same navigation (so no page is reachable but untested)."""
    page = open_as(role)
    page.goto("/")
    shown = nav_links(page)
    assert shown == expected_nav(role), "update browser_helpers.VISITOR_AREAS or the cases"
    for href in shown:
        if page.locator('nav[aria-label="Main"]').count() == 0:
            page.goto("/")  # back from a page not built yet (FastAPI's JSON 404)
        page.locator(f'nav[aria-label="Main"] a[href="{href}"]').first.click()
        page.wait_for_load_state()
        if page.locator('nav[aria-label="Main"]').count() > 0:
            assert nav_links(page) == shown, f"{href} offers a different navigation"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_page_is_accessible_and_fits_320px(open_as, site: Site, case: PageCase) -> None:
    """axe-core finds no serious or critical violation at a desktop width; then, narrowed
    to 320 px (one load of the page for both checks), nothing scrolls sideways: wide
    tables scroll inside their ``.table-wrap``."""
    page = open_as(case.role)
    open_page(page, site, case)
    path = site.fill(case.path)
    problems = []
    violations = axe_violations(page)
    if violations:
        problems.append(f"axe-core, on {path}:\n{describe_violations(violations)}")
    page.set_viewport_size({"width": 320, "height": 640})
    scroll_width, viewport = page_widths(page)
    if scroll_width > viewport:
        problems.append(
            f"{path} is {scroll_width}px wide at {viewport}px; "
            f"reaching past the edge: {too_wide(page)}"
        )
    assert not problems, "\n".join(problems)


def test_sign_in_error_is_accessible(open_as, site: Site) -> None:
    """The sign-in page with its error (said in text, announced) passes axe too."""
    page = open_as(None)
    page.goto("/sign-in")
    page.get_by_label("Username").fill("nobody-by-this-name")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().strip()
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_the_checks_find_planted_problems(open_as) -> None:
    """The checks above are not vacuous: axe-core runs under the app's content security
    policy and reports an image without a text alternative added to a page, and a box
    wider than 320 px makes the page scroll sideways."""
    page = open_as(None)
    page.goto("/sign-in")
    page.evaluate(
        "() => { const i = document.createElement('img'); i.src = '/static/none.png';"
        " document.querySelector('main').append(i); }"
    )
    found = {v["id"]: v for v in axe_violations(page)}
    assert "image-alt" in found, describe_violations(list(found.values()))
    assert found["image-alt"]["impact"] == "critical"
    assert axe_version().startswith("4.")

    page.set_viewport_size({"width": 320, "height": 640})
    assert page_widths(page)[0] <= 320
    page.evaluate(
        "() => { const d = document.createElement('div'); d.id = 'wide';"
        " d.textContent = 'wide'; d.style.width = '600px';"
        " document.querySelector('main').append(d); }"
    )
    assert page_widths(page)[0] > 320
    assert any(found.startswith("div#wide") for found in too_wide(page))
