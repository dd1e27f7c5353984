"""Pupils with an EHC plan, on SEN support and with no SEN, here and in England (issue 15).

For each SEN status: the share eligible for free school meals, for the pupil premium, with
English as an additional language, and the overall and persistent absence rates, beside
England's figure for the same SEN status and the same type of school (a special school
against special schools), with its period and source. A figure England does not publish
(pupil premium and EAL by SEN status are not in the seed) says so rather than showing a
blank; the school's absence is this year so far, and the England figure names its term.

Small groups: a status with fewer than 5 pupils shows no figures, and a share whose count
or its remainder is under 5 is hidden too, so no figure here names a group under 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from empowered.analytics import queries
from empowered.analytics.aggregates import multi_pupil
from empowered.analytics.disclosure import THRESHOLD, DisclosedTable, suppress_series

STATUSES = (
    ("E", "ehc_plan", "EHC plan"),
    ("K", "sen_support", "SEN support"),
    ("N", "no_sen", "No SEN"),
)
# (label, national measure or None, numerator column, denominator column)
_MEASURES: tuple[tuple[str, str | None, str, str], ...] = (
    ("Overall absence", "overall_absence_rate", "sessions_missed", "sessions_possible"),
    ("Persistent absence (10% or more missed)", "persistent_absence_rate", "persistent",
     "pupils_with_attendance"),
    ("Eligible for free school meals", "pct_fsm", "fsm", "pupils"),
    ("Pupil premium", None, "pupil_premium", "pupils"),
    ("English as an additional language", None, "eal", "pupils"),
)  # fmt: skip
NOT_PUBLISHED = "no England figure by SEN status is loaded"


@dataclass(frozen=True)
class StatusFigure:
    measure: str
    status: str  # "EHC plan", "SEN support", "No SEN"
    ours: float | None  # percent; None when hidden or there is nothing to count
    national: float | None
    national_period: str | None  # "autumn term 2024/25"
    source: str | None


@dataclass(frozen=True)
class SenStatusComparison:
    table: DisclosedTable  # pupils by SEN status (EHC plan, SEN support, No SEN), suppressed
    rows: tuple[StatusFigure, ...]
    compared_with: str  # "England" or "England, special schools"
    summary: str


@multi_pupil
def compare_by_sen_status(
    con: duckdb.DuckDBPyConnection, *, school_urn: str | None = None, special: bool = False
) -> SenStatusComparison:
    counts = {
        str(r["sen_provision"]): r
        for r in queries.rows(con, "register_by_sen_status", school_urn=school_urn)
    }
    national = {
        (str(r["measure"]), str(r["group"])): r
        for r in queries.rows(
            con, "national_sen_status_figures", school_type="special" if special else "all"
        )
    }
    # The one suppression function decides which groups may be shown at all. No total is
    # shown beside these rates, so a small group hides itself alone (a special school's
    # few pupils on SEN support do not hide its pupils with an EHC plan).
    table = suppress_series(
        {s: int(counts[c]["pupils"]) if c in counts else 0 for c, _, s in STATUSES}, total=False
    )
    shown = {code: not table.hidden[i, 0] for i, (code, _, _) in enumerate(STATUSES)}
    rows = []
    for label, measure, top, bottom in _MEASURES:
        for code, group, status in STATUSES:
            nat = national.get((measure, group)) if measure else None
            rows.append(
                StatusFigure(
                    label,
                    status,
                    _share(
                        counts.get(code) if shown[code] else None,
                        top,
                        bottom,
                        careful=measure != "overall_absence_rate",
                    ),
                    float(nat["value"]) if nat else None,
                    _period(nat) if nat else None,
                    str(nat["source"]) if nat else None,
                )
            )
    against = "England, special schools" if special else "England"
    compared = sum(1 for r in rows if r.national is not None)
    summary = (
        f"{compared} of these figures have an England figure to compare with ({against}); "
        "the others say why not. Attendance here is this school year so far."
        if compared
        else f"No England figure by SEN status is loaded for {against.lower()}."
    )
    return SenStatusComparison(table, tuple(rows), against, summary)


def _period(figure: dict[str, Any]) -> str:
    """ "autumn term 2024/25"; a census already names its month and year."""
    period = str(figure["period"])
    return period if any(c.isdigit() for c in period) else f"{period} {figure['academic_year']}"


def _share(row: dict[str, Any] | None, top: str, bottom: str, *, careful: bool) -> float | None:
    """The percentage, or None where the group is under 5 (or, for a count of pupils, the
    count or its remainder is: either would name a small group)."""
    if row is None or int(row["pupils"]) < THRESHOLD:
        return None
    num, den = float(row[top] or 0), float(row[bottom] or 0)
    if den <= 0:
        return None
    if careful and (0 < num < THRESHOLD or 0 < den - num < THRESHOLD):
        return None
    return 100.0 * num / den
