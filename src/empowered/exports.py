"""Writing files people open in spreadsheets, safely.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is read
by Excel and LibreOffice as a formula: a pupil note such as ``=HYPERLINK(...)`` could run
when a SENCo opens an export. Every CSV or XLSX the project writes passes its text cells
through ``safe_cell`` (OWASP's advice: prefix a single quote).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

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
