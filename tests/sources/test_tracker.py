"""Provision trackers: one row per pupil or per group, catalogue matching, new
interventions, sessions planned, and the synthetic workbook read back."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from empowered.sources.errors import SourceError
from empowered.sources.records import SourceRecord
from empowered.sources.tracker import (
    TRACKER_COLUMNS,
    TrackerReader,
    catalogue_from_csv,
    parse_date,
    planned_sessions,
    slug,
)
from empowered.synth import generate_trust
from empowered.synth.school_formats.base import CanonicalTrust
from empowered.synth.school_formats.tracker import write_provision_tracker

FIXTURE = Path(__file__).parent / "fixtures" / "tracker" / "provision_tracker.csv"
URN = "100001"
CATALOGUE = {
    "lego_therapy": "Lego-based therapy",
    "precision_teaching": "Precision teaching",
    "maths_catch_up": "Maths catch-up",
}


def enrolments(records: list[SourceRecord]) -> list[dict[str, str | None]]:
    return [r.values for r in records if r.entity == "provision_enrolments"]


@pytest.mark.parametrize(
    ("per_week", "start", "end", "expected"),
    [
        ("2", "08/09/2025", "31/10/2025", "16"),  # 54 days: 8 weeks
        ("3", "2025-09-10", "2025-11-10", "27"),  # 62 days: 9 weeks (holidays not known)
        ("5", "01/09/2025", "05/09/2025", "5"),  # one week
        ("1", "01/09/2025", "01/09/2025", "1"),
        ("2.5", "01/09/2025", "12/09/2025", "5"),
        ("5", "12/01/2026", "05/01/2026", None),  # ends before it starts
        ("twice", "01/09/2025", "12/09/2025", None),
        ("2", "31/02/2025", "12/09/2025", None),
        (None, "01/09/2025", "12/09/2025", None),
        ("2", "01/09/2025", None, None),
    ],
)
def test_planned_sessions(
    per_week: str | None, start: str | None, end: str | None, expected: str | None
) -> None:
    assert planned_sessions(per_week, start, end) == expected


def test_small_helpers() -> None:
    assert slug("Emotional literacy support (ELSA)") == "emotional_literacy_support_elsa"
    assert slug("Lego-based therapy") == "lego_based_therapy"
    assert slug("Zoë's group") == "zoe_s_group"
    assert parse_date("2025-09-10") == date(2025, 9, 10)
    assert parse_date("10/09/2025") == date(2025, 9, 10)
    assert parse_date("2025-09-10 00:00") == date(2025, 9, 10)
    assert parse_date("September") is None


def test_group_rows_become_one_enrolment_per_pupil() -> None:
    result = TrackerReader(school=URN, catalogue=CATALOGUE).read(FIXTURE)
    records = list(result.records)
    rows = enrolments(records)
    lego = [r for r in records if r.values.get("intervention_code") == "lego_therapy"]
    # "Ada Example; Ben Sample (4R)\nCara Test": three pupils, one source row.
    assert [(r.source_row, r.values["pupil_name"], r.values["pupil_group"]) for r in lego] == [
        (3, "Ada Example", "3K"),
        (3, "Ben Sample", "4R"),  # their own class beats the row's
        (3, "Cara Test", "3K"),
    ]
    first = lego[0].values
    assert (first["start_date"], first["end_date"], first["sessions_planned"]) == (
        "08/09/2025",
        "31/10/2025",
        "16",
    )
    assert (first["pre_score"], first["post_score"], first["staff_id"]) == ("2", "3", "TAX")
    assert (first["school_urn"], first["upn"]) == (URN, None)
    assert lego[0].extra["Notes"] == "Group A" and lego[0].extra["Room"] == "Library"
    assert len({r["enrolment_id"] for r in rows}) == len(rows)
    # Name matched to the catalogue whatever its case: "LEGO-based therapy".
    assert {r["intervention_code"] for r in rows} == {
        "lego_therapy",
        "zones_of_regulation",
        "precision_teaching",
    }
    assert result.unknown_columns == ["Room"]


def test_a_tracker_can_introduce_an_intervention() -> None:
    result = TrackerReader(school=URN, catalogue=CATALOGUE).read(FIXTURE)
    catalogue = [r for r in result.records if r.entity == "interventions"]
    assert len(catalogue) == 1  # the others are in the catalogue already
    new = catalogue[0]
    assert new.source_row == 4
    assert new.values == {
        "intervention_code": "zones_of_regulation",
        "intervention_name": "Zones of Regulation",
        "area_of_need": "Social, emotional and mental health",
        "target_need": None,
        "measure": None,
        "group_size": "6",
        "minutes_per_session": "45",
        "hourly_staff_cost": "16.00",  # "£16.00": the pound sign is only a spelling
        "materials_cost": "1200",
        "training_cost": None,
        # A tracker's new intervention is a trust-wide catalogue entry (no school), without
        # the cost-model details only the app's catalogue keeps.
        "school_urn": None,
        "staff_role": None,
        "sessions_per_week": None,
        "weeks": None,
    }
    # Row 5 says 40 minutes: the first row's value is used and the clash reported.
    assert any("minutes_per_session" in w for w in result.warnings)
    # Without a catalogue every intervention named is offered as a catalogue entry.
    everything = TrackerReader(school=URN).read(FIXTURE)
    codes = sorted(
        r.values["intervention_code"] or ""
        for r in everything.records
        if r.entity == "interventions"
    )
    assert codes == [
        "lego_based_therapy",
        "maths_catch_up",
        "precision_teaching",
        "zones_of_regulation",
    ]


def test_rows_that_are_not_enrolments() -> None:
    result = TrackerReader(school=URN, catalogue=CATALOGUE).read(FIXTURE)
    assert [(s.source_row, s.reason.split(" (")[0]) for s in result.skipped] == [
        (7, "names no pupil or intervention"),
        (8, "names no pupil"),
        (9, "summary line, not data"),
    ]
    wrong = next(r for r in enrolments(list(result.records)) if r["pupil_name"] == "Finn Madeup")
    # End before start: kept as written for staging to reject; no sessions estimate.
    assert (wrong["start_date"], wrong["end_date"], wrong["sessions_planned"]) == (
        "12/01/2026",
        "05/01/2026",
        None,
    )


def test_ids_are_stable_and_do_not_depend_on_row_order(tmp_path: Path) -> None:
    first = TrackerReader(school=URN, catalogue=CATALOGUE).read(FIXTURE)
    with FIXTURE.open(encoding="utf-8", newline="") as handle:
        title, header, *body = list(csv.reader(handle))
    moved = tmp_path / "moved.csv"
    with moved.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([title, header, *reversed(body)])
    second = TrackerReader(school=URN, catalogue=CATALOGUE).read(moved)
    assert sorted(r["enrolment_id"] or "" for r in enrolments(list(first.records))) == sorted(
        r["enrolment_id"] or "" for r in enrolments(list(second.records))
    )
    # Another school's identical tracker gives other ids: enrolment ids are trust-wide.
    other = TrackerReader(school="100002", catalogue=CATALOGUE).read(FIXTURE)
    assert not {r["enrolment_id"] for r in enrolments(list(first.records))} & {
        r["enrolment_id"] for r in enrolments(list(other.records))
    }


def test_sessions_planned_column_wins_over_the_estimate(tmp_path: Path) -> None:
    path = tmp_path / "tracker.csv"
    path.write_text(
        "Pupil,Class,Intervention,Start date,End date,Sessions per week,Number of sessions\n"
        "Ada Example,3K,Precision teaching,01/09/2025,24/10/2025,5,36\n",
        encoding="utf-8",
    )
    (row,) = enrolments(list(TrackerReader(school=URN).read(path).records))
    assert row["sessions_planned"] == "36"


def test_missing_columns_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tracker.csv"
    path.write_text("Pupil,Start date\nAda Example,01/09/2025\n", encoding="utf-8")
    with pytest.raises(SourceError, match="Intervention"):
        TrackerReader(school=URN).read(path)
    path.write_text("Intervention,Start date\nMaths catch-up,01/09/2025\n", encoding="utf-8")
    with pytest.raises(SourceError, match="Pupil"):
        TrackerReader(school=URN).read(path)


def test_recognises_trackers_only() -> None:
    reader = TrackerReader()
    assert reader.recognises(FIXTURE, FIXTURE.read_bytes()[:4096])
    form = FIXTURE.parent.parent / "forms" / "google_check_in.csv"
    assert not reader.recognises(form, form.read_bytes()[:4096])


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tracker_trust")
    generate_trust(folder, schools=2, pupils=120, seed=5)
    return folder


def test_synthetic_workbook_layout(trust: Path, tmp_path: Path) -> None:
    canonical = CanonicalTrust(trust)
    urn = canonical.rows("schools")[0]["school_urn"]
    path, _ = write_provision_tracker(canonical, tmp_path, school_urn=urn, seed=5)
    with CalamineWorkbook.from_path(str(path)) as workbook:
        assert workbook.sheet_names == ["Provision"]
        cells = workbook.get_sheet_by_name("Provision").to_python(skip_empty_area=False)
    assert str(cells[0][0]).startswith("Provision map 20")
    assert cells[2][0] == "Pupil"
    assert isinstance(cells[3][4], date)  # a real Excel date, not text
    # The formula's saved result is what a reader sees: minutes x hourly cost / 60.
    cost = cells[2].index("Cost per session")
    assert cells[3][cost] == pytest.approx(
        float(str(cells[3][7])) * float(str(cells[3][10])) / 60, abs=0.01
    )


def test_synthetic_tracker_reads_back_to_the_canonical_enrolments(
    trust: Path, tmp_path: Path
) -> None:
    canonical = CanonicalTrust(trust)
    catalogue = catalogue_from_csv(trust / "interventions.csv")
    for school in canonical.rows("schools"):
        urn = school["school_urn"]
        path, mess = write_provision_tracker(canonical, tmp_path, school_urn=urn, seed=5)
        result = TrackerReader(school=urn, catalogue=catalogue).read(path)
        records = list(result.records)
        assert result.unknown_columns == [] and result.warnings == []
        assert [s.reason.split(" (")[0] for s in result.skipped] == ["summary line, not data"]
        assert all(r.entity == "provision_enrolments" for r in records)  # catalogue knows all

        names = {p["upn"]: f"{p['forename']} {p['surname']}" for p in canonical.rows("pupils")}
        groups: dict[str, tuple[str, str]] = {}
        for c in canonical.for_school("characteristics", urn):
            if c["upn"] not in groups or c["effective_date"] >= groups[c["upn"]][0]:
                groups[c["upn"]] = (c["effective_date"], c["reg_group"])
        fields: tuple[str, ...] = ("intervention_code", "staff_id", "start_date", "end_date")
        fields += ("pre_date", "pre_score", "post_date", "post_score")
        planted = {m.row for m in mess}
        late = next(m for m in mess if m.column == "end_date")
        expected = Counter(
            (names[e["upn"]], groups[e["upn"]][1], *(e[f] for f in fields))
            for e in canonical.for_school("provision_enrolments", urn)
        )
        got = Counter(
            tuple(r.values[f] or "" for f in ("pupil_name", "pupil_group", *fields))
            for r in records
            if r.source_row not in planted
        )
        # Every enrolment but the one whose end date was planted wrong comes back as it was.
        assert sum((expected - got).values()) == 1 and not got - expected

        by_row = {r.source_row: r.values for r in records}
        assert by_row[late.row]["end_date"] == late.value
        assert late.value < (by_row[late.row]["start_date"] or "")
        assert late.reason == "is before the start date"
        nobody = next(m for m in mess if m.column == "pupil_name")
        assert by_row[nobody.row]["pupil_name"] == nobody.value
        assert nobody.value not in names.values()

        for r in records:
            v = r.values
            per_week = r.extra["Sessions per week"]
            assert v["sessions_planned"] == planned_sessions(
                per_week, v["start_date"], v["end_date"]
            )

        again = TrackerReader(school=urn, catalogue=catalogue).read(path)
        assert list(again.records) == records
        path_b, _ = write_provision_tracker(canonical, tmp_path / "again", school_urn=urn, seed=5)
        re_export = TrackerReader(school=urn, catalogue=catalogue).read(path_b)
        assert [r.values for r in re_export.records] == [r.values for r in records]


# --- property: any rows ---------------------------------------------------------------

HEADERS = [names[0] for names in TRACKER_COLUMNS.values()] + ["Room", "Pupils"]
cell_text = st.one_of(
    st.sampled_from(["", "Ada Example (3K)", "A; B\nC", "01/09/2025", "2025-13-40", "£1,2"]),
    st.sampled_from(["3", "2.5", "Total", "Maths catch-up", "-1", "0"]),
    st.text(max_size=30),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=12),
    rows=st.lists(st.lists(cell_text, max_size=14), max_size=8),
    as_xlsx=st.booleans(),
)
def test_any_rows_give_records_or_a_source_error(
    tmp_path: Path, header: list[str], rows: list[list[str]], as_xlsx: bool
) -> None:
    if as_xlsx:
        path = tmp_path / "tracker.xlsx"
        workbook = xlsxwriter.Workbook(str(path))
        sheet = workbook.add_worksheet("Provision")
        for r, row in enumerate([header, *rows]):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
        workbook.close()
    else:
        path = tmp_path / "tracker.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    try:
        result = TrackerReader(school=URN, catalogue=CATALOGUE).read(path)
    except SourceError:
        return
    for record in result.records:
        assert record.entity in ("provision_enrolments", "interventions")
        assert all(v is None or isinstance(v, str) for v in record.values.values())
