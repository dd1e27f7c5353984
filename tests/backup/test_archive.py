"""The sealed chunk stream: every change to the file is refused, none goes unnoticed."""

from __future__ import annotations

import io
import os

import pytest
from backup_fixtures import BACKUP_KEY

from empowered.backup.archive import (
    OpeningReader,
    SealingWriter,
    check_backup_key,
    read_header,
)
from empowered.backup.errors import BackupProblem

CHUNK = 1024
PLAIN = os.urandom(CHUNK * 3 + 100)


def sealed(plain: bytes = PLAIN, chunk: int = CHUNK) -> bytes:
    out = io.BytesIO()
    writer = SealingWriter(out, BACKUP_KEY, chunk_bytes=chunk)
    writer.write(plain)
    writer.close()
    return out.getvalue()


def opened(data: bytes) -> bytes:
    source = io.BytesIO(data)
    reader = OpeningReader(source, read_header(source), BACKUP_KEY)
    plain = reader.read()
    reader.finish()
    return plain


def chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    header = read_header(io.BytesIO(data)).raw
    body = data[len(header) :]
    size = CHUNK + 16
    return header, [body[i : i + size] for i in range(0, len(body), size)]


def test_a_sealed_stream_opens_to_what_was_written() -> None:
    assert opened(sealed()) == PLAIN
    # A length that fills its chunks exactly still ends with a (empty) last chunk.
    exact = PLAIN[: CHUNK * 2]
    assert opened(sealed(exact)) == exact
    assert opened(sealed(b"")) == b""


def test_the_clear_header_holds_no_key_and_nothing_plain_follows() -> None:
    data = sealed()
    assert BACKUP_KEY not in data
    assert PLAIN[:64] not in data


@pytest.mark.parametrize(
    "change",
    [
        "flipped byte",
        "cut at a chunk boundary",
        "cut mid chunk",
        "chunk dropped",
        "chunks swapped",
        "header from another file",
        "bytes appended",
    ],
)
def test_every_change_is_refused(change: str) -> None:
    data = sealed()
    header, parts = chunks(data)
    if change == "flipped byte":
        middle = bytearray(data)
        middle[len(data) // 2] ^= 1
        changed = bytes(middle)
    elif change == "cut at a chunk boundary":
        changed = header + b"".join(parts[:2])
    elif change == "cut mid chunk":
        changed = data[: len(data) - 40]
    elif change == "chunk dropped":
        changed = header + parts[0] + b"".join(parts[2:])
    elif change == "chunks swapped":
        changed = header + parts[1] + parts[0] + b"".join(parts[2:])
    elif change == "header from another file":
        changed = chunks(sealed())[0] + b"".join(parts)
    else:
        changed = data + b"\0"
    with pytest.raises(BackupProblem, match="the backup file is damaged"):
        opened(changed)


def test_a_wrong_backup_key_is_named_before_anything_is_decrypted() -> None:
    header = read_header(io.BytesIO(sealed()))
    with pytest.raises(BackupProblem, match="encrypted with backup key"):
        check_backup_key(header, bytes(32))


def test_a_file_that_is_not_a_backup_is_refused() -> None:
    with pytest.raises(BackupProblem, match="not an EmpowerED\\+ backup"):
        read_header(io.BytesIO(b"SQLite format 3\0" + bytes(100)))
