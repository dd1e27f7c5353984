"""Comparing the built tables of two warehouses: how incremental builds are held to the full.

Floating-point results are compared to 9 decimal places: a sum or a standard deviation
over the same values in another order (threads, or rows appended later) may differ in its
last bits, which is not a different answer.

The column lists are read from the catalog in one query: a catalog query per table cost
about a quarter of the comparison on a small warehouse. Each table is compared in a query
of its own (one query for every table holds every table's hash tables at once, and runs
out of memory).
"""

from __future__ import annotations

import duckdb

BUILT_SCHEMAS = ("staging", "core", "marts", "quarantine")
DECIMALS = 9


def _select_lists(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """Each built table's select list (doubles rounded), by (schema, table)."""
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, name, kind in con.execute(
        "SELECT c.schema_name, c.table_name, c.column_name, c.data_type "
        "FROM duckdb_columns() AS c JOIN duckdb_tables() AS t USING (database_name, "
        "schema_name, table_name) WHERE c.database_name = current_database() "
        "AND c.schema_name IN ? ORDER BY 1, 2, c.column_index",
        [list(BUILT_SCHEMAS)],
    ).fetchall():
        columns.setdefault((schema, table), []).append(
            f'round("{name}", {DECIMALS})' if kind in ("DOUBLE", "FLOAT") else f'"{name}"'
        )
    return {key: ", ".join(names) for key, names in columns.items()}


def differing_tables(con: duckdb.DuckDBPyConnection, other: str) -> list[str]:
    """Built tables whose rows differ between this warehouse and the attached ``other``
    (a catalog name), each with how many rows are extra and missing here."""
    found = []
    for (schema, table), columns in _select_lists(con).items():
        here = f"SELECT {columns} FROM {schema}.{table}"
        there = f"SELECT {columns} FROM {other}.{schema}.{table}"
        [(extra, missing)] = con.execute(
            f"SELECT (SELECT count(*) FROM ({here} EXCEPT ALL {there})), "
            f"(SELECT count(*) FROM ({there} EXCEPT ALL {here}))"
        ).fetchall()
        if extra or missing:
            found.append(f"{schema}.{table}: {extra} rows not in the other, {missing} missing")
    return found
