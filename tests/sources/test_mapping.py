"""Column mappings: a school's own YAML for an unusual layout, clear errors for bad
mappings, unknown and missing columns, value maps, splits and attendance registers."""

from __future__ import annotations

from pathlib import Path

import pytest

from empowered.sources.errors import SourceError
from empowered.sources.mapping import MappedTableReader, MappingError, load_mapping
from empowered.sources.records import Reader, SourceRecord

FIXTURES = Path(__file__).parent / "fixtures" / "mis"
BEHAVIOUR_LOG = FIXTURES / "behaviour-log.csv"


def read(reader: MappedTableReader, path: Path) -> list[SourceRecord]:
    return list(reader.read(path).records)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- A school's own layout -------------------------------------------------------------


def test_a_user_mapping_reads_an_unusual_layout() -> None:
    mapping = load_mapping(FIXTURES / "behaviour-log.yml")
    reader: Reader = MappedTableReader(mapping)  # the one interface every source implements
    assert reader.name == "oakfield-behaviour-log"
    result = reader.read(BEHAVIOUR_LOG)
    records = list(result.records)
    assert result.source == "oakfield-behaviour-log"
    assert [r.source_row for r in records] == [4, 5, 6]
    first = records[0]
    assert first.entity == "incidents"
    assert first.values == {
        "school_urn": "100234",
        "incident_id": "B-101",
        "pupil_name": "Zoë Walker",  # cp1252 file, accent intact
        "pupil_group": "3A",
        "staff_id": "T07",
        "activity": "maths",  # value map
        "setting": "classroom",  # @const
        "antecedent": "Asked to start work",
        "behaviour": "Left the room",
        "consequence": "Calm space offered",
        "intensity": "4",  # "HIGH": value maps ignore case
        "duration_minutes": "12",
        "occurred_on": "2025-10-14",  # split, and read as an ISO date
        "occurred_time": "10:35",
    }
    # Dates are read as ISO. Unmapped words pass through unchanged; a split without the
    # separator leaves the second part empty; an empty cell is None.
    third = records[2].values
    assert third["activity"] == "Assembly"
    assert (third["occurred_on"], third["occurred_time"]) == ("2025-10-15", None)
    assert third["duration_minutes"] is None
    # A column neither mapped nor ignored is reported and kept with its row.
    assert result.unknown_columns == ["Follow-up"]
    assert first.extra == {"Follow-up": "call home"}
    assert records[1].extra == {}
    assert [s.source_row for s in result.skipped] == [7]
    assert reader.recognises(BEHAVIOUR_LOG, BEHAVIOUR_LOG.read_bytes()[:4096])


def test_load_mapping_takes_a_path_string_or_yaml_text() -> None:
    text = (FIXTURES / "behaviour-log.yml").read_text(encoding="utf-8")
    assert load_mapping(text).name == "oakfield-behaviour-log"
    assert load_mapping(str(FIXTURES / "behaviour-log.yml")).origin == "behaviour-log.yml"


def test_yaml_words_stay_text() -> None:
    # Plain YAML would read Yes/No as booleans, 0123 as a number, a date as a date.
    mapping = load_mapping(
        """
name: flags
school_urn: 123456
entities:
  characteristics: {upn: UPN, effective_date: "@const:2025-09-01", fsm: FSM, reg_group: Reg}
values:
  fsm: {Yes: Y, No: N, on: Y}
  reg_group: {0123: R1}
"""
    )
    assert mapping.values["fsm"] == {"Yes": "Y", "No": "N", "on": "Y"}
    assert mapping.map_value("fsm", " yes ") == "Y"
    assert mapping.map_value("reg_group", "0123") == "R1"
    assert mapping.school_urn.value == "123456"


# --- School URN and missing columns ----------------------------------------------------

ASK = """
name: ask-layout
school_urn: ask
entities:
  sen_status: {upn: UPN, start_date: From, sen_provision: Status, primary_need: Need}
"""
SEN_FILE = "UPN,From,Status,Need,Keyworker\r\nA1,01/09/2025,K,SLCN,Ms Brown\r\n"


def test_a_layout_without_urn_needs_the_school(tmp_path: Path) -> None:
    path = write(tmp_path, "sen.csv", SEN_FILE)
    with pytest.raises(SourceError, match="--school") as caught:
        read(MappedTableReader(load_mapping(ASK)), path)
    assert caught.value.file == "sen.csv"
    records = read(MappedTableReader(load_mapping(ASK), school="100001"), path)
    assert records[0].values["school_urn"] == "100001"


