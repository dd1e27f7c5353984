"""Shipped column mappings for typical SIMS, Arbor and Bromcom report layouts.

Each preset is one YAML file in this package (the schema is in docs/mis-import.md). They
are plausible layouts written for EmpowerED+, not copies of any vendor's documentation:
a school whose report differs copies the nearest preset and edits it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

from empowered.sources.errors import SourceError
from empowered.sources.mapping import Mapping, MappingError, load_mapping
from empowered.sources.tabular import read_header


def load_presets() -> dict[str, Mapping]:
    """Every shipped preset by name."""
    return dict(_presets())


@cache
def _presets() -> dict[str, Mapping]:
    presets: dict[str, Mapping] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yml"):
            continue
        mapping = load_mapping(entry.read_text(encoding="utf-8"), origin=f"preset {entry.name}")
        # One name, one file: the name is what an import report and --source show.
        if mapping.name != entry.name.removesuffix(".yml") or mapping.name in presets:
            raise MappingError(mapping.origin, "name", "must match the file name and be unique")
        presets[mapping.name] = mapping
    return presets


def recognised_columns() -> set[str]:
    """Normalised columns any preset recognises: what to look for when finding a header."""
    return {c for m in _presets().values() for c in m.recognise}


def preset_for(
    path: Path, header: Sequence[str] | None = None, *, mis: str | None = None
) -> Mapping | None:
    """The preset that fits a file's header best (``--source auto``), or None.

    ``header`` is read from the file when not given; ``mis`` ("sims", "arbor", "bromcom")
    limits the choice to that system's presets. The most specific match wins (the preset
    that recognises the most columns); a tie is no answer, never a guess.
    """
    presets = [m for m in _presets().values() if mis is None or m.name.startswith(f"{mis}-")]
    if header is None:
        try:
            header = read_header(path, expected=recognised_columns())
        except SourceError:
            return None
    scored = sorted(((m.recognition_score(list(header)), m.name) for m in presets), reverse=True)
    if not scored or scored[0][0] == 0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return _presets()[scored[0][1]]
