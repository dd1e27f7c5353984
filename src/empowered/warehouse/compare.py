"""Comparing the built tables of two warehouses: how incremental builds are held to the full.

Floating-point results are compared to 9 decimal places: a sum or a standard deviation
over the same values in another order (threads, or rows appended later) may differ in its
last bits, which is not a different answer.
"""

from __future__ import annotations

import duckdb

BUILT_SCHEMAS = ("staging", "core", "marts", "quarantine")
DECIMALS = 9


def _select_list(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()
    return ", ".join(
        f'round("{name}", {DECIMALS})' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
        for name, kind in rows
    )


def differing_tables(con: duckdb.DuckDBPyConnection, other: str) -> list[str]:
    """Built tables whose rows differ between this warehouse and the attached ``other``
    (a catalog name), each with how many rows are extra and missing here."""
    found = []
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
        "current_database() AND schema_name IN ? ORDER BY 1, 2",
        [list(BUILT_SCHEMAS)],
    ).fetchall()
    for schema, table in tables:
        columns = _select_list(con, schema, table)
        here = f"SELECT {columns} FROM {schema}.{table}"
        there = f"SELECT {columns} FROM {other}.{schema}.{table}"
        [(extra, missing)] = con.execute(
            f"SELECT (SELECT count(*) FROM ({here} EXCEPT ALL {there})), "
            f"(SELECT count(*) FROM ({there} EXCEPT ALL {here}))"
        ).fetchall()
        if extra or missing:
            found.append(f"{schema}.{table}: {extra} rows not in the other, {missing} missing")
    return found
