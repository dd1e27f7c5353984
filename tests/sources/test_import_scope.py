"""Imports write only within the importer's reach: the attacks of issue 10 (finding 1),
performed against the import service the upload page, the inbox and the CLI share.

Each test lands the small trust's files in a warehouse of its own, then imports a crafted
file as a SENCo of one school would (``ImportLimits`` for that school) and checks the whole
import is refused, naming the file, row, column and value, with nothing landed.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from empowered.access.policy import import_schools, may_import_catalogues, scope_for
from empowered.access.roles import Role
from empowered.access.users import User
from empowered.imports import process_inbox, run_import
from empowered.sources.canonical import ENTITIES
from empowered.sources.importer import import_canonical_folder, import_files
from empowered.sources.registry import choose_reader
from empowered.sources.scope import UNRESTRICTED, ImportLimits, ImportRefused, is_catalogue
from empowered.warehouse.connection import open_warehouse
from identity_keys import TEST_KEYS


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture(scope="module")
def landed(small_trust: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small trust's files landed in raw (no build: scope is checked on raw rows)."""
    path = tmp_path_factory.mktemp("scope") / "landed.duckdb"
    con = open_warehouse(path)
    import_canonical_folder(con, small_trust, keys=TEST_KEYS)
    con.close()
    return path


