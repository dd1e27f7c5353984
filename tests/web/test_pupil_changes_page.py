"""The pupil page says what the look-back analytics find (issue 15, item 6): a planted drop
in mood named with its date, a planted strategy effect as a before-and-after sentence
whose range holds the planted value, nothing of the kind for flat days, and each part only
for the roles the policy lets see it."""

from __future__ import annotations

import html
import re
from datetime import date

import duckdb
import numpy as np
import pytest
from fastapi.testclient import TestClient
from web_fixtures import Trust

STEP_AT = 70  # the planted drop: the 71st of the pupil's last 120 school days
STRATEGY_AT = 60
UNCLEAR_AT = 20  # its 30 days after end before STRATEGY_AT: no change to find
PLANTED_NAP = 0.875  # mood 2 or 3 before, 3 or 4 after: see _plant_strategy


def _school_days(con: duckdb.DuckDBPyConnection, school: str) -> list[date]:
    rows = con.execute(
        "select c.date_day from core.dim_school_calendar as c "
        "inner join marts.school_as_of as a on a.school_urn = c.school_urn "
        "where c.school_urn = ? and c.is_school_day and c.date_day <= a.as_of_date "
        "order by 1 desc limit 120",
        [school],
    ).fetchall()
    return sorted(r[0] for r in rows)


def _plant_days(
    con: duckdb.DuckDBPyConnection, pupil: str, school: str, days: list[date], mood: np.ndarray
) -> None:
    con.execute("delete from marts.wellbeing_pupil_day where pupil_key = ?", [pupil])
    engagement = np.random.default_rng(99).normal(3.3, 0.4, len(days))
    con.executemany(
        "insert into marts.wellbeing_pupil_day (pupil_key, school_urn, observed_on, "
        "observations, mood_observations, mood_mean, engagement_observations, "
        "engagement_mean, regulation_observations) values (?, ?, ?, 1, 1, ?, 1, ?, 0)",
        [
            [pupil, school, d, float(m), float(e)]
            for d, m, e in zip(days, mood, engagement, strict=True)
        ],
    )
    # The weekly chart's rows, from the same days.
    con.execute("delete from marts.wellbeing_pupil_week where pupil_key = ?", [pupil])
    con.execute(
        "insert into marts.wellbeing_pupil_week (pupil_key, school_urn, week_start, "
        "days_observed, observations, mood_mean, mood_observations, engagement_mean, "
        "engagement_observations) select pupil_key, school_urn, "
        "cast(date_trunc('week', observed_on) as date), count(*), count(*), avg(mood_mean), "
        "count(*), avg(engagement_mean), count(*) from marts.wellbeing_pupil_day "
        "where pupil_key = ? group by all",
        [pupil],
    )


def _plant_strategies(
    con: duckdb.DuckDBPyConnection, pupil: str, school: str, uses: list[tuple[date, str, str]]
) -> None:
    """Each (first day, code, name) as the strategy's one recorded use."""
    con.execute("delete from marts.strategy_use_outcome where pupil_key = ?", [pupil])
    con.executemany(
        "insert into marts.strategy_use_outcome (use_key, pupil_key, school_urn, used_on, "
        "strategy_code, strategy_name) values (?, ?, ?, ?, ?, ?)",
        [[f"planted-{code}", pupil, school, day, code, name] for day, code, name in uses],
    )


PLANTED: dict[str, list[date]] = {}


def _thin_pupil(t: Trust) -> str:
    return t.in_group[2] if len(t.in_group) > 2 else t.other_school_pupil


@pytest.fixture(scope="module")
def web_trust(web_trust: Trust) -> Trust:
    """The module's own copy of the trust, with four pupils' days planted: a drop in mood,
    a strategy that helped from the day it began (and one that changed nothing), flat days,
    and eight days only."""
    t = web_trust
    con = duckdb.connect(str(t.path))
    days = _school_days(con, t.school)
    rng = np.random.default_rng(2026)
    drop = np.clip(
        np.r_[rng.normal(3.4, 0.45, STEP_AT), rng.normal(2.3, 0.45, 120 - STEP_AT)], 1, 5
    )
    _plant_days(con, t.in_group[0], t.school, days, drop)
    helped = np.r_[rng.choice([2.0, 3.0], STRATEGY_AT), rng.choice([3.0, 4.0], 120 - STRATEGY_AT)]
    _plant_days(con, t.in_group[1], t.school, days, helped)
    # Visual timetable began with the better days; Movement break 40 school days before,
    # with the same kind of days either side of its start (no clear change).
    _plant_strategies(
        con,
        t.in_group[1],
        t.school,
        [
            (days[STRATEGY_AT], "VT", "Visual timetable"),
            (days[UNCLEAR_AT], "MB", "Movement break"),
        ],
    )
    _plant_days(con, t.same_school_other, t.school, days, rng.normal(3.2, 0.45, 120))
    _plant_days(con, _thin_pupil(t), t.school, days[-8:], rng.normal(3.2, 0.45, 8))
    con.close()
    PLANTED["days"] = days
    return t


