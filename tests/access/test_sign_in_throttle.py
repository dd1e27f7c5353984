"""Sign-in (issue 10, finding 8): unknown and paused usernames get the same answer;
failures are counted per address as well as per username, so guessing a colleague's
password from one computer pauses only that computer; a TOTP code is accepted once; the
TOTP secret is stored encrypted (finding 6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pyotp
import pytest
from access_fixtures import PASSWORD, SCHOOL_A

from empowered.access import throttle
from empowered.access.users import (
    account_states,
    add_user,
    confirm_totp,
    enable_totp,
    reset_password,
    seal_totp_secrets,
    sign_in,
    start_totp,
)
from empowered.crypto import IdentityCipher, is_ciphertext
from empowered.keys import new_identity_key
from empowered.settings import get_settings

pytestmark = pytest.mark.usefixtures("fast_hashing")

T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
MINE, THEIRS, GUESSER = "192.0.2.10", "192.0.2.20", "198.51.100.7"


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_unknown_and_paused_usernames_get_the_same_answer(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Today's attack: five wrong passwords for a real username said "paused", for an
    unknown one "wrong password", so the pause message revealed who has an account."""
    add_user(con, "real.senco", PASSWORD, "senco", school_urn=SCHOOL_A)
    answers = {}
    for name in ("real.senco", "no.such.person"):
        outcomes = [sign_in(con, name, f"guess {i}", address=GUESSER, now=_at(i)) for i in range(6)]
        answers[name] = [(r.outcome, r.message, r.user) for r in outcomes]
    assert answers["real.senco"] == answers["no.such.person"]
    assert [a[0] for a in answers["no.such.person"]] == ["bad_credentials"] * 4 + ["locked"] * 2
    assert "15 minutes" in answers["no.such.person"][-1][1]


def test_a_colleague_guessing_from_their_computer_does_not_lock_the_holder_out(
    con: duckdb.DuckDBPyConnection,
) -> None:
    add_user(con, "target", PASSWORD, "dsl", school_urn=SCHOOL_A)
    for i in range(20):
        sign_in(con, "target", f"wrong {i}", address=THEIRS, now=_at(i))
    # The guesser is paused, even with the right password...
    assert sign_in(con, "target", PASSWORD, address=THEIRS, now=_at(30)).outcome == "locked"
    # ...the holder, at their own computer, is not.
    mine = sign_in(con, "target", PASSWORD, address=MINE, now=_at(31))
    assert mine.outcome == "ok" and mine.delay == 0
    # The admin page shows the account as paused (from somewhere), and a reset lifts it.
    user_id = mine.user.user_id if mine.user else 0
    assert account_states(con, now=_at(32))[user_id]["locked"]
    reset_password(con, user_id, "a brand new passphrase", now=_at(33))
    assert not account_states(con, now=_at(34))[user_id]["locked"]
    assert sign_in(con, "target", "a brand new passphrase", address=THEIRS, now=_at(35)).ok


def test_an_address_trying_many_usernames_is_paused_for_all_of_them(
    con: duckdb.DuckDBPyConnection,
) -> None:
    add_user(con, "someone", PASSWORD, "senco", school_urn=SCHOOL_A)
    # Fewer than PAIR_LIMIT per name, so only the address count can stop this.
    names = [f"name{i}" for i in range(throttle.ADDRESS_LIMIT)]
    for i, name in enumerate(names):
        assert sign_in(con, name, "guess", address=GUESSER, now=_at(i)).outcome in (
            "bad_credentials",
            "locked",
        )
    assert sign_in(con, "someone", PASSWORD, address=GUESSER, now=_at(40)).outcome == "locked"
    assert sign_in(con, "someone", PASSWORD, address=MINE, now=_at(41)).ok
    later = _at(40) + throttle.PAUSE
    assert sign_in(con, "someone", PASSWORD, address=GUESSER, now=later).ok


