"""Reading a spreadsheet-like file (CSV or XLSX) safely into rows of text.

Schools export from their MIS in whatever shape the report tool produces: title lines
above the header, Windows-1252 or UTF-8 with a byte-order mark, semicolons or tabs,
"Total: 57" at the bottom. This module finds the header and the data rows and hands every
cell back as text, numbered as a spreadsheet shows it (the first line of the file is row
1, whatever it holds), so an import report can say "row 12" and the school finds it.

Nothing in a file is ever evaluated: workbook formulas are read as the value the
spreadsheet saved last (calamine never calculates), and CSV cells are plain text. Cell
contents are never logged or put in error messages: they can identify a pupil.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePosixPath

import python_calamine
from defusedxml import ElementTree as SafeET

from empowered.sources.errors import SourceError
from empowered.sources.records import SkippedRow

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 100 * MB
DEFAULT_MAX_UNZIPPED_BYTES = 200 * MB
# Deflate tops out near 1000:1 and real workbooks stay far below 100:1, so a member that
# expands more than this is built to exhaust memory. Members too small to matter are let
# through: a few kilobytes of repeated XML can compress very well without being a threat.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1 * MB
HEADER_SEARCH_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_HEAD_BYTES = 64 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls and password-protected workbooks
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_SUMMARY = re.compile(r"^\s*(total|count|number of)\b", re.IGNORECASE)
# A date as report titles write it: 23/11/2026, 2026-11-23, 1-Dec-2026, 1 December 2026.
_DATE_TEXT = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}(?:st|nd|rd|th)?[\s-](?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[\s-]\d{4})"
)
_TITLE_DATE = re.compile(rf"\b({_DATE_TEXT})\b", re.IGNORECASE)
_TITLE_RANGE = re.compile(
    rf"\b({_DATE_TEXT})\s*(?:to|until|-|\u2013)\s*({_DATE_TEXT})\b", re.IGNORECASE
)
# A title line that says when the report was taken ("Report run: 01-Dec-2026", "printed
# 01/12/2026", "Exported 01/12/2026") beats one that only holds a date, which may be the
# period reported on ("Date range: 01/09/2026 - 30/11/2026").
_TITLE_WHEN = re.compile(
    r"\b(run|printed|exported|produced|generated|created|extracted|as at|as of)\b", re.IGNORECASE
)
# A '?' between two letters in a Windows-1252 file is usually a character the exporting
# system could not write in that code page (Łukasz -> ?ukasz), not a question mark.
_REPLACED_CHAR = re.compile(r"(?:^|\w)\?\w")
_VALUE_LIKE = re.compile(r"^[\d\s.,/:+-]+$")  # a number, date or time rather than a name
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

Grid = list[list[str]]


@dataclass
class Table:
    """A file's header and data rows, every cell as text (None for an empty cell)."""

    file_name: str
    header: list[str]  # as written, trailing empty header cells dropped
    header_row: int  # spreadsheet row of the header (1 if nothing is above it)
    rows: list[tuple[int, list[str | None]]]  # (spreadsheet row, one cell per header column)
    skipped: list[SkippedRow] = field(default_factory=list)
    encoding: str | None = None  # "utf-8", "utf-8-sig", "utf-16" or "cp1252"; None for xlsx
    delimiter: str | None = None  # None for xlsx
    sheet: str | None = None  # worksheet read, for xlsx
    preamble: list[str] = field(default_factory=list)  # title lines above the header
    file_date: str | None = None  # first date in the title lines, as written
    date_range: tuple[str, str] | None = None  # "Date range: A to B" in the title lines
    warnings: list[str] = field(default_factory=list)


def normalise_header(name: str) -> str:
    """Compare header names loosely: "Date of Birth " -> "date_of_birth"."""
    return re.sub(r"[\W_]+", "_", name.strip().casefold()).strip("_")


