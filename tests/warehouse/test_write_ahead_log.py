"""The write-ahead log is folded into the file at a quiet moment, not inside a commit.

DuckDB folds its log (a checkpoint) at the commit that takes it past a size; at its
default of 16 MB a school day's attendance import paid for one inside its commit.
"""

from __future__ import annotations

from pathlib import Path

from empowered.warehouse.connection import open_warehouse

ROWS = 1_500_000  # about 25 MB of log: past DuckDB's default limit, short of ours


def wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + ".wal")
    return wal.stat().st_size if wal.exists() else 0


def write_a_days_worth(path: Path) -> None:
    """One commit writing as much log as a school day's attendance import."""
    con = open_warehouse(path)
    con.execute(
        f"CREATE TABLE raw.big AS SELECT range AS id, md5(range::VARCHAR) AS v FROM range({ROWS})"
    )
    con.execute("CHECKPOINT")
    # Rows rewritten (as a partial rebuild's deletes and inserts do) are logged; a new
    # table's rows went straight to the file.
    con.execute("UPDATE raw.big SET v = upper(v)")
    assert wal_bytes(path) > 16 * 1024 * 1024, "the commit's log is kept: no fold inside it"
    con.close()


def test_a_commit_past_duckdbs_default_log_size_does_not_fold_the_log(tmp_path: Path) -> None:
    write_a_days_worth(tmp_path / "w.duckdb")


def test_closing_the_file_folds_the_log(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    write_a_days_worth(path)
    assert wal_bytes(path) == 0
    con = open_warehouse(path)
    [(count,)] = con.execute("SELECT count(*) FROM raw.big").fetchall()
    assert count == ROWS
    con.close()
