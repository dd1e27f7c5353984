"""``empowered backup --to``, ``empowered backup verify`` and their refusals, end to end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from backup_cli import key_file, run
from backup_fixtures import flip_byte

from empowered.backup import list_backups
from empowered.keys import read_key_file


@pytest.fixture(scope="module")
def school(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the small trust and its own key file (which has no backup key yet)."""
    folder = tmp_path_factory.mktemp("cli-school")
    path = folder / "school.duckdb"
    shutil.copy(built_warehouse, path)
    return path, key_file(folder / "school.keys")


@pytest.fixture(scope="module")
def backed_up(school: tuple[Path, Path]) -> Path:
    path, keys = school
    folder = path.parent / "backups"
    result = run(["backup", "--warehouse", str(path), "--to", str(folder)], keys)
    assert result.exit_code == 0, result.output
    [info] = list_backups(folder)
    assert f"Backup written: {info.path}" in result.output
    assert f"{sum(info.row_counts.values()):,} rows" in result.output
    assert "Keep the key file" in result.output
    return info.path


def test_the_first_backup_adds_a_backup_key_to_the_key_file(
    school: tuple[Path, Path], backed_up: Path
) -> None:
    _, keys = school
    assert "backup_key" in read_key_file(keys)
    assert keys.stat().st_mode & 0o777 == 0o600


def test_backup_verify_restores_aside_and_keeps_nothing(
    school: tuple[Path, Path], backed_up: Path
) -> None:
    path, keys = school
    result = run(["backup", "verify", str(backed_up), "--warehouse", str(path)], keys)
    assert result.exit_code == 0, result.output
    assert "Backup verified" in result.output


def test_backup_verify_of_a_damaged_backup_fails(
    school: tuple[Path, Path], backed_up: Path, tmp_path: Path
) -> None:
    path, keys = school
    damaged = tmp_path / backed_up.name
    shutil.copy(backed_up, damaged)
    shutil.copy(backed_up.with_name(backed_up.name + ".json"), tmp_path)
    flip_byte(damaged, 5000)
    result = run(["backup", "verify", str(damaged), "--warehouse", str(path)], keys)
    assert result.exit_code == 1
    assert "Backup NOT verified" in result.output and "checksum does not match" in result.output


def test_restore_without_the_key_file_says_where_to_put_it(backed_up: Path, tmp_path: Path) -> None:
    target = tmp_path / "new.duckdb"
    result = run(["restore", str(backed_up), "--warehouse", str(target)], tmp_path / "none.keys")
    assert result.exit_code == 1
    assert "there is no key file at" in result.output
    assert list(tmp_path.iterdir()) == []  # no key file made either


def test_restore_with_a_key_file_that_has_no_backup_key_is_refused(
    backed_up: Path, tmp_path: Path
) -> None:
    result = run(
        ["restore", str(backed_up), "--warehouse", str(tmp_path / "new.duckdb")],
        key_file(tmp_path / "fresh.keys"),
    )
    assert result.exit_code == 1 and "holds no backup key" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["fresh.keys"]


def test_backup_needs_a_folder(school: tuple[Path, Path]) -> None:
    path, keys = school
    result = run(["backup", "--warehouse", str(path)], keys)
    assert result.exit_code == 2 and "--to FOLDER" in result.output


_HOLD = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
    " print('held', flush=True); time.sleep(60)"
)


def test_backup_of_a_warehouse_the_server_holds_says_what_to_do(
    school: tuple[Path, Path], tmp_path: Path
) -> None:
    path, keys = school
    held = tmp_path / "held.duckdb"
    shutil.copy(path, held)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(held)], stdout=subprocess.PIPE, text=True, env=os.environ
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = run(["backup", "--warehouse", str(held), "--to", str(tmp_path / "b")], keys)
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    assert "the server takes backups itself" in result.output
    assert not (tmp_path / "b").exists()
