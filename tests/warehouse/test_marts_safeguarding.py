"""marts.safeguarding_trigger on hand-built attendance and suspensions: each rule kind fires
when its threshold is exactly reached, not one below, and its window is counted in school
weeks; disabled and combined rules produce no rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from mart_fixtures import (
    FIRST_MONDAY,
    SCHOOL,
    SCHOOL_WEEKS,
    YEAR,
    add_pupil,
    add_suspension,
    build_marts,
    core_connection,
    week_friday,
    week_monday,
)

MARTS = (
    "marts.attendance_pupil_day",
    "marts.attendance_pupil_week",
    "marts.attendance_pupil_year",
    "marts.attendance_summary_period",
    "marts.safeguarding_trigger",
)

RULES = """
rules:
  - id: ten_in_ten
    label: 10 unauthorised sessions in 10 school weeks
    kind: unauthorised_sessions
    parameters: {threshold: 10, window_school_weeks: 10}
    wording: "{value} unauthorised sessions from {window_start} to {window_end}"
  - id: twenty_in_term
    label: 20 unauthorised sessions in a term
    kind: unauthorised_sessions_in_term
    parameters: {threshold: 20}
    wording: "{value} this term"
  - id: persistent_year
    label: persistent absence this year
    kind: absence_rate
    parameters: {threshold: 0.10, period: year_to_date, min_possible_sessions: 20}
    wording: "{value} of possible sessions missed"
  - id: persistent_term
    label: persistent absence this term
    kind: absence_rate
    parameters: {threshold: 0.10, period: term, min_possible_sessions: 20}
    wording: "{value} of possible sessions missed this term"
  - id: two_suspensions_in_12
    label: 2 suspensions in 12 school weeks
    kind: suspensions
    parameters: {threshold: 2, window_school_weeks: 12}
    wording: "{value} suspensions"
  - id: switched_off
    label: 1 unauthorised session in a week (disabled)
    kind: unauthorised_sessions
    enabled: false
    parameters: {threshold: 1, window_school_weeks: 1}
    wording: "{value}"
  - id: both
    label: combined
    kind: combined
    parameters: {all_of: [ten_in_ten, mood_decline]}
    wording: both
