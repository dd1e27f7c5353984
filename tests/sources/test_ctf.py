"""The Common Transfer File reader (empowered.sources.ctf) and the synthetic CTF writer.

Hand-written fixtures in fixtures/ctf/ are entirely fictional (made-up names, a made-up
LA 999/998, UPNs built with valid check letters). The round trip uses a small generated
trust written out by ``write_ctf``.
"""

from __future__ import annotations

import csv
import re
import string
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from empowered.sources.canonical import ENTITIES
from empowered.sources.ctf import (
    DTD_REASON,
    ENTITIES_REASON,
    EXTERNAL_DTD_REASON,
    EXTERNAL_REASON,
    CtfReader,
    is_ctf_school_day,
)
from empowered.sources.errors import SourceError
from empowered.sources.records import ReadResult, SourceRecord
from empowered.synth import generate_trust
from empowered.synth.school_formats.base import CanonicalTrust, PlantedMess
from empowered.synth.school_formats.ctf import write_ctf
from empowered.upn import is_valid_upn, make_upn

FIXTURES = Path(__file__).parent / "fixtures" / "ctf"
CTF25 = FIXTURES / "ctf25_basic.xml"
CTF17 = FIXTURES / "ctf17_gender.xml"

# Everything identifying in the fixtures: none of it may appear in a warning or error.
FIXTURE_IDENTITIES = (
    "N999900114001",
    "C999900114002",
    "R999900114003",
    "Q998800212001",
    "E998800212002",
    "Testington",
    "Amber",
    "Example",
    "Bryn",
    "Placeholder",
    "Fakeworth",
    "Dana",
    "Madeup",
    "2014-03-15",
    "2014-11-02",
    "2015-01-20",
    "2009-06-30",
    "2009-12-01",
)


def read(path: Path, **kwargs: int) -> tuple[ReadResult, list[SourceRecord]]:
    result = CtfReader(**kwargs).read(path)
    return result, list(result.records)


def of(records: list[SourceRecord], entity: str, row: int | None = None) -> list[SourceRecord]:
    return [r for r in records if r.entity == entity and (row is None or r.source_row == row)]


def ctf(tmp_path: Path, pupils: str, *, date_time: str = "2025-07-10T09:30:00") -> Path:
    """A small CTF around hand-written <Pupil> elements."""
    path = tmp_path / "9999001_CTF_9999999_001.xml"
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<CTfile>
  <Header>
    <CTFversion>25.0</CTFversion>
    <DateTime>{date_time}</DateTime>
    <SourceSchool><LEA>999</LEA><Estab>9001</Estab><URN>900001</URN>
      <SchoolName>Fictional Lane Primary</SchoolName></SourceSchool>
  </Header>
  <CTFpupilData>{pupils}</CTFpupilData>
