"""The synthetic trust split at its last school day, for the benchmarks that import a day
into a warehouse built from everything before it (incremental.py, scale.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

DAILY = {"observations.csv": "observed_on", "attendance.csv": "date"}


def split_last_day(data: Path, base: Path, days: Path) -> str:
    """Put the trust ``data`` in ``base`` without its last school day, and that day's
    observations and register in ``days`` (a folder each); returns the day. Files of other
    kinds are linked, not copied, and the two daily files split by DuckDB: a large trust's
    register is tens of millions of rows and gigabytes."""
    for folder in (base, days):
        shutil.rmtree(folder, ignore_errors=True)
    base.mkdir(parents=True)
    for path in data.iterdir():
        if path.name not in DAILY:
            os.link(path, base / path.name)
    con = duckdb.connect()
    attendance = str(data / "attendance.csv")
    [(last,)] = con.execute(
        "SELECT max(date) FROM read_csv(?, all_varchar = true, header = true)", [attendance]
    ).fetchall()
    for name, column in DAILY.items():
        (days / name.removesuffix(".csv")).mkdir(parents=True)
        source = f"read_csv('{data / name}', all_varchar = true, header = true)"
        for target, test in (
            (base / name, "<>"),
            (days / name.removesuffix(".csv") / name, "="),
        ):
            con.execute(
                f"COPY (SELECT * FROM {source} WHERE {column} {test} ?) "
                f"TO '{target}' (HEADER, DELIMITER ',')",
                [last],
            )
    con.close()
    return str(last)
