"""MIS exports of one school of a synthetic trust: SIMS-, Arbor- and Bromcom-like reports.

Each school system exports pupils, the SEN register, attendance marks and assessment
results in the layouts of the shipped presets (empowered.sources.presets), except the
SIMS student list, spelled as real exports do and read from its headings, with the
details real exports have: Windows-1252 and a title line from SIMS, a byte-order mark from
Arbor, an .xlsx workbook with real date cells from Bromcom, UK dates, "Total: N" lines.
The words a system writes for a code ("Male", "Year 3", "K - SEN Support") are read back
from the preset's own value maps, so a preset and its writer cannot drift apart.

Some mess is planted on purpose, the same for the same seed, and returned as PlantedMess
so tests can check the import report quarantines each row for the right reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter

from empowered.sources.presets import load_presets
from empowered.synth.rng import substream
from empowered.synth.school_formats.base import CanonicalTrust, PlantedMess

MIS_SYSTEMS = ("sims", "arbor", "bromcom")
KINDS = ("pupils", "sen", "attendance", "assessments")
DATE_COLUMNS = {"date_of_birth", "entry_date", "leaving_date", "start_date", "date", "assessed_on"}
BAD_ATTENDANCE_CODE = "7"
# ADHD is a diagnosis schools often type in, but not a DfE SEN type of need.
BAD_NEED = "ADHD"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Cell = str | date
Column = tuple[str, str]  # (header as the system writes it, column of the row context)


@dataclass(frozen=True)
class _Style:
    encoding: str
    titles: tuple[str, ...]  # lines above the header: {title}, {school}, {when}
    footer: str | None  # line below the data: {n} is the number of data rows
    trailing_blank: bool
    date_format: str = "%d/%m/%Y"


_STYLES = {
    # SIMS reports write dates as 14-Mar-2015, as many real SIMS exports do.
    "sims": _Style(
        "cp1252", ("{title} - {school} - generated {when}",), "Total: {n}", True, "%d-%b-%Y"
    ),
    "arbor": _Style("utf-8-sig", (), None, False),
    "bromcom": _Style("utf-8", ("{title}", "Printed {when}"), None, False),
}
_XLSX_FOOTER = "Number of students: {n}"

_NAMES = {
    "sims": [("Adno", "mis_id"), ("UPN", "upn"), ("Legal Surname", "surname"),
             ("Legal Forename", "forename")],
    "arbor": [("Student ID", "mis_id"), ("UPN", "upn"), ("First Name", "forename"),
              ("Last Name", "surname")],
    "bromcom": [("Student Id", "mis_id"), ("UPN", "upn"), ("Surname", "surname"),
                ("Forename", "forename")],
}  # fmt: skip

_LAYOUTS: dict[tuple[str, str], tuple[str, list[Column]]] = {
    # Spelled as another school's SIMS report heads them ("Reg Group", "Pupil Premium
    # Indicator"), not as the sims-pupils preset does: read from its headings
    # (sources/headers.yml), so the demo goes through that path too.
    ("sims", "pupils"): ("Student List", _NAMES["sims"] + [
        ("Preferred Forename", "forename"), ("DOB", "date_of_birth"), ("Gender", "sex"),
        ("Ethnicity", "ethnicity"), ("First Language", "first_language"), ("Year", "year_group"),
        ("Reg Group", "reg_group"), ("Entry Date", "entry_date"),
        ("Leaving Date", "leaving_date"), ("FSM Eligible", "fsm"),
        ("Pupil Premium Indicator", "pupil_premium"), ("In Care", "looked_after"),
        ("Service Child", "service_child")]),
    ("sims", "sen"): ("SEN Register", _NAMES["sims"] + [
        ("Year", "year_group"), ("Reg", "reg_group"), ("SEN Status", "sen_provision"),
        ("Start Date", "start_date"), ("SEN Need Type (Primary)", "primary_need"),
        ("SEN Need Type (Secondary)", "secondary_need")]),
    ("sims", "attendance"): ("Attendance Marks", _NAMES["sims"] + [
        ("Reg", "reg_group"), ("Date", "date"), ("AM", "@AM"), ("PM", "@PM")]),
    ("sims", "assessments"): ("Marksheet Export", _NAMES["sims"] + [
        ("Subject", "subject"), ("Assessment", "assessment"), ("Aspect", "measure"),
        ("Result", "value"), ("Date", "assessed_on")]),
    ("arbor", "pupils"): ("Students", _NAMES["arbor"] + [
        ("Date of Birth", "date_of_birth"), ("Gender", "sex"), ("Ethnicity Code", "ethnicity"),
        ("First Language", "first_language"), ("Year Group", "year_group"),
        ("Registration Form", "reg_group"), ("Admission Date", "entry_date"),
        ("Leaving Date", "leaving_date"), ("FSM", "fsm"), ("Pupil Premium", "pupil_premium"),
        ("Looked After", "looked_after"), ("Service Child", "service_child"),
        ("School URN", "school_urn")]),
    ("arbor", "sen"): ("SEN", _NAMES["arbor"] + [
        ("SEN Status", "sen_provision"), ("SEN Status Start Date", "start_date"),
        ("Primary SEN Need", "primary_need"), ("Secondary SEN Need", "secondary_need"),
        ("School URN", "school_urn")]),
    ("arbor", "attendance"): ("Attendance", _NAMES["arbor"] + [
        ("Date", "date"), ("AM Mark", "@AM"), ("PM Mark", "@PM"), ("School URN", "school_urn")]),
    ("arbor", "assessments"): ("Assessments", _NAMES["arbor"] + [
        ("Subject", "subject"), ("Assessment", "assessment"), ("Mark Type", "measure"),
        ("Mark", "value"), ("Date Recorded", "assessed_on"), ("School URN", "school_urn")]),
    ("bromcom", "pupils"): ("Student Details", _NAMES["bromcom"] + [
        ("Date Of Birth", "date_of_birth"), ("Gender", "sex"), ("Ethnicity", "ethnicity"),
        ("Home Language", "first_language"), ("Year", "year_group"),
        ("Tutor Group", "reg_group"), ("Admission Date", "entry_date"),
        ("Leave Date", "leaving_date"), ("FSM", "fsm"), ("PP", "pupil_premium"),
        ("LAC", "looked_after")]),
    ("bromcom", "sen"): ("SEN Register", _NAMES["bromcom"] + [
        ("SEN Stage", "sen_provision"), ("Stage Start Date", "start_date"),
        ("Primary Need", "primary_need"), ("Secondary Need", "secondary_need")]),
    # Bromcom's register is wide: these columns, then one per date and session.
    ("bromcom", "attendance"): ("Attendance Register", _NAMES["bromcom"] + [
        ("Tutor Group", "reg_group")]),
    ("bromcom", "assessments"): ("Assessment Results", _NAMES["bromcom"] + [
        ("Subject", "subject"), ("Assessment Name", "assessment"), ("Measure", "measure"),
        ("Score", "value"), ("Assessment Date", "assessed_on")]),
}  # fmt: skip


@dataclass
class _Export:
    kind: str
    file_name: str
    title: str
    header: list[str]
    rows: list[list[Cell]]
    columns: list[str]  # context column of each header cell
    contexts: list[dict[str, str]]  # the canonical values behind each row
    mess: list[tuple[int, str, str, str]]  # (row index, canonical column, value, reason)


def write_mis_exports(
    trust: CanonicalTrust,
    out_dir: Path,
    *,
    school_urn: str,
    mis: str,
    seed: int,
    skip: tuple[str, ...] = (),
) -> tuple[list[Path], list[PlantedMess]]:
    """Write one school's exports as ``mis`` ("sims", "arbor" or "bromcom") would.

    File names carry the school: ``<mis>-<urn>-<kind>.csv`` (``.xlsx`` for Bromcom's
    pupils), since SIMS and Bromcom layouts have no URN column and the importer must be
    told the school. ``skip`` names kinds another writer gives in another shape.
    """
    if mis not in MIS_SYSTEMS:
        raise ValueError(f"mis must be one of {', '.join(MIS_SYSTEMS)}, got {mis!r}")
    school = _School(trust, school_urn)
    words = _words(mis)
    rng = substream(seed, f"mis-{mis}", int(school_urn))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    planted: list[PlantedMess] = []
    for kind in KINDS:
        if kind in skip:
            continue
        export = _build(school, mis, kind, words)
        _plant(export, rng)
        if mis == "bromcom" and kind == "pupils":
            path, first_row = _write_xlsx(out_dir, export, school)
        else:
            path, first_row = _write_csv(out_dir, export, school, _STYLES[mis])
        paths.append(path)
        planted.extend(
            PlantedMess(path.name, first_row + index, column, value, reason)
            for index, column, value, reason in sorted(export.mess)
        )
    return paths, planted


class _School:
    """One school's canonical rows, with each pupil's details and current characteristics
    at hand for reports that repeat them on every row."""

    def __init__(self, trust: CanonicalTrust, urn: str) -> None:
        self.urn = urn
        names = [s for s in trust.rows("schools") if s["school_urn"] == urn]
        if not names:
            raise ValueError(f"school {urn} is not in the trust")
        self.name = names[0]["school_name"]
        self.pupils = trust.for_school("pupils", urn)
        self.sen = trust.for_school("sen_status", urn)
        self.attendance = trust.for_school("attendance", urn)
        self.assessments = trust.for_school("assessments", urn)
        latest: dict[str, dict[str, str]] = {}
        for row in sorted(trust.for_school("characteristics", urn), key=_effective):
            latest[row["upn"]] = row
        by_upn = {p["upn"]: p for p in self.pupils}
        self.details = {upn: {**by_upn.get(upn, {}), **c} for upn, c in latest.items()}
        for upn, pupil in by_upn.items():
            self.details.setdefault(upn, pupil)
        days = [r["date"] for r in self.attendance] or ["2026-07-17"]
        self.exported = datetime.fromisoformat(max(days)).replace(hour=16, minute=5)

    def context(self, upn: str, row: dict[str, str]) -> dict[str, str]:
        return {**self.details.get(upn, {}), **row}


def _effective(row: dict[str, str]) -> str:
    return row["effective_date"]


def _words(mis: str) -> dict[str, dict[str, str]]:
    """Canonical column -> code -> the word this system writes, from its presets."""
    words: dict[str, dict[str, str]] = {}
    for name, mapping in sorted(load_presets().items()):
        if not name.startswith(f"{mis}-"):
            continue
        for column, table in mapping.values.items():
            for word, code in table.items():
                if code is not None:
                    words.setdefault(column, {}).setdefault(code, word)
    return words


def _build(school: _School, mis: str, kind: str, words: dict[str, dict[str, str]]) -> _Export:
    title, columns = _LAYOUTS[(mis, kind)]
    suffix = "xlsx" if (mis, kind) == ("bromcom", "pupils") else "csv"
    contexts: list[dict[str, str]]
    if kind == "pupils":
        contexts = [school.context(p["upn"], p) for p in school.pupils]
    elif kind == "sen":
        contexts = [school.context(r["upn"], r) for r in school.sen]
    elif kind == "assessments":
        contexts = [school.context(r["upn"], r) for r in school.assessments]
    elif mis == "bromcom":
        columns, contexts = _wide_register(school, columns)
    else:
        contexts = _daily_register(school)
    header = [h for h, _ in columns]
    sources = [c for _, c in columns]
    rows = [[_cell(ctx.get(c, ""), c, words) for c in sources] for ctx in contexts]
    file_name = f"{mis}-{school.urn}-{kind}.{suffix}"
    return _Export(kind, file_name, title, header, rows, sources, contexts, [])


def _daily_register(school: _School) -> list[dict[str, str]]:
    days: dict[tuple[str, str], dict[str, str]] = {}
    for row in school.attendance:
        key = (row["upn"], row["date"])
        if key not in days:
            days[key] = school.context(row["upn"], {"date": row["date"]})
        days[key]["@" + row["session"]] = row["code"]
    return list(days.values())


def _wide_register(
    school: _School, columns: list[Column]
) -> tuple[list[Column], list[dict[str, str]]]:
    dates = sorted({r["date"] for r in school.attendance})
    session_columns = []
    for text in dates:
        day = date.fromisoformat(text)
        for session in ("AM", "PM"):
            label = f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y} {session}"
            session_columns.append((label, f"@{text} {session}"))
    pupils: dict[str, dict[str, str]] = {}
    for row in school.attendance:
        context = pupils.setdefault(row["upn"], school.context(row["upn"], {}))
        context[f"@{row['date']} {row['session']}"] = row["code"]
    return columns + session_columns, list(pupils.values())


def _cell(text: str, column: str, words: dict[str, dict[str, str]]) -> Cell:
    if not text:
        return ""
    if column in DATE_COLUMNS:
        return date.fromisoformat(text)
    return words.get(column, {}).get(text, text)


# --- Planted mess ----------------------------------------------------------------------


def _plant(export: _Export, rng: np.random.Generator) -> None:
    if export.kind == "pupils":
        _plant_pupils(export, rng)
    elif export.kind == "sen":
        need = export.columns.index("primary_need")
        spoilable = [
            i for i, c in enumerate(export.contexts) if c.get("sen_provision") in ("E", "K")
        ]
        if spoilable:
            index = spoilable[int(rng.integers(len(spoilable)))]
            export.rows[index][need] = BAD_NEED
            export.mess.append((index, "primary_need", BAD_NEED, "not a DfE SEN type of need"))
    elif export.kind == "attendance":
        marks = [
            (i, j)
            for i, row in enumerate(export.rows)
            for j, column in enumerate(export.columns)
            if column.startswith("@") and row[j]
        ]
        if marks:
            i, j = marks[int(rng.integers(len(marks)))]
            export.rows[i][j] = BAD_ATTENDANCE_CODE
            export.mess.append(
                (i, "code", BAD_ATTENDANCE_CODE, "not a DfE attendance register code")
            )


def _plant_pupils(export: _Export, rng: np.random.Generator) -> None:
    upn_at = export.columns.index("upn")
    usable = [i for i, row in enumerate(export.rows) if len(str(row[upn_at])) == 13]
    if len(usable) < 2:
        return
    duplicated, spoiled = (usable[int(i)] for i in rng.choice(len(usable), 2, replace=False))
    upn = str(export.rows[spoiled][upn_at])
    # Changing one digit always breaks the check letter: each weight (2..13) times a
    # change of 1..9 is never a multiple of 23.
    position = int(rng.integers(1, 13))
    digit = (int(upn[position]) + int(rng.integers(1, 10))) % 10
    bad = f"{upn[:position]}{digit}{upn[position + 1 :]}"
    export.rows[spoiled][upn_at] = bad
    export.rows.insert(duplicated + 1, list(export.rows[duplicated]))
    export.mess.append((duplicated + 1, "upn", "", "repeats row"))
    shifted = spoiled + 1 if spoiled > duplicated else spoiled
    export.mess.append((shifted, "upn", bad, "not a valid UPN"))


# --- Writing ---------------------------------------------------------------------------


def _write_csv(out_dir: Path, export: _Export, school: _School, style: _Style) -> tuple[Path, int]:
    """Write the file; return it and the spreadsheet row of the first data row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    when = f"{school.exported:%d/%m/%Y %H:%M}"
    for line in style.titles:
        writer.writerow([line.format(title=export.title, school=school.name, when=when)])
    if style.titles:
        writer.writerow([])
    writer.writerow(export.header)
    for row in export.rows:
        writer.writerow([f"{c:{style.date_format}}" if isinstance(c, date) else c for c in row])
    if style.footer:
        writer.writerow([style.footer.format(n=len(export.rows))])
    if style.trailing_blank:
        writer.writerow([])
    path = out_dir / export.file_name
    # A Windows-1252 export cannot hold every name (Łukasz): like the real thing, it
    # writes '?' for the letters it cannot encode.
    path.write_bytes(buffer.getvalue().encode(style.encoding, errors="replace"))
    header_row = len(style.titles) + (1 if style.titles else 0) + 1
    return path, header_row + 1


