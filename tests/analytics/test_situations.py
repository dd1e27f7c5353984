from __future__ import annotations

from datetime import date

from empowered.analytics.situations import (
    ContextMood,
    ContextRate,
    behaviour_after_antecedent,
    harder_situations,
    scatterplot,
    standing_out,
)


def rate(
    pupil: str,
    value: str,
    incidents: int,
    hours: float,
    total: int,
    total_hours: float,
    dimension: str = "activity",
) -> ContextRate:
    return ContextRate(
        pupil, "100001", "2025/26", dimension, value, value, incidents, hours, total, total_hours
    )


def test_a_context_with_far_more_incidents_per_hour_stands_out() -> None:
    rows = [rate("A", "lunch", 20, 10.0, 30, 110.0), rate("A", "maths", 4, 40.0, 30, 110.0)]
    rows += [rate(f"B{i}", "lunch", 3, 10.0, 30, 110.0) for i in range(30)]
    found = {(h.pupil_key, h.value): h for h in harder_situations(rows)}
    lunch = found[("A", "lunch")]
    assert lunch.stands_out
    assert lunch.comparison.ratio == (20 / 10) / (10 / 100)
    assert "20 incidents in about 10 hours" in lunch.summary
    assert not found[("A", "maths")].stands_out
    assert not any(h.stands_out for (p, _), h in found.items() if p != "A")


def test_the_pages_form_keeps_the_situations_that_stand_out_with_their_sentences() -> None:
    rows = [rate("A", "lunch", 20, 10.0, 30, 110.0), rate("A", "maths", 4, 40.0, 30, 110.0)]
    rows += [rate(f"B{i}", "lunch", 3, 10.0, 30, 110.0) for i in range(30)]
    rows += [rate("C", "18", 20, 10.0, 30, 110.0, dimension="time_slot")]
    found = harder_situations(rows)
    shown = standing_out(found)
    assert [(h.pupil_key, h.dimension, h.value, h.summary) for h in shown] == [
        (h.pupil_key, h.dimension, h.value, h.summary) for h in found if h.stands_out
    ]
    assert {h.pupil_key for h in shown} == {"A", "C"} and all(h.stands_out for h in shown)
    # The scatterplot flags the same slot from either form.
    days, slots = [date(2026, 3, 2)], [(18, "09:00"), (19, "09:30")]
    full = scatterplot([], days=days, slots=slots, harder=[h for h in found if h.pupil_key == "C"])
    plain = scatterplot([], days=days, slots=slots, harder=[h for h in shown if h.pupil_key == "C"])
    assert full.flagged_slots == plain.flagged_slots == (18,)
    assert full.summary == plain.summary


def test_too_few_incidents_are_not_compared() -> None:
    assert harder_situations([rate("A", "lunch", 2, 1.0, 4, 100.0)]) == []


def test_behaviour_after_antecedent_sits_beside_the_usual_rate() -> None:
    incidents = [{"antecedent": "transition", "behaviour": "leaving_area"}] * 6
    incidents += [{"antecedent": "transition", "behaviour": "refusal"}] * 3
    incidents += [{"antecedent": "demand", "behaviour": "refusal"}] * 21
    found = {(r.antecedent, r.behaviour): r for r in behaviour_after_antecedent(incidents)}
    r = found[("transition", "leaving_area")]
    assert (r.given.successes, r.given.n) == (6, 9)
    assert (r.usual.successes, r.usual.n) == (6, 30)
    assert r.summary.startswith("After transition, leaving area 6 of 9 times (67%")
    assert "against 20% of all" in r.summary


def test_scatterplot_counts_by_slot_and_day() -> None:
    days = [date(2026, 3, 2), date(2026, 3, 3)]
    slots = [(18, "09:00"), (19, "09:30")]
    incidents = [
        {"time_slot": 18, "occurred_on": days[0]},
        {"time_slot": 18, "occurred_on": days[0]},
        {"time_slot": 19, "occurred_on": days[1]},
        {"time_slot": 30, "occurred_on": days[1]},  # outside the slots shown
    ]
    grid = scatterplot(incidents, days=days, slots=slots)
    assert grid.counts.tolist() == [[2, 0], [0, 1]]
    assert "no time of day stands out" in grid.summary


def mood(pupil: str, value: str, days: int, difference: float, sd: float = 0.6) -> ContextMood:
    return ContextMood(
        pupil,
        "100001",
        "2025/26",
        "activity",
        value,
        days * 2,
        3.0 + difference,
        0.8,
        days * 6,
        3.0,
        0.8,
        days,
        difference,
        sd,
    )


def test_a_context_where_mood_is_lower_on_the_same_days_stands_out_without_incidents() -> None:
    moods = [mood("A", "lunch", 30, -0.9)] + [mood(f"B{i}", "lunch", 30, 0.05) for i in range(30)]
    found = {h.pupil_key: h for h in harder_situations([], moods)}
    assert found["A"].stands_out and found["A"].comparison is None
    assert found["A"].mood is not None and found["A"].mood.days_compared == 30
    assert "0.9 lower here on average, over 30 days" in found["A"].summary
    assert not any(h.stands_out for p, h in found.items() if p != "A")


def test_a_small_mood_difference_is_not_worth_flagging_even_when_certain() -> None:
    found = harder_situations([], [mood("A", "lunch", 150, -0.3, sd=0.2)])
    assert found[0].mood is not None and found[0].mood.p_value < 1e-6
    assert not found[0].stands_out


def test_mood_elsewhere_is_recovered_from_the_year_totals() -> None:
    m = ContextMood("A", "1", "2025/26", "activity", "lunch", 2, 2.0, 0.0, 4, 3.0, 1.1547, 0, 0, 0)
    n, mean, sd = m.elsewhere()
    assert (n, mean) == (2, 4.0)
    assert abs(sd) < 1e-3  # the other two check-ins were both 4
