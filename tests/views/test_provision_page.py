"""The provision page: reach, cost and impact, suppressed for analysts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from empowered.views import PupilScope
from empowered.views.provision import provision_page


def test_a_school_sees_reach_cost_and_verdicts(
    built: duckdb.DuckDBPyConnection, schools: list[str]
) -> None:
    page = provision_page(built, scope=PupilScope.school(schools[0]))
    enrolled = built.execute(
        "select count(distinct pupil_key) from marts.provision_enrolment where school_urn = ?",
        [schools[0]],
    ).fetchone()
    assert enrolled is not None
    assert int(page.by_area.counts[:, 0].sum()) >= enrolled[0]  # a pupil may be in two areas
    assert [s.school_urn for s in page.schools] == [schools[0]]
    verdicts = page.keep + page.review + page.too_early
    assert verdicts and all(i.school_urn == schools[0] and i.evidence for i in verdicts)
    assert {i.verdict for i in page.keep} <= {"keep"}
    assert {i.verdict for i in page.review} <= {"review"}


def test_the_analyst_sees_no_small_count(
    built: duckdb.DuckDBPyConnection,
    schools: list[str],
    analyst: PupilScope,
    disclosures: Callable[[Any], list[str]],
) -> None:
    for scope in (analyst, PupilScope.trust_analyst(schools[:1])):
        page = provision_page(built, scope=scope)
        assert disclosures(page) == []
