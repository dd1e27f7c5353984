"""A school that sends only per-pupil attendance summaries (no session marks) is asked the
same questions as one that sends its register: the register's low and persistent absence,
the attendance triggers, the early signs.

The school is SIMS's (fixtures/real/sims_student_list.csv, sims_sen_register.csv and
sims_attendance_summary.csv, school 148203). The truth is worked out by hand from the
summary file (fixtures/real/sims_attendance_summary.expected.yml): every pupil had 114
possible sessions from 3 September to 27 November 2026, and missed

    pupil (UPN)      authorised + unauthorised = missed   share missed
    B886209919041          2 + 0  =  2                       1.8%
    M886243119012          4 + 2  =  6                       5.3%
    Q886412725003          9 + 4  = 13                      11.4%  persistent
    B886209917008         14 + 4  = 18                      15.8%  persistent
    N886243116027         16 + 8  = 24                      21.1%  persistent
    G886270315019         11 + 24 = 35                      30.7%  persistent
    Y886209915033          6 + 0  =  6                       5.3%  (4 more at approved activity)
    J886270318006          3 + 0  =  3                       2.6%
    H886265619050          2 + 0  =  2                       1.8%

so four pupils are persistently absent (10% or more missed) and none severely (50%).
With the local authority's term dates (fixtures/real/la_term_dates.csv) the period lies
inside the autumn term 2026 and spans 12 school weeks (3-4 September, seven weeks to 23
October, the half term, four weeks to 27 November: 57 days, 114 sessions). So the default
trigger rules (warehouse/trigger_rules.yml) give, on 27 November:

    persistent absence this year, and this term (10%+, 20+ sessions possible): the four
    severe absence this year (50%+): nobody
    20 or more unauthorised sessions in one term: G886270315019 (24)
    10 or more unauthorised sessions in a rolling 10 school weeks: not asked, since 12
    school weeks are longer than the window, so the summary cannot say where they fell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from real_files import REAL, import_file, set_up_school

from empowered.identity import IdentityReader
from identity_keys import TEST_KEYS

SCHOOL = "148203"

MISSED = {
    "B886209919041": 2,
    "M886243119012": 6,
    "Q886412725003": 13,
    "B886209917008": 18,
    "N886243116027": 24,
    "G886270315019": 35,
    "Y886209915033": 6,
    "J886270318006": 3,
    "H886265619050": 2,
}
PERSISTENT = {"Q886412725003", "B886209917008", "N886243116027", "G886270315019"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("summary_only") / "w.duckdb")
    set_up_school(path, SCHOOL)
    for name in ("la_term_dates.csv", "sims_student_list.csv", "sims_attendance_summary.csv"):
        import_file(path, name, school=SCHOOL)
    return path


def _by_upn(path: str, sql: str) -> dict[str, tuple[Any, ...]]:
    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(path, read_only=True)
    try:
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    return {str(reader.upn(r[0])): tuple(r[1:]) for r in rows}


def test_the_year_comes_from_the_summary_and_says_so(warehouse: str) -> None:
    got = _by_upn(
        warehouse,
        "SELECT i.upn, y.possible, y.authorised + y.unauthorised, y.persistent_absence, "
        "y.severe_absence, y.attendance_source_text, y.period_start, y.period_end "
        "FROM marts.attendance_pupil_year_all AS y JOIN core.pupil_identity AS i USING (pupil_key)",
    )
    assert {u: (g[0], g[1], g[2], g[3]) for u, g in got.items()} == {
        u: (114, m, u in PERSISTENT, False) for u, m in MISSED.items()
    }
    assert {g[4] for g in got.values()} == {"from a summary the school sent"}
    assert {(g[5].isoformat(), g[6].isoformat()) for g in got.values()} == {
        ("2026-09-03", "2026-11-27")
    }


def test_the_register_asks_about_persistent_absence(warehouse: str) -> None:
    got = _by_upn(
        warehouse,
        "SELECT i.upn, r.sessions_possible, r.attendance_rate, r.persistent_absence, "
        "r.attendance_source, r.as_of_date "
        "FROM marts.register_pupil AS r JOIN core.pupil_identity AS i USING (pupil_key)",
    )
    on_summary = {u: g for u, g in got.items() if u in MISSED}
    assert set(on_summary) == set(MISSED)
    for upn, (possible, rate, persistent, source, as_of) in on_summary.items():
        assert possible == 114
        assert rate == pytest.approx((114 - MISSED[upn]) / 114)
        assert persistent == (upn in PERSISTENT)
        assert source == "school_summary"
        # "Now" at a school without marks: the summary's end (27 November) or, later, the
        # student list's export date (1 December), so the SEN register it sent is in force.
        assert as_of.isoformat() == "2026-12-01"
    con = duckdb.connect(warehouse, read_only=True)
    try:
        (count,) = con.execute(
            "SELECT sum(CASE WHEN persistent_absence THEN 1 ELSE 0 END) "
            "FROM marts.register_pupil WHERE school_urn = ?",
            [SCHOOL],
        ).fetchone() or (None,)
    finally:
        con.close()
    assert count == len(PERSISTENT)


def test_the_attendance_triggers_fire_on_the_summary(warehouse: str) -> None:
    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    try:
        rows = con.execute(
            "SELECT i.upn, t.rule_id, t.value_at_first, t.first_fired_on, t.window_start, "
            "t.is_active, t.evidence_source FROM marts.safeguarding_trigger AS t "
            "JOIN core.pupil_identity AS i USING (pupil_key)"
        ).fetchall()
    finally:
        con.close()
    fired = {(str(reader.upn(r[0])), str(r[1])): r[2:] for r in rows}
    expected = {(u, "persistent_absence_year"): MISSED[u] / 114 for u in PERSISTENT}
    expected |= {(u, "persistent_absence_term"): MISSED[u] / 114 for u in PERSISTENT}
    expected[("G886270315019", "local_20_in_term")] = 24.0
    assert set(fired) == set(expected)
    for key, (value, fired_on, window_start, active, source) in fired.items():
        assert value == pytest.approx(expected[key])
        assert fired_on.isoformat() == "2026-11-27"
        assert window_start.isoformat() == "2026-09-03"
        assert active
        assert source == "school_summary"


def test_the_review_queue_says_the_figures_came_from_a_summary(warehouse: str) -> None:
    from empowered.analytics.triggers import review_queue

    con = duckdb.connect(warehouse, read_only=True)
    try:
        items = review_queue(con, school_urn=SCHOOL, alerts=[])
    finally:
        con.close()
    assert len(items) == 9
    casey = [i for i in items if i.rule_id == "local_20_in_term"]
    assert len(casey) == 1
    assert casey[0].evidence[0].startswith("24 unauthorised sessions this term, from")
    assert "reached in 1 summary the school sent" in casey[0].evidence[1]


# A second report from the same school, for the three weeks after the first (30 November to
# 18 December 2026, 15 days, 30 sessions), in the same SIMS layout: Amira missed none and
# Zoë 18 (12 authorised, 6 unauthorised).
HEADINGS = (
    "Adno,UPN,Legal Surname,Legal Forename,Reg Group,Possible Sessions,Present,"
    "Approved Educational Activity,Authorised Absences,Unauthorised Absences,"
    "Late (before registers closed),% Attendance"
)
LATER = f"""Attendance Summary - Kestrel Vale Academy\r
Date range: 30/11/2026 to 18/12/2026\r
Report run: 21-Dec-2026 08:31\r
\r
{HEADINGS}\r
002187,B886209919041,Specimen,Amira,7B,30,30,0,0,0,0,100.0\r
002188,M886243119012,Sample,Zoe,7K,30,12,0,12,6,0,40.0\r
"""


def test_the_early_sign_compares_a_summary_with_the_childs_earlier_ones(tmp_path: Path) -> None:
    """Worked by hand (analytics.early_signs.summary_attendance_alerts): the school's rate
    over both reports is (109 + 0 + 18) missed of (9 x 114 + 2 x 30) = 127 / 1086 = 11.69%.
    Zoë's usual, from her first report steadied by 40 sessions at the school's rate, is
    p0 = (6 + 0.1169 x 40) / (114 + 40) = 6.93%; the alternative is p0 + 20 points = 26.93%
    (three times p0 is less). Her 18 missed of 30 give a log-likelihood ratio of
    18 ln(26.93 / 6.93) + 12 ln(73.07 / 93.07) = 21.5, over the limit of 6: an alert.
    Amira missed none (ratio -7.0): nothing. Nobody else has a second period."""
    from empowered.analytics.early_signs import load_alerts

    later = tmp_path / "attendance_summary_december.csv"
    later.write_bytes(LATER.encode("windows-1252"))
    path = str(tmp_path / "w.duckdb")
    set_up_school(path, SCHOOL)
    for name in (REAL / "sims_student_list.csv", REAL / "sims_attendance_summary.csv", later):
        import_file(path, name, school=SCHOOL)
    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(path, read_only=True)
    try:
        alerts = load_alerts(con, school_urn=SCHOOL)
        names = {
            str(k): str(reader.upn(u))
            for k, u in con.execute("SELECT pupil_key, upn FROM core.pupil_identity").fetchall()
        }
    finally:
        con.close()
    [alert] = alerts
    assert names[alert.pupil_key] == "M886243119012"
    assert alert.indicator == "attendance"
    assert alert.started_on.isoformat() == "2026-12-18"
    assert alert.baseline == pytest.approx((6 + 127 / 1086 * 40) / 154)
    assert alert.recent == pytest.approx(18 / 30)
    assert alert.points == 114
    assert alert.summary.startswith(
        "Missed 18 of 30 sessions from 30 November 2026 to 18 December 2026 (from a summary "
        "the school sent), against a usual 7% of sessions missed over 114 earlier sessions."
    )


def test_the_pupil_page_says_the_year_came_from_a_summary(warehouse: str) -> None:
    from empowered.views import PupilScope
    from empowered.views.cache import SchoolAnalyticsCache
    from empowered.views.pupil import pupil_picture

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    try:
        [casey] = [
            str(k)
            for k, u in con.execute("SELECT pupil_key, upn FROM core.pupil_identity").fetchall()
            if reader.upn(u) == "G886270315019"
        ]
        picture = pupil_picture(
            con, casey, scope=PupilScope.school(SCHOOL), cache=SchoolAnalyticsCache()
        )
    finally:
        con.close()
    assert picture.attendance.summary == (
        "Attendance 69% in 2026/27 (79 of 114 sessions; 24 unauthorised, from a summary the "
        "school sent): persistent absence (10% or more missed)."
    )


def test_the_register_questions_find_low_attendance_without_a_plan(warehouse: str) -> None:
    """On the register (the student list: K or E) with attendance under 90% and no plan
    (none were recorded): Dev (E, 84.2%), Jordan (K, 78.9%) and Casey (K, 69.3%). Łukasz
    (88.6%) has no SEN. The school summary counts them, and the page notes the source."""
    from empowered.analytics.register import attendance_without_plan
    from empowered.views import PupilScope
    from empowered.views.register import RegisterFilters, register_page

    reader = IdentityReader(TEST_KEYS)
    con = duckdb.connect(warehouse, read_only=True)
    try:
        upn = {
            str(k): str(reader.upn(u))
            for k, u in con.execute("SELECT pupil_key, upn FROM core.pupil_identity").fetchall()
        }
        question = attendance_without_plan(con, school_urn=SCHOOL)
        counts = con.execute(
            "SELECT sen_persistent_absence, sen_low_attendance_no_plan "
            "FROM marts.register_school_summary WHERE school_urn = ?",
            [SCHOOL],
        ).fetchone()
        page = register_page(con, scope=PupilScope.school(SCHOOL), filters=RegisterFilters())
    finally:
        con.close()
    assert {upn[k] for k in question.pupil_keys} == {
        "B886209917008",
        "N886243116027",
        "G886270315019",
    }
    assert counts == (3, 3)
    assert {r.attendance_note for r in page.pupils} == {"from a summary the school sent"}
