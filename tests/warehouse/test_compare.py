"""Comparing two warehouses' built tables: floating-point results that differ only in their
last bits are the same answer, and every real difference is still found.

Two in-memory databases stand for the two warehouses: the current one (``memory``) and
another attached as ``ref``, each with one built table of the same name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import duckdb
import pytest

from empowered.warehouse import compare
from empowered.warehouse.compare import differing_tables

# Seen in the trust-sized benchmark: one mean summed in another order. Nine decimals round
# the two apart (-0.202148438 and -0.202148437) though they differ only in the last bit.
MEAN = -0.2021484375
MEAN_REORDERED = -0.20214843749999997
# A standard deviation of large values: no decimal places to round, a relative difference.
SPREAD = 123_456_789.123
SPREAD_REORDERED = math.nextafter(SPREAD, math.inf)

Row = tuple[Any, ...]


def differences(
    here: Sequence[Row],
    there: Sequence[Row],
    columns: str = "pupil VARCHAR, day DATE, mean DOUBLE",
) -> list[str]:
    """What ``differing_tables`` reports for marts.t holding ``here`` here and ``there``
    in the other warehouse."""
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS ref")
    for catalog, rows in (("memory", here), ("ref", there)):
        con.execute(f"CREATE SCHEMA {catalog}.marts")
        con.execute(f"CREATE TABLE {catalog}.marts.t ({columns})")
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO {catalog}.marts.t VALUES ({marks})", rows)
    return differing_tables(con, "ref")


def test_a_mean_summed_in_another_order_is_the_same_answer() -> None:
    assert round(MEAN, 9) != round(MEAN_REORDERED, 9)  # the boundary this is about
    here = [("p1", "2026-03-02", MEAN), ("p2", "2026-03-02", 0.5)]
    there = [("p1", "2026-03-02", MEAN_REORDERED), ("p2", "2026-03-02", 0.5)]
    assert differences(here, there) == []


def test_a_large_standard_deviation_is_held_to_a_relative_tolerance() -> None:
    assert SPREAD_REORDERED - SPREAD > 1e-9
    assert (
        differences([("p1", "2026-03-02", SPREAD)], [("p1", "2026-03-02", SPREAD_REORDERED)]) == []
    )


def test_nulls_and_nans_match_their_own_kind_beside_a_last_bit_difference() -> None:
    columns = "pupil VARCHAR, missing DOUBLE, undefined DOUBLE, mean DOUBLE"
    here = [("p1", None, math.nan, MEAN), (None, None, math.nan, MEAN)]
    there = [("p1", None, math.nan, MEAN_REORDERED), (None, None, math.nan, MEAN_REORDERED)]
    assert differences(here, there, columns) == []


def test_a_mean_that_differs_by_a_millionth_is_a_difference() -> None:
    here = [("p1", "2026-03-02", MEAN + 1e-6)]
    there = [("p1", "2026-03-02", MEAN)]
    assert differences(here, there) == ["marts.t: 1 rows not in the other, 1 missing"]


def test_an_extra_row_is_a_difference() -> None:
    here = [("p1", "2026-03-02", MEAN), ("p2", "2026-03-02", 0.5)]
    there = [("p1", "2026-03-02", MEAN_REORDERED)]
    assert differences(here, there) == ["marts.t: 1 rows not in the other, 0 missing"]
    assert differences(there, here) == ["marts.t: 0 rows not in the other, 1 missing"]


def test_a_duplicated_row_is_a_difference_each_row_pairs_once() -> None:
    here = [("p1", "2026-03-02", MEAN), ("p1", "2026-03-02", MEAN)]
    there = [("p1", "2026-03-02", MEAN_REORDERED)]
    assert differences(here, there) == ["marts.t: 1 rows not in the other, 0 missing"]


def test_a_null_is_not_a_value() -> None:
    here = [("p1", "2026-03-02", None)]
    there = [("p1", "2026-03-02", 0.0)]
    assert differences(here, there) == ["marts.t: 1 rows not in the other, 1 missing"]


def test_a_differing_column_that_is_not_floating_is_a_difference() -> None:
    here = [("p1", "2026-03-02", MEAN)]
    there = [("p1", "2026-03-03", MEAN_REORDERED)]
    assert differences(here, there) == ["marts.t: 1 rows not in the other, 1 missing"]


def test_a_table_without_floating_columns_is_compared_exactly() -> None:
    here = [("p1", "2026-03-02"), ("p1", "2026-03-02")]
    there = [("p1", "2026-03-02")]
    assert differences(here, there, "pupil VARCHAR, day DATE") == [
        "marts.t: 1 rows not in the other, 0 missing"
    ]


def test_more_differing_rows_than_are_paired_are_reported_as_they_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compare, "MOST_PAIRED", 2)
    here = [(f"p{n}", "2026-03-02", MEAN) for n in range(3)]
    there = [(f"p{n}", "2026-03-02", MEAN_REORDERED) for n in range(3)]
    assert differences(here, there) == ["marts.t: 3 rows not in the other, 3 missing"]
