from __future__ import annotations

from datetime import date

from empowered.analytics.early_signs import Alert
from empowered.analytics.triggers import QueueItem, combined_items, fired_rule_items


def alert(pupil: str, indicator: str, start: date, end: date) -> Alert:
    return Alert(pupil, "1", indicator, "rule", start, end, 3.5, 2.1, 40, f"{indicator} fell")


RULES = [
    {
        "rule_id": "falling_attendance_and_mood",
        "label": "Attendance and mood both falling",
        "kind": "combined",
        "components": "attendance_decline, mood_decline",
        "enabled": True,
    },
    {
        "rule_id": "national_10_in_10",
        "label": "10 unauthorised in 10 weeks",
        "kind": "unauthorised_sessions",
        "components": None,
        "enabled": True,
    },
]


def test_combined_rule_fires_when_both_signs_are_seen_together() -> None:
    alerts = [
        alert("A", "attendance", date(2026, 1, 5), date(2026, 1, 20)),
        alert("A", "mood", date(2026, 1, 26), date(2026, 2, 3)),
        alert("B", "mood", date(2026, 1, 5), date(2026, 1, 9)),
        alert("C", "attendance", date(2025, 10, 1), date(2025, 10, 3)),
        alert("C", "mood", date(2026, 3, 1), date(2026, 3, 5)),  # months apart: no
    ]
    items = combined_items(RULES, [], alerts)
    assert [(i.pupil_key, i.fired_on) for i in items] == [("A", date(2026, 1, 26))]
    assert items[0].evidence == ("attendance fell", "mood fell")
    assert "Worth a conversation" in items[0].summary


def test_fired_rules_carry_their_evidence() -> None:
    row = {
        "pupil_key": "A",
        "school_urn": "1",
        "rule_id": "national_10_in_10",
        "rule_label": "10 unauthorised sessions in 10 school weeks",
        "kind": "unauthorised_sessions",
        "first_fired_on": date(2026, 3, 13),
        "last_fired_on": date(2026, 4, 3),
        "value_at_first": 12,
        "peak_value": 14,
        "latest_value": 3,
        "threshold": 10,
        "window_start": date(2026, 1, 5),
        "window_end": date(2026, 3, 13),
        "weeks_fired": 4,
        "is_active": False,
    }
    (item,) = fired_rule_items([row])
    assert item.evidence[0] == (
        "12 unauthorised sessions between 5 January 2026 and 13 March 2026 "
        "(the rule's threshold is 10)."
    )
    assert "no longer active" in item.summary
    disabled = [dict(RULES[0], enabled=False)]
    assert combined_items(disabled, [item], []) == []
    assert isinstance(item, QueueItem)


def test_the_schools_own_wording_is_used_for_the_evidence() -> None:
    row = {
        "pupil_key": "A",
        "school_urn": "1",
        "rule_id": "persistent_absence_term",
        "rule_label": "Missed 10% or more this term",
        "kind": "absence_rate",
        "first_fired_on": date(2025, 10, 10),
        "last_fired_on": date(2025, 12, 19),
        "value_at_first": 0.125,
        "peak_value": 0.2,
        "latest_value": 0.18,
        "threshold": 0.1,
        "window_start": date(2025, 9, 3),
        "window_end": date(2025, 10, 10),
        "weeks_fired": 10,
        "is_active": True,
        "wording": "missed {value} of possible sessions this term, from {window_start} to "
        "{window_end} (persistent absence is {threshold} or more)",
    }
    (item,) = fired_rule_items([row])
    assert item.evidence[0] == (
        "Missed 12% of possible sessions this term, from 3 September 2025 to 10 October 2025 "
        "(persistent absence is 10% or more)."
    )
    assert "still active" in item.summary
