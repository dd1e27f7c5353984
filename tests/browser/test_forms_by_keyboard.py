"""The SEN support cycle's forms work by keyboard (issue 13, "Done when"): from the top of
each page, Tab reaches every control up to the form's own button, and every stop shows
where the focus is. (The session register is saved by keyboard in test_session_register.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import PUPIL, Site, focus_visible, focused

pytestmark = pytest.mark.browser

MAX_TABS = 200  # the plan form, the longest, has about seventy stops

FORMS = (
    ("teacher", f"/concerns/new?pupil={PUPIL}", "Pass to the designated safeguarding lead"),
    ("senco", f"/actions/new?pupil={PUPIL}&source=pupil", "Agree the action"),
    ("visiting_professional", f"/pupils/{PUPIL}/contributions/new", "Save the note"),
    ("senco", f"/pupils/{PUPIL}/plan", ("Save the plan", "Save a new version")),
)


def tab_to_button(page: Any, wanted: str | tuple[str, ...]) -> int:
    """Press Tab until the button ``wanted`` has the focus; every stop must show its focus.
    How many presses it took."""
    names = (wanted,) if isinstance(wanted, str) else wanted
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        info = focused(page)
        assert focus_visible(info), f"no visible focus on {info}"
        if info.get("tag") == "button" and info.get("text") in names:
            return presses
    raise AssertionError(f"{names} not reached in {MAX_TABS} presses of Tab")


@pytest.mark.parametrize(("role", "path", "button"), FORMS, ids=[f[0] for f in FORMS])
def test_each_form_is_reached_by_tab_with_its_focus_shown(
    open_as: Any, site: Site, role: str, path: str, button: str | tuple[str, ...]
) -> None:
    page = open_as(role)
    response = page.goto(site.fill(path))
    assert response is not None and response.status == 200, path
    assert tab_to_button(page, button) > 1
