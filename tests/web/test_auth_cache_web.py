"""The server keeps each request's session, account and scope in memory
(``access.auth_cache``). With that memory warm (the request before was answered without
reading the warehouse), a change the server makes is seen on the very next request: a
sign-out, an account switched off, a role changed, a group taken away, a session past its
idle or absolute limit, a rebuild that moves a pupil out of a group."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, Trust, csrf_of, signed_in

from empowered.access import sessions
from empowered.access.audit import read_log
from empowered.access.users import add_user
from empowered.web.sessions import COOKIE

pytestmark = pytest.mark.slow


def _app(clients: dict[str, TestClient]) -> Any:
    return clients["trust_admin"].app


def _teacher(app: Any, web_trust: Trust, username: str) -> tuple[int, TestClient]:
    with app.state.warehouse.recording() as con:
        user = add_user(
            con,
            username,
            PASSWORD,
            "teacher",
            school_urn=web_trust.school,
            groups=(web_trust.group,),
        )
    return user.user_id, signed_in(app, username)


def _warm(app: Any, client: TestClient, url: str) -> None:
    """Two answers to ``url``, the second from memory: the warehouse was not asked."""
    assert client.get(url, follow_redirects=False).status_code == 200
    reads = app.state.auth_cache.reads
    assert client.get(url, follow_redirects=False).status_code == 200
    assert app.state.auth_cache.reads == reads, "the second request was answered from memory"


def _admin(clients: dict[str, TestClient], url: str, page: str, **data: str) -> None:
    admin = clients["trust_admin"]
    token = csrf_of(admin.get(page).text)
    done = admin.post(url, data={"csrf": token, **data}, follow_redirects=False)
    assert done.status_code in (200, 303), done.text


def _form(pupil: str) -> str:
    return f"/capture/{pupil}?kind=check_in"


def test_sign_out_takes_effect_on_the_next_request(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    app = _app(clients)
    _, victim = _teacher(app, web_trust, "cache.sign-out")
    # Someone else holding a copy of the cookie, answered from memory.
    thief = TestClient(app)
    thief.cookies.set(COOKIE, victim.cookies[COOKIE])
    url = _form(web_trust.in_group[0])
    _warm(app, thief, url)
    token = csrf_of(victim.get("/account").text)
    assert victim.post("/sign-out", data={"csrf": token}, follow_redirects=False).status_code == 303
    refused = thief.get(url, follow_redirects=False)
    assert (refused.status_code, refused.headers.get("location")) == (303, "/sign-in")


def test_an_account_switched_off_is_refused_on_the_next_request(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    app = _app(clients)
    user_id, client = _teacher(app, web_trust, "cache.switched-off")
    url = _form(web_trust.in_group[0])
    _warm(app, client, url)
    _admin(clients, f"/admin/users/{user_id}/disable", f"/admin/users/{user_id}")
    refused = client.get(url, follow_redirects=False)
    assert (refused.status_code, refused.headers.get("location")) == (303, "/sign-in")


def test_a_changed_role_is_seen_on_the_next_request(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """A teacher made a DSL keeps their session but may no longer capture."""
    app = _app(clients)
    user_id, client = _teacher(app, web_trust, "cache.role")
    url = _form(web_trust.in_group[0])
    _warm(app, client, url)
    _admin(
        clients,
        f"/admin/users/{user_id}",
        f"/admin/users/{user_id}",
        role="dsl",
        school=web_trust.school,
    )
    assert client.get(url, follow_redirects=False).status_code == 403
    assert client.get("/account", follow_redirects=False).status_code == 200


def test_a_group_taken_away_is_seen_on_the_next_request(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    app = _app(clients)
    user_id, client = _teacher(app, web_trust, "cache.group")
    url = _form(web_trust.in_group[0])
    _warm(app, client, url)
    _admin(
        clients,
        "/admin/groups/unassign",
        f"/admin/groups?school={web_trust.school}",
        school=web_trust.school,
        group=web_trust.group,
        user_id=str(user_id),
    )
    assert client.get(url, follow_redirects=False).status_code == 404


@pytest.fixture
def clock(clients: dict[str, TestClient]) -> Iterator[list[datetime]]:
    """The time the app judges sessions at, moved by the test (and put back after)."""
    cache = _app(clients).state.auth_cache
    now = [datetime.now(UTC)]
    cache.clock = lambda: now[0]
    yield now
    cache.clock = lambda: datetime.now(UTC)


def test_a_session_past_its_idle_limit_is_refused_from_memory(
    clients: dict[str, TestClient], web_trust: Trust, clock: list[datetime]
) -> None:
    """Nothing is written: the kept session's times are judged on every request."""
    app = _app(clients)
    _, client = _teacher(app, web_trust, "cache.idle")
    url = _form(web_trust.in_group[0])
    _warm(app, client, url)
    clock[0] += sessions.IDLE + timedelta(seconds=5)
    refused = client.get(url, follow_redirects=False)
    assert (refused.status_code, refused.headers.get("location")) == (303, "/sign-in")


