"""Strategy marts: each use paired with the pupil's mood at the use and soon after, and the
per-pupil summary, checked against plain Python and on hand-built edge cases."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb
import pytest

from empowered.warehouse.engines import DuckDBEngine
from empowered.warehouse.models import discover_models
from empowered.warehouse.runner import run_models

LOOK_BACK, FOLLOW_UP = 10, 60


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def pair(use: dict[str, Any], same_day: list[dict[str, Any]]) -> dict[str, Any]:
    """The at-use and next check-ins for one use, by the rules in the model's header."""
    minute = use["used_minute"]
    before = [
        o
        for o in same_day
        if minute is not None and minute - LOOK_BACK <= o["observed_minute"] <= minute
    ]
    after = [
        o
        for o in same_day
        if minute is not None and minute < o["observed_minute"] <= minute + FOLLOW_UP
    ]
    at = max(before, key=lambda o: (o["observed_minute"], o["observation_id"]), default=None)
    nxt = min(after, key=lambda o: (o["observed_minute"], o["observation_id"]), default=None)
    mood_at = at["mood"] if at else None
    mood_next = nxt["mood"] if nxt else None
    both = mood_at is not None and mood_next is not None
    return {
        "at_use_observation_key": f"{at['school_urn']}:{at['observation_id']}" if at else None,
        "next_observation_key": f"{nxt['school_urn']}:{nxt['observation_id']}" if nxt else None,
        "mood_at_use": mood_at,
        "mood_next": mood_next,
        "engagement_at_use": at["engagement"] if at else None,
        "regulation_next": nxt["regulation"] if nxt else None,
        "minutes_to_next": nxt["observed_minute"] - minute if nxt else None,
        "mood_change": mood_next - mood_at if both else None,  # type: ignore[operator]
        "calmer": mood_next > mood_at if both else None,  # type: ignore[operator]
        "has_follow_up": nxt is not None,
    }


def test_use_outcome_matches_python(built: duckdb.DuckDBPyConnection) -> None:
    by_day: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for o in rows(built, "SELECT * FROM core.fct_observation"):
        by_day[(o["pupil_key"], o["school_urn"], o["observed_on"])].append(o)
    uses = rows(built, "SELECT * FROM core.fct_strategy_use")
    mart = {r["use_key"]: r for r in rows(built, "SELECT * FROM marts.strategy_use_outcome")}
    assert len(mart) == len(uses)
    strategies = {r["strategy_code"]: r for r in rows(built, "SELECT * FROM core.dim_strategy")}
    followed = 0
    for use in uses:
        row = mart[use["use_key"]]
        want = pair(use, by_day[(use["pupil_key"], use["school_urn"], use["used_on"])])
        assert {k: row[k] for k in want} == want, use["use_key"]
        for column in (
            "pupil_key",
            "school_urn",
            "used_on",
            "used_minute",
            "strategy_code",
            "outcome",
            "activity",
            "setting",
            "time_slot",
            "period_code",
        ):
            assert row[column] == use[column]
        assert row["strategy_name"] == strategies[use["strategy_code"]]["strategy_name"]
        assert row["strategy_category"] == strategies[use["strategy_code"]]["category"]
        followed += want["has_follow_up"]
    assert followed > 0


def test_pupil_summary_matches_python(built: duckdb.DuckDBPyConnection) -> None:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows(built, "SELECT * FROM marts.strategy_use_outcome"):
        groups[(r["pupil_key"], r["school_urn"], r["strategy_code"])].append(r)
    summary = {
        (r["pupil_key"], r["school_urn"], r["strategy_code"]): r
        for r in rows(built, "SELECT * FROM marts.strategy_pupil_summary")
    }
    assert summary.keys() == groups.keys()
    for key, uses in groups.items():
        row = summary[key]
        changes = [u["mood_change"] for u in uses if u["mood_change"] is not None]
        assert row["uses"] == len(uses)
        assert row["uses_with_follow_up"] == sum(u["has_follow_up"] for u in uses)
        assert row["uses_with_mood_change"] == len(changes)
        assert row["calmer_count"] == sum(1 for u in uses if u["calmer"])
        if changes:
            assert row["mean_mood_change"] == pytest.approx(sum(changes) / len(changes))
        else:
            assert row["mean_mood_change"] is None
        for outcome in ("helped", "partly", "not_helped"):
            assert row[f"recorded_{outcome}"] == sum(1 for u in uses if u["outcome"] == outcome)
        assert row["first_used_on"] == min(u["used_on"] for u in uses)
        assert row["last_used_on"] == max(u["used_on"] for u in uses)


