"""Contributions from visiting professionals: a note about a pupil, perhaps with a report.

An educational psychologist or a speech and language therapist who was given a pupil
(``Role.VISITING_PROFESSIONAL``: named pupils, chosen areas, an expiry date) writes what they
assessed or advised, in one of their areas, with the date of the visit, and may attach their
report as a PDF. The SENCo may file one too (advice that came by post). Who may, for which
pupil and area, is the policy's (``policy.may_contribute``); this module checks the form and
lands it.

A contribution is a source like any other: ONE ``contributions`` record lands in raw as a
batch of its own (source ``app-contribution``) and flows through staging
(``stg_canonical_contributions``) into ``core.fct_contribution``. The form applies staging's
rules first, so "Saved" means the row will be accepted.

What is sensitive is encrypted before it reaches the warehouse: the title, the note and the
file's name (they describe the child's needs and may name the child) as AES-GCM ciphertext
with the identity key, and the report itself, sealed the same way, in ``app.contribution_files``
under its SHA-256 (never a folder a web server could serve; one file to back up with the
rest). The raw row names the file by that digest: its provenance. Only
:mod:`empowered.identity` decrypts, for a page whose user the policy lets read the area.

:func:`land_contribution` checks nothing and builds nothing: the form (after
:func:`check_contribution`) and the demo's writer call it; the form then calls
:func:`build_contributions`, the demo's hook builds once for every writer.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb

from empowered.access.roles import AREAS
from empowered.crypto import IdentityCipher
from empowered.keys import Keys
from empowered.sources.canonical import APP_ENTITIES
from empowered.sources.landing import ensure_raw_tables, prepare_records, write_batch
from empowered.sources.records import SourceRecord
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult

SOURCE = "app-contribution"
ENTITY = APP_ENTITIES["contributions"]
FORM_NAME = "visiting professional's note"
TITLE_MAX = 120
NOTE_MAX = 4000
FILE_NAME_MAX = 120
MAX_FILE_BYTES = 10 * 1024 * 1024  # 10 MB: a scanned report of a few dozen pages
PDF_MAGIC = b"%PDF-"
# A PDF ends with %%EOF, perhaps followed by a line ending or a little padding.
PDF_END = b"%%EOF"


@dataclass(frozen=True)
class Report:
    """A file as uploaded: its name (as the uploader's computer gave it) and bytes."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Checked:
    """The form after checking: clean values, and a message per field that is wrong."""

    area: str = ""
    title: str = ""
    note: str = ""
    visited_on: date | None = None
    report: Report | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _safe_name(name: str) -> str:
    # The file's own name, without folders, in plain characters: it is shown on pages.
    base = re.split(r"[\\/]", name)[-1]
    return re.sub(r"[^A-Za-z0-9._ ()-]", "_", base).strip(" .")[:FILE_NAME_MAX]


def check_pdf(report: Report) -> str | None:
    """Why this file cannot be kept as a report, in plain words (None: it can)."""
    if not report.data:
        return "The file is empty: choose the report again."
    if len(report.data) > MAX_FILE_BYTES:
        # Only the first bytes past the limit are read (web.contributions): say "larger".
        return (
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: a report can be at "
            "most that. Save it with smaller pictures, or in parts."
        )
    # The content decides, not the name: a PDF starts with %PDF- (within its first bytes,
    # where some writers put a byte-order mark or a line first) and ends with %%EOF.
    if PDF_MAGIC not in report.data[:1024] or PDF_END not in report.data[-1024:]:
        return (
            "This file is not a PDF. Save the report as a PDF (in Word: File, Save as, PDF) "
            "and choose that file."
        )
    return None


def check_contribution(
    form: Mapping[str, str],
    *,
    areas: Sequence[str],
    today: date,
    report: Report | None = None,
    entry_date: date | None = None,
    leaving_date: date | None = None,
) -> Checked:
    """Check a posted form the way staging will (rules of ``stg_canonical_contributions``
    in the comments). ``areas``: those this user may file under (``policy.contribution_areas``);
    ``entry_date``/``leaving_date``: the pupil's time on roll (rule 19)."""
    checked = Checked()
    area = (form.get("area") or "").strip().lower()
    if area not in areas or area not in AREAS:  # rule 10, and the policy's areas
        checked.errors["area"] = "Choose one of your areas from the list."
    checked.area = area
    title = " ".join((form.get("title") or "").split())
    if not title:  # rule 11
        checked.errors["title"] = "Give the note a short title, for example “Speech assessment”."
    elif len(title) > TITLE_MAX:
        checked.errors["title"] = f"The title is {len(title)} characters: keep it to {TITLE_MAX}."
    checked.title = title
    note = (form.get("note") or "").strip()
    if not note:
        checked.errors["note"] = "Write what you found or advise."
    elif len(note) > NOTE_MAX:
        checked.errors["note"] = f"The note is {len(note)} characters: keep it to {NOTE_MAX}."
    checked.note = note
    day_text = (form.get("visited_on") or "").strip()
    if not day_text:  # rule 13
        checked.errors["visited_on"] = "Enter the date of the visit or assessment."
    else:
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            checked.errors["visited_on"] = "Enter the date as a date, for example 2026-11-23."
        else:
            if day > today:  # rule 14
                checked.errors["visited_on"] = (
                    "The date is in the future: enter the day you saw the pupil."
                )
            elif leaving_date is not None and day > leaving_date:  # rule 19
                checked.errors["visited_on"] = (
                    f"This pupil left the school on {long_date(leaving_date)}: choose a day "
                    "they were on roll."
                )
            elif entry_date is not None and day < entry_date:  # rule 19
                checked.errors["visited_on"] = (
                    f"This pupil joined the school on {long_date(entry_date)}: choose that "
                    "day or a later one."
                )
            checked.visited_on = day
    if report is not None and (report.name or report.data):
        problem = check_pdf(report)
        if problem:
            checked.errors["report"] = problem
        else:
            name = _safe_name(report.name) or "report.pdf"
            checked.report = Report(name, report.data)
    return checked


@dataclass(frozen=True)
class Author:
    """Who wrote the contribution, as its provenance keeps them: the account
    (``capture.staff_ref``), its role and organisation at the time."""

    staff: str
    role: str
    organisation: str | None


@dataclass(frozen=True)
class Landed:
    contribution_id: str
    batch_id: int
    file_sha256: str | None
    touched: frozenset[str]


def _store_file(con: duckdb.DuckDBPyConnection, cipher: IdentityCipher, report: Report) -> str:
    digest = report.sha256
    # The same report attached twice is kept once: the digest names it.
    con.execute(
        "INSERT INTO app.contribution_files (file_sha256, sealed, size_bytes, stored_at) "
        "SELECT ?, ?, ?, ? WHERE NOT EXISTS "
        "(SELECT 1 FROM app.contribution_files WHERE file_sha256 = ?)",
        [
            digest,
            cipher.seal_file(report.data),
            len(report.data),
            datetime.now(UTC).replace(tzinfo=None),
            digest,
        ],
    )
    return digest


def land_contribution(
    con: duckdb.DuckDBPyConnection,
    checked: Checked,
    *,
    school_urn: str,
    upn: str,
    author: Author,
    keys: Keys,
    now: datetime | None = None,
) -> Landed:
    """Land a checked contribution: the report (sealed) and the record, in ONE transaction
    (a record never names a file that is not there). ``upn`` names the pupil exactly as an
    import would, so staging matches the row the same way; it is never logged or shown."""
    if not checked.ok or checked.visited_on is None:
        raise ValueError("a contribution with errors is never landed")
    from empowered.access.store import ensure_access_tables

    now = now or datetime.now(UTC)
    cipher = IdentityCipher(keys.identity_keys)
    contribution_id = f"VC-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    report = checked.report
    values: dict[str, str | None] = {
        "contribution_id": contribution_id,
        "school_urn": school_urn,
        "upn": upn,
        "area": checked.area,
        "title": cipher.encrypt(checked.title),
        "note": cipher.encrypt(checked.note),
        "visited_on": checked.visited_on.isoformat(),
        "author": author.staff,
        "author_role": author.role,
        "organisation": author.organisation,
        "file_name": cipher.encrypt(report.name) if report else None,
        "file_sha256": report.sha256 if report else None,
        "saved_at": now.isoformat(timespec="seconds"),
    }
    ensure_access_tables(con)
    ensure_raw_tables(con)
    batch = prepare_records(
        FORM_NAME,
        hashlib.sha256(f"{SOURCE}|{contribution_id}".encode()).hexdigest(),
        SOURCE,
        ENTITY,
        [SourceRecord(ENTITY.name, values, 1)],
        keys=keys,
    )
    con.execute("BEGIN TRANSACTION")
    try:
        digest = _store_file(con, cipher, report) if report else None
        landed = write_batch(con, batch)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    assert landed.batch_id is not None
    touched = {ENTITY.raw_table} | ({"raw.pupil_pseudonym"} if landed.new_pupils else set())
    return Landed(contribution_id, landed.batch_id, digest, frozenset(touched))


def build_contributions(con: duckdb.DuckDBPyConnection, touched: frozenset[str]) -> BuildResult:
    """Build what a landed contribution touches (staging, core, what reads them)."""
    return build_duckdb(con, touched=set(touched))


def sealed_report(con: duckdb.DuckDBPyConnection, file_sha256: str) -> bytes | None:
    """A stored report, still sealed (``identity.IdentityReader.report`` opens it)."""
    row = con.execute(
        "SELECT sealed FROM app.contribution_files WHERE file_sha256 = ?", [file_sha256]
    ).fetchone()
    return bytes(row[0]) if row else None
