"""What every school-format writer shares: the canonical trust it converts, and the mess
it plants on purpose so tests can check the import report quarantines it for the right
reason."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from empowered.sources.canonical import ENTITIES
from empowered.synth.generate import MANIFEST_NAME


@dataclass(frozen=True)
class PlantedMess:
    """One deliberately broken row in a written file, and the reason import must give."""

    file: str  # file name as written (no folder)
    row: int  # spreadsheet row number (header = 1), or XML element ordinal
    column: str  # canonical column the problem is reported against
    value: str  # the bad value as written ("" for a duplicated row)
    reason: str  # a phrase the quarantine reason must contain


class CanonicalTrust:
    """A synthetic trust's canonical CSV files, read once as rows of text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._rows: dict[str, list[dict[str, str]]] = {}

    def rows(self, entity: str) -> list[dict[str, str]]:
        if entity not in ENTITIES:
            raise KeyError(f"{entity} is not a canonical entity")
        if entity not in self._rows:
            path = self.folder / ENTITIES[entity].file_name
            with path.open(encoding="utf-8", newline="") as handle:
                self._rows[entity] = list(csv.DictReader(handle))
        return self._rows[entity]

    def for_school(self, entity: str, school_urn: str) -> list[dict[str, str]]:
        return [r for r in self.rows(entity) if r.get("school_urn") == school_urn]

    @property
    def through(self) -> str | None:
        """The ISO day a trust cut off at a date stops (synth.through; its manifest says),
        or None for whole years: its systems export on that day, not at the end of term."""
        manifest = self.folder / MANIFEST_NAME
        if not manifest.exists():
            return None
        day = json.loads(manifest.read_text("utf-8")).get("parameters", {}).get("through")
        return str(day) if day else None
