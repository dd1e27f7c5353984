"""The trigger rules file: checked with clear errors, stored in meta.trigger_rules before a
build, and an edit rebuilds the safeguarding mart on an incremental build."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from empowered.settings import Settings
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.models import SOURCE_SCHEMAS, discover_models
from empowered.warehouse.trigger_rules import (
    TABLE,
    AbsenceRateRule,
    TriggerRulesError,
    UnauthorisedSessionsRule,
    default_rules_path,
    load_trigger_rules,
    sync_trigger_rules,
)

GOOD_RULE = """
  - id: ten_in_ten
    label: 10 in 10
    kind: unauthorised_sessions
    parameters: {threshold: 10, window_school_weeks: 10}
    wording: "{value} unauthorised sessions (threshold {threshold})"
"""


def rules_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "my-rules.yml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_shipped_rules_hold_the_national_and_local_thresholds() -> None:
    rules = {r.id: r for r in load_trigger_rules()}
    national = rules["national_10_in_10"]
    assert isinstance(national, UnauthorisedSessionsRule)
    assert (national.parameters.threshold, national.parameters.window_school_weeks) == (10, 10)
    assert "August 2024" in (national.source or "")
    assert rules["local_20_in_term"].kind == "unauthorised_sessions_in_term"
    rates = {r.id: r for r in rules.values() if isinstance(r, AbsenceRateRule)}
    assert {r.parameters.threshold for r in rates.values()} == {0.1, 0.5}
    assert all(r.parameters.min_possible_sessions >= 10 for r in rates.values())
    assert {r.kind for r in rules.values()} == {
        "unauthorised_sessions",
        "unauthorised_sessions_in_term",
        "absence_rate",
        "suspensions",
        "combined",
    }


@pytest.mark.parametrize(
    ("body", "rule", "field"),
    [
        (
            GOOD_RULE.replace("threshold: 10,", "threshold: 0,"),
            "ten_in_ten",
            "parameters.threshold",
        ),
        (GOOD_RULE.replace("threshold: 10,", "threshold: ten,"), "ten_in_ten", "threshold"),
        (GOOD_RULE.replace("kind: unauthorised_sessions", "kind: mood"), "ten_in_ten", "kind"),
        (
            GOOD_RULE.replace(", window_school_weeks: 10", ""),
            "ten_in_ten",
            "parameters.window_school_weeks",
        ),
        (GOOD_RULE.replace("{value}", "{pupil_name}"), "ten_in_ten", "wording"),
        (GOOD_RULE.replace("    label: 10 in 10\n", ""), "ten_in_ten", "label"),
        (GOOD_RULE.replace("id: ten_in_ten", "id: Ten in ten"), "Ten in ten", "id"),
        (GOOD_RULE + GOOD_RULE, "ten_in_ten", "id"),
        (
            GOOD_RULE
            + """
  - id: both
    label: both
    kind: combined
    parameters: {all_of: [ten_in_ten, not_a_rule]}
    wording: both
""",
            "both",
            "not_a_rule",
        ),
        (
            """
  - id: rate
    label: rate
    kind: absence_rate
    parameters: {threshold: 10, period: term, min_possible_sessions: 20}
    wording: "{value}"
""",
            "rate",
            "parameters.threshold",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_the_file_rule_and_field(
    tmp_path: Path, body: str, rule: str, field: str
) -> None:
    path = rules_file(tmp_path, "rules:" + body)
    with pytest.raises(TriggerRulesError) as caught:
        load_trigger_rules(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"rule {rule!r}" in message
    assert field in message
    assert caught.value.rule_id == rule


@pytest.mark.parametrize("body", ["rules: [", "- a list", "rules: {}"])
def test_a_file_that_is_not_a_rules_list_is_refused(tmp_path: Path, body: str) -> None:
    path = rules_file(tmp_path, body)
    with pytest.raises(TriggerRulesError, match="my-rules.yml"):
        load_trigger_rules(path)


def test_a_missing_file_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(TriggerRulesError, match="absent.yml: cannot be read"):
        load_trigger_rules(tmp_path / "absent.yml")


def test_rules_are_stored_one_row_each_and_rewritten_only_when_they_change(
    tmp_path: Path,
) -> None:
    con = duckdb.connect()
    assert sync_trigger_rules(con) is True
    shipped = load_trigger_rules(default_rules_path())
    rows = con.execute(
        f"SELECT rule_id, kind, threshold, window_school_weeks, period, "
        f"min_possible_sessions, components, enabled FROM {TABLE} ORDER BY rule_id"
    ).fetchall()
    assert [r[0] for r in rows] == sorted(r.id for r in shipped)
    by_id = {r[0]: r for r in rows}
    assert by_id["national_10_in_10"][1:6] == ("unauthorised_sessions", 10.0, 10, None, None)
    assert by_id["persistent_absence_term"][2:6] == (0.1, None, "term", 20)
    assert by_id["absence_with_mood_decline"][6] == "persistent_absence_year,mood_decline"
    assert sync_trigger_rules(con) is False
    edited = rules_file(
        tmp_path, "rules:" + GOOD_RULE.replace("\n    label", "\n    enabled: false\n    label")
    )
    assert sync_trigger_rules(con, edited) is True
    assert con.execute(f"SELECT rule_id, enabled FROM {TABLE}").fetchall() == [
        ("ten_in_ten", False)
    ]


def test_the_setting_names_the_schools_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = rules_file(tmp_path, "rules:" + GOOD_RULE)
    monkeypatch.setenv("EMPOWERED_TRIGGER_RULES", str(path))
    assert Settings().trigger_rules == path
    monkeypatch.delenv("EMPOWERED_TRIGGER_RULES")
    assert Settings().trigger_rules is None


def test_the_safeguarding_mart_reads_the_rules_as_a_source_exported_to_spark() -> None:
    model = discover_models()["marts.safeguarding_trigger"]
    assert TABLE in model.sources
    # Spark sees the rules because every table of the source schemas is exported.
    assert TABLE.split(".")[0] in SOURCE_SCHEMAS


def test_an_incremental_build_rebuilds_the_safeguarding_mart_when_the_rules_change(
    warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    con = warehouse_copy
    before = con.execute(
        "SELECT count(*) FROM marts.safeguarding_trigger WHERE rule_id = 'national_10_in_10'"
    ).fetchone()
    assert before is not None and before[0] > 0
    # Nothing new and rules unchanged: nothing is rebuilt.
    assert build_duckdb(con, touched=set()).results == []
    text = default_rules_path().read_text(encoding="utf-8")
    edited = rules_file(tmp_path, text.replace("threshold: 10\n", "threshold: 1000\n", 1))
    result = build_duckdb(con, touched=set(), trigger_rules=edited)
    assert result.ok
    rebuilt = {r.model.name for r in result.results}
    assert "marts.safeguarding_trigger" in rebuilt
    assert not any(name.startswith(("core.", "staging.")) for name in rebuilt)
    after = con.execute(
        "SELECT count(*) FROM marts.safeguarding_trigger WHERE rule_id = 'national_10_in_10'"
    ).fetchone()
    assert after == (0,)