@pytest.fixture
def con(landed: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    target = tmp_path / "w.duckdb"
    shutil.copy(landed, target)
    connection = open_warehouse(target)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def schools(small_trust: Path) -> tuple[str, str]:
    """Ours (the importing SENCo's) and another school of the trust."""
    urns = [r["school_urn"] for r in _rows(small_trust, "schools.csv")]
    return urns[0], urns[1]


def _import(
    con: duckdb.DuckDBPyConnection, files: dict[str, str], folder: Path, limits: ImportLimits
) -> None:
    folder.mkdir(exist_ok=True)
    paths = []
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
        paths.append(folder / name)
    import_files(
        con,
        paths,
        keys=TEST_KEYS,
        choose_reader=lambda path, source: choose_reader(path, source),
        limits=limits,
    )


def _landed_rows(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    batches = con.execute("SELECT count(*) FROM meta.batches").fetchone()
    pupils = con.execute("SELECT count(*) FROM raw.canonical_pupils").fetchone()
    assert batches and pupils
    return int(batches[0]), int(pupils[0])


def _senco(school: str) -> ImportLimits:
    return ImportLimits(frozenset({school}), catalogues=False)


@pytest.mark.parametrize("header", ["School URN", "school-urn", " SCHOOL_URN "])
def test_a_pupil_at_another_school_cannot_be_renamed_whatever_the_header_spelling(
    con: duckdb.DuckDBPyConnection,
    small_trust: Path,
    schools: tuple[str, str],
    tmp_path: Path,
    header: str,
) -> None:
    ours, theirs = schools
    pupils = _rows(small_trust, "pupils.csv")
    victim = next(r for r in pupils if r["school_urn"] == theirs)
    columns = list(victim)
    row = [victim[c] if c != "forename" else "Renamed" for c in columns]
    # Our own pupil first: the refused row is the second data row (spreadsheet row 3).
    mine = next(r for r in pupils if r["school_urn"] == ours)
    text = _csv([header if c == "school_urn" else c for c in columns], [list(mine.values()), row])
    before = _landed_rows(con)
    with pytest.raises(ImportRefused) as refused:
        _import(con, {"pupils.csv": text}, tmp_path / "in", _senco(ours))
    err = refused.value
    assert (err.file, err.row, err.column, err.value) == ("pupils.csv", 3, "school_urn", theirs)
    assert "not one of yours" in str(err) and "nothing was imported" in str(err)
    assert _landed_rows(con) == before  # the whole import rolled back, our row too
    # The loader does read that spelling as the school column: unrestricted, it lands.
    _import(con, {"pupils.csv": text}, tmp_path / "cli", UNRESTRICTED)
    assert _landed_rows(con)[1] == before[1] + 2


@pytest.mark.parametrize("header", ["School URN", "school-urn"])
def test_observations_for_another_school_are_refused(
    con: duckdb.DuckDBPyConnection,
    small_trust: Path,
    schools: tuple[str, str],
    tmp_path: Path,
    header: str,
) -> None:
    ours, theirs = schools
    observation = next(
        r for r in _rows(small_trust, "observations.csv") if r["school_urn"] == theirs
    )
    columns = list(observation)
    text = _csv(
        [header if c == "school_urn" else c for c in columns],
        [[observation[c] if c != "observation_id" else "NEW1" for c in columns]],
    )
    raw = con.execute("SELECT count(*) FROM raw.canonical_observations").fetchone()
    with pytest.raises(ImportRefused) as refused:
        _import(con, {"observations.csv": text}, tmp_path, _senco(ours))
    assert (refused.value.row, refused.value.column, refused.value.value) == (
        2,
        "school_urn",
        theirs,
    )
    assert con.execute("SELECT count(*) FROM raw.canonical_observations").fetchone() == raw


def _plan_of(folder: Path, school: str) -> str:
    return next(r["plan_id"] for r in _rows(folder, "plans.csv") if r["school_urn"] == school)


REVIEW_HEADER = ["review_id", "plan_id", "outcome_id", "review_date", "progress", "note"]


def test_a_review_cannot_land_on_another_schools_plan(
    con: duckdb.DuckDBPyConnection, small_trust: Path, schools: tuple[str, str], tmp_path: Path
) -> None:
    """plan_reviews.csv has no school column: its school is its plan's."""
    ours, theirs = schools
    plan = _plan_of(small_trust, theirs)
    text = _csv(REVIEW_HEADER, [["PRX1", plan, "", "2026-01-10", "good", "Going well."]])
    raw = con.execute("SELECT count(*) FROM raw.canonical_plan_reviews").fetchone()
    with pytest.raises(ImportRefused) as refused:
        _import(con, {"plan_reviews.csv": text}, tmp_path, _senco(ours))
    err = refused.value
    assert (err.file, err.row, err.column, err.value) == ("plan_reviews.csv", 2, "plan_id", plan)
    assert con.execute("SELECT count(*) FROM raw.canonical_plan_reviews").fetchone() == raw


def test_a_review_of_a_plan_no_one_has_yet_is_refused(
    con: duckdb.DuckDBPyConnection, schools: tuple[str, str], tmp_path: Path
) -> None:
    """Plan ids are sequential: a review waiting for the next plan id would attach to
    whichever school creates that plan."""
    text = _csv(REVIEW_HEADER, [["PRX2", "PL999999", "", "2026-01-10", "good", ""]])
    with pytest.raises(ImportRefused, match="PL999999"):
        _import(con, {"plan_reviews.csv": text}, tmp_path, _senco(schools[0]))


def test_reviews_of_our_plans_land_even_with_the_plan_in_the_same_import(
    con: duckdb.DuckDBPyConnection, small_trust: Path, schools: tuple[str, str], tmp_path: Path
) -> None:
    ours = schools[0]
    plan = next(r for r in _rows(small_trust, "plans.csv") if r["school_urn"] == ours)
    new_plan = _csv(list(plan), [[plan[c] if c != "plan_id" else "PLNEW1" for c in plan]])
    reviews = _csv(
        REVIEW_HEADER,
        [
            ["PRX3", plan["plan_id"], "", "2026-01-10", "good", ""],
            ["PRX4", "PLNEW1", "", "2026-01-10", "some", ""],
        ],
    )
    _import(con, {"plans.csv": new_plan, "plan_reviews.csv": reviews}, tmp_path, _senco(ours))
    landed = con.execute(
        "SELECT count(*) FROM raw.canonical_plan_reviews WHERE review_id IN ('PRX3', 'PRX4')"
    ).fetchone()
    assert landed == (2,)


def test_another_schools_plan_cannot_be_moved_to_ours(
    con: duckdb.DuckDBPyConnection, small_trust: Path, schools: tuple[str, str], tmp_path: Path
) -> None:
    """A plan's id is the trust's: staging keeps its latest row, so a row naming our school
    with their plan's id would take the plan (and its reviews) over."""
    ours, theirs = schools
    plan = next(r for r in _rows(small_trust, "plans.csv") if r["school_urn"] == theirs)
    text = _csv(list(plan), [[plan[c] if c != "school_urn" else ours for c in plan]])
    with pytest.raises(ImportRefused) as refused:
        _import(con, {"plans.csv": text}, tmp_path, _senco(ours))
    assert (refused.value.column, refused.value.value) == ("plan_id", plan["plan_id"])
    # And a review of our plan cannot reuse one of their reviews' ids.
    their_review = next(
        r for r in _rows(small_trust, "plan_reviews.csv") if r["plan_id"] == plan["plan_id"]
    )
    text = _csv(
        REVIEW_HEADER,
        [[their_review["review_id"], _plan_of(small_trust, ours), "", "2026-01-10", "good", ""]],
    )
    with pytest.raises(ImportRefused) as refused:
        _import(con, {"plan_reviews.csv": text}, tmp_path / "r", _senco(ours))
    assert refused.value.column == "review_id"


def test_sessions_of_another_schools_enrolment_are_refused(
    con: duckdb.DuckDBPyConnection, small_trust: Path, schools: tuple[str, str], tmp_path: Path
) -> None:
    ours, theirs = schools
    enrolment = next(
        r["enrolment_id"]
        for r in _rows(small_trust, "provision_enrolments.csv")
        if r["school_urn"] == theirs
    )
    text = _csv(
        ["enrolment_id", "session_date", "delivered", "minutes"],
        [[enrolment, "2026-01-12", "Y", "30"]],
    )
    with pytest.raises(ImportRefused) as refused:
        _import(con, {"provision_sessions.csv": text}, tmp_path, _senco(ours))
    assert (refused.value.column, refused.value.value) == ("enrolment_id", enrolment)


def test_trust_wide_catalogues_change_only_for_a_trust_admin(
    con: duckdb.DuckDBPyConnection, small_trust: Path, schools: tuple[str, str], tmp_path: Path
) -> None:
    strategy = _rows(small_trust, "strategies.csv")[0]
    text = _csv(
        list(strategy), [[strategy[c] if c != "strategy_name" else "Renamed" for c in strategy]]
    )
    raw = con.execute("SELECT count(*) FROM raw.canonical_strategies").fetchone()
    with pytest.raises(ImportRefused) as refused:
        _import(con, {"strategies.csv": text}, tmp_path, _senco(schools[0]))
    assert refused.value.file == "strategies.csv" and "whole trust" in str(refused.value)
    assert con.execute("SELECT count(*) FROM raw.canonical_strategies").fetchone() == raw
    _import(con, {"strategies.csv": text}, tmp_path / "admin", ImportLimits(None, True))
    assert con.execute("SELECT count(*) FROM raw.canonical_strategies").fetchone() != raw


def test_every_entity_is_either_a_schools_or_a_catalogue() -> None:
    """A new entity without a school column must be placed (a parent, or a catalogue)
    before it can be imported by a SENCo."""
    catalogues = {name for name, e in ENTITIES.items() if is_catalogue(e)}
    assert catalogues == {"strategies", "interventions"}


def _user(role: Role, school: str | None) -> User:
    return User(1, "someone", role, school, (), (), (), None, False, False)


def test_the_policy_decides_whose_rows_an_import_may_write() -> None:
    con = duckdb.connect()
    admin = scope_for(con, _user(Role.TRUST_ADMIN, None), today=_today())
    senco = scope_for(con, _user(Role.SENCO, "100001"), today=_today())
    dsl = scope_for(con, _user(Role.DSL, "100001"), today=_today())
    analyst = scope_for(con, _user(Role.TRUST_ANALYST, None), today=_today())
    assert (import_schools(admin), may_import_catalogues(admin)) == (None, True)
    assert (import_schools(senco), may_import_catalogues(senco)) == (frozenset({"100001"}), False)
    assert (import_schools(dsl), may_import_catalogues(dsl)) == (frozenset(), False)
    assert (import_schools(analyst), may_import_catalogues(analyst)) == (frozenset(), False)


def _today() -> date:
    return date(2026, 1, 5)


def test_a_file_in_a_schools_inbox_folder_carries_only_that_schools_rows(
    con: duckdb.DuckDBPyConnection, small_trust: Path, schools: tuple[str, str], tmp_path: Path
) -> None:
    ours, theirs = schools
    inbox = tmp_path / "inbox"
    (inbox / ours).mkdir(parents=True)
    pupil = next(r for r in _rows(small_trust, "pupils.csv") if r["school_urn"] == theirs)
    body = _csv(list(pupil), [[pupil[c] if c != "forename" else "Renamed" for c in pupil]])
    (inbox / ours / "pupils.csv").write_text(body, "utf-8")
    before = _landed_rows(con)
    [done] = process_inbox(con, inbox, keys=TEST_KEYS, quiet_seconds=0)
    assert done.outcome is None and isinstance(done.problem, ImportRefused)
    assert done.error and "not one of yours" in done.error and theirs in done.error
    assert _landed_rows(con) == before
    # The reason is kept; the file is not (the school still holds its export).
    assert not (inbox / ours / "pupils.csv").exists()
    assert [p.suffix for p in (inbox / "failed").iterdir()] == [".txt"]
    assert str(tmp_path) not in (inbox / "failed").iterdir().__next__().read_text()


def test_the_command_line_is_the_operators_and_unrestricted(
    con: duckdb.DuckDBPyConnection, small_trust: Path, tmp_path: Path
) -> None:
    """``empowered import`` runs with the warehouse file in hand: no limits apply."""
    strategy = _rows(small_trust, "strategies.csv")[0]
    path = tmp_path / "strategies.csv"
    path.write_text(
        _csv(list(strategy), [[strategy[c] if c != "category" else "other" for c in strategy]]),
        "utf-8",
    )
    outcome = run_import(con, [path], keys=TEST_KEYS)
    assert outcome.result.rows_landed == 1


def test_a_failed_import_at_the_command_line_is_audited(tmp_path: Path) -> None:
    """Issue 10, finding 7: refused and failed imports are recorded wherever they happen."""
    from typer.testing import CliRunner

    from empowered.cli import app

    data = tmp_path / "pupils.csv"
    data.write_text("school_urn,forename\n100001,Someone\n", "utf-8")
    warehouse = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["import", str(data), "--warehouse", str(warehouse)])
    assert result.exit_code == 1 and "required column missing" in result.output
    con = duckdb.connect(str(warehouse))
    rows = con.execute(
        "SELECT user_id, detail FROM app.audit_log WHERE event = 'import_failed'"
    ).fetchall()
    con.close()
    assert len(rows) == 1 and rows[0][0] is None
    assert '"file": "pupils.csv"' in rows[0][1] and "required column missing" in rows[0][1]
    assert "Someone" not in rows[0][1] and str(tmp_path) not in rows[0][1]


def test_an_inbox_files_error_names_no_server_folder(
    con: duckdb.DuckDBPyConnection, schools: tuple[str, str], tmp_path: Path
) -> None:
    """DuckDB's and the readers' errors quote the file's full path; the reason kept and
    shown names the file only (issue 10, finding 10)."""
    inbox = tmp_path / "inbox"
    (inbox / schools[0]).mkdir(parents=True)
    bad = b"school_urn,upn\n" + b'"' + b"x" * 50 + b"\n" + b"\xff\xfe,\x00\n" * 3
    (inbox / schools[0] / "pupils.csv").write_bytes(bad)
    [done] = process_inbox(con, inbox, keys=TEST_KEYS, quiet_seconds=0)
    assert done.error and "could not be read as CSV" in done.error
    assert str(tmp_path) not in done.error and str(tmp_path) not in done.moved_to.read_text()
    assert not any(p.is_file() for p in inbox.rglob("*") if p.parent.name != "failed")


def test_a_pupil_on_roll_at_another_school_cannot_be_claimed_by_their_upn(
    con: duckdb.DuckDBPyConnection, small_trust: Path, schools: tuple[str, str], tmp_path: Path
) -> None:
    """Our own school in the school column, another school's pupil's UPN: without the check
    the pupil would be enrolled here, renamed, and their records opened to us."""
    ours, theirs = schools
    pupils = _rows(small_trust, "pupils.csv")
    victim = next(r for r in pupils if r["school_urn"] == theirs and not r["leaving_date"])
    mine = next(r for r in pupils if r["school_urn"] == ours)
    columns = list(victim)
    claim = [
        {"school_urn": ours, "forename": "Renamed", "mis_id": "X1"}.get(c, victim[c])
        for c in columns
    ]
    text = _csv(columns, [list(mine.values()), claim])
    before = _landed_rows(con)
    with pytest.raises(ImportRefused) as refused:
        _import(con, {"pupils.csv": text}, tmp_path / "in", _senco(ours))
    err = refused.value
    assert (err.file, err.row, err.column, err.value) == ("pupils.csv", 3, "upn", "(withheld)")
    assert "on roll at another school" in str(err)
    assert victim["upn"] not in str(err)
    assert _landed_rows(con) == before
    # Once their school records the leaving date, the move lands from the new school.
    left = [victim[c] if c != "leaving_date" else "2024-07-19" for c in columns]
    _import(con, {"pupils.csv": _csv(columns, [left])}, tmp_path / "theirs", UNRESTRICTED)
    _import(con, {"pupils.csv": text}, tmp_path / "again", _senco(ours))
    assert _landed_rows(con)[1] == before[1] + 3
