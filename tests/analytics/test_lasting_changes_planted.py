"""The synthetic trust's planted mood declines, found by the pupil page's look back, and
few changes said of the other children (ANALYTICS.md section 6)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb

from empowered.analytics.lasting_changes import lasting_changes
from empowered.sources.pseudonyms import pupil_key
from identity_keys import TEST_SECRET


def test_planted_declines_are_dated_and_other_children_left_alone(
    small_trust: Path, built: duckdb.DuckDBPyConnection
) -> None:
    manifest = json.loads((small_trust / "manifest.json").read_text())
    planted = {
        pupil_key(p["upn"], TEST_SECRET): date.fromisoformat(p["start_date"])
        for p in manifest["patterns"]
        if p["kind"] == "mood_decline"
    }
    days: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for key, day, mood in built.execute(
        "select pupil_key, observed_on, mood_mean from marts.wellbeing_pupil_day "
        "where mood_mean is not null order by 1, 2"
    ).fetchall():
        days[key].append((day, mood))
    found, others = 0, 0
    for key, series in days.items():
        result = lasting_changes("mood", [d for d, _ in series], [m for _, m in series])
        if key in planted:
            school_days = [d for d, _ in series]
            start = next(i for i, d in enumerate(school_days) if d >= planted[key])
            found += any(
                c.lower and abs(school_days.index(c.starts_on) - start) <= 3 for c in result.changes
            )
        else:
            others += bool(result.changes)
    assert planted and found >= len(planted) - 1, (found, len(planted))
    assert others <= 0.05 * (len(days) - len(planted)), others
