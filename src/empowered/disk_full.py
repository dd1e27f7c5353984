"""Telling a full disk (or a file size limit reached) apart from other failures.

DuckDB reports a write it could not make with the system's reason in its text: an
``IOException`` from a statement writing the file, a ``TransactionException`` ("Failed to
commit: Could not write file ...wal: File too large") from a COMMIT whose write-ahead log
could not be written (nothing of it is kept: the log is cut back), a ``FatalException`` when
the database had to be closed. Python's own writes raise ``OSError`` with the error number.
"""

from __future__ import annotations

import errno

import duckdb

FULL_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
# The system's words for those errors, as DuckDB quotes them.
FULL_WORDS = ("no space left", "file too large", "disk quota exceeded")


def is_disk_full(err: BaseException) -> bool:
    if isinstance(err, OSError):
        return err.errno in FULL_ERRNOS
    if isinstance(err, duckdb.Error):
        return any(words in str(err).lower() for words in FULL_WORDS)
    return False


def mentions_disk_full(message: str) -> bool:
    """A model's error as the build recorded it (its exception's type and text)."""
    return any(words in message.lower() for words in FULL_WORDS)
