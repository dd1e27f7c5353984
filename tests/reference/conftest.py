"""Shared fixtures for the reference-data tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Let `pytest tests/reference` run from a plain checkout as well as an installed package.
if importlib.util.find_spec("empowered") is None:  # pragma: no cover - depends on the venv
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

import duckdb  # noqa: E402

from empowered.reference import load_reference  # noqa: E402


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """One in-memory warehouse with the packaged reference data, shared by a module."""
    connection = duckdb.connect()
    load_reference(connection)
    yield connection
    connection.close()
