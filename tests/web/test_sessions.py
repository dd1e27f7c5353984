"""Sessions end on the server (issue 10, finding 2): a cookie replayed after sign-out, a
password change, an account switched off, an administrator's "sign out everywhere" or a
password reset opens no pupil page and saves no capture; the idle and absolute limits are
the server's; refused cookies are audited (finding 7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, Trust, csrf_of, signed_in

from empowered.access import auth_cache, sessions
from empowered.access.audit import read_log
from empowered.access.users import add_user
from empowered.web.sessions import COOKIE

pytestmark = pytest.mark.slow

NEW = "quiet orchard lamp seventeen"


def _app(clients: dict[str, TestClient]) -> Any:
    return clients["trust_admin"].app


def _account(app: Any, web_trust: Trust, username: str) -> int:
    with app.state.warehouse.recording() as con:
        user = add_user(con, username, PASSWORD, "senco", school_urn=web_trust.school)
    return user.user_id


def _captures(app: Any) -> int:
    with app.state.warehouse.reading() as con:
        row = con.execute("SELECT count(*) FROM meta.batches WHERE source = 'capture'").fetchone()
    assert row is not None
    return int(row[0])


class Stolen:
    """What someone who copied a signed-in browser's cookie holds: the cookie, and the
    form token inside it (the signed payload is readable, only not forgeable)."""

    def __init__(self, client: TestClient, pupil: str) -> None:
        self.cookie = client.cookies[COOKIE]
        page = client.get(f"/capture/{pupil}?kind=check_in")
        assert page.status_code == 200
        self.csrf = csrf_of(page.text)
        self.pupil = pupil

    def replay(self, app: Any) -> tuple[int, str, int, str]:
        """A pupil page and a capture post from another browser with the copied cookie."""
        thief = TestClient(app)
        thief.cookies.set(COOKIE, self.cookie)
        page = thief.get(f"/pupils/{self.pupil}", follow_redirects=False)
        thief = TestClient(app)
        thief.cookies.set(COOKIE, self.cookie)
        posted = thief.post(
            f"/capture/{self.pupil}",
            data={"csrf": self.csrf, "kind": "check_in", "mood": "4", "engagement": "4"},
            follow_redirects=False,
        )
        return (
            page.status_code,
            page.headers.get("location", ""),
            posted.status_code,
            posted.headers.get("location", ""),
        )


def _assert_refused(stolen: Stolen, app: Any) -> None:
    before = _captures(app)
    page, page_to, posted, posted_to = stolen.replay(app)
    assert (page, page_to) == (303, "/sign-in")
    assert (posted, posted_to) == (303, "/sign-in")
    assert _captures(app) == before, "a replayed cookie saved a capture"


def test_a_stolen_cookie_works_until_the_session_ends(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """The control: without a revocation the copied cookie does work, so the tests below
    show the revocation, not a broken replay."""
    app = _app(clients)
    _account(app, web_trust, "replay.control")
    victim = signed_in(app, "replay.control")
    stolen = Stolen(victim, web_trust.in_group[0])
    thief = TestClient(app)
    thief.cookies.set(COOKIE, stolen.cookie)
    assert thief.get(f"/pupils/{stolen.pupil}", follow_redirects=False).status_code == 200


def _sign_out(app: Any, client: TestClient) -> None:
    token = csrf_of(client.get("/account").text)
    assert client.post("/sign-out", data={"csrf": token}, follow_redirects=False).status_code == 303


def _change_password(app: Any, client: TestClient) -> None:
    token = csrf_of(client.get("/account").text)
    done = client.post(
        "/account/password",
        data={"csrf": token, "current": PASSWORD, "new": NEW, "repeat": NEW},
        follow_redirects=False,
    )
    assert done.status_code == 303
    # The browser that changed it stays signed in, on a new session.
    assert client.get("/account", follow_redirects=False).status_code == 200


def _admin_post(clients: dict[str, TestClient], user_id: int, action: str) -> None:
    admin = clients["trust_admin"]
    token = csrf_of(admin.get(f"/admin/users/{user_id}").text)
    done = admin.post(
        f"/admin/users/{user_id}/{action}", data={"csrf": token}, follow_redirects=False
    )
    assert done.status_code in (200, 303), done.text


REVOCATIONS: dict[str, Callable[[dict[str, TestClient], TestClient, int], None]] = {
    "sign-out": lambda clients, client, uid: _sign_out(_app(clients), client),
    "password change elsewhere": lambda clients, client, uid: _change_password(
        _app(clients), signed_in(_app(clients), find_name(clients, uid))
    ),
    "switched off": lambda clients, client, uid: _admin_post(clients, uid, "disable"),
    "sign out everywhere": lambda clients, client, uid: _admin_post(
        clients, uid, "sign-out-everywhere"
    ),
    "password reset": lambda clients, client, uid: _admin_post(clients, uid, "reset-password"),
}


def find_name(clients: dict[str, TestClient], user_id: int) -> str:
    with _app(clients).state.warehouse.reading() as con:
        row = con.execute("SELECT username FROM app.users WHERE user_id = ?", [user_id]).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("how", sorted(REVOCATIONS))
def test_a_replayed_cookie_opens_nothing_once_the_session_is_ended(
    clients: dict[str, TestClient], web_trust: Trust, how: str
) -> None:
    app = _app(clients)
    username = "revoked." + how.replace(" ", "-")
    user_id = _account(app, web_trust, username)
    victim = signed_in(app, username)
    stolen = Stolen(victim, web_trust.in_group[0])
    REVOCATIONS[how](clients, victim, user_id)
    _assert_refused(stolen, app)
    with app.state.warehouse.reading() as con:
        rows = con.execute(
            "SELECT revoked_why FROM app.sessions WHERE session_hash = ?",
            [sessions.digest(_session_id(stolen.cookie, app))],
        ).fetchall()
        log = read_log(con, event="session_rejected", limit=20)
    assert rows and rows[0][0] is not None, "the session row records why it ended"
    assert any(
        e["user_id"] == user_id and e["detail"]["reason"].startswith("revoked") for e in log
    ), "the replay was recorded in the audit log against the account"


def _session_id(cookie: str, app: Any) -> str:
    session, problem = app.state.codec.decode(cookie)
    assert session is not None and problem is None
    return str(session.session_id)


def test_a_replayed_cookie_in_an_htmx_request_is_told_to_sign_in(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """The capture form posts with htmx: a refused session answers 401 and sends the whole
    page to sign in, rather than a redirect htmx would swap into the form."""
    app = _app(clients)
    _account(app, web_trust, "htmx.replay")
    victim = signed_in(app, "htmx.replay")
    stolen = Stolen(victim, web_trust.in_group[0])
    _sign_out(app, victim)
    before = _captures(app)
    thief = TestClient(app)
    thief.cookies.set(COOKIE, stolen.cookie)
    answer = thief.post(
        f"/capture/{stolen.pupil}",
        data={"csrf": stolen.csrf, "kind": "check_in", "mood": "4", "engagement": "4"},
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert answer.status_code == 401 and answer.headers["HX-Redirect"] == "/sign-in"
    assert _captures(app) == before


def test_sign_out_everywhere_needs_the_form_token_and_is_audited(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    app = _app(clients)
    user_id = _account(app, web_trust, "everywhere.check")
    one, two = signed_in(app, "everywhere.check"), signed_in(app, "everywhere.check")
    admin = clients["trust_admin"]
    page = admin.get(f"/admin/users/{user_id}").text
    assert "Sign out everywhere" in page and "signed in on 2 devices now" in page
    forged = admin.post(f"/admin/users/{user_id}/sign-out-everywhere", follow_redirects=False)
    assert forged.status_code == 400  # no token: a cross-site form cannot do it
    assert one.get("/account", follow_redirects=False).status_code == 200
    _admin_post(clients, user_id, "sign-out-everywhere")
    for client in (one, two):
        assert client.get("/account", follow_redirects=False).headers["location"] == "/sign-in"
    assert "Signed out everywhere" in admin.get(f"/admin/users/{user_id}?signed_out=1").text
    with app.state.warehouse.reading() as con:
        events = [
            (e["event"], e["detail"]["what"], e["username"])
            for e in read_log(con, event="user_changed", limit=20)
            if e["detail"]["target_user_id"] == user_id
        ]
    assert ("user_changed", "signed out everywhere (2 sessions)", "trust-admin") in events
    # The holder simply signs in again.
    assert signed_in(app, "everywhere.check").get("/account").status_code == 200


def _age(app: Any, cookie: str, **columns: datetime) -> None:
    """Rewrite a session's times, standing for time passing. The server never writes
    these columns but through ``access.sessions``, which tells the sessions it keeps in
    memory (``access.auth_cache``); this raw write tells them the same way."""
    assignments = ", ".join(f"{name} = ?" for name in columns)
    with app.state.warehouse.recording() as con:
        con.execute(
            f"UPDATE app.sessions SET {assignments} WHERE session_hash = ?",
            [*columns.values(), sessions.digest(_session_id(cookie, app))],
        )
    auth_cache.changed()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_the_idle_and_absolute_limits_are_the_servers(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """The cookie carries no times any more: whatever it says, the server's record of the
    session decides."""
    app = _app(clients)
    _account(app, web_trust, "limits.check")
    idle = Stolen(signed_in(app, "limits.check"), web_trust.in_group[0])
    _age(app, idle.cookie, seen_at=_now() - sessions.IDLE - timedelta(seconds=5))
    _assert_refused(idle, app)

    old = Stolen(signed_in(app, "limits.check"), web_trust.in_group[0])
    # Used a minute ago, but signed in more than ten hours ago.
    _age(
        app,
        old.cookie,
        issued_at=_now() - sessions.ABSOLUTE - timedelta(minutes=1),
        seen_at=_now() - timedelta(minutes=1),
    )
    _assert_refused(old, app)
    with app.state.warehouse.reading() as con:
        reasons = {e["detail"]["reason"] for e in read_log(con, event="session_rejected")}
    assert {"expired: idle", "expired: too old"} <= reasons


def test_last_seen_is_written_at_most_once_a_minute(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    app = _app(clients)
    _account(app, web_trust, "seen.check")
    client = signed_in(app, "seen.check")
    cookie = client.cookies[COOKIE]

    def seen() -> datetime:
        with app.state.warehouse.reading() as con:
            row = con.execute(
                "SELECT seen_at FROM app.sessions WHERE session_hash = ?",
                [sessions.digest(_session_id(cookie, app))],
            ).fetchone()
        assert row is not None
        return row[0]  # type: ignore[no-any-return]

    first = seen()
    for _ in range(3):
        assert client.get("/account").status_code == 200
    assert seen() == first, "no write per request"
    earlier = _now() - timedelta(minutes=5)
    _age(app, cookie, seen_at=earlier)
    assert client.get("/account").status_code == 200
    assert seen() > earlier + timedelta(minutes=4), "a minute on, the request is recorded"


def test_refused_cookies_are_audited_but_a_flood_is_not_written_whole(
    clients: dict[str, TestClient],
) -> None:
    app = _app(clients)
    flood = TestClient(app, client=("203.0.113.9", 40000))

    def entries() -> list[dict[str, Any]]:
        with app.state.warehouse.reading() as con:
            return [
                e
                for e in read_log(con, event="session_rejected", limit=1000)
                if e["ip"] == "203.0.113.9"
            ]

    for i in range(40):
        flood.cookies.set(COOKIE, f"forged-{i}.not-signed")
        assert flood.get("/", follow_redirects=False).status_code == 303
    logged = entries()
    assert len(logged) == 1, "one entry a minute per address and reason"
    assert logged[0]["detail"] == {"reason": "bad signature", "repeats": 0}
    assert logged[0]["user_id"] is None


def test_a_page_sets_the_cookie_only_when_it_changes(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """A signed-in browser holds its cookie already (it has no expiry to refresh): pages
    do not sign and send it again. A browser without one, or whose one was refused, is
    given one."""
    app = _app(clients)
    _account(app, web_trust, "cookie.once")
    client = signed_in(app, "cookie.once")
    held = client.cookies[COOKIE]
    answer = client.get("/account")
    assert answer.status_code == 200 and "set-cookie" not in answer.headers
    assert client.cookies[COOKIE] == held
    assert "set-cookie" in TestClient(app).get("/sign-in").headers
    refused = TestClient(app)
    refused.cookies.set(COOKIE, held[:-2] + "xx")
    assert "set-cookie" in refused.get("/sign-in").headers
