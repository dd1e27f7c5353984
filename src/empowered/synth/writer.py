"""Writing the canonical CSV files (docs/canonical-format.md) column by column."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

# The canonical files and their columns, in the order the format document lists them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "schools": ("school_urn", "la_code", "estab", "school_name", "phase", "trust_name"),
    "pupils": ("school_urn", "mis_id", "upn", "forename", "surname", "date_of_birth", "sex",
               "ethnicity", "first_language", "entry_date", "leaving_date"),
    "characteristics": ("school_urn", "upn", "effective_date", "year_group", "reg_group", "fsm",
                        "pupil_premium", "looked_after", "service_child"),
    "sen_status": ("school_urn", "upn", "start_date", "sen_provision", "primary_need",
                   "secondary_need"),
    "terms": ("school_urn", "academic_year", "term", "half_term", "start_date", "end_date"),
    "closures": ("school_urn", "date", "reason"),
    "periods": ("school_urn", "period_code", "period_name", "start_time", "end_time"),
    "staff": ("school_urn", "staff_id", "role"),
    "staff_training": ("school_urn", "staff_id", "area_of_need", "course", "completed_on"),
    "strategies": ("strategy_code", "strategy_name", "category"),
    "interventions": ("intervention_code", "intervention_name", "area_of_need", "target_need",
                      "measure", "group_size", "minutes_per_session", "hourly_staff_cost",
                      "materials_cost", "training_cost"),
    "observations": ("observation_id", "school_urn", "upn", "observed_on", "observed_time",
                     "staff_id", "activity", "setting", "mood", "engagement", "regulation",
                     "note"),
    "incidents": ("incident_id", "school_urn", "upn", "occurred_on", "occurred_time", "staff_id",
                  "activity", "setting", "antecedent", "behaviour", "consequence", "intensity",
                  "duration_minutes"),
    "strategy_uses": ("use_id", "school_urn", "upn", "used_on", "used_time", "staff_id",
                      "strategy_code", "activity", "setting", "outcome", "note"),
    "attendance": ("school_urn", "upn", "date", "session", "code"),
    "assessments": ("school_urn", "upn", "assessed_on", "subject", "assessment", "measure",
                    "value"),
    "exclusions": ("exclusion_id", "school_urn", "upn", "start_date", "category", "sessions",
                   "reason_1", "reason_2", "reason_3"),
    "provision_enrolments": ("enrolment_id", "school_urn", "upn", "intervention_code",
                             "staff_id", "start_date", "end_date", "sessions_planned",
                             "pre_date", "pre_score", "post_date", "post_score"),
    "provision_sessions": ("enrolment_id", "session_date", "delivered", "minutes"),
    "plans": ("plan_id", "school_urn", "upn", "plan_type", "start_date", "end_date",
              "next_review_due"),
    "plan_outcomes": ("outcome_id", "plan_id", "area_of_need", "outcome_text", "target_date"),
    "plan_reviews": ("review_id", "plan_id", "outcome_id", "review_date", "progress", "note"),
    "actions": ("action_id", "school_urn", "upn", "raised_on", "source", "description",
                "owner_role", "due_date", "completed_on"),
    "groups": ("school_urn", "group_code", "staff_id", "upn"),
}


def file_name(entity: str) -> str:
    return f"{entity}.csv"


class CsvSink:
    """All canonical files open at once, so each school's rows can be appended in turn.

    Rows are passed as whole columns (one sequence per column name) so the big tables can
    be built with numpy and written without a Python object per row.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._files: dict[str, IO[str]] = {}
        self._writers: dict[str, Any] = {}
        self.counts: dict[str, int] = {}

    def __enter__(self) -> CsvSink:
        for entity, header in COLUMNS.items():
            # newline="" lets the csv module choose the line ending ("\n" here) itself.
            f = (self.out_dir / file_name(entity)).open("w", encoding="utf-8", newline="")
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            self._files[entity] = f
            self._writers[entity] = writer
            self.counts[file_name(entity)] = 0
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for f in self._files.values():
            f.close()

    def write(self, entity: str, columns: Mapping[str, Sequence[Any]]) -> int:
        header = COLUMNS[entity]
        if set(columns) != set(header):
            missing = sorted(set(header) - set(columns))
            extra = sorted(set(columns) - set(header))
            raise KeyError(f"{entity}: missing {missing}, unexpected {extra}")
        ordered = [columns[name] for name in header]
        n = len(ordered[0])
        if any(len(col) != n for col in ordered):
            lengths = {name: len(columns[name]) for name in header}
            raise ValueError(f"{entity}: columns differ in length: {lengths}")
        self._writers[entity].writerows(zip(*ordered, strict=True))
        self.counts[file_name(entity)] += n
        return n

    def write_rows(self, entity: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Write small tables given as one mapping per row."""
        if not rows:
            return 0
        header = COLUMNS[entity]
        return self.write(entity, {name: [row[name] for row in rows] for name in header})
