"""The pupil page's provision lines say what was recorded (issue 15, numbers staff can
trust): a tracker that keeps no session register has not delivered 0 sessions, and an
intervention's own entry and exit scores are not assessment results."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from empowered.analytics.wording import day_text
from empowered.views import PupilScope
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.pupil import PupilPicture, pupil_picture


@pytest.fixture(scope="module")
def tracker_only(
    built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, str, str]]:
    """A copy of the small trust where one pupil's one enrolment came from a tracker with
    no session register (10 sessions planned, none recorded) but with entry and exit
    scores, and the pupil has no assessment results."""
    import shutil

    path = tmp_path_factory.mktemp("pupil-numbers") / "copy.duckdb"
    shutil.copy(built_warehouse, path)
    con = duckdb.connect(str(path))
    row = con.execute(
        "select e.enrolment_id, e.pupil_key, e.school_urn from marts.provision_enrolment as e "
        "order by e.enrolment_id limit 1"
    ).fetchone()
    assert row is not None
    enrolment, pupil, school = (str(v) for v in row)
    con.execute("delete from marts.provision_enrolment where pupil_key = ? and enrolment_id <> ?",
                [pupil, enrolment])  # fmt: skip
    con.execute(
        "update marts.provision_enrolment set sessions_planned = 10, sessions_recorded = 0, "
        "sessions_delivered = 0, has_session_records = false, delivery_rate = null, "
        "measure = 'rating', pre_score = 3, post_score = 5, score_gain = 2, "
        "pre_date = start_date, post_date = start_date + 60, end_date = start_date + 60 "
        "where enrolment_id = ?",
        [enrolment],
    )
    con.execute("delete from marts.learning_assessment where pupil_key = ?", [pupil])
    yield con, pupil, school, enrolment
    con.close()


@pytest.fixture(scope="module")
def page(tracker_only: tuple[duckdb.DuckDBPyConnection, str, str, str]) -> PupilPicture:
    con, pupil, school, _ = tracker_only
    return pupil_picture(con, pupil, scope=PupilScope.school(school), cache=SchoolAnalyticsCache())


def test_no_session_register_is_not_zero_sessions_delivered(page: PupilPicture) -> None:
    (line,) = [e.summary for e in page.provision.enrolments]
    assert "0 of 10 sessions delivered" not in line
    assert "10 sessions planned; sessions were not recorded" in line


def test_a_score_change_says_it_is_the_interventions_own_scores(page: PupilPicture) -> None:
    """Beside "No assessment results recorded", a bare "score change +2" read like an
    assessment result: it says what was scored, from what to what."""
    assert page.assessments.summary.startswith("No assessment results recorded")
    (line,) = [e.summary for e in page.provision.enrolments]
    assert "score change +2" not in line
    assert "intervention rating 3 at the start, 5 at the end (+2)" in line
    finished = [e.text for e in page.timeline if e.text.startswith("Finished")]
    assert finished and not any("score change" in t for t in finished), finished


def test_the_mood_summary_counts_a_check_in_the_timeline_shows(
    built_warehouse: Path, tmp_path: Path
) -> None:
    """A check-in recorded after the school's last register mark (the web app's capture
    this term) is on the timeline; the mood summary, read from weeks up to that mark,
    ignored it. It says what has come in since."""
    import shutil

    path = tmp_path / "copy.duckdb"
    shutil.copy(built_warehouse, path)
    con = duckdb.connect(str(path))
    pupil, school, as_of = con.execute(
        "select o.pupil_key, o.school_urn, a.as_of_date from core.fct_observation as o "
        "inner join marts.school_as_of as a on a.school_urn = o.school_urn "
        "where o.mood is not null order by o.pupil_key limit 1"
    ).fetchone() or (None, None, None)
    assert pupil is not None
    later = as_of + timedelta(days=60)
    con.execute(
        "insert into core.fct_observation select * replace ('later-1' as observation_id, "
        "? as observed_on, 2 as mood) from core.fct_observation where pupil_key = ? "
        "and mood is not null order by observed_on desc limit 1",
        [later, pupil],
    )
    picture = pupil_picture(
        con, pupil, scope=PupilScope.school(school), cache=SchoolAnalyticsCache()
    )
    con.close()
    assert any(e.kind == "check_in" and e.day == later for e in picture.timeline)
    assert f"1 check-in since {day_text(as_of)}, on {day_text(later)} (mood 2 of 5)" in (
        picture.wellbeing.summary
    )


@pytest.mark.parametrize(
    ("code", "words"), [("R", "Reception"), ("N2", "Nursery second year"), ("4", "Year 4")]
)
def test_the_pupil_line_names_the_year_group_in_words(code: str, words: str) -> None:
    """A printed pupil page began "R; Education, Health and Care plan ..." for a child in
    Reception: the year group is said as staff say it."""
    from empowered.views.pupil import _status

    status = _status([{"year_group": code, "on_register": False, "sen_provision": "N"}])
    assert status.summary.startswith(f"{words}; not on the SEN register"), status
