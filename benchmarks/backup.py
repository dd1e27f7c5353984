"""Benchmark: a backup of the trust-sized warehouse, its restore, and the restore drill.

Uses the trust-sized warehouse benchmarks/web.py keeps built in benchmarks/output/ (20
schools, 12,000 pupils, one year; made on first run), copies it, and times:

1. ``take_backup`` (the snapshot of raw, app and meta, Parquet, tar, encryption), with
   the backup's size against the warehouse file's;
2. ``restore_backup`` into a new file (decrypt, load, rebuild staging, core and marts from
   raw, compare counts): the recovery time;
3. ``verify_backup`` (the restore drill: the same, into a temporary folder).

Each step runs in a child process of its own so its peak memory is its own. Prints
seconds, rows a second, sizes, peak memory and the load average before and after.

    python benchmarks/backup.py [--schools 20] [--pupils 12000] [--seed 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from web import OUTPUT, built_warehouse  # benchmarks/web.py: the trust-sized warehouse


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _backup(warehouse: Path, folder: Path, out: Any) -> None:
    from empowered.backup import take_backup
    from empowered.backup.keys import backup_key
    from empowered.settings import Settings
    from empowered.warehouse.connection import open_warehouse

    settings = Settings(warehouse=warehouse)
    con = open_warehouse(warehouse)
    started = time.perf_counter()
    info = take_backup(con, folder, settings.keys(), backup_key(settings, create=True))
    seconds = time.perf_counter() - started
    con.close()
    out.put(
        {
            "path": str(info.path),
            "seconds": seconds,
            "bytes": info.size_bytes,
            "rows": sum(info.row_counts.values()),
            "tables": len(info.row_counts),
            "peak_mib": _peak_mib(),
        }
    )


def _restore(backup: Path, warehouse: Path, target: Path, out: Any) -> None:
    from empowered.backup import restore_backup
    from empowered.backup.keys import backup_key
    from empowered.settings import Settings

    settings = Settings(warehouse=warehouse)
    started = time.perf_counter()
    report = restore_backup(backup, target, settings.keys(), backup_key(settings))
    out.put(
        {
            "seconds": time.perf_counter() - started,
            "build_seconds": report.build_seconds,
            "peak_mib": _peak_mib(),
        }
    )


def _verify(backup: Path, warehouse: Path, out: Any) -> None:
    from empowered.backup import verify_backup
    from empowered.backup.keys import backup_key
    from empowered.settings import Settings

    settings = Settings(warehouse=warehouse)
    started = time.perf_counter()
    report = verify_backup(backup, settings.keys(), backup_key(settings))
    out.put(
        {
            "seconds": time.perf_counter() - started,
            "peak_mib": _peak_mib(),
            "same": report.ok,
        }
    )


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    queue: Any = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(target=target, args=(*args, queue))
    child.start()
    result: dict[str, Any] = queue.get()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"{target.__name__} failed (exit {child.exitcode})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    base = built_warehouse(args.schools, args.pupils, 1, args.seed)
    work = Path(tempfile.mkdtemp(prefix="backup-bench-", dir=OUTPUT))
    try:
        warehouse = work / "warehouse.duckdb"
        shutil.copy(base, warehouse)
        size = warehouse.stat().st_size
        print(f"warehouse: {args.schools} schools, {args.pupils:,} pupils, {size / 2**20:,.0f} MiB")
        print(f"load average before: {_load()}")

        taken = _in_child(_backup, warehouse, work / "backups")
        print(
            f"backup:  {taken['seconds']:6.1f} s  {taken['rows']:,} rows in {taken['tables']} "
            f"tables ({taken['rows'] / taken['seconds']:,.0f} rows/s), "
            f"{taken['bytes'] / 2**20:,.1f} MiB ({taken['bytes'] / size:.0%} of the warehouse "
            f"file), peak {taken['peak_mib']:,.0f} MiB"
        )
        restored = _in_child(_restore, Path(taken["path"]), warehouse, work / "restored.duckdb")
        print(
            f"restore: {restored['seconds']:6.1f} s  (load, rebuild from raw in "
            f"{restored['build_seconds']:.1f} s, compare), "
            f"peak {restored['peak_mib']:,.0f} MiB"
        )
        verified = _in_child(_verify, Path(taken["path"]), warehouse)
        print(
            f"verify:  {verified['seconds']:6.1f} s  counts the same: {verified['same']}, "
            f"peak {verified['peak_mib']:,.0f} MiB"
        )
        print(f"load average after: {_load()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
