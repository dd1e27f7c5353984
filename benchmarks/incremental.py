"""Benchmark: how long one school day of new data takes to reach the marts.

Splits the trust-sized synthetic trust (20 schools, 12,000 pupils, one year) into
everything before its last school day and that day. Imports and fully builds the first
part, then lands, one after another, as a school sends them: the day's observations, the
day's attendance register, and a burst of staff check-ins (captures); each followed by the
incremental build the app runs. Prints seconds to updated marts for each, the slowest
models and what each did, the process's peak memory and the load average. Finally checks
that the incremental warehouse equals a full build of the same raw rows.

    python benchmarks/incremental.py [--schools 20] [--pupils 12000] [--captures 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from datetime import datetime
from pathlib import Path

import duckdb
from last_day import split_last_day

from empowered.settings import get_settings
from empowered.sources.capture import KINDS, check_form, land_prepared, prepare_capture
from empowered.sources.importer import import_canonical_folder
from empowered.sources.landing import ensure_raw_tables
from empowered.synth import generate_trust
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.compare import differing_tables
from empowered.warehouse.connection import open_warehouse
from empowered.warehouse.runner import BuildResult

OUTPUT = Path(__file__).resolve().parent / "output"
# The benchmark warehouses are encrypted with the keys in this file (made on first run).
os.environ.setdefault("EMPOWERED_KEY_FILE", str(OUTPUT / "benchmark.keys"))


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(label: str, seconds: float, result: BuildResult | None) -> None:
    print(f"\n{label}: {seconds:.2f}s to updated marts (load {load()})")
    if result is None:
        return
    ran = sorted(result.results, key=lambda r: -r.seconds)
    print(f"  build {sum(r.seconds for r in ran):.2f}s over {len(ran)} models; slowest:")
    for r in ran[:8]:
        how = r.message.splitlines()[0] if r.message else ""
        print(f"    {r.model.name:<42} {r.seconds:6.2f}s  {how}")


def land_captures(con: duckdb.DuckDBPyConnection, day: str, count: int) -> set[str]:
    """Land ``count`` check-ins for pupils seen that day, as the app does."""
    pupils = con.execute(
        "SELECT DISTINCT school_urn, upn FROM read_csv(?, all_varchar = true) LIMIT ?",
        [str(OUTPUT / "_days" / "attendance" / "attendance.csv"), count],
    ).fetchall()
    ensure_raw_tables(con)
    touched: set[str] = set()
    keys = get_settings().keys()
    now = datetime.fromisoformat(f"{day}T14:05:00")
    for i in range(count):
        school, upn = pupils[i % len(pupils)]
        checked = check_form(
            KINDS["check_in"],
            {"mood": "3", "engagement": "4", "regulation": "3", "time": "14:05", "day": day},
            strategies=(),
            now=now,
        )
        prepared = prepare_capture(
            KINDS["check_in"],
            checked,
            school_urn=school,
            upn=upn,
            staff="app-user-1",
            keys=keys,
            now=now,
        )
        saved = land_prepared(con, prepared)
        touched |= set(saved.touched)
    return touched


def compare_with_full(con: duckdb.DuckDBPyConnection, warehouse: Path) -> list[str]:
    """Tables whose rows differ between this warehouse and a full build of its raw rows."""
    con.execute("CHECKPOINT")
    reference = warehouse.with_name("incremental-reference.duckdb")
    shutil.copy(warehouse, reference)
    ref = open_warehouse(reference)
    build_duckdb(ref)
    ref.close()
    con.execute(f"ATTACH '{reference}' AS ref (READ_ONLY)")
    differ = differing_tables(con, "ref")
    con.execute("DETACH ref")
    reference.unlink()
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=12_000)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--captures", type=int, default=200)
    args = parser.parse_args()

    data = OUTPUT / f"trust-{args.schools}x{args.pupils}x{args.years}-seed{args.seed}"
    if not (data / "manifest.json").exists():
        generate_trust(
            data, schools=args.schools, pupils=args.pupils, years=args.years, seed=args.seed
        )
    base, days = OUTPUT / "_base", OUTPUT / "_days"
    day = split_last_day(data, base, days)
    warehouse = OUTPUT / "incremental.duckdb"
    warehouse.unlink(missing_ok=True)
    con = open_warehouse(warehouse)
    keys = get_settings().keys()
    started = time.perf_counter()
    import_canonical_folder(con, base, keys=keys)
    build_duckdb(con)
    print(
        f"the trust up to the day before {day}: imported and built in "
        f"{time.perf_counter() - started:.1f}s (load {load()})"
    )

    from empowered.imports import run_import

    for kind in ("observations", "attendance"):
        started = time.perf_counter()
        outcome = run_import(con, [days / kind / f"{kind}.csv"], keys=keys)
        report(
            f"one school day of {kind} ({outcome.result.rows_landed:,} rows)",
            time.perf_counter() - started,
            outcome.build,
        )

    started = time.perf_counter()
    touched = land_captures(con, day, args.captures)
    landed = time.perf_counter() - started
    result = build_duckdb(con, touched=touched)
    report(
        f"{args.captures} check-ins (landed in {landed:.2f}s), then one rebuild",
        time.perf_counter() - started,
        result,
    )

    print(f"\npeak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    differ = compare_with_full(con, warehouse)
    print("incremental equals a full build: " + ("yes" if not differ else f"NO: {differ}"))


if __name__ == "__main__":
    main()
