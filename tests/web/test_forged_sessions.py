"""Forged sessions (issue 10, finding 3): a cookie signed with the secret once printed in
the code opens nothing, in development too, and neither does a correctly signed cookie
whose session id the server never issued."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from web_fixtures import PASSWORD, Trust, csrf_of

from empowered.access.audit import read_log
from empowered.keys import PUBLISHED_SECRETS
from empowered.settings import Settings, get_settings
from empowered.web.sessions import COOKIE, VERSION, Session

pytestmark = pytest.mark.slow

PUBLISHED = "development-only-session-secret-not-for-real-pupils"
SALT = "empowered-session"


def _forgeries(secret: str, user_id: int) -> dict[str, str]:
    """The attack of the issue (``[1, token, now, now]``: user 1 is the first account, a
    trust admin) and the same in today's cookie format, with a made-up session id."""
    now = time.time()
    token = secrets.token_urlsafe(32)
    signer = URLSafeSerializer(secret, salt=SALT)
    return {
        "old format": str(signer.dumps([user_id, token, now, now])),
        "new format": str(signer.dumps([VERSION, secrets.token_urlsafe(32), token])),
        "new format, no id": str(signer.dumps([VERSION, "", token])),
    }


def _users(app: Any) -> int:
    with app.state.warehouse.reading() as con:
        row = con.execute("SELECT count(*) FROM app.users").fetchone()
    assert row is not None
    return int(row[0])


def _try(app: Any, cookie: str, pupil: str) -> None:
    """Everything a trust admin could do with the forged cookie, refused."""
    # The form token inside the forgery (the payload is readable without the secret).
    payload = URLSafeSerializer("unused").loads_unsafe(cookie)[1]
    csrf = payload[1] if len(payload) == 4 else payload[2]
    before = _users(app)
    for path in ("/admin", "/", f"/pupils/{pupil}", "/audit", "/account"):
        client = TestClient(app)
        client.cookies.set(COOKIE, cookie)
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers.get("location")) == (303, "/sign-in"), path
    client = TestClient(app)
    client.cookies.set(COOKIE, cookie)
    added = client.post(
        "/admin/users",
        data={"csrf": str(csrf), "username": "forged.admin", "role": "trust_admin"},
        follow_redirects=False,
    )
    assert added.status_code in (303, 400) and added.headers.get("location") in ("/sign-in", None)
    assert _users(app) == before, "a forged cookie created an account"


def test_the_published_secret_is_not_the_apps(clients: dict[str, TestClient]) -> None:
    assert PUBLISHED in PUBLISHED_SECRETS
    assert get_settings().environment == "development"  # the setting the issue attacked
    assert get_settings().keys().session_secret != PUBLISHED


@pytest.mark.parametrize("form", ["old format", "new format", "new format, no id"])
def test_a_cookie_signed_with_the_published_secret_opens_nothing(
    clients: dict[str, TestClient], web_trust: Trust, form: str
) -> None:
    app = clients["trust_admin"].app
    _try(app, _forgeries(PUBLISHED, 1)[form], web_trust.in_group[0])
    with app.state.warehouse.reading() as con:
        entries = read_log(con, event="session_rejected", limit=1000)
    assert any(e["detail"]["reason"] == "bad signature" for e in entries)
    assert all(e["user_id"] is None for e in entries if e["detail"]["reason"] == "bad signature")


@pytest.mark.parametrize("form", ["old format", "new format", "new format, no id"])
def test_a_correctly_signed_cookie_opens_nothing_without_a_server_session(
    clients: dict[str, TestClient], web_trust: Trust, form: str
) -> None:
    """Even someone holding the real secret (a leaked key file) must also hold a live
    session id: the server's table, not the signature, decides."""
    app = clients["trust_admin"].app
    real = get_settings().keys().session_secret
    _try(app, _forgeries(real, 1)[form], web_trust.in_group[0])
    with app.state.warehouse.reading() as con:
        reasons = {e["detail"]["reason"] for e in read_log(con, event="session_rejected")}
    assert {"unknown session", "not a session of this version"} & reasons


def test_the_apps_cookies_are_signed_with_the_secret_from_settings(
    clients: dict[str, TestClient],
) -> None:
    cookie = clients["senco"].cookies[COOKIE]
    real = URLSafeSerializer(get_settings().keys().session_secret, salt=SALT)
    version, session_id, csrf = real.loads(cookie)
    assert version == VERSION and session_id and csrf
    with pytest.raises(Exception, match="[Ss]ignature"):
        URLSafeSerializer(PUBLISHED, salt=SALT).loads(cookie)


def test_create_app_uses_the_settings_keys(tmp_path: Path) -> None:
    """``create_app(settings=...)`` signs with that settings object's secret (its key file's
    when none is set), and a cookie signed with anything else opens nothing."""
    from empowered.access.users import add_user
    from empowered.web.app import create_app

    settings = Settings(_env_file=None, key_file=tmp_path / "own.keys")
    secret = settings.keys().session_secret
    app = create_app(tmp_path / "empty.duckdb", settings=settings)
    try:
        with app.state.warehouse.recording() as con:
            add_user(con, "own.admin", PASSWORD, "trust_admin")
        client = TestClient(app)
        form = client.get("/sign-in").text
        signed = client.post(
            "/sign-in",
            data={"username": "own.admin", "password": PASSWORD, "csrf": csrf_of(form)},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        cookie = client.cookies[COOKIE]
        assert URLSafeSerializer(secret, salt=SALT).loads(cookie)[0] == VERSION
        assert client.get("/account", follow_redirects=False).status_code == 200
        # The same session id signed with another secret (the shared test key file's).
        session_id = URLSafeSerializer(secret, salt=SALT).loads(cookie)[1]
        other = app.state.codec.__class__(get_settings().keys().session_secret)
        thief = TestClient(app)
        thief.cookies.set(COOKIE, other.dumps(Session("x" * 43, session_id)))
        assert thief.get("/account", follow_redirects=False).status_code == 303
    finally:
        app.state.warehouse.close()
