from pathlib import Path

import pytest

from empowered.exports import safe_cell, write_csv


@pytest.mark.parametrize("value", ["=1+1", "+44 7700", "-2", "@SUM(A1)", "\t=x", "\r=x"])
def test_cells_that_a_spreadsheet_would_run_are_defused(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Ada", "2025-09-01", "", 7, None, "a=b"])
def test_ordinary_cells_are_untouched(value: object) -> None:
    assert safe_cell(value) == value


def test_written_csv_holds_no_live_formula(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(path, ["note"], [['=HYPERLINK("http://example.invalid")'], ["fine"]])
    text = path.read_text(encoding="utf-8-sig").splitlines()
    assert text[1].startswith("\"'=HYPERLINK") and text[2] == "fine"
