"""Landing protects identity: the Python normalisation behind the blind indexes is the one
staging applied in SQL when it could read identity, and rows a reader lands (forms,
trackers, captures) keep no identifier in clear."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from empowered.crypto import is_ciphertext
from empowered.sources.canonical import ENTITIES
from empowered.sources.importer import import_files
from empowered.sources.protect import Protection, name_key, parse_date, protect_rows
from empowered.sources.pseudonyms import UnencryptedWarehouse
from empowered.sources.records import SourceRecord
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS
from list_reader import ListReader

# Staging's expressions before identity was encrypted (stg_canonical_pupils,
# stg_canonical_pupil_refs): the Python must agree with them on any text.
SQL_DATE = """
    case
        when regexp_matches(trim($v), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
            then try_cast(trim($v) as date)
        when regexp_matches(trim($v), '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$') then try_cast(
            split_part(trim($v), '/', 3) || '-' || lpad(split_part(trim($v), '/', 2), 2, '0')
            || '-' || lpad(split_part(trim($v), '/', 1), 2, '0') as date)
    end"""
SQL_NAME = "regexp_replace(lower($v), '[ ,.''-]', '', 'g')"

DATE_TEXT = st.one_of(
    st.dates(min_value=date(1000, 1, 1)).map(str),
    st.dates(min_value=date(1000, 1, 1)).map(lambda d: f"{d.day}/{d.month}/{d.year}"),
    st.from_regex(r"[ ]?[0-9]{1,4}[-/][0-9]{1,2}[-/][0-9]{1,4}[ ]?", fullmatch=True),
    st.text(alphabet="0123456789/- ", max_size=12),
)
NAME_TEXT = st.text(alphabet=st.sampled_from("AbcÉéZoë O'Neil-Smith,. ß"), max_size=20)

_con = duckdb.connect()


@settings(max_examples=300, deadline=None)
@given(DATE_TEXT)
def test_dates_parse_as_staging_parsed_them(text: str) -> None:
    (expected,) = _con.execute(f"select {SQL_DATE}", {"v": text}).fetchone() or (None,)
    assert parse_date(text) == expected


@settings(max_examples=300, deadline=None)
@given(NAME_TEXT)
def test_names_normalise_as_staging_normalised_them(text: str) -> None:
    (expected,) = _con.execute(f"select {SQL_NAME}", {"v": text}).fetchone() or (None,)
    assert name_key(text) == expected


def test_the_checks_staging_needs_survive_encryption() -> None:
    pupils = ENTITIES["pupils"]
    given = [
        {"upn": " a123 ", "mis_id": " 7 ", "forename": "Zoë", "surname": "O'Neil",
         "date_of_birth": "04/03/2015"},
        {"upn": "A123", "mis_id": "7", "forename": "zoë ", "surname": "o'neil",
         "date_of_birth": "2015-03-04"},
        {"upn": "", "forename": "Ann", "date_of_birth": "31/02/2015"},
        {"upn": "B1", "forename": "Ann", "surname": "Lee", "date_of_birth": "2099-01-01"},
    ]  # fmt: skip
    rows = [[r.get(c) for c in pupils.identity_columns] for r in given]
    got = protect_rows(Protection(TEST_KEYS), pupils, rows, today=date(2026, 1, 1)).columns
    assert all(is_ciphertext(v) for v in [*got["forename"], *got["date_of_birth"]])
    # The same UPN and MIS id, however spelled, match; names match ignoring case and
    # punctuation, with the date of birth in either spelling.
    assert got["upn_bidx"][0] == got["upn_bidx"][1] and got["upn_bidx"][2] is None
    assert got["mis_id_bidx"][0] == got["mis_id_bidx"][1]
    assert got["name_dob_bidx"][0] == got["name_dob_bidx"][1] is not None
    assert got["name_bidx"][2] is None  # no surname: no name to match
    assert list(got["dob_check"]) == [None, None, "missing", "implausible"]


def test_records_a_reader_lands_hold_no_identifier_in_clear(tmp_path: Path) -> None:
    record = SourceRecord(
        "observations",
        {
            "observation_id": "1",
            "school_urn": "100001",
            "observed_on": "03/11/2025",
            "mood": "3",
            "upn": "Q801200125001",
            "mis_id": "MIS-4417",
            "pupil_name": "Quillon Zephyrine",
            "pupil_dob": "17/08/2016",
            "pupil_group": "3K",
            "note": "calmer-after-the-lighthouse-story",
        },
        2,
    )
    path = tmp_path / "w.duckdb"
    con = open_warehouse(path)
    form = tmp_path / "form.csv"
    form.write_text("stand-in for a form export")
    import_files(con, [form], keys=TEST_KEYS, choose_reader=lambda p, s: ListReader([record]))
    con.execute("CHECKPOINT")
    con.close()
    data = path.read_bytes()
    # The scan sees what is stored in clear: the note is no identifier.
    assert b"calmer-after-the-lighthouse-story" in data
    for clear in ("Q801200125001", "MIS-4417", "Quillon", "Zephyrine", "17/08/2016"):
        assert clear.encode() not in data, clear


def test_a_warehouse_made_before_encryption_takes_no_new_imports(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "old.duckdb")
    con.execute(
        "CREATE TABLE raw.pupil_pseudonym (upn VARCHAR PRIMARY KEY, pupil_key VARCHAR, "
        "upn_is_valid BOOLEAN, first_batch_id BIGINT)"
    )
    form = tmp_path / "form.csv"
    form.write_text("x")
    with pytest.raises(UnencryptedWarehouse, match="start a new warehouse"):
        import_files(con, [form], keys=TEST_KEYS, choose_reader=lambda p, s: ListReader([]))
