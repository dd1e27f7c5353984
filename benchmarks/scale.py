"""Benchmark: how a full build and a school day's increment grow with the trust's size.

For each size (pupils on roll; a school per 600 pupils, as the 12,000-pupil trust-sized
benchmark has 20) it generates a synthetic trust of one year into benchmarks/output/ once,
then, in a process of its own (so that each size's peak memory is its own):

1. imports everything before the trust's last school day into a fresh warehouse;
2. runs a full build (seconds, raw rows per second);
3. imports the last day's observations and then its register, each followed by the
   incremental build the app runs (seconds to updated marts).

It prints a table of seconds, rows per second and peak memory per size, and the fitted
growth of each measure (seconds = a x pupils^b: b close to 1 is linear), the load
average, and writes benchmarks/output/scale.json. docs/scale.md projects a local
authority's and a national study's costs from these figures.

    python benchmarks/scale.py [--sizes 1500,12000,50000,120000] [--seed 1]
        [--memory-limit 1400MB]
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent / "output"
# The benchmark warehouses are encrypted with the keys in this file (made on first run).
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))
PUPILS_PER_SCHOOL = 600
MEASURES = ("import_s", "build_s", "observations_day_s", "attendance_day_s")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def schools_for(pupils: int) -> int:
    return max(1, round(pupils / PUPILS_PER_SCHOOL))


def trust_folder(pupils: int, seed: int) -> Path:
    # The same folder name as benchmarks/build.py and incremental.py: a trust made by one
    # is used by the others.
    return OUTPUT / f"trust-{schools_for(pupils)}x{pupils}x1-seed{seed}"


def generate(pupils: int, seed: int) -> float:
    """Make the trust once; the seconds it took (0 when it was already there)."""
    from empowered.synth import generate_trust

    folder = trust_folder(pupils, seed)
    if (folder / "manifest.json").exists():
        return 0.0
    started = time.perf_counter()
    options: dict[str, Any] = {}
    if "workers" in inspect.signature(generate_trust).parameters:
        options["workers"] = os.cpu_count() or 1
    generate_trust(
        folder, schools=schools_for(pupils), pupils=pupils, years=1, seed=seed, **options
    )
    return time.perf_counter() - started


def measure_one(pupils: int, seed: int, memory_limit: str | None) -> dict[str, Any]:
    """Import, build and increment one size in this process."""
    from last_day import split_last_day

    from empowered.imports import run_import
    from empowered.settings import get_settings
    from empowered.sources.importer import import_files
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.connection import open_warehouse

    keys = get_settings().keys()
    work = OUTPUT / f"scale-{pupils}"
    base, days = work / "base", work / "days"
    split_last_day(trust_folder(pupils, seed), base, days)
    warehouse = work / "warehouse.duckdb"
    for leftover in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = open_warehouse(warehouse, memory_limit=memory_limit)
    figures: dict[str, Any] = {"pupils": pupils, "schools": schools_for(pupils)}
    started = time.perf_counter()
    # A large trust's register is gigabytes, past the app's upload limit for one file.
    import_files(
        con,
        [base],
        keys=keys,
        choose_reader=lambda path, source: None,
        source="canonical",
        max_bytes=64 * 2**30,
    )
    figures["import_s"] = time.perf_counter() - started
    [(raw_rows,)] = con.execute(
        "SELECT coalesce(sum(estimated_size), 0) FROM duckdb_tables() "
        "WHERE schema_name = 'raw' AND database_name = current_database()"
    ).fetchall()
    figures["raw_rows"] = int(raw_rows)
    started = time.perf_counter()
    result = build_duckdb(con)
    figures["build_s"] = time.perf_counter() - started
    figures["build_ok"] = result.ok
    figures["build_rows_per_s"] = raw_rows / figures["build_s"]
    for kind in ("observations", "attendance"):
        started = time.perf_counter()
        run_import(con, [days / kind / f"{kind}.csv"], keys=keys)
        figures[f"{kind}_day_s"] = time.perf_counter() - started
    figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["warehouse_mib"] = warehouse.stat().st_size / 2**20
    figures["load"] = load()
    con.close()
    shutil.rmtree(work, ignore_errors=True)
    return figures


def fitted_growth(sizes: list[float], values: list[float]) -> tuple[float, float] | None:
    """(a, b) of values = a x sizes^b, by least squares on the logarithms."""
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, values, strict=True) if v > 0]
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    b = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return math.exp(mean_y - b * mean_x), b


def report(rows: list[dict[str, Any]]) -> None:
    print(
        f"\n{'pupils':>8} {'schools':>7} {'raw rows':>11} {'import s':>9} {'build s':>8} "
        f"{'rows/s':>9} {'obs day s':>9} {'att day s':>9} {'peak MiB':>8} {'file MiB':>8}"
    )
    for r in rows:
        print(
            f"{r['pupils']:>8,} {r['schools']:>7} {r['raw_rows']:>11,} {r['import_s']:>9.1f} "
            f"{r['build_s']:>8.1f} {r['build_rows_per_s']:>9,.0f} "
            f"{r['observations_day_s']:>9.2f} {r['attendance_day_s']:>9.2f} "
            f"{r['peak_mib']:>8,.0f} {r['warehouse_mib']:>8,.0f}"
        )
    sizes = [float(r["pupils"]) for r in rows]
    print("\nfitted growth (seconds = a x pupils^b):")
    for measure in (*MEASURES, "peak_mib"):
        fit = fitted_growth(sizes, [float(r[measure]) for r in rows])
        if fit is not None:
            a, b = fit
            per_thousand = a * 1000**b
            print(f"  {measure:<20} b = {b:.2f}  ({per_thousand:.3g} at 1,000 pupils)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1500,12000,50000,120000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory-limit", default=None, help="DuckDB's (default: the app's)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child's one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.seed, args.memory_limit)))
        return
    rows: list[dict[str, Any]] = []
    for pupils in (int(s) for s in args.sizes.split(",")):
        made = generate(pupils, args.seed)
        print(f"{pupils:,} pupils: generated in {made:.0f}s (load {load()})", flush=True)
        command = [sys.executable, __file__, "--one", str(pupils), "--seed", str(args.seed)]
        if args.memory_limit:
            command += ["--memory-limit", args.memory_limit]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        figures["generate_s"] = made
        rows.append(figures)
        print(json.dumps(figures), flush=True)
    report(rows)
    (OUTPUT / "scale.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
