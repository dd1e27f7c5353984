"""Shared fixtures: a small synthetic trust, generated, imported and built once per session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cut_trust import CUT_THROUGH, CUT_TRUST
from empowered.keys import write_key_file
from identity_keys import TEST_KEYS, TEST_SECRET, key_file_contents

# Small enough to keep the suite fast, big enough that every kind of planted pattern and
# every source file has rows.
SMALL_TRUST = {"schools": 3, "pupils": 600, "years": 1, "seed": 7}
__all__ = ["TEST_KEYS", "TEST_SECRET"]

# Secrets not given to a test come from a key file of the run's own, never one left in the
# working tree (see empowered.keys). It holds the fixed test keys (identity_keys.py), so
# the web app under test decrypts what the fixtures encrypted.
_KEY_FILE = Path(tempfile.mkdtemp(prefix="empowered-test-keys-")) / "test.keys"
write_key_file(_KEY_FILE, key_file_contents())
os.environ["EMPOWERED_KEY_FILE"] = str(_KEY_FILE)


@pytest.fixture(autouse=True)
def _settings_of_this_test_only() -> Iterator[None]:
    """The process's settings are cached (``get_settings``), and a command run in a test
    (``--warehouse``, a key file in its own folder) would leave them to the next test,
    pointing at a key file that goes with the test's folder; the next read of the keys
    then made new ones. Each test starts from the environment as it is."""
    yield
    from empowered.settings import use_warehouse

    use_warehouse(None)  # also empties the cache


@pytest.fixture(scope="session")
def small_trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from empowered.synth import generate_trust

    out = tmp_path_factory.mktemp("trust")
    generate_trust(out, **SMALL_TRUST)
    return out


@pytest.fixture(scope="session")
def built_warehouse(small_trust: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The small trust imported and built into a warehouse file. Tests must not modify it:
    copy it first (see ``warehouse_copy``)."""
    yield _import_and_build(small_trust, tmp_path_factory.mktemp("warehouse") / "built.duckdb")


def _import_and_build(trust: Path, path: Path) -> Path:
    """A synthetic trust's canonical files imported into a new warehouse file, built."""
    from empowered.sources.importer import import_canonical_folder
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.connection import open_warehouse

    con = open_warehouse(path)
    import_canonical_folder(con, trust, keys=TEST_KEYS)
    result = build_duckdb(con)
    failures = "\n".join(f.message for f in result.failures())
    assert result.ok, f"the trust in {trust.name} did not build:\n{failures}"
    con.close()
    return path


@pytest.fixture
def warehouse_copy(built_warehouse: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    import shutil

    from empowered.warehouse.connection import open_warehouse

    target = tmp_path / "copy.duckdb"
    shutil.copy(built_warehouse, target)
    con = open_warehouse(target)
    yield con
    con.close()


@pytest.fixture(scope="session")
def built(built_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the built small trust."""
    con = duckdb.connect(str(built_warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def app_records_warehouse(
    built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The built small trust with what staff enter in the app too (plans, reviews, actions,
    intervention groups and registers, visitors' notes, concerns: the demo's writers,
    through the app's own services, empowered.synth.app_sources) landed and built once, so
    every app-only table has rows. Tests must not modify it: copy it first."""
    import shutil
    from datetime import date

    from empowered.demo import DEMO_SEED, create_demo_accounts
    from empowered.synth.app_sources import WRITERS, land_demo_records
    from empowered.warehouse.connection import open_warehouse

    path = tmp_path_factory.mktemp("app-records") / "app-records.duckdb"
    shutil.copy(built_warehouse, path)
    con = open_warehouse(path)
    create_demo_accounts(con)
    build = land_demo_records(con, keys=TEST_KEYS, today=date.today(), seed=DEMO_SEED)
    assert build is not None and build.ok
    for table in ("fct_contribution", "fct_concern", "fct_review_meeting", "dim_provision_group"):
        count = con.execute(f"SELECT count(*) FROM core.{table}").fetchone()
        assert count is not None and count[0] > 0, table
    assert len(WRITERS) >= 6
    con.close()
    yield path


@pytest.fixture(scope="session")
def cut_trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trust cut off in the middle of an autumn term (tests/cut_trust.py)."""
    from empowered.synth import generate_trust

    out = tmp_path_factory.mktemp("cut-trust")
    generate_trust(out, **CUT_TRUST, through=CUT_THROUGH)
    return out


@pytest.fixture(scope="session")
def cut_warehouse(cut_trust: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cut trust imported and built. Tests must not modify it: copy it first."""
    return _import_and_build(cut_trust, tmp_path_factory.mktemp("cut-warehouse") / "cut.duckdb")
