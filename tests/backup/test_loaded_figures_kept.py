"""Figures a user loaded from the DfE's files survive a backup and restore (issue 15, item
5): they live in ``meta``, which a backup holds, not in ``reference``, which the restore's
build writes again from the package."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from backup_cli import key_file, run
from backup_fixtures import BACKUP_KEY

from empowered.backup import take_backup
from empowered.keys import encode_identity_key
from empowered.reference.loaded_figures import (
    AUTHORITIES_TABLE,
    FIGURES_TABLE,
    load_national_figures,
)
from identity_keys import TEST_KEYS

SEN = Path(__file__).parents[1] / "reference" / "dfe_files" / "sen_phase_type.csv"


def test_loaded_figures_come_back_after_a_restore(built_warehouse: Path, tmp_path: Path) -> None:
    school = tmp_path / "school.duckdb"
    shutil.copy(built_warehouse, school)
    with duckdb.connect(str(school)) as con:
        load_national_figures(con, [SEN], keep={"regional": None, "la": None})
        before = con.execute(f"select * from {FIGURES_TABLE} order by all").fetchall()
        authorities = con.execute(f"select * from {AUTHORITIES_TABLE} order by all").fetchall()
        backup = take_backup(con, tmp_path / "backups", TEST_KEYS, BACKUP_KEY)
    assert len(before) == 24 and len(authorities) == 2
    keys = key_file(tmp_path / "kept.keys", backup_key=encode_identity_key(BACKUP_KEY))
    target = tmp_path / "restored.duckdb"
    result = run(["restore", str(backup.path), "--warehouse", str(target)], keys)
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute(f"select * from {FIGURES_TABLE} order by all").fetchall() == before
        assert con.execute(f"select * from {AUTHORITIES_TABLE} order by all").fetchall() == (
            authorities
        )
