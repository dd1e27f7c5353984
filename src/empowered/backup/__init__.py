"""Backups of the warehouse, and restoring them: ``take_backup``, ``restore_backup``,
``verify_backup`` and ``list_backups`` (the CLI and the server's schedule call these)."""

from empowered.backup.errors import BackupProblem
from empowered.backup.files import BackupInfo, list_backups
from empowered.backup.restore import RestoreReport, VerifyReport, restore_backup, verify_backup
from empowered.backup.take import take_backup

__all__ = [
    "BackupInfo",
    "BackupProblem",
    "RestoreReport",
    "VerifyReport",
    "list_backups",
    "restore_backup",
    "take_backup",
    "verify_backup",
]
