"""Staff accounts: adding them, signing in (with throttling and TOTP), passwords.

Times are stored as naive UTC in DuckDB and handed back timezone-aware (UTC).

Second-factor secrets are stored encrypted with the identity key (``crypto.IdentityCipher``,
the key from ``Settings.keys()``); each code is accepted once only (the last time step used
is kept per account). Changing or resetting a password and switching an account off end
every session of the account on the server (``access.sessions``), wherever it is called
from: the web app or the command line.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyotp

from empowered.access import auth_cache, sessions, throttle
from empowered.access.passwords import (
    check_password_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from empowered.access.roles import AREAS, TRUST_ROLES, Role
from empowered.access.store import ensure_access_tables
from empowered.crypto import IdentityCipher, is_ciphertext

# Failures of one username from one address before that pair is paused (access.throttle).
MAX_FAILED_ATTEMPTS = throttle.PAIR_LIMIT
LOCKOUT = throttle.PAUSE
TOTP_ISSUER = "EmpowerED+"
# A code is accepted in the 30-second window before and after too: phone clocks drift.
TOTP_VALID_WINDOW = 1

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_URN = re.compile(r"^\d{6}$")

# Roles that are given groups, named pupils or areas; the others see their whole school
# (or trust), so such lists would only mislead whoever reads the account later.
_GROUP_ROLES = frozenset({Role.TEACHER, Role.TEACHING_ASSISTANT})
_PUPIL_ROLES = frozenset({Role.TEACHER, Role.TEACHING_ASSISTANT, Role.VISITING_PROFESSIONAL})
_AREA_ROLES = frozenset({Role.VISITING_PROFESSIONAL})

# Verifying against this when the username is unknown costs the same as a real check, so
# response time does not tell an attacker which usernames exist.
# Made on first use, not at import: an argon2 hash costs a good part of a second, and every
# server start imports this module before it can answer anything.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-password-used-only-for-timing")
    return _DUMMY_HASH


OUTCOMES = (
    "ok",
    "bad_credentials",
    "locked",
    "totp_required",
    "totp_wrong",
    "totp_used",
    "expired",
    "disabled",
)

_MESSAGES = {
    "ok": "Signed in.",
    # The same words for an unknown username and a wrong password, on purpose.
    "bad_credentials": "The username or password is not right. Please try again.",
    # The same words whether or not the username exists (unknown names are paused
    # exactly like real ones), so a pause reveals nothing either.
    "locked": (
        "Too many unsuccessful attempts from this computer: signing in here is paused for "
        "{minutes} minutes. Ask your administrator if you need access sooner."
    ),
    "totp_required": "Enter the 6-digit code from your authenticator app.",
    "totp_wrong": "That code is not right or has expired. Enter the current code.",
    "totp_used": "That code has already been used. Wait for your app to show a new one.",
    "expired": "This account has expired. Ask the school if you still need access.",
    "disabled": "This account has been switched off. Ask your administrator.",
}


class AccessError(ValueError):
    """A request about accounts that cannot be carried out; the message is for people."""


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    role: Role
    school_urn: str | None
    groups: tuple[str, ...]
    pupils: tuple[str, ...]
    areas: tuple[str, ...]
    expires_on: date | None
    totp_enabled: bool
    disabled: bool
    # Set when an administrator reset the password: the holder must choose their own.
    must_change_password: bool = False
    # When the password last changed (UTC); sessions issued before it are refused.
    password_changed_at: datetime | None = None
    # Who a visiting professional works for (a contribution's provenance names it).
    organisation: str | None = None

    def is_expired(self, today: date) -> bool:
        # Access lasts to the end of the expiry day.
        return self.expires_on is not None and today > self.expires_on


@dataclass(frozen=True)
class SignInResult:
    user: User | None  # set only when outcome is "ok"
    outcome: str
    locked_until: datetime | None = None
    message: str = ""
    # Seconds the caller should wait before answering: past the per-username ceiling of
    # failures (access.throttle), every attempt on that username is slowed, never refused.
    delay: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def _utc(now: datetime | None) -> datetime:
    """A naive UTC datetime, as DuckDB's TIMESTAMP stores it."""
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return now


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _clean(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in values if v.strip()}))


