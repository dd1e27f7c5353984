"""Shared fixtures for the reference-data tests."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from empowered.reference import load_reference


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """One in-memory warehouse with the packaged reference data, shared by a module."""
    connection = duckdb.connect()
    load_reference(connection)
    yield connection
    connection.close()
