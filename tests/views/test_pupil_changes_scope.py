"""The look-back sections read nothing the user may not see: the before-and-after figures
are mood (wellbeing) about strategies, so they need both areas (issue 15, item 6)."""

from __future__ import annotations

import duckdb
import pytest

from empowered.access.sections import Section
from empowered.views import PupilScope
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.pupil_changes import pupil_changes

BOTH = frozenset({Section.PUPIL_CHANGES, Section.PUPIL_BEFORE_AFTER})


@pytest.fixture(scope="module")
def pupil(built: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    found = built.execute(
        "select d.pupil_key, d.school_urn from marts.wellbeing_pupil_day as d "
        "inner join marts.strategy_use_outcome as u using (pupil_key) "
        "group by 1, 2 order by count(distinct d.observed_on) desc, 1 limit 1"
    ).fetchone()
    assert found
    return str(found[0]), str(found[1])


@pytest.mark.parametrize(
    ("sections", "areas", "changes", "compared"),
    [
        (BOTH, frozenset({"wellbeing", "strategies"}), True, True),
        # Strategies without wellbeing: the policy grants neither section (its rule needs
        # both areas; test_sections.py walks such a visitor), so no mood is read.
        (frozenset(), frozenset({"strategies"}), False, False),
        (frozenset({Section.PUPIL_CHANGES}), frozenset({"wellbeing"}), True, False),
        (frozenset(), None, False, False),
    ],
)
def test_each_part_is_read_only_when_the_policy_allows_it(
    built: duckdb.DuckDBPyConnection,
    pupil: tuple[str, str],
    sections: frozenset[str],
    areas: frozenset[str] | None,
    changes: bool,
    compared: bool,
) -> None:
    key, school = pupil
    as_of = built.execute(
        "select as_of_date from marts.school_as_of where school_urn = ?", [school]
    ).fetchone()
    assert as_of
    scope = PupilScope(frozenset({school}), None, False, sections=sections, areas=areas)
    found = pupil_changes(
        built, key, scope=scope, school=school, as_of=as_of[0], cache=SchoolAnalyticsCache()
    )
    assert bool(found.measures) is changes
    assert found.strategies_shown is compared
    assert bool(found.strategies) is compared
