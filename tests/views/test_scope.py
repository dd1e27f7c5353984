"""The scope contract: filtering in SQL with bound parameters, and refusing out-of-scope pupils."""

from __future__ import annotations

import duckdb
import pytest

from empowered.views import OutOfScope, PupilScope, count_table, needs_suppression, scope_filter
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.pupil import pupil_picture


def test_scope_filter_binds_keys_with_quotes_as_parameters() -> None:
    con = duckdb.connect()
    con.execute("create table t (pupil_key varchar, school_urn varchar)")
    con.executemany(
        "insert into t values (?, ?)",
        [["o'brien'); drop table t; --", "100001"], ["plain", "100001"], ["other", "100002"]],
    )
    condition, params = scope_filter(
        PupilScope(frozenset({"100001"}), frozenset({"o'brien'); drop table t; --"}), True)
    )
    assert "o'brien" not in condition
    found = con.execute(f"select pupil_key from t where {condition}", params).fetchall()
    assert found == [("o'brien'); drop table t; --",)]
    everyone, params = scope_filter(PupilScope(None, None, True))
    assert len(con.execute(f"select * from t where {everyone}", params).fetchall()) == 3
    nobody, params = scope_filter(PupilScope(frozenset(), None, True))
    assert con.execute(f"select * from t where {nobody}", params).fetchall() == []


def test_scope_filter_refuses_anything_but_a_column_name() -> None:
    with pytest.raises(ValueError):
        scope_filter(PupilScope(None, None, True), pupil_column="1; drop table t")


def test_only_a_single_schools_identified_staff_skip_suppression() -> None:
    assert not needs_suppression(PupilScope.school("100001"))
    assert needs_suppression(PupilScope.school("100001", identified=False))
    assert needs_suppression(PupilScope(frozenset({"100001", "100002"}), None, True))
    assert needs_suppression(PupilScope(None, None, True))
    senco = count_table(PupilScope.school("100001"), [3, 10], row_labels=("a", "b"))
    analyst = count_table(PupilScope.trust_analyst(), [3, 10], row_labels=("a", "b"))
    assert senco.display(0) == "3"
    assert analyst.display(0) == "c" and analyst.display(1) == "c"


def test_a_pupil_outside_the_scope_raises(
    built: duckdb.DuckDBPyConnection, schools: list[str], cache: SchoolAnalyticsCache
) -> None:
    other = built.execute(
        "select pupil_key from core.dim_pupil where school_urn = ? limit 1", [schools[1]]
    ).fetchone()
    assert other is not None
    with pytest.raises(OutOfScope) as raised:
        pupil_picture(built, other[0], scope=PupilScope.school(schools[0]), cache=cache)
    assert raised.value.pupil_key == other[0]
    with pytest.raises(OutOfScope):
        pupil_picture(built, "no-such-pupil", scope=PupilScope(None, None, True), cache=cache)
    mine = built.execute(
        "select pupil_key from core.dim_pupil where school_urn = ? order by 1 limit 2",
        [schools[0]],
    ).fetchall()
    class_scope = PupilScope(frozenset({schools[0]}), frozenset({mine[0][0]}), True)
    with pytest.raises(OutOfScope):
        pupil_picture(built, mine[1][0], scope=class_scope, cache=cache)
    assert pupil_picture(built, mine[0][0], scope=class_scope, cache=cache).pupil_key == mine[0][0]
