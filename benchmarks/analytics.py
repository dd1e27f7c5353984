"""Benchmark: the analytics over a trust-sized warehouse.

Run benchmarks/build.py first (it leaves benchmarks/output/benchmark.duckdb); this opens
that warehouse read-only and times each analytics entry point over the whole trust,
printing seconds, how many results it returned and the process's peak memory.

    python benchmarks/analytics.py [--warehouse benchmarks/output/benchmark.duckdb]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from empowered.analytics.early_signs import load_alerts
from empowered.analytics.impact import load_impacts
from empowered.analytics.register import (
    attendance_without_plan,
    compare_with_national,
    provision_against_need,
    training_against_need,
)
from empowered.analytics.situations import load_harder_situations
from empowered.analytics.strategies import load_strategy_effects
from empowered.analytics.triggers import review_queue

OUTPUT = Path(__file__).resolve().parent / "output"


def timed(name: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    size = len(result) if isinstance(result, list) else 1
    print(f"{name:38s} {seconds:7.2f} s  {size:>8,} results")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warehouse", type=Path, default=OUTPUT / "benchmark.duckdb")
    args = parser.parse_args()
    con = duckdb.connect(str(args.warehouse), read_only=True)
    pupils = con.execute("select count(*) from core.dim_pupil").fetchone()
    print(f"warehouse {args.warehouse} ({pupils[0] if pupils else 0:,} pupils)")
    started = time.perf_counter()
    timed("what helps (every child and strategy)", lambda: load_strategy_effects(con))
    timed("harder situations", lambda: load_harder_situations(con))
    alerts = timed("early-sign alerts", lambda: load_alerts(con))
    timed("review queue", lambda: review_queue(con, alerts=alerts))
    timed("provision impact", lambda: load_impacts(con))
    timed("register: against national figures", lambda: compare_with_national(con))
    timed("register: provision against need", lambda: provision_against_need(con))
    timed("register: training against need", lambda: training_against_need(con))
    timed("register: attendance without a plan", lambda: attendance_without_plan(con))
    print(
        f"total {time.perf_counter() - started:.1f} s; peak memory "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
