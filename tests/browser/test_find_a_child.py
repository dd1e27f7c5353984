"""Finding a child in a real browser (issue 15, item 3): a teacher types part of a pupil's
name into the search in the page header, on a 320 px wide screen, and lands on the pupil;
the results page passes axe-core and does not scroll sideways; a pupil at the same school
outside the teacher's groups is not found."""

from __future__ import annotations

import re

import pytest
from browser_helpers import Site, axe_violations, describe_violations, page_widths, too_wide

from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

pytestmark = pytest.mark.browser


def _name(site: Site, pupil_key: str) -> tuple[str, str]:
    rows = site.query(
        "SELECT forename, surname FROM core.pupil_identity WHERE pupil_key = ?", [pupil_key]
    )
    reader = IdentityReader(TEST_KEYS)
    return str(reader.text(rows[0][0])), str(reader.text(rows[0][1]))


def _fits(page, where: str) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []
    violations = axe_violations(page)
    if violations:
        problems.append(f"axe-core, on {where}:\n{describe_violations(violations)}")
    scroll_width, viewport = page_widths(page)
    if scroll_width > viewport:
        problems.append(f"{where} is {scroll_width}px wide: {too_wide(page)}")
    return problems


def test_a_teacher_types_a_name_in_the_header_and_lands_on_the_pupil(open_as, site: Site) -> None:
    forename, surname = _name(site, site.pupil)
    page = open_as("teacher", width=320, height=640)
    page.goto("/")
    search = page.get_by_role("search", name="Find a pupil")  # a landmark in the header
    box = search.get_by_role("searchbox", name="Find a pupil")
    box.fill(surname[: max(3, len(surname) - 2)].lower())
    box.press("Enter")
    page.wait_for_url(re.compile(r"/pupils\?q="))
    problems = _fits(page, "the results page at 320 px")
    link = page.get_by_role("link", name=f"{forename} {surname}", exact=True)
    assert link.count() >= 1, "the pupil is listed under their name"
    assert page.locator(f'a[href="/pupils/{site.outside_pupil}"]').count() == 0
    assert not problems, "\n".join(problems)
    page.locator(f'a[href="/pupils/{site.pupil}"]').first.click()
    page.wait_for_url(f"**/pupils/{site.pupil}")
    assert f"{forename} {surname}" in page.locator("h1").inner_text()
    # A pupil of the school outside the teacher's groups, searched by full name: not found.
    outside = " ".join(_name(site, site.outside_pupil))
    box = page.get_by_role("searchbox", name="Find a pupil")
    box.fill(outside)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/pupils\?q="))
    assert page.locator(f'a[href="/pupils/{site.outside_pupil}"]').count() == 0
    kept = page.get_by_role("searchbox", name="Find a pupil").input_value()
    assert kept == outside  # kept in the box, to correct it
