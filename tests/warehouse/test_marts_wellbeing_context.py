"""marts.wellbeing_context against the same figures worked out in plain Python."""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import mean

import duckdb
import pytest

pytestmark = pytest.mark.slow


def test_context_moods_and_daily_differences_match_python(built: duckdb.DuckDBPyConnection) -> None:
    pupils = [
        r[0]
        for r in built.execute(
            "select pupil_key from core.fct_observation group by pupil_key "
            "order by count(*) desc, pupil_key limit 3"
        ).fetchall()
    ]
    rows = built.execute(
        "select pupil_key, academic_year, observed_on, activity, mood from core.fct_observation "
        "where pupil_key in (?, ?, ?) and academic_year is not null and activity is not null",
        pupils,
    ).fetchall()
    all_rows = built.execute(
        "select pupil_key, academic_year, observed_on, mood from core.fct_observation "
        "where pupil_key in (?, ?, ?) and academic_year is not null",
        pupils,
    ).fetchall()
    day_all: dict[tuple[str, str, object], list[float]] = defaultdict(list)
    for p, y, d, m in all_rows:
        if m is not None:
            day_all[(p, y, d)].append(float(m))
    here: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    day_here: dict[tuple[str, str, str, object], list[float]] = defaultdict(list)
    for p, y, d, a, m in rows:
        if m is not None:
            here[(p, y, a)].append(float(m))
            day_here[(p, y, a, d)].append(float(m))
    diffs: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for (p, y, a, d), values in day_here.items():
        every = day_all[(p, y, d)]
        if len(every) > len(values):
            others = sum(every) - sum(values)
            diffs[(p, y, a)].append(mean(values) - others / (len(every) - len(values)))
    mart = built.execute(
        "select pupil_key, academic_year, context_value, mood_observations, mood_mean, "
        "days_compared, mood_day_difference_mean from marts.wellbeing_context "
        "where context_dimension = 'activity' and pupil_key in (?, ?, ?)",
        pupils,
    ).fetchall()
    assert mart
    for p, y, a, n, m, days, diff in mart:
        values = here[(p, y, a)]
        assert n == len(values)
        if values:
            assert m == pytest.approx(mean(values))
        assert days == len(diffs[(p, y, a)])
        if diffs[(p, y, a)]:
            assert diff == pytest.approx(mean(diffs[(p, y, a)]))
        else:
            assert diff is None or math.isnan(diff)


def test_one_row_per_context(built: duckdb.DuckDBPyConnection) -> None:
    dupes = built.execute(
        "select count(*) from (select pupil_key, school_urn, academic_year, context_dimension, "
        "context_value from marts.wellbeing_context group by all having count(*) > 1)"
    ).fetchone()
    assert dupes == (0,)
