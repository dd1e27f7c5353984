"""The demo trust is alive on its day: home for the SENCo is about the last four weeks.

The trust is cut off in the middle of an autumn term (tests/cut_trust.py) and what staff
enter in the app is landed as the demo lands it, the day after; the SENCo's home then
shows items dated within the 28 days to that day, not last July's.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_fixtures import csrf_of

from cut_trust import CUT_THROUGH
from empowered.analytics.wording import day_text
from identity_keys import TEST_KEYS

DAY_TEXT = re.compile(
    r"\b(\d{1,2}) (January|February|March|April|May|June|July|August|"
    r"September|October|November|December) (20\d\d)\b"
)


@pytest.fixture(scope="module")
def senco_home(
    cut_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int, int]]:
    from argon2 import PasswordHasher

    from empowered.access import passwords, users
    from empowered.demo import DEMO_SEED, create_demo_accounts
    from empowered.synth.app_sources import land_demo_records
    from empowered.warehouse.connection import open_warehouse
    from empowered.web.app import create_app

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    saved = (passwords._HASHER, users._DUMMY_HASH)
    passwords._HASHER, users._DUMMY_HASH = fast, fast.hash("dummy")  # type: ignore[attr-defined]
    path = tmp_path_factory.mktemp("home-now") / "demo.duckdb"
    shutil.copy(cut_warehouse, path)
    con = open_warehouse(path)
    accounts = {a.role: a for a in create_demo_accounts(con)}
    found = users.find_user(con, accounts["senco"].username)
    assert found is not None
    school = str(found.school_urn)
    build = land_demo_records(
        con, keys=TEST_KEYS, today=CUT_THROUGH + timedelta(days=1), seed=DEMO_SEED
    )
    assert build is not None and build.ok
    overdue, soon = con.execute(
        "SELECT count(*) FILTER (WHERE review_overdue), "
        "count(*) FILTER (WHERE NOT review_overdue AND plan_next_review_due <= as_of_date + 28) "
        "FROM marts.register_pupil WHERE has_current_plan AND school_urn = ?",
        [school],
    ).fetchone() or (0, 0)
    con.close()
    app = create_app(path)
    try:
        client = TestClient(app)
        senco = accounts["senco"]
        response = client.post(
            "/sign-in",
            data={
                "username": senco.username,
                "password": senco.password,
                "csrf": csrf_of(client.get("/sign-in").text),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        home = client.get("/")
        assert home.status_code == 200
        yield home.text, overdue, soon
    finally:
        app.state.warehouse.close()
        passwords._HASHER, users._DUMMY_HASH = saved  # type: ignore[attr-defined]


def _days_shown(html: str) -> list[date]:
    months = {day_text(date(2026, m, 1)).split()[1]: m for m in range(1, 13)}
    return [date(int(y), months[m], int(d)) for d, m, y in DAY_TEXT.findall(html)]


def test_the_senco_home_shows_items_from_the_last_four_weeks(
    senco_home: tuple[str, int, int],
) -> None:
    days = _days_shown(senco_home[0])
    recent = [d for d in days if CUT_THROUGH - timedelta(days=28) < d <= CUT_THROUGH]
    assert len(recent) >= 3, sorted(set(days))[-10:]
    # Nothing on the page is dated after the day, but for what is coming due.
    assert max(days) <= CUT_THROUGH + timedelta(days=60)


def test_the_senco_has_reviews_overdue_and_due_soon_after_the_demo_reviews(
    senco_home: tuple[str, int, int],
) -> None:
    # The reviews the demo's SENCo held leave a few overdue they have not got to yet.
    _, overdue, soon = senco_home
    assert overdue > 0 and soon > 0
