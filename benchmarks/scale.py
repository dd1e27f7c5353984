"""Benchmark: how a full build and a school day's increment grow with the trust's size.

For each size (pupils on roll; a school per 600 pupils, as the 12,000-pupil trust-sized
benchmark has 20) it generates a synthetic trust of one year into benchmarks/output/ once,
then, in a process of its own (so that each size's peak memory is its own):

1. imports everything before the trust's last school day into a fresh warehouse;
2. runs a full build (seconds, raw rows per second);
3. imports the last day's observations and then its register, each followed by the
   incremental build the app runs (seconds to updated marts).

With ``--spark-sizes`` (default 1,500 and 12,000) the same trust is also built on local
Spark (2 cores) into a lake, as a lake-served app would have it built: the sources
published, a full Spark build, then each day's import (landed and published by the app)
followed by Spark's rebuild of what it changed.

It prints a table of seconds, rows per second and peak memory per size and engine (for
Spark, the Python process's and the JVM's), and the fitted growth of each measure
(seconds = a x pupils^b: b close to 1 is linear), the load average, and writes
benchmarks/output/scale.json. docs/scale.md projects a local
authority's and a national study's costs from these figures.

    python benchmarks/scale.py [--sizes 1500,12000,50000,120000] [--seed 1]
        [--memory-limit 1400MB] [--spark-sizes 1500,12000] [--spark-memory 8g]
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


def import_base(con: Any, base: Path) -> float:
    """Land everything before the trust's last day (no build); the seconds it took."""
    from empowered.settings import get_settings
    from empowered.sources.importer import import_files

    started = time.perf_counter()
    # A large trust's register is gigabytes, past the app's upload limit for one file.
    import_files(
        con,
        [base],
        keys=get_settings().keys(),
        choose_reader=lambda path, source: None,
        source="canonical",
        max_bytes=64 * 2**30,
    )
    return time.perf_counter() - started


def measure_one(pupils: int, seed: int, memory_limit: str | None) -> dict[str, Any]:
    """Import, build and increment one size in this process."""
    from last_day import split_last_day

    from empowered.imports import run_import
    from empowered.settings import get_settings
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
    figures["import_s"] = import_base(con, base)
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


def measure_spark(pupils: int, seed: int, memory: str) -> dict[str, Any]:
    """Publish, build on local Spark and increment one size in this process."""
    from last_day import split_last_day

    from empowered.imports import run_import
    from empowered.settings import get_settings
    from empowered.warehouse.build import prepare
    from empowered.warehouse.connection import open_warehouse
    from empowered.warehouse.lake import Lake
    from empowered.warehouse.lake_attach import attach
    from empowered.warehouse.lake_publish import publish
    from empowered.warehouse.spark import build_spark, spark_session

    keys = get_settings().keys()
    work = OUTPUT / f"scale-spark-{pupils}"
    shutil.rmtree(work, ignore_errors=True)
    base, days = work / "base", work / "days"
    split_last_day(trust_folder(pupils, seed), base, days)
    con = open_warehouse(work / "warehouse.duckdb")
    figures: dict[str, Any] = {"pupils": pupils, "schools": schools_for(pupils), "engine": "spark"}
    figures["import_s"] = import_base(con, base)
    lake = Lake(work / "lake")
    started = time.perf_counter()
    prepare(con)
    snapshot = publish(con, lake)
    figures["publish_s"] = time.perf_counter() - started
    figures["raw_rows"] = sum(e.rows for n, e in snapshot.tables.items() if n.startswith("raw."))
    attach(con, lake)  # served from the lake: each import lands there, not in DuckDB's tables
    spark = spark_session("local[2]", work, memory=memory)
    jvm = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    started = time.perf_counter()
    result = build_spark(spark, lake)
    figures["build_s"] = time.perf_counter() - started
    figures["build_ok"] = result.ok
    figures["build_rows_per_s"] = figures["raw_rows"] / figures["build_s"]
    for kind in ("observations", "attendance"):
        started = time.perf_counter()
        run_import(con, [days / kind / f"{kind}.csv"], keys=keys)
        day = build_spark(spark, lake)
        figures[f"{kind}_day_s"] = time.perf_counter() - started
        figures[f"{kind}_day_models"] = len(day.results)
        # Of those, how many rebuilt only the batches, pupils or days the import touched.
        figures[f"{kind}_day_partial"] = sum(
            r.message.startswith("incremental") for r in day.results
        )
        figures["build_ok"] = figures["build_ok"] and day.ok
    figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["jvm_peak_mib"] = _peak_mib(jvm)
    figures["lake_mib"] = sum(f.stat().st_size for f in lake.root.rglob("*") if f.is_file()) / 2**20
    figures["warehouse_mib"] = figures["lake_mib"]
    figures["load"] = load()
    spark.stop()
    con.close()
    shutil.rmtree(work, ignore_errors=True)
    return figures


