"""Export for leaving: everything a school entered in EmpowerED+, as files that outlive it.

When a school stops using EmpowerED+ (or leaves its trust), the plans, reviews, actions,
session registers, concerns and notes its staff wrote exist nowhere else: the MIS never
held them. :func:`export` writes one zip per school (mode 0600) holding one CSV per kind of
record (:mod:`empowered.leaving.records`), one readable HTML document per pupil, a
separate ``safeguarding`` folder with one document per child (a child protection file
travels separately and securely: Keeping children safe in education), the reports
visiting professionals attached (decrypted), ``index.html`` and ``README.txt``.

What came from the MIS and other imports is left out (the school already holds it), and
so are figures the warehouse derives. The export only reads the warehouse; the caller
records the ``leaving_export`` audit entry (school and counts, nothing else).
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from empowered.access.audit import LeavingExported
from empowered.contributions import sealed_report
from empowered.exports import write_csv
from empowered.keys import Keys
from empowered.leaving.records import KINDS, SAFEGUARDING, Readable, Row, Table, heading, read

# The parts of a pupil's document given a shape of their own; every other general kind is
# shown as a table.
_SHAPED = frozenset({"plans", "plan_outcomes", "review_meetings", "review_ratings"})
_IDENTITY = ("pupil_name", "upn", "date_of_birth")  # said once, at the document's top


class UnknownSchool(LookupError):
    """No school with that URN is in the warehouse."""


@dataclass(frozen=True)
class LeavingExport:
    school_urn: str
    path: Path
    counts: dict[str, int]  # kind -> rows
    pupils: int
    files: int  # contribution reports written out


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("empowered.leaving", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["heading"] = heading
    return env


def _csv(table: Table, folder: Path) -> None:
    write_csv(
        folder / table.kind.file,
        [heading(c) for c in table.columns],
        ([r[c] for c in table.columns] for r in table.rows),
    )


def _safe(text: str) -> str:
    """A file name part in plain characters, no folders."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text.replace("\\", "/").split("/")[-1]).strip("._")


def _reports(
    con: duckdb.DuckDBPyConnection, table: Table, readable: Readable, folder: Path
) -> dict[str, str]:
    """Each attached report, decrypted, as ``contributions/<id>-<name>``: pupil key -> the
    files of theirs, by contribution id."""
    written: dict[str, str] = {}
    for row in table.rows:
        sealed = sealed_report(con, str(row["file_sha256"])) if row["file_sha256"] else None
        if sealed is None:
            continue
        name = f"contributions/{_safe(str(row['contribution_id']))}-{_safe(str(row['file_name']))}"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(readable.reader.report(sealed))
        written[str(row["contribution_id"])] = name
    return written


def _of(rows: Iterable[Row], key: str) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        grouped[str(r[key])].append(r)
    return grouped


def _columns(table: Table, *drop: str) -> list[str]:
    return [c for c in table.columns if c not in {"pupil_key", *_IDENTITY, *drop}]


def _pupil_context(
    pupil_key: str, tables: dict[str, Table], files: dict[str, str]
) -> dict[str, Any]:
    mine = {n: [r for r in t.rows if r.get("pupil_key") == pupil_key] for n, t in tables.items()}
    outcomes = _of(mine["plan_outcomes"], "plan_id")
    ratings = _of(mine["review_ratings"], "meeting_id")
    others = [
        {"title": t.kind.title, "rows": mine[n], "columns": _columns(t)}
        for n, t in tables.items()
        if n not in _SHAPED and t.kind.folder == "" and mine[n]
    ]
    return {
        "plans": [
            {
                "plan": p,
                "outcomes": [
                    o for o in outcomes[p["plan_id"]] if o["plan_version"] == p["version"]
                ],
            }
            for p in reversed(mine["plans"])
        ],
        "plan_columns": _columns(tables["plans"], "plan_id", "version", "current_version"),
        "outcome_columns": _columns(tables["plan_outcomes"], "plan_id", "plan_version"),
        "reviews": [
            {"meeting": m, "ratings": ratings[m["meeting_id"]]} for m in mine["review_meetings"]
        ],
        "meeting_columns": _columns(tables["review_meetings"]),
        "rating_columns": _columns(tables["review_ratings"], "meeting_id", "plan_id"),
        "others": others,
        "files": [
            files[r["contribution_id"]]
            for r in mine["contributions"]
            if r["contribution_id"] in files
        ],
    }


