"""Retention: counts of what is past its period, and deleting exactly that, on a copy of
the built small trust where some pupils are given a leaving date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from empowered.access.audit import ViewedPage, delete_entries_before, read_log, record
from empowered.access.retention import (
    CATEGORIES,
    apply,
    check_years,
    load_settings,
    preview,
    save_settings,
)
from empowered.access.store import ensure_access_tables
from empowered.cli import app
from empowered.warehouse.build import build_duckdb

pytestmark = pytest.mark.slow

LEAVERS = 15
FACTS = ("core.fct_observation", "core.fct_attendance_session", "core.fct_assessment")


def _leave(con: duckdb.DuckDBPyConnection, leaving: str) -> tuple[str, list[str]]:
    """Give LEAVERS pupils on roll at one school a leaving date; their school and keys."""
    ensure_access_tables(con)
    school = con.execute(
        "SELECT school_urn FROM core.fct_enrolment GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0][0]
    keys = [
        k
        for (k,) in con.execute(
            "SELECT pupil_key FROM core.fct_enrolment WHERE school_urn = ? AND is_on_roll "
            "AND pupil_key IN (SELECT pupil_key FROM core.fct_observation) "
            "AND pupil_key IN (SELECT pupil_key FROM core.fct_assessment) "
            "ORDER BY pupil_key LIMIT ?",
            [school, LEAVERS],
        ).fetchall()
    ]
    con.execute(
        "UPDATE raw.canonical_pupils SET leaving_date = ? WHERE trim(school_urn) = ? AND "
        "upn_bidx IN (SELECT upn_bidx FROM raw.pupil_pseudonym WHERE list_contains(?, "
        "pupil_key))",
        [leaving, school, keys],
    )
    assert build_duckdb(con, touched={"raw.canonical_pupils"}).ok
    left = con.execute(
        "SELECT count(*) FROM core.fct_enrolment WHERE leaving_date = ? AND school_urn = ?",
        [date.fromisoformat(leaving), school],
    ).fetchall()[0][0]
    assert left == LEAVERS
    return str(school), keys


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per fact of pupils who have left a school (there) and of pupils on roll."""
    out = {}
    for fact in FACTS:
        [(left, on_roll)] = con.execute(
            f"SELECT count(*) FILTER (WHERE e.leaving_date IS NOT NULL), "
            f"count(*) FILTER (WHERE e.leaving_date IS NULL) FROM {fact} AS f "
            "JOIN core.fct_enrolment AS e USING (pupil_key, school_urn)"
        ).fetchall()
        out[f"{fact}:leavers"], out[f"{fact}:others"] = int(left), int(on_roll)
    return out


def _last_record_day(con: duckdb.DuckDBPyConnection) -> str:
    [(last,)] = con.execute(
        "SELECT max(try_cast(trim(date) AS DATE)) FROM raw.canonical_attendance"
    ).fetchall()
    return str(last)


def test_defaults_and_settings(warehouse_copy: duckdb.DuckDBPyConnection) -> None:
    con = warehouse_copy
    ensure_access_tables(con)
    years = load_settings(con)
    assert years == {c.key: c.default_years for c in CATEGORIES}
    assert years["sen"] > years["observations"] > years["attendance"] >= 1
    good, errors = check_years({**{k: str(v) for k, v in years.items()}, "sen": "25"})
    assert errors == {} and good["sen"] == 25
    _, errors = check_years({**{k: str(v) for k, v in years.items()}, "audit": "0"})
    assert "audit" in errors
    _, errors = check_years({**{k: str(v) for k, v in years.items()}, "sen": "lots"})
    assert errors["sen"].startswith("Enter a whole number")
    save_settings(con, good, user_id=None)
    assert load_settings(con)["sen"] == 25


