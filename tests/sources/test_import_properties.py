"""Whatever a file holds, an import either refuses it whole with a clear SourceError or
lands every row, and after the build every landed row is accepted or quarantined."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from empowered.imports import run_import
from empowered.sources.errors import SourceError
from empowered.sources.landing import LandedBatch
from empowered.upn import make_upn
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS

pytestmark = pytest.mark.slow

UPN = make_upn("201", "2001", 20, 1)
COLUMNS = ["observation_id", "school_urn", "upn", "observed_on", "observed_time", "mood"]
cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "3",
            "9",
            "x",
            "03/11/2025",
            "2025-11-03",
            "31/02/2025",
            "10:15",
            "25:99",
            UPN,
            UPN.lower(),
            "100001",
            "=cmd|' /C calc'!A0",
            '"',
            "\n",
        ]
    ),
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with one school and one pupil, built once and copied for each example."""
    folder = tmp_path_factory.mktemp("base")
    (folder / "schools.csv").write_text(
        "school_urn,la_code,estab,school_name,phase,trust_name\n"
        "100001,201,2001,Fictional Primary,primary,Test Trust\n",
        encoding="utf-8",
    )
    (folder / "pupils.csv").write_text(
        "school_urn,upn,forename,surname,date_of_birth,sex,entry_date\n"
        f"100001,{UPN},Ada,Example,2016-03-04,F,2020-09-01\n",
        encoding="utf-8",
    )
    con = open_warehouse(folder / "base.duckdb")
    run_import(con, [folder / "schools.csv", folder / "pupils.csv"], keys=TEST_KEYS)
    con.close()
    return folder / "base.duckdb"


def copy_of(base: Path, folder: Path) -> duckdb.DuckDBPyConnection:
    shutil.copy(base, folder / "w.duckdb")
    return open_warehouse(folder / "w.duckdb")


def assert_nothing_lost(con: duckdb.DuckDBPyConnection, batches: list[LandedBatch]) -> None:
    # quarantine.batch_balance checks landed = accepted + quarantined on every build; here
    # the batches of this import must be in it and balance (a header-only file lands none).
    for batch in batches:
        row = con.execute(
            "SELECT landed, accepted + quarantined FROM quarantine.batch_balance "
            "WHERE batch_id = ?",
            [batch.batch_id],
        ).fetchone()
        assert (row or (0, 0)) == (batch.rows, batch.rows), batch


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(cell, min_size=6, max_size=6), max_size=6),
    header=st.permutations(COLUMNS),
    garbage=st.binary(max_size=40),
)
def test_malformed_csv_is_refused_or_fully_accounted_for(
    tmp_path_factory: pytest.TempPathFactory,
    base: Path,
    rows: list[list[str]],
    header: list[str],
    garbage: bytes,
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    con = copy_of(base, folder)
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    path = folder / "observations.csv"
    path.write_bytes(text.getvalue().encode("utf-8") + garbage)
    try:
        outcome = run_import(con, [path], keys=TEST_KEYS)
    except SourceError as err:
        assert "observations.csv" in str(err)
        assert con.execute("SELECT count(*) FROM raw.canonical_observations").fetchone() == (0,)
        return
    assert outcome.build is None or outcome.build.ok
    assert_nothing_lost(con, outcome.result.batches)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=2000), insert=st.binary(max_size=20))
def test_damaged_ctf_is_refused_or_fully_accounted_for(
    tmp_path_factory: pytest.TempPathFactory, base: Path, cut: int, insert: bytes
) -> None:
    folder = tmp_path_factory.mktemp("ctfprop")
    con = copy_of(base, folder)
    source = Path(__file__).parent / "fixtures" / "ctf" / "ctf25_basic.xml"
    data = source.read_bytes()
    position = cut % max(len(data), 1)
    path = folder / "damaged.xml"
    path.write_bytes(data[:position] + insert + data[position:])
    try:
        outcome = run_import(con, [path], keys=TEST_KEYS, source="ctf")
    except SourceError as err:
        assert "damaged.xml" in str(err)
        assert con.execute(
            "SELECT count(*) FROM meta.batches WHERE file_name = 'damaged.xml'"
        ).fetchone() == (0,)
        return
    assert outcome.build is None or outcome.build.ok
    assert_nothing_lost(con, outcome.result.batches)
