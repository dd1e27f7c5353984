"""An import that runs out of disk (a file size limit set in the child process, so its
writes fail with EFBIG) says so plainly, exits non-zero and leaves raw, meta, the marts and
every other table exactly as they were; the same file imports once there is room."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from empowered.imports import DISK_FULL, run_import
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS
from warehouse_state import changed, contents

IMPORT = "import sys; from empowered.cli import app; app(sys.argv[1:], prog_name='empowered')"


def observations(small_trust: Path, folder: Path, rows: int) -> Path:
    """A later export of observations the warehouse has not seen (new ids)."""
    folder.mkdir()
    lines = (small_trust / "observations.csv").read_text().splitlines()[: rows + 1]
    body = [lines[0]] + ["N" + line for line in lines[1:]]
    (folder / "observations.csv").write_text("\n".join(body) + "\n")
    return folder / "observations.csv"


def import_with_file_limit(
    warehouse: Path, file: Path, limit: int
) -> subprocess.CompletedProcess[str]:
    return run_with_file_limit(["import", str(file), "--warehouse", str(warehouse)], limit)


def run_with_file_limit(args: list[str], limit: int) -> subprocess.CompletedProcess[str]:
    """``empowered ARGS`` in a child process that may write no file past ``limit`` bytes."""

    def limited() -> None:
        # Writes past the limit fail (EFBIG) instead of the signal ending the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-c", IMPORT, *args],
        preexec_fn=limited,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "400"},
    )


@pytest.mark.parametrize(
    ("rows", "room"),
    [
        # The warehouse file cannot grow: the build's first large table fails to write.
        (3000, "file"),
        # No file may pass 20 kB: the write-ahead log of the commit fails.
        (20, "log"),
    ],
)
def test_a_full_disk_during_an_import_changes_nothing(
    built_warehouse: Path, small_trust: Path, tmp_path: Path, rows: int, room: str
) -> None:
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built_warehouse, warehouse)
    file = observations(small_trust, tmp_path / "export", rows)
    before = contents(warehouse)
    limit = warehouse.stat().st_size + 64 * 1024 if room == "file" else 20_000

    child = import_with_file_limit(warehouse, file, limit)

    output = " ".join(child.stdout.split())
    assert child.returncode == 1, output + child.stderr
    assert f"Import failed: {DISK_FULL}." in output
    assert "Traceback" not in child.stdout + child.stderr
    # Reopened: every table as it was (raw, meta, staging, core, marts, app); the file
    # reads whole, and what DuckDB left of its log is empty.
    wal = warehouse.with_name(warehouse.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert changed(before, contents(warehouse)) == []
    # With room again, the same file imports in full.
    con = open_warehouse(warehouse)
    try:
        outcome = run_import(con, [file], keys=TEST_KEYS)
        assert outcome.build is not None and outcome.build.ok
        [(landed,)] = con.execute(
            "SELECT count(*) FROM core.fct_observation WHERE observation_id LIKE 'NO%'"
        ).fetchall()
        assert landed == rows
    finally:
        con.close()


def test_a_full_disk_while_watching_an_inbox_keeps_the_file(
    built_warehouse: Path, small_trust: Path, tmp_path: Path
) -> None:
    """``empowered watch`` goes on after a full disk: the file is not lost (it is kept in
    failed/ beside its reason, to drop in again), nothing was saved, and no traceback."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(built_warehouse, warehouse)
    inbox = tmp_path / "inbox"
    file = observations(small_trust, inbox, 3000)
    exported = file.read_bytes()
    before = contents(warehouse)
    limit = warehouse.stat().st_size + 64 * 1024

    child = run_with_file_limit(
        ["watch", str(inbox), "--once", "--warehouse", str(warehouse)], limit
    )

    output = " ".join(child.stdout.split())
    assert child.returncode == 0, output + child.stderr
    assert "Traceback" not in child.stdout + child.stderr
    assert "observations.csv: not saved, kept as" in output and DISK_FULL in output
    assert not file.exists()
    [kept] = (inbox / "failed").glob("*-observations.csv")
    assert kept.read_bytes() == exported
    assert (kept.with_name(kept.name + ".txt")).read_text().strip() == DISK_FULL
    assert changed(before, contents(warehouse)) == []
