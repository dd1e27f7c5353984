"""Issue 13's actions journey in Chromium: the SENCo assigns two actions to a teacher
from the pupil's page; the teacher signs in, sees both on their home page and marks one
done, and it leaves the home page. The pages pass axe on the way."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from browser_helpers import Site, axe_violations, describe_violations, page_widths
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

FIRST = "Meet the parents to share the new support plan and hear how mornings are going."
SECOND = "Refer to the speech and language therapy service for an updated assessment."


def agree(page: Page, site: Site, kind: str, text: str, teacher: str) -> None:
    page.goto(f"/pupils/{site.pupil}")
    page.get_by_role("link", name="Agree an action").click()
    page.wait_for_url("**/actions/new?*source=pupil*")
    page.get_by_label(kind).check()
    page.get_by_label("What is to be done").fill(text)
    owner = page.get_by_label("Who will do it")
    label = next(o for o in owner.locator("option").all_inner_texts() if o.startswith(teacher))
    owner.select_option(label=label)
    page.get_by_label("Due by").fill((date.today() + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Agree the action").click()
    page.wait_for_url("**/actions/*?saved=1")
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.get_by_text(text)).to_be_visible()


def test_senco_assigns_two_actions_and_the_teacher_marks_one_done(open_as, site: Site) -> None:
    teacher = site.accounts["teacher"].username
    senco = open_as("senco")
    # A form sent with nothing chosen says what is wrong beside each field (and passes axe).
    senco.goto(f"/actions/new?pupil={site.pupil}&source=pupil")
    senco.get_by_role("button", name="Agree the action").click()
    expect(senco.get_by_role("alert")).to_contain_text("Choose who will do it")
    violations = axe_violations(senco)
    assert not violations, describe_violations(violations)

    agree(senco, site, "Meet the family", FIRST, teacher)
    violations = axe_violations(senco)  # the action page, with its history
    assert not violations, describe_violations(violations)
    agree(senco, site, "Refer to a specialist", SECOND, teacher)

    page = open_as("teacher", width=375, height=800)
    page.goto("/")
    mine = page.locator('[data-section="home.my_actions"]')
    expect(mine.get_by_text(FIRST)).to_be_visible()
    expect(mine.get_by_text(SECOND)).to_be_visible()
    mine.locator("li", has_text=FIRST).get_by_role("button", name="Mark done").click()
    page.wait_for_url(f"{site.base_url}/")
    mine = page.locator('[data-section="home.my_actions"]')
    expect(mine.get_by_text(SECOND)).to_be_visible()
    expect(mine.get_by_text(FIRST)).to_have_count(0)

    done = site.query(
        "SELECT a.status, h.n FROM core.fct_action AS a JOIN (SELECT action_key, count(*) AS n "
        "FROM core.fct_action_history GROUP BY 1) AS h USING (action_key) "
        "WHERE a.description = ?",
        [FIRST],
    )
    assert done == [("done", 2)]


def test_the_actions_list_passes_axe_and_fits_320px(open_as, site: Site) -> None:
    """The school's list with every status (the longest table), for the SENCo."""
    page = open_as("senco")
    page.goto("/actions?status=all")
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    page.set_viewport_size({"width": 320, "height": 640})
    scroll_width, viewport = page_widths(page)
    assert scroll_width <= viewport
