"""The Schools page (trust administrator) and the first run: a new warehouse sends its
administrator to set up the school, and the school lands as a source row like any other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, Trust, csrf_of, one_value, signed_in


def test_the_schools_page_lists_the_schools_for_the_administrator_only(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    page = clients["trust_admin"].get("/admin/schools")
    assert page.status_code == 200
    assert web_trust.school in page.text and web_trust.other_school in page.text
    assert "Pupils on roll" in page.text
    for role in ("senco", "dsl", "teacher", "trust_analyst"):
        refused = clients[role].get("/admin/schools")
        assert refused.status_code == 403, role
        assert web_trust.other_school not in refused.text


def test_a_school_set_up_on_the_page_lands_in_raw_and_is_built(
    app_and_users: tuple[Any, dict[str, str]], clients: dict[str, TestClient]
) -> None:
    app = app_and_users[0]
    admin = clients["trust_admin"]
    form = admin.get("/admin/schools").text
    bad = admin.post(
        "/admin/schools",
        data={"csrf": csrf_of(form), "urn": "99001", "name": "Willow", "phase": "primary"},
    )
    assert bad.status_code == 400
    assert "is not a URN" in bad.text and 'href="#urn"' in bad.text
    assert "--" not in bad.text.split("There is a problem")[1][:300]  # no command-line flags
    done = admin.post(
        "/admin/schools",
        data={"csrf": csrf_of(form), "urn": "990077", "name": "Willow Primary",
              "phase": "primary", "la": "999", "estab": "2077", "trust": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/admin/schools?saved=990077"
    listed = admin.get(done.headers["location"]).text
    assert "School 990077 is set up" in listed and "Willow Primary" in listed
    assert "9992077" in listed
    assert (
        one_value(
            app,
            "SELECT b.source FROM raw.canonical_schools AS r "
            "JOIN meta.batches AS b ON b.batch_id = r._batch_id WHERE r.school_urn = '990077'",
        )
        == "school-setup"
    )
    assert (
        one_value(app, "SELECT phase FROM core.dim_school WHERE school_urn = '990077'") == "primary"
    )
    assert one_value(app, "SELECT count(*) FROM app.audit_log WHERE event = 'school_set_up'") == 1


def test_a_new_warehouse_sends_its_administrator_to_set_up_a_school(tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    from empowered.access import passwords, users
    from empowered.access.store import ensure_access_tables
    from empowered.access.users import add_user
    from empowered.web.app import create_app

    path = tmp_path / "new.duckdb"
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    saved = (passwords._HASHER, users._DUMMY_HASH)
    passwords._HASHER, users._DUMMY_HASH = fast, fast.hash("dummy")  # type: ignore[attr-defined]
    try:
        con = duckdb.connect(str(path))
        ensure_access_tables(con)
        add_user(con, "first-admin", PASSWORD, "trust_admin")
        con.close()
        app = create_app(path)
        try:
            client = signed_in(app, "first-admin")
            home = client.get("/", follow_redirects=False)
            assert home.status_code == 303 and home.headers["location"] == "/admin/schools"
            page = client.get("/admin/schools").text
            assert "No school is set up yet." in page and "Set up a school" in page
        finally:
            app.state.warehouse.close()
    finally:
        passwords._HASHER, users._DUMMY_HASH = saved  # type: ignore[attr-defined]
