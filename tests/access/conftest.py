"""Fixtures for the access layer: an in-memory warehouse with the app tables."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from access_fixtures import ENROLMENT, MEMBERS

from empowered.access.store import ensure_access_tables


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    ensure_access_tables(connection)
    yield connection
    connection.close()


@pytest.fixture
def schools(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` with core.bridge_group_member and core.fct_enrolment filled in by hand."""
    con.execute("CREATE SCHEMA core")
    con.execute(
        "CREATE TABLE core.bridge_group_member "
        "(school_urn VARCHAR, group_code VARCHAR, pupil_key VARCHAR)"
    )
    con.executemany("INSERT INTO core.bridge_group_member VALUES (?, ?, ?)", MEMBERS)
    con.execute("CREATE TABLE core.fct_enrolment (pupil_key VARCHAR, school_urn VARCHAR)")
    con.executemany("INSERT INTO core.fct_enrolment VALUES (?, ?)", [(p, s) for s, p in ENROLMENT])
    return con


@pytest.fixture
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters for tests about something other than hashing: the default
    parameters cost about half a second a hash on a 2-core machine."""
    from argon2 import PasswordHasher

    from empowered.access import passwords, users

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_HASHER", fast)
    monkeypatch.setattr(users, "_DUMMY_HASH", fast.hash("dummy"))
