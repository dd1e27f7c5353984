"""Server-side sessions: what makes signing out (and every other revocation) real.

The browser's signed cookie carries a random session id; ``app.sessions`` holds only its
SHA-256, with the account, when it was issued, when it was last seen and whether (and why)
it was revoked. Every request looks its session up (one primary-key read), so a cookie
replayed after sign-out, a password change, an account being switched off or an
administrator's "sign out everywhere" opens nothing, and the idle and absolute limits are
enforced here, by the server, whatever times a cookie claims.

This module is the one writer of ``app.sessions``. The web app wraps its writes in the
warehouse's short-write lock (``Warehouse.recording``); ``seen_at`` is written at most once
a ``SEEN_EVERY`` per session, so a busy page costs a read, not a write, per request. The
server keeps the rows it read in memory (``access.auth_cache``), so a revocation here tells
that cache (``auth_cache.changed``); the limits are judged on every request (``judge``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from empowered.access import auth_cache

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=10)
# last seen is kept to the minute: the idle limit is half an hour, so a minute's slack
# is harmless, and most requests then need no write at all.
SEEN_EVERY = timedelta(minutes=1)
# Rows of sessions dead this long are removed when someone signs in (they open nothing
# after ABSOLUTE anyway; the audit log keeps the sign-ins and sign-outs).
KEEP = timedelta(days=2)

# Why a session was ended (``revoked_why``), and why a presented one was refused.
SIGNED_OUT = "signed out"
PASSWORD_CHANGED = "password changed"
PASSWORD_RESET = "password reset"
DISABLED = "account switched off"
EVERYWHERE = "signed out everywhere"


@dataclass(frozen=True)
class Check:
    """What the server knows of a presented session id."""

    user_id: int | None  # the account, when the id is known at all
    issued: datetime | None
    refused: str | None  # None when the session is good; else why not

    @property
    def ok(self) -> bool:
        return self.refused is None and self.user_id is not None


def _naive(now: datetime | None) -> datetime:
    at = now or datetime.now(UTC)
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(con: duckdb.DuckDBPyConnection, user_id: int, *, now: datetime | None = None) -> str:
    """A new session for ``user_id``; returns the id for the cookie (stored only hashed).
    Nothing kept in ``auth_cache`` changes: the id is new, and the rows removed are of
    sessions long past their absolute limit, refused from memory as from the table."""
    at = _naive(now)
    session_id = secrets.token_urlsafe(32)
    con.execute("DELETE FROM app.sessions WHERE issued_at < ?", [at - ABSOLUTE - KEEP])
    con.execute(
        "INSERT INTO app.sessions (session_hash, user_id, issued_at, seen_at) VALUES (?, ?, ?, ?)",
        [digest(session_id), user_id, at, at],
    )
    return session_id


@dataclass(frozen=True)
class Stored:
    """A session's row as ``app.sessions`` holds it (times naive UTC)."""

    user_id: int
    issued: datetime
    seen: datetime
    revoked_at: datetime | None
    revoked_why: str | None


def read(con: duckdb.DuckDBPyConnection, session_id: str) -> Stored | None:
    """The stored row of ``session_id``, or None for an id the server never issued (or
    whose row was removed)."""
    row = con.execute(
        "SELECT user_id, issued_at, seen_at, revoked_at, revoked_why FROM app.sessions "
        "WHERE session_hash = ?",
        [digest(session_id)],
    ).fetchone()
    if row is None:
        return None
    user_id, issued, seen, revoked_at, why = row
    return Stored(int(user_id), issued, seen, revoked_at, None if why is None else str(why))


def judge(stored: Stored | None, *, now: datetime | None = None) -> tuple[Check, bool]:
    """Whether a stored session is live at ``now``, and whether its last-seen time is due
    a write (``touch``): the revocation, idle and absolute limits, compared in memory."""
    if stored is None:
        return Check(None, None, "unknown session"), False
    at = _naive(now)
    issued_utc = stored.issued.replace(tzinfo=UTC)
    if stored.revoked_at is not None:
        return Check(stored.user_id, issued_utc, f"revoked: {stored.revoked_why}"), False
    if at - stored.seen > IDLE:
        return Check(stored.user_id, issued_utc, "expired: idle"), False
    if at - stored.issued > ABSOLUTE:
        return Check(stored.user_id, issued_utc, "expired: too old"), False
    return Check(stored.user_id, issued_utc, None), at - stored.seen >= SEEN_EVERY


def check(
    con: duckdb.DuckDBPyConnection, session_id: str, *, now: datetime | None = None
) -> tuple[Check, bool]:
    """Whether ``session_id`` is a live session, and whether its last-seen time is due a
    write (``touch``). A read only: the caller decides when to take the write lock."""
    return judge(read(con, session_id), now=now)


def touch(con: duckdb.DuckDBPyConnection, session_id: str, *, now: datetime | None = None) -> None:
    """Record that the session was used now (call when ``check`` says it is due). The
    server calls it through ``AuthCache.touch``, which keeps the same time in memory."""
    con.execute(
        "UPDATE app.sessions SET seen_at = ? WHERE session_hash = ? AND revoked_at IS NULL",
        [_naive(now), digest(session_id)],
    )


def revoke(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    why: str = SIGNED_OUT,
    *,
    now: datetime | None = None,
) -> None:
    """End one session (sign-out)."""
    con.execute(
        "UPDATE app.sessions SET revoked_at = ?, revoked_why = ? "
        "WHERE session_hash = ? AND revoked_at IS NULL",
        [_naive(now), why, digest(session_id)],
    )
    auth_cache.changed()


def revoke_all(
    con: duckdb.DuckDBPyConnection, user_id: int, why: str, *, now: datetime | None = None
) -> int:
    """End every live session of an account; returns how many were live."""
    rows = con.execute(
        "UPDATE app.sessions SET revoked_at = ?, revoked_why = ? "
        "WHERE user_id = ? AND revoked_at IS NULL RETURNING session_hash",
        [_naive(now), why, user_id],
    ).fetchall()
    auth_cache.changed()
    return len(rows)


def live_count(con: duckdb.DuckDBPyConnection, user_id: int, *, now: datetime | None = None) -> int:
    """How many sessions of an account are open now (for the admin page)."""
    at = _naive(now)
    row = con.execute(
        "SELECT count(*) FROM app.sessions WHERE user_id = ? AND revoked_at IS NULL "
        "AND seen_at >= ? AND issued_at >= ?",
        [user_id, at - IDLE, at - ABSOLUTE],
    ).fetchone()
    return int(row[0]) if row else 0