def _peak_mib(pid: int) -> float:
    """A process's peak resident memory (VmHWM), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


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
    if not rows:
        return
    spark = rows[0].get("engine") == "spark"
    print(
        f"\n{'engine':>6} {'pupils':>8} {'schools':>7} {'raw rows':>11} {'import s':>9} "
        f"{'build s':>8} {'rows/s':>9} {'obs day s':>9} {'att day s':>9} {'peak MiB':>8} "
        f"{'file MiB':>8}" + (f" {'JVM MiB':>8}" if spark else "")
    )
    for r in rows:
        print(
            f"{r.get('engine', 'duckdb'):>6} {r['pupils']:>8,} {r['schools']:>7} "
            f"{r['raw_rows']:>11,} {r['import_s']:>9.1f} "
            f"{r['build_s']:>8.1f} {r['build_rows_per_s']:>9,.0f} "
            f"{r['observations_day_s']:>9.2f} {r['attendance_day_s']:>9.2f} "
            f"{r['peak_mib']:>8,.0f} {r['warehouse_mib']:>8,.0f}"
            + (f" {r['jvm_peak_mib']:>8,.0f}" if spark else "")
        )
    if spark:
        print("\nmodels rebuilt by a day (of them, rebuilt in part):")
        for r in rows:
            print(
                f"  {r['pupils']:>8,} pupils: observations {r['observations_day_models']} "
                f"({r.get('observations_day_partial', 0)}), attendance "
                f"{r['attendance_day_models']} ({r.get('attendance_day_partial', 0)})"
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
    parser.add_argument("--spark-sizes", default="1500,12000", help="'' for none")
    parser.add_argument("--spark-memory", default="8g", help="local Spark's driver heap")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child's one size
    parser.add_argument("--spark", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.spark:
            print(json.dumps(measure_spark(args.one, args.seed, args.spark_memory)))
        else:
            print(json.dumps(measure_one(args.one, args.seed, args.memory_limit)))
        return
    runs = {"duckdb": _sizes(args.sizes), "spark": _sizes(args.spark_sizes)}
    done: dict[str, list[dict[str, Any]]] = {"duckdb": [], "spark": []}
    for engine, sizes in runs.items():
        for pupils in sizes:
            made = generate(pupils, args.seed)
            print(f"{pupils:,} pupils: generated in {made:.0f}s (load {load()})", flush=True)
            command = [sys.executable, __file__, "--one", str(pupils), "--seed", str(args.seed)]
            if args.memory_limit:
                command += ["--memory-limit", args.memory_limit]
            if engine == "spark":
                command += ["--spark", "--spark-memory", args.spark_memory]
            ran = subprocess.run(command, check=True, capture_output=True, text=True)
            figures = json.loads(ran.stdout.strip().splitlines()[-1])
            figures["generate_s"] = made
            done[engine].append(figures)
            print(json.dumps(figures), flush=True)
    for rows in done.values():
        report(rows)
    (OUTPUT / "scale.json").write_text(json.dumps(done, indent=2) + "\n", encoding="utf-8")


def _sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


if __name__ == "__main__":
    main()
