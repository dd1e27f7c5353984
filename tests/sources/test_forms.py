"""Microsoft Forms and Google Forms exports: the form definition, the reader, and the
synthetic writer read back (down to staging quarantining exactly the planted mess)."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from empowered.sources.errors import SourceError
from empowered.sources.forms import (
    DEFAULT_FORM,
    FormsReader,
    load_form_definition,
    parse_form_definition,
    split_pupil,
    split_timestamp,
)
from empowered.sources.records import SourceRecord
from empowered.synth import codes, generate_trust
from empowered.synth.school_formats.base import CanonicalTrust
from empowered.synth.school_formats.forms import write_forms_export
from identity_keys import TEST_KEYS

FIXTURES = Path(__file__).parent / "fixtures" / "forms"
URN = "100001"


def by_row(records: list[SourceRecord]) -> dict[int, dict[str, SourceRecord]]:
    rows: dict[int, dict[str, SourceRecord]] = {}
    for r in records:
        assert r.entity not in rows.setdefault(r.source_row, {})
        rows[r.source_row][r.entity] = r
    return rows


# --- the default definition ----------------------------------------------------------


def test_default_definition_covers_every_generator_code() -> None:
    # The synthetic writer words answers with these labels: every code it can write must
    # have one, and every label must mean a code the generator knows.
    vocabularies = {
        "activity": codes.ACTIVITIES,
        "setting": codes.SETTINGS,
        "strategy_code": codes.STRATEGY_CODES,
        "antecedent": codes.ANTECEDENTS,
        "behaviour": codes.BEHAVIOURS,
        "consequence": codes.CONSEQUENCES,
        "outcome": ("helped", "partly", "not_helped"),
        "mood": ("1", "2", "3", "4", "5"),
        "engagement": ("1", "2", "3", "4", "5"),
        "regulation": ("1", "2", "3", "4", "5"),
    }
    for field, known in vocabularies.items():
        question = DEFAULT_FORM.questions[field]
        assert sorted(code for _, code in question.choices) == sorted(known), field
    names = {code: name for code, name, _ in codes.STRATEGIES}
    strategy = DEFAULT_FORM.questions["strategy_code"]
    assert all(strategy.label_for(code) == name for code, name in names.items())


def test_definition_from_yaml_file() -> None:
    d = load_form_definition(FIXTURES / "custom-form.yml")
    assert d.name == "fictional-academy-wellbeing"
    assert d.school_urn == URN
    assert d.pupil_group == ("Class",)
    assert d.questions["outcome"].headers == ("Worked?", "Did it work?")
    assert d.questions["strategy_code"].separator == ","
    assert d.questions["mood"].choices == ()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("pupil: P\nquestions: {}", "name is missing"),
        ("name: f\nquestions: {}", "pupil"),
        ("name: f\npupil: P\nquestions:\n  favourite_colour: Colour", "not a field"),
        ("name: f\npupil: P\ncolour: red", "unknown setting"),
        # YAML 1.1 turns an unquoted Yes into True: refuse rather than map "True".
        ("name: f\npupil: P\nquestions:\n  outcome: {header: H, values: {Yes: helped}}", "quotes"),
        ("name: f\npupil: P\nstaff_email: initials", "staff_email"),
        ("name: f\npupil: P\nquestions:\n  mood: {header: H, separator: ','}", "separator"),
        ("name: [unclosed", "YAML"),
        ("- just\n- a list", "mapping"),
    ],
)
def test_bad_definitions_are_refused_with_the_reason(text: str, fragment: str) -> None:
    with pytest.raises(SourceError, match=fragment):
        parse_form_definition(text)


# --- small pieces ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23/11/2026 10:15:32", ("23/11/2026", "10:15")),
        ("23/11/2026 10:15", ("23/11/2026", "10:15")),
        ("3/1/2026 9:05:00", ("3/1/2026", "09:05")),
        ("2026-11-23T10:15:32.120Z", ("2026-11-23", "10:15")),
        ("2026-11-23 10:15", ("2026-11-23", "10:15")),
        ("23/11/2026 2:05:00 PM", ("23/11/2026", "14:05")),
        ("23/11/2026 12:30:00 AM", ("23/11/2026", "00:30")),
        ("23/11/2026", ("23/11/2026", None)),
        ("last Tuesday", ("last Tuesday", None)),  # passed on for staging to reject
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_split_timestamp(text: str | None, expected: tuple[str | None, str | None]) -> None:
    assert split_timestamp(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ada Example (3K)", ("Ada Example", "3K")),
        ("  Ada   Example(3K) ", ("Ada Example", "3K")),
        ("Ada (Addie) Example (3K)", ("Ada (Addie) Example", "3K")),
        ("Ada Example", ("Ada Example", None)),
        ("Ada Example ()", ("Ada Example", None)),
        ("", (None, None)),
    ],
)
def test_split_pupil(text: str, expected: tuple[str | None, str | None]) -> None:
    assert split_pupil(text) == expected


# --- fixtures: Microsoft, Google, a school's own definition ----------------------------


def test_microsoft_export() -> None:
    result = FormsReader(school=URN).read(FIXTURES / "microsoft_check_in.csv")
    assert result.source == "forms"
    rows = by_row(list(result.records))
    assert {n: sorted(r) for n, r in rows.items()} == {
        2: ["observations", "strategy_uses"],
        3: ["observations"],
        4: ["incidents"],
        5: ["incidents", "observations", "strategy_uses"],
    }
    obs = rows[2]["observations"].values
    assert obs["observed_on"] == "23/11/2026"  # as written: staging reads DD/MM/YYYY
    assert obs["observed_time"] == "10:15"  # from the completion time, not the start
    assert (obs["mood"], obs["engagement"], obs["regulation"]) == ("4", "4", "4")
    assert (obs["pupil_name"], obs["pupil_group"], obs["upn"]) == ("Ada Example", "3K", None)
    assert (obs["staff_id"], obs["school_urn"]) == ("ABC", URN)
    assert (obs["activity"], obs["setting"], obs["note"]) == (
        "maths",
        "classroom",
        "Settled quickly.",
    )
    use = rows[2]["strategy_uses"].values
    assert (use["strategy_code"], use["outcome"]) == ("sensory_break", "helped")
    assert use["note"] == "Asked for it independently."
    assert (use["used_on"], use["used_time"]) == ("23/11/2026", "10:15")
    # An answer the definition does not know arrives as written; staging rejects it.
    assert rows[3]["observations"].values["mood"] == "Brilliant"
    assert rows[3]["observations"].values["staff_id"] is None  # "anonymous"
    incident = rows[4]["incidents"].values
    assert (incident["antecedent"], incident["behaviour"], incident["consequence"]) == (
        "change_of_routine",
        "leaving_area",
        "adult_support",
    )
    assert (incident["intensity"], incident["duration_minutes"]) == ("3", "12")
    assert result.unknown_columns == ["Weather today?"]
    assert rows[2]["observations"].extra["Weather today?"] == "Sunny"
    assert rows[2]["observations"].extra["Start time"] == "23/11/2026 10:13:02"
    # The respondent's display name is a staff name: never landed.
    assert all("Name" not in r.extra for r in result.records)
    assert any("'Name'" in w for w in result.warnings)
    assert [(s.source_row, s.reason) for s in result.skipped] == [(6, "no answers to record")]
    # One response, one id: the records of a row share it, responses do not.
    five = rows[5]
    key = five["observations"].values["observation_id"]
    assert key is not None
    assert five["strategy_uses"].values["use_id"] == key.replace("FO-", "FU-")
    assert five["incidents"].values["incident_id"] == key.replace("FO-", "FI-")
    ids = [r["observations"].values["observation_id"] for r in rows.values() if "observations" in r]
    assert len(set(ids)) == len(ids)


def test_microsoft_ids_follow_the_response_id(tmp_path: Path) -> None:
    source = FIXTURES / "microsoft_check_in.csv"
    first = FormsReader(school=URN).read(source)
    # Re-exported later: rows in another order, an answer corrected, a column added.
    with source.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    rows.reverse()
    rows[1][8] = "Good"  # response 4, now first: mood corrected from "Low"
    again = tmp_path / "re-export.csv"
    with again.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*header, "New question"])
        writer.writerows([*row, ""] for row in rows)
    second = FormsReader(school=URN).read(again)

    def ids(records: list[SourceRecord]) -> Counter[str | None]:
        return Counter(
            r.values.get("observation_id") or r.values.get("use_id") or r.values.get("incident_id")
            for r in records
        )

    assert ids(list(first.records)) == ids(list(second.records))


def test_google_export_ids_come_from_timestamp_staff_and_pupil(tmp_path: Path) -> None:
    source = FIXTURES / "google_check_in.csv"
    result = FormsReader(school=URN).read(source)
    rows = by_row(list(result.records))
    assert {n: sorted(r) for n, r in rows.items()} == {
        2: ["observations", "strategy_uses"],
        3: ["observations"],
        4: ["incidents"],
    }
    assert rows[2]["observations"].values["staff_id"] == "abc"
    assert rows[2]["strategy_uses"].values["outcome"] == "not_helped"
    # Same second, different staff and pupil: different responses.
    assert (
        rows[2]["observations"].values["observation_id"]
        != rows[3]["observations"].values["observation_id"]
    )
    assert rows[4]["incidents"].values["pupil_group"] is None  # no class given
    assert result.unknown_columns == [] and result.warnings == []
    # Exported again with the rows in another order: the same ids.
    with source.open(encoding="utf-8", newline="") as handle:
        header, *body = list(csv.reader(handle))
    shuffled = tmp_path / "again.csv"
    with shuffled.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *reversed(body)])
    again = FormsReader(school=URN).read(shuffled)
    assert sorted(str(r.values) for r in result.records) == sorted(
        str(r.values) for r in again.records
    )


def test_a_schools_own_definition() -> None:
    definition = load_form_definition(FIXTURES / "custom-form.yml")
    # The definition's school is used when the importer does not give one.
    result = FormsReader(definition).read(FIXTURES / "custom_check_in.csv")
    rows = by_row([r for r in result.records if r.entity != "strategy_uses"])
    uses = [r for r in result.records if r.entity == "strategy_uses"]
    obs = rows[2]["observations"].values
    assert obs["school_urn"] == URN
    assert (obs["observed_on"], obs["observed_time"]) == ("2026-11-23", "10:15")
    assert (obs["pupil_name"], obs["pupil_group"], obs["pupil_dob"]) == (
        "Ada Example",
        "3K",
        "04/03/2018",
    )
    assert obs["staff_id"] == "xyz@fictional-academy.example"  # staff_email: as_written
    assert (obs["activity"], obs["mood"]) == ("maths", "4")
    # Two strategies ticked in one answer: two uses, with distinct ids, on the same row.
    assert [(u.source_row, u.values["strategy_code"], u.values["outcome"]) for u in uses] == [
        (2, "sensory_break", "helped"),
        (2, "fidget_tool", "helped"),
    ]
    assert len({u.values["use_id"] for u in uses}) == 2
    assert all(u.values["note"] == "Two strategies today." for u in uses)
    # A US-style timestamp: the date is kept as written for staging to judge.
    late = rows[3]["observations"].values
    assert (late["observed_on"], late["observed_time"]) == ("11/23/2026", "14:05")
    assert late["pupil_name"] == "Example, Ada"
    other = FormsReader(definition, school="100002").read(FIXTURES / "custom_check_in.csv")
    assert {r.values["school_urn"] for r in other.records} == {"100002"}  # importer's wins


def test_missing_timestamp_or_pupil_column_refuses_the_file(tmp_path: Path) -> None:
    no_pupil = tmp_path / "no_pupil.csv"
    no_pupil.write_text(
        "Timestamp,Email address,How is the pupil feeling?\n01/01/2026 09:00:00,a,OK\n"
    )
    with pytest.raises(SourceError, match="pupil"):
        FormsReader(school=URN).read(no_pupil)
    no_time = tmp_path / "no_time.csv"
    no_time.write_text("Email address,Pupil (name and class)\na,Ada Example (3K)\n")
    with pytest.raises(SourceError, match="timestamp"):
        FormsReader(school=URN).read(no_time)


def test_no_school_is_a_warning_not_a_guess() -> None:
    result = FormsReader().read(FIXTURES / "google_check_in.csv")
    assert all(r.values["school_urn"] is None for r in result.records)
    assert any("school_urn" in w for w in result.warnings)


def _xlsx_export(path: Path) -> None:
    """A Microsoft Forms .xlsx download: the times are real Excel date-times."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Sheet1")
    when = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
    header = ["ID", "Start time", "Completion time", "Email", "Name", "Pupil (name and class)"]
    header += ["How is the pupil feeling?", "Strategy used (if any)", "Did it help?"]
    sheet.write_row(0, 0, header)
    sheet.write_number(1, 0, 7)
    sheet.write_datetime(1, 1, datetime(2026, 11, 23, 10, 13, 2), when)
    sheet.write_datetime(1, 2, datetime(2026, 11, 23, 10, 15, 32), when)
    sheet.write_row(1, 3, ["ABC@fictional-primary.example", "ABC", "Ada Example (3K)", "Low"])
    sheet.write_row(1, 7, ["Calm corner", "Yes"])
    workbook.close()


