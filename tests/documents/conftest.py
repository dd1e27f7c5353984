"""Documents (issue 16) made from the small trust with what staff enter in the app (plans,
reviews, provision, visitors' reports): the services on a read-only copy, and the web app on
another copy with one signed-in client per role."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

# The web tests' helpers (signing in, the roles): a module of their own in tests/web.
sys.path.insert(0, str(Path(__file__).parents[1] / "web"))

from doc_fixtures import DocTrust  # noqa: E402
from web_fixtures import PASSWORD, ROLES, signed_in  # noqa: E402


def _pick(con: duckdb.DuckDBPyConnection) -> tuple[str, str, str, str | None, str]:
    school, pupil = con.execute(
        """SELECT r.school_urn, r.pupil_key FROM core.fct_review_meeting AS r
           JOIN core.fct_provision_enrolment AS e USING (pupil_key)
           GROUP BY ALL ORDER BY count(DISTINCT r.meeting_id) DESC, count(*) DESC, 2 LIMIT 1"""
    ).fetchone() or (None, None)
    assert school and pupil, "the app records give a pupil with reviews and provision"
    ehc = con.execute(
        """SELECT p.pupil_key FROM core.dim_pupil AS p
           JOIN marts.register_pupil AS s USING (pupil_key)
           WHERE p.school_urn = ? AND s.sen_provision = 'E' ORDER BY 1 LIMIT 1""",
        [school],
    ).fetchone()
    other = con.execute(
        "SELECT pupil_key, school_urn FROM core.dim_pupil WHERE school_urn <> ? ORDER BY 1 LIMIT 1",
        [school],
    ).fetchone()
    assert other
    return str(school), str(other[1]), str(pupil), ehc[0] if ehc else None, str(other[0])


@pytest.fixture(scope="session")
def doc_warehouse(app_records_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the app-records warehouse for the services (read it only)."""
    path = tmp_path_factory.mktemp("documents") / "documents.duckdb"
    shutil.copy(app_records_warehouse, path)
    return path


@pytest.fixture(scope="session")
def doc_con(doc_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(doc_warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def doc_trust(app_records_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> DocTrust:
    path = tmp_path_factory.mktemp("documents-web") / "documents-web.duckdb"
    shutil.copy(app_records_warehouse, path)
    con = duckdb.connect(str(path))
    picked = _pick(con)
    con.close()
    return DocTrust(path, *picked)


@pytest.fixture(scope="session")
def doc_app(doc_trust: DocTrust) -> Iterator[object]:
    """The web app over the documents' copy, with an account per role (``doc-<role>``):
    the school's SENCo, DSL, a teacher of the pupil's group... as the web tests' accounts."""
    from argon2 import PasswordHasher

    from empowered.access import passwords, users
    from empowered.access.store import ensure_access_tables
    from empowered.access.users import add_user
    from empowered.web.app import create_app

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    saved = (passwords._HASHER, users._DUMMY_HASH)
    passwords._HASHER, users._DUMMY_HASH = fast, fast.hash("dummy")  # type: ignore[attr-defined]
    t = doc_trust
    con = duckdb.connect(str(t.path))
    ensure_access_tables(con)
    groups = [
        str(r[0])
        for r in con.execute(
            "SELECT group_code FROM core.bridge_group_member WHERE pupil_key = ? ORDER BY 1",
            [t.pupil],
        ).fetchall()
    ]
    extra: dict[str, dict[str, object]] = {
        "trust_admin": {},
        "senco": {"school_urn": t.school},
        "dsl": {"school_urn": t.school},
        "teacher": {"school_urn": t.school, "groups": tuple(groups[:1]), "pupils": (t.pupil,)},
        "teaching_assistant": {"school_urn": t.school, "pupils": (t.pupil,)},
        "visiting_professional": {
            "school_urn": t.school,
            "pupils": (t.pupil,),
            "areas": ("register", "provision", "wellbeing", "strategies"),
            # A visitor's access must end (access.users): a month from today.
            "expires_on": date.today() + timedelta(days=30),
        },
        "trust_analyst": {},
    }
    for role in ROLES:
        add_user(con, f"doc-{role.replace('_', '-')}", PASSWORD, role, **extra[role])  # type: ignore[arg-type]
    con.close()
    app = create_app(t.path)
    yield app
    from empowered.web import capture

    capture.stop(app)
    app.state.warehouse.close()
    passwords._HASHER, users._DUMMY_HASH = saved  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def doc_clients(doc_app: object) -> dict[str, object]:
    return {role: signed_in(doc_app, f"doc-{role.replace('_', '-')}") for role in ROLES}
