"""Comparing the built tables of two warehouses: how incremental builds are held to the full.

A sum or a standard deviation over the same values in another order (threads, or rows
appended later) may differ in its last bits, which is not a different answer. So tables
are first compared with floating-point columns rounded to 9 decimal places, which settles
nearly every table; but two values a last bit apart can still round apart (-0.2021484375
and -0.20214843749999997 to -0.202148438 and -0.202148437), and large values have no
decimals to lose. The rows left over on either side are then paired in Python: the same
other values exactly, floating values within a relative and absolute tolerance, each row
used once. Only rows left unpaired are a difference.

The column lists are read from the catalog in one query: a catalog query per table cost
about a quarter of the comparison on a small warehouse. Each table is compared in a query
of its own (one query for every table holds every table's hash tables at once, and runs
out of memory).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

BUILT_SCHEMAS = ("staging", "core", "marts", "quarantine")
DECIMALS = 9
TOLERANCE = 1e-9  # relative and absolute: large sums of squares lose absolute precision
# Rows on a side beyond which a table differs for real: pairing them would only be slow.
MOST_PAIRED = 5_000

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Table:
    name: str  # schema.table
    rounded: str  # the select list, floating columns rounded
    floating: tuple[int, ...]  # positions of the floating columns


def _tables(con: duckdb.DuckDBPyConnection) -> list[_Table]:
    """Every built table of this warehouse, with its rounded select list."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for schema, table, name, kind in con.execute(
        "SELECT c.schema_name, c.table_name, c.column_name, c.data_type "
        "FROM duckdb_columns() AS c JOIN duckdb_tables() AS t USING (database_name, "
        "schema_name, table_name) WHERE c.database_name = current_database() "
        "AND c.schema_name IN ? ORDER BY 1, 2, c.column_index",
        [list(BUILT_SCHEMAS)],
    ).fetchall():
        columns.setdefault(f"{schema}.{table}", []).append((f'"{name}"', kind))
    tables = []
    for table, named in columns.items():
        floating = tuple(i for i, (_, kind) in enumerate(named) if kind in ("DOUBLE", "FLOAT"))
        rounded = ", ".join(
            f"round({name}, {DECIMALS})" if i in floating else name
            for i, (name, _) in enumerate(named)
        )
        tables.append(_Table(table, rounded, floating))
    return tables


def differing_tables(con: duckdb.DuckDBPyConnection, other: str) -> list[str]:
    """Built tables whose rows differ between this warehouse and the attached ``other``
    (a catalog name), each with how many rows are extra and missing here."""
    found = []
    for table in _tables(con):
        here = f"SELECT {table.rounded} FROM {table.name}"
        there = f"SELECT {table.rounded} FROM {other}.{table.name}"
        [(extra, missing)] = con.execute(
            f"SELECT (SELECT count(*) FROM ({here} EXCEPT ALL {there})), "
            f"(SELECT count(*) FROM ({there} EXCEPT ALL {here}))"
        ).fetchall()
        paired = _paired_again(con, table, other) if (extra or missing) and table.floating else None
        if paired is not None:
            extra, missing = paired
        if extra or missing:
            found.append(f"{table.name}: {extra} rows not in the other, {missing} missing")
    return found


def _paired_again(
    con: duckdb.DuckDBPyConnection, table: _Table, other: str
) -> tuple[int, int] | None:
    """The rows still extra and missing here once the rows the rounding left over are
    paired within the tolerance; None where there are too many to pair."""
    # The leftover rows as they are, not rounded: every row whose rounded values (hashed,
    # to keep the query short; two colliding 64-bit hashes are not a worry) are on one side
    # more often than on the other. Rows of those rounded values that are on both sides
    # come along too: which of them pairs with which is not known until they are paired.
    key = f"hash({table.rounded})"
    there_table = f"{other}.{table.name}"
    leftover = (
        f"(SELECT {key} FROM {table.name} EXCEPT ALL SELECT {key} FROM {there_table}) "
        f"UNION ALL (SELECT {key} FROM {there_table} EXCEPT ALL SELECT {key} FROM {table.name})"
    )
    here, there = (
        con.execute(
            f"SELECT * FROM {name} WHERE {key} IN ({leftover}) LIMIT {MOST_PAIRED + 1}"
        ).fetchall()
        for name in (table.name, there_table)
    )
    if len(here) > MOST_PAIRED or len(there) > MOST_PAIRED:
        return None
    return _unpaired(here, there, table.floating)


def _unpaired(
    here: Sequence[Row], there: Sequence[Row], floating: Sequence[int]
) -> tuple[int, int]:
    """How many rows of ``here`` and of ``there`` find no partner on the other side."""
    waiting: dict[Row, list[Row]] = {}
    for row in there:
        waiting.setdefault(_exact_part(row, floating), []).append(row)
    extra = 0
    for row in here:
        partners = waiting.get(_exact_part(row, floating), [])
        # The first partner within the tolerance will do, not the closest: rows whose
        # other values (a table's key among them) are all the same are duplicates.
        found = next((i for i, p in enumerate(partners) if _close(row, p, floating)), None)
        if found is None:
            extra += 1
        else:
            del partners[found]  # each row pairs once: a duplicate is a difference
    return extra, sum(len(partners) for partners in waiting.values())


def _exact_part(row: Row, floating: Sequence[int]) -> Row:
    return tuple(value for i, value in enumerate(row) if i not in floating)


def _close(row: Row, partner: Row, floating: Sequence[int]) -> bool:
    return all(_same_number(row[i], partner[i]) for i in floating)


def _same_number(a: float | None, b: float | None) -> bool:
    """Within the tolerance; NULL only matches NULL and NaN only NaN."""
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
