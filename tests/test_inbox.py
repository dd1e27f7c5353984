"""The inbox: files dropped in a folder are imported on their own and moved aside."""

from __future__ import annotations

import shutil
from pathlib import Path

from empowered.imports import process_inbox
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS


def test_dropped_files_are_imported_then_moved_with_their_report(
    small_trust: Path, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("schools.csv", "pupils.csv"):
        shutil.copy(small_trust / name, inbox / name)
    (inbox / "pupils.csv").touch()
    (inbox / "holiday-photo.jpg").write_bytes(b"\xff\xd8\xff")
    con = open_warehouse(tmp_path / "w.duckdb")
    done = process_inbox(con, inbox, keys=TEST_KEYS, quiet_seconds=0)
    by_file = {d.file: d for d in done}
    assert by_file["schools.csv"].error is None
    assert by_file["pupils.csv"].outcome is not None
    assert by_file["pupils.csv"].outcome.result.rows_landed > 0
    assert (inbox / "imported").is_dir() and not (inbox / "pupils.csv").exists()
    # Only the reports stay: no copy of a file once its report is written.
    kept = sorted(p.name for p in inbox.rglob("*") if p.is_file())
    assert kept and all(n.startswith("import-") for n in kept), kept
    # A file no format recognises is not an error: it is left out and moved aside.
    assert by_file["holiday-photo.jpg"].outcome is not None
    assert by_file["holiday-photo.jpg"].outcome.result.unrecognised_files == ["holiday-photo.jpg"]
    assert con.execute("SELECT count(*) FROM core.dim_pupil").fetchone() != (0,)


def test_a_file_being_copied_in_waits_for_the_next_pass(small_trust: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(small_trust / "schools.csv", inbox / "schools.csv")
    (inbox / "schools.csv").touch()
    con = open_warehouse(":memory:")
    assert process_inbox(con, inbox, keys=TEST_KEYS, quiet_seconds=60) == []
    assert (inbox / "schools.csv").exists()
