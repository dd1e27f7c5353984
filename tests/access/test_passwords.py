"""argon2id hashing, rehashing and the strength check."""

from __future__ import annotations

import duckdb
import pytest
from access_fixtures import PASSWORD, SCHOOL_A
from argon2 import PasswordHasher

from empowered.access.passwords import (
    check_password_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from empowered.access.users import add_user, sign_in


def test_hash_round_trip_uses_argon2id_with_a_salt() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert verify_password(first, PASSWORD)
    assert not verify_password(first, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)


def test_needs_rehash_spots_weaker_parameters() -> None:
    assert not needs_rehash(hash_password(PASSWORD))
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weak)
    assert verify_password(weak, PASSWORD)  # still accepted, then upgraded on sign-in


def test_sign_in_upgrades_an_old_hash(con: duckdb.DuckDBPyConnection) -> None:
    user = add_user(con, "senco", PASSWORD, "senco", school_urn=SCHOOL_A)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    con.execute("UPDATE app.users SET password_hash = ? WHERE user_id = ?", [weak, user.user_id])
    assert sign_in(con, "senco", PASSWORD).outcome == "ok"
    row = con.execute(
        "SELECT password_hash FROM app.users WHERE user_id = ?", [user.user_id]
    ).fetchone()
    assert row is not None and row[0] != weak and not needs_rehash(row[0])
    assert sign_in(con, "senco", PASSWORD).outcome == "ok"


@pytest.mark.parametrize(
    "password",
    [
        "short",
        "elevenchars",
        "123456789012345",
        "aaaaaaaaaaaaaaaa",
        "abababababababab",
        "Password1234!",
        "qwerty123456",
    ],
)
def test_weak_passwords_get_a_reason(password: str) -> None:
    reason = check_password_strength(password)
    assert reason is not None and reason.endswith(".")


def test_a_password_holding_the_username_is_refused() -> None:
    assert check_password_strength("jsmith-likes-tea", username="jsmith") is not None
    assert check_password_strength("jsmith-likes-tea", username="someone") is None


@pytest.mark.parametrize(
    "password", [PASSWORD, "kettle orbit maple", "Tr0ub4dor&3xyz", "lowercaseonlyletters"]
)
def test_long_passwords_without_symbols_are_fine(password: str) -> None:
    # NCSC: length over composition rules; three random words pass.
    assert check_password_strength(password) is None
