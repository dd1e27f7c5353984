"""Long lists (the trust's register, a trust admin's children needing attention) come a
page at a time, with the filters kept in the links between pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust

pytestmark = pytest.mark.slow


def pupil_links(html: str) -> list[str]:
    body = html.split("<tbody>")[-1]
    return re.findall(r'href="/pupils/([^"]+)"', body)


def test_the_trusts_register_is_paged_with_its_filters_kept(
    clients: dict[str, TestClient],
) -> None:
    admin = clients["trust_admin"]
    first = admin.get("/register?eal=").text
    total = int(re.search(r"<caption>(\d+) pupils</caption>", first).group(1))  # type: ignore[union-attr]
    if total <= 200:
        pytest.skip("the small trust has too few pupils on the register to page")
    assert f"Showing 1 to 200 of {total} pupils" in first
    assert 'href="?eal=&amp;page=2"' in first
    second = admin.get("/register?eal=&page=2").text
    assert f"Showing 201 to {min(400, total)} of {total} pupils" in second
    assert not set(pupil_links(first)) & set(pupil_links(second))
    # A page past the end, or not a number, shows a real page rather than an error.
    assert admin.get("/register?eal=&page=999").status_code == 200
    assert "Showing 1 to 200" in admin.get("/register?eal=&page=x").text


def test_a_schools_children_are_paged(clients: dict[str, TestClient], web_trust: Trust) -> None:
    """The trust admin's home is the schools side by side; a school's page lists its
    children needing attention, one card each, a page at a time."""
    path = f"/schools/{web_trust.school}"
    html = clients["trust_admin"].get(path).text
    shown = html.count('<li class="card child-card')
    assert 1 <= shown <= 20
    found = re.search(r"Showing 1 to 20 of (\d+) children", html)
    if found:
        assert shown == 20 and int(found.group(1)) > 20
        assert (
            clients["trust_admin"].get(f"{path}?page=2").text.count('<li class="card child-card')
            >= 1
        )
