"""An import that takes nothing says so first, with the next step, and exits non-zero;
a folder with one file nobody recognises still imports the rest."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from empowered.cli import app

runner = CliRunner()

SCHOOLS = "school_urn,la_code,estab,school_name,phase,trust_name\n990001,999,2001,Oak,primary,\n"
PUPILS = (
    "school_urn,upn,forename,surname,date_of_birth,sex\n"
    "990001,L999200115001,Ada,Testpupil,2015-03-14,F\n"
)


def test_a_folder_of_files_nobody_recognises_exits_non_zero(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "timetable.csv").write_text("Period,Room,Teacher\n1,B12,XX\n")
    result = runner.invoke(app, ["import", str(folder), "--warehouse", str(tmp_path / "w.db")])
    assert result.exit_code == 1
    assert result.output.startswith("Nothing imported: no file is a format EmpowerED+ recognises")
    assert "timetable.csv" in result.output and "--source" in result.output


def test_one_unknown_file_does_not_stop_the_rest_of_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "schools.csv").write_text(SCHOOLS)
    (folder / "pupils.csv").write_text(PUPILS)
    (folder / "timetable.csv").write_text("Period,Room,Teacher\n1,B12,XX\n")
    result = runner.invoke(app, ["import", str(folder), "--warehouse", str(tmp_path / "w.db")])
    assert result.exit_code == 0, result.output
    assert "timetable.csv: not a format EmpowerED+ recognises; skipped" in result.output
    assert "build ok" in result.output


def test_an_import_whose_every_row_is_quarantined_exits_non_zero(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "schools.csv").write_text(SCHOOLS)
    warehouse = str(tmp_path / "w.db")
    assert runner.invoke(app, ["import", str(folder), "--warehouse", warehouse]).exit_code == 0
    bad = tmp_path / "pupils.csv"
    bad.write_text(PUPILS.replace("2015-03-14", "31/02/2015").replace("L999", "X999"))
    result = runner.invoke(app, ["import", str(bad), "--warehouse", warehouse])
    assert result.exit_code == 1
    # The verdict comes before the report (after the build's progress lines).
    verdict = result.output.index("Nothing accepted: all 1 records read were quarantined.")
    assert verdict < result.output.index("Import report")
    assert "Next: correct the file (the report lists every row)" in result.output