def _validate(
    username: str,
    role: Role,
    school_urn: str | None,
    groups: Sequence[str],
    pupils: Sequence[str],
    areas: Sequence[str],
    expires_on: date | None,
) -> None:
    if not _USERNAME.match(username):
        raise AccessError(
            "A username is 2 to 64 characters: lower-case letters, digits and . _ @ - "
            "(an email address works)."
        )
    if role in TRUST_ROLES:
        if school_urn is not None:
            raise AccessError(f"The role {role.label} covers the whole trust: no school.")
    elif school_urn is None:
        raise AccessError(f"The role {role.label} needs a school (its 6-digit URN).")
    elif not _URN.match(school_urn):
        raise AccessError(f"{school_urn!r} is not a school URN: a URN is 6 digits.")
    if groups and role not in _GROUP_ROLES:
        raise AccessError("Only teachers and teaching assistants are given groups.")
    if pupils and role not in _PUPIL_ROLES:
        raise AccessError(
            "Only teachers, teaching assistants and visiting professionals are given named "
            "pupils; other roles see their whole school."
        )
    if areas and role not in _AREA_ROLES:
        raise AccessError("Only visiting professionals are limited to chosen areas.")
    unknown = sorted(set(areas) - set(AREAS))
    if unknown:
        raise AccessError(f"Unknown area(s) {', '.join(unknown)}; choose from {', '.join(AREAS)}.")
    if role is Role.VISITING_PROFESSIONAL:
        if not pupils:
            raise AccessError("A visiting professional needs the pupils they are working with.")
        if not areas:
            raise AccessError("A visiting professional needs the areas they may see.")
        if expires_on is None:
            raise AccessError("A visiting professional needs an expiry date for their access.")
    if expires_on is not None and expires_on < date.today():
        raise AccessError("The expiry date has already passed.")


ORGANISATION_MAX = 120


def _organisation(value: str | None) -> str | None:
    org = " ".join((value or "").split())
    if len(org) > ORGANISATION_MAX:
        raise AccessError(f"Keep the organisation to {ORGANISATION_MAX} characters.")
    return org or None


def _coerce_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccessError(
            f"Unknown role {role!r}; choose from {', '.join(r.value for r in Role)}."
        ) from None


def add_user(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    role: Role | str,
    *,
    school_urn: str | None = None,
    groups: Iterable[str] = (),
    pupils: Iterable[str] = (),
    areas: Iterable[str] = (),
    expires_on: date | None = None,
    now: datetime | None = None,
    organisation: str | None = None,
) -> User:
    """Create an account; raises AccessError with a plain message when it cannot."""
    ensure_access_tables(con)
    name = normalise_username(username)
    the_role = _coerce_role(role)
    urn = school_urn.strip() if school_urn else None
    group_list, pupil_list = _clean(groups), _clean(pupils)
    area_list = _clean(a.lower() for a in areas)
    _validate(name, the_role, urn, group_list, pupil_list, area_list, expires_on)
    org = _organisation(organisation)
    weak = check_password_strength(password, username=name)
    if weak:
        raise AccessError(weak)
    if find_user(con, name) is not None:
        raise AccessError(f"There is already an account called {name!r}.")
    at = _utc(now)
    con.begin()
    try:
        row = con.execute(
            """INSERT INTO app.users (username, role, school_urn, password_hash, expires_on,
                   created_at, password_changed_at, organisation)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING user_id""",
            [name, the_role.value, urn, hash_password(password), expires_on, at, at, org],
        ).fetchone()
        assert row is not None
        user_id = int(row[0])
        _insert_links(con, "app.user_groups", "group_code", user_id, group_list)
        _insert_links(con, "app.user_pupils", "pupil_key", user_id, pupil_list)
        _insert_links(con, "app.user_areas", "area", user_id, area_list)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    auth_cache.changed()
    user = get_user(con, user_id)
    assert user is not None
    return user


def _insert_links(
    con: duckdb.DuckDBPyConnection, table: str, column: str, user_id: int, values: Sequence[str]
) -> None:
    if values:
        # table and column are constants from this module, never user input.
        con.executemany(
            f"INSERT INTO {table} (user_id, {column}) VALUES (?, ?)",
            [[user_id, v] for v in values],
        )


