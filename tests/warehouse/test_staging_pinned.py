"""Every staging rule's message, pinned: rows of every file made wrong in every way.

staging_rejections.json was taken from the hand-written staging models before they were
declared (issue 11), so it holds what a SENCo was told then; any change to a rule's
column or message must change that file, on purpose.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
from staging_mutations import mutated_folder

from empowered.sources.importer import import_canonical_folder
from empowered.warehouse.build import prepare
from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import build_order, discover_models
from identity_keys import TEST_KEYS

PINNED = Path(__file__).with_name("staging_rejections.json")


def test_every_rule_says_what_it_said_before(
    warehouse_copy: duckdb.DuckDBPyConnection, small_trust: Path, tmp_path: Path
) -> None:
    mutated_folder(small_trust, tmp_path / "mutated")
    result = import_canonical_folder(warehouse_copy, tmp_path / "mutated", keys=TEST_KEYS)
    # Staging and quarantine only: the mutated rows are meant to break things, and core
    # checks would stop the build before quarantine is written.
    models = discover_models()
    engine = DuckDBEngine(warehouse_copy)
    prepare(warehouse_copy)
    for model in build_order(models):
        if model.layer in ("staging", "quarantine"):
            engine.materialise(model)
    got = warehouse_copy.execute(
        "SELECT DISTINCT 'rejected', entity, column_name, reason FROM quarantine.rejected_rows "
        "UNION SELECT DISTINCT 'warning', entity, column_name, reason "
        "FROM quarantine.accepted_with_warnings"
    ).fetchall()
    found = {
        (kind, entity, column, re.sub(r"(repeats row|matches|in row) \d+", r"\1 N", reason))
        for kind, entity, column, reason in got
    }
    assert found == {tuple(row) for row in json.loads(PINNED.read_text())}
    # Nothing lost: every landed row of the mutated files is accepted or quarantined.
    unbalanced = warehouse_copy.execute(
        "SELECT count(*) FROM quarantine.batch_balance "
        "WHERE landed <> accepted + quarantined AND batch_id IN (SELECT unnest(?))",
        [result.batch_ids],
    ).fetchone()
    assert unbalanced == (0,)
