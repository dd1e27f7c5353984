"""Writing the canonical CSV files (docs/canonical-format.md) column by column."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from empowered.sources.canonical import ENTITIES

# The canonical files and their columns come from the one registry of the format, so the
# generator can never write a file the importer does not expect.
# Columns only other systems' records carry (an aggregator's own id for a pupil, the
# earlier school a transfer file's attendance came from): the synthetic trust writes none,
# so its files stay as they were.
NOT_SYNTHESISED = frozenset({"aggregator_id", "from_school_urn", "from_school_laestab"})
# Columns an entity's app form writes and its imported files need not have (the demo
# lands those records through the app's services: synth.app_sources); the trust's files,
# like most schools', leave them out.
APP_WRITTEN: dict[str, frozenset[str]] = {
    "actions": frozenset("kind owner status status_by status_at raised_by ref".split()),
    "interventions": frozenset({"school_urn", "staff_role", "sessions_per_week", "weeks"}),
    "provision_enrolments": frozenset({"group_id", "reason", "end_reason"}),
    "provision_sessions": frozenset({"group_id", "attended", "missed_reason", "recorded_by"}),
    # A review held in the app names its meeting and rates progress (synth.app_reviews).
    "plan_reviews": frozenset({"meeting_id", "rating"}),
    # What a plan written in the app holds beyond an imported one (synth.app_plans).
    "plans": frozenset(
        "strengths needs_communication needs_cognition needs_semh needs_sensory"
        " important_to_me how_to_support plan_version status agreed_on agreed_by"
        " agreed_with saved_by saved_at".split()
    ),
    "plan_outcomes": frozenset("provision strategy_codes who how_often plan_version".split()),
}
COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(
        c for c in e.columns if c not in NOT_SYNTHESISED and c not in APP_WRITTEN.get(name, ())
    )
    for name, e in ENTITIES.items()
}


# A field with one of these is quoted by the csv writer (QUOTE_MINIMAL, "\n" line ends).
NEEDS_QUOTES = (",", '"', "\r", "\n")
# Bytes copied at a time when a school's part file is appended to the trust's file.
COPY_CHUNK = 1 << 20


def file_name(entity: str) -> str:
    return f"{entity}.csv"


def _plain_text(columns: Sequence[Sequence[Any]]) -> bool:
    """Every value is text the csv writer would write as it is (no quotes needed)."""
    try:
        texts = ["".join(column) for column in columns]
    except TypeError:  # a number or None: let the csv writer turn it into text
        return False
    # One scan a character finds it far quicker than a regular expression.
    return not any(c in text for text in texts for c in NEEDS_QUOTES)


class CsvSink:
    """All canonical files open at once, so each school's rows can be appended in turn.

    Rows are passed as whole columns (one sequence per column name) so the big tables can
    be built with numpy and written without a Python object per row.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self._files: dict[str, TextIO] = {}
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
        if n and _plain_text(ordered):
            # What the csv writer would write, three times as fast: the big tables (the
            # register, observations) are codes, dates and ids that need no quoting.
            lines = map(",".join, zip(*ordered, strict=True))
            self._files[entity].write("\n".join(lines) + "\n")
        else:
            self._writers[entity].writerows(zip(*ordered, strict=True))
        self.counts[file_name(entity)] += n
        return n

    def append_file(self, entity: str, part: Path, rows: int) -> None:
        """Append the data rows of another sink's file of ``entity`` (its header skipped):
        ``rows`` of them. Worker processes write each school's rows to files of their own
        and the parent puts them together in school order (synth.parallel)."""
        out = self._files[entity]
        out.flush()
        with part.open("rb") as source:
            source.readline()
            shutil.copyfileobj(source, out.buffer, COPY_CHUNK)
        self.counts[file_name(entity)] += rows

    def write_rows(self, entity: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Write small tables given as one mapping per row."""
        if not rows:
            return 0
        header = COLUMNS[entity]
        return self.write(entity, {name: [row[name] for row in rows] for name in header})
