"""What every reader produces: source rows translated to canonical entities, text as read.

A reader (MIS CSV/XLSX with a preset or mapping, Common Transfer File XML, forms export,
provision tracker) never validates or converts values: it names each value by its canonical
column (docs/canonical-format.md) and says where in the file it came from. Validation, code
standardisation and pupil matching happen once, in staging, for every source alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class SourceRecord:
    entity: str  # canonical entity, e.g. "pupils", "attendance"
    values: dict[str, str | None]  # canonical column -> text exactly as read (None if empty)
    source_row: int  # spreadsheet row (header = 1), or the ordinal of the XML element
    extra: dict[str, str] = field(default_factory=dict)  # columns the mapping does not use


@dataclass(frozen=True)
class SkippedRow:
    """A row that is not data (blank, a repeated header, a 'Total' line) and why."""

    source_row: int
    reason: str


@dataclass
class ReadResult:
    file_name: str
    source: str  # which reader/preset read it, e.g. "sims-pupils", "ctf", "forms"
    records: Iterable[SourceRecord]
    unknown_columns: list[str] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Reader(Protocol):
    """One kind of source file."""

    name: str

    def recognises(self, path: Path, head: bytes) -> bool:
        """Cheap guess from the name and first bytes, for ``--source auto``."""
        ...

    def read(self, path: Path) -> ReadResult:
        """Read the file; raise SourceError (file, row, column, reason) if it is unusable."""
        ...


def records_by_entity(records: Iterable[SourceRecord]) -> Iterator[tuple[str, list[SourceRecord]]]:
    grouped: dict[str, list[SourceRecord]] = {}
    for record in records:
        grouped.setdefault(record.entity, []).append(record)
    yield from sorted(grouped.items())
