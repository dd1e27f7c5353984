"""The pupil page's look back: lasting changes in mood and engagement, and each strategy's
before-and-after comparison (issue 15, item 6).

Both read one pupil's daily averages (``marts.wellbeing_pupil_day``) over the
``LOOK_BACK_DAYS`` up to the school's as-of date; the comparison also reads when each
strategy was first used with the child. Each part is read only when the policy lets the
user see it (``Section.PUPIL_CHANGES`` for the changes, ``Section.PUPIL_BEFORE_AFTER``
whose rule needs the wellbeing area too: they are mood figures about strategies).

The results are pseudonymous and the same for everyone allowed to see them, so they are
kept with the school's cached analytics (``SchoolAnalyticsCache.derived``) until the
school's inputs change: a page view after the first reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

from empowered.access.sections import Section
from empowered.analytics.before_after import BeforeAfter, before_after
from empowered.analytics.lasting_changes import MeasureChanges, lasting_changes
from empowered.views import PupilScope, queries
from empowered.views.cache import SchoolAnalyticsCache

LOOK_BACK_DAYS = 365
MEASURES = ("mood", "engagement")
CAVEAT = (
    "Each compares the school days before a strategy was first used with the days after. "
    "It is a comparison, not proof that the strategy caused the change: other things in the "
    "child's life and school change too."
)


@dataclass(frozen=True)
class PupilChanges:
    measures: tuple[MeasureChanges, ...] = ()  # empty: not shown to this user
    strategies: tuple[BeforeAfter, ...] = ()
    strategies_shown: bool = False
    strategies_summary: str = ""
    caveat: str = CAVEAT

    def markers(self) -> list[tuple[date, str]]:
        """Where the chart marks a lasting change: (first day of the new level, words)."""
        return [
            (c.starts_on, f"{c.measure} {'lower' if c.lower else 'higher'}")
            for m in self.measures
            for c in m.changes
        ]


def pupil_changes(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    *,
    scope: PupilScope,
    school: str,
    as_of: date,
    cache: SchoolAnalyticsCache,
) -> PupilChanges:
    changes_ok = scope.shows(Section.PUPIL_CHANGES)
    compare_ok = scope.shows(Section.PUPIL_BEFORE_AFTER)
    if not (changes_ok or compare_ok):
        return PupilChanges()
    return cache.derived(
        con,
        "pupil_changes",
        school,
        (pupil_key, as_of, changes_ok, compare_ok),
        lambda: _compute(con, pupil_key, scope, as_of, changes_ok, compare_ok),
    )


def _compute(
    con: duckdb.DuckDBPyConnection,
    pupil_key: str,
    scope: PupilScope,
    as_of: date,
    changes_ok: bool,
    compare_ok: bool,
) -> PupilChanges:
    rows = queries.rows(
        con,
        "pupil_wellbeing_days",
        scope=scope,
        pupil_key=pupil_key,
        since=as_of - timedelta(days=LOOK_BACK_DAYS),
        until=as_of,
    )
    found = {name: _changes(rows, name) for name in MEASURES}
    measures = tuple(found.values()) if changes_ok else ()
    if not compare_ok:
        return PupilChanges(measures)
    days, mood = _rated(rows, "mood")
    shifts = [c.starts_on for c in found["mood"].changes]
    starts = queries.rows(
        con, "pupil_strategy_starts", scope=scope, pupil_key=pupil_key, until=as_of
    )
    compared = tuple(
        before_after(
            str(s["strategy_code"]),
            str(s["strategy_name"]),
            s["first_used_on"],
            days,
            mood,
            level_changes=shifts,
        )
        for s in starts
    )
    return PupilChanges(tuple(measures), compared, True, _strategies_summary(compared))


def _rated(rows: list[dict[str, Any]], name: str) -> tuple[list[date], list[float]]:
    kept = [r for r in rows if r[f"{name}_mean"] is not None]
    return [r["observed_on"] for r in kept], [float(r[f"{name}_mean"]) for r in kept]


def _changes(rows: list[dict[str, Any]], name: str) -> MeasureChanges:
    return lasting_changes(name, *_rated(rows, name))


def _strategies_summary(compared: tuple[BeforeAfter, ...]) -> str:
    if not compared:
        return "No strategy uses recorded yet, so there is nothing to compare."
    judged = [c for c in compared if c.method is not None]
    if not judged:
        return (
            "Not enough days yet to compare mood before and after any strategy began: each "
            "needs at least two school weeks of check-ins on both sides."
        )
    clear = len([c for c in judged if c.clear])
    return (
        f"{len(judged)} of {len(compared)} strategies {'has' if len(judged) == 1 else 'have'} "
        f"enough days either side of their first use to compare; {clear or 'none'} "
        f"{'shows' if clear == 1 else 'show'} a clear change in mood."
    )
