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
from empowered.sources.mapping_builder import (
    CHOICES,
    IGNORE,
    choices_for,
    likely_layout,
    make_mapping,
    slug,
    unread_headings,
)
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


REGISTER = ["UPN", "Need Description", "Priority", "From", "Until", "SEN Status"]
REGISTER_CHOSEN = {
    "Need Description": "sen_needs.need_type",
    "Priority": "sen_needs.need_rank",
    "From": "sen_needs.start_date",
    "Until": "sen_needs.end_date",
}


def test_a_register_with_odd_headings_is_asked_about_as_a_register(tmp_path: Path) -> None:
    # No layout fits (its need heading is unknown), but the file looks like a register:
    # the register's own columns are offered, not a pupil list's.
    assert best_fit(REGISTER) is None
    assert likely_layout(REGISTER, None) == "sen-register"
    offered = {c.value for c in choices_for("sen-register")}
    assert {"upn", "mis_id", "sen_needs.need_rank", "sen_status.sen_provision"} <= offered
    assert "pupils.forename" not in offered
    made = make_mapping(
        "Our register",
        None,
        {"UPN": "upn", **REGISTER_CHOSEN, "SEN Status": "sen_status.sen_provision"},
        "sen-register",
    )
    assert made.problems == {} and made.mapping is not None
    text = yaml.safe_dump(made.document, allow_unicode=True, sort_keys=False)
    again = load_mapping(text)
    assert again.entities == made.mapping.entities
    assert again.entities["sen_needs"] == {
        "need_type": "Need Description",
        "need_rank": "Priority",
        "start_date": "From",
        "end_date": "Until",
        "upn": "UPN",
    }
    # Read with it: each need its own record with its rank and dates; the status once,
    # naming the rank-1 need as the primary one.
    path = tmp_path / "register.csv"
    path.write_text(
        ",".join(REGISTER) + "\r\n"
        "A123,SPLD,1,01/09/2024,,SEN Support\r\n"
        "A123,SLCN,2,15/01/2025,31/07/2026,SEN Support\r\n",
        encoding="utf-8",
    )
    result = SavedMappingReader(again, school="100001", file_date="2026-12-01").read(path)
    needs = [r.values for r in result.records if r.entity == "sen_needs"]
    assert [
        (n["need_type"], n["need_rank"], n["start_date"], n.get("end_date")) for n in needs
    ] == [("SPLD", "1", "2024-09-01", None), ("SLCN", "2", "2025-01-15", "2026-07-31")]
    statuses = [r.values for r in result.records if r.entity == "sen_status"]
    assert len(statuses) == 1
    assert statuses[0]["sen_provision"] == "K" and statuses[0]["primary_need"] == "SPLD"
    assert statuses[0]["secondary_need"] == "SLCN"
    assert statuses[0]["start_date"] == "2026-12-01"  # no heading said: the export date
    assert result.unknown_columns == []


@pytest.mark.parametrize(
    ("chosen", "heading", "words"),
    [
        # A rank with no need to rank: said beside the rank.
        ({"UPN": "upn", "Priority": "sen_needs.need_rank"}, "Priority", "Type of SEN need"),
        # A need nobody is named on.
        ({"Need Description": "sen_needs.need_type"}, "Need Description", "UPN"),
        # One column twice.
        (
            {"UPN": "upn", **REGISTER_CHOSEN, "SEN Status": "sen_needs.need_type"},
            "SEN Status",
            "already comes from",
        ),
        # A pupil list's column is not among a register's choices.
        ({"UPN": "upn", **REGISTER_CHOSEN, "SEN Status": "pupils.sex"}, "SEN Status", "list"),
    ],
)
def test_bad_register_choices_are_said_beside_the_heading(
    chosen: dict[str, str], heading: str, words: str
) -> None:
    made = make_mapping("register", None, chosen, "sen-register")
    assert made.mapping is None
    assert words in made.problems[heading], made.problems


SUMMARY = [
    "Adno",
    "Sessions Possible (Total)",
    "Present (incl. late)",
    "Auth Abs",
    "Unauth Abs",
    "Lates (B/F)",
    "Educational Visits",
]


def test_an_attendance_summary_with_odd_headings_is_mapped_and_read(tmp_path: Path) -> None:
    assert best_fit(SUMMARY) is None
    assert likely_layout(SUMMARY, None) == "attendance-summary"
    assert unread_headings(SUMMARY, None) == SUMMARY
    made = make_mapping(
        "Autumn attendance",
        None,
        {
            "Adno": "mis_id",
            "Sessions Possible (Total)": "attendance_summary.possible",
            "Present (incl. late)": "attendance_summary.present",
            "Auth Abs": "attendance_summary.authorised",
            "Unauth Abs": "attendance_summary.unauthorised",
            "Lates (B/F)": "attendance_summary.late",
            "Educational Visits": "attendance_summary.approved_activity",
        },
        "attendance-summary",
    )
    assert made.problems == {} and made.mapping is not None
    again = load_mapping(yaml.safe_dump(made.document, allow_unicode=True, sort_keys=False))
    summary = again.entities["attendance_summary"]
    # The period, which no heading gives, is the report's "Date range" title line.
    assert summary["period_start"] == "@range_start" and summary["period_end"] == "@range_end"
    assert summary["mis_id"] == "Adno" and summary["possible"] == "Sessions Possible (Total)"
    path = tmp_path / "summary.csv"
    path.write_text(
        "Attendance summary\r\nDate range: 01/09/2026 - 18/12/2026\r\n"
        + ",".join(f'"{h}"' for h in SUMMARY)
        + "\r\n1042,140,126,8,6,3,2\r\n",
        encoding="utf-8",
    )
    result = SavedMappingReader(again, school="100001", file_date="2026-12-20").read(path)
    (row,) = [r.values for r in result.records if r.entity == "attendance_summary"]
    assert row["mis_id"] == "1042" and row["school_urn"] == "100001"
    assert (row["period_start"], row["period_end"]) == ("2026-09-01", "2026-12-18")
    figures = ("possible", "present", "authorised", "unauthorised", "late", "approved_activity")
    assert [row[f] for f in figures] == ["140", "126", "8", "6", "3", "2"]


def test_an_attendance_summary_needs_its_possible_sessions() -> None:
    made = make_mapping(
        "attendance",
        None,
        {"Adno": "mis_id", "Auth Abs": "attendance_summary.authorised"},
        "attendance-summary",
    )
    assert made.mapping is None
    assert "Possible sessions" in made.problems["Auth Abs"], made.problems


def test_a_pupil_list_is_still_offered_a_pupil_lists_choices() -> None:
    assert likely_layout(ODD, None) is None
    assert choices_for(None) == CHOICES
    fitted = best_fit(["UPN", "Surname", "Forename", "DOB", "Keyworker"])
    assert fitted is not None and choices_for(likely_layout([], fitted.mapping)) == CHOICES
