"""Settling an ambiguous pupil match by choosing the pupil (issue 12, item 10).

Two pupils in one class share a name; rows naming that name and class are quarantined as
matching 2 pupils. A member of staff's choice lands in raw as a source of its own, and the
build that follows (incremental) accepts every quarantined row naming the pupil that way,
in every pupil-linked source, under the chosen pupil; a full rebuild agrees.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from empowered.pupil_matches import Choice, choose
from empowered.sources.importer import import_canonical_folder, import_files
from empowered.sources.records import SourceRecord
from empowered.synth import generate_trust
from empowered.views.pupil_match import batch_problems
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS
from list_reader import ListReader

AMBIGUOUS = "matches 2 pupils at this school: give the UPN or date of birth"


@dataclass
class Twins:
    con: duckdb.DuckDBPyConnection
    school: str
    other_school: str
    observations: int  # the batch of check-ins naming the twins' name and class
    incidents: int  # a batch of incidents naming them the same way
    keys: tuple[str, str]  # the two pupils' keys, in order
    other_pupil: str  # a pupil at the other school


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("choices")
    generate_trust(folder, schools=2, pupils=100, seed=3)
    return folder


def _twins(trust: Path, tmp_path: Path) -> Twins:
    pupils = _rows(trust, "pupils.csv")
    group = {r["upn"]: r["reg_group"] for r in _rows(trust, "characteristics.csv")}
    a = pupils[0]
    twin = next(
        p
        for p in pupils[1:]
        if p["school_urn"] == a["school_urn"] and group[p["upn"]] == group[a["upn"]]
    )
    later = tmp_path / "later"
    later.mkdir()
    with (trust / "pupils.csv").open(encoding="utf-8") as src:
        header = src.readline()
    renamed = twin | {"forename": a["forename"], "surname": a["surname"]}
    (later / "pupils.csv").write_text(header + ",".join(renamed.values()) + "\n", "utf-8")
    con = open_warehouse(":memory:")
    import_canonical_folder(con, trust, keys=TEST_KEYS)
    import_canonical_folder(con, later, keys=TEST_KEYS)
    named = {
        "school_urn": a["school_urn"],
        "pupil_name": f"{a['forename']} {a['surname']}",
        "pupil_group": group[a["upn"]],
    }
    form = tmp_path / "form.csv"
    form.write_text("stand-in for a forms export")
    checkins = [
        SourceRecord(
            "observations",
            named | {"observation_id": f"T{i}", "observed_on": "03/11/2025", "mood": "3"},
            i + 2,
        )
        for i in range(3)
    ]
    first = import_files(
        con, [form], keys=TEST_KEYS, choose_reader=lambda p, s: ListReader(checkins)
    )
    incident = SourceRecord(
        "incidents",
        named | {"incident_id": "TI1", "occurred_on": "04/11/2025", "behaviour": "verbal"},
        2,
    )
    form2 = tmp_path / "form2.csv"
    form2.write_text("another stand-in")
    second = import_files(
        con, [form2], keys=TEST_KEYS, choose_reader=lambda p, s: ListReader([incident])
    )
    assert build_duckdb(con).ok
    twins = tuple(
        str(k)
        for (k,) in con.execute(
            "SELECT DISTINCT r.pupil_key FROM staging.stg_canonical_pupil_roll AS r "
            "JOIN staging.stg_canonical_pupil_refs AS f ON f.school_urn = r.school_urn "
            "WHERE f.problem_reason = ? AND (r.name_bidx = split_part(f.ref_key, '|', 4) "
            "OR r.name_reversed_bidx = split_part(f.ref_key, '|', 4)) ORDER BY 1",
            [AMBIGUOUS],
        ).fetchall()
    )
    assert len(twins) == 2
    other_school, other_pupil = con.execute(
        "SELECT school_urn, pupil_key FROM staging.stg_canonical_pupil_roll "
        "WHERE school_urn <> ? ORDER BY pupil_key LIMIT 1",
        [a["school_urn"]],
    ).fetchone() or ("", "")
    return Twins(
        con,
        a["school_urn"],
        str(other_school),
        first.batch_ids[0],
        second.batch_ids[0],
        (twins[0], twins[1]),
        str(other_pupil),
    )


REACHED = (
    "staging.stg_canonical_pupil_refs",
    "staging.stg_canonical_observations",
    "staging.stg_canonical_incidents",
    "staging.stg_canonical_attendance",
    "quarantine.rejected_rows",
    "quarantine.batch_balance",
    "core.fct_observation",
    "core.fct_behaviour_incident",
)


def _digests(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[object, ...]]:
    """Each table's rows and an order-free digest of them."""
    return {
        table: tuple(
            con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} AS t").fetchone() or ()
        )
        for table in REACHED
    }


def _outcome(con: duckdb.DuckDBPyConnection, model: str, batch: int) -> list[tuple[object, ...]]:
    return con.execute(
        f"SELECT _source_row, pupil_key, _pupil_match_method, _reject_reason "
        f"FROM staging.{model} WHERE _batch_id = ? ORDER BY 1",
        [batch],
    ).fetchall()


