"""The import report: for every file and entity, rows landed, accepted and quarantined by
reason, with accepted-with-warning rows and skipped rows. What a SENCo reads after an
import, and what ``empowered import`` saves as CSV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from empowered.exports import write_csv
from empowered.sources.importer import ImportResult

REPORT_HEADER = ("file", "entity", "outcome", "column", "reason", "rows")


@dataclass(frozen=True)
class ReportLine:
    file: str
    entity: str
    outcome: str  # landed | accepted | quarantined | warning | skipped | unknown column
    column: str
    reason: str
    rows: int


def import_report(con: duckdb.DuckDBPyConnection, result: ImportResult) -> list[ReportLine]:
    """Read the outcome of the import's batches from staging and quarantine (after a build)."""
    lines: list[ReportLine] = []
    for outcome in result.files:
        name = outcome.path.name
        if outcome.already_imported:
            lines.append(ReportLine(name, "", "already imported", "", "nothing changed", 0))
            continue
        for batch in outcome.batches:
            assert batch.batch_id is not None
            lines.append(ReportLine(name, batch.entity, "landed", "", "", batch.rows))
            quarantined = con.execute(
                "SELECT column_name, reason, count(*) FROM quarantine.rejected_rows "
                "WHERE batch_id = ? GROUP BY ALL ORDER BY 3 DESC, 2",
                [batch.batch_id],
            ).fetchall()
            bad = sum(int(n) for _, _, n in quarantined)
            lines.append(ReportLine(name, batch.entity, "accepted", "", "", batch.rows - bad))
            lines += [
                ReportLine(name, batch.entity, "quarantined", str(col), str(reason), int(n))
                for col, reason, n in quarantined
            ]
            warned = con.execute(
                "SELECT column_name, reason, count(*) FROM quarantine.accepted_with_warnings "
                "WHERE batch_id = ? GROUP BY ALL ORDER BY 3 DESC, 2",
                [batch.batch_id],
            ).fetchall()
            lines += [
                ReportLine(name, batch.entity, "warning", str(col), str(reason), int(n))
                for col, reason, n in warned
            ]
        skipped: dict[str, int] = {}
        for row in outcome.skipped:
            skipped[row.reason] = skipped.get(row.reason, 0) + 1
        lines += [ReportLine(name, "", "skipped", "", r, n) for r, n in sorted(skipped.items())]
        for column in outcome.unknown_columns:
            lines.append(ReportLine(name, "", "unknown column", column, "not used; kept in raw", 0))
        for warning in outcome.warnings:
            lines.append(ReportLine(name, "", "warning", "", warning, 0))
    return lines


def save_report(lines: list[ReportLine], path: Path) -> None:
    write_csv(
        path,
        REPORT_HEADER,
        ([x.file, x.entity, x.outcome, x.column, x.reason, x.rows] for x in lines),
    )
