"""The DSL's queue by child in Chromium (issue 15, item 2): one entry per child, two
children ticked and acknowledged together by keyboard, every new trigger of theirs stored
and audited; the page is axe-clean and does not scroll sideways at 320 px."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import (
    Site,
    axe_violations,
    describe_violations,
    focus_visible,
    focused,
    page_widths,
    too_wide,
)

pytestmark = pytest.mark.browser


def _press(page: Any, locator: Any, key: str) -> None:
    """Give the control the focus, check the focus shows, and press a key on it."""
    locator.focus()
    info = focused(page)
    assert focus_visible(info), f"no visible focus on {info}"
    page.keyboard.press(key)


def test_dsl_acknowledges_two_children_by_keyboard(open_as: Any, site: Site) -> None:
    page = open_as("dsl")
    page.goto("/triggers?status=new")
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    children = page.locator("li.trigger-child")
    keys = [str(k).removeprefix("child-") for k in children.evaluate_all("l => l.map(e => e.id)")]
    assert len(keys) == len(set(keys)) >= 2, "one entry per child"
    chosen = keys[:2]
    triggers = [
        t
        for k in chosen
        for t in page.locator(f"#child-{k} li.trigger-card").evaluate_all("l => l.map(e => e.id)")
    ]
    assert len(triggers) >= 2
    for k in chosen:
        box = page.locator(f"#child-{k}").get_by_role("checkbox")
        _press(page, box, "Space")
        assert box.is_checked()
    _press(page, page.get_by_role("button", name="Acknowledge the children ticked"), "Enter")
    page.wait_for_url("**/triggers?*acknowledged=*")
    status = page.locator("#trigger-status")
    assert status.inner_text().strip() == f"{len(triggers)} triggers acknowledged."
    marks = ",".join("?" * len(triggers))
    stored = site.query(
        "SELECT trigger_id, username FROM app.trigger_reviews "
        f"WHERE kind = 'acknowledged' AND trigger_id IN ({marks})",
        list(triggers),
    )
    assert sorted(stored) == sorted((t, "dsl") for t in triggers)
    audited = site.query(
        "SELECT count(*) FROM app.audit_log WHERE username = 'dsl' AND event = 'changed' "
        f"AND ({' OR '.join(['detail LIKE ?'] * len(triggers))})",
        [f"%{t}%" for t in triggers],
    )
    assert audited[0][0] == len(triggers), "one audit entry per trigger"
    left = page.locator("li.trigger-child").evaluate_all("l => l.map(e => e.id)")
    assert not {f"child-{k}" for k in chosen} & set(left), "they left the new list"
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)


def test_the_queue_by_child_fits_a_320px_screen(open_as: Any) -> None:
    page = open_as("dsl", width=320, height=800)
    page.goto("/triggers?status=all")
    scroll, width = page_widths(page)
    assert scroll <= width, too_wide(page)
    assert page.locator("li.trigger-child").count() >= 1
