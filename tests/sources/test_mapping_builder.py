"""A mapping made from an uploader's choices per heading: a valid mapping file's content
(read back by ``load_mapping``), clear problems beside the headings at fault, and a
school's saved mappings kept per school, latest version first."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from empowered.access.store import ensure_access_tables
from empowered.sources.layouts import best_fit
from empowered.sources.mapping import load_mapping
from empowered.sources.mapping_builder import IGNORE, make_mapping, slug, unread_headings
from empowered.sources.saved_mappings import (
    SavedMappingReader,
    find_saved,
    save_mapping,
    saved_mappings,
)

ODD = ["Pupil Number", "Given Names", "Family Names", "Born On", "Tutor Set", "Sibling Name"]
CHOSEN = {
    "Pupil Number": "upn",
    "Given Names": "pupils.forename",
    "Family Names": "pupils.surname",
    "Born On": "pupils.date_of_birth",
    "Tutor Set": "characteristics.reg_group",
    "Sibling Name": IGNORE,
}


def test_nothing_recognised_every_heading_is_asked_about() -> None:
    assert best_fit(ODD) is None
    assert unread_headings(ODD, None) == ODD


def test_choices_make_a_mapping_that_load_mapping_reads_back(tmp_path: Path) -> None:
    made = make_mapping("Our pupil list", None, CHOSEN)
    assert made.problems == {} and made.mapping is not None
    # The document is what a school's mapping file would hold, and reads back the same.
    text = yaml.safe_dump(made.document, allow_unicode=True, sort_keys=False)
    again = load_mapping(text)
    assert again.name == made.mapping.name == "our-pupil-list"
    assert (
        again.entities
        == made.mapping.entities
        == {
            "pupils": {
                "forename": "Given Names",
                "surname": "Family Names",
                "date_of_birth": "Born On",
                "upn": "Pupil Number",
            },
            "characteristics": {
                "reg_group": "Tutor Set",
                "upn": "Pupil Number",
                "effective_date": "@file_date",
            },
        }
    )
    assert again.school_urn.kind == "ask"
    assert "sibling_name" in again.ignore
    # Read with it: the chosen columns are read, the ignored one is not kept at all.
    path = tmp_path / "odd.csv"
    path.write_text(
        ",".join(ODD) + "\r\nA123,Zoe,Walker,14-Mar-2015,7R,Sam Walker\r\n", encoding="utf-8"
    )
    result = SavedMappingReader(again, school="100001", file_date="2026-12-01").read(path)
    records = {r.entity: r for r in result.records}
    assert records["pupils"].values["date_of_birth"] == "2015-03-14"
    assert records["characteristics"].values["reg_group"] == "7R"
    assert records["characteristics"].values["effective_date"] == "2026-12-01"
    assert all(r.extra == {} for r in result.records)
    assert result.unknown_columns == []


def test_the_layouts_reading_is_kept_and_extended() -> None:
    header = ["UPN", "Surname", "Forename", "DOB", "Year", "Keyworker", "Passport Colour"]
    fitted = best_fit(header)
    assert fitted is not None
    assert unread_headings(header, fitted.mapping) == ["Keyworker", "Passport Colour"]
    made = make_mapping(
        "list", fitted.mapping, {"Keyworker": IGNORE, "Passport Colour": "pupils.ethnicity"}
    )
    assert made.mapping is not None, made.problems
    pupils = made.mapping.entities["pupils"]
    assert pupils["surname"] == "Surname" and pupils["ethnicity"] == "Passport Colour"
    assert made.mapping.entities["characteristics"]["year_group"] == "Year"
    assert {"keyworker"} <= made.mapping.ignore


@pytest.mark.parametrize(
    ("chosen", "heading", "words"),
    [
        # Two headings for one column: said beside the second.
        ({**CHOSEN, "Sibling Name": "pupils.forename"}, "Sibling Name", "already comes from"),
        # Pupil details without the UPN they need.
        ({**CHOSEN, "Pupil Number": IGNORE}, "Given Names", "UPN"),
        # A need without the SEN status that makes it a record.
        ({**CHOSEN, "Sibling Name": "sen_status.primary_need"}, "Sibling Name", "SEN status"),
        ({**CHOSEN, "Sibling Name": "no.such"}, "Sibling Name", "from the list"),
    ],
)
def test_bad_choices_are_said_beside_the_heading(
    chosen: dict[str, str], heading: str, words: str
) -> None:
    made = make_mapping("list", None, chosen)
    assert made.mapping is None
    assert words in made.problems[heading], made.problems


def test_a_name_is_needed() -> None:
    assert slug("  Our SEN list! ") == "our-sen-list"
    made = make_mapping("!!", None, CHOSEN)
    assert made.mapping is None and "name" in made.problems
    nothing = make_mapping("list", None, dict.fromkeys(ODD, IGNORE))
    assert nothing.mapping is None and "nothing would be read" in nothing.problems["name"]


def test_saved_mappings_are_kept_per_school_latest_first() -> None:
    con = duckdb.connect()
    ensure_access_tables(con)
    made = make_mapping("Our pupil list", None, CHOSEN)
    save_mapping(con, "100001", made.document, saved_by=1)
    save_mapping(con, "100002", made.document, saved_by=2)
    renamed = make_mapping("Our pupil list", None, {**CHOSEN, "Tutor Set": IGNORE})
    save_mapping(con, "100001", renamed.document, saved_by=1)
    mine = saved_mappings(con, frozenset({"100001"}))
    assert [(m.school_urn, m.name) for m in mine] == [("100001", "our-pupil-list")]
    assert "characteristics" not in mine[0].mapping.entities  # the later version
    assert mine[0].description == "Our pupil list"
    assert len(saved_mappings(con, None)) == 2
    assert find_saved(con, "100002:our-pupil-list", frozenset({"100001"})) is None
    assert find_saved(con, "100002:our-pupil-list", None) is not None
    # Every version is kept.
    assert con.execute("SELECT count(*) FROM app.column_mappings").fetchone() == (3,)


def test_a_saved_mapping_spoilt_outside_the_app_is_not_offered() -> None:
    con = duckdb.connect()
    ensure_access_tables(con)
    save_mapping(con, "100001", make_mapping("Good", None, CHOSEN).document, saved_by=1)
    con.execute(
        "INSERT INTO app.column_mappings VALUES ('100001', 'bad', ?, now(), NULL)",
        ["name: bad\nentities: !!python/object:os.system {}\n"],
    )
    assert [m.name for m in saved_mappings(con, None)] == ["good"]
