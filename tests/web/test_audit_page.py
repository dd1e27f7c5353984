"""The audit page: search by user, pupil, event and dates; a page at a time; the same
search as a CSV (defused cells, itself audited); and what a school's safeguarding lead sees:
their staff, and trust-level accounts' dealings with their school's pupils, nobody else's."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust

from empowered.access.audit import SignInFailed, ViewedPage, ViewedPupil, read_log, record
from empowered.access.users import User, add_user, list_users

OLD = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def _user(app: Any, username: str) -> User:
    with app.state.warehouse.reading() as con:
        return next(u for u in list_users(con) if u.username == username)


@pytest.fixture(scope="module")
def seeded(app_and_users: tuple[Any, dict[str, str]], web_trust: Trust) -> dict[str, Any]:
    """Entries by a trust admin about a pupil of the DSL's school and one of another school,
    by another school's member of staff, and a run of old page views for paging."""
    app, names = app_and_users
    admin = _user(app, names["trust_admin"])
    with app.state.warehouse.recording() as con:
        other = add_user(
            con, "other-school-senco", "a long enough password 1", "senco",
            school_urn=web_trust.other_school,
        )  # fmt: skip
        record(con, ViewedPupil(pupil_key=web_trust.in_group[0], page="pupil"), user=admin)
        record(con, ViewedPupil(pupil_key=web_trust.other_school_pupil, page="pupil"), user=admin)
        record(con, ViewedPupil(pupil_key=web_trust.other_school_pupil, page="pupil"), user=other)
        record(con, ViewedPage(page="/register"), user=other)
        for i in range(120):
            record(con, ViewedPage(page=f"/old-{i}"), user=admin, at=OLD + timedelta(minutes=i))
        # A username typed at sign-in that a spreadsheet would run as a formula.
        record(con, SignInFailed(username='=HYPERLINK("x")', outcome="bad_credentials"), user=None)
    return {"admin": admin, "other": other}


def _rows(html: str) -> list[str]:
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    assert body
    return re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)


def test_the_admin_searches_by_user_pupil_event_and_dates(
    clients: dict[str, TestClient], seeded: dict[str, Any], web_trust: Trust
) -> None:
    admin = clients["trust_admin"]
    by_user = admin.get("/audit", params={"user": "OTHER-school"}).text
    rows = _rows(by_user)
    assert len(rows) == 2 and all("other-school-senco" in r for r in rows)
    by_pupil = _rows(admin.get("/audit", params={"pupil": web_trust.other_school_pupil}).text)
    assert len(by_pupil) == 2
    by_event = _rows(
        admin.get("/audit", params={"user": "other-school", "event": "viewed_page"}).text
    )
    assert len(by_event) == 1 and "/register" in by_event[0]
    dated = admin.get("/audit", params={"since": "2025-03-04", "until": "2025-03-04"}).text
    assert "120 entries match" in dated
    assert not _rows(admin.get("/audit", params={"until": "2025-03-03"}).text)
    wrong = admin.get("/audit", params={"since": "yesterday", "event": "drop table"})
    assert wrong.status_code == 200
    assert "Enter the date as a date" in wrong.text and "Choose an event" in wrong.text


def test_the_log_comes_a_page_at_a_time(
    clients: dict[str, TestClient], seeded: dict[str, Any]
) -> None:
    admin = clients["trust_admin"]
    first = admin.get("/audit", params={"since": "2025-03-04", "until": "2025-03-04"}).text
    assert len(_rows(first)) == 50 and "/old-119" in first and "page 1 of 3" in first
    assert "since=2025-03-04&amp;until=2025-03-04&amp;page=2" in first
    third = admin.get(
        "/audit", params={"since": "2025-03-04", "until": "2025-03-04", "page": "3"}
    ).text
    assert len(_rows(third)) == 20 and "/old-0<" in third


def test_the_csv_holds_the_search_with_defused_cells_and_is_audited(
    clients: dict[str, TestClient], seeded: dict[str, Any]
) -> None:
    admin = clients["trust_admin"]
    got = admin.get("/audit.csv", params={"event": "sign_in_failed"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["when (universal time)", "user", "role", "event"]
    cells = [c for r in rows[1:] for c in r]
    assert '\'=HYPERLINK("x")' in cells and '=HYPERLINK("x")' not in cells
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)
    everything = admin.get("/audit.csv", params={"since": "2025-03-04", "until": "2025-03-04"})
    assert len(list(csv.reader(io.StringIO(everything.text)))) == 121  # not paged
    with clients["trust_admin"].app.state.warehouse.reading() as con:  # type: ignore[attr-defined]
        [latest] = read_log(con, event="exported", limit=1)
    assert latest["page"] == "/audit" and latest["detail"]["rows"] == 120


def test_a_dsl_sees_trust_accounts_with_their_pupils_and_no_other_school(
    clients: dict[str, TestClient], seeded: dict[str, Any], web_trust: Trust
) -> None:
    dsl = clients["dsl"]
    admin_name = seeded["admin"].username
    pupil_views = _rows(dsl.get("/audit", params={"event": "viewed_pupil"}).text)
    # The trust admin's view of the DSL's school's pupil is there...
    assert any(admin_name in r and web_trust.in_group[0] in r for r in pupil_views)
    # ... not their view of another school's pupil, nor the other school's staff at all.
    assert not any(web_trust.other_school_pupil in r for r in pupil_views)
    assert "other-school-senco" not in dsl.get("/audit", params={"user": "other"}).text
    # Nor the trust admin's own page views (not about the DSL's pupils).
    assert not _rows(dsl.get("/audit", params={"since": "2025-03-04", "until": "2025-03-04"}).text)
    exported = dsl.get("/audit.csv").text
    assert "other-school-senco" not in exported and web_trust.other_school_pupil not in exported
    assert web_trust.in_group[0] in exported