def test_many_addresses_guessing_one_account_only_slow_it_down(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Past the per-username ceiling every attempt waits, the holder's too, but the holder
    is never refused: a network of guessers cannot lock anyone out."""
    add_user(con, "popular", PASSWORD, "senco", school_urn=SCHOOL_A)
    for i in range(throttle.ACCOUNT_CEILING):
        sign_in(con, "popular", "wrong", address=f"203.0.113.{i % 250}.{i}", now=_at(i))
    held = sign_in(con, "popular", PASSWORD, address=MINE, now=_at(200))
    assert held.ok and held.delay == throttle.SLOW_DOWN
    guess = sign_in(con, "popular", "wrong", address="203.0.113.251", now=_at(201))
    assert guess.outcome == "bad_credentials" and guess.delay == throttle.SLOW_DOWN
    # Once the window has passed, no delay.
    calm = _at(200) + throttle.WINDOW + timedelta(minutes=1)
    assert sign_in(con, "popular", PASSWORD, address=MINE, now=calm).delay == 0


def test_usernames_are_not_kept_as_typed(con: duckdb.DuckDBPyConnection) -> None:
    typed = "my secret password typed in the wrong box"
    sign_in(con, typed, "x", address=GUESSER, now=T0)
    assert typed not in str(con.execute("SELECT * FROM app.sign_in_throttle").fetchall())


def test_a_totp_code_is_accepted_once(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "admin", PASSWORD, "trust_admin")
    secret = enable_totp(con, user.user_id)
    code = pyotp.TOTP(secret).at(T0)
    assert sign_in(con, "admin", PASSWORD, code, address=MINE, now=T0).ok
    # Replayed (seen over a shoulder, relayed by a phishing page), in the same 30 seconds
    # or the drift window after it, from anywhere: refused.
    for later, where in ((_at(5), MINE), (_at(29), GUESSER), (_at(50), GUESSER)):
        again = sign_in(con, "admin", PASSWORD, code, address=where, now=later)
        assert again.outcome == "totp_used" and again.user is None
    # An earlier code (still in the drift window) is refused too: steps only go forward.
    earlier = pyotp.TOTP(secret).at(_at(-30))
    assert sign_in(con, "admin", PASSWORD, earlier, address=MINE, now=_at(10)).outcome == (
        "totp_used"
    )
    # The next code works.
    assert sign_in(con, "admin", PASSWORD, pyotp.TOTP(secret).at(_at(30)), now=_at(31)).ok


def test_the_code_that_confirms_a_second_factor_cannot_sign_in(
    con: duckdb.DuckDBPyConnection,
) -> None:
    user = add_user(con, "new.totp", PASSWORD, "senco", school_urn=SCHOOL_A)
    secret = start_totp(con, user.user_id)
    code = pyotp.TOTP(secret).at(T0)
    assert confirm_totp(con, user.user_id, code, now=T0)
    assert sign_in(con, "new.totp", PASSWORD, code, now=_at(3)).outcome == "totp_used"


def _raw(con: duckdb.DuckDBPyConnection, user_id: int) -> tuple[str | None, str | None]:
    row = con.execute(
        "SELECT totp_secret, totp_pending FROM app.users WHERE user_id = ?", [user_id]
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_the_totp_secret_is_stored_encrypted_and_still_works(
    con: duckdb.DuckDBPyConnection,
) -> None:
    user = add_user(con, "sealed", PASSWORD, "senco", school_urn=SCHOOL_A)
    pending = start_totp(con, user.user_id)
    stored_secret, stored_pending = _raw(con, user.user_id)
    assert stored_secret is None and is_ciphertext(stored_pending)
    assert pending not in str(stored_pending)
    assert confirm_totp(con, user.user_id, pyotp.TOTP(pending).at(T0), now=T0)
    stored_secret, stored_pending = _raw(con, user.user_id)
    assert is_ciphertext(stored_secret) and stored_pending is None
    everything = str(con.execute("SELECT * FROM app.users").fetchall())
    assert pending not in everything
    cipher = IdentityCipher(get_settings().keys().identity_keys)
    assert cipher.decrypt(stored_secret) == pending
    assert sign_in(con, "sealed", PASSWORD, pyotp.TOTP(pending).at(_at(30)), now=_at(30)).ok


def test_clear_secrets_of_an_older_warehouse_are_sealed_and_rotated(
    con: duckdb.DuckDBPyConnection,
) -> None:
    user = add_user(con, "legacy", PASSWORD, "senco", school_urn=SCHOOL_A)
    clear = pyotp.random_base32()
    con.execute("UPDATE app.users SET totp_secret = ? WHERE user_id = ?", [clear, user.user_id])
    # Read as it is until sealed, so nobody is locked out by the upgrade.
    assert sign_in(con, "legacy", PASSWORD, pyotp.TOTP(clear).at(T0), now=T0).ok
    keys = get_settings().keys().identity_keys
    assert seal_totp_secrets(con, keys) == 1
    assert seal_totp_secrets(con, keys) == 0
    sealed, _ = _raw(con, user.user_id)
    assert is_ciphertext(sealed) and clear not in str(sealed)
    # After a key rotation (new key first, the old one kept to read), resealing moves the
    # secret to the new key.
    rotated = (new_identity_key(), *keys)
    assert seal_totp_secrets(con, rotated) == 1
    resealed, _ = _raw(con, user.user_id)
    assert IdentityCipher(rotated).written_with_current_key(resealed)
    assert IdentityCipher(rotated).decrypt(resealed) == clear
