from __future__ import annotations

from pathlib import Path

import pytest

from empowered.warehouse.changes import Change
from empowered.warehouse.models import ModelError, build_order, discover_models, downstream_of
from empowered.warehouse.rebuild import _since


def write(root: Path, layer: str, name: str, text: str) -> None:
    (root / layer).mkdir(parents=True, exist_ok=True)
    (root / layer / f"{name}.sql").write_text(text)


def test_header_grain_keys_checks_and_prose(tmp_path: Path) -> None:
    write(
        tmp_path,
        "core",
        "dim_thing",
        "-- grain: one row per thing: really one\n"
        "-- unique_key: [thing_id]\n"
        "-- not_null: [thing_id]\n"
        "-- relationships:\n"
        "--   school_urn: core.dim_school.school_urn\n"
        "-- Prose after the header: explains why, may contain: colons.\n"
        "select 1 as thing_id, '1' as school_urn from raw.things\n",
    )
    write(tmp_path, "core", "dim_school", "-- grain: one row per school\nselect '1' as school_urn")
    models = discover_models(tmp_path)
    model = models["core.dim_thing"]
    assert model.grain == "one row per thing: really one"
    assert model.unique_key == ("thing_id",)
    assert [c.kind for c in model.checks] == ["unique", "not_null", "relationship"]
    assert model.depends_on == {"core.dim_school"}  # from the relationship check
    assert model.sources == {"raw.things"}
    assert "Prose after the header" in model.sql


def test_dependencies_come_from_the_sql(tmp_path: Path) -> None:
    write(tmp_path, "staging", "stg_a", "-- grain: a\nselect * from raw.a")
    write(
        tmp_path,
        "core",
        "b",
        "-- grain: b\nwith x as (select * from staging.stg_a) select * from x",
    )
    write(tmp_path, "marts", "c", "-- grain: c\nselect * from core.b join staging.stg_a using (id)")
    models = discover_models(tmp_path)
    assert [m.name for m in build_order(models)] == ["staging.stg_a", "core.b", "marts.c"]
    assert downstream_of(models, {"raw.a"}) == {"staging.stg_a", "core.b", "marts.c"}
    assert downstream_of(models, {"core.b"}) == {"marts.c"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select 1", "must state the model's grain"),
        ("-- grain: x\nselect * from unqualified", "must be schema-qualified"),
        ("-- grain: x\nselect * from core.nowhere", "reads unknown tables: core.nowhere"),
        ("-- grain: x\nselect from where", "does not parse"),
        ("-- grain: x\n-- checks:\n--   - name: only\nselect 1", "needs a name and sql"),
    ],
)
def test_bad_models_are_refused_with_the_file_named(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, "core", "broken", text)
    with pytest.raises(ModelError) as err:
        discover_models(tmp_path)
    assert message in str(err.value)
    assert "broken.sql" in str(err.value)


def test_cycles_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "core", "a", "-- grain: a\nselect * from core.b")
    write(tmp_path, "core", "b", "-- grain: b\nselect * from core.a")
    with pytest.raises(ModelError, match="cycle"):
        build_order(discover_models(tmp_path))


def test_every_shipped_model_states_grain_and_key() -> None:
    models = discover_models()
    assert len(models) > 50
    for model in models.values():
        assert model.grain.startswith("one row per"), model.name
        assert model.unique_key, f"{model.name} states no unique key"
        if model.layer != "staging":
            # Only staging reads raw: the style rule that keeps the data flowing one way.
            assert not any(s.startswith("raw.") for s in model.sources), model.name


def test_a_declared_staging_model_gets_the_shared_validation_ending(tmp_path: Path) -> None:
    write(
        tmp_path,
        "staging",
        "stg_things",
        "-- grain: one row per landed thing\n"
        "-- unique_key: [_batch_id, _source_row]\n"
        "-- natural_key: [school_urn, thing_id]\n"
        "-- source: raw.things\n"
        "-- school_checked: false\n"
        "-- columns:\n"
        "--   school_urn: trim\n"
        "--   thing_id: trim\n",
    )
    model = discover_models(tmp_path)["staging.stg_things"]
    assert "GROUP BY\n    school_urn,\n    thing_id\n  HAVING" in model.sql
    assert "(same school URN, thing ID)" in model.sql
    assert "one_current_row(school_urn, thing_id)" in [c.name for c in model.checks]
    assert model.sources == {"raw.things"}