def test_xlsx_export_and_recognition(tmp_path: Path) -> None:
    path = tmp_path / "Daily check-in(1-1).xlsx"
    _xlsx_export(path)
    reader = FormsReader(school=URN)
    assert reader.recognises(path, path.read_bytes()[:4096])
    rows = by_row(list(reader.read(path).records))
    obs, use = rows[2]["observations"].values, rows[2]["strategy_uses"].values
    assert (obs["observed_on"], obs["observed_time"], obs["mood"]) == ("2026-11-23", "10:15", "2")
    assert (use["strategy_code"], use["outcome"]) == ("calm_corner", "helped")


def test_recognises_forms_and_not_other_files() -> None:
    reader = FormsReader()
    for name in ("microsoft_check_in.csv", "google_check_in.csv"):
        path = FIXTURES / name
        assert reader.recognises(path, path.read_bytes()[:4096])
    tracker = FIXTURES.parent / "tracker" / "provision_tracker.csv"
    assert not reader.recognises(tracker, tracker.read_bytes()[:4096])
    assert not reader.recognises(Path("x.xlsx"), b"PK\x03\x04 not really a workbook")


# --- property: any rows and answers ----------------------------------------------------

HEADERS = [
    "ID",
    "Completion time",
    "Timestamp",
    "Email",
    "Pupil (name and class)",
    *(q.headers[0] for q in DEFAULT_FORM.questions.values()),
    "Something else",
]
cell_text = st.one_of(
    st.sampled_from(["", "Good", "9", "Sensory break", "Ada Example (3K)", "anonymous"]),
    st.sampled_from(["23/11/2026 10:15:32", "2026-11-23T25:99", "13/13/2026 1:00 PM"]),
    st.text(max_size=30),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=12),
    rows=st.lists(st.lists(cell_text, max_size=14), max_size=8),
)
def test_any_rows_give_records_or_a_source_error(
    tmp_path: Path, header: list[str], rows: list[list[str]]
) -> None:
    path = tmp_path / "responses.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    try:
        result = FormsReader(school=URN).read(path)
    except SourceError:
        return
    for record in result.records:
        assert record.entity in ("observations", "strategy_uses", "incidents")
        assert record.source_row >= 2
        assert all(v is None or isinstance(v, str) for v in record.values.values())


