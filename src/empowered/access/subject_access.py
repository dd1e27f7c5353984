"""Subject access: everything held about one pupil, as one zip a data protection officer
can review and send.

UK GDPR (Article 15) gives a pupil, or a parent acting for them, the right to a copy of
their personal data within a month. The export holds every row ``access.pupil_data`` finds
about the pupil in every layer (raw rows of every source including captures, staging, core,
marts, quarantine, the note on their page, trigger reviews, staff given access to them and
the audit entries about them), one CSV file per table, with a readable HTML summary: what
is held, where it came from, how many rows, and how long it is kept. It is the same finder
retention deletes with, so what is exported is exactly what would be removed.

Encrypted identity is decrypted for the export (``identity.reveal``); every CSV cell is
defused against spreadsheet formulas (``exports.safe_cell``). Rows can quote other people
(an observation's note may name another child; the audit log names staff): the summary asks
the reviewer to redact third parties before release. Staff IP addresses are left out. The
CLI and the admin page both call ``export``; each records ``subject_access_export`` (the
pupil key and counts, nothing else).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from empowered.access import pupil_data, retention
from empowered.crypto import IdentityCipher
from empowered.exports import safe_cell
from empowered.identity import reveal

# Columns never exported: a member of staff's network address is theirs, not the pupil's.
LEFT_OUT = {"app.audit_log": frozenset({"ip"})}
LAYERS: dict[str, str] = {
    "raw": "As received: each row as it arrived from a school system export, a form, a "
    "tracker or a quick capture typed in EmpowerED+.",
    "staging": "Checked: the same rows with dates read, codes standardised and checks applied.",
    "core": "The joined-up record: identity, enrolments, characteristics and SEN history, "
    "observations, incidents, attendance, assessments, plans and provision.",
    "marts": "Summaries the pages show: daily and weekly figures, the SEND register entry, "
    "safeguarding triggers.",
    "quarantine": "Rows that failed a check when they were imported, with the reason.",
    "app": "Entered in EmpowerED+ itself: the note on the pupil's page, reviews of "
    "safeguarding triggers, staff accounts given access to the pupil, and the audit log of "
    "who opened their records.",
    "meta": "Data-quality check results whose sample rows quote the pupil.",
}


class NothingHeld(LookupError):
    """No row anywhere names this pupil key."""


@dataclass(frozen=True)
class TableExport:
    table: str
    layer: str
    rows: int
    file: str


@dataclass(frozen=True)
class Export:
    pupil_key: str
    path: Path
    tables: list[TableExport] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell("" if v is None else v) for v in row])
    return text.getvalue().encode("utf-8-sig")


def _sort_key(table: pupil_data.PupilTable) -> tuple[int, str]:
    order = list(LAYERS)
    schema = table.schema
    return (order.index(schema) if schema in order else len(order), table.name)


def _rows(
    con: duckdb.DuckDBPyConnection, table: pupil_data.PupilTable, cipher: IdentityCipher
) -> tuple[list[str], list[list[object]]]:
    cursor = con.execute(f"{pupil_data.select_rows(table)} ORDER BY ALL")
    names = [str(d[0]) for d in cursor.description]
    drop = {"_pupil_key"} | LEFT_OUT.get(table.name, frozenset())
    keep = [i for i, name in enumerate(names) if name not in drop]
    rows = [[reveal(cipher, row[i]) for i in keep] for row in cursor.fetchall()]
    return [names[i] for i in keep], rows


def _sources(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The batches their landed rows came from: which system or form, which file, when."""
    cursor = con.execute(
        "SELECT b.batch_id, b.source, b.entity, b.file_name, b.loaded_at, count(*) AS rows "
        f"FROM {pupil_data.ROWS} AS d JOIN meta.batches AS b ON b.batch_id = d._batch_id "
        "GROUP BY ALL ORDER BY b.loaded_at, b.batch_id"
    )
    names = [str(d[0]) for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _enrolments(con: duckdb.DuckDBPyConnection, pupil_key: str) -> list[dict[str, Any]]:
    try:
        cursor = con.execute(
            "SELECT e.school_urn, s.school_name, e.entry_date, e.leaving_date "
            "FROM core.fct_enrolment AS e LEFT JOIN core.dim_school AS s USING (school_urn) "
            "WHERE e.pupil_key = ? ORDER BY e.entry_date",
            [pupil_key],
        )
    except duckdb.CatalogException:  # a warehouse not built yet
        return []
    names = [str(d[0]) for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _identity(
    con: duckdb.DuckDBPyConnection, pupil_key: str, cipher: IdentityCipher
) -> dict[str, Any]:
    try:
        cursor = con.execute(
            "SELECT forename, surname, date_of_birth, upn FROM core.pupil_identity "
            "WHERE pupil_key = ? LIMIT 1",
            [pupil_key],
        )
    except duckdb.CatalogException:
        return {}
    names = [str(d[0]) for d in cursor.description]
    row = cursor.fetchone()
    return {} if row is None else {n: reveal(cipher, v) for n, v in zip(names, row, strict=True)}


def _summary(context: dict[str, Any]) -> bytes:
    source = (
        resources.files("empowered.access").joinpath("templates/subject_access.html").read_text()
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(source).render(**context).encode("utf-8")


def export(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    out_dir: Path,
    *,
    cipher: IdentityCipher,
    now: datetime | None = None,
) -> Export:
    """Write ``subject-access-<pupil key>-<date>.zip`` into ``out_dir``: one CSV per table
    holding a row about the pupil, ``sources.csv`` and ``summary.html``. Raises
    ``NothingHeld`` when nothing names the pupil. The caller records the audit entry."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    pupil_data.prepare(con, [pupil_key])
    try:
        found = sorted(pupil_data.pupil_tables(con), key=_sort_key)
        files: dict[str, bytes] = {}
        tables: list[TableExport] = []
        for table in found:
            header, rows = _rows(con, table, cipher)
            if not rows:
                continue
            name = f"{table.schema}/{table.name.split('.', 1)[1]}.csv"
            files[name] = _csv(header, rows)
            tables.append(TableExport(table.name, table.schema, len(rows), name))
        if not tables:
            raise NothingHeld(pupil_key)
        sources = _sources(con)
    finally:
        pupil_data.drop(con)
    if sources:
        files["sources.csv"] = _csv(list(sources[0]), [list(s.values()) for s in sources])
    years = retention.load_settings(con)
    enrolments = _enrolments(con, pupil_key)
    leavings = [e["leaving_date"] for e in enrolments]
    whole_years = retention.whole_record_years(years)
    removal = None
    if leavings and all(d is not None for d in leavings):
        last = max(leavings)
        try:
            removal = last.replace(year=last.year + whole_years)
        except ValueError:  # left on 29 February
            removal = last.replace(year=last.year + whole_years, day=28)
    files["summary.html"] = _summary(
        {
            "pupil_key": pupil_key,
            "identity": _identity(con, pupil_key, cipher),
            "generated": now.strftime("%d %B %Y %H:%M UTC"),
            "tables": tables,
            "layers": LAYERS,
            "sources": sources,
            "enrolments": enrolments,
            "categories": [(c, years[c.key]) for c in retention.CATEGORIES],
            "whole_years": whole_years,
            "whole_label": retention.WHOLE_RECORD,
            "removal": removal,
            "retention_source": retention.SOURCE,
        }
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"subject-access-{pupil_key}-{now:%Y%m%d-%H%M%S}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return Export(pupil_key, path, tables)


__all__ = ["LAYERS", "Export", "NothingHeld", "TableExport", "export"]