def test_a_mapping_never_keeps_unused_identifying_columns(tmp_path: Path) -> None:
    # A school's own mapping that leaves a pupil's names, UPN-like and birth-date headings
    # unread: they are not kept in raw (in clear), as a layout's are not; the report
    # names them. Other unused columns are still kept and reported.
    path = write(
        tmp_path,
        "sen.csv",
        "UPN,From,Status,Need,Legal Surname,Forename,DOB,Former UPN,Keyworker\r\n"
        "A1,01/09/2025,K,SLCN,Walker,Zoe,14/03/2015,B2,Ms Brown\r\n",
    )
    result = MappedTableReader(load_mapping(ASK), school="100001").read(path)
    record = list(result.records)[0]
    assert record.extra == {"Keyworker": "Ms Brown"}
    assert result.unknown_columns == ["Keyworker"]
    left_out = [w for w in result.warnings if "identify a pupil" in w]
    assert left_out == [
        "not used and not kept, as they identify a pupil: Legal Surname, Forename, DOB, Former UPN"
    ]


def test_a_missing_required_column_names_the_file_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "sen.csv", "UPN,Status,Need\r\nA1,K,SLCN\r\n")
    with pytest.raises(SourceError) as caught:
        read(MappedTableReader(load_mapping(ASK), school="100001"), path)
    assert caught.value.file == "sen.csv"
    assert caught.value.column == "From"
    assert "required column missing" in str(caught.value)


def test_a_missing_optional_column_is_empty_and_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "sen.csv", "UPN,From,Status\r\nA1,01/09/2025,N\r\n")
    result = MappedTableReader(load_mapping(ASK), school="100001").read(path)
    records = list(result.records)
    assert records[0].values["primary_need"] is None
    assert any("'Need'" in w and "left empty" in w for w in result.warnings)


def test_a_urn_column_and_a_constant(tmp_path: Path) -> None:
    text = ASK.replace("school_urn: ask", "school_urn: column:School URN")
    path = write(tmp_path, "sen.csv", SEN_FILE.replace("Keyworker", "School URN"))
    assert read(MappedTableReader(load_mapping(text)), path)[0].values["school_urn"] == "Ms Brown"
    constant = ASK.replace("school_urn: ask", 'school_urn: "100002"')
    path = write(tmp_path, "sen2.csv", SEN_FILE)
    assert read(MappedTableReader(load_mapping(constant)), path)[0].values["school_urn"] == "100002"


def test_an_ambiguous_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "sen.csv", "UPN,From,Status,Need,need\r\nA1,01/09/2025,K,SLCN,x\r\n")
    with pytest.raises(SourceError, match="more than once"):
        read(MappedTableReader(load_mapping(ASK), school="100001"), path)


def test_file_date_comes_from_the_title_lines_or_the_caller(tmp_path: Path) -> None:
    mapping = load_mapping(
        """
name: snapshot
school_urn: ask
entities:
  characteristics: {upn: UPN, effective_date: "@file_date", year_group: Year}
"""
    )
    titled = write(tmp_path, "a.csv", "Pupils on roll 23/11/2026\r\nUPN,Year\r\nA1,3\r\n")
    reader = MappedTableReader(mapping, school="100001")
    assert read(reader, titled)[0].values["effective_date"] == "2026-11-23"
    plain = write(tmp_path, "b.csv", "UPN,Year\r\nA1,3\r\n")
    result = reader.read(plain)
    assert list(result.records)[0].values["effective_date"]  # today, with a warning
    assert any("dated today" in w for w in result.warnings)
    given = MappedTableReader(mapping, school="100001", file_date="2026-01-15")
    assert read(given, plain)[0].values["effective_date"] == "2026-01-15"


# --- Attendance registers --------------------------------------------------------------


def test_a_day_per_row_register_gives_two_sessions(tmp_path: Path) -> None:
    mapping = load_mapping(
        """
name: daily-register
school_urn: ask
entities:
  attendance: {upn: UPN, date: Day}
attendance:
  layout: sessions
  sessions: {AM: Morning, PM: Afternoon}
values:
  code: {P: /}
"""
    )
    text = "UPN,Day,Morning,Afternoon\r\nA1,01/09/2025,P,\\\r\nA1,02/09/2025,I,\r\n"
    records = read(MappedTableReader(mapping, school="100001"), write(tmp_path, "r.csv", text))
    got = [(r.source_row, r.values["date"], r.values["session"], r.values["code"]) for r in records]
    assert got == [
        (2, "2025-09-01", "AM", "/"),
        (2, "2025-09-01", "PM", "\\"),
        (3, "2025-09-02", "AM", "I"),  # an empty mark is no session, not a record
    ]


