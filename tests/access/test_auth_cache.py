"""The server's memory of sessions and accounts (``access.auth_cache``): every write to
them tells it, and a write inside a transaction is seen once the transaction commits."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from empowered.access import auth_cache, sessions, users
from empowered.access.auth_cache import AuthCache
from empowered.access.store import ensure_access_tables

PASSWORD = "correct horse battery staple"


def _cursors(con: duckdb.DuckDBPyConnection) -> auth_cache.Cursor:
    @contextmanager
    def reading() -> Iterator[duckdb.DuckDBPyConnection]:
        cursor = con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    return reading


def test_a_revocation_in_a_transaction_is_seen_once_it_commits(tmp_path: Path) -> None:
    """A request reading between the revocation and its commit sees the session still open
    (the write is not committed) and keeps it under the counter the revocation moved; the
    second move, at the end of the transaction (``settled``), makes the next request read
    it again."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_access_tables(con)
    user = users.add_user(con, "someone", PASSWORD, "senco", school_urn="100001")
    session_id = sessions.start(con, user.user_id)
    cache = AuthCache()
    reading = _cursors(con)
    assert cache.check_session(reading, session_id)[0].ok

    writer = con.cursor()
    writer.execute("BEGIN TRANSACTION")
    sessions.revoke(writer, session_id)
    # Read meanwhile on another cursor: not committed, so still open; kept.
    assert cache.check_session(reading, session_id)[0].ok
    writer.execute("COMMIT")
    auth_cache.settled()
    checked, _ = cache.check_session(reading, session_id)
    assert checked.refused == "revoked: signed out"


def test_an_account_is_read_again_after_any_change_to_it(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_access_tables(con)
    user = users.add_user(
        con, "teacher.one", PASSWORD, "teacher", school_urn="100001", groups=("7A",)
    )
    cache = AuthCache()
    reading = _cursors(con)
    assert cache.user(reading, user.user_id) == user
    reads = cache.reads
    assert cache.user(reading, user.user_id) == user
    assert cache.reads == reads, "kept"
    users.unassign_group(con, user.user_id, "7A")
    assert cache.user(reading, user.user_id).groups == ()  # type: ignore[union-attr]
    users.disable_user(con, user.user_id)
    assert cache.user(reading, user.user_id).disabled  # type: ignore[union-attr]


def test_the_list_of_accounts_is_read_again_after_any_change_to_one(tmp_path: Path) -> None:
    """The trigger queue's action form lists the school's staff from the kept accounts: a
    new account, or one switched off, is in (or out of) the very next list."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_access_tables(con)
    first = users.add_user(con, "senco.one", PASSWORD, "senco", school_urn="100001")
    cache = AuthCache()
    reading = _cursors(con)
    assert cache.accounts(reading) == (first,)
    reads = cache.reads
    assert cache.accounts(reading) == (first,)
    assert cache.reads == reads, "kept"
    second = users.add_user(con, "dsl.one", PASSWORD, "dsl", school_urn="100001")
    assert {u.username for u in cache.accounts(reading)} == {"senco.one", "dsl.one"}
    users.disable_user(con, second.user_id)
    assert [u.disabled for u in cache.accounts(reading) if u.user_id == second.user_id] == [True]
    assert cache.reads == reads + 2


# Functions that write these tables without telling the cache, and why that is right.
_WRITE_WITHOUT_TELLING = {
    "start": "a new id; the rows removed are long past their limit",
    "touch": "called through AuthCache.touch, which keeps the same time",
    "settle_sign_in": "the throttle, the second factor's step, a rehash: nothing kept",
    "start_totp": "a waiting secret: nothing kept",
    "_insert_links": "a helper: its callers tell the cache",
}
_TABLES = ("app.users", "app.user_", "app.sessions", "_insert_links")


def test_every_function_that_writes_accounts_or_sessions_tells_the_cache() -> None:
    """The cache is safe only if no write goes unannounced: a new writing function in
    ``access.users`` or ``access.sessions`` must call ``auth_cache.changed``."""
    silent = []
    for module in (users, sessions):
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            text = ast.get_source_segment(inspect.getsource(module), node) or ""
            writes = any(
                word in text.upper() for word in ("UPDATE APP.", "INSERT INTO", "DELETE FROM")
            ) and any(table in text for table in _TABLES)
            writes = writes or ("_insert_links(" in text and node.name != "_insert_links")
            tells = "auth_cache.changed()" in text
            if writes and not tells and node.name not in _WRITE_WITHOUT_TELLING:
                silent.append(f"{module.__name__}.{node.name}")
    assert not silent, f"write accounts or sessions without auth_cache.changed(): {silent}"