def test_choosing_the_pupil_accepts_the_quarantined_rows_on_the_next_incremental_build(
    trust: Path, tmp_path: Path
) -> None:
    t = _twins(trust, tmp_path)
    con = t.con
    before = _outcome(con, "stg_canonical_observations", t.observations)
    assert [(row, key, reason) for row, key, _, reason in before] == [
        (2, None, AMBIGUOUS),
        (3, None, AMBIGUOUS),
        (4, None, AMBIGUOUS),
    ]
    [problem] = batch_problems(con, t.observations, "observations")
    assert (problem.rows, problem.source_rows, problem.reason) == (3, (2, 3, 4), AMBIGUOUS)
    assert problem.school_urn == t.school and problem.decision is None
    assert (problem.method, problem.matches) == ("name_and_group", 2)
    assert problem.why == "the pupil they name matches 2 pupils on your roll"

    chosen = t.keys[1]
    saved = choose(con, Choice(t.school, problem.ref_key, chosen, "app-user-1"), keys=TEST_KEYS)
    assert saved.build.ok
    how = {r.model.name: r.message for r in saved.build.results}
    # An incremental build: the choice's own staging model read only its new batch, and
    # models nothing reaches did not run at all.
    assert how["staging.stg_canonical_pupil_match_choices"].startswith("incremental")
    assert "staging.stg_canonical_schools" not in how
    # The pupil-linked staging models re-read only the batches naming the pupil that way.
    assert how["staging.stg_canonical_observations"].endswith("(pupil references)")
    assert how["staging.stg_canonical_incidents"].endswith("(pupil references)")
    assert how["staging.stg_canonical_attendance"].startswith("unchanged")

    after = _outcome(con, "stg_canonical_observations", t.observations)
    assert after == [(row, chosen, "chosen", None) for row in (2, 3, 4)]
    # Every pupil-linked source naming the pupil that way is read again, not only this batch.
    assert _outcome(con, "stg_canonical_incidents", t.incidents) == [(2, chosen, "chosen", None)]
    assert con.execute(
        "SELECT count(*) FROM quarantine.rejected_rows WHERE batch_id IN (?, ?)",
        [t.observations, t.incidents],
    ).fetchone() == (0,)
    assert (
        con.execute(
            "SELECT count(*) FROM core.fct_observation WHERE pupil_key = ?", [chosen]
        ).fetchone()[0]
        >= 3
    )  # type: ignore[index]
    assert batch_problems(con, t.observations, "observations") == []

    # The choice is in raw: a full rebuild gives the same rows, in every table it reaches.
    incremental = _digests(con)
    assert build_duckdb(con).ok
    assert _outcome(con, "stg_canonical_observations", t.observations) == after
    assert _digests(con) == incremental
    stored = con.execute(
        "SELECT school_urn, decision, pupil_key, chosen_by FROM raw.canonical_pupil_match_choices"
    ).fetchall()
    assert stored == [(t.school, "pupil", chosen, "app-user-1")]


def test_a_changed_mind_and_not_one_of_ours(trust: Path, tmp_path: Path) -> None:
    t = _twins(trust, tmp_path)
    con = t.con
    [problem] = batch_problems(con, t.observations, "observations")
    assert choose(
        con, Choice(t.school, problem.ref_key, t.keys[0], "app-user-1"), keys=TEST_KEYS
    ).build.ok
    assert choose(
        con, Choice(t.school, problem.ref_key, t.keys[1], "app-user-2"), keys=TEST_KEYS
    ).build.ok
    # The latest choice wins.
    rows = _outcome(con, "stg_canonical_observations", t.observations)
    assert {key for _, key, _, _ in rows} == {t.keys[1]}
    assert choose(
        con, Choice(t.school, problem.ref_key, None, "app-user-2"), keys=TEST_KEYS
    ).build.ok
    rows = _outcome(con, "stg_canonical_observations", t.observations)
    assert {(key, reason) for _, key, _, reason in rows} == {
        (None, "was marked on the import page as not one of this school's pupils")
    }
    [again] = batch_problems(con, t.observations, "observations")
    assert again.decision == "not_ours"  # still offered, so the choice can be changed
    assert again.why == "someone has said they are not about one of your pupils"


def test_a_choice_of_another_schools_pupil_is_never_used(trust: Path, tmp_path: Path) -> None:
    t = _twins(trust, tmp_path)
    con = t.con
    [problem] = batch_problems(con, t.observations, "observations")
    saved = choose(
        con, Choice(t.school, problem.ref_key, t.other_pupil, "app-user-1"), keys=TEST_KEYS
    )
    assert saved.build.ok
    assert con.execute(
        "SELECT _reject_column, _reject_reason FROM staging.stg_canonical_pupil_match_choices "
        "WHERE _batch_id = ?",
        [saved.batch_id],
    ).fetchone() == ("pupil_key", "is not a pupil on roll at this school")
    rows = _outcome(con, "stg_canonical_observations", t.observations)
    assert {(key, reason) for _, key, _, reason in rows} == {(None, AMBIGUOUS)}
