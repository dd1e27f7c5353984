"""The navigation on a phone and on a desktop (issue 15, item 7): on a 375 px phone it
folds behind "Menu" (a small share of the first screen), opens by keyboard, and the page
you are on is marked (aria-current plus a visible style) wherever it is shown."""

from __future__ import annotations

import pytest
from browser_helpers import Site, axe_violations, describe_violations, focus_visible, focused

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
NAV = 'nav[aria-label="Main"]'


def test_on_a_phone_the_navigation_is_folded_and_opens_by_keyboard(open_as, site: Site) -> None:
    page = open_as("senco", **PHONE)
    page.goto("/account")  # no wide table: axe judges the menu, not scrolling tables
    header = page.locator("header.site").bounding_box()
    assert header is not None
    assert header["height"] < 0.15 * PHONE["height"], f"the header is {header['height']}px tall"
    current = page.locator(f'{NAV} a[aria-current="page"]')
    assert current.count() == 1 and current.get_attribute("href") == "/account"
    assert not current.is_visible(), "the links wait behind Menu"
    summary = page.locator(f"{NAV} summary")
    assert "Your account" in summary.inner_text(), "Menu says which page this is"
    for _ in range(5):  # the skip link, the brand, then Menu
        page.keyboard.press("Tab")
        if focused(page)["tag"] == "summary":
            break
    info = focused(page)
    assert info["tag"] == "summary" and focus_visible(info), info
    page.keyboard.press("Enter")
    assert current.is_visible(), "Enter opens the menu"
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    page.keyboard.press("Tab")
    assert focused(page)["tag"] == "a", "Tab goes on into the opened links"


def test_on_a_desktop_the_links_show_and_the_current_page_stands_out(open_as) -> None:
    page = open_as("senco")
    page.goto("/register")
    assert not page.locator(f"{NAV} summary").is_visible(), "no Menu button on a wide screen"
    current = page.locator(f'{NAV} a[aria-current="page"]')
    other = page.locator(f'{NAV} a[href="/glossary"]')
    assert current.is_visible() and other.is_visible()
    weight = current.evaluate("e => getComputedStyle(e).fontWeight")
    assert int(weight) >= 700 > int(other.evaluate("e => getComputedStyle(e).fontWeight"))


@pytest.mark.parametrize("role", ["senco", "trust_admin"])
def test_on_a_desktop_the_search_shares_the_brands_line(open_as, role: str) -> None:
    """Three lines of header (brand, links, search) became two: the search sits at the
    right of the brand, the links below them; a phone keeps brand and Menu first."""
    page = open_as(role, width=1280, height=900)
    page.goto("/account")
    brand = page.locator("header.site > strong").bounding_box()
    search = page.locator("header.site form.pupil-search").bounding_box()
    links = page.locator(f"{NAV} ul").bounding_box()
    assert brand and search and links
    assert (
        search["y"] < brand["y"] + brand["height"] and brand["y"] < search["y"] + search["height"]
    )
    assert search["x"] > brand["x"] + brand["width"], "the search is to the right of the brand"
    assert links["y"] >= search["y"] + search["height"] - 1, "the links are on the next line"
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
    phone = open_as(role, **PHONE)
    phone.goto("/account")
    brand = phone.locator("header.site > strong").bounding_box()
    search = phone.locator("header.site form.pupil-search").bounding_box()
    assert brand and search and search["y"] >= brand["y"] + brand["height"] - 1
    for width in (320, 375):
        phone.set_viewport_size({"width": width, "height": 700})
        wide = phone.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"the header scrolls sideways at {width}px ({wide}px)"
