"""Contributions from visiting professionals (issue 13, item 6): the form's checks, the
report kept sealed, the note landed as a source of its own and taken through staging into
core with its provenance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from empowered import contributions as contrib
from empowered.identity import IdentityReader
from empowered.sources.canonical import APP_ENTITIES
from empowered.sources.landing import land_app_record
from empowered.synth.app_contributions import minimal_pdf
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS

AREAS = ("wellbeing", "strategies")
TODAY = date(2026, 11, 23)
PDF = minimal_pdf(["Speech and language therapy: assessment summary", "Made-up text."])


def form(**changes: str) -> dict[str, str]:
    return {
        "area": "wellbeing",
        "title": "Speech and language assessment",
        "note": "Understands two-step instructions; advise visual prompts in class.",
        "visited_on": "2026-11-20",
        **changes,
    }


def test_a_pdf_is_kept_and_its_name_made_safe() -> None:
    report = contrib.Report("C:\\reports\\assessment <final>.pdf", PDF)
    checked = contrib.check_contribution(form(), areas=AREAS, today=TODAY, report=report)
    assert checked.ok, checked.errors
    assert checked.report is not None and checked.report.name == "assessment _final_.pdf"
    assert checked.report.sha256 == report.sha256


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"0" * 200, "not a PDF"),
        (b"Dear SENCo, this is a letter, not a PDF %%EOF", "not a PDF"),
        (b"%PDF-1.7\n" + b"0" * 200, "not a PDF"),  # no end: cut short or not a PDF at all
        (b"", "empty"),
        (b"%PDF-1.4\n" + b"0" * contrib.MAX_FILE_BYTES + b"\n%%EOF\n", "larger than 10 MB"),
    ],
)
def test_anything_but_a_pdf_within_the_limit_is_refused_with_a_clear_message(
    data: bytes, says: str
) -> None:
    report = contrib.Report("report.pdf", data)
    checked = contrib.check_contribution(form(), areas=AREAS, today=TODAY, report=report)
    assert not checked.ok and says in checked.errors["report"]
    assert checked.report is None


def test_the_form_checks_what_staging_checks() -> None:
    def errors(entry: date | None = None, **changes: str) -> dict[str, str]:
        return contrib.check_contribution(
            form(**changes), areas=AREAS, today=TODAY, entry_date=entry
        ).errors

    assert "area" in errors(area="learning")  # not one of this visitor's areas
    assert "area" in errors(area="nonsense")
    assert "title" in errors(title="  ")
    assert "note" in errors(note="")
    assert "note" in errors(note="x" * (contrib.NOTE_MAX + 1))
    assert "in the future" in errors(visited_on="2026-11-24")["visited_on"]
    assert "visited_on" in errors(visited_on="20/11/2026x")
    assert "joined the school" in errors(date(2026, 11, 21))["visited_on"]
    assert errors() == {}


def a_pupil(con: duckdb.DuckDBPyConnection) -> tuple[str, str, str, date]:
    row = con.execute(
        "SELECT i.school_urn, i.pupil_key, i.upn, p.entry_date FROM core.pupil_identity AS i "
        "JOIN core.dim_pupil AS p USING (pupil_key) WHERE p.is_on_roll "
        "ORDER BY i.pupil_key LIMIT 1"
    ).fetchone()
    assert row is not None
    school, key, upn, entry = row
    return school, key, str(IdentityReader(TEST_KEYS).upn(upn)), entry


def test_a_note_with_a_report_lands_sealed_and_reaches_core_with_its_provenance(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    con = warehouse_copy
    school, pupil_key, upn, _ = a_pupil(con)
    today = date.today()
    visited = (today - timedelta(days=3)).isoformat()
    note = "Word-finding difficulties at the end of the day; advise a word mat."
    checked = contrib.check_contribution(
        form(visited_on=visited, note=note),
        areas=AREAS,
        today=today,
        report=contrib.Report("slt-report.pdf", PDF),
    )
    assert checked.ok, checked.errors
    author = contrib.Author("app-user-7", "visiting_professional", "Speech and language therapy")
    landed = contrib.land_contribution(
        con, checked, school_urn=school, upn=upn, author=author, keys=TEST_KEYS
    )
    # Landed only: the demo's writer relies on that; the form builds after.
    assert con.execute("SELECT count(*) FROM raw.canonical_contributions").fetchone() == (1,)
    assert landed.touched >= {"raw.canonical_contributions"}
    built = contrib.build_contributions(con, landed.touched)
    assert built.ok, [f.message for f in built.failures()]
    how = {r.model.name: r for r in built.results}
    assert "core.fct_contribution" in how

    # The raw row: the file's name and digest (provenance), nothing sensitive in clear.
    raw = con.execute(
        "SELECT title, note, file_name, file_sha256, upn, author, organisation "
        "FROM raw.canonical_contributions"
    ).fetchone()
    assert raw is not None
    title, stored_note, file_name, digest, stored_upn, who, org = raw
    reader = IdentityReader(TEST_KEYS)
    assert reader.text(title) == "Speech and language assessment"
    assert reader.text(stored_note) == note and note not in str(raw)
    assert reader.text(file_name) == "slt-report.pdf" and "slt-report" not in str(raw)
    assert digest == contrib.Report("x", PDF).sha256 == landed.file_sha256
    assert stored_upn != upn and (who, org) == ("app-user-7", "Speech and language therapy")
    # The report: sealed in the warehouse, opened only through the identity module.
    sealed = contrib.sealed_report(con, digest)
    assert sealed is not None and PDF[:40] not in sealed
    assert reader.report(sealed) == PDF

    source = con.execute(
        "SELECT b.source, b.file_name, c.pupil_key, c.area, c.visited_on "
        "FROM core.fct_contribution AS c JOIN meta.batches AS b ON b.batch_id = c.batch_id"
    ).fetchone()
    assert source == (
        "app-contribution",
        contrib.FORM_NAME,
        pupil_key,
        "wellbeing",
        today - timedelta(days=3),
    )


def test_staging_quarantines_what_the_form_would_have_refused(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    """Rows that did not come through the form (or a form that checked less) are still
    judged by staging's rules, with their messages."""
    con = warehouse_copy
    school, _, upn, entry = a_pupil(con)
    entity = APP_ENTITIES["contributions"]
    good = {
        "contribution_id": "VC-1",
        "school_urn": school,
        "upn": upn,
        "area": "wellbeing",
        "title": "enc1:x:y",
        "note": "enc1:x:y",
        "visited_on": date.today().isoformat(),
        "author": "app-user-1",
        "author_role": "visiting_professional",
    }
    bad = {
        "VC-2": {"area": "gardening"},
        "VC-3": {"title": ""},
        "VC-4": {"visited_on": "2099-01-05"},
        "VC-5": {"file_sha256": "not-a-digest"},
        "VC-6": {"visited_on": (entry - timedelta(days=1)).isoformat()},
        "VC-7": {"author": " "},
    }
    for n, (cid, change) in enumerate([("VC-1", {}), *bad.items()]):
        land_app_record(
            con,
            entity,
            good | {"contribution_id": cid} | change,
            source=contrib.SOURCE,
            file_name=contrib.FORM_NAME,
            seed=f"test|{n}|{datetime.now(UTC).isoformat()}",
            keys=TEST_KEYS,
        )
    assert build_duckdb(con, touched={entity.raw_table}).ok
    got = dict(
        con.execute(
            "SELECT contribution_id, coalesce(_reject_column || ' ' || _reject_reason, 'ok') "
            "FROM staging.stg_canonical_contributions"
        ).fetchall()
    )
    assert got == {
        "VC-1": "ok",
        "VC-2": "area is not one of: wellbeing, behaviour, learning, strategies, register, "
        "provision, attendance, safeguarding",
        "VC-3": "title is missing: a contribution has a title",
        "VC-4": "visited_on is in the future",
        "VC-5": "file_sha256 is not a SHA-256 digest (64 hexadecimal digits)",
        "VC-6": "visited_on is outside the pupil's time on roll at this school",
        "VC-7": "author is missing: a contribution names the account that wrote it",
    }
    assert con.execute("SELECT count(*) FROM core.fct_contribution").fetchone() == (1,)
