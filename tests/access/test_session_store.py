"""Server-side sessions: issued, checked, touched and revoked in app.sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from access_fixtures import PASSWORD, SCHOOL_A

from empowered.access import sessions
from empowered.access.users import (
    add_user,
    change_password,
    disable_user,
    issue_one_time_password,
    reset_password,
    sign_out_everywhere,
)

pytestmark = pytest.mark.usefixtures("fast_hashing")

T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def test_only_the_hash_of_a_session_id_is_stored(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "senco", PASSWORD, "senco", school_urn=SCHOOL_A)
    session_id = sessions.start(con, user.user_id, now=T0)
    assert len(session_id) >= 43  # 32 random bytes
    assert session_id not in str(con.execute("SELECT * FROM app.sessions").fetchall())
    checked, due = sessions.check(con, session_id, now=T0 + timedelta(seconds=10))
    assert checked.ok and checked.user_id == user.user_id and not due
    assert not sessions.check(con, session_id + "x", now=T0)[0].ok


def test_limits_and_touch(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "senco", PASSWORD, "senco", school_urn=SCHOOL_A)
    session_id = sessions.start(con, user.user_id, now=T0)
    minute = T0 + sessions.SEEN_EVERY
    assert sessions.check(con, session_id, now=minute)[1], "a write is due after a minute"
    # Used every 20 minutes it stays open, until the absolute limit.
    at = T0
    while at + timedelta(minutes=20) < T0 + sessions.ABSOLUTE:
        at += timedelta(minutes=20)
        checked, due = sessions.check(con, session_id, now=at)
        assert checked.ok and due
        sessions.touch(con, session_id, now=at)
    assert (
        sessions.check(con, session_id, now=T0 + sessions.ABSOLUTE + timedelta(seconds=1))[
            0
        ].refused
        == "expired: too old"
    )
    other = sessions.start(con, user.user_id, now=T0)
    idle = T0 + sessions.IDLE + timedelta(seconds=1)
    assert sessions.check(con, other, now=idle)[0].refused == "expired: idle"


@pytest.mark.parametrize(
    "end, why",
    [
        (lambda con, uid: disable_user(con, uid), sessions.DISABLED),
        (lambda con, uid: sign_out_everywhere(con, uid), sessions.EVERYWHERE),
        (
            lambda con, uid: reset_password(con, uid, "a brand new passphrase"),
            sessions.PASSWORD_RESET,
        ),
        (lambda con, uid: issue_one_time_password(con, uid), sessions.PASSWORD_RESET),
        (
            lambda con, uid: change_password(con, uid, PASSWORD, "a brand new passphrase"),
            sessions.PASSWORD_CHANGED,
        ),
    ],
)
def test_account_changes_end_every_session_of_the_account_only(
    con: duckdb.DuckDBPyConnection, end: object, why: str
) -> None:
    """At the service, so the command line (``empowered user disable``/``reset-password``)
    ends sessions as the web app does."""
    user = add_user(con, "senco", PASSWORD, "senco", school_urn=SCHOOL_A)
    other = add_user(con, "dsl", PASSWORD, "dsl", school_urn=SCHOOL_A)
    now = datetime.now(UTC)
    mine = [sessions.start(con, user.user_id, now=now) for _ in range(2)]
    theirs = sessions.start(con, other.user_id, now=now)
    end(con, user.user_id)  # type: ignore[operator]
    for session_id in mine:
        assert sessions.check(con, session_id)[0].refused == f"revoked: {why}"
    assert sessions.check(con, theirs)[0].ok
    assert sessions.live_count(con, user.user_id) == 0
    assert sessions.live_count(con, other.user_id) == 1


def test_sign_out_ends_one_session(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "senco", PASSWORD, "senco", school_urn=SCHOOL_A)
    here, there = sessions.start(con, user.user_id), sessions.start(con, user.user_id)
    sessions.revoke(con, here)
    assert sessions.check(con, here)[0].refused == "revoked: signed out"
    assert sessions.check(con, there)[0].ok
    # Revoked sessions are not touched back to life.
    sessions.touch(con, here)
    assert not sessions.check(con, here)[0].ok


def test_dead_sessions_are_cleared_at_a_later_sign_in(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "senco", PASSWORD, "senco", school_urn=SCHOOL_A)
    sessions.start(con, user.user_id, now=T0)
    sessions.start(con, user.user_id, now=T0 + sessions.ABSOLUTE + sessions.KEEP + timedelta(1))
    count = con.execute("SELECT count(*) FROM app.sessions").fetchone()
    assert count is not None and count[0] == 1