def _documents(
    env: jinja2.Environment,
    tables: dict[str, Table],
    readable: Readable,
    files: dict[str, str],
    folder: Path,
    common: dict[str, Any],
) -> list[dict[str, Any]]:
    """One document per pupil (and a safeguarding one per child with such records); the
    pupils, named, for the index."""
    listed = []
    for pupil_key, pupil in sorted(readable.pupils.items(), key=lambda p: str(p[1]["pupil_name"])):
        entry = {**pupil, "document": "", "safeguarding": ""}
        general = {n: t for n, t in tables.items() if t.kind.folder == ""}
        if any(r.get("pupil_key") == pupil_key for t in general.values() for r in t.rows):
            entry["document"] = f"pupils/{_safe(pupil_key)}.html"
            context = {**common, "pupil": pupil, **_pupil_context(pupil_key, tables, files)}
            _write(folder / entry["document"], env.get_template("pupil.html").render(context))
        guarded = [
            {"title": t.kind.title, "rows": rows, "columns": _columns(t)}
            for t in tables.values()
            if t.kind.folder == SAFEGUARDING
            and (rows := [r for r in t.rows if r.get("pupil_key") == pupil_key])
        ]
        if guarded:
            entry["safeguarding"] = f"{SAFEGUARDING}/{_safe(pupil_key)}.html"
            context = {**common, "pupil": pupil, "tables": guarded}
            _write(
                folder / entry["safeguarding"],
                env.get_template("safeguarding.html").render(context),
            )
        listed.append(entry)
    return listed


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _zip(folder: Path, path: Path) -> None:
    """Zip ``folder`` into ``path``, created readable by its owner only (it names children)."""
    temporary = path.with_name(path.name + ".part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for file in sorted(folder.rglob("*")):
                    if file.is_file():
                        archive.write(file, file.relative_to(folder).as_posix())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def audit_event(done: LeavingExport) -> LeavingExported:
    """The audit entry for an export: the school and counts, nothing else."""
    counts = ", ".join(f"{kind} {rows}" for kind, rows in done.counts.items() if rows)
    return LeavingExported(
        school_urn=done.school_urn,
        pupils=done.pupils,
        records=sum(done.counts.values()),
        counts=counts,
    )


def school_name(con: duckdb.DuckDBPyConnection, school_urn: str) -> str:
    found = con.execute(
        "SELECT school_name FROM core.dim_school WHERE school_urn = ?", [school_urn]
    ).fetchone()
    if found is None:
        raise UnknownSchool(school_urn)
    return str(found[0] or school_urn)


def schools(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every school's URN, for ``--all``."""
    return [
        str(r[0])
        for r in con.execute("SELECT school_urn FROM core.dim_school ORDER BY 1").fetchall()
    ]


def export(
    con: duckdb.DuckDBPyConnection,
    school_urn: str,
    out_dir: Path,
    *,
    keys: Keys,
    now: datetime | None = None,
) -> LeavingExport:
    """Write ``leaving-<URN>-<time>.zip`` into ``out_dir``. The files are laid out first in
    a private folder (0700) inside ``out_dir``, removed when the zip is written or fails,
    so decrypted records never leave the folder chosen for them. Raises ``UnknownSchool``
    for a URN the warehouse does not know."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    common = {
        "school_urn": school_urn,
        "school_name": school_name(con, school_urn),
        "generated": now.strftime("%d %B %Y %H:%M UTC"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".leaving-", dir=out_dir) as work:
        return _export(con, common, out_dir, Path(work), keys, now)


def _export(
    con: duckdb.DuckDBPyConnection,
    common: dict[str, Any],
    out_dir: Path,
    work_dir: Path,
    keys: Keys,
    now: datetime,
) -> LeavingExport:
    school_urn = str(common["school_urn"])
    readable = Readable(con, keys)
    tables = {kind.name: read(con, kind, school_urn, readable) for kind in KINDS}
    for table in tables.values():
        if table.rows or not table.kind.folder:
            _csv(table, work_dir)
    files = _reports(con, tables["contributions"], readable, work_dir)
    env = _environment()
    pupils = _documents(env, tables, readable, files, work_dir, common)
    written = [t for t in tables.values() if t.rows or not t.kind.folder]
    guarded = any(p["safeguarding"] for p in pupils)
    context = {**common, "pupils": pupils, "tables": written, "guarded": guarded}
    _write(work_dir / "index.html", env.get_template("index.html").render(context))
    if guarded:
        index = env.get_template("safeguarding_index.html").render(context)
        _write(work_dir / SAFEGUARDING / "index.html", index)
    _write(work_dir / "README.txt", env.get_template("README.txt").render(context))
    path = out_dir / f"leaving-{_safe(school_urn)}-{now:%Y%m%d-%H%M%S}.zip"
    _zip(work_dir, path)
    counts = {name: len(t.rows) for name, t in tables.items()}
    return LeavingExport(school_urn, path, counts, len(pupils), len(files))


__all__ = ["LeavingExport", "UnknownSchool", "audit_event", "export", "school_name", "schools"]