# --- the synthetic writer, read back -----------------------------------------------------


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("forms_trust")
    generate_trust(folder, schools=2, pupils=120, seed=5)
    return folder


def _uk_to_iso(text: str | None) -> str:
    assert text is not None
    day, month, year = text.split("/")
    return f"{year}-{month}-{day}"


@pytest.mark.parametrize("style", ["microsoft", "google"])
def test_synthetic_export_reads_back_to_the_canonical_values(
    trust: Path, tmp_path: Path, style: str
) -> None:
    canonical = CanonicalTrust(trust)
    urn = canonical.rows("schools")[0]["school_urn"]
    path, mess = write_forms_export(canonical, tmp_path, school_urn=urn, style=style, seed=5)
    result = FormsReader(school=urn).read(path)
    records = list(result.records)
    assert result.unknown_columns == [] and result.skipped == []
    planted = {m.row for m in mess}
    kept = [r for r in records if r.source_row not in planted]

    names = {p["upn"]: f"{p['forename']} {p['surname']}" for p in canonical.rows("pupils")}
    groups: dict[str, tuple[str, str]] = {}
    for c in canonical.for_school("characteristics", urn):
        if c["upn"] not in groups or c["effective_date"] >= groups[c["upn"]][0]:
            groups[c["upn"]] = (c["effective_date"], c["reg_group"])

    def expected(
        entity: str, on: str, at: str, fields: tuple[str, ...]
    ) -> Counter[tuple[str, ...]]:
        return Counter(
            (
                names[r["upn"]],
                groups[r["upn"]][1],
                r[on],
                r[at],
                r["staff_id"],
                *(r[f] for f in fields),
            )
            for r in canonical.for_school(entity, urn)
        )

    def got(entity: str, on: str, at: str, fields: tuple[str, ...]) -> Counter[tuple[str, ...]]:
        return Counter(
            (
                r.values["pupil_name"] or "",
                r.values["pupil_group"] or "",
                _uk_to_iso(r.values[on]),
                r.values[at] or "",
                r.values["staff_id"] or "",
                *((r.values[f] or "") for f in fields),
            )
            for r in kept
            if r.entity == entity
        )

    obs = ("activity", "setting", "mood", "engagement", "regulation", "note")
    assert got("observations", "observed_on", "observed_time", obs) == expected(
        "observations", "observed_on", "observed_time", obs
    )
    uses = ("strategy_code", "activity", "setting", "outcome", "note")
    assert got("strategy_uses", "used_on", "used_time", uses) == expected(
        "strategy_uses", "used_on", "used_time", uses
    )
    abc: tuple[str, ...] = ("activity", "setting", "antecedent", "behaviour", "consequence")
    abc += ("intensity",)
    abc += ("duration_minutes",)
    assert got("incidents", "occurred_on", "occurred_time", abc) == expected(
        "incidents", "occurred_on", "occurred_time", abc
    )

    # A strategy use and its observation were one form: one row, two records.
    rows = by_row([r for r in records if r.source_row not in planted])
    assert any({"observations", "strategy_uses"} <= set(r) for r in rows.values())
    assert all(len({x.source_row for x in r.values()}) == 1 for r in rows.values())

    # The planted mess is there, where the writer says.
    assert sorted(m.column for m in mess) == ["mood", "observation_id", "pupil_name"]
    at_row = {r.source_row: r for r in records if r.entity == "observations"}
    for m in mess:
        record = at_row[m.row]
        if m.column == "mood":
            assert record.values["mood"] == "9"
            assert "whole number from 1 to 5" in m.reason
        elif m.column == "pupil_name":
            assert record.values["pupil_name"] == m.value
            assert m.value not in names.values()
        else:
            assert m.reason == "repeats row"
            assert record.values["observation_id"] == at_row[m.row - 1].values["observation_id"]