def test_a_session_in_use_ends_at_its_absolute_limit(
    clients: dict[str, TestClient], web_trust: Trust, clock: list[datetime]
) -> None:
    """Used every twenty minutes, the session stays open (each use is kept in memory as
    it is written) until ten hours after sign-in, then is refused."""
    app = _app(clients)
    user_id, client = _teacher(app, web_trust, "cache.absolute")
    url = _form(web_trust.in_group[0])
    _warm(app, client, url)
    signed_in_at = clock[0]
    step = timedelta(minutes=20)
    while clock[0] + step < signed_in_at + sessions.ABSOLUTE:
        clock[0] += step
        assert client.get(url, follow_redirects=False).status_code == 200, clock[0]
    clock[0] = signed_in_at + sessions.ABSOLUTE + timedelta(minutes=1)
    refused = client.get(url, follow_redirects=False)
    assert (refused.status_code, refused.headers.get("location")) == (303, "/sign-in")
    with app.state.warehouse.reading() as con:
        reasons = [
            e["detail"]["reason"]
            for e in read_log(con, event="session_rejected", limit=50)
            if e["user_id"] == user_id
        ]
    assert reasons and reasons[0] == "expired: too old"


def test_a_rebuild_that_moves_a_pupil_out_of_a_group_is_seen_on_the_next_request(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """The scope's pupils come from the marts: kept per build, not across one."""
    app = _app(clients)
    _, client = _teacher(app, web_trust, "cache.rebuilt")
    pupil = web_trust.in_group[-1]
    _warm(app, client, _form(pupil))
    member = "FROM core.bridge_group_member WHERE pupil_key = ? AND group_code = ?"
    with app.state.warehouse.writing() as con:  # as a build replacing the table does
        kept = con.execute(f"SELECT * {member}", [pupil, web_trust.group]).fetchall()
        con.execute(f"DELETE {member}", [pupil, web_trust.group])
    try:
        assert client.get(_form(pupil), follow_redirects=False).status_code == 404
    finally:
        with app.state.warehouse.writing() as con:
            for row in kept:
                con.execute(
                    f"INSERT INTO core.bridge_group_member VALUES ({', '.join('?' for _ in row)})",
                    list(row),
                )
    assert client.get(_form(pupil), follow_redirects=False).status_code == 200


def test_a_rebuild_keeps_the_scopes_of_the_tables_it_did_not_write(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """A capture's rebuild says which tables it wrote (its models): the scopes, read from
    other tables, are kept; a build that wrote the group memberships is seen at once."""
    app = _app(clients)
    store = app.state.warehouse
    _, client = _teacher(app, web_trust, "cache.told")
    pupil = web_trust.in_group[-2]
    _warm(app, client, _form(pupil))
    with store.writing(tables={"staging.stg_canonical_observations"}):
        pass
    reads = app.state.auth_cache.reads
    assert client.get(_form(pupil), follow_redirects=False).status_code == 200
    assert app.state.auth_cache.reads == reads, "kept across a build of other tables"
    member = "FROM core.bridge_group_member WHERE pupil_key = ? AND group_code = ?"
    with store.writing(tables={"core.bridge_group_member"}) as con:
        kept = con.execute(f"SELECT * {member}", [pupil, web_trust.group]).fetchall()
        con.execute(f"DELETE {member}", [pupil, web_trust.group])
    try:
        assert client.get(_form(pupil), follow_redirects=False).status_code == 404
    finally:
        with store.writing() as con:
            for row in kept:
                con.execute(
                    f"INSERT INTO core.bridge_group_member VALUES ({', '.join('?' for _ in row)})",
                    list(row),
                )


def test_a_write_that_fails_moves_every_version(clients: dict[str, TestClient]) -> None:
    """A build that stops half-way may have written more than it got to say."""
    store = _app(clients).state.warehouse
    before = store.version_of("core.fct_enrolment")
    with pytest.raises(RuntimeError), store.writing(tables={"staging.x"}):
        raise RuntimeError("a model failed")
    assert store.version_of("core.fct_enrolment") != before
    told = store.version_of("core.fct_enrolment", "staging.x")
    with store.writing(tables={"staging.x"}):
        pass
    after = store.version_of("core.fct_enrolment", "staging.x")
    assert after[:2] == told[:2] and after[2] == told[2] + 1
