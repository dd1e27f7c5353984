"""Encryption of pupil identity at rest, and the blind indexes that match it.

Direct identifiers (names, UPN, date of birth, second-factor secrets) are stored as
AES-256-GCM ciphertext: ``enc1:<key id>:<base64 of nonce + ciphertext>``. The key id (the
first 8 hex digits of the key's SHA-256) says which key wrote a value, so a key rotation can
run while older values are still readable. This is the one module that decrypts; callers
that show identity to a person go through it only for roles the policy allows to see it.

Where the warehouse must compare identifiers it cannot read (the same UPN in two files, a
name with a date of birth), it compares **blind indexes**: HMAC-SHA256 of the normalised
value under a key derived from the pseudonym key, so they stay stable across identity-key
rotations and reveal nothing without the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1"
_NONCE_BYTES = 12
# Binds every ciphertext to this purpose: a value cannot be lifted into another system
# that happens to share the key.
_ASSOCIATED = b"empowered-identity-v1"
_ASSOCIATED_FILE = b"empowered-file-v1"


class DecryptionError(ValueError):
    """A value that no key in force can decrypt (a wrong or missing key, or tampering)."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def is_ciphertext(value: str | None) -> bool:
    return value is not None and value.startswith(PREFIX + ":")


class IdentityCipher:
    """Encrypts with the current key; decrypts with any key still in force."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("an identity cipher needs at least one key")
        self._current = AESGCM(keys[0])
        self._current_id = key_id(keys[0])
        self._by_id = {key_id(k): AESGCM(k) for k in keys}

    @property
    def current_key_id(self) -> str:
        return self._current_id

    def encrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.encrypt(nonce, value.encode("utf-8"), _ASSOCIATED)
        body = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{PREFIX}:{self._current_id}:{body}"

    def encrypt_many(self, values: Iterable[str | None]) -> list[str | None]:
        return [self.encrypt(v) for v in values]

    def decrypt(self, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            prefix, kid, body = value.split(":", 2)
        except ValueError as error:
            raise DecryptionError("not an encrypted value") from error
        aead = self._by_id.get(kid)
        if prefix != PREFIX or aead is None:
            raise DecryptionError(f"no key in force has id {kid}")
        raw = base64.b64decode(body)
        try:
            plain = aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _ASSOCIATED)
        except Exception as error:  # cryptography raises InvalidTag
            raise DecryptionError("the value was altered or the key is wrong") from error
        return plain.decode("utf-8")

    def seal_file(self, data: bytes) -> bytes:
        """A whole file (a report that names a child), as key id + nonce + ciphertext.
        Bound to its own purpose, so a sealed file cannot pass for an identity value."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.encrypt(nonce, data, _ASSOCIATED_FILE)
        return self._current_id.encode("ascii") + nonce + sealed

    def open_file(self, sealed: bytes) -> bytes:
        kid = sealed[:8].decode("ascii", "replace")
        aead = self._by_id.get(kid)
        if aead is None:
            raise DecryptionError(f"no key in force has id {kid}")
        body = sealed[8:]
        try:
            return aead.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], _ASSOCIATED_FILE)
        except Exception as error:  # cryptography raises InvalidTag
            raise DecryptionError("the file was altered or the key is wrong") from error

    def written_with_current_key(self, value: str | None) -> bool:
        return value is None or value.startswith(f"{PREFIX}:{self._current_id}:")


class BlindIndex:
    """Keyed, deterministic digests of normalised identifiers, for equality matching."""

    def __init__(self, pseudonym_key: str) -> None:
        self._key = hmac.new(
            pseudonym_key.encode(), b"empowered-blind-index-v1", hashlib.sha256
        ).digest()

    def of(self, kind: str, value: str | None) -> str | None:
        """The index of ``value`` as an identifier of ``kind`` (e.g. "upn", "name_dob").
        The caller normalises the value the same way wherever it is compared."""
        if value is None:
            return None
        message = kind.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]