@pytest.mark.parametrize("style", ["microsoft", "google"])
def test_synthetic_ids_are_stable_across_reads_and_re_export(
    trust: Path, tmp_path: Path, style: str
) -> None:
    canonical = CanonicalTrust(trust)
    urn = canonical.rows("schools")[0]["school_urn"]
    first, _ = write_forms_export(canonical, tmp_path / "a", school_urn=urn, style=style, seed=5)
    second, _ = write_forms_export(canonical, tmp_path / "b", school_urn=urn, style=style, seed=5)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().startswith(b"\xef\xbb\xbf") == (style == "microsoft")
    reader = FormsReader(school=urn)
    once, twice, again = (list(reader.read(p).records) for p in (first, first, second))
    assert once == twice == again
    # Ids do not depend on the row number: the same responses in another order keep them.
    with first.open(encoding="utf-8-sig", newline="") as handle:
        header, *body = list(csv.reader(handle))
    moved = tmp_path / "moved.csv"
    with moved.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, *reversed(body)])
    ids = Counter(
        str(sorted((k, v) for k, v in r.values.items() if k.endswith("id"))) for r in once
    )
    moved_ids = Counter(
        str(sorted((k, v) for k, v in r.values.items() if k.endswith("id")))
        for r in reader.read(moved).records
    )
    assert ids == moved_ids