"""


@pytest.fixture(scope="module")
def triggers(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    rules = tmp_path_factory.mktemp("rules") / "rules.yml"
    rules.write_text(RULES, encoding="utf-8")
    con = core_connection()
    # Rolling 10 in 10: exactly 10 within weeks 1..10 (the holiday after week 7 does not
    # count as school weeks), 9 within them, and 10 spread over 11 school weeks.
    add_pupil(con, "exact", unauthorised={1: 5, 10: 5})
    add_pupil(con, "one_below", unauthorised={1: 5, 10: 4})
    add_pupil(con, "outside_window", unauthorised={1: 5, 11: 5})
    # 10 by week 3: the window is cut at the start of the year, so it is 3 school weeks.
    add_pupil(con, "early", unauthorised={3: 10})
    # Fires in the final week, which is the school's current week.
    add_pupil(con, "active", unauthorised={16: 10})
    # 20 in one term against 10 at the end of autumn and 10 at the start of spring.
    add_pupil(con, "term_twenty", unauthorised={3: 8, 5: 8, 13: 4})
    add_pupil(con, "across_terms", unauthorised={12: 5, 13: 5, 14: 5, 15: 5})
    # Absence rate: 2 of 10 in week one (too few sessions to judge), then 2 of 20 = 10%.
    add_pupil(con, "rate_exact", authorised={1: 2})
    add_pupil(con, "rate_below", authorised={1: 1})
    # Suspensions: weeks 1 and 12 are within 12 school weeks; weeks 1 and 13 are not.
    add_pupil(con, "suspended_within")
    add_suspension(con, "suspended_within", 1)
    add_suspension(con, "suspended_within", 12)
    add_pupil(con, "suspended_apart")
    add_suspension(con, "suspended_apart", 1)
    add_suspension(con, "suspended_apart", 13)
    build_marts(con, MARTS, rules)
    cursor = con.execute("SELECT * FROM marts.safeguarding_trigger")
    names = [d[0] for d in cursor.description or []]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    con.close()
    return {(r["pupil_key"], r["rule_id"]): r for r in rows}


def fired(triggers: dict[tuple[str, str], dict[str, Any]], pupil: str) -> set[str]:
    return {rule for (p, rule) in triggers if p == pupil}


def test_rolling_unauthorised_fires_when_the_threshold_is_exactly_reached(
    triggers: dict[tuple[str, str], dict[str, Any]],
) -> None:
    row = triggers[("exact", "ten_in_ten")]
    assert row["value_at_first"] == 10
    assert row["threshold"] == 10
    assert row["kind"] == "unauthorised_sessions"
    assert row["academic_year"] == YEAR and row["school_urn"] == SCHOOL
    # The first firing window is school weeks 1 to 10, across the half-term holiday.
    assert row["window_start"] == week_monday(1)
    assert row["window_end"] == week_friday(10)
    assert row["first_fired_on"] == week_friday(10)
    # Week 11's window (weeks 2..11) has lost week 1's five sessions.
    assert row["last_fired_on"] == week_friday(10)
    assert row["weeks_fired"] == 1
    assert row["peak_value"] == 10
    # The latest week (16) sees weeks 7..16: week 10's five.
    assert row["latest_value"] == 5
    assert row["is_active"] is False
    assert row["wording"].startswith("{value} unauthorised sessions")


def test_rolling_unauthorised_one_below_or_outside_the_window_does_not_fire(
    triggers: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert "ten_in_ten" not in fired(triggers, "one_below")
    assert "ten_in_ten" not in fired(triggers, "outside_window")


def test_a_rule_firing_in_the_current_week_is_active(
    triggers: dict[tuple[str, str], dict[str, Any]],
) -> None:
    row = triggers[("active", "ten_in_ten")]
    assert row["first_fired_on"] == week_friday(SCHOOL_WEEKS)
    assert row["window_start"] == week_monday(SCHOOL_WEEKS - 9)
    assert row["is_active"] is True
    assert row["latest_value"] == 10


def test_unauthorised_sessions_in_a_term_count_within_the_term_only(
    triggers: dict[tuple[str, str], dict[str, Any]],
) -> None:
    row = triggers[("term_twenty", "twenty_in_term")]
    assert row["value_at_first"] == 20
    assert row["first_fired_on"] == week_friday(13)
    assert row["window_start"] == week_monday(1)  # the term's first school day
    # 10 at the end of autumn and 10 in spring: 20 in 10 weeks, never 20 in a term.
    assert "twenty_in_term" not in fired(triggers, "across_terms")
    assert triggers[("across_terms", "ten_in_ten")]["value_at_first"] == 10


def test_absence_rate_waits_for_enough_possible_sessions_then_fires_at_the_threshold(
    triggers: dict[tuple[str, str], dict[str, Any]],
) -> None:
    row = triggers[("rate_exact", "persistent_year")]
    # Week one (20%) has only 10 possible sessions: the first firing is week two at 2/20.
    assert row["first_fired_on"] == week_friday(2)
    assert row["value_at_first"] == pytest.approx(0.10)
    assert row["peak_value"] == pytest.approx(0.10)
    assert row["window_start"] == week_monday(1)
    assert row["weeks_fired"] == 1
    assert row["latest_value"] == pytest.approx(2 / (10 * SCHOOL_WEEKS))
    assert triggers[("rate_exact", "persistent_term")]["first_fired_on"] == week_friday(2)
    assert fired(triggers, "rate_below") == set()


def test_suspensions_within_the_window_fire_and_further_apart_do_not(
    triggers: dict[tuple[str, str], dict[str, Any]],
) -> None:
    row = triggers[("suspended_within", "two_suspensions_in_12")]
    assert row["value_at_first"] == 2
    assert row["first_fired_on"] == week_friday(12)
    assert row["window_start"] == week_monday(1)
    assert row["latest_value"] == 1  # weeks 5..16 hold only the second suspension
    assert "two_suspensions_in_12" not in fired(triggers, "suspended_apart")


def test_disabled_and_combined_rules_produce_no_rows(
    triggers: dict[tuple[str, str], dict[str, Any]],
) -> None:
    rules = {rule for (_, rule) in triggers}
    assert "switched_off" not in rules
    assert "both" not in rules
    # The disabled rule would have fired for every pupil with an unauthorised session.
    assert "ten_in_ten" in rules


def test_a_threshold_edit_changes_what_fires(tmp_path: Path) -> None:
    con = core_connection()
    add_pupil(con, "nine", unauthorised={2: 9})
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES, encoding="utf-8")
    build_marts(con, MARTS, rules)
    assert "ten_in_ten" not in _rules_fired(con, "nine")
    rules.write_text(RULES.replace("threshold: 10,", "threshold: 9,"), encoding="utf-8")
    build_marts(con, MARTS[2:], rules)
    assert "ten_in_ten" in _rules_fired(con, "nine")


def _rules_fired(con: duckdb.DuckDBPyConnection, pupil: str) -> set[str]:
    rows = con.execute(
        "SELECT rule_id FROM marts.safeguarding_trigger WHERE pupil_key = ?", [pupil]
    ).fetchall()
    return {r for (r,) in rows}


def test_the_small_trust_matches_an_independent_10_in_10_count(
    built: duckdb.DuckDBPyConnection,
) -> None:
    """The shipped national rule against a Python count over the core attendance marks."""
    weekly: dict[tuple[str, str, str], dict[int, int]] = {}
    for pupil, school, year, week, unauthorised in built.execute(
        "SELECT pupil_key, school_urn, academic_year, school_week, "
        "sum(CASE WHEN is_unauthorised_absence AND is_possible THEN 1 ELSE 0 END) "
        "FROM core.fct_attendance_session WHERE school_week IS NOT NULL "
        "GROUP BY ALL HAVING sum(CASE WHEN is_possible THEN 1 ELSE 0 END) > 0"
    ).fetchall():
        weekly.setdefault((pupil, school, year), {})[week] = int(unauthorised)
    expected: dict[tuple[str, str, str], tuple[int, int, int]] = {}
    for key, weeks in weekly.items():
        firing = [
            (w, sum(n for v, n in weeks.items() if w - 10 < v <= w))
            for w in sorted(weeks)
            if sum(n for v, n in weeks.items() if w - 10 < v <= w) >= 10
        ]
        if firing:
            expected[key] = (firing[0][0], firing[0][1], len(firing))
    calendar_weeks = dict(
        built.execute(
            "SELECT school_urn || academic_year || cast(school_week AS VARCHAR), max(date_day) "
            "FROM core.dim_school_calendar WHERE is_school_day GROUP BY ALL"
        ).fetchall()
    )
    got = {
        (p, s, y): (first, value, weeks)
        for p, s, y, first, value, weeks in built.execute(
            "SELECT pupil_key, school_urn, academic_year, first_fired_on, value_at_first, "
            "weeks_fired FROM marts.safeguarding_trigger WHERE rule_id = 'national_10_in_10'"
        ).fetchall()
    }
    assert len(expected) > 5, "the small trust should have pupils over the national threshold"
    assert got.keys() == expected.keys()
    for key, (week, value, weeks) in expected.items():
        end = calendar_weeks[key[1] + key[2] + str(week)]
        assert got[key] == (end, value, weeks), key


def _summary(
    con: duckdb.DuckDBPyConnection,
    pupil: str,
    first_week: int,
    last_week: int,
    *,
    absent: int,
    unauthorised: int,
    other_school: bool = False,
) -> None:
    possible = 10 * (last_week - first_week + 1)
    con.execute(
        "INSERT INTO core.fct_attendance_summary VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, 0, ?)",
        [
            pupil,
            SCHOOL,
            week_monday(first_week),
            week_friday(last_week),
            possible,
            possible - absent,
            absent - unauthorised,
            unauthorised,
            other_school,
        ],
    )


def test_a_pupil_without_marks_is_judged_on_the_summaries_the_school_sent() -> None:
    """Worked by hand (default rules): the school sent weeks 1-4 (2 unauthorised), then
    weeks 1-8 to date (12 missed, all unauthorised), which replaces the first, then weeks
    9-12 on their own (none missed).
    - 10 in a rolling 10 weeks: weeks 1-8 span 8 school weeks, inside the window, with 12
      unauthorised: fires there (weeks 9-12 have none).
    - 20 unauthorised in the term: 12 by week 12, so no.
    - persistent absence, term and year to date: 12/80 = 15% at week 8 and 12/120 = 10%
      at week 12: fires at both.
    A pupil with marks keeps them: their summary of 50% absence asks nothing, and a
    summary from another school (a transfer file's history) is never this school's."""
    con = core_connection()
    add_pupil(con, "marks")
    _summary(con, "marks", 1, 8, absent=40, unauthorised=40)
    con.execute("INSERT INTO core.dim_pupil VALUES ('summaries'), ('elsewhere')")
    _summary(con, "summaries", 1, 4, absent=2, unauthorised=2)
    _summary(con, "summaries", 1, 8, absent=12, unauthorised=12)
    _summary(con, "summaries", 9, 12, absent=0, unauthorised=0)
    _summary(con, "elsewhere", 1, 8, absent=40, unauthorised=40, other_school=True)
    build_marts(con, MARTS)
    periods = con.execute(
        "SELECT pupil_key, period_order, term, school_weeks, possible_year_to_date "
        "FROM marts.attendance_summary_period ORDER BY pupil_key, period_order"
    ).fetchall()
    assert periods == [("summaries", 1, "autumn", 8, 80), ("summaries", 2, "autumn", 4, 120)]
    fired = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT rule_id, value_at_first, first_fired_on, window_start, weeks_fired, "
            "latest_value, evidence_source FROM marts.safeguarding_trigger"
        ).fetchall()
    }
    con.close()
    by_week_8 = (week_friday(8), week_monday(1))
    assert fired == {
        "national_10_in_10": (12.0, *by_week_8, 1, 0.0, "school_summary"),
        "persistent_absence_term": (0.15, *by_week_8, 2, 0.1, "school_summary"),
        "persistent_absence_year": (0.15, *by_week_8, 2, 0.1, "school_summary"),
    }


def test_a_summary_without_a_start_is_the_year_to_date() -> None:
    """A summary with no start runs from the first day of its academic year (1 September
    here): sent again with that start, it is the same period, counted once, and the one
    that gives its start is kept (its figures: 3 missed, not 5)."""
    con = core_connection()
    con.execute("INSERT INTO core.dim_pupil VALUES ('p')")
    end = week_friday(8)
    con.execute(
        "INSERT INTO core.fct_attendance_summary VALUES "
        "('p', ?, NULL, ?, 80, 75, 0, 5, 0, 0, false), "
        "('p', ?, ?, ?, 80, 77, 0, 3, 0, 0, false)",
        [SCHOOL, end, SCHOOL, FIRST_MONDAY, end],
    )
    build_marts(con, MARTS)
    periods = con.execute(
        "SELECT period_start, period_end, absent FROM marts.attendance_summary_period"
    ).fetchall()
    con.close()
    assert periods == [(FIRST_MONDAY, end, 3)]


def test_a_window_cut_at_the_start_of_the_year_says_how_many_weeks_it_held(
    triggers: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """A "rolling 10 school weeks" rule reached in week 3 counted 3 school weeks: the
    evidence said "in the 10 school weeks from" dates 2.5 weeks apart."""
    from empowered.analytics.triggers import fired_rule_items

    row = triggers[("early", "ten_in_ten")]
    assert row["window_start"] == week_monday(1) and row["window_end"] == week_friday(3)
    assert row["window_weeks"] == 3
    assert triggers[("exact", "ten_in_ten")]["window_weeks"] == 10
    wording = "{value} unauthorised sessions in the {window_school_weeks} school weeks"
    (item,) = fired_rule_items([{**row, "wording": wording}])
    assert item.evidence[0] == "10 unauthorised sessions in the 3 school weeks."
