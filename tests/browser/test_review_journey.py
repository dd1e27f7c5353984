"""Issue 13's review journey in Chromium: the SENCo holds a review of an overdue plan with
the parent's views; the reviews page shows it and the plan is no longer overdue. The
pages are checked with axe-core and at a phone's width, and screenshots are kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_helpers import Site, axe_violations, describe_violations, page_widths
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("EMPOWERED_SHOTS", "/tmp/shots-reviews"))


def _overdue_plan(site: Site) -> tuple[str, str, list[str]]:
    found = site.query(
        "SELECT r.pupil_key, r.current_plan_id FROM marts.register_pupil AS r "
        "JOIN core.fct_plan AS p ON p.plan_id = r.current_plan_id "
        "WHERE r.school_urn = ? AND r.current_plan_type = 'sen_support_plan' "
        "AND r.review_overdue AND p.is_active "
        "AND r.current_plan_id IN (SELECT plan_id FROM core.fct_plan_outcome) "
        "ORDER BY 1 LIMIT 1",
        [site.school],
    )
    assert found, "the small trust has an overdue support plan at the SENCo's school"
    pupil, plan = str(found[0][0]), str(found[0][1])
    outcomes = [
        str(o)
        for (o,) in site.query(
            "SELECT outcome_id FROM core.fct_plan_outcome WHERE plan_id = ? ORDER BY 1", [plan]
        )
    ]
    return pupil, plan, outcomes


def _shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        scroll, viewport = page_widths(page)
        assert scroll <= viewport, f"{name} is {scroll}px wide at {viewport}px"
    page.set_viewport_size({"width": 1280, "height": 900})
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_senco_holds_a_review_with_the_parents_views(open_as, site: Site) -> None:
    pupil, plan, outcomes = _overdue_plan(site)
    page = open_as("senco")
    # Two cores shared by several test runs: a loaded machine must not fail the journey.
    page.set_default_timeout(90_000)
    page.goto(f"/pupils/{pupil}")
    expect(page.locator("#plans")).to_contain_text("overdue")
    page.get_by_role("link", name="Reviews held and the annual review calendar").click()
    page.wait_for_url(f"**/pupils/{pupil}/reviews")
    _shoot(page, "reviews-before")
    page.get_by_role("link", name="Hold a review").click()
    page.wait_for_url(f"**/pupils/{pupil}/reviews/new")
    _shoot(page, "review-form")

    page.get_by_label("Who attended").fill("Mother, class teacher, SENCo")
    page.get_by_role("group", name="Were the parents met?").get_by_label("Yes").check()
    for n, outcome in enumerate(outcomes):
        page.locator(f'input[name="rating_{outcome}"][value="{(n % 3) - 1}"]').check()
        page.locator(f"#note_{outcome}").fill("Steady progress with a familiar adult.")
    page.get_by_label("The pupil's views").fill("Likes the quiet table; finds writing tiring.")
    page.get_by_label("The parents' views").fill("Mum says reading at home is a pleasure now.")
    page.get_by_label("The discussion held with the parents").fill(
        "We agreed a writing frame and a weekly message home."
    )
    page.get_by_label("What changes").fill("Writing frame in English lessons.")
    page.get_by_label("Next steps").fill("Class teacher to share the frame with home.")
    page.get_by_role("button", name="Save the review").click()
    page.wait_for_url(f"**/pupils/{pupil}/reviews?saved=review", timeout=120_000)

    expect(page.get_by_role("status")).to_contain_text("Saved")
    held = page.locator("#held article").first
    expect(held).to_contain_text("Mum says reading at home is a pleasure now.")
    expect(held).to_contain_text("-1 less than expected")
    expect(held.get_by_role("link", name="Agree an action")).to_have_attribute(
        "href", f"/actions/new?pupil={pupil}&source=review&ref=" + _meeting(site, plan)
    )
    _shoot(page, "reviews-after")
    overdue = site.query(
        "SELECT review_overdue FROM marts.register_pupil WHERE current_plan_id = ?", [plan]
    )
    assert overdue == [(False,)]
    page.goto(f"/pupils/{pupil}")
    expect(page.locator("#plans")).not_to_contain_text("overdue")


def _meeting(site: Site, plan: str) -> str:
    [(meeting,)] = site.query(
        "SELECT meeting_id FROM core.fct_review_meeting WHERE plan_id = ?", [plan]
    )
    return str(meeting)


def test_the_senco_sees_an_ehc_plans_annual_review_steps(open_as, site: Site) -> None:
    """The home page asks for the steps in plain words; the reviews page lays out the
    calendar and records a step."""
    found = site.query(
        "SELECT s.pupil_key FROM marts.ehc_review_step AS s WHERE s.school_urn = ? "
        "AND s.step = 'advice_requested' AND NOT s.is_done ORDER BY s.due_on, 1 LIMIT 1",
        [site.school],
    )
    assert found, "the small trust has an EHC plan at the SENCo's school"
    pupil = str(found[0][0])
    page = open_as("senco")
    page.set_default_timeout(90_000)
    page.goto(f"/pupils/{pupil}/reviews")
    calendar = page.locator("#calendar")
    expect(calendar).to_contain_text("Advice requested")
    _shoot(page, "reviews-ehc")
    calendar.get_by_label("Step").select_option(label="Advice requested")
    calendar.get_by_role("button", name="Record the step").click()
    page.wait_for_url("**/reviews?saved=step*", timeout=120_000)
    expect(page.locator("#calendar")).to_contain_text("done on")
    # Most urgent first, fifty to a page: walk the pages to the first step.
    steps = page.locator('[data-section="home.ehc_review_steps"]')
    for n in range(1, 10):
        page.goto(f"/?page={n}")
        if steps.count():
            break
    expect(steps.first).to_contain_text("annual review by")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        steps.first.screenshot(path=str(SHOTS / f"home-step-{width}.png"))
    _shoot(page, "home")
