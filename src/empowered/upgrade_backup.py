"""The backup taken before a warehouse made by an older release is upgraded.

Into ``EMPOWERED_BACKUP_DIR`` when it is set, else a folder beside the warehouse
(``<warehouse>.backups``): the upgrade is refused, and the file left as it was, if the
backup cannot be made.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from empowered.settings import Settings
from empowered.warehouse.upgrade import BackupHook


def backup_folder(settings: Settings, warehouse: Path) -> Path:
    return settings.backup_dir or warehouse.with_name(warehouse.name + ".backups")


def backup_before_upgrade(settings: Settings, warehouse: Path) -> BackupHook:
    """Back up ``warehouse`` (open at its old version) with the settings' keys."""

    def take(con: duckdb.DuckDBPyConnection) -> Path:
        from empowered.backup import take_backup
        from empowered.backup.keys import backup_key

        key = backup_key(settings, create=True)
        return take_backup(con, backup_folder(settings, warehouse), settings.keys(), key).path

    return take