def test_a_natural_key_must_name_columns(tmp_path: Path) -> None:
    write(
        tmp_path,
        "staging",
        "stg_bad",
        '-- grain: x\n-- natural_key: ["a; drop"]\n-- source: raw.things\nselect 1',
    )
    with pytest.raises(ModelError, match="natural_key must be a list of column names"):
        discover_models(tmp_path)


def test_a_natural_key_without_a_declaration_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "staging", "stg_bad", "-- grain: x\n-- natural_key: [a]\nselect 1")
    with pytest.raises(ModelError, match="state source"):
        discover_models(tmp_path)


def test_incremental_by_a_column_since_another(tmp_path: Path) -> None:
    write(
        tmp_path,
        "core",
        "weeks",
        "-- grain: one row per pupil week\n-- incremental:\n--   by: pupil_key\n"
        "--   since: school_week\n--   lookback: 3\nselect 1 as pupil_key, 1 as school_week",
    )
    model = discover_models(tmp_path)["core.weeks"]
    assert (model.incremental, model.since) == ("by:pupil_key", ("school_week", 3))
    assert model.block is None


def test_incremental_since_a_column_in_blocks(tmp_path: Path) -> None:
    """``block: n`` in place of a lookback: rows hold their block's last value."""
    write(
        tmp_path,
        "core",
        "quarters",
        "-- grain: one row per pupil quarter\n-- incremental:\n--   by: pupil_key\n"
        "--   since: school_week\n--   block: 13\nselect 1 as pupil_key, 13 as school_week",
    )
    model = discover_models(tmp_path)["core.quarters"]
    assert (model.incremental, model.since, model.block) == (
        "by:pupil_key",
        ("school_week", 0),
        13,
    )
    # A change in week 30 rewrites the rows from week 30 on (its quarter's, whose last
    # week is 39, and later ones) and reads inputs from week 27, the quarter's first.
    weeks = frozenset({30, 41})
    changed = {"core.obs": Change(keys={"pupil_key": frozenset({"p"}), "school_week": weeks})}
    assert _since(model, changed) == ("school_week", 30, 3)
    at_start = {"core.obs": Change(keys={"school_week": frozenset({27})})}
    assert _since(model, at_start) == ("school_week", 27, 0)


@pytest.mark.parametrize(
    "declared",
    [
        "--   by: pupil_key\n--   since: school_week\n",  # no lookback
        "--   by: pupil_key\n--   since: school_week\n--   lookback: -1\n",
        "--   by: pupil_key\n--   since: a b\n--   lookback: 1\n",
        "--   by: pupil_key\n--   lookback: 1\n",
        "--   by: pupil_key\n--   since: school_week\n--   block: 0\n",
        "--   by: pupil_key\n--   since: school_week\n--   block: 13\n--   lookback: 1\n",
        "--   by: pupil_key\n--   block: 13\n",
    ],
)
def test_a_since_needs_a_column_and_a_lookback(tmp_path: Path, declared: str) -> None:
    write(tmp_path, "core", "weeks", f"-- grain: x\n-- incremental:\n{declared}select 1 as a")
    with pytest.raises(ModelError, match="incremental must be"):
        discover_models(tmp_path)


def test_an_edited_model_file_is_read_again(tmp_path: Path) -> None:
    """Models are kept between discoveries by their text: an edit is never missed."""
    write(tmp_path, "core", "a", "-- grain: a\nselect 1 as x")
    first = discover_models(tmp_path)["core.a"]
    assert discover_models(tmp_path)["core.a"] is first
    write(tmp_path, "core", "a", "-- grain: a\nselect 2 as x")
    assert discover_models(tmp_path)["core.a"].sql == "select 2 as x"
