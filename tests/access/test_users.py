"""Accounts: validation, sign-in, lock-out, expiry, TOTP and password changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import pyotp
import pytest
from access_fixtures import PASSWORD, SCHOOL_A, in_a_month

from empowered.access.roles import Role
from empowered.access.users import (
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    AccessError,
    add_user,
    change_password,
    check_sign_in,
    disable_user,
    enable_totp,
    find_user,
    get_user,
    list_users,
    reset_password,
    settle_sign_in,
    sign_in,
    totp_uri,
)

pytestmark = pytest.mark.usefixtures("fast_hashing")

T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def test_add_and_find_a_user(con: duckdb.DuckDBPyConnection) -> None:
    added = add_user(
        con, " Ms.Teacher@School.example ", PASSWORD, "teacher", school_urn=SCHOOL_A,
        groups=["7B", "7A", "7A"],
    )  # fmt: skip
    assert added.username == "ms.teacher@school.example"
    assert added.role is Role.TEACHER and added.groups == ("7A", "7B")
    assert not added.totp_enabled and not added.disabled
    assert find_user(con, "MS.TEACHER@school.example") == added
    assert get_user(con, added.user_id) == added
    assert get_user(con, added.user_id + 1000) is None
    assert find_user(con, "nobody") is None
    assert [u.username for u in list_users(con)] == ["ms.teacher@school.example"]


@pytest.mark.parametrize(
    ("role", "kwargs", "words"),
    [
        ("senco", {}, "needs a school"),
        ("teacher", {"school_urn": "12345"}, "6 digits"),
        ("trust_admin", {"school_urn": SCHOOL_A}, "whole trust"),
        ("headteacher", {"school_urn": SCHOOL_A}, "Unknown role"),
        ("senco", {"school_urn": SCHOOL_A, "groups": ["7A"]}, "groups"),
        ("dsl", {"school_urn": SCHOOL_A, "pupils": ["p1"]}, "named pupils"),
        ("teacher", {"school_urn": SCHOOL_A, "areas": ["wellbeing"]}, "chosen areas"),
        (
            "visiting_professional",
            {"school_urn": SCHOOL_A, "areas": ["wellbeing"], "expires_on": date(2099, 1, 1)},
            "pupils",
        ),
        (
            "visiting_professional",
            {"school_urn": SCHOOL_A, "pupils": ["p1"], "areas": ["wellbeing"]},
            "expiry date",
        ),
        (
            "visiting_professional",
            {"school_urn": SCHOOL_A, "pupils": ["p1"], "expires_on": date(2099, 1, 1)},
            "areas",
        ),
        (
            "visiting_professional",
            {
                "school_urn": SCHOOL_A,
                "pupils": ["p1"],
                "areas": ["gossip"],
                "expires_on": date(2099, 1, 1),
            },
            "Unknown area",
        ),
        (
            "visiting_professional",
            {
                "school_urn": SCHOOL_A,
                "pupils": ["p1"],
                "areas": ["wellbeing"],
                "expires_on": date(2000, 1, 1),
            },
            "already passed",
        ),
    ],
)
def test_add_user_refuses_with_a_plain_reason(
    con: duckdb.DuckDBPyConnection, role: str, kwargs: dict[str, Any], words: str
) -> None:
    with pytest.raises(AccessError, match=words):
        add_user(con, "someone", PASSWORD, role, **kwargs)
    assert list_users(con) == []


def test_add_user_refuses_weak_passwords_bad_names_and_duplicates(
    con: duckdb.DuckDBPyConnection,
) -> None:
    with pytest.raises(AccessError, match="12 characters"):
        add_user(con, "someone", "short", "trust_admin")
    with pytest.raises(AccessError, match="username"):
        add_user(con, "some one", PASSWORD, "trust_admin")
    add_user(con, "someone", PASSWORD, "trust_admin")
    with pytest.raises(AccessError, match="already an account"):
        add_user(con, "SomeOne", PASSWORD, "trust_analyst")
    assert len(list_users(con)) == 1


def test_sign_in_ok_and_the_same_answer_for_unknown_user_and_wrong_password(
    con: duckdb.DuckDBPyConnection,
) -> None:
    add_user(con, "senco", PASSWORD, "senco", school_urn=SCHOOL_A)
    ok = sign_in(con, "senco", PASSWORD, now=T0)
    assert ok.outcome == "ok" and ok.user is not None and ok.user.username == "senco"
    wrong = sign_in(con, "senco", "not the password", now=T0)
    unknown = sign_in(con, "nobody", PASSWORD, now=T0)
    assert wrong.outcome == unknown.outcome == "bad_credentials"
    assert wrong.message == unknown.message
    assert wrong.user is None and unknown.user is None
    assert "senco" not in wrong.message and "nobody" not in unknown.message


def test_lock_out_after_five_failures_and_unlock_after_fifteen_minutes(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert MAX_FAILED_ATTEMPTS == 5 and timedelta(minutes=15) == LOCKOUT
    add_user(con, "ta", PASSWORD, "teaching_assistant", school_urn=SCHOOL_A)
    for attempt in range(1, MAX_FAILED_ATTEMPTS):
        result = sign_in(con, "ta", f"wrong {attempt}", now=T0 + timedelta(seconds=attempt))
        assert result.outcome == "bad_credentials"
    fifth = T0 + timedelta(seconds=MAX_FAILED_ATTEMPTS)
    locked = sign_in(con, "ta", "wrong again", now=fifth)
    assert locked.outcome == "locked" and locked.locked_until == fifth + LOCKOUT
    assert "15 minutes" in locked.message
    # Even the right password is refused while locked.
    during = sign_in(con, "ta", PASSWORD, now=fifth + LOCKOUT - timedelta(seconds=1))
    assert during.outcome == "locked" and during.user is None
    after = sign_in(con, "ta", PASSWORD, now=fifth + LOCKOUT)
    assert after.outcome == "ok"


def test_a_right_password_checked_while_guesses_pause_the_name_is_still_refused(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # The web app checks the password outside its lock and settles the attempt under it:
    # guesses settled in between that pause the name from this address must still count.
    add_user(con, "ta", PASSWORD, "teaching_assistant", school_urn=SCHOOL_A)
    checked = check_sign_in(con, "ta", PASSWORD, now=T0, address="192.0.2.9")
    for _ in range(MAX_FAILED_ATTEMPTS):
        sign_in(con, "ta", "a wrong guess", now=T0, address="192.0.2.9")
    late = settle_sign_in(con, checked)
    assert late.outcome == "locked" and late.user is None
    # From another computer the holder still signs in.
    elsewhere = check_sign_in(con, "ta", PASSWORD, now=T0, address="192.0.2.10")
    assert settle_sign_in(con, elsewhere).outcome == "ok"


def test_a_success_resets_the_count(con: duckdb.DuckDBPyConnection) -> None:
    add_user(con, "ta", PASSWORD, "teaching_assistant", school_urn=SCHOOL_A)
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        sign_in(con, "ta", "wrong password", now=T0)
    assert sign_in(con, "ta", PASSWORD, now=T0).outcome == "ok"
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        assert sign_in(con, "ta", "wrong password", now=T0).outcome == "bad_credentials"
    assert sign_in(con, "ta", PASSWORD, now=T0).outcome == "ok"


def test_reset_password_lifts_a_lock_out(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "ta", PASSWORD, "teaching_assistant", school_urn=SCHOOL_A)
    for _ in range(MAX_FAILED_ATTEMPTS):
        sign_in(con, "ta", "wrong password", now=T0)
    assert sign_in(con, "ta", PASSWORD, now=T0).outcome == "locked"
    reset_password(con, user.user_id, "a brand new passphrase")
    assert sign_in(con, "ta", PASSWORD, now=T0).outcome == "bad_credentials"
    assert sign_in(con, "ta", "a brand new passphrase", now=T0).outcome == "ok"
    with pytest.raises(AccessError):
        reset_password(con, user.user_id, "short")


def test_change_password_needs_the_current_one(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "dsl", PASSWORD, "dsl", school_urn=SCHOOL_A)
    with pytest.raises(AccessError, match="current password"):
        change_password(con, user.user_id, "not it at all", "another good passphrase")
    with pytest.raises(AccessError, match="differs"):
        change_password(con, user.user_id, PASSWORD, PASSWORD)
    change_password(con, user.user_id, PASSWORD, "another good passphrase")
    assert sign_in(con, "dsl", PASSWORD).outcome == "bad_credentials"
    assert sign_in(con, "dsl", "another good passphrase").outcome == "ok"


def test_an_expired_visitor_cannot_sign_in(con: duckdb.DuckDBPyConnection) -> None:
    expires = in_a_month()
    add_user(
        con, "visitor", PASSWORD, "visiting_professional", school_urn=SCHOOL_A,
        pupils=["p1"], areas=["wellbeing"], expires_on=expires,
    )  # fmt: skip
    last_day = datetime.combine(expires, datetime.min.time(), tzinfo=UTC) + timedelta(hours=20)
    assert sign_in(con, "visitor", PASSWORD, now=last_day).outcome == "ok"
    expired = sign_in(con, "visitor", PASSWORD, now=last_day + timedelta(days=1))
    assert expired.outcome == "expired" and expired.user is None
    # A wrong password still says only "wrong": the expiry is not revealed to a guesser.
    guess = sign_in(con, "visitor", "a wrong guess here", now=last_day + timedelta(days=1))
    assert guess.outcome == "bad_credentials"


def test_a_disabled_user_cannot_sign_in(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "teacher", PASSWORD, "teacher", school_urn=SCHOOL_A)
    disable_user(con, user.user_id)
    assert sign_in(con, "teacher", PASSWORD).outcome == "disabled"
    reloaded = get_user(con, user.user_id)
    assert reloaded is not None and reloaded.disabled


def test_totp_is_required_and_checked(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "admin", PASSWORD, "trust_admin")
    secret = enable_totp(con, user.user_id)
    reloaded = get_user(con, user.user_id)
    assert reloaded is not None and reloaded.totp_enabled
    uri = totp_uri(reloaded, secret)
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert "EmpowerED" in uri

    now = datetime.now(UTC)
    required = sign_in(con, "admin", PASSWORD, now=now)
    assert required.outcome == "totp_required" and required.user is None
    code = pyotp.TOTP(secret).now()
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"
    assert sign_in(con, "admin", PASSWORD, wrong_code, now=now).outcome == "totp_wrong"
    assert sign_in(con, "admin", PASSWORD, code, now=now).outcome == "ok"
    # A right code with a wrong password is still a wrong password.
    assert sign_in(con, "admin", "not the password", code, now=now).outcome == "bad_credentials"


def test_wrong_totp_codes_count_towards_lock_out(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "admin", PASSWORD, "trust_admin")
    secret = enable_totp(con, user.user_id)
    code = pyotp.TOTP(secret).at(T0)
    wrong_code = f"{(int(code) + 7) % 1_000_000:06d}"
    outcomes = [sign_in(con, "admin", PASSWORD, wrong_code, now=T0).outcome for _ in range(5)]
    assert outcomes == ["totp_wrong"] * 4 + ["locked"]
    assert sign_in(con, "admin", PASSWORD, code, now=T0).outcome == "locked"


def test_importing_the_accounts_module_hashes_no_password() -> None:
    """The server imports this module before it answers anything: the dummy hash (an
    argon2 hash, a good part of a second) is made at the first sign-in, not at start."""
    import subprocess
    import sys

    script = (
        "import empowered.access.passwords as p\n"
        "def refused(password):\n"
        "    raise SystemExit('hashed at import')\n"
        "p.hash_password = refused\n"
        "import empowered.access.users\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_visitors_organisation_is_kept_on_the_account(con: duckdb.DuckDBPyConnection) -> None:
    """Shown beside their notes as provenance (issue 13, item 6); spaces tidied, kept to
    a length, changed with the rest of the account."""
    from empowered.access.users import AccessError, add_user, find_user, update_user

    visitor = add_user(
        con,
        "ep",
        PASSWORD,
        Role.VISITING_PROFESSIONAL,
        school_urn=SCHOOL_A,
        pupils=["pa4"],
        areas=["wellbeing"],
        expires_on=in_a_month(),
        organisation="  Educational   psychology service ",
    )
    assert visitor.organisation == "Educational psychology service"
    found = find_user(con, "ep")
    assert found is not None and found.organisation == "Educational psychology service"
    changed = update_user(
        con,
        visitor.user_id,
        role=Role.VISITING_PROFESSIONAL,
        school_urn=SCHOOL_A,
        pupils=["pa4"],
        areas=["wellbeing"],
        expires_on=visitor.expires_on,
        organisation="Speech and language therapy",
    )
    assert changed.organisation == "Speech and language therapy"
    with pytest.raises(AccessError, match="120 characters"):
        add_user(con, "ep2", PASSWORD, Role.SENCO, school_urn=SCHOOL_A, organisation="x" * 121)
    assert add_user(con, "senco", PASSWORD, Role.SENCO, school_urn=SCHOOL_A).organisation is None