def _write_xlsx(out_dir: Path, export: _Export, school: _School) -> tuple[Path, int]:
    path = out_dir / export.file_name
    workbook = xlsxwriter.Workbook(str(path))
    # A fixed creation time keeps the same seed's workbook byte for byte the same.
    workbook.set_properties({"created": school.exported})
    sheet = workbook.add_worksheet(export.title)
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    bold = workbook.add_format({"bold": True})
    sheet.write_string(0, 0, export.title, bold)
    sheet.write_string(1, 0, f"Printed {school.exported:%d/%m/%Y %H:%M}")
    header_at = 3  # zero-based: title, printed line, a blank row, then the header
    for col, name in enumerate(export.header):
        sheet.write_string(header_at, col, name, bold)
    for offset, row in enumerate(export.rows, start=header_at + 1):
        _write_xlsx_row(sheet, offset, row, export.header, date_format)
    footer = _XLSX_FOOTER.format(n=len(export.rows))
    sheet.write_string(header_at + 1 + len(export.rows), 0, footer)
    workbook.close()
    return path, header_at + 2


def _write_xlsx_row(
    sheet: Any, at: int, row: Sequence[Cell], header: Sequence[str], date_format: Any
) -> None:
    for col, cell in enumerate(row):
        if isinstance(cell, date):
            sheet.write_datetime(at, col, cell, date_format)
        elif header[col] == "Student Id" and cell.isdigit():
            # Bromcom stores the admission number as a number; it comes back as 1262.0.
            sheet.write_number(at, col, int(cell))
        elif cell:
            sheet.write_string(at, col, cell)
