"""The pupil page on the built small trust, and its timeline on hand data."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from empowered.analytics.early_signs import Alert
from empowered.analytics.wording import day_text
from empowered.identity import IdentityReader
from empowered.views import PupilScope
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.pupil import PupilPicture, pupil_charts, pupil_picture
from empowered.views.timeline import build_timeline
from identity_keys import TEST_KEYS


@pytest.fixture(scope="module")
def busy_pupil(built: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """A pupil on the register with plans, incidents and assessments (a full page)."""
    row = built.execute(
        """
        select r.pupil_key, r.school_urn
        from marts.register_pupil as r
        where r.on_register and r.has_current_plan
            and exists (select 1 from marts.behaviour_incident i where i.pupil_key = r.pupil_key)
            and exists (select 1 from marts.learning_assessment a where a.pupil_key = r.pupil_key)
        order by
            (select count(*) from marts.behaviour_incident i where i.pupil_key = r.pupil_key)
                desc,
            r.pupil_key
        limit 1
        """
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


@pytest.fixture(scope="module")
def picture(
    built: duckdb.DuckDBPyConnection, busy_pupil: tuple[str, str], cache: SchoolAnalyticsCache
) -> PupilPicture:
    pupil, school = busy_pupil
    return pupil_picture(built, pupil, scope=PupilScope.school(school), cache=cache)


def test_identity_only_for_identified_scopes(
    built: duckdb.DuckDBPyConnection,
    busy_pupil: tuple[str, str],
    picture: PupilPicture,
    cache: SchoolAnalyticsCache,
) -> None:
    pupil, school = busy_pupil
    upn = built.execute(
        "select upn from core.pupil_identity where pupil_key = ?", [pupil]
    ).fetchone()
    assert picture.identity is not None and upn is not None
    # Stored encrypted; the page shows it decrypted to a scope allowed to see it.
    assert upn[0].startswith("enc1:")
    assert picture.identity.upn == IdentityReader(TEST_KEYS).upn(upn[0])
    hidden = pupil_picture(
        built, pupil, scope=PupilScope.school(school, identified=False), cache=cache
    )
    assert hidden.identity is None
    assert upn[0] not in repr(hidden)


def test_every_section_reads_the_pupils_own_rows(
    built: duckdb.DuckDBPyConnection, busy_pupil: tuple[str, str], picture: PupilPicture
) -> None:
    pupil, school = busy_pupil
    assert picture.school_urn == school
    assert picture.status.on_roll and picture.status.sen_provision in ("K", "E")
    assert any(p.is_current for p in picture.plans.plans)
    incidents = built.execute(
        "select count(*) from marts.behaviour_incident where pupil_key = ? and occurred_on <= ?",
        [pupil, picture.as_of],
    ).fetchone()
    assert incidents is not None and picture.behaviour.incidents_total == incidents[0]
    assert all(r["occurred_on"] <= picture.as_of for r in picture.behaviour.recent)
    assert all(e.pupil_key == pupil for e in picture.what_helps.effects)
    assert all(h.pupil_key == pupil for h in picture.harder.situations)
    assert picture.harder.grid.counts.shape == (
        len(picture.harder.grid.slots),
        len(picture.harder.grid.days),
    )
    assert len(picture.early_signs.view.indicators) == 5
    assert picture.attendance.weekly and picture.wellbeing.mood
    for section in (
        picture.status, picture.plans, picture.provision, picture.attendance,
        picture.wellbeing, picture.behaviour, picture.what_helps, picture.harder,
        picture.early_signs, picture.assessments,
    ):  # fmt: skip
        assert section.summary.strip()


def test_the_timeline_mixes_kinds_newest_first(picture: PupilPicture) -> None:
    events = picture.timeline
    kinds = {e.kind for e in events}
    assert {"incident", "assessment", "plan"} <= kinds
    days = [e.day for e in events]
    assert days == sorted(days, reverse=True)
    assert all(d <= picture.as_of for d in days)


def test_school_analytics_are_computed_once_per_build(
    built: duckdb.DuckDBPyConnection, busy_pupil: tuple[str, str]
) -> None:
    pupil, school = busy_pupil
    cache = SchoolAnalyticsCache()
    first = pupil_picture(built, pupil, scope=PupilScope.school(school), cache=cache)
    computed = cache.computed
    assert computed == 3  # what helps, harder situations, the school's early signs
    second = pupil_picture(built, pupil, scope=PupilScope.school(school), cache=cache)
    assert cache.computed == computed
    assert first.what_helps == second.what_helps


def test_the_schools_timetable_and_days_are_read_once_per_build(
    built: duckdb.DuckDBPyConnection,
    busy_pupil: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a build changes a school's timetabled day and school days: a second pupil page
    of the school reads neither again (issue 11: fewer queries a pupil page)."""
    from empowered.views import queries

    pupil, school = busy_pupil
    other = built.execute(
        "select pupil_key from marts.register_pupil where school_urn = ? and pupil_key <> ? "
        "order by 1 limit 1",
        [school, pupil],
    ).fetchone()
    assert other is not None
    asked: list[str] = []
    real = queries.rows

    def counted(con: duckdb.DuckDBPyConnection, name: str, **kwargs: object) -> list[dict]:
        asked.append(name)
        return real(con, name, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(queries, "rows", counted)
    cache = SchoolAnalyticsCache()
    first = pupil_picture(built, pupil, scope=PupilScope.school(school), cache=cache)
    assert asked.count("school_time_slots") == asked.count("school_days") == 1
    asked.clear()
    again = pupil_picture(built, pupil, scope=PupilScope.school(school), cache=cache)
    pupil_picture(built, str(other[0]), scope=PupilScope.school(school), cache=cache)
    assert "school_time_slots" not in asked and "school_days" not in asked
    fresh = pupil_picture(built, pupil, scope=PupilScope.school(school))
    for grid in (again.harder.grid, fresh.harder.grid):
        assert (grid.slots, grid.slot_labels, grid.days) == (
            first.harder.grid.slots,
            first.harder.grid.slot_labels,
            first.harder.grid.days,
        )
        assert (grid.counts == first.harder.grid.counts).all()
    assert first.harder.grid.slots and first.harder.grid.days


def test_timeline_on_hand_data_orders_days_then_kinds() -> None:
    alert = Alert("P1", "100001", "mood", "mood below usual", date(2026, 3, 9),
                  date(2026, 3, 12), 3.5, 2.4, 30, "Mood lower.")  # fmt: skip
    events = build_timeline(
        as_of=date(2026, 3, 20),
        plans=[{"plan_type": "ehc_plan", "start_date": date(2025, 9, 1), "end_date": None}],
        incidents=[
            {"occurred_on": date(2026, 3, 9), "behaviour": "shutdown", "antecedent": "noise",
             "activity": None, "activity_label": None},
            {"occurred_on": date(2026, 4, 1), "behaviour": "later", "antecedent": None,
             "activity": None, "activity_label": None},
        ],  # fmt: skip
        assessments=[{"assessed_on": date(2026, 1, 10), "subject": "reading",
                      "assessment": "termly", "value": 92.0, "change_since_previous": -8.0}],
        alerts=[alert],
    )  # fmt: skip
    assert [(e.day, e.kind) for e in events] == [
        (date(2026, 3, 9), "alert"),
        (date(2026, 3, 9), "incident"),
        (date(2026, 1, 10), "assessment"),
        (date(2025, 9, 1), "plan"),
    ]
    assert "after noise" in events[1].text and "-8" in events[2].text


def test_pupil_charts_table_the_pages_own_series(picture: PupilPicture) -> None:
    charts = pupil_charts(picture)
    assert {"attendance", "wellbeing", "scatterplot"} <= set(charts)
    weeks = [day_text(d) for d, _ in picture.wellbeing.mood]
    assert [r[0] for r in charts["wellbeing"].table_rows] == weeks
    grid = picture.harder.grid
    assert [[int(c) for c in r[1:]] for r in charts["scatterplot"].table_rows] == (
        grid.counts.tolist()
    )
    for chart in charts.values():
        assert chart.svg.startswith("<svg") and 'role="img"' in chart.svg
