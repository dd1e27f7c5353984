"""Issue 15, item 1: the trust admin's and trust analyst's home is the trust's schools side
by side ("which school needs help"), not every pupil's items over 29 pages; each school's
name leads to its page of what needs attention there, within the user's scope.

The expected figures are worked out here from the warehouse's per-pupil rows, in Python,
not read back from the view's query.
"""

from __future__ import annotations

import html as htmllib
import re
from collections import defaultdict
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust

from empowered.access.policy import may_see_section, scope_for
from empowered.access.sections import Section
from empowered.analytics.disclosure import THRESHOLD

ROW = re.compile(r'<tr data-school="([^"]+)">(.*?)</tr>', re.S)
CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
TAG = re.compile(r"<[^>]+>")
# The table's columns after the school's name (the trust admin sees them all).
COLUMNS = (
    "on_roll",
    "on_register",
    "share",
    "ehc_plan",
    "attendance_sen",
    "attendance_no_sen",
    "provision_pupils",
    "provision_cost",
    "results",
    "open_triggers",
    "support_reviews_overdue",
    "ehc_reviews_overdue",
)
COUNTS = (
    "on_register",
    "ehc_plan",
    "provision_pupils",
    "open_triggers",
    "support_reviews_overdue",
    "ehc_reviews_overdue",
)


def table_rows(page: str) -> dict[str, dict[str, str]]:
    """school urn -> {"name": ..., column: display text}, from the page's table."""
    out = {}
    for urn, body in ROW.findall(page):
        cells = [" ".join(htmllib.unescape(TAG.sub(" ", c)).split()) for c in CELL.findall(body)]
        out[urn] = {"name": cells[0], **dict(zip(COLUMNS, cells[1:], strict=True))}
    return out


def rows_of(app: Any, sql: str, params: list[object] | None = None) -> list[dict[str, Any]]:
    with app.state.warehouse.reading() as con:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def expected(app: Any) -> dict[str, dict[str, Any]]:
    """Each school's figures from per-pupil rows, counted here."""
    schools = {
        r["school_urn"]: r
        for r in rows_of(
            app,
            "SELECT s.school_urn, s.school_name, a.as_of_academic_year AS year "
            "FROM core.dim_school s JOIN marts.school_as_of a USING (school_urn)",
        )
    }
    out: dict[str, dict[str, Any]] = {
        urn: defaultdict(int, name=s["school_name"]) for urn, s in schools.items()
    }
    status: dict[str, bool] = {}
    for p in rows_of(app, "SELECT * FROM marts.register_pupil"):
        e = out[p["school_urn"]]
        e["on_roll"] += 1
        status[p["pupil_key"]] = p["sen_provision"] in ("K", "E")
        e["on_register"] += p["sen_provision"] in ("K", "E")
        e["ehc_plan"] += p["sen_provision"] == "E"
        if p["has_current_plan"] and p["review_overdue"] and p["plan_next_review_due"]:
            kind = "ehc" if p["current_plan_type"] == "ehc_plan" else "support"
            e[f"{kind}_reviews_overdue"] += 1
    for a in rows_of(app, "SELECT * FROM marts.attendance_pupil_year_all WHERE possible > 0"):
        if a["academic_year"] != schools[a["school_urn"]]["year"] or a["pupil_key"] not in status:
            continue
        which = "sen" if status[a["pupil_key"]] else "no_sen"
        out[a["school_urn"]][f"present_{which}"] += int(a["present"])
        out[a["school_urn"]][f"possible_{which}"] += int(a["possible"])
        out[a["school_urn"]][f"pupils_{which}"] += 1
    pupils: dict[str, set[str]] = defaultdict(set)
    for e in rows_of(app, "SELECT * FROM marts.provision_enrolment WHERE in_as_of_year"):
        pupils[e["school_urn"]].add(e["pupil_key"])
        out[e["school_urn"]]["provision_cost"] += float(e["cost_per_pupil"] or 0)
    for urn, keys in pupils.items():
        out[urn]["provision_pupils"] = len(keys)
    return out


def rate(e: dict[str, Any], which: str) -> str:
    if not e[f"possible_{which}"]:
        return "none"
    return f"{100 * e[f'present_{which}'] / e[f'possible_{which}']:.1f}%"


def trigger_children(page: str) -> set[str]:
    """The children on a school page whose card has a trigger among its reasons."""
    cards = page.split('<li class="card child-card')[1:]
    return {
        re.search(r'data-pupil="([^"]+)"', card).group(1)  # type: ignore[union-attr]
        for card in cards
        if 'data-section="home.triggers"' in card.split("</ul>\n  </li>")[0]
    }


