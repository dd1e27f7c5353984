"""Pupil matching for sources without UPNs: UPN, then MIS id, then name with date of birth
or class. No match, or more than one, is quarantined with the reason; never guessed."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from empowered.sources.importer import import_canonical_folder, import_files
from empowered.sources.records import SourceRecord
from empowered.synth import generate_trust
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS
from list_reader import ListReader


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("matching")
    generate_trust(folder, schools=2, pupils=100, seed=3)
    return folder


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def import_records(
    trust: Path, tmp_path: Path, records: list[SourceRecord]
) -> tuple[duckdb.DuckDBPyConnection, int]:
    con = open_warehouse(":memory:")
    import_canonical_folder(con, trust, keys=TEST_KEYS)
    form = tmp_path / "form.csv"
    form.write_text("stand-in for a form export")
    result = import_files(
        con, [form], keys=TEST_KEYS, choose_reader=lambda p, s: ListReader(records)
    )
    assert build_duckdb(con).ok
    return con, result.batch_ids[0]


def test_each_identifier_tier_and_each_refusal(trust: Path, tmp_path: Path) -> None:
    pupils = rows(trust, "pupils.csv")
    group = {r["upn"]: r["reg_group"] for r in rows(trust, "characteristics.csv")}
    a, b = pupils[0], pupils[1]
    uk_dob = "/".join(reversed(a["date_of_birth"].split("-")))
    base = {"school_urn": a["school_urn"], "observed_on": "03/11/2025", "mood": "3"}
    records = [
        SourceRecord("observations", base | {"observation_id": "1", "upn": a["upn"]}, 2),
        SourceRecord(
            "observations",
            {**base, "observation_id": "2", "school_urn": b["school_urn"], "mis_id": b["mis_id"]},
            3,
        ),
        SourceRecord(
            "observations",
            base
            | {
                "observation_id": "3",
                "pupil_name": f"{a['surname']}, {a['forename']}",
                "pupil_dob": uk_dob,
            },
            4,
        ),
        SourceRecord(
            "observations",
            base
            | {
                "observation_id": "4",
                "pupil_name": f"{a['forename']} {a['surname']}",
                "pupil_group": group[a["upn"]],
            },
            5,
        ),
        SourceRecord(
            "observations",
            base | {"observation_id": "5", "pupil_name": "Nobody Known", "pupil_group": "3K"},
            6,
        ),
        SourceRecord("observations", base | {"observation_id": "6", "pupil_name": "A Name"}, 7),
        SourceRecord("observations", base | {"observation_id": "7"}, 8),
        SourceRecord("observations", base | {"observation_id": "8", "upn": a["upn"][:-1] + "0"}, 9),
    ]
    con, batch = import_records(trust, tmp_path, records)
    got = con.execute(
        "SELECT _source_row, _pupil_match_method, pupil_key IS NOT NULL, _reject_reason "
        "FROM staging.stg_canonical_observations WHERE _batch_id = ? ORDER BY 1",
        [batch],
    ).fetchall()
    assert [(row, method, matched) for row, method, matched, _ in got] == [
        (2, "upn", True),
        (3, "mis_id", True),
        (4, "name_and_dob", True),
        (5, "name_and_group", True),
        (6, "name_and_group", False),
        (7, "name_only", False),
        (8, "none", False),
        (9, "upn", False),
    ]
    reasons = {row: reason for row, _, _, reason in got}
    assert reasons[6] == "no pupil on roll at this school matches it"
    assert reasons[7].startswith("gives a name only")
    assert reasons[8].startswith("is missing: the row names no pupil")
    assert reasons[9] in (
        "is not a valid UPN (13 characters with a correct check letter)",
        "is not a pupil on roll at this school (pupils.csv)",
    )
    keys = dict(
        con.execute(
            "SELECT _source_row, pupil_key FROM staging.stg_canonical_observations "
            "WHERE _batch_id = ? AND pupil_key IS NOT NULL",
            [batch],
        ).fetchall()
    )
    assert keys[2] == keys[4] == keys[5]  # the same pupil by UPN, by name+DOB, by name+class


def test_two_pupils_with_the_same_name_and_class_are_not_guessed(
    trust: Path, tmp_path: Path
) -> None:
    pupils = rows(trust, "pupils.csv")
    group = {r["upn"]: r["reg_group"] for r in rows(trust, "characteristics.csv")}
    a = pupils[0]
    twin = next(p for p in pupils[1:] if group[p["upn"]] == group[a["upn"]])
    # Give the classmate the same name in a later pupils file: two pupils now match.
    later = tmp_path / "later"
    later.mkdir()
    with (trust / "pupils.csv").open(encoding="utf-8") as src:
        header = src.readline()
    renamed = twin | {"forename": a["forename"], "surname": a["surname"]}
    (later / "pupils.csv").write_text(header + ",".join(renamed.values()) + "\n", "utf-8")
    con = open_warehouse(":memory:")
    import_canonical_folder(con, trust, keys=TEST_KEYS)
    import_canonical_folder(con, later, keys=TEST_KEYS)
    form = tmp_path / "form.csv"
    form.write_text("x")
    record = SourceRecord(
        "observations",
        {
            "observation_id": "1",
            "school_urn": a["school_urn"],
            "observed_on": "03/11/2025",
            "mood": "3",
            "pupil_name": f"{a['forename']} {a['surname']}",
            "pupil_group": group[a["upn"]],
        },
        2,
    )
    result = import_files(
        con, [form], keys=TEST_KEYS, choose_reader=lambda p, s: ListReader([record])
    )
    assert build_duckdb(con).ok
    reason = con.execute(
        "SELECT _reject_reason FROM staging.stg_canonical_observations WHERE _batch_id = ?",
        [result.batch_ids[0]],
    ).fetchone()
    assert reason == ("matches 2 pupils at this school: give the UPN or date of birth",)
