"""Pages that used to leave no audit entry: an account's page on the admin screens, and the
import-status fragment htmx polls once it shows the import's outcome. The log stays a
verifiable chain throughout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust, csrf_of, observations_csv

from empowered.access.audit import read_log, verify
from empowered.settings import Settings


@pytest.fixture(scope="module", autouse=True)
def _settings(app_and_users: tuple[Any, dict[str, str]]) -> Iterator[None]:
    app = app_and_users[0]
    # The secret the small trust was built with, so uploaded rows key to the same pupils.
    app.state.settings = Settings(pseudonym_key="test-pseudonym-key")  # type: ignore[arg-type]
    yield
    app.state.settings = None


def _views(app: Any, page: str) -> int:
    with app.state.warehouse.reading() as con:
        return sum(1 for e in read_log(con, event="viewed_page", limit=10_000) if e["page"] == page)


def test_viewing_an_account_is_audited(
    clients: dict[str, TestClient], app_and_users: tuple[Any, dict[str, str]]
) -> None:
    app, names = app_and_users
    with app.state.warehouse.reading() as con:
        [(teacher_id,)] = con.execute(
            "SELECT user_id FROM app.users WHERE username = ?", [names["teacher"]]
        ).fetchall()
    page = f"/admin/users/{teacher_id}"
    before = _views(app, page)
    assert clients["trust_admin"].get(page).status_code == 200
    assert _views(app, page) == before + 1
    with app.state.warehouse.reading() as con:
        [entry] = [e for e in read_log(con, limit=50) if e["page"] == page][:1]
        assert entry["username"] == names["trust_admin"]
        assert verify(con).ok


def test_the_import_status_fragment_is_audited_once_it_shows_the_outcome(
    clients: dict[str, TestClient], web_trust: Trust, small_trust: Path
) -> None:
    client = clients["senco"]
    app = client.app
    body = observations_csv(small_trust, web_trust.school, "AUD", rows=4, bad=1)
    response = client.post(
        "/imports",
        data={"csrf": csrf_of(client.get("/imports").text), "source": "auto",
              "school": web_trust.school},
        files=[("files", ("observations.csv", body, "text/csv"))],
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    deadline = time.monotonic() + 180
    while True:
        before = _views(app, location)
        fragment = client.get(location, headers={"HX-Request": "true"})
        assert fragment.status_code == 200 and "<html" not in fragment.text
        if "Still importing" not in fragment.text:
            break
        assert _views(app, location) == before  # "still importing" shows nothing: not kept
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.5)
    # The fragment that shows the outcome (the rows quarantined, with reasons) is recorded.
    assert "3 rows accepted, 1 quarantined" in fragment.text
    assert _views(app, location) == before + 1
    with app.state.warehouse.reading() as con:
        assert verify(con).ok