def test_the_trust_admins_home_is_the_schools_side_by_side(
    clients: dict[str, TestClient],
) -> None:
    admin = clients["trust_admin"]
    page = admin.get("/").text
    shown = table_rows(page)
    total = shown.pop("all")
    want = expected(admin.app)
    assert set(shown) == set(want), "one row per school in scope"
    # The whole trust's row adds the schools up (and pools their sessions).
    trust: dict[str, Any] = defaultdict(int)
    for e in want.values():
        for k, v in e.items():
            if k != "name":
                trust[k] += v
    assert total["name"] == "All schools"
    assert total["on_roll"] == f"{trust['on_roll']:,}"
    assert total["on_register"] == f"{trust['on_register']:,}"
    assert total["attendance_sen"] == rate(trust, "sen")
    assert total["provision_cost"] == f"£{trust['provision_cost']:,.0f}"
    assert total["support_reviews_overdue"] == str(trust["support_reviews_overdue"])
    for urn, e in want.items():
        row = shown[urn]
        assert row["name"] == e["name"] and urn not in row["name"]  # a name, not a number
        assert row["on_roll"] == f"{e['on_roll']:,}"
        assert row["on_register"] == f"{e['on_register']:,}"
        assert row["share"] == f"{100 * e['on_register'] / e['on_roll']:.0f}%"
        assert row["ehc_plan"] == str(e["ehc_plan"])
        assert row["attendance_sen"] == rate(e, "sen")
        assert row["attendance_no_sen"] == rate(e, "no_sen")
        assert row["provision_pupils"] == str(e["provision_pupils"])
        assert row["provision_cost"] == f"£{e['provision_cost']:,.0f}"
        assert re.search(
            r"worth keeping|worth reviewing|too early to say|none recorded", row["results"]
        )
        assert row["support_reviews_overdue"] == str(e["support_reviews_overdue"])
        assert row["ehc_reviews_overdue"] == str(e["ehc_reviews_overdue"])
        # The open triggers: the children whose trigger cards the school's page lists.
        school = admin.get(f"/schools/{urn}")
        assert school.status_code == 200
        children = trigger_children(all_pages(admin, f"/schools/{urn}"))
        assert row["open_triggers"] == str(len(children))
        trust["open_triggers"] += len(children)
    assert total["open_triggers"] == str(trust["open_triggers"])
    # Pupils are no longer listed: no pupil item, no 29 pages of them.
    assert 'href="/pupils/' not in page
    assert not re.search(r'<li class="card[^"]*" data-section="home\.', page)
    assert "Showing 1 to 50 of" not in page


def all_pages(client: TestClient, path: str) -> str:
    """Every page of a paged list, one after another."""
    out, n = "", 1
    while True:
        text = client.get(f"{path}?page={n}").text
        out += text
        if f'href="?page={n + 1}"' not in text:
            return out
        n += 1


def test_the_analysts_small_numbers_are_hidden(clients: dict[str, TestClient]) -> None:
    analyst, admin = clients["trust_analyst"], clients["trust_admin"]
    page = analyst.get("/").text
    shown, exact = table_rows(page), table_rows(admin.get("/").text)
    # No whole-trust row: beside hidden figures a total would give them away.
    assert "all" not in shown and exact.pop("all")
    assert set(shown) == set(exact)
    small = 0
    for urn, row in shown.items():
        for column in COUNTS:
            true = int(exact[urn][column].replace(",", ""))
            if 0 < true < THRESHOLD:
                small += 1
                assert row[column] == "c", (urn, column)
            # Whatever is shown is the true count (never a small one).
            assert row[column] in ("c", exact[urn][column]), (urn, column)
        if row["on_register"] == "c" or row["ehc_plan"] == "c":
            # The register's count and the share would give a hidden one away.
            assert row["share"] == "c" and row["on_roll"] == "c"
    assert small, "the small trust has a small count to hide"
    assert "fewer than 5 or hidden to protect a small group" in page
    assert 'href="/pupils/' not in page


def test_a_schools_page_lists_its_items_and_only_its_own(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    admin = clients["trust_admin"]
    home = admin.get("/").text
    assert f'href="/schools/{web_trust.school}"' in home
    page = all_pages(admin, f"/schools/{web_trust.school}")
    linked = set(re.findall(r'<h3 class="child-name"><a href="/pupils/([^"]+)"', page))
    assert linked, "the school's items are listed"
    schools = {
        r["pupil_key"]: r["school_urn"]
        for r in rows_of(admin.app, "SELECT pupil_key, school_urn FROM core.fct_enrolment")
    }
    assert {schools[k] for k in linked} == {web_trust.school}
    # A pupil at the other school with an item on their school's page is not on this one.
    other = set(
        re.findall(
            r'<h3 class="child-name"><a href="/pupils/([^"]+)"',
            all_pages(admin, f"/schools/{web_trust.other_school}"),
        )
    )
    assert other and not other & linked


def test_a_school_outside_the_scope_cannot_be_opened(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    senco = clients["senco"]
    own = senco.get(f"/schools/{web_trust.school}")
    assert own.status_code == 200 and "Back to the schools side by side" not in own.text
    refused = senco.get(f"/schools/{web_trust.other_school}")
    assert refused.status_code == 404
    assert "/pupils/" not in refused.text
    assert clients["trust_admin"].get("/schools/no-such-school").status_code == 404
    for role in ("teacher", "teaching_assistant", "dsl", "visiting_professional"):
        assert clients[role].get(f"/schools/{web_trust.school}").status_code == 403, role
    # The SENCo's own home is still their children, not a one-row table.
    assert 'data-school="' not in senco.get("/").text


@pytest.mark.parametrize("role", ["trust_admin", "trust_analyst", "senco"])
def test_a_schools_page_shows_only_sections_the_policy_allows(
    clients: dict[str, TestClient], web_trust: Trust, role: str
) -> None:
    client = clients[role]
    page = client.get(f"/schools/{web_trust.school}").text
    with client.app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        from empowered.access.users import find_user

        user = find_user(con, role.replace("_", "-"))
        assert user is not None
        scope = scope_for(con, user, today=__import__("datetime").date.today())
    sections = set(re.findall(r'data-section="([^"]+)"', page))
    assert Section.HOME_SCHOOLS_SIDE_BY_SIDE in sections
    for s in sections:
        assert may_see_section(scope, Section(s)), (role, s)
    if role == "trust_analyst":
        assert "/pupils/" not in page and "home.school_summary" in sections
