"""The review packs written into a folder before each term (``EMPOWERED_REVIEW_PACK_DIR``,
and ``empowered report review-pack --due --folder DIR`` for cron).

In the two weeks before a term starts (the school's own term dates where its calendar has
them), each school's pack and the trust's are written once into the folder as PDFs named by
the school and the term (``review-pack-123456-spring-2027.pdf``): a file already there means
that pack was written, so a server restarted, or a command run every day, writes none twice.
A pack is made as the command line's operator makes it (the school's SEN team: the document's
rule alone decides what it holds; the trust's pack suppressed and naming no child). The
caller records each in the audit log (``via="schedule"`` or "command line").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from empowered.access.documents import DocumentKind
from empowered.documents.asking import ask_for
from empowered.documents.made import Made
from empowered.documents.registry import make_document
from empowered.documents.terms import Term, term_ahead

if TYPE_CHECKING:
    from empowered.keys import Keys
    from empowered.views.cache import SchoolAnalyticsCache

LEAD_DAYS = 14  # a pack is written in the two weeks before its term starts


@dataclass(frozen=True)
class DuePack:
    kind: DocumentKind
    school_urn: str | None  # None: the trust's
    term: Term

    @property
    def file_name(self) -> str:
        """ "review-pack-123456-spring-2027.pdf", "trust-review-pack-spring-2027.pdf" """
        urn = f"-{self.school_urn}" if self.school_urn else ""
        return f"{self.kind}{urn}-{self.term.season}-{self.term.year}.pdf"


def _due(term: Term, today: date) -> bool:
    return 0 < (term.starts_on - today).days <= LEAD_DAYS


def due_packs(con: duckdb.DuckDBPyConnection, today: date) -> list[DuePack]:
    """Every pack whose term starts within the next two weeks: each school's, and the
    trust's (when the warehouse holds more than one school)."""
    found = con.execute("SELECT school_urn FROM core.dim_school ORDER BY 1").fetchall()
    schools = [str(r[0]) for r in found]
    out = [
        DuePack(DocumentKind.REVIEW_PACK, urn, term)
        for urn in schools
        if _due(term := term_ahead(con, urn, today), today)
    ]
    trust = term_ahead(con, None, today)
    if len(schools) > 1 and _due(trust, today):
        out.append(DuePack(DocumentKind.TRUST_REVIEW_PACK, None, trust))
    return out


def write_due(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    today: date,
    *,
    keys: Keys | None = None,
    cache: SchoolAnalyticsCache | None = None,
) -> Iterator[tuple[Path, Made]]:
    """Write every due pack not yet in ``folder``; yields each file as it is written (the
    caller audits it). A pack is written to a temporary name first, so a half-written file
    never stands for one written, and is readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    for due in due_packs(con, today):
        path = folder / due.file_name
        if path.exists():
            continue
        ask = ask_for(
            con,
            due.kind,
            "pdf",
            scope=None,
            made_on=today,
            school_urn=due.school_urn,
            term=f"{due.term.season} {due.term.year}",
            keys=keys,
            cache=cache,
        )
        made = make_document(con, ask)
        part = path.with_name(path.name + ".part")
        # Readable by the server's account only (a school's pack names children), as the
        # leaving export's files are; whoever shares the folder decides who else reads them.
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(made.body)
        os.replace(part, path)
        yield path, made
