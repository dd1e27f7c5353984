"""A web app over a copy of the built small trust, with one signed-in client per role."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, ROLES, Trust, signed_in


@pytest.fixture(scope="module")
def web_trust(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    path = tmp_path_factory.mktemp("web") / "web.duckdb"
    shutil.copy(built_warehouse, path)
    con = duckdb.connect(str(path))
    school, group = con.execute(
        "SELECT school_urn, group_code FROM core.bridge_group_member GROUP BY 1, 2 "
        "ORDER BY count(*) DESC, 1, 2 LIMIT 1"
    ).fetchone() or ("", "")
    members = [
        r[0]
        for r in con.execute(
            "SELECT pupil_key FROM core.bridge_group_member WHERE school_urn = ? AND "
            "group_code = ? ORDER BY 1",
            [school, group],
        ).fetchall()
    ]
    other = con.execute(
        "SELECT e.pupil_key FROM core.fct_enrolment AS e WHERE e.school_urn = ? AND "
        "e.pupil_key NOT IN (SELECT pupil_key FROM core.bridge_group_member "
        "WHERE school_urn = ? AND group_code = ?) ORDER BY 1 LIMIT 1",
        [school, school, group],
    ).fetchone()
    elsewhere = con.execute(
        "SELECT pupil_key, school_urn FROM core.fct_enrolment WHERE school_urn <> ? ORDER BY 1 "
        "LIMIT 1",
        [school],
    ).fetchone()
    con.close()
    assert other and elsewhere and members
    yield Trust(path, school, elsewhere[1], group, members, other[0], elsewhere[0])
    # Forty modules take a copy of the warehouse (about 100 MB each): kept to the session's
    # end, they filled a CI machine's disk.
    shutil.rmtree(path.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def app_and_users(web_trust: Trust) -> Iterator[tuple[object, dict[str, str]]]:
    from argon2 import PasswordHasher

    from empowered.access import passwords, users
    from empowered.access.users import add_user
    from empowered.web.app import create_app

    # Cheap hashing: these tests are about pages, not argon2's cost.
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    saved = (passwords._HASHER, users._DUMMY_HASH)
    passwords._HASHER, users._DUMMY_HASH = fast, fast.hash("dummy")  # type: ignore[attr-defined]
    con = duckdb.connect(str(web_trust.path))
    t = web_trust
    extra: dict[str, dict[str, object]] = {
        "trust_admin": {},
        "senco": {"school_urn": t.school},
        "dsl": {"school_urn": t.school},
        "teacher": {"school_urn": t.school, "groups": (t.group,)},
        "teaching_assistant": {"school_urn": t.school, "pupils": tuple(t.in_group[:2])},
        "visiting_professional": {
            "school_urn": t.school,
            "pupils": tuple(t.in_group[:1]),
            "areas": ("wellbeing", "strategies"),
            "expires_on": date.today() + timedelta(days=10),
        },
        "trust_analyst": {},
    }
    from empowered.access.store import ensure_access_tables

    ensure_access_tables(con)
    for role in ROLES:
        add_user(con, role.replace("_", "-"), PASSWORD, role, **extra[role])  # type: ignore[arg-type]
    con.close()
    app = create_app(t.path)
    yield app, {role: role.replace("_", "-") for role in ROLES}
    from empowered.web import capture

    capture.stop(app)  # as the server's shutdown does: finish a rebuild still waiting
    app.state.warehouse.close()
    passwords._HASHER, users._DUMMY_HASH = saved  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def clients(app_and_users: tuple[object, dict[str, str]]) -> dict[str, TestClient]:
    app, names = app_and_users
    return {role: signed_in(app, name) for role, name in names.items()}
