"""A warehouse built by an earlier version meets a model added since (the pupil-match
choices, the term days): the first incremental build makes it in full and succeeds.

Reproduced on the trust-sized benchmark warehouse: looking the new table up inside the
model's transaction failed, DuckDB aborted the transaction, and the model failed with
"Current transaction is aborted"."""

from __future__ import annotations

import shutil
from pathlib import Path

from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import open_warehouse


def test_an_incremental_build_makes_a_model_added_since(
    built_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "older.duckdb"
    shutil.copy(built_warehouse, copy)
    con = open_warehouse(copy)
    # As an earlier version left it: without the models added since.
    con.execute("DROP TABLE staging.stg_canonical_pupil_match_choices")
    con.execute("DROP TABLE staging.stg_canonical_term_days")
    result = build_duckdb(con, touched=set())
    assert [f.message for f in result.failures()] == []
    made = {r.model.name: r.message for r in result.results}
    assert made["staging.stg_canonical_pupil_match_choices"] == "full"
    assert con.execute("SELECT count(*) FROM staging.stg_canonical_term_days").fetchone()[0] > 0  # type: ignore[index]
    con.close()
