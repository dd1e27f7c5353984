"""Benchmark: a backup of a built warehouse and its restore (with the full rebuild).

Takes a built warehouse (by default the trust-sized one ``benchmarks/build.py`` leaves in
benchmarks/output/benchmark.duckdb, read with that run's key file), times ``take_backup``
into benchmarks/output/backups/ and ``restore_backup`` of it into a new file, and prints
the backup's size, rows, seconds for each step and the process's peak memory.

    python benchmarks/build.py            # once, to make the trust-sized warehouse
    python benchmarks/backup.py [WAREHOUSE]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
from pathlib import Path

import duckdb

from empowered.backup import restore_backup, take_backup
from empowered.backup.keys import backup_key
from empowered.settings import get_settings

OUTPUT = Path(__file__).resolve().parent / "output"
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path, nargs="?", default=OUTPUT / "benchmark.duckdb")
    args = parser.parse_args()
    settings = get_settings()
    keys, key = settings.keys(), backup_key(settings, create=True)
    folder = OUTPUT / "backups"
    shutil.rmtree(folder, ignore_errors=True)
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"warehouse: {args.warehouse.stat().st_size / 1e6:,.0f} MB")

    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        info = take_backup(con, folder, keys, key)
    rows = sum(info.row_counts.values())
    print(
        f"backup: {info.size_bytes / 1e6:,.1f} MB, {len(info.row_counts)} tables,"
        f" {rows:,} rows in {info.seconds:.1f}s ({rows / info.seconds:,.0f} rows/s)"
    )

    target = OUTPUT / "restored.duckdb"
    for leftover in (target, target.with_name(target.name + ".wal")):
        leftover.unlink(missing_ok=True)
    report = restore_backup(info.path, target, keys, key)
    print(
        f"restore: {report.seconds:.1f}s in all, of which the rebuild of staging, core and"
        f" marts {report.build_seconds:.1f}s; {target.stat().st_size / 1e6:,.0f} MB"
    )
    # ru_maxrss is in KiB on Linux; DuckDB runs in process, so this includes it.
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