def test_hand_built_pairs(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    con = warehouse_copy
    school, day, previous_day = con.execute(
        "SELECT school_urn, date_day, lag(date_day) OVER (PARTITION BY school_urn "
        "ORDER BY date_day) FROM core.dim_school_calendar WHERE is_school_day "
        "ORDER BY school_urn, date_day LIMIT 1 OFFSET 10"
    ).fetchone()  # type: ignore[misc]
    [(pupil, other_pupil)] = con.execute(
        "SELECT min(pupil_key), max(pupil_key) FROM core.fct_enrolment WHERE school_urn = ?",
        [school],
    ).fetchall()
    [(strategy,)] = con.execute("SELECT min(strategy_code) FROM core.dim_strategy").fetchall()
    con.execute("DELETE FROM core.fct_observation")
    con.execute("DELETE FROM core.fct_strategy_use")
    uses = [
        # use id, day, minute, outcome
        ("u_exact", day, 600, "helped"),  # a check-in exactly at the use; next 61 min later
        ("u_tie", day, 700, "partly"),  # two follow-ups at the same minute; two baselines too
        ("u_none", day, 800, "not_helped"),  # no check-in after it that day
        ("u_lookback", day, 900, None),  # baselines 10 (in) and 11 (out) minutes before
    ]
    observations = [
        # observation id, pupil, day, minute, mood
        ("o_at", pupil, day, 600, 2),
        ("o_61", pupil, day, 661, 5),  # 61 minutes after u_exact: outside the window
        ("o_base_b", pupil, day, 695, 2),
        ("o_base_a", pupil, day, 695, 1),  # same minute: the higher key (o_base_b) wins
        ("o_tie_b", pupil, day, 730, 4),
        ("o_tie_a", pupil, day, 730, 3),  # same minute: the lower key (o_tie_a) wins
        ("o_next_after_tie", pupil, day, 731, 5),
        ("o_yesterday", pupil, previous_day, 810, 5),  # the day before: never paired
        ("o_other_pupil", other_pupil, day, 810, 5),  # another child: never paired
        ("o_11_before", pupil, day, 889, 1),
        ("o_10_before", pupil, day, 890, 3),
        ("o_60_after", pupil, day, 960, None),  # exactly at the window's end, mood blank
    ]
    for obs_id, who, on, minute, mood in observations:
        con.execute(
            "INSERT INTO core.fct_observation (observation_id, pupil_key, "
            "school_urn, observed_on, observed_minute, academic_year, is_school_day, mood, "
            "engagement) SELECT ?, ?, school_urn, date_day, ?, academic_year, "
            "is_school_day, ?, 3 FROM core.dim_school_calendar "
            "WHERE school_urn = ? AND date_day = ?",
            [obs_id, who, minute, mood, school, on],
        )
    for use_id, on, minute, outcome in uses:
        con.execute(
            "INSERT INTO core.fct_strategy_use (use_key, use_id, pupil_key, school_urn, used_on, "
            "used_minute, academic_year, is_school_day, strategy_code, outcome) "
            "SELECT ?, ?, ?, school_urn, date_day, ?, academic_year, is_school_day, ?, ? "
            "FROM core.dim_school_calendar WHERE school_urn = ? AND date_day = ?",
            [f"{school}:{use_id}", use_id, pupil, minute, strategy, outcome, school, on],
        )
    result = run_models(
        DuckDBEngine(con),
        discover_models(),
        con,
        select={"marts.strategy_use_outcome", "marts.strategy_pupil_summary"},
    )
    assert result.ok, [r.message for r in result.failures()]
    got = {
        r["use_key"].split(":")[1]: (
            r["at_use_observation_key"] and r["at_use_observation_key"].split(":")[1],
            r["next_observation_key"] and r["next_observation_key"].split(":")[1],
            r["minutes_to_next"],
            r["mood_change"],
            r["calmer"],
            r["has_follow_up"],
        )
        for r in rows(con, "SELECT * FROM marts.strategy_use_outcome")
    }
    assert got == {
        "u_exact": ("o_at", None, None, None, None, False),
        "u_tie": ("o_base_b", "o_tie_a", 30, 1, True, True),
        "u_none": (None, None, None, None, None, False),
        "u_lookback": ("o_10_before", "o_60_after", 60, None, None, True),
    }
    [summary] = rows(con, "SELECT * FROM marts.strategy_pupil_summary")
    assert (summary["uses"], summary["uses_with_follow_up"], summary["uses_with_mood_change"]) == (
        4,
        2,
        1,
    )
    assert (summary["calmer_count"], summary["mean_mood_change"]) == (1, 1.0)
    assert (
        summary["recorded_helped"],
        summary["recorded_partly"],
        summary["recorded_not_helped"],
    ) == (1, 1, 1)
    assert summary["first_used_on"] == summary["last_used_on"] == day


def test_windows_are_stated_as_constants() -> None:
    sql = discover_models()["marts.strategy_use_outcome"].sql
    assert f"{LOOK_BACK} as look_back_minutes" in sql
    assert f"{FOLLOW_UP} as follow_up_minutes" in sql
