"""A reader that returns the records it was given: the importer's view of any format."""

from __future__ import annotations

from pathlib import Path

from empowered.sources.records import ReadResult, SourceRecord


class ListReader:
    name = "test-list"

    def __init__(self, records: list[SourceRecord]) -> None:
        self.records = records

    def recognises(self, path: Path, head: bytes) -> bool:
        return True

    def read(self, path: Path) -> ReadResult:
        return ReadResult(path.name, self.name, self.records)
