"""The session cookie's codec and the throttle on audit entries for refused cookies."""

from __future__ import annotations

from itsdangerous import URLSafeSerializer

from empowered.web.sessions import VERSION, RejectionThrottle, Session, SessionCodec


def test_the_cookie_carries_no_user_id_or_times() -> None:
    codec = SessionCodec("a-secret-of-this-test-only")
    session = codec.new("the-session-id")
    cookie = codec.dumps(session)
    payload = URLSafeSerializer("a-secret-of-this-test-only", salt="empowered-session").loads(
        cookie
    )
    assert payload == [VERSION, "the-session-id", session.csrf]
    decoded, problem = codec.decode(cookie)
    assert problem is None and decoded == Session(session.csrf, "the-session-id")
    assert decoded.user_id == 0  # only the server's table says whose it is


def test_refused_cookies_say_why() -> None:
    codec = SessionCodec("a-secret-of-this-test-only")
    other = URLSafeSerializer("another-secret", salt="empowered-session")
    same = URLSafeSerializer("a-secret-of-this-test-only", salt="empowered-session")
    assert codec.decode(None) == (None, None)
    assert codec.decode(other.dumps([VERSION, "id", "csrf"])) == (None, "bad signature")
    assert codec.decode("garbage") == (None, "bad signature")
    for payload in ([1, "token", 1.0, 2.0], [VERSION, "id", ""], {"a": 1}, [VERSION, 1, "c"]):
        assert codec.decode(same.dumps(payload)) == (None, "not a session of this version")


def test_a_flood_of_refusals_leaves_one_entry_a_minute_with_a_count() -> None:
    throttle = RejectionThrottle(every=60)
    assert throttle.due("198.51.100.1", "bad signature", now=0) == 0
    assert [throttle.due("198.51.100.1", "bad signature", now=t) for t in range(1, 50)] == [
        None
    ] * 49
    # Another address or reason is recorded on its own.
    assert throttle.due("198.51.100.2", "bad signature", now=5) == 0
    assert throttle.due("198.51.100.1", "unknown session", now=5) == 0
    # A minute on, the next entry says how many were left out.
    assert throttle.due("198.51.100.1", "bad signature", now=61) == 49
    assert throttle.due("198.51.100.1", "bad signature", now=62) is None


def test_the_throttle_cannot_grow_without_bound() -> None:
    throttle = RejectionThrottle(every=60, max_keys=100)
    for i in range(1000):
        throttle.due(f"addr{i}", "bad signature", now=float(i) / 1000)
    assert len(throttle._last) <= 100