def read_table(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    sheet: str | None = None,
    expected: Iterable[str] | None = None,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> Table:
    """Read a CSV or XLSX file; raise SourceError if it cannot be read safely.

    ``expected`` holds normalised column names the caller hopes to find; it decides which
    of the first rows is the header when title lines come first.
    """
    name = path.name
    wanted = {normalise_header(e) for e in expected or ()}
    try:
        _check_size(name, path.stat().st_size, max_bytes)
        with path.open("rb") as handle:
            magic = handle.read(len(_OLE_MAGIC))
            if magic.startswith(_ZIP_MAGIC):
                data = b""  # calamine opens workbooks itself, after the zip checks
            else:
                data = magic + handle.read()
    except OSError as err:
        raise SourceError(name, f"could not be opened: {err.strerror or err}") from err
    if magic.startswith(_ZIP_MAGIC):
        return _read_xlsx(path, sheet, wanted, max_unzipped_bytes)
    _refuse_non_csv(name, path.suffix.lower(), magic)
    text, encoding, warnings = _decode(name, data)
    grid, delimiter = _parse_csv(name, text)
    table = _build_table(name, grid, wanted, warnings)
    table.encoding, table.delimiter = encoding, delimiter
    if encoding == "cp1252":
        _warn_replaced_characters(table)
    return table


def read_header(
    path: Path,
    *,
    head: bytes | None = None,
    expected: Iterable[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[str]:
    """The header of a file, reading only its first bytes when it is a CSV.

    Used to recognise a layout without parsing a large attendance export twice.
    """
    name = path.name
    wanted = {normalise_header(e) for e in expected or ()}
    if head is None:
        try:
            with path.open("rb") as handle:
                head = handle.read(CSV_HEAD_BYTES)
        except OSError as err:
            raise SourceError(name, f"could not be opened: {err.strerror or err}") from err
    if head.startswith(_ZIP_MAGIC):
        return read_table(path, max_bytes=max_bytes, expected=wanted).header
    _refuse_non_csv(name, path.suffix.lower(), head[: len(_OLE_MAGIC)])
    text, _, _ = _decode(name, head, partial=True)
    # The last line of a sample may be cut in half; only whole lines are parsed.
    if "\n" in text.rstrip("\r\n"):
        text = text[: text.rstrip("\r\n").rindex("\n") + 1]
    grid, _ = _parse_csv(name, text)
    return _build_table(name, grid, wanted, []).header


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise SourceError(
            name,
            f"is {size / MB:.1f} MB, over the {max_bytes / MB:.0f} MB limit for one source "
            "file; if the file is genuine, raise the limit (the max_bytes setting the "
            "importer passes) or export a shorter date range",
        )


def _refuse_non_csv(name: str, suffix: str, magic: bytes) -> None:
    if magic.startswith(_OLE_MAGIC):
        raise SourceError(
            name,
            "is an old-style Excel (.xls) or password-protected workbook; "
            "save it as .xlsx or CSV without a password",
        )
    if suffix in XLSX_SUFFIXES:
        raise SourceError(name, "is not a zip archive, so it is not a real .xlsx workbook")


# --- CSV -------------------------------------------------------------------------------


def _decode(name: str, data: bytes, *, partial: bool = False) -> tuple[str, str, list[str]]:
    """Text, the encoding used and any warning. UTF-8 first: a file that is not valid
    UTF-8 is Windows-1252, the code page older MIS report tools write."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _decode_as(data, encoding, partial), encoding, []
            except UnicodeDecodeError as err:
                raise SourceError(name, f"is not valid {encoding} text") from err
    if b"\x00" in data:
        raise SourceError(name, "contains NUL bytes: it is a binary file, not a CSV export")
    try:
        return _decode_as(data, "utf-8", partial), "utf-8", []
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as err:
        raise SourceError(name, "is neither UTF-8 nor Windows-1252 text") from err
    return text, "cp1252", ["read as Windows-1252 (cp1252): the file is not valid UTF-8"]


def _decode_as(data: bytes, encoding: str, partial: bool) -> str:
    if not partial:
        return data.decode(encoding)
    # A sample can end inside a multi-byte character; the incremental decoder holds the
    # incomplete tail back instead of calling it invalid.
    return codecs.getincrementaldecoder(encoding)().decode(data, final=False)


def _parse_csv(name: str, text: str) -> tuple[Grid, str]:
    delimiter = _detect_delimiter(text)
    try:
        grid = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise SourceError(name, f"could not be read as CSV: {err}") from err
    return grid, delimiter


def _detect_delimiter(text: str) -> str:
    # Title lines ("Student List") hold no delimiter and would spoil the sniffer's count.
    lines = [line for line in text[:16384].splitlines() if any(d in line for d in DELIMITERS)]
    sample = lines[: HEADER_SEARCH_ROWS * 2]
    if not sample:
        return ","
    try:
        sniffed = csv.Sniffer().sniff("\n".join(sample), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    counted = _most_consistent(sample)
    # The sniffer is easily swayed by commas inside quoted names; trust it only when its
    # choice splits the lines at least as consistently as a plain count does.
    if sniffed in DELIMITERS and _consistency(sample, sniffed) >= _consistency(sample, counted):
        return sniffed
    return counted


def _consistency(lines: Sequence[str], delimiter: str) -> tuple[int, int]:
    """How many lines split into the most common number (above one) of fields, and that
    number: a real delimiter splits the header and every data line alike."""
    counts = [len(next(csv.reader([line], delimiter=delimiter), [])) for line in lines]
    wide = [c for c in counts if c > 1]
    if not wide:
        return (0, 0)
    modal = max(sorted(set(wide)), key=wide.count)
    return (wide.count(modal), modal)


def _most_consistent(lines: Sequence[str]) -> str:
    return max(DELIMITERS, key=lambda d: (_consistency(lines, d), -DELIMITERS.index(d)))


# --- XLSX ------------------------------------------------------------------------------


def _read_xlsx(path: Path, sheet: str | None, wanted: set[str], max_unzipped: int) -> Table:
    name = path.name
    formula_cells = _check_zip(path, max_unzipped, sheet)
    try:
        with python_calamine.CalamineWorkbook.from_path(str(path)) as workbook:
            sheet_name = _choose_sheet(name, workbook, sheet)
            # skip_empty_area=False keeps empty leading rows and columns, so index 0 is
            # row 1 and column A as the spreadsheet shows them.
            cells = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except (SourceError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # calamine raises many types for bad files, a Rust panic too
        raise SourceError(name, f"could not be read as an .xlsx workbook: {err}") from err
    grid = [[_cell_text(value) for value in row] for row in cells]
    warnings: list[str] = []
    missing = formula_cells.get(sheet_name, [])
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        warnings.append(
            f"{len(missing)} cell(s) hold a formula with no saved result ({shown}); they were "
            "read as empty. Formulas are never calculated on import: open the workbook in "
            "Excel, let it recalculate, save it and import it again"
        )
    table = _build_table(name, grid, wanted, warnings)
    table.sheet = sheet_name
    return table


def _choose_sheet(name: str, workbook: python_calamine.CalamineWorkbook, sheet: str | None) -> str:
    if sheet is not None:
        if sheet not in workbook.sheet_names:
            raise SourceError(
                name, f"has no worksheet {sheet!r} (it has: {', '.join(workbook.sheet_names)})"
            )
        return sheet
    visible = [
        m.name
        for m in workbook.sheets_metadata
        if m.visible == python_calamine.SheetVisibleEnum.Visible
        and m.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    if not visible:
        raise SourceError(name, "has no visible worksheet")
    return visible[0]


def _check_zip(path: Path, max_unzipped: int, sheet: str | None) -> dict[str, list[str]]:
    """Refuse archives built to exhaust memory before any XML is expanded, then list the
    formula cells that have no saved result (by sheet name)."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = 0
            for info in infos:
                total += info.file_size
                expands = info.file_size / max(info.compress_size, 1)
                if info.file_size > RATIO_CHECKED_FROM_BYTES and expands > MAX_COMPRESSION_RATIO:
                    raise SourceError(
                        name,
                        f"member {info.filename!r} expands {expands:.0f}:1 (limit "
                        f"{MAX_COMPRESSION_RATIO}:1): refused as a possible zip bomb",
                    )
            if total > max_unzipped:
                raise SourceError(
                    name,
                    f"would expand to {total / MB:.0f} MB, over the {max_unzipped / MB:.0f} MB "
                    "limit for a workbook: refused",
                )
            if "xl/workbook.xml" not in {i.filename for i in infos}:
                raise SourceError(name, "is a zip archive but not an .xlsx workbook")
            return _formulas_without_result(archive, sheet)
    except SourceError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as err:
        raise SourceError(name, f"is not a valid .xlsx workbook (bad zip archive: {err})") from err
    except Exception as err:  # corrupt parts: XML errors, unsupported compression, EOF
        raise SourceError(name, f"could not be read as an .xlsx workbook: {err}") from err


def _formulas_without_result(archive: zipfile.ZipFile, only: str | None) -> dict[str, list[str]]:
    parts = _sheet_parts(archive)
    found: dict[str, list[str]] = {}
    for sheet_name, part in parts.items():
        if only is not None and sheet_name != only:
            continue
        if part not in archive.namelist():
            continue
        refs: list[str] = []
        with archive.open(part) as stream:
            # Streamed, with each row cleared once seen: sheets can be large.
            for _, element in SafeET.iterparse(stream, events=("end",)):
                tag = _local(element.tag)
                if tag == "c":
                    children = {_local(child.tag): child for child in element}
                    value = children.get("v")
                    if "f" in children and (value is None or not (value.text or "")):
                        refs.append(element.get("r") or "?")
                elif tag == "row":
                    element.clear()
        found[sheet_name] = refs
    return found


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet name -> the zip member that holds it, from the workbook's relationships."""
    workbook = SafeET.fromstring(archive.read("xl/workbook.xml"))
    try:
        rels = SafeET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return {}
    targets = {r.get("Id"): r.get("Target") or "" for r in rels if _local(r.tag) == "Relationship"}
    parts: dict[str, str] = {}
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        target = targets.get(element.get(_REL_NS), "")
        if not target:
            continue
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        parts[element.get("name") or ""] = str(PurePosixPath(member))
    return parts


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _cell_text(value: object) -> str:
    """A workbook value as the text a canonical file would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):  # before int: bool is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):  # before date: datetime is a date
        if value.time() == time(0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    if isinstance(value, float):
        # Workbooks store every number as a float: admission number 1262 is 1262.0.
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


# --- Header, data and summary rows -----------------------------------------------------


def _filled(row: Sequence[str]) -> int:
    return sum(1 for cell in row if cell.strip())


def _find_header(grid: Grid, wanted: set[str]) -> int | None:
    head = grid[:HEADER_SEARCH_ROWS]
    candidates = [i for i, row in enumerate(head) if _filled(row) >= 2]
    if not candidates:
        return None
    if wanted:
        scores = {i: len({normalise_header(c) for c in head[i]} & wanted) for i in candidates}
        best = max(scores.values())
        if best > 0:
            return min(i for i in candidates if scores[i] == best)
    # Without expected names the header is the first row at least half as wide as the
    # widest whose cells are all names: title lines hold a cell or two, or a date; data
    # rows hold numbers and dates; the header names every column.
    widest = max(_filled(head[i]) for i in candidates)
    wide = [i for i in candidates if _filled(head[i]) * 2 >= widest]
    named = [i for i in wide if not any(_VALUE_LIKE.match(c) for c in head[i] if c.strip())]
    return (named or wide)[0]


def _build_table(name: str, grid: Grid, wanted: set[str], warnings: list[str]) -> Table:
    index = _find_header(grid, wanted)
    if index is None:
        raise SourceError(
            name,
            f"no header row found in the first {HEADER_SEARCH_ROWS} rows "
            "(a header names at least two columns)",
        )
    header = list(grid[index])
    while header and not header[-1].strip():
        header.pop()
    width = len(header)
    preamble = [" ".join(c.strip() for c in row if c.strip()) for row in grid[:index]]
    preamble = [line for line in preamble if line]
    table = Table(name, header, index + 1, [], preamble=preamble, warnings=list(warnings))
    dated = [m for line in preamble if (m := _TITLE_DATE.search(line))]
    said = [m for m in dated if _TITLE_WHEN.search(m.string)]
    chosen = said or dated
    table.file_date = chosen[0].group(1) if chosen else None
    spans = [m for line in preamble if (m := _TITLE_RANGE.search(line))]
    table.date_range = (spans[0].group(1), spans[0].group(2)) if spans else None
    overflow: list[int] = []
    for offset, row in enumerate(grid[index + 1 :]):
        row_number = index + 2 + offset
        reason = _not_data(row, header, width)
        if reason:
            table.skipped.append(SkippedRow(row_number, reason))
            continue
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            overflow.append(row_number)
        cells: list[str | None] = [cell if cell.strip() else None for cell in row[:width]]
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        table.rows.append((row_number, cells))
    if overflow:
        shown = ", ".join(str(r) for r in overflow[:10]) + (" ..." if len(overflow) > 10 else "")
        table.warnings.append(
            f"{len(overflow)} row(s) have cells to the right of the last named column "
            f"(rows {shown}); those cells were ignored"
        )
    return table


def _not_data(row: Sequence[str], header: Sequence[str], width: int) -> str | None:
    # Runs for every row of registers with millions of rows: cheap tests first.
    if not "".join(row).strip():
        return "blank row"
    first = row[0] if row[0].strip() else next(cell for cell in row if cell.strip())
    # Reports repeat the header, as written, on each printed page.
    if row[0].strip() == header[0].strip() and list(row[: len(header)]) == list(header):
        return "repeats the header row"
    match = _SUMMARY.match(first)
    if match and _filled(row) <= max(2, width // 2):
        return f"summary line, not data (starts with {match.group(1)!r})"
    return None


def _warn_replaced_characters(table: Table) -> None:
    rows = [n for n, cells in table.rows if any(c and _REPLACED_CHAR.search(c) for c in cells)]
    if rows:
        shown = ", ".join(str(r) for r in rows[:10]) + (" ..." if len(rows) > 10 else "")
        table.warnings.append(
            f"{len(rows)} row(s) have a '?' inside a word (rows {shown}): the exporting "
            "system may have replaced letters Windows-1252 cannot hold (such as Ł or ś); "
            "export as UTF-8 if the MIS offers it"
        )
