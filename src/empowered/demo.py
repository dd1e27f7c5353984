"""The demo: a small synthetic trust, written as schools really hold it (MIS exports, a
Common Transfer File, a forms export, a provision tracker, canonical files) with some
planted mess, imported through the real readers and built."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from empowered.imports import ImportOutcome, run_import
from empowered.keys import Keys
from empowered.synth import TrustSummary, generate_trust
from empowered.synth.school_formats import SchoolFormats, write_school_formats
from empowered.warehouse.runner import ProgressCallback

DEMO_SCHOOLS = 3
DEMO_PUPILS = 1500
# The last whole academic year and the one in progress, up to the demo's day (``through``),
# so what needs attention is about now and early signs have a year behind them.
DEMO_YEARS = 2
DEMO_SEED = 2025


@dataclass(frozen=True)
class DemoResult:
    trust: TrustSummary
    formats: SchoolFormats
    imported: ImportOutcome


def mark_as_demo(con: duckdb.DuckDBPyConnection) -> None:
    """Label the warehouse as the demo's, so the next ``empowered demo`` may replace it."""
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute("CREATE OR REPLACE TABLE meta.demo AS SELECT now() AS created_at")


def is_demo_warehouse(path: Path) -> bool:
    """Whether ``path`` holds a warehouse the demo made (raises if another process holds it)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return bool(
            con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'meta' AND table_name = 'demo'"
            ).fetchone()[0]  # type: ignore[index]
        )
    finally:
        con.close()


def run_demo(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    *,
    keys: Keys,
    through: date,
    report_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> DemoResult:
    """The demo trust's files, with nothing dated after ``through`` (the last day its
    schools' systems speak for: yesterday, when the demo runs today), imported and built."""
    trust = generate_trust(
        data_dir / "canonical",
        schools=DEMO_SCHOOLS,
        pupils=DEMO_PUPILS,
        years=DEMO_YEARS,
        seed=DEMO_SEED,
        through=through,
    )
    formats = write_school_formats(data_dir / "canonical", data_dir / "schools", seed=DEMO_SEED)
    mark_as_demo(con)
    imported = run_import(
        con,
        [formats.folder],
        keys=keys,
        report_dir=report_dir,
        progress=progress,
    )
    return DemoResult(trust, formats, imported)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    sees: str


def create_demo_accounts(con: duckdb.DuckDBPyConnection) -> list[DemoAccount]:
    """One account per role on the demo trust, with fresh random passwords.

    The demo warehouse is synthetic and rebuilt on every run, so its accounts are too; a
    real trust adds its users with ``empowered user add``.
    """
    from empowered.access.roles import Role
    from empowered.access.store import ensure_access_tables
    from empowered.access.users import add_user

    ensure_access_tables(con)
    school, group = con.execute(
        "SELECT m.school_urn, m.group_code FROM core.bridge_group_member AS m "
        "GROUP BY m.school_urn, m.group_code ORDER BY count(*) DESC, 1, 2 LIMIT 1"
    ).fetchone() or (None, None)
    if school is None:
        return []
    pupils = [
        str(r[0])
        for r in con.execute(
            "SELECT pupil_key FROM core.bridge_group_member WHERE school_urn = ? "
            "AND group_code = ? ORDER BY pupil_key LIMIT 3",
            [school, group],
        ).fetchall()
    ]
    plans: list[tuple[str, Role, dict[str, Any], str]] = [
        ("admin", Role.TRUST_ADMIN, {}, "everything, every school; users and the audit log"),
        (
            "senco",
            Role.SENCO,
            {"school_urn": school},
            f"school {school}: every pupil, the register and provision",
        ),
        (
            "dsl",
            Role.DSL,
            {"school_urn": school},
            f"school {school}: safeguarding views, triggers, the audit log",
        ),
        (
            "teacher",
            Role.TEACHER,
            {"school_urn": school, "groups": (group,)},
            f"pupils in group {group}",
        ),
        (
            "ta",
            Role.TEACHING_ASSISTANT,
            {"school_urn": school, "pupils": _assisted(con, school, group)},
            "two assigned pupils",
        ),
        (
            "visitor",
            Role.VISITING_PROFESSIONAL,
            {
                "school_urn": school,
                "pupils": tuple(pupils[:1]),
                "areas": ("wellbeing", "strategies"),
                "expires_on": date.today() + timedelta(days=30),
                "organisation": "Educational psychology service",
            },
            "an educational psychologist: one named pupil's wellbeing and strategies, "
            "read-only but for their own notes and reports, for 30 days",
        ),
        (
            "analyst",
            Role.TRUST_ANALYST,
            {},
            "pseudonymised figures across the trust, small counts hidden",
        ),
    ]
    accounts = []
    for username, role, extra, sees in plans:
        password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
        add_user(con, username, password, role, **extra)
        accounts.append(DemoAccount(username, password, role.value, sees))
    return accounts


def _assisted(con: duckdb.DuckDBPyConnection, school: str, group: str) -> tuple[str, ...]:
    """The demo assistant's two pupils: the group's first (the visitor's pupil too), and
    the group's first other pupil with SEN (an EHC plan before SEN support), as an assistant
    is usually assigned one, so their home page has them."""
    rows = con.execute(
        "SELECT m.pupil_key FROM core.bridge_group_member AS m "
        "LEFT JOIN marts.register_pupil AS r "
        "ON r.pupil_key = m.pupil_key AND r.school_urn = m.school_urn "
        "WHERE m.school_urn = ? AND m.group_code = ? "
        "ORDER BY m.pupil_key = (SELECT min(pupil_key) FROM core.bridge_group_member "
        "WHERE school_urn = ? AND group_code = ?) DESC, "
        "CASE r.sen_provision WHEN 'E' THEN 0 WHEN 'K' THEN 1 ELSE 2 END, m.pupil_key "
        "LIMIT 2",
        [school, group, school, group],
    ).fetchall()
    return tuple(str(r[0]) for r in rows)
