"""Which reader reads a file: chosen by ``--source`` or, with ``auto``, recognised from the
file's name and first bytes. The one list of the formats EmpowerED+ imports."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from empowered.sources.aggregator_json import AggregatorJsonReader
from empowered.sources.ctf import CtfReader
from empowered.sources.errors import SourceError
from empowered.sources.forms import FormsReader
from empowered.sources.layouts import LayoutReader, best_fit, layout_headings
from empowered.sources.mapping import MappedTableReader, MappingError, load_mapping
from empowered.sources.presets import preset_for, recognised_columns
from empowered.sources.records import Reader
from empowered.sources.tabular import normalise_header, read_header
from empowered.sources.term_dates import TermDatesReader
from empowered.sources.tracker import TrackerReader

SOURCES = (
    "auto",
    "canonical",
    "ctf",
    "sims",
    "arbor",
    "bromcom",
    "json",
    "observations",
    "provision",
)
TABULAR_SUFFIXES = (".csv", ".xlsx", ".txt")
HEAD_BYTES = 4096


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def _preset_reader(
    path: Path, mis: str | None, school: str | None, file_date: str | None = None
) -> Reader | None:
    mapping = preset_for(path, mis=mis)
    if mapping is None:
        return None
    return MappedTableReader(mapping, school=school, file_date=file_date)


def _tabular_reader(path: Path, school: str | None, file_date: str | None) -> Reader | None:
    """A shipped preset or a layout fitted from the headings, whichever reads more of the
    file's columns (a preset on a tie: it knows its system's words and shapes)."""
    try:
        header = read_header(path, expected=recognised_columns() | layout_headings())
    except SourceError:
        return None
    names = {normalise_header(h) for h in header}
    preset = preset_for(path, header)
    fitted = best_fit(header)
    # A preset's `ignore` columns are ones it knows and leaves out on purpose.
    preset_used = len((preset.source_columns() | preset.ignore) & names) if preset else 0
    if fitted is not None and fitted.used > preset_used:
        return LayoutReader(fitted, school=school, file_date=file_date)
    if preset is not None:
        return MappedTableReader(preset, school=school, file_date=file_date)
    return None


def choose_reader(
    path: Path,
    source: str,
    *,
    school: str | None = None,
    catalogue: Mapping[str, str] | None = None,
    file_date: str | None = None,
    schools: Mapping[str, str] | None = None,
) -> Reader | None:
    """The reader for ``path``; None when no format recognises it (reported, not fatal).

    ``catalogue`` (intervention code -> name) lets a provision tracker name interventions
    by the trust's codes rather than inventing new ones. ``file_date`` (--export-date) is
    when the export was taken, for a file whose title lines do not say. ``schools`` (URN
    and DfE number -> URN) lets a transfer file find the school it was sent to.
    """
    tracker = TrackerReader(school=school, catalogue=dict(catalogue or {}))
    if source.endswith((".yml", ".yaml")):
        try:
            mapping = load_mapping(Path(source))
        except MappingError as err:
            raise SourceError(Path(source).name, f"is not a usable mapping: {err}") from err
        return MappedTableReader(mapping, school=school, file_date=file_date)
    ctf = CtfReader(school=school, schools=schools)
    if source == "ctf":
        return ctf
    if source == "json":
        return AggregatorJsonReader(school=school, file_date=file_date)
    if source == "observations":
        return FormsReader(school=school)
    if source == "provision":
        return tracker
    if source in ("sims", "arbor", "bromcom"):
        reader = _preset_reader(path, source, school, file_date)
        if reader is None:
            raise SourceError(path.name, f"does not match any {source.upper()} report layout")
        return reader
    if source != "auto":
        raise SourceError(path.name, f"--source must be one of {', '.join(SOURCES)} or a .yml")
    head = _head(path)
    aggregator = AggregatorJsonReader(school=school, file_date=file_date)
    terms = TermDatesReader(school=school)
    for candidate in (ctf, aggregator, terms, FormsReader(school=school), tracker):
        if candidate.recognises(path, head):
            return candidate
    if path.suffix.lower() in TABULAR_SUFFIXES:
        return _tabular_reader(path, school, file_date)
    return None
