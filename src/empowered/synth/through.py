"""Cutting a synthetic trust off at a date, so the demo is a school year in progress.

The generator simulates whole academic years (every planted pattern, leaver and review
needs a year's shape); :class:`ThroughSink` then writes only what a school's systems
would hold on the evening of ``through``: no register mark, check-in, incident,
assessment, session, plan or review dated after it. Records that started on or before it
and would end later are still running: their end (a leaving date, a plan's or an
enrolment's end, an action's completion, a post-assessment) is left blank. A pupil who
joins after it is not on any file yet, nor is anything that hangs off a record left out
(a plan's outcomes and reviews, an enrolment's sessions).

Dates that look forward stay as they were: published term dates and INSET days, a plan's
next review, an action's due date, an outcome's target date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from empowered.synth.writer import CsvSink


@dataclass(frozen=True)
class Cut:
    """How one file is cut: rows dated (``drop``) after the date go; a later date in a
    ``clear`` column blanks that column and the ones that go with it."""

    drop: str | None = None
    clear: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The id a dropped row takes with it: rows of other files naming it go too.
    key: str | None = None


CUTS: dict[str, Cut] = {
    "pupils": Cut("entry_date", (("leaving_date", ()),), key="upn"),
    "characteristics": Cut("effective_date"),
    "sen_status": Cut("start_date"),
    "sen_needs": Cut("start_date", (("end_date", ()),)),
    "staff_training": Cut("completed_on"),
    "observations": Cut("observed_on"),
    "incidents": Cut("occurred_on"),
    "strategy_uses": Cut("used_on"),
    "attendance": Cut("date"),
    "attendance_summary": Cut("period_end"),
    "assessments": Cut("assessed_on"),
    "exclusions": Cut("start_date"),
    "provision_enrolments": Cut(
        "start_date",
        (
            ("end_date", ()),
            ("pre_date", ("pre_score",)),
            ("post_date", ("post_score",)),
        ),
        key="enrolment_id",
    ),
    "provision_sessions": Cut("session_date"),
    "plans": Cut("start_date", (("end_date", ()),), key="plan_id"),
    "plan_reviews": Cut("review_date"),
    "actions": Cut("raised_on", (("completed_on", ()),)),
}


class ThroughSink(CsvSink):
    """A :class:`CsvSink` that writes nothing dated after ``through`` (see module doc)."""

    def __init__(
        self, out_dir: Path, through: date, dropped: Mapping[str, set[str]] | None = None
    ) -> None:
        super().__init__(out_dir)
        self.through = through.isoformat()
        # ``dropped``: what another sink has left out already (a worker process writing
        # one school's rows takes the pupils the parent's sink left out: synth.parallel).
        self._dropped: dict[str, set[str]] = {k: set(v) for k, v in (dropped or {}).items()}

    @property
    def dropped(self) -> dict[str, set[str]]:
        """The ids of rows left out so far, by key column (rows naming them go too)."""
        return {k: set(v) for k, v in self._dropped.items()}

    def write(self, entity: str, columns: Mapping[str, Sequence[Any]]) -> int:
        cut = CUTS.get(entity, Cut())
        arrays = {name: np.asarray(col, dtype=object) for name, col in columns.items()}
        n = len(next(iter(arrays.values()))) if arrays else 0
        keep = np.ones(n, dtype=bool)
        if cut.drop is not None:
            keep &= _later(arrays[cut.drop], self.through, n) == 0
        for key, dropped in self._dropped.items():
            if key in arrays and dropped:
                keep &= ~np.isin(arrays[key].astype(str), sorted(dropped))
        if cut.key is not None:
            self._dropped.setdefault(cut.key, set()).update(arrays[cut.key][~keep].tolist())
        for column, follows in cut.clear:
            later = _later(arrays[column], self.through, n) == 1
            for name in (column, *follows):
                arrays[name] = np.where(later, "", arrays[name])
        return super().write(entity, {name: col[keep].tolist() for name, col in arrays.items()})


def _later(values: npt.NDArray[np.object_], through: str, n: int) -> npt.NDArray[np.int8]:
    """1 where an ISO date is after ``through`` (ISO dates compare as text), else 0."""
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    return (values.astype(str) > through).astype(np.int8)
