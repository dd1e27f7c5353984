"""National, regional and local authority figures a user loads from the DfE's CSV files.

They live in ``meta.loaded_national_figure`` (the same columns as
``reference.national_figure``, plus the file they came from), and the local authorities the
files name, with their region, in ``meta.dfe_local_authority``: how a school's local
authority code (``dim_school.la_code``, the DfE's three-digit "old" LA code) finds its
region. Not in ``reference``, which the packaged seeds rewrite and a backup leaves out
(being rebuilt from the package): ``meta`` is backed up and restored, so what a user loaded
survives a restore.

A load is all or nothing: every file is read and checked before anything is written, and
the writes are one transaction; a figure loaded again (same measure, group, year, period,
place and school type) is replaced, so loading a file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

import duckdb

from empowered.reference.dfe_csv import DfEFile, read_dfe_files

FIGURES_TABLE = "meta.loaded_national_figure"
AUTHORITIES_TABLE = "meta.dfe_local_authority"

_FIGURES_DDL = f"""
create table if not exists {FIGURES_TABLE} (
    topic varchar not null,
    academic_year varchar not null,
    period varchar not null,
    measure varchar not null,
    "group" varchar not null,
    geography_level varchar not null,
    geography_code varchar not null,
    geography_name varchar not null,
    school_type varchar not null,
    value double not null,
    unit varchar not null,
    source varchar not null,
    effective_from date not null,
    loaded_from varchar not null
)
"""
_AUTHORITIES_DDL = f"""
create table if not exists {AUTHORITIES_TABLE} (
    old_la_code varchar primary key,
    new_la_code varchar,
    la_name varchar,
    region_code varchar,
    region_name varchar
)
"""
_KEY = (
    "topic",
    "academic_year",
    "period",
    "measure",
    '"group"',
    "geography_level",
    "geography_code",
    "school_type",
)


def ensure_loaded_figure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the two tables, empty, if they are not there (the register reads them)."""
    con.execute("create schema if not exists meta")
    con.execute(_FIGURES_DDL)
    con.execute(_AUTHORITIES_DDL)


@dataclass(frozen=True)
class LoadResult:
    files: tuple[DfEFile, ...]

    @property
    def figures(self) -> int:
        return sum(len(f.figures) for f in self.files)

    @property
    def not_available(self) -> int:
        return sum(f.not_available for f in self.files)


def load_national_figures(
    con: duckdb.DuckDBPyConnection,
    paths: Sequence[Path],
    *,
    keep: Mapping[str, str | None] | None = None,
) -> LoadResult:
    """Read every file (raising DfEFileError at the first bad row, before any write), then
    land their figures and local authorities in one transaction."""
    files = tuple(read_dfe_files(paths, keep=keep))
    ensure_loaded_figure_tables(con)
    con.execute("begin transaction")
    try:
        for loaded in files:
            _write(con, loaded)
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
    return LoadResult(files)


def _write(con: duckdb.DuckDBPyConnection, loaded: DfEFile) -> None:
    rows = [(*astuple(f), loaded.file) for f in loaded.figures]
    if rows:
        con.execute(
            "create or replace temp table _incoming as select * from " + FIGURES_TABLE + " limit 0"
        )
        con.executemany("insert into _incoming values (" + ", ".join("?" * 14) + ")", rows)
        match = " and ".join(f"t.{c} = i.{c}" for c in _KEY)
        con.execute(
            f"delete from {FIGURES_TABLE} as t where exists "
            f"(select 1 from _incoming as i where {match})"
        )
        con.execute(f"insert into {FIGURES_TABLE} select * from _incoming")
        con.execute("drop table _incoming")
    authorities = [astuple(a) for a in loaded.local_authorities.values()]
    if authorities:
        con.executemany(
            f"insert or replace into {AUTHORITIES_TABLE} values (?, ?, ?, ?, ?)", authorities
        )