def test_a_wide_register_gives_one_record_per_marked_session(tmp_path: Path) -> None:
    mapping = load_mapping(
        r"""
name: wide-register
school_urn: ask
recognise: [UPN]
entities:
  attendance: {upn: UPN}
attendance:
  layout: wide
  pattern: '^(?:\w{3} )?(?P<date>\d{2}/\d{2}/\d{4}) (?P<session>AM|PM)$'
"""
    )
    text = (
        "UPN,Name,Mon 01/09/2025 AM,Mon 01/09/2025 PM,Tue 02/09/2025 AM\r\n"
        "A1,Zoë,/,\\,L\r\n"
        "A2,José,,,O\r\n"
    )
    path = write(tmp_path, "wide.csv", text)
    result = MappedTableReader(mapping, school="100001").read(path)
    got = [
        (r.values["upn"], r.values["date"], r.values["session"], r.values["code"])
        for r in result.records
    ]
    assert got == [
        ("A1", "2025-09-01", "AM", "/"),
        ("A1", "2025-09-01", "PM", "\\"),
        ("A1", "2025-09-02", "AM", "L"),
        ("A2", "2025-09-02", "AM", "O"),
    ]
    # The pupil's name is not read, and not kept either: it identifies them.
    assert result.unknown_columns == []
    assert all(r.extra == {} for r in result.records)
    assert mapping.recognition_score(["UPN", "Name"]) == 0  # no dated column: not this layout
    no_dates = write(tmp_path, "plain.csv", "UPN,Name\r\nA1,Zoë\r\n")
    with pytest.raises(SourceError, match="attendance pattern"):
        read(MappedTableReader(mapping, school="100001"), no_dates)


# --- Bad mappings ----------------------------------------------------------------------

GOOD = {
    "name": "name: good",
    "school_urn": "school_urn: ask",
    "entities": "entities:\n  sen_status: {upn: UPN, start_date: From, sen_provision: Status}",
}


def mapping_text(**replace: str) -> str:
    parts = {**GOOD, **replace}
    return "\n".join(v for v in parts.values() if v) + "\n"


ATTENDANCE = "entities:\n  attendance: {upn: UPN, date: D}"
WIDE_ONLY = "entities:\n  attendance: {upn: UPN}"


def entities(text: str) -> str:
    return mapping_text(entities=f"entities:\n  {text}")


BAD_MAPPINGS = [
    ("entities: [unclosed", "(file)", "not valid YAML"),
    ("- a list\n- of things\n", "(file)", "must be a YAML mapping"),
    (mapping_text(name=""), "name", "is required"),
    (mapping_text(name="name: Not A Name"), "name", "lower-case"),
    (mapping_text(extra="colour: blue"), "colour", "unknown key"),
    (mapping_text(school_urn=""), "school_urn", "is required"),
    (mapping_text(school_urn="school_urn: 12345"), "school_urn", "not"),
    (mapping_text(entities=""), "entities", "is required"),
    (entities("pupilz: {upn: UPN}"), "entities.pupilz", "not a canonical entity"),
    (
        entities("pupils: {upn: UPN, shoe_size: Shoes}"),
        "entities.pupils.shoe_size",
        "not a column of pupils",
    ),
    (entities("pupils: {upn: UPN, school_urn: URN}"), "entities.pupils.school_urn", "at the top"),
    (entities("pupils: {upn: '@today'}"), "entities.pupils.upn", "unknown special value"),
    (
        entities("sen_status: {upn: UPN, start_date: From}"),
        "entities.sen_status",
        "required column not mapped: sen_provision",
    ),
    (mapping_text(values="values:\n  shoe_size: {Big: L}"), "values.shoe_size", "not a column"),
    (mapping_text(values="values:\n  sen_provision: [E, K]"), "values.sen_provision", "must map"),
    (
        mapping_text(split="split:\n  s: {column: X, into: [start_date]}"),
        "split.s.into",
        "two canonical columns",
    ),
    (
        mapping_text(split="split:\n  s: {column: X, into: [upn, primary_need]}"),
        "split.s.into",
        "also mapped",
    ),
    (mapping_text(split="split:\n  s: {column: X, into: [a, b]}"), "split.s.into", "not a column"),
    (
        mapping_text(attendance="attendance: {layout: sessions, sessions: {AM: AM}}"),
        "attendance",
        "entities.attendance",
    ),
    (
        mapping_text(entities=ATTENDANCE, attendance="attendance: {layout: diagonal}"),
        "attendance.layout",
        "sessions or wide",
    ),
    (
        mapping_text(entities=WIDE_ONLY, attendance="attendance: {layout: wide, pattern: '(?P<d'}"),
        "attendance.pattern",
        "not a valid regular expression",
    ),
    (
        mapping_text(entities=WIDE_ONLY, attendance="attendance: {layout: wide, pattern: '(.*)'}"),
        "attendance.pattern",
        "named groups",
    ),
    (
        mapping_text(
            entities="entities:\n  attendance: {upn: UPN, date: D, code: C}",
            attendance="attendance: {layout: sessions, sessions: {AM: AM}}",
        ),
        "entities.attendance.code",
        "comes from the sessions layout",
    ),
]


@pytest.mark.parametrize(("text", "key", "reason"), BAD_MAPPINGS)
def test_bad_mappings_say_which_file_and_key(text: str, key: str, reason: str) -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping(text, origin="my-layout.yml")
    assert caught.value.origin == "my-layout.yml"
    assert caught.value.key == key
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"mapping my-layout.yml, key {key!r}: ")


def test_an_unreadable_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="could not be read"):
        load_mapping(tmp_path / "missing.yml")
    path = tmp_path / "latin.yml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(MappingError, match="not UTF-8"):
        load_mapping(path)
