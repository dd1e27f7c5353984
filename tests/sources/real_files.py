"""What every real-file test does the same way: the fixtures and their truth files
(fixtures/real/, see its README), a school set up from the GIAS extract, a file imported
through the CLI as staff would, and what the warehouse quarantined of it.

The CLI steps assert success with the command's output in the message, so a failed set-up
or import shows why rather than a bare exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import yaml
from typer.testing import CliRunner

from empowered.cli import app

REAL = Path(__file__).parent / "fixtures" / "real"
GIAS = REAL / "gias_edubasealldata_extract.csv"
_runner = CliRunner()


def read_truth(name: str) -> dict[str, Any]:
    """The hand-written truth for a fixture: ``<name>.expected.yml`` beside it."""
    document: dict[str, Any] = yaml.safe_load(
        (REAL / name).with_suffix(".expected.yml").read_text(encoding="utf-8")
    )
    return document


def set_up_school(warehouse: str | Path, urn: str) -> None:
    """``empowered school add URN --from-gias GIAS``: the school as a trust first adds it."""
    added = _runner.invoke(
        app, ["school", "add", urn, "--from-gias", str(GIAS), "--warehouse", str(warehouse)]
    )
    assert added.exit_code == 0, added.output


def import_file(
    warehouse: str | Path,
    name_or_path: str | Path,
    *,
    school: str | None = None,
    export_date: str | None = None,
) -> str:
    """``empowered import FILE``, a name meaning a fixture in REAL; the command's output."""
    path = REAL / name_or_path if isinstance(name_or_path, str) else name_or_path
    args = ["import", str(path)]
    if school is not None:
        args += ["--school", school]
    if export_date is not None:
        args += ["--export-date", export_date]
    result = _runner.invoke(app, [*args, "--warehouse", str(warehouse)])
    assert result.exit_code == 0, result.output
    return str(result.output)


def quarantined_rows(warehouse: str | Path, file: str) -> list[int]:
    """The source rows of the file that were quarantined, each once, in order."""
    return sorted({row for row, _, _ in rejections(warehouse, file)})


def rejections(warehouse: str | Path, file: str) -> list[tuple[int, str | None, str | None]]:
    """Every rejection of the file's rows: (source row, column, value), by row and column."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT source_row, column_name, value FROM quarantine.rejected_rows "
            "WHERE source_file = ? ORDER BY source_row, column_name",
            [file],
        ).fetchall()
    finally:
        con.close()
    return [(int(r), c, v) for r, c, v in rows]
