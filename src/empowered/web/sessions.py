"""Signed session cookies, CSRF tokens, and the record of cookies refused.

The cookie holds a version tag, a random session id (empty before sign-in) and the CSRF
token, signed with the server's secret (itsdangerous, the secret from ``Settings.keys()``),
HttpOnly, SameSite=Strict and Secure outside development. It carries no user id and no
times: the server looks the session id up in ``app.sessions`` (``access.sessions``) on every
request, which says whose session it is, whether it was revoked, and enforces the idle
(30 minutes) and absolute (10 hours) limits. So a forged or replayed cookie opens nothing
unless its id is a live session the server issued. Every form carries the session's CSRF
token and every state-changing request is checked against it (``check_csrf``).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from empowered.access import sessions as server_sessions

COOKIE = "empowered_session"
VERSION = "s2"
IDLE_MINUTES = int(server_sessions.IDLE.total_seconds() // 60)
ABSOLUTE_HOURS = int(server_sessions.ABSOLUTE.total_seconds() // 3600)


@dataclass(frozen=True)
class Session:
    csrf: str
    # The server's session id; empty for a visitor who has not signed in (their cookie
    # only carries the sign-in form's CSRF token).
    session_id: str = ""
    # Filled in from app.sessions once the id checks out; never taken from the cookie.
    user_id: int = 0
    issued: float = 0.0


class SessionCodec:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="empowered-session")

    def new(self, session_id: str = "") -> Session:
        return Session(secrets.token_urlsafe(32), session_id)

    def dumps(self, session: Session) -> str:
        return str(self._serializer.dumps([VERSION, session.session_id, session.csrf]))

    def decode(self, value: str | None) -> tuple[Session | None, str | None]:
        """The cookie's session (not yet checked with the server), or why it was refused
        (None and None when there is no cookie)."""
        if not value:
            return None, None
        try:
            loaded = self._serializer.loads(value)
        except (BadSignature, ValueError, TypeError):
            return None, "bad signature"
        if (
            not isinstance(loaded, list)
            or len(loaded) != 3
            or loaded[0] != VERSION
            or not all(isinstance(part, str) for part in loaded)
            or not loaded[2]
        ):
            return None, "not a session of this version"
        return Session(csrf=loaded[2], session_id=loaded[1]), None


def csrf_matches(session: Session | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf, submitted)


class RejectionThrottle:
    """At most one audit entry per (address, reason) a minute for refused cookies, with
    the number left out since: a flood of forged cookies must not bloat the audit log,
    yet each burst still leaves a trace that says how big it was."""

    def __init__(self, every: float = 60.0, max_keys: int = 10_000) -> None:
        self._every = every
        self._max_keys = max_keys
        self._last: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def due(self, address: str, reason: str, now: float | None = None) -> int | None:
        """None when this one is left out; else how many were left out before it."""
        at = time.monotonic() if now is None else now
        key = (address, reason)
        with self._lock:
            last = self._last.get(key)
            if last is not None and at - last[0] < self._every:
                self._last[key] = (last[0], last[1] + 1)
                return None
            if len(self._last) >= self._max_keys:
                # Forget the quiet keys; the map cannot grow without bound.
                self._last = {k: v for k, v in self._last.items() if at - v[0] < self._every}
                if len(self._last) >= self._max_keys:
                    self._last.clear()
            self._last[key] = (at, 0)
            return 0 if last is None else last[1]