def test_writer_refuses_an_unknown_style(trust: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="style"):
        write_forms_export(CanonicalTrust(trust), tmp_path, school_urn="1", style="paper", seed=1)


def test_staging_quarantines_exactly_the_planted_mess(trust: Path, tmp_path: Path) -> None:
    """Forms export and provision tracker imported with the rest of the trust: every
    canonical row arrives once and only the planted rows are quarantined, for the planted
    reasons."""
    from empowered.sources.canonical import ENTITIES
    from empowered.sources.importer import import_files
    from empowered.sources.records import Reader
    from empowered.sources.tracker import TrackerReader, catalogue_from_csv
    from empowered.synth.school_formats.tracker import write_provision_tracker
    from empowered.warehouse.build import build_duckdb
    from empowered.warehouse.connection import open_warehouse

    canonical = CanonicalTrust(trust)
    forms_urn, tracker_urn = (s["school_urn"] for s in canonical.rows("schools"))
    files = tmp_path / "files"
    form_path, form_mess = write_forms_export(
        canonical, files, school_urn=forms_urn, style="google", seed=9
    )
    tracker_path, tracker_mess = write_provision_tracker(
        canonical, files, school_urn=tracker_urn, seed=9
    )
    remainder = tmp_path / "canonical"
    remainder.mkdir()
    tracked = {r["enrolment_id"] for r in canonical.for_school("provision_enrolments", tracker_urn)}
    for name, entity in ENTITIES.items():
        rows = canonical.rows(name)
        if name in ("observations", "strategy_uses", "incidents"):
            rows = [r for r in rows if r["school_urn"] != forms_urn]
        elif name == "provision_enrolments":
            rows = [r for r in rows if r["school_urn"] != tracker_urn]
        elif name == "provision_sessions":
            rows = [r for r in rows if r["enrolment_id"] not in tracked]
        with (remainder / entity.file_name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(entity.columns))
            writer.writeheader()
            writer.writerows(rows)
    shutil.copy(trust / "interventions.csv", tmp_path / "catalogue.csv")
    catalogue = catalogue_from_csv(tmp_path / "catalogue.csv")

    def choose(path: Path, source: str) -> Reader | None:
        if path == form_path:
            return FormsReader(school=forms_urn)
        if path == tracker_path:
            return TrackerReader(school=tracker_urn, catalogue=catalogue)
        return None

    con = open_warehouse(tmp_path / "w.duckdb")
    import_files(con, [remainder, files], keys=TEST_KEYS, choose_reader=choose)
    assert build_duckdb(con).ok
    rejected = con.execute(
        "SELECT source_file, source_row, column_name, reason FROM quarantine.rejected_rows"
    ).fetchall()
    planted = form_mess + tracker_mess
    assert len(rejected) == len(planted)
    found = {(f, row): (column, reason) for f, row, column, reason in rejected}
    for m in planted:
        column, reason = found[(m.file, m.row)]
        assert column == m.column and m.reason in reason
    accepted = con.execute(
        "SELECT count(*) FROM staging.stg_canonical_observations "
        "WHERE _source_file = ? AND _reject_reason IS NULL",
        [form_path.name],
    ).fetchone()
    assert accepted == (len(canonical.for_school("observations", forms_urn)),)
    con.close()
