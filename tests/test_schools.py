"""Setting up a school, as a SENCo would on day one: ``empowered school add`` and ``list``.

The GIAS fixture (tests/sources/fixtures/gias/) is written as the DfE publishes its
establishment file: Windows-1252, the real column labels in their order, DD-MM-YYYY
dates; its schools and people are invented.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from empowered.cli import app
from empowered.schools import SchoolError, details
from empowered.sources.errors import SourceError
from empowered.sources.gias import find_school

runner = CliRunner()
GIAS = Path(__file__).parent / "sources" / "fixtures" / "gias" / "edubasealldata-extract.csv"


def _current_school(warehouse: Path, urn: str) -> tuple[object, ...] | None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT school_name, phase, la_code, estab, dfe_number, trust_name, "
            "establishment_type FROM core.dim_school WHERE school_urn = ?",
            [urn],
        ).fetchone()
    finally:
        con.close()


def test_gias_file_is_read_in_windows_1252_by_its_labels() -> None:
    assert GIAS.read_bytes().count(b"\x92") == 1  # the curly apostrophe, as cp1252 writes it
    school = find_school(GIAS, "990001")
    assert school.name == "St Anne\u2019s Church of England Primary Academy"
    assert (school.la_code, school.estab, school.phase) == ("999", "2001", "primary")
    assert school.trust_name == "EXAMPLE LEARNING TRUST"
    assert school.establishment_type == "Academy converter"
    # GIAS gives a special school and a pupil referral unit the phase "Not applicable":
    # the type of establishment decides.
    assert find_school(GIAS, "990002").phase == "special"
    assert find_school(GIAS, "990003").phase == "alternative provision"
    assert find_school(GIAS, "990005").phase == "secondary"
    nursery = find_school(GIAS, "990004")
    assert nursery.phase is None and nursery.gias_phase == "Nursery"


def test_gias_errors_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="has no establishment with URN 123456"):
        find_school(GIAS, "123456")
    other = tmp_path / "pupils.csv"
    other.write_text("UPN,Surname\n")
    with pytest.raises(SourceError, match="is not the GIAS establishment file"):
        find_school(other, "990001")
    with pytest.raises(SchoolError, match="'Nursery', which is not one EmpowerED\\+ has"):
        details("990004", gias=GIAS)
    assert details("990004", gias=GIAS, phase="primary").name == "Little Acorns Nursery School"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["12345", "--name", "X", "--phase", "primary"], "is not a URN"),
        (["123456", "--phase", "primary"], "A school needs a name"),
        (["123456", "--name", "X"], "A school needs a phase"),
        (["123456", "--name", "X", "--phase", "infant"], "is not a phase EmpowerED+ has"),
        (["123456", "--name", "X", "--phase", "primary", "--la", "12"], "3 digits"),
    ],
)
def test_school_add_refuses_what_staging_would_quarantine(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = runner.invoke(app, ["school", "add", *arguments, "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert "School not added" in result.output and message in result.output
    assert not warehouse.exists()  # nothing was opened, let alone landed


def test_school_add_then_import_with_school_accepts_the_pupils(tmp_path: Path) -> None:
    """The issue's first finding: without a way to make the school, every row of a
    school's own export was quarantined."""
    warehouse = tmp_path / "w.duckdb"
    export = tmp_path / "StudentList.csv"
    export.write_bytes(
        (
            "Student List - printed 01/12/2026\r\n"
            "Adno,UPN,Legal Surname,Legal Forename,DOB,Gender,Year,Reg\r\n"
            "001234,L999200115001,Testpupil,Ada,14/03/2015,F,Year 6,6B\r\n"
            "001235,A999200115002,Samplechild,Bo,02/11/2014,M,Year 6,6B\r\n"
        ).encode("cp1252")
    )
    before = runner.invoke(
        app, ["import", str(export), "--school", "990001", "--warehouse", str(warehouse)]
    )
    # Nothing accepted is a failure, said first, with the next step.
    assert before.exit_code == 1
    verdict = before.output.index("Nothing accepted: all 4 records read were quarantined.")
    assert verdict < before.output.index("Import report")
    assert "Next: set the school up with `empowered school add URN" in before.output

    added = runner.invoke(
        app, ["school", "add", "990001", "--from-gias", str(GIAS), "--warehouse", str(warehouse)]
    )
    assert added.exit_code == 0, added.output
    assert "School 990001 set up: St Anne\u2019s Church of England Primary Academy" in added.output
    assert "DfE number 9992001" in added.output
    assert _current_school(warehouse, "990001") == (
        "St Anne\u2019s Church of England Primary Academy",
        "primary",
        "999",
        "2001",
        "9992001",
        "EXAMPLE LEARNING TRUST",
        "Academy converter",
    )
    export.write_bytes(export.read_bytes() + b"\r\n")  # a new file: the first one is landed
    after = runner.invoke(
        app, ["import", str(export), "--school", "990001", "--warehouse", str(warehouse)]
    )
    assert after.exit_code == 0, after.output
    assert "set it up first" not in after.output
    listed = runner.invoke(app, ["school", "list", "--warehouse", str(warehouse)])
    assert listed.exit_code == 0, listed.output
    line = next(x for x in listed.output.splitlines() if "990001" in x)
    assert "primary" in line and "9992001" in line and line.rstrip(" │").endswith(" 2")


def test_a_school_added_again_takes_its_latest_details(tmp_path: Path) -> None:
    """Adding A, then B, then A again lands three rows and the school's details are A's:
    the third addition is not mistaken for a repeat of the first."""
    warehouse = tmp_path / "w.duckdb"
    base = ["school", "add", "990009", "--phase", "primary", "--warehouse", str(warehouse)]
    for name in ("Oak Primary", "Oak Primary School", "Oak Primary"):
        result = runner.invoke(app, [*base, "--name", name])
        assert result.exit_code == 0, result.output
    school = _current_school(warehouse, "990009")
    assert school is not None and school[0] == "Oak Primary"
    assert school[2:5] == (None, None, None)  # no LA code or establishment number given
    con = duckdb.connect(str(warehouse), read_only=True)
    sources = con.execute(
        "SELECT source, count(*) FROM meta.batches WHERE entity = 'schools' GROUP BY ALL"
    ).fetchall()
    audited = con.execute(
        "SELECT count(*) FROM app.audit_log WHERE event = 'school_set_up'"
    ).fetchone()
    con.close()
    assert sources == [("school-setup", 3)]
    assert audited == (3,)


def test_school_list_before_any_school_says_how_to_start(tmp_path: Path) -> None:
    result = runner.invoke(app, ["school", "list", "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 0
    assert "No school yet. Set one up: empowered school add" in result.output
