"""Writing files people open in spreadsheets, safely.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is read
by Excel and LibreOffice as a formula: a pupil note such as ``=HYPERLINK(...)`` could run
when a SENCo opens an export. Every CSV or XLSX the project writes passes its text cells
through ``safe_cell`` (OWASP's advice: prefix a single quote).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])


def write_cells(sheet: Any, row: int, values: Sequence[object], fmt: Any = None) -> None:
    """One row of an xlsxwriter sheet: text through ``safe_cell``, stored as text."""
    for col, value in enumerate(values):
        cell = safe_cell(value)
        if isinstance(cell, str):
            sheet.write_string(row, col, cell, fmt)
        elif cell is None:
            sheet.write_blank(row, col, None, fmt)
        else:
            sheet.write(row, col, cell, fmt)


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a name (31 characters at most, as Excel allows), a header, rows."""

    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]


def workbook(sheets: Iterable[Sheet]) -> bytes:
    """An .xlsx of plain sheets (a bold header row, frozen), every text cell safe."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True})
    for s in sheets:
        sheet = book.add_worksheet(s.name[:31])
        write_cells(sheet, 0, list(s.header), bold)
        for n, row in enumerate(s.rows, start=1):
            write_cells(sheet, n, list(row))
        sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()
