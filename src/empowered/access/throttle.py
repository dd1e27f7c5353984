"""Slowing password guessing without handing anyone a way to lock a colleague out.

Failed sign-ins are counted three ways (``app.sign_in_throttle``):

- per **(username, address)**: ``PAIR_LIMIT`` failures within ``WINDOW`` pause that
  username *from that address* for ``PAUSE``. Someone guessing a colleague's password from
  their own computer pauses only themselves; the colleague signs in from theirs as usual.
- per **address**: ``ADDRESS_LIMIT`` failures within ``WINDOW``, whatever the usernames,
  pause every sign-in from that address for ``PAUSE`` (one machine trying many accounts).
- per **username**, from every address: past ``ACCOUNT_CEILING`` failures within
  ``WINDOW`` each further attempt on that username is answered only after ``SLOW_DOWN``
  seconds. It never refuses, so a flood from many addresses cannot lock the real holder
  out; it only makes a guessing network slow (argon2 already costs each guess about half
  a second).

Usernames are counted as typed (normalised), whether or not an account has that name, so
an unknown name is paused exactly like a real one and the pause says nothing about which
usernames exist. They are stored as a SHA-256 digest: someone who types their password
into the username box does not leave it here. A successful sign-in clears its
(username, address) count; an administrator's password reset clears the username's.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import duckdb

WINDOW = timedelta(minutes=15)
PAUSE = timedelta(minutes=15)
PAIR_LIMIT = 5
ADDRESS_LIMIT = 30
ACCOUNT_CEILING = 100
SLOW_DOWN = 2.0  # seconds

PAIR, ADDRESS, ACCOUNT = "pair", "address", "account"


def account_digest(username: str) -> str:
    return hashlib.sha256(b"empowered-sign-in\x00" + username.encode()).hexdigest()


def _keys(username: str, address: str | None) -> dict[str, tuple[str, str]]:
    account, where = account_digest(username), address or ""
    return {PAIR: (account, where), ADDRESS: ("", where), ACCOUNT: (account, "")}


def paused_until(
    con: duckdb.DuckDBPyConnection, username: str, address: str | None, at: datetime
) -> datetime | None:
    """When this username may next be tried from this address (None: now)."""
    keys = _keys(username, address)
    row = con.execute(
        "SELECT max(paused_until) FROM app.sign_in_throttle WHERE paused_until > ? AND ("
        "(scope = ? AND account = ? AND address = ?) OR (scope = ? AND account = ? AND "
        "address = ?))",
        [at, PAIR, *keys[PAIR], ADDRESS, *keys[ADDRESS]],
    ).fetchone()
    return row[0] if row and row[0] is not None else None


def slow_down(con: duckdb.DuckDBPyConnection, username: str, at: datetime) -> float:
    """Seconds to wait before answering an attempt on this username (0 normally)."""
    row = con.execute(
        "SELECT failures FROM app.sign_in_throttle WHERE scope = ? AND account = ? "
        "AND address = '' AND first_at >= ?",
        [ACCOUNT, account_digest(username), at - WINDOW],
    ).fetchone()
    return SLOW_DOWN if row is not None and int(row[0]) >= ACCOUNT_CEILING else 0.0


_LIMITS = {PAIR: PAIR_LIMIT, ADDRESS: ADDRESS_LIMIT, ACCOUNT: None}


def failed(
    con: duckdb.DuckDBPyConnection, username: str, address: str | None, at: datetime
) -> datetime | None:
    """Count a failure three ways; returns the end of a pause it started, if any."""
    started: datetime | None = None
    for scope, (account, where) in _keys(username, address).items():
        row = con.execute(
            "SELECT failures, first_at FROM app.sign_in_throttle "
            "WHERE scope = ? AND account = ? AND address = ?",
            [scope, account, where],
        ).fetchone()
        failures = 1 if row is None or row[1] < at - WINDOW else int(row[0]) + 1
        first = at if row is None or failures == 1 else row[1]
        limit = _LIMITS[scope]
        until = None
        if limit is not None and failures >= limit:
            # The count restarts: after the pause the full number of attempts is back.
            until, failures, first = at + PAUSE, 0, at
            started = max(started, until) if started else until
        con.execute(
            "INSERT OR REPLACE INTO app.sign_in_throttle "
            "(scope, account, address, failures, first_at, paused_until) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [scope, account, where, failures, first, until],
        )
    return started


def succeeded(con: duckdb.DuckDBPyConnection, username: str, address: str | None) -> None:
    """A right password (and code) from this address: its count for the username restarts.
    The address's own count does not: one good account must not reset a guesser's."""
    account, where = _keys(username, address)[PAIR]
    con.execute(
        "DELETE FROM app.sign_in_throttle WHERE scope = ? AND account = ? AND address = ?",
        [PAIR, account, where],
    )


def clear_account(con: duckdb.DuckDBPyConnection, username: str) -> None:
    """An administrator's reset: every pause and count for this username is lifted."""
    con.execute(
        "DELETE FROM app.sign_in_throttle WHERE account = ? AND scope IN (?, ?)",
        [account_digest(username), PAIR, ACCOUNT],
    )


def paused_usernames(con: duckdb.DuckDBPyConnection, at: datetime) -> set[str]:
    """Digests of the usernames paused from at least one address now (the admin page)."""
    rows = con.execute(
        "SELECT DISTINCT account FROM app.sign_in_throttle WHERE scope = ? AND paused_until > ?",
        [PAIR, at],
    ).fetchall()
    return {str(r[0]) for r in rows}
