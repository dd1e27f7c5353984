"""Reading spreadsheet-like files safely: encodings, delimiters, title lines, summary rows,
spreadsheet row numbers, workbooks read as values only, and files refused before parsing."""

from __future__ import annotations

import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from empowered.sources.errors import SourceError
from empowered.sources.tabular import Table, normalise_header, read_header, read_table

PUPILS = "UPN,Surname,Forename,DOB\r\nA1,Walker,Zoë,21/09/2015\r\nA2,García,José,02/03/2016\r\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def cells(table: Table, column: str) -> list[str | None]:
    at = table.header.index(column)
    return [row[at] for _, row in table.rows]


# --- Encodings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (PUPILS.encode("utf-8"), "utf-8"),
        (PUPILS.encode("utf-8-sig"), "utf-8-sig"),
        (PUPILS.encode("cp1252"), "cp1252"),
        (PUPILS.encode("utf-16"), "utf-16"),
    ],
)
def test_accented_names_survive_every_encoding(tmp_path: Path, data: bytes, encoding: str) -> None:
    table = read_table(write(tmp_path, "pupils.csv", data))
    assert table.encoding == encoding
    assert table.header == ["UPN", "Surname", "Forename", "DOB"]  # no BOM left on "UPN"
    assert cells(table, "Forename") == ["Zoë", "José"]
    assert cells(table, "Surname") == ["Walker", "García"]


def test_cp1252_is_named_in_a_warning(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "pupils.csv", PUPILS.encode("cp1252")))
    assert any("Windows-1252" in w for w in table.warnings)


def test_letters_a_cp1252_export_could_not_hold_are_flagged(tmp_path: Path) -> None:
    text = PUPILS + "A3,Wiśniewska,Łukasz,01/01/2016\r\n"
    table = read_table(write(tmp_path, "pupils.csv", text.encode("cp1252", errors="replace")))
    assert cells(table, "Surname")[-1] == "Wi?niewska"
    assert any("'?' inside a word" in w and "rows 4" in w for w in table.warnings)


def test_binary_and_undecodable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="NUL bytes"):
        read_table(write(tmp_path, "a.csv", b"UPN,Name\x00\r\n"))
    with pytest.raises(SourceError, match="neither UTF-8 nor Windows-1252"):
        read_table(write(tmp_path, "b.csv", b"UPN,Name\r\nA1,\x81\x8d\r\n"))


# --- Delimiters, title lines, summary rows, row numbers --------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_detected(tmp_path: Path, delimiter: str) -> None:
    # Commas inside quoted names must not fool the detection for the other delimiters.
    lines = [
        ["UPN", "Name", "Year", "Reg"],
        ["A1", '"Walker, Zoë"', "3", "3A"],
        ["A2", '"García, José"', "4", "4B"],
    ]
    text = "\r\n".join(delimiter.join(line) for line in lines) + "\r\n"
    table = read_table(write(tmp_path, "pupils.csv", text.encode("utf-8")))
    assert table.delimiter == delimiter
    assert cells(table, "Name") == ["Walker, Zoë", "García, José"]


def test_title_lines_summary_and_blank_rows(tmp_path: Path) -> None:
    text = (
        "Student List\r\n"  # row 1
        "Report generated 23/11/2026\r\n"  # row 2
        "\r\n"  # row 3
        "UPN,Surname,Forename,DOB\r\n"  # row 4: the header
        "A1,Walker,Zoë,21/09/2015\r\n"  # row 5
        ",,,\r\n"  # row 6: blank
        "A2,García,José,02/03/2016\r\n"  # row 7
        "UPN,Surname,Forename,DOB\r\n"  # row 8: a header repeated on a new page
        "Total: 2\r\n"  # row 9
        "Count:,2\r\n"  # row 10
        "Number of students: 2\r\n"  # row 11
        "\r\n"  # row 12: the trailing blank line
    )
    table = read_table(write(tmp_path, "pupils.csv", text.encode("utf-8")))
    assert table.header_row == 4
    assert table.preamble == ["Student List", "Report generated 23/11/2026"]
    assert table.file_date == "23/11/2026"
    assert [n for n, _ in table.rows] == [5, 7]
    reasons = {s.source_row: s.reason for s in table.skipped}
    assert reasons[6] == "blank row"
    assert reasons[8] == "repeats the header row"
    assert "summary" in reasons[9] and "Total" in reasons[9]
    assert "summary" in reasons[10] and "Count" in reasons[10]
    assert "summary" in reasons[11] and "Number of" in reasons[11]
    assert reasons[12] == "blank row"


def test_expected_columns_choose_the_header_among_title_lines(tmp_path: Path) -> None:
    text = "School,Yarrowwick,Printed,23/11/2026\r\nUPN,Surname,Forename,DOB\r\nA1,Walker,Zoë,x\r\n"
    path = write(tmp_path, "pupils.csv", text.encode("utf-8"))
    assert read_table(path, expected={"upn", "surname"}).header_row == 2
    # Without hints, a row holding a date is taken for a title line, not the header.
    assert read_table(path).header_row == 2
    assert read_header(path, expected={"upn", "dob"}) == ["UPN", "Surname", "Forename", "DOB"]


def test_row_numbers_are_what_a_spreadsheet_shows(tmp_path: Path) -> None:
    # A quoted cell holding a line break is still one spreadsheet row.
    text = 'Title\r\n\r\nUPN,Note\r\nA1,"two\r\nlines"\r\nA2,plain\r\n'
    table = read_table(write(tmp_path, "notes.csv", text.encode("utf-8")))
    assert table.rows == [(4, ["A1", "two\r\nlines"]), (5, ["A2", "plain"])]


