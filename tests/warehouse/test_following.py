"""When a partial build works out exactly how a model's rows changed
(empowered.warehouse.following): only when some model reading it could use that."""

from __future__ import annotations

from pathlib import Path

from empowered.warehouse.changes import WHOLE, Change
from empowered.warehouse.following import Following
from empowered.warehouse.models import Model, discover_models


def _model(root: Path, name: str, header: str, sql: str) -> None:
    schema, table = name.split(".")
    (root / schema).mkdir(exist_ok=True)
    (root / schema / f"{table}.sql").write_text(f"-- grain: {name}\n{header}{sql}\n")


def models(root: Path, *, counted: bool = False) -> dict[str, Model]:
    """A school's "as of" date, the roll as of it, and a summary reading both (as the
    register marts read marts.school_as_of and marts.register_pupil)."""
    _model(root, "marts.as_of", "", "select school, max(day) as as_of from raw.days group by 1")
    _model(
        root,
        "marts.roll",
        "-- incremental:\n--   by: pupil_key\n",
        "select p.pupil_key, p.school, a.as_of from raw.pupils as p "
        "join marts.as_of as a using (school)",
    )
    _model(
        root,
        "marts.roll_summary",
        "",
        "select r.school, a.as_of, count(*) as pupils from marts.roll as r "
        "join marts.as_of as a using (school) group by all",
    )
    if counted:
        # Reads the roll alone: an unchanged roll would spare it a rebuild.
        _model(root, "marts.roll_count", "", "select count(*) as n from marts.roll")
    return discover_models(root)


AS_OF_MOVED = Change(keys={"school": frozenset({"S1"})})


def test_nothing_reading_a_table_means_nothing_to_work_out(tmp_path: Path) -> None:
    following = Following(models(tmp_path))
    assert not following.worth_comparing("marts.roll_summary", {}, set())


def test_readers_rebuilt_whole_anyway_do_not_need_the_exact_change(tmp_path: Path) -> None:
    # The summary is rebuilt in full because the date it reads moved: how exactly the
    # roll changed does not matter to it.
    following = Following(models(tmp_path))
    changed = {"marts.as_of": AS_OF_MOVED}
    assert not following.worth_comparing("marts.roll", changed, {"marts.as_of"})


def test_a_reader_that_might_be_spared_keeps_the_comparison(tmp_path: Path) -> None:
    following = Following(models(tmp_path, counted=True))
    changed = {"marts.as_of": AS_OF_MOVED}
    assert following.worth_comparing("marts.roll", changed, {"marts.as_of"})


def test_an_input_not_yet_rebuilt_decides_nothing(tmp_path: Path) -> None:
    following = Following(models(tmp_path))
    assert following.worth_comparing("marts.roll", {"marts.as_of": WHOLE}, set())


def test_a_partition_reader_can_use_the_exact_change(tmp_path: Path) -> None:
    # The roll is rebuilt by pupil when the pupils that changed are known: then the
    # schools whose as-of date changed are worth knowing exactly too.
    following = Following(models(tmp_path))
    by_pupil = {"raw.pupils": Change(keys={"pupil_key": frozenset({"P1"})})}
    assert following.worth_comparing("marts.as_of", by_pupil, set())
    # Told only that the pupils changed by school, the roll is rebuilt in full, and so is
    # the summary once the roll is rebuilt: nothing left to use the exact change.
    by_school = {
        "raw.pupils": Change(keys={"school": frozenset({"S1"})}),
        "marts.roll": WHOLE,
    }
    assert not following.worth_comparing("marts.as_of", by_school, {"marts.roll"})
