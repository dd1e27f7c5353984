"""The issue's plan journey in Chromium: the SENCo writes a plan with three outcomes by
keyboard and pointer, agrees it with the family, and the page shows it, at a desktop
width and on a phone."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from browser_helpers import Site, page_widths
from playwright.sync_api import expect

from empowered.plans import AREAS

pytestmark = pytest.mark.browser

# Where the journey leaves screenshots to look at (EMPOWERED_SHOTS; none when unset).
SHOTS = os.environ.get("EMPOWERED_SHOTS")

OUTCOMES = (
    ("Will ask an adult for help using a help card in every lesson.", AREAS[0]),
    ("Will read and spell the next 20 common exception words.", AREAS[1]),
    ("Will use a chosen calming strategy when upset, with one prompt.", AREAS[2]),
)


def _shot(page: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_the_senco_writes_a_plan_with_three_outcomes_and_agrees_it(open_as, site: Site) -> None:
    pupil = site.pupil
    [(as_of,)] = site.query(
        "SELECT a.as_of_date FROM core.dim_pupil AS p JOIN marts.school_as_of AS a "
        "USING (school_urn) WHERE p.pupil_key = ?",
        [pupil],
    )
    start = min(as_of, date.today())
    page = open_as("senco")
    page.goto(f"/pupils/{pupil}")
    page.get_by_role("link", name="Open the plan, change or agree it").click()
    page.wait_for_url(f"**/pupils/{pupil}/plan")
    _shot(page, "plan-empty-1280")

    form = page.locator("form.plan-form")
    form.get_by_label("SEN support plan").check()
    form.get_by_label("It starts on").fill(start.isoformat())
    form.get_by_label("Next review date").fill((start + timedelta(days=84)).isoformat())
    form.get_by_label("The child's strengths").fill("Curious and kind; loves drawing animals.")
    form.get_by_label("What is important to them").fill("A quiet space; knowing what comes next.")
    for n, (text, area) in enumerate(OUTCOMES):
        outcome = form.locator(f"#outcome-{n}")
        outcome.get_by_label("What the pupil will achieve").fill(text)
        outcome.get_by_label("Area of need").select_option(area)
        outcome.get_by_label("Achieve by").fill((start + timedelta(days=120)).isoformat())
        outcome.get_by_label("Who does it").fill("Teaching assistant")
    third = form.locator("#outcome-2")
    third.locator("summary").click()
    third.get_by_role("checkbox").first.check()
    form.get_by_role("button", name="Save the plan").press("Enter")
    page.wait_for_url(f"**/pupils/{pupil}/plan?saved=saved*")
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    plan = page.locator("#plan")
    for text, _ in OUTCOMES:
        expect(plan.get_by_text(text)).to_be_visible()
    expect(plan).to_contain_text("what the records show for this pupil")

    agree = page.locator("#agree")
    agree.get_by_label("The parents or carers and the pupil").check()
    agree.get_by_label("The day it was agreed").fill(start.isoformat())
    agree.get_by_role("button", name="Record as agreed").click()
    page.wait_for_url(f"**/pupils/{pupil}/plan?saved=agreed*")
    senco = site.accounts["senco"].username
    expect(plan).to_contain_text(f"Version 2, agreed {start.day} {start:%B %Y} by {senco}")
    expect(page.get_by_role("heading", name="Earlier versions")).to_be_visible()
    _shot(page, "plan-agreed-1280")
    rows = site.query(
        "SELECT count(*) FROM core.fct_plan_outcome AS o JOIN core.fct_plan AS p "
        "USING (plan_id) WHERE p.pupil_key = ? AND p.status = 'agreed' AND o.in_plan",
        [pupil],
    )
    assert rows == [(3,)]

    # On a phone: the same page, nothing wider than the screen.
    phone = open_as("senco", width=375, height=800)
    phone.goto(f"/pupils/{pupil}/plan")
    scroll_width, viewport = page_widths(phone)
    _shot(phone, "plan-agreed-375")
    assert scroll_width <= viewport
    phone.set_viewport_size({"width": 320, "height": 640})
    scroll_width, viewport = page_widths(phone)
    assert scroll_width <= viewport
    # The pupil page lists the plan's outcomes.
    phone.goto(f"/pupils/{pupil}")
    expect(phone.locator("#plans")).to_contain_text(OUTCOMES[1][0])
