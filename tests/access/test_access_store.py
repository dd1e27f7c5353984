"""The app schema: created idempotently, and untouched by warehouse builds."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from access_fixtures import PASSWORD, SCHOOL_A

from empowered.access.audit import SignedIn, read_log, record
from empowered.access.store import _DDL, ensure_access_tables
from empowered.access.users import add_user, find_user, list_users, sign_in

pytestmark = pytest.mark.usefixtures("fast_hashing")

# Every table the DDL declares (read from it, so a new app table is covered without a list).
TABLES = {
    m.group(1) for ddl in _DDL if (m := re.search(r"CREATE TABLE IF NOT EXISTS app\.(\w+)", ddl))
}


def _app_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'app'")
    return {str(name) for (name,) in rows.fetchall()}


def test_ensure_access_tables_is_idempotent(con: duckdb.DuckDBPyConnection) -> None:
    add_user(con, "admin", PASSWORD, "trust_admin")
    ensure_access_tables(con)
    ensure_access_tables(con)
    assert {"users", "user_groups", "user_pupils", "user_areas", "audit_log"} <= TABLES
    assert _app_tables(con) == TABLES
    assert [u.username for u in list_users(con)] == ["admin"]


def test_usernames_are_unique_in_the_table_too(con: duckdb.DuckDBPyConnection) -> None:
    add_user(con, "admin", PASSWORD, "trust_admin")
    with pytest.raises(duckdb.ConstraintException):
        con.execute(
            "INSERT INTO app.users (username, role, password_hash, created_at, "
            "password_changed_at) VALUES ('admin', 'senco', 'x', now(), now())"
        )


@pytest.mark.slow
def test_the_app_schema_survives_a_warehouse_build(tmp_path: Path) -> None:
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.connection import open_warehouse

    path = tmp_path / "w.duckdb"
    con = open_warehouse(path)
    ensure_access_tables(con)
    teacher = add_user(
        con, "teacher", PASSWORD, "teacher", school_urn=SCHOOL_A, groups=["7A"], pupils=["p1"]
    )
    record(con, SignedIn(), user=teacher)
    result = build_duckdb(con)
    assert result.ok
    con.close()

    con = open_warehouse(path)
    assert _app_tables(con) == TABLES
    assert find_user(con, "teacher") == teacher
    assert [e["event"] for e in read_log(con)] == ["signed_in"]
    assert sign_in(con, "teacher", PASSWORD).outcome == "ok"
    # The build's own tables are there too: it really ran.
    built = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core'"
    ).fetchone()
    assert built is not None and built[0] > 10
    con.close()
