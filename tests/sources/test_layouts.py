"""Layouts fitted from an export's headings: the one that uses the most columns wins,
against the shipped presets too, and the report says which and what it left unused."""

from __future__ import annotations

from pathlib import Path

from empowered.sources.layouts import LayoutReader, best_fit
from empowered.sources.mapping import MappedTableReader
from empowered.sources.registry import choose_reader
from empowered.sources.tabular import read_table


def test_real_spellings_fit_the_pupil_list() -> None:
    header = ["Adno", "UPN", "Legal Surname", "Legal Forename", "DOB", "Reg Group", "EAL",
              "Pupil Premium Indicator", "In Care", "Shoe Size"]  # fmt: skip
    fitted = best_fit(header)
    assert fitted is not None and fitted.layout.name == "pupil-list"
    assert (fitted.used, fitted.columns) == (9, 10)
    columns = fitted.mapping.entities
    assert columns["pupils"]["mis_id"] == "Adno"
    assert columns["characteristics"]["reg_group"] == "Reg Group"
    assert columns["characteristics"]["pupil_premium"] == "Pupil Premium Indicator"
    assert columns["characteristics"]["eal"] == "EAL"
    # Every record of the row names the pupil as the pupil's own record does.
    assert columns["characteristics"]["upn"] == "UPN"
    assert "sen_status" not in columns  # no SEN column: no SEN records
    assert fitted.mapping.school_urn.kind == "ask"


def test_a_urn_column_is_used_and_a_file_without_pupils_fits_nothing() -> None:
    fitted = best_fit(["School URN", "UPN", "Forename", "Surname", "SEN Status"])
    assert fitted is not None
    assert fitted.mapping.school_urn.value == "School URN"
    assert fitted.mapping.entities["sen_status"]["start_date"] == "@file_date"
    assert best_fit(["Period", "Room", "Teacher"]) is None
    assert best_fit(["UPN", "Shoe Size"]) is None  # a UPN alone is not a pupil list


def test_the_layout_wins_over_a_preset_only_when_it_reads_more(tmp_path: Path) -> None:
    # The sims-pupils preset's own columns: the preset reads them all, and wins the tie.
    preset_file = tmp_path / "students.csv"
    preset_file.write_text(
        "Adno,UPN,Legal Surname,Legal Forename,DOB,Gender,Year,Reg\n"
        "1,L999200115001,Test,Ada,14/03/2015,F,Year 6,6B\n"
    )
    reader = choose_reader(preset_file, "auto", school="990001")
    assert isinstance(reader, MappedTableReader) and reader.name == "sims-pupils"
    # The same report with the spellings another school's SIMS gives: the preset would
    # leave "Reg Group", "FSM6" and "EAL" unread; the layout reads them.
    other = tmp_path / "students2.csv"
    other.write_text(
        "Adno,UPN,Legal Surname,Legal Forename,DOB,Gender,Year,Reg Group,FSM6,EAL\n"
        "1,L999200115001,Test,Ada,14/03/2015,F,Year 6,6B,No,No\n"
    )
    reader = choose_reader(other, "auto", school="990001")
    assert isinstance(reader, LayoutReader)
    read = reader.read(other)
    assert read.warnings[0].startswith("read as a pupil list (one row per pupil)")
    assert read.unknown_columns == []


def test_the_export_date_is_the_line_that_says_when_the_report_ran(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text(
        "Attendance summary\n"
        "Date range: 01/09/2026 - 30/11/2026\n"
        "Report run: 01-Dec-2026 08:30\n"
        "UPN,Possible\n"
        "L999200115001,120\n"
    )
    assert read_table(path, expected=["UPN"]).file_date == "01-Dec-2026"
    only_a_date = tmp_path / "list.csv"
    only_a_date.write_text("Pupils on roll 23/11/2026\nUPN,Year\nL999200115001,3\n")
    assert read_table(only_a_date, expected=["UPN"]).file_date == "23/11/2026"


def test_a_register_row_saying_no_sen_is_a_status_without_a_need(tmp_path: Path) -> None:
    # A SEN register with each pupil's history: the pupil taken off the register has a
    # "No SEN" row with no need and no rank. It is the status that ends the history, not a
    # need with its type missing (which staging would quarantine).
    path = tmp_path / "register.csv"
    path.write_text(
        "UPN,SEN Status,SEN Status Start Date,SEN Need Type,Ranking,Need Start Date,"
        "Need End Date\n"
        "L999200115001,K - SEN Support,02/09/2025,Moderate Learning Difficulty,1,02/09/2025,"
        "05/01/2026\n"
        "L999200115001,No SEN,06/01/2026,,,,\n"
        "L999200115001,K - SEN Support,02/03/2026,,,,\n"
    )
    reader = choose_reader(path, "auto", school="990001")
    assert isinstance(reader, LayoutReader) and reader.fitted.layout.name == "sen-register"
    records = reader.read(path).records
    statuses = [(r.values["sen_provision"], r.source_row) for r in records
                if r.entity == "sen_status"]  # fmt: skip
    needs = [(r.values["need_type"], r.source_row) for r in records if r.entity == "sen_needs"]
    assert statuses == [("K", 2), ("N", 3), ("K", 4)]
    # The SEN Support row with its need left empty still makes a need record, which
    # staging quarantines for its missing need: only "No SEN" rows make none.
    assert needs == [("MLD", 2), (None, 4)]
