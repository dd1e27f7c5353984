"""The sign-in page (issue 10, finding 8) as an attacker meets it: the same words for an
unknown and a paused username, guessing from one computer pauses that computer only, and
a second-factor code works once. And (issue 11) the password check, which costs a core for
a good part of a second, holds neither the recording lock nor the event loop."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, Trust, csrf_of

from empowered.access import users
from empowered.access.users import add_user, enable_totp

pytestmark = pytest.mark.slow


def _attempt(app: Any, address: str, username: str, password: str, totp: str = "") -> Any:
    client = TestClient(app, client=(address, 50000))
    form = client.get("/sign-in").text
    data = {"username": username, "password": password, "csrf": csrf_of(form)}
    if totp:
        data["totp"] = totp
    return client.post("/sign-in", data=data, follow_redirects=False)


def _said(response: Any) -> tuple[int, str]:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', response.text)
    return response.status_code, found.group(1) if found else ""


def test_unknown_and_paused_usernames_read_the_same(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    app = clients["trust_admin"].app
    with app.state.warehouse.recording() as con:
        add_user(con, "exists.here", PASSWORD, "senco", school_urn=web_trust.school)
    real = [_said(_attempt(app, "192.0.2.31", "exists.here", f"g{i}")) for i in range(7)]
    fake = [_said(_attempt(app, "192.0.2.32", "nobody.here", f"g{i}")) for i in range(7)]
    assert real == fake
    assert real[-1][0] == 401 and "paused" in real[-1][1]


def test_guessing_from_one_computer_does_not_lock_the_holder_out(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    app = clients["trust_admin"].app
    with app.state.warehouse.recording() as con:
        add_user(con, "colleague", PASSWORD, "dsl", school_urn=web_trust.school)
    for i in range(12):
        _attempt(app, "192.0.2.41", "colleague", f"a guess {i}")
    assert _said(_attempt(app, "192.0.2.41", "colleague", PASSWORD))[0] == 401
    assert _attempt(app, "192.0.2.42", "colleague", PASSWORD).status_code == 303


def test_a_second_factor_code_signs_in_once(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    app = clients["trust_admin"].app
    with app.state.warehouse.recording() as con:
        user = add_user(con, "one.code", PASSWORD, "senco", school_urn=web_trust.school)
        secret = enable_totp(con, user.user_id)
    code = pyotp.TOTP(secret).now()
    assert _attempt(app, "192.0.2.51", "one.code", PASSWORD, code).status_code == 303
    replayed = _attempt(app, "192.0.2.52", "one.code", PASSWORD, code)
    assert _said(replayed) == (
        401,
        "That code has already been used. Wait for your app to show a new one.",
    )
    with app.state.warehouse.reading() as con:
        stored = con.execute(
            "SELECT totp_secret FROM app.users WHERE user_id = ?", [user.user_id]
        ).fetchone()
    assert stored is not None and secret not in str(stored[0])


def test_the_password_is_checked_outside_the_recording_lock_and_off_the_event_loop(
    clients: dict[str, TestClient], web_trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = clients["trust_admin"].app
    with app.state.warehouse.recording() as con:
        add_user(con, "busy.morning", PASSWORD, "teacher", school_urn=web_trust.school)
    checks: list[tuple[bool, bool]] = []
    verify = users.verify_password

    def watched(password_hash: str, password: str) -> bool:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        # Captures and every page's audit entry wait for this lock: nobody may hold it here.
        checks.append((app.state.warehouse.record_lock.locked(), on_loop))
        return verify(password_hash, password)

    monkeypatch.setattr(users, "verify_password", watched)
    assert _attempt(app, "192.0.2.61", "busy.morning", PASSWORD).status_code == 303
    assert _said(_attempt(app, "192.0.2.61", "busy.morning", "not it at all"))[0] == 401
    assert _said(_attempt(app, "192.0.2.61", "nobody.at.all", PASSWORD))[0] == 401
    assert checks == [(False, False)] * 3
    with app.state.warehouse.reading() as con:
        events = con.execute(
            "SELECT event FROM app.audit_log WHERE ip = '192.0.2.61' ORDER BY event_id"
        ).fetchall()
    assert [e for (e,) in events] == ["signed_in", "sign_in_failed", "sign_in_failed"]