</CTfile>
""",
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------------------
# Recognising a CTF


def test_recognises_ctf_files_with_declaration_bom_comment_or_namespace() -> None:
    reader = CtfReader()
    assert reader.recognises(CTF25, CTF25.read_bytes()[:512])
    assert reader.recognises(CTF17, CTF17.read_bytes()[:512])  # BOM + comment + namespace
    assert reader.recognises(Path("x.XML"), b"  \n<CTfile>")
    assert reader.recognises(Path("x.xml"), b'<?xml version="1.0"?><ctf:CTfile xmlns:ctf="u">')
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><CTfile>'.encode("utf-16")
    assert reader.recognises(Path("x.xml"), utf16)
    assert not reader.recognises(Path("x.csv"), b"<CTfile>")
    assert not reader.recognises(Path("x.xml"), b"<?xml version='1.0'?><Other/>")
    assert not reader.recognises(Path("x.xml"), b"<CTfileX>")


# --------------------------------------------------------------------------------------
# Every element into the right canonical column


def test_the_header_names_the_school_but_makes_no_school_record() -> None:
    # A CTF lacks the school's phase and trust: a school record from it would blank them.
    result, records = read(CTF25)
    assert result.source == "ctf"
    assert result.file_name == "ctf25_basic.xml"
    assert of(records, "schools") == []
    assert {r.values["school_urn"] for r in records} == {"900001"}


def test_every_pupil_linked_record_carries_the_upn_and_school() -> None:
    _, records = read(CTF25)
    upn_of = {p.source_row: p.values["upn"] for p in of(records, "pupils")}
    for record in records:
        if record.entity in ("schools", "pupils"):
            continue
        assert record.values["upn"] == upn_of[record.source_row]
        assert record.values["school_urn"] == "900001"


def test_gender_in_older_versions_and_sex_in_ctf_24_25_both_read() -> None:
    _, old = read(CTF17)
    _, new = read(CTF25)
    assert [p.values["sex"] for p in of(old, "pupils")] == ["F", "M"]
    assert [p.values["sex"] for p in of(new, "pupils")] == ["F", "M", "M"]


def test_namespaces_are_stripped(tmp_path: Path) -> None:
    text = CTF25.read_text(encoding="utf-8")
    prefixed = re.sub(r"<(/?)([A-Za-z])", r"<\1c:\2", text.split("-->", 1)[1])
    prefixed = prefixed.replace("<c:CTfile>", '<c:CTfile xmlns:c="urn:example:fictional">', 1)
    path = tmp_path / "prefixed.xml"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>' + prefixed, encoding="utf-8")
    _, plain = read(CTF25)
    _, spaced = read(path)
    assert [(r.entity, r.values) for r in spaced] == [(r.entity, r.values) for r in plain]
    # The CTF 17 fixture uses a default namespace.
    _, default_ns = read(CTF17)
    assert {r.values["school_urn"] for r in default_ns} == {"800002"}


def test_characteristics_follow_the_fsm_history_and_the_file_date() -> None:
    _, records = read(CTF25)
    rows = [
        (r.source_row, r.values["effective_date"], r.values["year_group"], r.values["fsm"])
        + (r.values["looked_after"],)
        for r in of(records, "characteristics")
    ]
    assert rows == [
        # FSM 2024-10-07..2025-03-31 then again from 2025-06-02; file written 2025-07-10.
        (1, "2024-10-07", "6", "Y", None),
        (1, "2025-04-01", "6", "N", None),  # the day after FSMendDate
        (1, "2025-06-02", "6", "Y", None),
        (1, "2025-07-10", "6", "Y", "N"),  # InCare false -> N, known from the file date
        (2, "2025-07-10", "6", "N", "Y"),  # no FSM history: N; InCare true -> Y
        (3, "2025-07-10", None, "N", None),
    ]
    for r in of(records, "characteristics"):
        assert r.values["reg_group"] is None
        assert r.values["pupil_premium"] is None
        assert r.values["service_child"] is None


def test_year_group_is_only_given_in_the_academic_year_of_the_file() -> None:
    _, records = read(CTF17)
    rows = [
        (r.values["effective_date"], r.values["year_group"], r.values["fsm"])
        for r in of(records, "characteristics", row=1)
    ]
    assert rows == [
        ("2015-04-01", None, "Y"),
        ("2016-08-01", None, "N"),
        ("2017-02-01", "3", "N"),
    ]


def test_sen_entries_with_needs_inside_each_entry() -> None:
    _, records = read(CTF25)
    assert [r.values for r in of(records, "sen_status")] == [
        {
            "school_urn": "900001",
            "upn": "N999900114001",
            "start_date": "2023-09-05",
            "sen_provision": "K",
            "primary_need": "SLCN",
            "secondary_need": None,
        },
        {
            "school_urn": "900001",
            "upn": "N999900114001",
            "start_date": "2025-01-13",
            "sen_provision": "E",
            "primary_need": "ASD",  # rank 1, though written second
            "secondary_need": "SLCN",
        },
    ]


def test_sen_needs_beside_the_entries_belong_to_the_latest_and_old_codes_stay() -> None:
    _, records = read(CTF17)
    sen = of(records, "sen_status")
    got = [
        (r.values["start_date"], r.values["sen_provision"], r.values["primary_need"])
        + (r.values["secondary_need"], r.extra.get("other_needs"))
        for r in sen
    ]
    assert got == [
        ("2013-09-04", "A", None, None, None),
        ("2016-09-07", "S", "MLD", "SPLD", "HI"),  # latest by date, not by position
        ("2015-01-05", "P", None, None, None),
    ]


def test_unranked_needs_fill_primary_then_secondary(tmp_path: Path) -> None:
    path = ctf(
        tmp_path,
        """<Pupil><UPN>V999900114005</UPN><SENhistory><SEN><StartDate>2024-09-01</StartDate>
        <SENprovision>K</SENprovision><SENneeds>
          <SENneed><SENtype>SEMH</SENtype></SENneed>
          <SENneed><SENtype>SPLD</SENtype><SENtypeRank>1</SENtypeRank></SENneed>
        </SENneeds></SEN></SENhistory></Pupil>""",
    )
    _, records = read(path)
    [sen] = of(records, "sen_status")
    assert (sen.values["primary_need"], sen.values["secondary_need"]) == ("SPLD", "SEMH")


def test_attendance_marks_skip_weekends_and_bank_holidays() -> None:
    result, records = read(CTF25)
    got = [
        (r.values["date"], r.values["session"], r.values["code"])
        for r in records
        if r.entity == "attendance"
    ]
    # Marks start Friday 23 May 2025; Monday 26 May is the spring bank holiday, so the
    # next two marks are Tuesday 27 May. Thursday 29 May is '-' and ' ' (no records).
    assert got == [
        ("2025-05-23", "AM", "/"),
        ("2025-05-23", "PM", "\\"),
        ("2025-05-27", "AM", "I"),
        ("2025-05-27", "PM", "I"),
        ("2025-05-28", "AM", "L"),
        ("2025-05-28", "PM", "\\"),
        ("2025-05-30", "AM", "/"),
        ("2025-05-30", "PM", "N"),
    ]
    attendance = of(records, "attendance")
    assert all(r.values["school_urn"] == "900001" for r in attendance)
    assert attendance[0].extra == {
        "year_data_lea": "999",
        "year_data_estab": "9001",
        "year_data_year": "2024",
    }
    assert any("1 attendance sessions marked '-'" in w for w in result.warnings)
    assert any("1 blank attendance sessions" in w for w in result.warnings)


def test_attendance_start_on_a_non_school_day_moves_to_the_next_school_day(
    tmp_path: Path,
) -> None:
    path = ctf(
        tmp_path,
        """<Pupil><UPN>V999900114005</UPN><Attendance><YearData><AttendSessions>
        <AttendanceStartDate>2024-12-25</AttendanceStartDate>
        <AttendanceMarks>/\\##//</AttendanceMarks></AttendSessions></YearData></Attendance>
        </Pupil>""",
    )
    _, records = read(path)
    dates = [r.values["date"] for r in of(records, "attendance")]
    # Christmas Day and Boxing Day are bank holidays; 28-29 Dec a weekend.
    assert dates == ["2024-12-27", "2024-12-27", "2024-12-30", "2024-12-30"] + [
        "2024-12-31",
        "2024-12-31",
    ]
    assert [r.values["code"] for r in of(records, "attendance")][2:4] == ["#", "#"]


def test_attendance_with_an_unusable_start_date_is_skipped_with_a_warning(
    tmp_path: Path,
) -> None:
    path = ctf(
        tmp_path,
        """<Pupil><UPN>V999900114005</UPN><Attendance><YearData><AttendSessions>
        <AttendanceStartDate>23/05/2025</AttendanceStartDate>
        <AttendanceMarks>/\\/\\</AttendanceMarks></AttendSessions></YearData></Attendance>
        </Pupil>""",
    )
    result, records = read(path)
    assert of(records, "attendance") == []
    assert any("4 attendance marks were not imported" in w for w in result.warnings)


def test_attendance_from_another_school_is_flagged(tmp_path: Path) -> None:
    path = ctf(
        tmp_path,
        """<Pupil><UPN>V999900114005</UPN><Attendance><YearData><LEA>998</LEA>
        <Estab>8002</Estab><AttendSessions>
        <AttendanceStartDate>2025-05-27</AttendanceStartDate>
        <AttendanceMarks>/\\</AttendanceMarks></AttendSessions></YearData></Attendance>
        </Pupil>""",
    )
    result, records = read(path)
    [am, _] = of(records, "attendance")
    assert am.values["school_urn"] == "900001"
    assert am.extra["year_data_estab"] == "8002"
    assert any("from another school" in w for w in result.warnings)


def test_multi_character_codes_cannot_appear_and_each_character_is_one_session(
    tmp_path: Path,
) -> None:
    # "C2" in a marks string is two sessions: C then 2 (the reader does not guess).
    path = ctf(
        tmp_path,
        """<Pupil><UPN>V999900114005</UPN><Attendance><YearData><AttendSessions>
        <AttendanceStartDate>2025-05-27</AttendanceStartDate>
        <AttendanceMarks>C2</AttendanceMarks></AttendSessions></YearData></Attendance>
        </Pupil>""",
    )
    _, records = read(path)
    got = [(r.values["session"], r.values["code"]) for r in of(records, "attendance")]
    assert got == [("AM", "C"), ("PM", "2")]


def test_key_stage_scaled_scores_become_assessments() -> None:
    result, records = read(CTF25)
    got = [
        (r.values["assessed_on"], r.values["subject"], r.values["assessment"])
        + (r.values["measure"], r.values["value"])
        for r in of(records, "assessments")
    ]
    assert got == [
        ("2025-05-31", "maths", "KS2 TT", "scaled_score", "105"),
        ("2025-05-31", "reading", "KS2 TT RD", "scaled_score", "98"),
        ("2025-05-31", "grammar", "KS2 TT", "scaled_score", "112"),
    ]
    assert of(records, "assessments")[0].extra["ctf_subject"] == "MAT"
    # EXS (teacher assessment) and the KS1 phonics mark are counted, not imported.
    assert any("1 Key Stage results are not numbers" in w for w in result.warnings)
    assert any("1 numeric Key Stage results are not recognised" in w for w in result.warnings)


def test_scaled_score_marker_in_result_qualifier(tmp_path: Path) -> None:
    path = ctf(
        tmp_path,
        """<Pupil><UPN>V999900114005</UPN><StageAssessments><KeyStage><Stage>KS2</Stage>
        <StageAssessment><Year>2024</Year><Subject>SCI</Subject><Method>TT</Method>
        <ResultQualifier>SS</ResultQualifier><Result>101</Result></StageAssessment>
        </KeyStage></StageAssessments></Pupil>""",
    )
    _, records = read(path)
    [a] = of(records, "assessments")
    assert (a.values["subject"], a.values["assessed_on"], a.values["value"]) == (
        "science",
        "2024-05-31",
        "101",
    )


def test_unknown_top_level_pupil_children_are_listed_once(tmp_path: Path) -> None:
    result, _ = read(CTF25)
    assert result.unknown_columns == ["Admissions"]
    path = ctf(
        tmp_path,
        "<Pupil><UPN>V999900114005</UPN><NewThing>1</NewThing></Pupil>"
        "<Pupil><UPN>F999900114004</UPN><NewThing>2</NewThing><Other/></Pupil>",
    )
    result, _ = read(path)
    assert result.unknown_columns == ["NewThing", "Other"]


def test_records_can_be_iterated_again() -> None:
    result = CtfReader().read(CTF25)
    first = list(result.records)
    assert first == list(result.records)
    assert len(first) == 3 + 6 + 2 + 8 + 3  # pupils, characteristics, SEN, marks, results


def test_values_are_never_converted(tmp_path: Path) -> None:
    path = ctf(
        tmp_path,
        """<Pupil><UPN>n999900114001 </UPN><DOB>15/03/2014</DOB><Sex>f</Sex>
        <LookedAfter><InCare>maybe</InCare></LookedAfter>
        <SENhistory><SEN><StartDate>Sept 2024</StartDate><SENprovision>k</SENprovision>
        </SEN></SENhistory></Pupil>""",
    )
    _, records = read(path)
    [pupil] = of(records, "pupils")
    assert pupil.values["upn"] == "n999900114001 "
    assert pupil.values["date_of_birth"] == "15/03/2014"
    assert pupil.values["sex"] == "f"
    [chars] = of(records, "characteristics")
    assert chars.values["looked_after"] == "maybe"  # not a boolean: staging rejects it
    [sen] = of(records, "sen_status")
    assert (sen.values["start_date"], sen.values["sen_provision"]) == ("Sept 2024", "k")


def test_a_header_without_a_date_time_still_reads_the_fsm_history(tmp_path: Path) -> None:
    path = ctf(
        tmp_path,
        """<Pupil><UPN>V999900114005</UPN><BasicDetails><NCyearActual>4</NCyearActual>
        </BasicDetails><FSMhistory><FSMinstance><FSMstartDate>2024-01-08</FSMstartDate>
        </FSMinstance><FSMinstance><FSMstartDate>not a date</FSMstartDate></FSMinstance>
        </FSMhistory></Pupil>""",
        date_time="",
    )
    result, records = read(path)
    rows = [(r.values["effective_date"], r.values["fsm"]) for r in of(records, "characteristics")]
    assert rows == [("2024-01-08", "Y")]
    assert of(records, "characteristics")[0].values["year_group"] is None
    assert any("no usable DateTime" in w for w in result.warnings)
    assert any("no usable FSMstartDate" in w and "pupil 1" in w for w in result.warnings)


# --------------------------------------------------------------------------------------
# What the reader refuses


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("billion_laughs.xml", ENTITIES_REASON),
        ("external_entity.xml", EXTERNAL_REASON),
        ("internal_dtd.xml", DTD_REASON),
        ("external_dtd.xml", EXTERNAL_DTD_REASON),
    ],
)
def test_dtds_and_entities_are_refused(fixture: str, reason: str) -> None:
    with pytest.raises(SourceError) as caught:
        CtfReader().read(FIXTURES / fixture)
    assert caught.value.file == fixture
    assert caught.value.reason == reason
    assert "refuses for safety" in caught.value.reason
    assert "passwd" not in str(caught.value)


def test_billion_laughs_reason_in_plain_english() -> None:
    with pytest.raises(SourceError, match="declares XML entities, which EmpowerED"):
        CtfReader().read(FIXTURES / "billion_laughs.xml")


def test_an_oversize_file_is_refused_before_parsing(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="more than the .* limit") as caught:
        CtfReader(max_bytes=1000).read(CTF25)
    assert caught.value.file == "ctf25_basic.xml"
    # A malformed file over the limit reports its size, so it was never parsed.
    big = tmp_path / "big.xml"
    big.write_bytes(b"<CTfile><oops>" + b" " * 5000)
    with pytest.raises(SourceError, match="limit"):
        CtfReader(max_bytes=1000).read(big)
    with pytest.raises(ValueError):
        CtfReader(max_bytes=0)


def test_a_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="could not be opened"):
        CtfReader().read(tmp_path / "absent.xml")


def test_malformed_xml_names_the_line_and_column() -> None:
    with pytest.raises(SourceError) as caught:
        CtfReader().read(FIXTURES / "malformed.xml")
    assert "line 10" in caught.value.reason
    assert "column" in caught.value.reason
    assert "mismatched tag" in caught.value.reason
    assert "V999900114005" not in str(caught.value)


def test_truncated_file_names_where_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "cut.xml"
    path.write_bytes(CTF25.read_bytes()[:700])
    with pytest.raises(SourceError, match=r"not well-formed XML .* at line \d+"):
        CtfReader().read(path)


@pytest.mark.parametrize("encoding", ["utf-7", "UTF-32", "shift_jis", "no-such-codec", "rot13"])
def test_an_encoding_the_parser_cannot_use_is_refused(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "encoded.xml"
    path.write_bytes(CTF25.read_bytes().replace(b"UTF-8", encoding.encode(), 1))
    with pytest.raises(SourceError, match="character encoding"):
        CtfReader().read(path)


def test_a_single_byte_encoding_is_read(tmp_path: Path) -> None:
    path = tmp_path / "latin1.xml"
    text = CTF25.read_text(encoding="utf-8").replace("UTF-8", "ISO-8859-1", 1)
    path.write_bytes(text.replace("Amber", "Amb\u00e9r").encode("iso-8859-1"))
    _, records = read(path)
    assert of(records, "pupils")[0].values["forename"] == "Amb\u00e9r"


def test_a_file_that_is_not_a_ctf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text("<Report><Row/></Report>", encoding="utf-8")
    with pytest.raises(SourceError, match="not a Common Transfer File"):
        CtfReader().read(path)


# --------------------------------------------------------------------------------------
# Privacy: warnings and errors name pupils by ordinal only


def test_no_name_upn_or_date_of_birth_in_any_warning(tmp_path: Path) -> None:
    noisy = ctf(
        tmp_path,
        """<Pupil><UPN>N999900114001</UPN><Surname>Testington</Surname>
        <Forename>Amber</Forename><DOB>2014-03-15</DOB>
        <FSMhistory><FSMinstance><FSMstartDate>2014-03-15x</FSMstartDate>
        <FSMendDate>2014-03-15</FSMendDate></FSMinstance></FSMhistory>
        <SENhistory><SENneeds><SENneed><SENtype>ASD</SENtype></SENneed></SENneeds></SENhistory>
        <Attendance><YearData><LEA>998</LEA><AttendSessions>
        <AttendanceStartDate>Amber</AttendanceStartDate><AttendanceMarks>//</AttendanceMarks>
        </AttendSessions></YearData></Attendance>
        <StageAssessments><KeyStage><Stage>KS2</Stage><StageAssessment><Subject>MAT</Subject>
        <Result>Testington</Result></StageAssessment></KeyStage></StageAssessments>
        </Pupil>""",
        date_time="Testington",
    )
    warnings: list[str] = []
    for path in (CTF25, CTF17, noisy):
        warnings += CtfReader().read(path).warnings
    assert len(warnings) >= 8
    for warning in warnings:
        for identity in FIXTURE_IDENTITIES:
            assert identity not in warning, warning


# --------------------------------------------------------------------------------------
# Round trip through the synthetic CTF writer


@pytest.fixture(scope="module")
def small_trust(tmp_path_factory: pytest.TempPathFactory) -> CanonicalTrust:
    out = tmp_path_factory.mktemp("ctf_trust")
    generate_trust(out, schools=2, pupils=120, seed=5)
    return CanonicalTrust(out)


@pytest.fixture(scope="module")
def written(
    small_trust: CanonicalTrust, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, list[PlantedMess]]:
    urn = small_trust.rows("schools")[0]["school_urn"]
    path, mess = write_ctf(small_trust, tmp_path_factory.mktemp("ctf_out"), school_urn=urn, seed=5)
    return urn, path, mess


def test_write_ctf_names_the_file_and_plants_three_kinds_of_mess(
    small_trust: CanonicalTrust, written: tuple[str, Path, list[PlantedMess]]
) -> None:
    urn, path, mess = written
    school = next(s for s in small_trust.rows("schools") if s["school_urn"] == urn)
    assert path.name == f"{school['la_code']}{school['estab']}_CTF_9999999_001.xml"
    assert CtfReader().recognises(path, path.read_bytes()[:256])
    assert [(m.column, m.reason) for m in mess] == [
        ("upn", "not a valid UPN"),
        ("primary_need", "not a DfE SEN type of need"),
        ("sen_provision", "accepted"),
    ]
    assert len({m.row for m in mess}) == 3
    assert all(m.file == path.name for m in mess)
    assert not is_valid_upn(mess[0].value)
    assert (mess[1].value, mess[2].value) == ("XYZ", "A")


def test_write_ctf_is_deterministic(
    small_trust: CanonicalTrust, written: tuple[str, Path, list[PlantedMess]], tmp_path: Path
) -> None:
    urn, path, mess = written
    again, mess_again = write_ctf(small_trust, tmp_path, school_urn=urn, seed=5)
    assert again.read_bytes() == path.read_bytes()
    assert mess_again == mess


def test_planted_mess_reads_back_where_it_was_planted(
    written: tuple[str, Path, list[PlantedMess]],
) -> None:
    _, path, mess = written
    _, records = read(path)
    bad_upn, bad_need, old_code = mess
    [pupil] = of(records, "pupils", row=bad_upn.row)
    assert pupil.values["upn"] == bad_upn.value
    needs = [r.values["primary_need"] for r in of(records, "sen_status", row=bad_need.row)]
    assert "XYZ" in needs
    codes = [r.values["sen_provision"] for r in of(records, "sen_status", row=old_code.row)]
    assert "A" in codes


def test_round_trip_gives_back_the_canonical_values(
    small_trust: CanonicalTrust, written: tuple[str, Path, list[PlantedMess]]
) -> None:
    urn, path, mess = written
    result, records = read(path)
    assert result.unknown_columns == []
    bad_row = mess[0].row
    canonical_pupils = small_trust.for_school("pupils", urn)
    upn_at = {i: p["upn"] for i, p in enumerate(canonical_pupils, start=1)}

    # Pupils: every column the CTF carries, as written in the canonical file.
    read_pupils = of(records, "pupils")
    assert len(read_pupils) == len(canonical_pupils)
    columns = ("forename", "surname", "date_of_birth", "sex", "ethnicity", "first_language")
    for record, canonical in zip(read_pupils, canonical_pupils, strict=True):
        assert record.values["school_urn"] == urn
        if record.source_row != bad_row:
            assert record.values["upn"] == canonical["upn"]
        for column in columns:
            assert record.values[column] == (canonical[column] or None), column

    def fix_upn(record: SourceRecord) -> str:
        # The planted bad UPN is the only change to identity: map it back to compare.
        return upn_at[record.source_row]

    # SEN: identical apart from the two planted entries.
    SenKey = tuple[str | None, ...]
    expected_sen: Counter[SenKey] = Counter(
        (r["upn"], r["start_date"], r["sen_provision"], r["primary_need"] or None)
        + (r["secondary_need"] or None,)
        for r in small_trust.for_school("sen_status", urn)
    )
    got_sen: Counter[SenKey] = Counter(
        (fix_upn(r), r.values["start_date"], r.values["sen_provision"])
        + (r.values["primary_need"], r.values["secondary_need"])
        for r in of(records, "sen_status")
    )
    differ = (expected_sen - got_sen) + (got_sen - expected_sen)
    assert {upn for upn, *_ in differ} <= {upn_at[m.row] for m in mess[1:]}
    assert sum(differ.values()) == 4  # one entry changed in each of two pupils

    # Attendance: every canonical mark comes back on its date and session (multi-
    # character codes as their first character); the only extra marks are '#' on
    # weekdays the school was closed.
    expected_att = {
        (r["upn"], r["date"], r["session"]): r["code"][0]
        for r in small_trust.for_school("attendance", urn)
    }
    got_att = {
        (fix_upn(r), r.values["date"], r.values["session"]): r.values["code"]
        for r in of(records, "attendance")
    }
    assert len(got_att) == len(of(records, "attendance"))  # no session read twice
    for key, code in expected_att.items():
        assert got_att.get(key) == code, key
    extras = {k: c for k, c in got_att.items() if k not in expected_att}
    assert extras and set(extras.values()) == {"#"}
    assert all(is_ctf_school_day(date.fromisoformat(str(k[1]))) for k in extras)

    # Characteristics: the latest canonical year group and FSM state on the file date.
    latest: dict[str, dict[str, str]] = {}
    for r in sorted(small_trust.for_school("characteristics", urn), key=_effective):
        latest[r["upn"]] = r
    for record in of(records, "characteristics"):
        upn = fix_upn(record)
        if record.values["looked_after"] is not None:  # the row on the file's date
            assert record.values["year_group"] == latest[upn]["year_group"]
            assert record.values["fsm"] == latest[upn]["fsm"]
            assert record.values["looked_after"] == latest[upn]["looked_after"]

    # Nothing identifying in any warning.
    identities = {p[c] for p in canonical_pupils for c in ("upn", "forename", "surname")}
    identities |= {p["date_of_birth"] for p in canonical_pupils}
    for warning in result.warnings:
        assert not any(i and i in warning for i in identities)


def _effective(row: dict[str, str]) -> str:
    return row["effective_date"]


def test_writer_marks_string_for_closures_missing_sessions_and_long_codes(
    tmp_path: Path,
) -> None:
    """A hand-made canonical school: C2 is written as C, a closed weekday as '##' and a
    single missing session as '-'; weekends and the bank holiday take no characters."""
    upn = make_upn("999", "9001", 24, 7)
    tables = {
        "schools": [
            {"school_urn": "900001", "la_code": "999", "estab": "9001"}
            | {"school_name": "Fictional Lane Primary", "phase": "primary", "trust_name": "T"}
        ],
        "pupils": [
            {"school_urn": "900001", "mis_id": "1", "upn": upn, "forename": "Fictional"}
            | {"surname": "Pupil", "date_of_birth": "2016-02-03", "sex": "F"}
            | {"ethnicity": "WBRI", "first_language": "ENG", "entry_date": "2024-09-02"}
            | {"leaving_date": ""}
        ],
        "characteristics": [],
        "sen_status": [],
        "terms": [],
        "attendance": [
            {"school_urn": "900001", "upn": upn, "date": d, "session": s, "code": c}
            for d, s, c in (
                ("2025-05-22", "AM", "/"),
                ("2025-05-22", "PM", "C2"),
                # Friday 23 May: INSET, no marks. Monday 26 May: bank holiday.
                ("2025-05-27", "AM", "I"),  # Tuesday: no PM mark
                ("2025-05-28", "AM", "/"),
                ("2025-05-28", "PM", "\\"),
            )
        ],
    }
    folder = tmp_path / "canonical"
    folder.mkdir()
    for entity, rows in tables.items():
        columns = ENTITIES[entity].columns
        with (folder / f"{entity}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    path, mess = write_ctf(CanonicalTrust(folder), tmp_path, school_urn="900001", seed=1)
    written = SafeET.fromstring(path.read_bytes())
    assert written.findtext(".//AttendanceMarks") == "/C##I-/\\"
    assert written.findtext(".//AttendanceStartDate") == "2025-05-22"
    # Only the UPN could be spoiled: this pupil has no SEN entries.
    assert [m.column for m in mess] == ["upn"]
    _, records = read(path)
    got = [
        (r.values["date"], r.values["session"], r.values["code"])
        for r in records
        if r.entity == "attendance"
    ]
    assert got == [
        ("2025-05-22", "AM", "/"),
        ("2025-05-22", "PM", "C"),
        ("2025-05-23", "AM", "#"),
        ("2025-05-23", "PM", "#"),
        ("2025-05-27", "AM", "I"),
        ("2025-05-28", "AM", "/"),
        ("2025-05-28", "PM", "\\"),
    ]


# --------------------------------------------------------------------------------------
# Robustness: any mutation of a valid file reads or raises SourceError, nothing else


VALID = CTF25.read_bytes()
ELEMENT_COUNT = sum(1 for _ in SafeET.fromstring(VALID).iter()) - 1


def _drop_elements(data: bytes, picks: list[int]) -> bytes:
    root = SafeET.fromstring(data)
    elements = list(root.iter())[1:]
    doomed = {id(elements[i % len(elements)]) for i in picks}
    for parent in [root, *elements]:
        for child in list(parent):
            if id(child) in doomed:
                parent.remove(child)
    return SafeET.tostring(root)


mutations = st.one_of(
    st.integers(0, len(VALID)).map(lambda n: ("truncate", n, b"")),
    st.tuples(st.integers(0, len(VALID)), st.binary(min_size=1, max_size=12)).map(
        lambda t: ("insert", t[0], t[1])
    ),
    st.tuples(
        st.integers(0, len(VALID)),
        st.text(alphabet="<>&;!/\\-# =\"'x?[]%0123456789", min_size=1, max_size=12),
    ).map(lambda t: ("insert", t[0], t[1].encode())),
    st.lists(st.integers(0, ELEMENT_COUNT * 3), min_size=1, max_size=6).map(
        lambda picks: ("drop", picks, b"")
    ),
    st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=12).map(
        lambda name: ("encoding", 0, name.encode())
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations)
def test_mutated_files_read_or_raise_source_error(mutation: tuple[str, object, bytes]) -> None:
    kind, where, payload = mutation
    if kind == "truncate":
        assert isinstance(where, int)
        data = VALID[:where]
    elif kind == "insert":
        assert isinstance(where, int)
        data = VALID[:where] + payload + VALID[where:]
    elif kind == "encoding":
        data = VALID.replace(b'encoding="UTF-8"', b'encoding="' + payload + b'"', 1)
    else:
        assert isinstance(where, list)
        data = _drop_elements(VALID, where)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutated.xml"
        path.write_bytes(data)
        try:
            result = CtfReader().read(path)
            records = list(result.records)
        except SourceError:
            return
    for record in records:
        assert all(v is None or isinstance(v, str) for v in record.values.values())


# --------------------------------------------------------------------------------------
# Speed: a whole school's CTF with a year of marks reads in seconds


@pytest.mark.slow
def test_two_thousand_pupils_with_a_year_of_marks_read_in_seconds(tmp_path: Path) -> None:
    marks = ("/\\" * 170 + "IIL\\##" * 10)[:380]
    pupil = (
        "<Pupil><UPN>{upn}</UPN><Surname>Fictional</Surname><Forename>Pupil</Forename>"
        "<DOB>2014-01-01</DOB><Sex>F</Sex><BasicDetails><NCyearActual>6</NCyearActual>"
        "<Ethnicity>WBRI</Ethnicity></BasicDetails><FSMhistory><FSMinstance>"
        "<FSMstartDate>2024-09-02</FSMstartDate></FSMinstance></FSMhistory>"
        "<SENhistory><SEN><StartDate>2024-09-02</StartDate><SENprovision>K</SENprovision>"
        "<SENneeds><SENneed><SENtype>SLCN</SENtype><SENtypeRank>1</SENtypeRank></SENneed>"
        "</SENneeds></SEN></SENhistory><Attendance><YearData><Year>2024</Year>"
        "<AttendSessions><AttendanceStartDate>2024-09-02</AttendanceStartDate>"
        f"<AttendanceMarks>{marks}</AttendanceMarks></AttendSessions></YearData>"
        "</Attendance></Pupil>\n"
    )
    body = "".join(pupil.format(upn=make_upn("999", "9001", 24, i % 1000)) for i in range(2000))
    path = ctf(tmp_path, body)
    start = time.perf_counter()
    result = CtfReader().read(path)
    counts = Counter(r.entity for r in result.records)
    elapsed = time.perf_counter() - start
    assert counts["pupils"] == 2000
    assert counts["attendance"] == 2000 * 380
    assert elapsed < 20, f"took {elapsed:.1f} s"
