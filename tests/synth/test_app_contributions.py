"""The demo's notes from visiting professionals: landed through the app's service by the
demo's writer, accepted by staging, with a real PDF report sealed in the warehouse."""

from __future__ import annotations

from datetime import date

import duckdb

from empowered.access.roles import Role
from empowered.access.users import list_users
from empowered.contributions import sealed_report
from empowered.demo import create_demo_accounts
from empowered.identity import IdentityReader
from empowered.synth.app_contributions import minimal_pdf, write_contributions
from empowered.synth.app_sources import WRITERS, DemoContext
from empowered.warehouse.build import build_duckdb
from identity_keys import TEST_KEYS


def test_a_minimal_pdf_is_well_formed() -> None:
    pdf = minimal_pdf(["Line (one)", "Line two"])
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.rstrip().endswith(b"%%EOF")
    # The cross-reference table points at each object's first byte.
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert pdf[xref:].startswith(b"xref\n0 6\n")
    offsets = [int(line[:10]) for line in pdf[xref:].split(b"\n")[3:8]]
    for number, offset in enumerate(offsets, start=1):
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())
    assert b"Line \\(one\\)" in pdf


def test_the_demo_writer_lands_visitor_notes_that_staging_accepts(
    warehouse_copy: duckdb.DuckDBPyConnection,
) -> None:
    assert write_contributions in WRITERS
    con = warehouse_copy
    create_demo_accounts(con)
    users = [u for u in list_users(con) if u.school_urn is not None]
    visitor = next(u for u in users if u.role is Role.VISITING_PROFESSIONAL)
    assert visitor.organisation == "Educational psychology service"
    staff = {u.role: u for u in users if u.school_urn == visitor.school_urn}
    assert visitor.school_urn is not None
    context = DemoContext(visitor.school_urn, staff, TEST_KEYS, date.today(), seed=5)
    landed = write_contributions(con, context)
    assert landed == 4
    # Land only: nothing in staging until the hook's one build.
    assert con.execute("SELECT count(*) FROM raw.canonical_contributions").fetchone() == (4,)
    assert build_duckdb(con, touched={"raw.canonical_contributions"}).ok
    rejected = con.execute(
        "SELECT count(*) FROM staging.stg_canonical_contributions WHERE _reject_reason IS NOT NULL"
    ).fetchone()
    assert rejected == (0,)
    rows = con.execute(
        "SELECT c.pupil_key, c.area, c.author_role, c.organisation, c.title, c.file_sha256, "
        "b.source FROM core.fct_contribution AS c JOIN meta.batches AS b USING (batch_id) "
        "ORDER BY c.visited_on"
    ).fetchall()
    assert {r[0] for r in rows} == {visitor.pupils[0]}
    assert {r[6] for r in rows} == {"app-contribution"}
    by_role = sorted((r[2], r[1]) for r in rows)
    assert by_role == [
        ("senco", "learning"),
        ("visiting_professional", "strategies"),
        ("visiting_professional", "wellbeing"),
        ("visiting_professional", "wellbeing"),
    ]
    reader = IdentityReader(TEST_KEYS)
    titles = {reader.text(r[4]) for r in rows}
    assert "Educational psychology consultation" in titles
    digests = [r[5] for r in rows if r[5]]
    assert len(digests) == 1
    sealed = sealed_report(con, digests[0])
    assert sealed is not None and reader.report(sealed).startswith(b"%PDF-")
