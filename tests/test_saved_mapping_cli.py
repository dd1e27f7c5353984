"""``empowered import --source saved:NAME --school URN``: a mapping the school saved on
the upload page, used at the command line too."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from empowered.access.store import ensure_access_tables
from empowered.cli import app
from empowered.sources.mapping_builder import make_mapping
from empowered.sources.saved_mappings import save_mapping
from empowered.warehouse.connection import open_warehouse

runner = CliRunner()

SCHOOLS = "school_urn,la_code,estab,school_name,phase,trust_name\n990001,999,2001,Oak,primary,\n"
ODD = "Pupil Number,Given Names,Family Names,Born On\r\nL999200115001,Ada,Testpupil,14/03/2015\r\n"
CHOICES = {
    "Pupil Number": "upn",
    "Given Names": "pupils.forename",
    "Family Names": "pupils.surname",
    "Born On": "pupils.date_of_birth",
}


def test_a_saved_mapping_is_used_by_name(tmp_path: Path) -> None:
    warehouse = str(tmp_path / "w.db")
    (tmp_path / "schools.csv").write_text(SCHOOLS)
    assert (
        runner.invoke(
            app, ["import", str(tmp_path / "schools.csv"), "--warehouse", warehouse]
        ).exit_code
        == 0
    )
    con = open_warehouse(Path(warehouse))
    ensure_access_tables(con)
    save_mapping(con, "990001", make_mapping("Our list", None, CHOICES).document, saved_by=None)
    con.close()
    odd = tmp_path / "odd.csv"
    odd.write_text(ODD)
    # Without it, nothing recognises the file.
    plain = runner.invoke(app, ["import", str(odd), "--warehouse", warehouse, "--school", "990001"])
    assert plain.exit_code == 1
    used = runner.invoke(
        app,
        ["import", str(odd), "--warehouse", warehouse, "--school", "990001",
         "--source", "saved:our-list"],
    )  # fmt: skip
    assert used.exit_code == 0, used.output
    assert "build ok" in used.output
    con = open_warehouse(Path(warehouse))
    assert con.execute("SELECT count(*) FROM core.dim_pupil").fetchone() == (1,)
    con.close()
    unknown = runner.invoke(
        app,
        ["import", str(odd), "--warehouse", warehouse, "--school", "990001",
         "--source", "saved:their-list"],
    )  # fmt: skip
    assert unknown.exit_code == 2
    assert "no saved mapping called 'their-list' (its mappings: our-list)" in unknown.output
    no_school = runner.invoke(
        app, ["import", str(odd), "--warehouse", warehouse, "--source", "saved:our-list"]
    )
    assert no_school.exit_code == 2 and "--school URN" in no_school.output
