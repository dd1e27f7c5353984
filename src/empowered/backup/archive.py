"""The encrypted backup file: a clear header, then the tar of the snapshot in sealed chunks.

Layout (every number big-endian)::

    MAGIC (16 bytes) | header length (4 bytes) | header (JSON, UTF-8)
    chunk 0 | chunk 1 | ... | last chunk

The header names the format, the chunk size, the id of the backup key (``crypto.key_id``,
so a wrong key is named before anything is decrypted) and a random 8-byte nonce prefix.
Each chunk is AES-256-GCM of ``chunk_bytes`` of the tar (the last one shorter, possibly
empty, so the end is always marked), with nonce = prefix + 4-byte chunk index, and
associated data = SHA-256 of the header bytes + 8-byte chunk index + a last-chunk flag.
So a changed byte, a chunk moved or dropped, a file cut short (no chunk flagged last) or a
header from another file all fail authentication; nothing is ever read unauthenticated.
Chunks keep memory flat: a trust-sized backup is written and read 4 MiB at a time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from empowered.backup.errors import BackupProblem, damaged
from empowered.crypto import key_id

MAGIC = b"EMPOWERED+BACKUP"
FORMAT = 1
CHUNK_BYTES = 4 * 1024 * 1024
_TAG_BYTES = 16
_PREFIX_BYTES = 8
_MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Header:
    raw: bytes  # the header exactly as written (magic, length and JSON), bound to every chunk
    backup_key_id: str
    chunk_bytes: int
    nonce_prefix: bytes

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.raw).digest()


def _associated(header: Header, index: int, last: bool) -> bytes:
    return header.digest + struct.pack(">Q?", index, last)


def _nonce(header: Header, index: int) -> bytes:
    return header.nonce_prefix + struct.pack(">I", index)


def _new_header(backup_key: bytes, chunk_bytes: int) -> Header:
    prefix = os.urandom(_PREFIX_BYTES)
    body = json.dumps(
        {
            "format": FORMAT,
            "cipher": "AES-256-GCM",
            "chunk_bytes": chunk_bytes,
            "backup_key_id": key_id(backup_key),
            "nonce_prefix": prefix.hex(),
        },
        sort_keys=True,
    ).encode()
    raw = MAGIC + struct.pack(">I", len(body)) + body
    return Header(raw, key_id(backup_key), chunk_bytes, prefix)


def read_header(source: IO[bytes]) -> Header:
    """The clear header at the start of a backup file; ``BackupProblem`` if it is not one."""
    start = source.read(len(MAGIC) + 4)
    if len(start) < len(MAGIC) + 4 or not start.startswith(MAGIC):
        raise BackupProblem("this is not an EmpowerED+ backup file (its first bytes are wrong)")
    (length,) = struct.unpack(">I", start[len(MAGIC) :])
    if length > _MAX_HEADER_BYTES:
        raise damaged("its header is the wrong size")
    body = source.read(length)
    try:
        fields: dict[str, Any] = json.loads(body)
        if fields["format"] != FORMAT:
            raise BackupProblem(
                f"this backup is in format {fields['format']}, which this version of"
                f" EmpowerED+ does not read (it reads format {FORMAT}): use a newer version"
            )
        return Header(
            start + body,
            str(fields["backup_key_id"]),
            int(fields["chunk_bytes"]),
            bytes.fromhex(fields["nonce_prefix"]),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise damaged("its header cannot be read") from error


def check_backup_key(header: Header, backup_key: bytes) -> None:
    if key_id(backup_key) != header.backup_key_id:
        raise BackupProblem(
            f"this backup was encrypted with backup key {header.backup_key_id}, but the backup"
            f" key in force is {key_id(backup_key)}: set EMPOWERED_BACKUP_KEY, or use the key"
            " file, that was in force when the backup was made. Nothing was restored."
        )


class SealingWriter(io.RawIOBase):
    """A write-only stream that seals what is written into ``target`` chunk by chunk, and
    keeps the SHA-256 of every byte it writes there. ``close`` writes the last chunk."""

    def __init__(self, target: IO[bytes], backup_key: bytes, chunk_bytes: int | None = None):
        super().__init__()
        self._target = target
        self._aead = AESGCM(backup_key)
        self._header = _new_header(backup_key, chunk_bytes or CHUNK_BYTES)
        self._buffer = bytearray()
        self._index = 0
        self.sha256 = hashlib.sha256()
        self._emit(self._header.raw)

    def writable(self) -> bool:
        return True

    def _emit(self, data: bytes) -> None:
        self._target.write(data)
        self.sha256.update(data)

    def _seal(self, plain: bytes, last: bool) -> None:
        nonce = _nonce(self._header, self._index)
        self._emit(self._aead.encrypt(nonce, plain, _associated(self._header, self._index, last)))
        self._index += 1

    def write(self, data: Any) -> int:
        self._buffer += data
        size = self._header.chunk_bytes
        while len(self._buffer) >= size:
            self._seal(bytes(self._buffer[:size]), last=False)
            del self._buffer[:size]
        return len(data)

    def close(self) -> None:
        if not self.closed:
            # Always shorter than a full chunk (possibly empty): the reader knows the end.
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()


class OpeningReader(io.RawIOBase):
    """A read-only stream of the plain tar inside a backup file, authenticating each chunk
    before any of it is returned."""

    def __init__(self, source: IO[bytes], header: Header, backup_key: bytes):
        super().__init__()
        self._source = source
        self._header = header
        self._aead = AESGCM(backup_key)
        self._plain = memoryview(b"")
        self._index = 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> None:
        sealed_size = self._header.chunk_bytes + _TAG_BYTES
        sealed = self._source.read(sealed_size)
        last = len(sealed) < sealed_size
        if last and len(sealed) < _TAG_BYTES:
            raise damaged("it ends before its last part (it was cut short)")
        nonce = _nonce(self._header, self._index)
        try:
            plain = self._aead.decrypt(nonce, sealed, _associated(self._header, self._index, last))
        except InvalidTag as error:
            raise damaged(f"part {self._index + 1} does not authenticate") from error
        self._index += 1
        self._ended = last
        self._plain = memoryview(plain)

    def readinto(self, buffer: Any) -> int:
        while not len(self._plain) and not self._ended:
            self._next_chunk()
        size = min(len(buffer), len(self._plain))
        buffer[:size] = self._plain[:size]
        self._plain = self._plain[size:]  # a view: no copy of the rest of the chunk
        return size

    def finish(self) -> None:
        """Read to the end, so a file cut or changed after the part already used is still
        refused (tar stops reading at its end-of-archive marker)."""
        while not self._ended:
            self._next_chunk()
        if self._source.read(1):
            raise damaged("it has bytes after its last part")