@pytest.fixture(scope="module")
def planted_days(web_trust: Trust) -> list[date]:
    return PLANTED["days"]


def _text(client: TestClient, pupil: str) -> str:
    response = client.get(f"/pupils/{pupil}")
    assert response.status_code == 200
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


def _words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def test_the_planted_drop_is_named_with_its_date_and_direction(
    clients: dict[str, TestClient], web_trust: Trust, planted_days: list[date]
) -> None:
    text = _text(clients["senco"], web_trust.in_group[0])
    found = re.findall(r"Mood was (lower|higher) from about (\d{1,2} \w+ \d{4})", text)
    assert len(found) == 1, found
    way, when = found[0]
    assert way == "lower"
    named = planted_days.index(next(d for d in planted_days if _words(d) == when))
    assert abs(named - STEP_AT) <= 3, (when, _words(planted_days[STEP_AT]))
    assert re.search(r"on average 3\.\d out of 5 .* before, 2\.\d over", text)
    assert "Engagement: no lasting change stands out" in text
    # The chart marks it, and says so in its description.
    page = clients["senco"].get(f"/pupils/{web_trust.in_group[0]}").text
    assert "lasting change began" in page and f"mood lower from {when}" in page


def test_the_planted_strategy_effect_is_said_with_a_range_that_holds_it(
    clients: dict[str, TestClient], web_trust: Trust, planted_days: list[date]
) -> None:
    text = _text(clients["senco"], web_trust.in_group[1])
    began = _words(planted_days[STRATEGY_AT])
    sentence = re.search(
        rf"After Visual timetable began on {began}, about (\d+) in 10 days had a better mood "
        r"than a typical day before it \(a [a-z ]+ change; likely (\d+) to (\d+) in 10\)",
        text,
    )
    assert sentence, text[text.find("Mood before and after") :][:800]
    low, high = int(sentence.group(2)) / 10, int(sentence.group(3)) / 10
    assert low - 0.05 <= PLANTED_NAP <= high + 0.05
    assert "not proof that the strategy caused the change" in text
    for word in ("NAP", "Tau-BC", "Tau", "\u03c4"):
        assert word not in text.split("Mood before and after")[1].split("How the before")[0]


def test_flat_days_get_no_change_sentence(clients: dict[str, TestClient], web_trust: Trust) -> None:
    text = _text(clients["senco"], web_trust.same_school_other)
    assert not re.search(r"(Mood|Engagement) was (lower|higher) from about", text)
    assert "Mood: no lasting change stands out over the 120 days" in text


def test_thin_data_says_not_enough_days_yet(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """Eight days of check-ins: the page says there are not enough yet, not nothing."""
    text = _text(
        clients["senco" if len(web_trust.in_group) > 2 else "trust_admin"], _thin_pupil(web_trust)
    )
    assert "Mood: not enough days yet to look for a lasting change (8 days with a rating" in text


def test_each_part_goes_only_to_the_roles_allowed(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    pupil = web_trust.in_group[0]
    dsl = clients["dsl"].get(f"/pupils/{pupil}").text
    assert 'data-section="pupil.changes"' in dsl  # mood is for every member of staff
    assert 'data-section="pupil.before_after"' not in dsl  # strategies are not the DSL's
    visitor = clients["visiting_professional"].get(f"/pupils/{pupil}").text
    assert 'data-section="pupil.changes"' in visitor
    assert 'data-section="pupil.before_after"' in visitor
    ta = clients["teaching_assistant"].get(f"/pupils/{pupil}").text
    assert 'data-section="pupil.before_after"' in ta


def test_paper_keeps_the_strategies_with_a_clear_change_only(
    clients: dict[str, TestClient], web_trust: Trust
) -> None:
    """On screen both comparisons; marked for paper, only the clear one, with the list
    marked as cut (the print stylesheet hides print-skip and says so under a print-cut list;
    tests/browser/test_phone_tables_and_print.py prints it)."""
    page = clients["senco"].get(f"/pupils/{web_trust.in_group[1]}").text
    section = page.split('data-section="pupil.before_after"')[1].split("</section>")[0]
    assert re.search(r"<li>After Visual timetable began", section), section
    assert re.search(r'<li class="print-skip">After Movement break began', section), section
    assert '<ul class="print-cut">' in section
    # One is printed, so the note on how to read it is printed too.
    assert "not proof that the strategy caused" in section and 'print-skip">Each' not in section