_USER_COLUMNS = (
    "user_id, username, role, school_urn, expires_on, totp_secret, disabled, "
    "coalesce(must_change_password, FALSE), password_changed_at, organisation"
)


# The links of the users found, every kind in one statement (kind, user, value).
_LINKS = " UNION ALL ".join(
    f"SELECT '{kind}', user_id, {column} FROM {table} WHERE list_contains($ids, user_id)"
    for kind, table, column in (
        ("groups", "app.user_groups", "group_code"),
        ("pupils", "app.user_pupils", "pupil_key"),
        ("areas", "app.user_areas", "area"),
    )
)


def _links(con: duckdb.DuckDBPyConnection, ids: list[int]) -> dict[tuple[str, int], list[str]]:
    # Every request looks its user up, and on a loaded server each statement costs
    # milliseconds: the links are read for the users found only, in one statement
    # (three over every user's links before; half the time of the lookup, measured).
    out: dict[tuple[str, int], list[str]] = {}
    for kind, user_id, value in con.execute(_LINKS, {"ids": ids}).fetchall():
        out.setdefault((str(kind), int(user_id)), []).append(str(value))
    return {k: sorted(v) for k, v in out.items()}


def _users(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[User]:
    rows = con.execute(
        f"SELECT {_USER_COLUMNS} FROM app.users WHERE {where} ORDER BY username", params
    ).fetchall()
    if not rows:
        return []
    links = _links(con, [int(r[0]) for r in rows])
    return [
        User(
            user_id=int(uid),
            username=str(username),
            role=Role(role),
            school_urn=urn,
            groups=tuple(links.get(("groups", int(uid)), ())),
            pupils=tuple(links.get(("pupils", int(uid)), ())),
            areas=tuple(links.get(("areas", int(uid)), ())),
            expires_on=expires_on,
            totp_enabled=totp is not None,
            disabled=bool(disabled),
            must_change_password=bool(must_change),
            password_changed_at=changed_at.replace(tzinfo=UTC) if changed_at else None,
            organisation=org,
        )
        for (
            uid,
            username,
            role,
            urn,
            expires_on,
            totp,
            disabled,
            must_change,
            changed_at,
            org,
        ) in rows
    ]


def get_user(con: duckdb.DuckDBPyConnection, user_id: int) -> User | None:
    found = _users(con, "user_id = ?", [user_id])
    return found[0] if found else None


def find_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    found = _users(con, "username = ?", [normalise_username(username)])
    return found[0] if found else None


def list_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    return _users(con, "TRUE", [])


def usernames(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Every account's username by id (by username): all a page naming who recorded what
    needs, in one statement where :func:`list_users` takes two (it reads every account's
    links too), and pages asked it two or three times a view."""
    rows = con.execute("SELECT user_id, username FROM app.users ORDER BY username").fetchall()
    return {int(uid): str(name) for uid, name in rows}


def _result(
    outcome: str,
    user: User | None = None,
    locked_until: datetime | None = None,
    delay: float = 0.0,
) -> SignInResult:
    message = _MESSAGES[outcome].format(minutes=int(LOCKOUT.total_seconds() // 60))
    aware = locked_until.replace(tzinfo=UTC) if locked_until else None
    return SignInResult(
        user=user, outcome=outcome, locked_until=aware, message=message, delay=delay
    )


def _record_failure(
    con: duckdb.DuckDBPyConnection,
    name: str,
    address: str | None,
    at: datetime,
    outcome: str = "bad_credentials",
    delay: float = 0.0,
) -> SignInResult:
    """Count a failed attempt (access.throttle); the one that reaches a limit pauses."""
    until = throttle.failed(con, name, address, at)
    if until is not None:
        return _result("locked", locked_until=until, delay=delay)
    return _result(outcome, delay=delay)


def identity_cipher() -> IdentityCipher:
    """The cipher of the identity key in force (settings or the key file)."""
    from empowered.settings import get_settings

    return IdentityCipher(get_settings().keys().identity_keys)


def _secret(value: str | None, cipher: IdentityCipher | None = None) -> str | None:
    """A stored second-factor secret in clear (one written by an older version in clear
    is read as it is until ``seal_totp_secrets`` encrypts it)."""
    if value is None or not is_ciphertext(value):
        return value
    return (cipher or identity_cipher()).decrypt(value)


def _accepted_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code ``code`` is, within the allowed drift, or None."""
    totp = pyotp.TOTP(secret)
    now_step = int(at.replace(tzinfo=UTC).timestamp()) // totp.interval
    cleaned = code.strip().replace(" ", "")
    for step in range(now_step - TOTP_VALID_WINDOW, now_step + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None


@dataclass(frozen=True)
class SignInCheck:
    """What a sign-in attempt's reads and password check found, before anything is
    written (:func:`check_sign_in`); :func:`settle_sign_in` writes what follows from it."""

    name: str
    address: str | None
    at: datetime
    delay: float
    paused: datetime | None = None  # paused before the password was even checked
    user_id: int | None = None  # the account, when the password is right
    stored_secret: str | None = None
    last_step: int | None = None
    # The password hashed again, when its stored hash (``old_hash``) is behind.
    new_hash: str | None = None
    old_hash: str | None = None


def check_sign_in(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
    address: str | None = None,
) -> SignInCheck:
    """The reads and the password check of a sign-in, which write nothing: the web app runs
    them outside its recording lock, since argon2 costs a core for a good part of a second
    and forty staff signing in at once would otherwise stall every capture behind them."""
    at = _utc(now)
    name = normalise_username(username)
    # Paused and unknown are checked before the account is even looked up, and cost a
    # hash like a real check: the answer and its timing are the same for every username.
    paused = throttle.paused_until(con, name, address, at)
    if paused is not None:
        verify_password(_dummy_hash(), password)
        return SignInCheck(name, address, at, 0.0, paused=paused)
    delay = throttle.slow_down(con, name, at)
    row = con.execute(
        "SELECT user_id, password_hash, totp_secret, totp_last_step FROM app.users "
        "WHERE username = ?",
        [name],
    ).fetchone()
    if row is None:
        verify_password(_dummy_hash(), password)
        return SignInCheck(name, address, at, delay)
    user_id, password_hash, stored_secret, last_step = row
    if not verify_password(password_hash, password):
        return SignInCheck(name, address, at, delay)
    return SignInCheck(
        name,
        address,
        at,
        delay,
        user_id=int(user_id),
        stored_secret=stored_secret,
        last_step=None if last_step is None else int(last_step),
        new_hash=hash_password(password) if needs_rehash(password_hash) else None,
        old_hash=str(password_hash),
    )


def settle_sign_in(
    con: duckdb.DuckDBPyConnection, check: SignInCheck, totp_code: str | None = None
) -> SignInResult:
    """The outcome of a checked attempt, and its writes (failure counts, the second
    factor's step, a rehashed password): short, for the web app's recording lock. None of
    them is a column a request's check reads, so the server's ``auth_cache`` is not told."""
    at, name, address, delay = check.at, check.name, check.address, check.delay
    if check.paused is not None:
        return _result("locked", locked_until=check.paused)
    if check.user_id is None:
        return _record_failure(con, name, address, at, delay=delay)
    # Guesses checked at the same moment may have paused this username from this address
    # since the read above: the pause holds for a right password too, as it did when the
    # whole attempt ran under one lock.
    paused = throttle.paused_until(con, name, address, at)
    if paused is not None:
        return _result("locked", locked_until=paused)
    user = get_user(con, check.user_id)
    if user is None:  # removed meanwhile
        return _record_failure(con, name, address, at, delay=delay)
    if user.disabled:
        return _result("disabled", delay=delay)
    if user.is_expired(at.date()):
        return _result("expired", delay=delay)
    totp_secret = _secret(check.stored_secret)
    if totp_secret is not None:
        if not totp_code:
            return _result("totp_required", delay=delay)
        step = _accepted_step(totp_secret, totp_code, at)
        if step is None:
            return _record_failure(con, name, address, at, "totp_wrong", delay)
        if check.last_step is not None and step <= check.last_step:
            # Seen once already (over a shoulder, or by a phishing page that relays it).
            return _record_failure(con, name, address, at, "totp_used", delay)
        # Only if no other sign-in took this step meanwhile: a code is good once.
        taken = con.execute(
            "UPDATE app.users SET totp_last_step = ? WHERE user_id = ? AND "
            "(totp_last_step IS NULL OR totp_last_step < ?) RETURNING user_id",
            [step, user.user_id, step],
        ).fetchall()
        if not taken:
            return _record_failure(con, name, address, at, "totp_used", delay)
    throttle.succeeded(con, name, address)
    if check.new_hash is not None:
        # Only over the hash that was checked: a password changed meanwhile stays changed.
        con.execute(
            "UPDATE app.users SET password_hash = ? WHERE user_id = ? AND password_hash = ?",
            [check.new_hash, user.user_id, check.old_hash],
        )
    return _result("ok", user=user, delay=delay)


def sign_in(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    totp_code: str | None = None,
    *,
    now: datetime | None = None,
    address: str | None = None,
) -> SignInResult:
    """Check a username, password and (when the account has one) TOTP code, from the
    client ``address`` (failures are counted per address too: ``access.throttle``).

    Account states (disabled, expired) are revealed only after the right password, so a
    guesser learns nothing from them. The caller writes the audit entry
    (``audit.sign_in_events``), since only it knows the address the attempt came from.
    The two halves (:func:`check_sign_in`, :func:`settle_sign_in`) run apart in the web app.
    """
    checked = check_sign_in(con, username, password, now=now, address=address)
    return settle_sign_in(con, checked, totp_code)


def _require_user(con: duckdb.DuckDBPyConnection, user_id: int) -> User:
    user = get_user(con, user_id)
    if user is None:
        raise AccessError("There is no such account.")
    return user


def _set_password(
    con: duckdb.DuckDBPyConnection,
    user: User,
    new_password: str,
    now: datetime | None,
    *,
    must_change: bool = False,
    why: str = sessions.PASSWORD_RESET,
) -> None:
    weak = check_password_strength(new_password, username=user.username)
    if weak:
        raise AccessError(weak)
    con.execute(
        "UPDATE app.users SET password_hash = ?, password_changed_at = ?, failed_attempts = 0, "
        "locked_until = NULL, must_change_password = ? WHERE user_id = ?",
        [hash_password(new_password), _utc(now), must_change, user.user_id],
    )
    auth_cache.changed()
    # Whoever held the old password (or a session made with it) is out, everywhere.
    sessions.revoke_all(con, user.user_id, why, now=now)
    throttle.clear_account(con, user.username)


def reset_password(
    con: duckdb.DuckDBPyConnection,
    user_id: int,
    new_password: str,
    *,
    now: datetime | None = None,
) -> None:
    """An administrator sets a new password; this also lifts any lock-out."""
    _set_password(con, _require_user(con, user_id), new_password, now)


def change_password(
    con: duckdb.DuckDBPyConnection,
    user_id: int,
    old: str,
    new: str,
    *,
    now: datetime | None = None,
) -> None:
    """The account holder changes their own password, proving they know the current one."""
    user = _require_user(con, user_id)
    row = con.execute("SELECT password_hash FROM app.users WHERE user_id = ?", [user_id]).fetchone()
    assert row is not None
    if not verify_password(str(row[0]), old):
        raise AccessError("The current password is not right.")
    if old == new:
        raise AccessError("Choose a new password that differs from the current one.")
    _set_password(con, user, new, now, why=sessions.PASSWORD_CHANGED)


def enable_totp(con: duckdb.DuckDBPyConnection, user_id: int) -> str:
    """Give the account a new TOTP secret (base32) and require codes from now on."""
    _require_user(con, user_id)
    secret = pyotp.random_base32()
    con.execute(
        "UPDATE app.users SET totp_secret = ? WHERE user_id = ?",
        [identity_cipher().encrypt(secret), user_id],
    )
    auth_cache.changed()
    return secret


def disable_totp(con: duckdb.DuckDBPyConnection, user_id: int) -> None:
    """Remove the second factor (an administrator's action when a phone is lost)."""
    _require_user(con, user_id)
    con.execute("UPDATE app.users SET totp_secret = NULL WHERE user_id = ?", [user_id])
    auth_cache.changed()


def totp_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads (usually shown as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def disable_user(con: duckdb.DuckDBPyConnection, user_id: int) -> None:
    """Switch an account off. Accounts are kept, not deleted, so the audit log still
    names who did what."""
    _require_user(con, user_id)
    con.execute("UPDATE app.users SET disabled = TRUE WHERE user_id = ?", [user_id])
    auth_cache.changed()
    sessions.revoke_all(con, user_id, sessions.DISABLED)


def sign_out_everywhere(con: duckdb.DuckDBPyConnection, user_id: int) -> int:
    """An administrator ends every session of an account (a lost laptop, a shared
    computer left signed in); returns how many were open."""
    _require_user(con, user_id)
    return sessions.revoke_all(con, user_id, sessions.EVERYWHERE)


# --- The administration pages and "your account" -------------------------------------

# Four groups of five characters from an alphabet without look-alikes (no 0/O, 1/l/I):
# about 100 bits, read out or typed from a screen without mistakes.
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def one_time_password() -> str:
    """A strong password to hand over once; the holder must change it at first use."""
    return "-".join("".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(5)) for _ in range(4))


def issue_one_time_password(
    con: duckdb.DuckDBPyConnection, user_id: int, *, now: datetime | None = None
) -> str:
    """An administrator's reset: a new one-time password (returned, never stored in
    clear or logged), the lock-out lifted, and the holder made to choose their own."""
    user = _require_user(con, user_id)
    password = one_time_password()
    _set_password(con, user, password, now, must_change=True)
    return password


def require_password_change(con: duckdb.DuckDBPyConnection, user_id: int) -> None:
    """The holder must choose their own password before anything else (a new account)."""
    _require_user(con, user_id)
    con.execute("UPDATE app.users SET must_change_password = TRUE WHERE user_id = ?", [user_id])
    auth_cache.changed()


def check_new_password(user: User, new: str, repeated: str) -> str | None:
    """Why a new password the holder typed twice will not do, or None."""
    if new != repeated:
        return "The two new passwords are not the same."
    return check_password_strength(new, username=user.username)


def update_user(
    con: duckdb.DuckDBPyConnection,
    user_id: int,
    *,
    role: Role | str,
    school_urn: str | None,
    groups: Iterable[str] = (),
    pupils: Iterable[str] = (),
    areas: Iterable[str] = (),
    expires_on: date | None = None,
    organisation: str | None = None,
) -> User:
    """Change an account's role and scope, with the same rules as ``add_user``."""
    current = _require_user(con, user_id)
    the_role = _coerce_role(role)
    urn = school_urn.strip() if school_urn else None
    group_list, pupil_list = _clean(groups), _clean(pupils)
    area_list = _clean(a.lower() for a in areas)
    # An expiry already set and unchanged may have passed (the account is then expired).
    keep = expires_on is not None and expires_on == current.expires_on
    checked = max(expires_on, date.today()) if keep and expires_on else expires_on
    _validate(current.username, the_role, urn, group_list, pupil_list, area_list, checked)
    org = _organisation(organisation)
    con.begin()
    try:
        con.execute(
            "UPDATE app.users SET role = ?, school_urn = ?, expires_on = ?, organisation = ? "
            "WHERE user_id = ?",
            [the_role.value, urn, expires_on, org, user_id],
        )
        for table, column, values in (
            ("app.user_groups", "group_code", group_list),
            ("app.user_pupils", "pupil_key", pupil_list),
            ("app.user_areas", "area", area_list),
        ):
            con.execute(f"DELETE FROM {table} WHERE user_id = ?", [user_id])
            _insert_links(con, table, column, user_id, values)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    auth_cache.changed()
    return _require_user(con, user_id)


def enable_user(con: duckdb.DuckDBPyConnection, user_id: int) -> None:
    """Switch an account back on (its scope and password are as they were)."""
    _require_user(con, user_id)
    con.execute("UPDATE app.users SET disabled = FALSE WHERE user_id = ?", [user_id])
    auth_cache.changed()


def assign_group(con: duckdb.DuckDBPyConnection, user_id: int, group_code: str) -> None:
    """Give a teacher or teaching assistant a class or group (nothing if already given)."""
    user = _require_user(con, user_id)
    code = group_code.strip()
    if not code:
        raise AccessError("Choose a group.")
    if user.role not in _GROUP_ROLES:
        raise AccessError("Only teachers and teaching assistants are given groups.")
    if code not in user.groups:
        _insert_links(con, "app.user_groups", "group_code", user_id, [code])
        auth_cache.changed()


def unassign_group(con: duckdb.DuckDBPyConnection, user_id: int, group_code: str) -> None:
    _require_user(con, user_id)
    con.execute(
        "DELETE FROM app.user_groups WHERE user_id = ? AND group_code = ?",
        [user_id, group_code.strip()],
    )
    auth_cache.changed()


def start_totp(con: duckdb.DuckDBPyConnection, user_id: int) -> str:
    """A new TOTP secret waiting to be confirmed; sign-in does not ask for it yet (nor does
    any request's check read it: ``auth_cache`` is not told)."""
    _require_user(con, user_id)
    secret = pyotp.random_base32()
    con.execute(
        "UPDATE app.users SET totp_pending = ? WHERE user_id = ?",
        [identity_cipher().encrypt(secret), user_id],
    )
    return secret


def pending_totp(con: duckdb.DuckDBPyConnection, user_id: int) -> str | None:
    row = con.execute("SELECT totp_pending FROM app.users WHERE user_id = ?", [user_id]).fetchone()
    return _secret(str(row[0])) if row and row[0] else None


def confirm_totp(
    con: duckdb.DuckDBPyConnection, user_id: int, code: str, *, now: datetime | None = None
) -> bool:
    """Turn the second factor on once a code from the waiting secret checks out."""
    secret = pending_totp(con, user_id)
    if secret is None:
        return False
    step = _accepted_step(secret, code, _utc(now))
    if step is None:
        return False
    # The confirming code is spent too: it cannot then be used to sign in.
    con.execute(
        "UPDATE app.users SET totp_secret = ?, totp_pending = NULL, "
        "totp_last_step = greatest(coalesce(totp_last_step, 0), ?) WHERE user_id = ?",
        [identity_cipher().encrypt(secret), step, user_id],
    )
    auth_cache.changed()
    return True


def seal_totp_secrets(
    con: duckdb.DuckDBPyConnection, identity_keys: Sequence[bytes] | None = None
) -> int:
    """Encrypt second-factor secrets an older version stored in clear, and re-encrypt any
    not written with the current identity key (after ``empowered keys rotate``); returns
    how many values were rewritten. Called when the server opens the warehouse."""
    cipher = IdentityCipher(identity_keys) if identity_keys else identity_cipher()
    rewritten = 0
    for user_id, secret, pending in con.execute(
        "SELECT user_id, totp_secret, totp_pending FROM app.users "
        "WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL"
    ).fetchall():
        values = []
        for value in (secret, pending):
            if value is None or (is_ciphertext(value) and cipher.written_with_current_key(value)):
                values.append(value)
            else:
                values.append(cipher.encrypt(_secret(value, cipher)))
                rewritten += 1
        if values != [secret, pending]:
            con.execute(
                "UPDATE app.users SET totp_secret = ?, totp_pending = ? WHERE user_id = ?",
                [*values, user_id],
            )
    auth_cache.changed()
    return rewritten


def check_password(con: duckdb.DuckDBPyConnection, user_id: int, password: str) -> bool:
    row = con.execute("SELECT password_hash FROM app.users WHERE user_id = ?", [user_id]).fetchone()
    return row is not None and verify_password(str(row[0]), password)


def reset_totp(con: duckdb.DuckDBPyConnection, user_id: int) -> None:
    """Remove the second factor and any waiting one (a lost phone)."""
    _require_user(con, user_id)
    con.execute(
        "UPDATE app.users SET totp_secret = NULL, totp_pending = NULL WHERE user_id = ?",
        [user_id],
    )
    auth_cache.changed()


def account_states(
    con: duckdb.DuckDBPyConnection, *, now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Per account: paused now (from at least one address) or not, and its last sign-in
    (from the audit log)."""
    at = _utc(now)
    paused = throttle.paused_usernames(con, at)
    states: dict[int, dict[str, Any]] = {
        int(uid): {"locked": throttle.account_digest(name) in paused, "last_sign_in": None}
        for uid, name in con.execute("SELECT user_id, username FROM app.users").fetchall()
    }
    for uid, last in con.execute(
        "SELECT user_id, max(\"at\") FROM app.audit_log WHERE event = 'signed_in' "
        "AND user_id IS NOT NULL GROUP BY user_id"
    ).fetchall():
        if int(uid) in states:
            states[int(uid)]["last_sign_in"] = last.replace(tzinfo=UTC)
    return states
