"""Signed session cookies and CSRF tokens.

The cookie holds only the user's id, a CSRF token and two times (issued, last seen),
signed with the server's secret (itsdangerous), HttpOnly, SameSite=Strict and Secure
outside development. A session ends after ``IDLE_MINUTES`` without a request or
``ABSOLUTE_HOURS`` after sign-in, whichever comes first: a shared staffroom computer left
signed in must not stay open all day. Every form carries the session's CSRF token and every
state-changing request is checked against it (``check_csrf``).
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "empowered_session"
IDLE_MINUTES = 30
ABSOLUTE_HOURS = 10


@dataclass(frozen=True)
class Session:
    user_id: int
    csrf: str
    issued: float
    seen: float

    def expired(self, now: float) -> bool:
        return now - self.seen > IDLE_MINUTES * 60 or now - self.issued > ABSOLUTE_HOURS * 3600


class SessionCodec:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="empowered-session")

    def new(self, user_id: int, now: float | None = None) -> Session:
        at = time.time() if now is None else now
        return Session(user_id, secrets.token_urlsafe(32), at, at)

    def dumps(self, session: Session) -> str:
        return str(
            self._serializer.dumps([session.user_id, session.csrf, session.issued, session.seen])
        )

    def loads(self, value: str | None, now: float | None = None) -> Session | None:
        """The session in a cookie, or None when absent, tampered with or expired."""
        if not value:
            return None
        try:
            user_id, csrf, issued, seen = self._serializer.loads(value)
        except (BadSignature, ValueError, TypeError):
            return None
        session = Session(int(user_id), str(csrf), float(issued), float(seen))
        return None if session.expired(time.time() if now is None else now) else session

    def touch(self, session: Session, now: float | None = None) -> Session:
        return Session(
            session.user_id, session.csrf, session.issued, time.time() if now is None else now
        )


def csrf_matches(session: Session | None, submitted: str | None) -> bool:
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf, submitted)