def test_short_rows_are_padded_and_overflowing_cells_reported(tmp_path: Path) -> None:
    text = "UPN,Name,Year\r\nA1,Zoë\r\nA2,José,4,surplus\r\n"
    table = read_table(write(tmp_path, "p.csv", text.encode("utf-8")))
    assert table.rows == [(2, ["A1", "Zoë", None]), (3, ["A2", "José", "4"])]
    assert any("rows 3" in w for w in table.warnings)


def test_a_file_without_a_header_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no header row"):
        read_table(write(tmp_path, "one.csv", b"just\r\none\r\ncolumn\r\n"))


def test_normalise_header() -> None:
    assert normalise_header("Date of Birth") == "date_of_birth"
    assert normalise_header("UPN ") == "upn"
    assert normalise_header("Reg Group") == "reg_group"
    assert normalise_header("SEN Need Type (Primary)") == "sen_need_type_primary"
    assert normalise_header("\ufeffStudent  Id") == "student_id"
    assert normalise_header("Année") == "année"


# --- Size limits -----------------------------------------------------------------------


def test_oversize_files_are_refused_with_the_limit_and_how_to_change_it(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", PUPILS.encode("utf-8"))
    with pytest.raises(SourceError, match="limit") as caught:
        read_table(path, max_bytes=10)
    assert "max_bytes" in str(caught.value)


# --- Workbooks -------------------------------------------------------------------------


def write_workbook(path: Path) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Students")
    uk_date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_string(0, 0, "Student Details")
    sheet.write_string(1, 0, "Printed 23/11/2026 09:15")
    sheet.write_row(3, 0, ["Student Id", "Forename", "DOB", "Seen", "Doubled", "Tripled"])
    sheet.write_number(4, 0, 1262)
    sheet.write_string(4, 1, "Zoë")
    sheet.write_datetime(4, 2, date(2015, 9, 21), uk_date)
    sheet.write_datetime(4, 3, datetime(2026, 11, 2, 8, 45), uk_date)
    # A formula and its saved result: the result is read, the formula never runs (the
    # saved result is deliberately not what the formula would give).
    sheet.write_formula(4, 4, "=A5*2", None, 999)
    # A formula saved without a result: read as empty, and reported.
    sheet.write_formula(4, 5, "=A5*3", None, "")
    sheet.write_number(5, 0, 12.5)
    sheet.write_string(5, 1, "José")
    sheet.write_formula(5, 4, '=HYPERLINK("http://example.invalid","x")', None, "x")
    sheet.write_string(6, 0, "Number of students: 2")
    workbook.close()


def test_xlsx_values_only(tmp_path: Path) -> None:
    path = tmp_path / "students.xlsx"
    write_workbook(path)
    table = read_table(path)
    assert table.sheet == "Students"
    assert table.header_row == 4
    assert table.file_date == "23/11/2026"
    assert table.rows == [
        (5, ["1262", "Zoë", "2015-09-21", "2026-11-02 08:45", "999", None]),
        (6, ["12.5", "José", None, None, "x", None]),
    ]
    assert table.skipped[0].source_row == 7 and "summary" in table.skipped[0].reason
    assert any("no saved result" in w and "F5" in w for w in table.warnings)


def test_xlsx_sheet_can_be_chosen(tmp_path: Path) -> None:
    path = tmp_path / "students.xlsx"
    write_workbook(path)
    assert read_table(path, sheet="Students").sheet == "Students"
    with pytest.raises(SourceError, match="no worksheet 'Other'"):
        read_table(path, sheet="Other")


def test_a_zip_bomb_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(SourceError, match="zip bomb"):
        read_table(path)


def test_a_workbook_expanding_past_the_total_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "students.xlsx"
    write_workbook(path)
    with pytest.raises(SourceError, match="would expand"):
        read_table(path, max_unzipped_bytes=1000)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("fake.xlsx", PUPILS.encode("utf-8"), "not a zip archive"),
        ("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, r"old-style Excel"),
        ("broken.xlsx", b"PK\x03\x04not really a zip", "not a valid .xlsx"),
    ],
)
def test_files_that_are_not_workbooks_are_refused(
    tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    with pytest.raises(SourceError, match=message):
        read_table(write(tmp_path, name, data))


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.txt", "hello")
    with pytest.raises(SourceError, match="not an .xlsx workbook"):
        read_table(path)


# --- Anything at all: a Table or a SourceError, never another exception -----------------

CSV_ISH = st.text(alphabet=st.sampled_from(list('ab1 ,;\t|"\r\nTotalé?Ł/:')), max_size=400)


def _read_anything(name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            read_header(path, head=data[:4096])
        except SourceError:
            pass
        try:
            result = read_table(path)
        except SourceError:
            return
        assert isinstance(result, Table)
        assert all(len(cells) == len(result.header) for _, cells in result.rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600), st.sampled_from(["x.csv", "x.xlsx", "x.txt"]))
def test_random_bytes_give_a_table_or_a_source_error(data: bytes, name: str) -> None:
    _read_anything(name, data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CSV_ISH, st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_csv_ish_text_gives_a_table_or_a_source_error(text: str, encoding: str) -> None:
    _read_anything("x.csv", text.encode(encoding, errors="replace"))


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_random_zip_members_give_a_table_or_a_source_error(member: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.xlsx"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("xl/workbook.xml", member)
            archive.writestr("xl/worksheets/sheet1.xml", member)
        _read_anything("x.xlsx", path.read_bytes())
