"""Everything works by keyboard: the skip link comes first and moves focus to the main
content, signing in needs only Tab, typing and Enter, the navigation and the register's
filters are reached with Tab, and whatever has the focus shows it."""

from __future__ import annotations

import pytest
from browser_helpers import Site, focus_visible, focused

pytestmark = pytest.mark.browser

MAX_TABS = 40  # more than any page here needs to reach its last control


def tab_to(page, wanted, what: str) -> dict:
    """Press Tab until ``wanted(focused element)``; every stop must show its focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        info = focused(page)
        assert focus_visible(info), f"no visible focus on {info}"
        if wanted(info):
            return info
    raise AssertionError(f"{what} not reached in {MAX_TABS} presses of Tab")


def test_skip_link_is_first_and_moves_focus_to_main(open_as) -> None:
    page = open_as(None)
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["href"] == "#main", f"the first Tab reached {first}, not the skip link"
    assert first["text"] == "Skip to the main content"
    assert focus_visible(first)
    box = page.locator("a.skip").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the focused skip link is seen"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    # The next Tab goes on from the main content: the first field of the form.
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "username"


def test_sign_in_and_filter_the_register_by_keyboard_alone(open_as, site: Site) -> None:
    account = site.accounts["senco"]
    page = open_as(None)
    page.goto("/sign-in")
    tab_to(page, lambda f: f["id"] == "username", "the username field")
    page.keyboard.type(account.username)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.base_url}/")

    # On the home page: Tab past the skip link and along the navigation to the register.
    tab_to(page, lambda f: f["href"] == "/register", "the SEND register link")
    page.keyboard.press("Enter")
    page.wait_for_url("**/register")
    assert page.get_by_role("heading", level=1).inner_text() == "SEND register"

    # The filter form: Tab to "Attendance below (%)", type, Enter submits.
    tab_to(page, lambda f: f["id"] == "attendance_below", "the attendance filter")
    page.keyboard.type("90")
    page.keyboard.press("Enter")
    page.wait_for_url("**/register?*attendance_below=90*")
    # And on to the first pupil in the list.
    pupil = tab_to(
        page, lambda f: (f["href"] or "").startswith("/pupils/"), "a pupil in the register"
    )
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{pupil['href']}")
    assert page.get_by_role("heading", level=1).inner_text() == pupil["text"]
