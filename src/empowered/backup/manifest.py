"""What a backup says about itself: the manifest inside it and the clear sidecar beside it.

The manifest (``manifest.json``, first in the encrypted archive) lists every table copied
with its row count and the DDL that recreates it, every sequence with the value it
continues from, the versions, and the ids of the keys the data needs: the identity key ids
(``crypto.key_id``) and a fingerprint of the pseudonym key. Never a key itself.

The sidecar (``<backup>.json``) repeats the manifest without the DDL, adding the file's
size and SHA-256, so an administrator can see what a backup holds, and a restore can find
a damaged file, without the backup key. It holds nothing about any pupil.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from empowered.backup.errors import BackupProblem
from empowered.crypto import key_id
from empowered.keys import Keys

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class TableCopy:
    name: str  # schema.table
    rows: int
    ddl: str
    file: str  # the Parquet file's name in the archive


@dataclass(frozen=True)
class SequenceValue:
    name: str  # schema.sequence
    next_value: int
    increment_by: int
    min_value: int
    max_value: int
    cycle: bool


@dataclass(frozen=True)
class Manifest:
    created_at: str  # ISO 8601, UTC
    empowered_version: str
    schema_version: int | None
    identity_key_ids: list[str]
    pseudonym_fingerprint: str
    backup_key_id: str
    tables: list[TableCopy]
    sequences: list[SequenceValue]
    format: int = MANIFEST_FORMAT

    @property
    def row_counts(self) -> dict[str, int]:
        return {t.name: t.rows for t in self.tables}

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        fields: dict[str, Any] = json.loads(text)
        if fields.get("format") != MANIFEST_FORMAT:
            raise BackupProblem(
                f"this backup's manifest is in format {fields.get('format')}, which this"
                " version of EmpowerED+ cannot read: use a newer version"
            )
        fields["tables"] = [TableCopy(**t) for t in fields["tables"]]
        fields["sequences"] = [SequenceValue(**s) for s in fields["sequences"]]
        return cls(**fields)


@dataclass(frozen=True)
class Sidecar:
    """The clear record beside a backup file."""

    file: str
    created_at: str
    empowered_version: str
    schema_version: int | None
    identity_key_ids: list[str]
    pseudonym_fingerprint: str
    backup_key_id: str
    size_bytes: int
    sha256: str
    seconds: float
    row_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, manifest: Manifest, file: Path, size: int, sha256: str, seconds: float) -> Sidecar:
        return cls(
            file=file.name,
            created_at=manifest.created_at,
            empowered_version=manifest.empowered_version,
            schema_version=manifest.schema_version,
            identity_key_ids=manifest.identity_key_ids,
            pseudonym_fingerprint=manifest.pseudonym_fingerprint,
            backup_key_id=manifest.backup_key_id,
            size_bytes=size,
            sha256=sha256,
            seconds=round(seconds, 3),
            row_counts=manifest.row_counts,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def read(cls, path: Path) -> Sidecar:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError as error:
            raise BackupProblem(
                f"the backup's record {path.name} is missing: it is written beside every"
                " backup and holds the checksum that shows the backup is whole. Copy it from"
                " where the backup was kept, or use another backup. Nothing was restored."
            ) from error
        except (ValueError, TypeError) as error:
            raise BackupProblem(
                f"the backup's record {path.name} cannot be read (it was edited or damaged):"
                " use another backup, or copy the record again. Nothing was restored."
            ) from error


def sidecar_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def empowered_version() -> str:
    return metadata.version("empowered")


def pseudonym_fingerprint(pseudonym_key: str) -> str:
    """Shows whether two pseudonym keys are the same without revealing either."""
    digest = hmac.new(pseudonym_key.encode(), b"empowered-backup-fingerprint", hashlib.sha256)
    return digest.hexdigest()[:16]


def identity_key_ids(keys: Keys) -> list[str]:
    return [key_id(k) for k in keys.identity_keys]


def check_keys(identity_ids: list[str], fingerprint: str, keys: Keys) -> None:
    """Refuse keys that cannot read a backup made under ``identity_ids`` and ``fingerprint``:
    a restored warehouse whose names cannot be decrypted, or whose new imports would give
    the same child a different pseudonymous key, would look fine and be wrong."""
    missing = [i for i in identity_ids if i not in identity_key_ids(keys)]
    if missing:
        raise BackupProblem(
            f"this backup's pupil identity was encrypted with identity key {', '.join(missing)},"
            f" which the keys in force do not hold (they hold {', '.join(identity_key_ids(keys))})."
            " Use the key file that was kept with the warehouse when the backup was made (put it"
            " beside the new warehouse as <warehouse>.keys, or set EMPOWERED_KEY_FILE)."
            " Nothing was restored."
        )
    if fingerprint != pseudonym_fingerprint(keys.pseudonym_key):
        raise BackupProblem(
            "this backup was made with a different pseudonym key from the one in force, so"
            " pupils imported after the restore would not match the pupils in it. Use the key"
            " file that was kept with the warehouse when the backup was made (or its"
            " EMPOWERED_PSEUDONYM_KEY). Nothing was restored."
        )


_UTC_TEXT = "%Y-%m-%dT%H:%M:%SZ"


def utc_text(at: datetime) -> str:
    return at.strftime(_UTC_TEXT)


def parse_utc(text: str) -> datetime:
    return datetime.strptime(text, _UTC_TEXT).replace(tzinfo=UTC)
