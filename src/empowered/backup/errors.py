"""The one error type of backups and restores: its message is what the person is told."""

from __future__ import annotations


class BackupProblem(Exception):
    """A backup that cannot be taken, read or restored; the message says what happened,
    what was kept and what to do, in plain English."""


def damaged(why: str) -> BackupProblem:
    return BackupProblem(
        f"the backup file is damaged: {why}. Nothing was restored from it; use another backup."
    )
