"""The triggers page service: stable trigger ids, the review log and the status it gives."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from empowered.access.store import ensure_access_tables
from empowered.views import PupilScope
from empowered.views.cache import SchoolAnalyticsCache
from empowered.views.home import attention
from empowered.views.triggers import (
    DECISIONS,
    ReviewError,
    TriggerFilters,
    add_review,
    find_card,
    id_of,
    parse_review,
    trigger_id,
    triggers_page,
)


def test_the_trigger_id_depends_only_on_school_pupil_rule_and_first_day() -> None:
    a = trigger_id("100001", "Pabc", "national_10_in_10", date(2026, 3, 2))
    assert a == trigger_id("100001", "Pabc", "national_10_in_10", date(2026, 3, 2))
    assert a != trigger_id("100001", "Pabc", "national_10_in_10", date(2026, 3, 9))
    assert a != trigger_id("100002", "Pabc", "national_10_in_10", date(2026, 3, 2))
    assert "Pabc" not in a and "100001" not in a


@pytest.mark.slow
def test_ids_and_reviews_survive_a_rebuild(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    from empowered.warehouse.build import build_duckdb

    con = warehouse_copy
    ensure_access_tables(con)
    school = str(con.execute("select min(school_urn) from core.dim_school").fetchone()[0])  # type: ignore[index]
    scope = PupilScope.school(school)
    before = {id_of(q) for q in SchoolAnalyticsCache().review_queue(con, school)}
    assert before
    card = find_card(con, sorted(before)[0], scope=scope, cache=SchoolAnalyticsCache())
    assert card is not None and card.status == "new"
    add_review(con, card, parse_review("acknowledged", {}), user_id=1, username="dsl")

    assert build_duckdb(con).ok
    after = {id_of(q) for q in SchoolAnalyticsCache().review_queue(con, school)}
    assert after == before
    again = find_card(con, card.trigger_id, scope=scope, cache=SchoolAnalyticsCache())
    assert again is not None and again.status == "acknowledged"
    assert again.events[0].username == "dsl"


def test_status_follows_the_log_and_a_decision_leaves_the_open_queue(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    ensure_access_tables(con)
    cache = SchoolAnalyticsCache()
    school = str(con.execute("select min(school_urn) from core.dim_school").fetchone()[0])  # type: ignore[index]
    scope = PupilScope.school(school)
    page = triggers_page(con, scope=scope, cache=cache, school_urn=school)
    assert page.cards and all(c.status == "new" for c in page.cards)
    card = page.cards[0]
    assert card.name, "identified staff see the pupil's name"
    assert card.item.evidence and "Worth a conversation" in card.item.summary

    # Acknowledging twice leaves one entry.
    assert add_review(con, card, parse_review("acknowledged", {}), user_id=1, username="dsl")
    card = find_card(con, card.trigger_id, scope=scope, cache=cache)
    assert card is not None and card.status == "acknowledged"
    assert not add_review(con, card, parse_review("acknowledged", {}), user_id=1, username="dsl")

    action = parse_review(
        "action_added", {"action": "Call home", "owner": "DSL", "due": "2026-12-01"}
    )
    add_review(con, card, action, user_id=1, username="dsl")
    card = find_card(con, card.trigger_id, scope=scope, cache=cache)
    assert card is not None and card.status == "action_open"
    assert card.actions[0].action_due == date(2026, 12, 1)

    decision = parse_review("decision_recorded", {"decision": "discuss_with_family"})
    add_review(con, card, decision, user_id=1, username="dsl")
    card = find_card(con, card.trigger_id, scope=scope, cache=cache)
    assert card is not None and card.status == "decided"
    assert card.decision == DECISIONS["discuss_with_family"]
    assert [e.kind for e in card.events] == ["acknowledged", "action_added", "decision_recorded"]

    open_ids = {
        c.trigger_id
        for c in triggers_page(
            con, scope=scope, cache=cache, school_urn=school, per_page=100_000
        ).cards
    }
    assert card.trigger_id not in open_ids
    decided = triggers_page(
        con, scope=scope, cache=cache, school_urn=school, filters=TriggerFilters("decided")
    )
    assert [c.trigger_id for c in decided.cards] == [card.trigger_id]
    assert decided.cards[0].events == card.events


def test_home_shows_the_review_status_and_drops_decided_triggers(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    ensure_access_tables(con)
    cache = SchoolAnalyticsCache()
    school = str(con.execute("select min(school_urn) from core.dim_school").fetchone()[0])  # type: ignore[index]
    scope = PupilScope.school(school)
    triggers = [i for i in attention(con, scope=scope, cache=cache) if i.kind == "trigger"]
    assert triggers and all(any(e.startswith("Review: New") for e in i.evidence) for i in triggers)
    first, second = triggers[0], triggers[1]
    cards = {
        (c.item.pupil_key, c.item.label, c.item.fired_on): c
        for c in triggers_page(
            con, scope=scope, cache=cache, school_urn=school, per_page=100_000
        ).cards
    }
    one = cards[(first.pupil_key, first.title, first.day)]
    two = cards[(second.pupil_key, second.title, second.day)]
    add_review(con, one, parse_review("acknowledged", {}), user_id=1, username="dsl")
    add_review(
        con,
        two,
        parse_review("decision_recorded", {"decision": "no_further_action"}),
        user_id=1,
        username="dsl",
    )
    after = [i for i in attention(con, scope=scope, cache=cache) if i.kind == "trigger"]
    mine = [
        i
        for i in after
        if (i.pupil_key, i.title, i.day) == (first.pupil_key, first.title, first.day)
    ]
    assert mine and any(e.startswith("Review: Acknowledged") for e in mine[0].evidence)
    assert not [
        i
        for i in after
        if (i.pupil_key, i.title, i.day) == (second.pupil_key, second.title, second.day)
    ]
    assert len(after) == len(triggers) - 1


def test_a_trigger_outside_the_scope_is_not_found(
    built: duckdb.DuckDBPyConnection, schools: list[str], cache: SchoolAnalyticsCache
) -> None:
    elsewhere = cache.review_queue(built, schools[1])[0]
    assert (
        find_card(built, id_of(elsewhere), scope=PupilScope.school(schools[0]), cache=cache) is None
    )
    assert find_card(built, id_of(elsewhere), scope=PupilScope.school(schools[1]), cache=cache)
    assert find_card(built, "t000", scope=PupilScope.school(schools[1]), cache=cache) is None


def test_review_forms_are_checked_field_by_field() -> None:
    with pytest.raises(ReviewError) as err:
        parse_review("action_added", {"action": " ", "due": "next week"})
    assert set(err.value.errors) == {"action", "due"}
    with pytest.raises(ReviewError) as err:
        parse_review("decision_recorded", {"decision": "close the case"})
    assert set(err.value.errors) == {"decision"}
    ok = parse_review("decision_recorded", {"decision": "early_help", "note": "  agreed  "})
    assert ok.decision == "early_help" and ok.note == "agreed"