def test_nothing_is_past_retention_while_pupils_are_on_roll_or_recently_left(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    school, keys = _leave(con, _last_record_day(con))
    # A year on, no pupil record is past retention (attendance, the shortest, is 3 years
    # after leaving).
    in_a_year = date.today() + timedelta(days=370)
    totals = {e.category.key: e.total for e in preview(con, today=in_a_year)}
    assert {k: v for k, v in totals.items() if k not in ("quarantine", "audit")} == {
        "observations": 0,
        "attendance": 0,
        "assessments": 0,
        "sen": 0,
    }
    assert all(e.total == 0 for e in preview(con) if e.category.key != "quarantine")


def test_apply_deletes_exactly_the_leavers_records_and_rebuilds(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    school, keys = _leave(con, _last_record_day(con))
    before = _counts(con)
    assert all(before[f"{f}:leavers"] > 0 for f in FACTS)
    # Eight years on, for every pupil who has left (those given a leaving date here and
    # the few the small trust has): attendance (3), observations and assessments (7) are
    # past; SEN (13) is not. Pupils on roll keep everything.
    later = date.today() + timedelta(days=8 * 366)
    expired = {e.category.key: e for e in preview(con, today=later)}
    assert expired["attendance"].total > 0 and expired["observations"].total > 0
    assert expired["assessments"].total > 0 and expired["sen"].total == 0
    sen_rows = con.execute(
        "SELECT count(*) FROM staging.stg_canonical_sen_status WHERE list_contains(?, pupil_key)",
        [keys],
    ).fetchall()[0][0]

    applied = apply(con, today=later)

    assert applied.rebuilt and applied.build_ok
    for key in ("attendance", "observations", "assessments"):
        # Every row past retention is deleted; a row in two categories counts once.
        assert 0 < applied.deleted[key] <= expired[key].total
    assert applied.deleted["sen"] == 0 and applied.deleted["audit"] == 0
    after = _counts(con)
    for fact in FACTS:
        assert after[f"{fact}:leavers"] == 0, fact
        assert after[f"{fact}:others"] == before[f"{fact}:others"], fact
    # Nothing of theirs is left in raw, and their SEN history (13 years) is untouched.
    [(raw_left,)] = con.execute(
        "SELECT count(*) FROM raw.canonical_attendance AS a JOIN raw.pupil_pseudonym AS p "
        "ON p.upn_bidx = a.upn_bidx WHERE list_contains(?, p.pupil_key) AND "
        "trim(a.school_urn) = ?",
        [keys, school],
    ).fetchall()
    assert raw_left == 0
    assert (
        con.execute(
            "SELECT count(*) FROM staging.stg_canonical_sen_status "
            "WHERE list_contains(?, pupil_key)",
            [keys],
        ).fetchall()[0][0]
        == sen_rows
    )
    # Every landed row still balances: what retention removed is logged per batch.
    [(removed,)] = con.execute("SELECT sum(rows_deleted) FROM app.retention_log").fetchall()
    assert removed == sum(v for k, v in applied.deleted.items() if k != "audit")
    # Applying again finds nothing.
    assert sum(e.total for e in preview(con, today=later)) == 0


def test_audit_entries_go_only_after_their_own_period(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    ensure_access_tables(con)
    now = datetime.now(UTC)
    for days in (7 * 365, 400, 200, 1):
        record(con, ViewedPage(page=f"/aged-{days}"), user=None, at=now - timedelta(days=days))
    save_settings(con, {"audit": 6}, user_id=None)
    [audit] = [e for e in preview(con) if e.category.key == "audit"]
    assert audit.total == 1
    # Even set to one year, an entry younger than a year is never deleted.
    save_settings(con, {"audit": 1}, user_id=None)
    applied = apply(con, rebuild=False)
    assert applied.deleted["audit"] == 2
    pages = {e["page"] for e in read_log(con, limit=1000)}
    assert "/aged-200" in pages and "/aged-1" in pages
    assert "/aged-400" not in pages and f"/aged-{7 * 365}" not in pages
    with pytest.raises(ValueError, match="younger than a year"):
        delete_entries_before(con, now - timedelta(days=30))


def test_cli_shows_and_applies(warehouse_copy: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con = warehouse_copy
    ensure_access_tables(con)
    record(con, ViewedPage(page="/old"), user=None, at=datetime.now(UTC) - timedelta(days=3000))
    [(path,)] = con.execute("SELECT path FROM duckdb_databases() WHERE NOT internal").fetchall()
    con.close()
    runner = CliRunner()
    shown = runner.invoke(app, ["retention", "show", "--warehouse", path])
    assert shown.exit_code == 0, shown.output
    assert "Audit log entries" in shown.output and "IRMS" in shown.output
    refused = runner.invoke(app, ["retention", "apply", "--warehouse", path], input="n\n")
    assert refused.exit_code == 1 and "Nothing deleted" in refused.output
    done = runner.invoke(app, ["retention", "apply", "--yes", "--warehouse", path])
    assert done.exit_code == 0, done.output
    assert "audit: 1 deleted" in done.output
    check = duckdb.connect(path)
    [entry] = read_log(check, event="retention_applied")
    assert entry["detail"]["deleted"]["audit"] == 1
    assert entry["user_id"] is None
    check.close()
