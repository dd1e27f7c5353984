"""Password hashing (argon2id) and a plain strength check.

The strength rule follows the NCSC's advice: length beats composition rules, so we ask for
12 characters and refuse only what is trivially guessable, rather than demanding symbols.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
# argon2 copes with long input, but a megabyte "password" is an attack, not a person.
MAX_LENGTH = 1024

# Default parameters: argon2-cffi keeps them at RFC 9106's recommendation and raises
# them between releases; needs_rehash() tells when a stored hash is behind.
_HASHER = PasswordHasher()

# Words found in the most common leaked passwords; a password that is mostly one of them
# is the first thing an attacker tries.
_COMMON = (
    "password",
    "passw0rd",
    "qwerty",
    "letmein",
    "welcome",
    "iloveyou",
    "abc123",
    "123456",
    "admin",
    "empowered",
)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_password_strength(password: str, *, username: str | None = None) -> str | None:
    """Return a plain reason when ``password`` is too weak, or None when it will do."""
    if len(password) < MIN_LENGTH:
        return (
            f"Use at least {MIN_LENGTH} characters. Three random words together make a "
            "long password that is easy to remember."
        )
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.isdigit():
        return "A password of numbers only is easy to guess: use words as well."
    if len(set(password.lower())) < 5:
        return "Use more different characters: repeated characters are easy to guess."
    lowered = password.lower()
    if username and len(username) >= 3 and username.lower() in lowered:
        return "Do not put your username in your password."
    for word in _COMMON:
        # Mostly a common password with a little added (e.g. "Password1234!") is weak.
        if word in lowered and len(lowered) - len(word) < 8:
            return "That password is too close to a very common one: choose another."
    return None
