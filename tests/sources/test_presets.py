"""The shipped SIMS, Arbor and Bromcom presets read the exports the synthetic writer
produces: auto-detection picks the right preset, every value comes back as the canonical
trust holds it, and the planted mess sits at the rows the writer reports."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from empowered.sources.mapping import MappedTableReader
from empowered.sources.presets import load_presets, preset_for
from empowered.sources.records import ReadResult, SourceRecord
from empowered.sources.registry import choose_reader
from empowered.sources.tabular import read_header, read_table
from empowered.synth import generate_trust
from empowered.synth.school_formats.base import CanonicalTrust, PlantedMess
from empowered.synth.school_formats.mis import KINDS, MIS_SYSTEMS, write_mis_exports

SEED = 5
ENTITY_OF = {"pupils": "pupils", "sen": "sen_status", "attendance": "attendance"}
UK_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> CanonicalTrust:
    folder = tmp_path_factory.mktemp("canonical")
    generate_trust(folder, schools=2, pupils=120, seed=SEED)
    return CanonicalTrust(folder)


@pytest.fixture(scope="module")
def urn(trust: CanonicalTrust) -> str:
    return trust.rows("schools")[0]["school_urn"]


Exports = dict[str, tuple[dict[str, Path], list[PlantedMess]]]


@pytest.fixture(scope="module")
def exports(trust: CanonicalTrust, urn: str, tmp_path_factory: pytest.TempPathFactory) -> Exports:
    out: Exports = {}
    for mis in MIS_SYSTEMS:
        folder = tmp_path_factory.mktemp(mis)
        paths, mess = write_mis_exports(trust, folder, school_urn=urn, mis=mis, seed=SEED)
        out[mis] = (dict(zip(KINDS, paths, strict=True)), mess)
    return out


@cache  # the exports are written once per module; each is read once
def read(path: Path, urn: str) -> tuple[ReadResult, list[SourceRecord]]:
    result = reader_of(path, urn).read(path)
    return result, list(result.records)


def reader_of(path: Path, urn: str) -> MappedTableReader:
    """The reader ``--source auto`` chooses: a preset, or (the SIMS student list, spelled
    as real exports are) a layout fitted from the headings."""
    reader = choose_reader(path, "auto", school=urn)
    assert isinstance(reader, MappedTableReader), f"nothing recognised {path.name}"
    return reader


def iso(text: str | None) -> str | None:
    """UK date text as the canonical ISO date; anything else unchanged."""
    match = UK_DATE.match(text or "")
    return f"{match[3]}-{match[2]}-{match[1]}" if match else text


def as_written(text: str, mis: str) -> str:
    # A Windows-1252 export writes '?' for letters that code page lacks (Łukasz).
    return text.encode("cp1252", errors="replace").decode("cp1252") if mis == "sims" else text


def empty(text: str) -> str | None:
    return text or None


# --- The presets themselves ------------------------------------------------------------


def test_presets_cover_four_reports_of_three_systems() -> None:
    presets = load_presets()
    assert sorted(presets) == sorted(f"{mis}-{kind}" for mis in MIS_SYSTEMS for kind in KINDS)
    for name, mapping in presets.items():
        assert mapping.recognise and mapping.description, name
        # A URN is read from the file only where the layout has a URN column.
        has_column = mapping.school_urn.kind == "column"
        assert has_column == name.startswith("arbor-"), name
        assert mapping.school_urn.kind in ("ask", "column"), name


def test_auto_detection_picks_the_right_preset(exports: Exports) -> None:
    for mis, (paths, _) in exports.items():
        for kind, path in paths.items():
            expected = f"{mis}-{kind}"
            found = preset_for(path)
            assert found is not None and found.name == expected, path.name
            # Also from a header read without hints, and limited to one system.
            assert preset_for(path, read_header(path)) is found
            assert preset_for(path, mis=mis) is found
            other = next(m for m in MIS_SYSTEMS if m != mis)
            assert preset_for(path, mis=other) is None


def test_an_unrelated_header_matches_no_preset(tmp_path: Path) -> None:
    assert preset_for(tmp_path / "x.csv", ["Name", "Shoe size"]) is None
    assert preset_for(tmp_path / "missing.csv") is None


# --- Export details --------------------------------------------------------------------


def test_export_details(exports: Exports) -> None:
    sims = exports["sims"][0]["pupils"]
    table = read_table(sims)
    assert table.encoding == "cp1252"
    assert table.header_row == 3  # a title line and a blank line come first
    assert table.preamble[0].startswith("Student List")
    assert table.file_date is not None
    assert [s.reason for s in table.skipped] == [
        "summary line, not data (starts with 'Total')",
        "blank row",
    ]
    lines = sims.read_bytes().decode("cp1252").split("\r\n")
    assert lines[-3:] == [f"Total: {len(table.rows)}", "", ""]  # then a trailing blank line

    arbor = exports["arbor"][0]["pupils"]
    assert arbor.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_table(arbor).header_row == 1

    bromcom = exports["bromcom"][0]["pupils"]
    assert bromcom.suffix == ".xlsx"
    workbook = read_table(bromcom)
    assert workbook.header_row == 4 and workbook.encoding is None
    assert "summary" in workbook.skipped[-1].reason


def test_file_names_say_which_school(exports: Exports, urn: str) -> None:
    for mis, (paths, _) in exports.items():
        for kind, path in paths.items():
            assert path.name.startswith(f"{mis}-{urn}-{kind}.")


def test_the_same_seed_writes_the_same_files(
    trust: CanonicalTrust, urn: str, exports: Exports, tmp_path: Path
) -> None:
    for mis in MIS_SYSTEMS:
        paths, mess = write_mis_exports(trust, tmp_path / mis, school_urn=urn, mis=mis, seed=SEED)
        assert mess == exports[mis][1]
        for kind, path in zip(KINDS, paths, strict=True):
            assert path.read_bytes() == exports[mis][0][kind].read_bytes(), path.name
    _, other = write_mis_exports(trust, tmp_path / "x", school_urn=urn, mis="sims", seed=SEED + 1)
    assert other != exports["sims"][1]


def test_an_unknown_system_is_refused(trust: CanonicalTrust, urn: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mis must be one of"):
        write_mis_exports(trust, tmp_path, school_urn=urn, mis="capita", seed=1)


# --- Values come back as the canonical trust holds them --------------------------------


@pytest.mark.parametrize("mis", MIS_SYSTEMS)
def test_pupils_and_characteristics_match_the_canonical_trust(
    mis: str, exports: Exports, trust: CanonicalTrust, urn: str
) -> None:
    paths, mess = exports[mis]
    path = paths["pupils"]
    result, records = read(path, urn)
    assert result.unknown_columns == []
    repeated = {m.row for m in mess if m.file == path.name and m.reason == "repeats row"}
    bad_upn = {m.row: m.value for m in mess if m.file == path.name and m.column == "upn"}
    canonical = {p["mis_id"]: p for p in trust.for_school("pupils", urn)}
    pupils = [r for r in records if r.entity == "pupils" and r.source_row not in repeated]
    assert len(pupils) == len(canonical)
    for record in pupils:
        values = record.values
        expected = canonical[values["mis_id"] or ""]
        assert values["school_urn"] == urn
        assert values["upn"] == bad_upn.get(record.source_row, expected["upn"])
        for column in ("sex", "ethnicity", "first_language"):
            assert values[column] == expected[column], column
        for column in ("forename", "surname"):
            assert values[column] == as_written(expected[column], mis), column
        for column in ("date_of_birth", "entry_date", "leaving_date"):
            assert iso(values[column]) == empty(expected[column]), column

    latest: dict[str, dict[str, str]] = {}
    for row in sorted(trust.for_school("characteristics", urn), key=lambda r: r["effective_date"]):
        latest[row["upn"]] = row
    snapshot = [r for r in records if r.entity == "characteristics"]
    file_dates = {r.values["effective_date"] for r in snapshot}
    assert len(file_dates) == 1 and None not in file_dates
    mapped = set(reader_of(path, urn).mapping.entities["characteristics"])
    for record in snapshot:
        if record.source_row in bad_upn:
            continue
        expected = latest[record.values["upn"] or ""]
        for column in mapped - {"upn", "mis_id", "effective_date"}:
            assert record.values[column] == empty(expected[column]), column


@pytest.mark.parametrize("mis", MIS_SYSTEMS)
def test_sen_register_matches_the_canonical_trust(
    mis: str, exports: Exports, trust: CanonicalTrust, urn: str
) -> None:
    paths, mess = exports[mis]
    _, records = read(paths["sen"], urn)
    got = [
        (
            r.values["upn"],
            iso(r.values["start_date"]),
            r.values["sen_provision"],
            r.values["primary_need"],
            r.values["secondary_need"],
        )
        for r in records
    ]
    expected = [
        (
            r["upn"],
            r["start_date"],
            r["sen_provision"],
            empty(r["primary_need"]),
            empty(r["secondary_need"]),
        )
        for r in trust.for_school("sen_status", urn)
    ]
    differ = [i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b]
    assert len(differ) == 1  # the planted need
    assert got[differ[0]][3] == "ADHD"


@pytest.mark.parametrize("mis", MIS_SYSTEMS)
def test_attendance_matches_the_canonical_trust(
    mis: str, exports: Exports, trust: CanonicalTrust, urn: str
) -> None:
    _, records = read(exports[mis][0]["attendance"], urn)
    got: Counter[tuple[str | None, ...]] = Counter(
        (r.values["upn"], iso(r.values["date"]), r.values["session"], r.values["code"])
        for r in records
    )
    expected: Counter[tuple[str | None, ...]] = Counter(
        (r["upn"], r["date"], r["session"], r["code"]) for r in trust.for_school("attendance", urn)
    )
    assert sum(got.values()) == sum(expected.values())
    extra, missing = got - expected, expected - got
    assert len(extra) == 1 and next(iter(extra))[3] == "7"
    assert len(missing) == 1


@pytest.mark.parametrize("mis", MIS_SYSTEMS)
def test_assessments_match_the_canonical_trust(
    mis: str, exports: Exports, trust: CanonicalTrust, urn: str
) -> None:
    _, records = read(exports[mis][0]["assessments"], urn)
    columns = ("upn", "assessed_on", "subject", "assessment", "measure", "value")
    got = [tuple(iso(r.values[c]) for c in columns) for r in records]
    expected = [tuple(r[c] for c in columns) for r in trust.for_school("assessments", urn)]
    assert got == expected


# --- Planted mess ----------------------------------------------------------------------


@pytest.mark.parametrize("mis", MIS_SYSTEMS)
def test_planted_mess_is_at_the_reported_rows(mis: str, exports: Exports, urn: str) -> None:
    paths, mess = exports[mis]
    reasons = Counter(m.reason for m in mess)
    assert reasons == {
        "repeats row": 1,
        "not a valid UPN": 1,
        "not a DfE SEN type of need": 1,
        "not a DfE attendance register code": 1,
    }
    by_name = {p.name: p for p in paths.values()}
    for planted in mess:
        path = by_name[planted.file]
        _, records = read(path, urn)
        at_row = [r for r in records if r.source_row == planted.row]
        assert at_row, planted
        if planted.reason == "repeats row":
            before = [r.values for r in records if r.source_row == planted.row - 1]
            assert [r.values for r in at_row] == before
            continue
        assert any(r.values.get(planted.column) == planted.value for r in at_row), planted
        # The row number is the one a spreadsheet shows, and the value is in that row.
        rows = dict(read_table(path).rows)
        assert planted.value in rows[planted.row]


def test_a_bad_upn_really_fails_its_check_letter(exports: Exports) -> None:
    from empowered.upn import is_valid_upn

    for _, mess in exports.values():
        bad = [m.value for m in mess if m.reason == "not a valid UPN"]
        assert bad and not is_valid_upn(bad[0])
