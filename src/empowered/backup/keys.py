"""The backup key: the AES-256 key that encrypts backups, kept apart from them.

It comes from ``EMPOWERED_BACKUP_KEY`` (32 bytes, base64) when that is set, else from the
``backup_key`` entry of the key file (``empowered.keys``). Taking a backup adds one to a key
file that has none; reading a backup never does (a new random key could not read it).
The key file is never inside a backup: keep it, and the backup key, apart from backups.
"""

from __future__ import annotations

from empowered.backup.errors import BackupProblem
from empowered.keys import (
    KeyProblem,
    decode_identity_key,
    encode_identity_key,
    new_identity_key,
    read_key_file,
    write_key_file,
)
from empowered.settings import Settings

ENTRY = "backup_key"


def backup_key(settings: Settings, *, create: bool = False) -> bytes:
    """The backup key in force; with ``create``, one is added to a key file without one."""
    given = settings.backup_key
    if given is not None:
        return _decoded(given.get_secret_value(), "EMPOWERED_BACKUP_KEY")
    path = settings.key_path
    if not path.exists() and not create:
        raise BackupProblem(
            f"there is no key file at {path}, so there is no backup key to read the backup"
            " with: put the key file kept with the old warehouse there (or set"
            " EMPOWERED_KEY_FILE, or EMPOWERED_BACKUP_KEY). Nothing was restored."
        )
    contents = read_key_file(path)
    stored = contents.get(ENTRY)
    if stored is None:
        if not create:
            raise BackupProblem(
                f"the key file {path} holds no backup key, so it is not the one the backups"
                " were made with: use that key file or set EMPOWERED_BACKUP_KEY."
                " Nothing was restored."
            )
        key = new_identity_key()  # the same kind of key: 32 random bytes
        write_key_file(path, {**contents, ENTRY: encode_identity_key(key)})
        return key
    return _decoded(str(stored), f"the backup key in {path.name}")


def _decoded(value: str, where: str) -> bytes:
    try:
        return decode_identity_key(value)
    except KeyProblem as error:
        raise BackupProblem(f"{where} must be 32 bytes written in base64") from error
