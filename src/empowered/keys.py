"""The secrets EmpowerED+ needs, kept outside the warehouse file.

Three secrets protect a school's data:

- the **pseudonym key** turns a UPN into the pseudonymous pupil key (and keys the blind
  indexes that let staging match identity it cannot read);
- the **session secret** signs the web app's session cookies;
- the **identity key** encrypts names, UPNs, dates of birth and second-factor secrets
  (AES-256-GCM, ``empowered.crypto``).

Each comes from its ``EMPOWERED_*`` setting when one is given, else from the key file
(``EMPOWERED_KEY_FILE``, by default beside the warehouse as ``<warehouse>.keys``), which is
created on first use with random secrets and mode 0600. A secret that was ever published
(the development defaults once printed in this code) is refused everywhere: anyone could
forge a session or re-identify a pupil with it. The key file must be backed up with the
warehouse and kept apart from it: without it, encrypted identity cannot be read.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

# Secrets that were printed in earlier versions of this code: never accepted again.
PUBLISHED_SECRETS = frozenset(
    {
        "development-only-pseudonym-key-not-for-real-pupils",
        "development-only-session-secret-not-for-real-pupils",
    }
)
IDENTITY_KEY_BYTES = 32


class KeyProblem(ValueError):
    """A key file or key setting that cannot be used; the message says how to mend it."""


@dataclass(frozen=True)
class Keys:
    pseudonym_key: str
    session_secret: str
    # The current identity key first, then retired ones still needed to read ciphertext
    # written before a rotation finished (``empowered keys rotate``).
    identity_keys: tuple[bytes, ...]

    @property
    def identity_key(self) -> bytes:
        return self.identity_keys[0]


def refuse_published(name: str, value: str | None) -> None:
    if value is not None and value in PUBLISHED_SECRETS:
        raise KeyProblem(
            f"{name} is a secret that was published with EmpowerED+; set a secret of your own"
            " or unset it so that a random one is made in the key file"
        )


def decode_identity_key(value: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4))
    except (ValueError, TypeError) as error:
        raise KeyProblem("the identity key is not base64") from error
    if len(raw) != IDENTITY_KEY_BYTES:
        raise KeyProblem(f"the identity key must be {IDENTITY_KEY_BYTES} bytes (base64)")
    return raw


def encode_identity_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def new_identity_key() -> bytes:
    return secrets.token_bytes(IDENTITY_KEY_BYTES)


def _new_file_contents() -> dict[str, object]:
    return {
        "pseudonym_key": secrets.token_urlsafe(32),
        "session_secret": secrets.token_urlsafe(32),
        "identity_key": encode_identity_key(new_identity_key()),
        "retired_identity_keys": [],
    }


def read_key_file(path: Path) -> dict[str, object]:
    """The key file's contents, creating it (0600, never overwriting) when it is missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                json.dump(_new_file_contents(), handle, indent=2)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyProblem(
            f"the key file {path.name} can be read by other users of this machine"
            f" (mode {mode:o}): run chmod 600 on it"
        )
    try:
        contents = json.loads(path.read_text())
    except ValueError as error:
        raise KeyProblem(f"the key file {path.name} is not valid JSON") from error
    if not isinstance(contents, dict):
        raise KeyProblem(f"the key file {path.name} is not a JSON object")
    return contents


def write_key_file(path: Path, contents: dict[str, object]) -> None:
    """Replace the key file atomically, keeping it 0600 (used by key rotation)."""
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(contents, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def load_keys(
    key_file: Path,
    *,
    pseudonym_key: str | None = None,
    session_secret: str | None = None,
    identity_key: str | None = None,
) -> Keys:
    """The keys in force: each setting given wins, the key file supplies the rest."""
    for name, value in (
        ("EMPOWERED_PSEUDONYM_KEY", pseudonym_key),
        ("EMPOWERED_SESSION_SECRET", session_secret),
    ):
        refuse_published(name, value)
    stored: dict[str, object] = {}
    if pseudonym_key is None or session_secret is None or identity_key is None:
        stored = read_key_file(key_file)
    pseudonym = pseudonym_key if pseudonym_key is not None else str(stored["pseudonym_key"])
    session = session_secret if session_secret is not None else str(stored["session_secret"])
    refuse_published("the key file's pseudonym_key", pseudonym)
    refuse_published("the key file's session_secret", session)
    if identity_key is not None:
        identity: tuple[bytes, ...] = (decode_identity_key(identity_key),)
    else:
        retired = stored.get("retired_identity_keys") or []
        assert isinstance(retired, list)
        identity = (decode_identity_key(str(stored["identity_key"])),) + tuple(
            decode_identity_key(str(k)) for k in retired
        )
    return Keys(pseudonym, session, identity)
