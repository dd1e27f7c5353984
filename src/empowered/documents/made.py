"""A document made: what the command line writes and the web hands out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from empowered.access.audit import DocumentMade
from empowered.access.documents import DocumentKind

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Made:
    kind: DocumentKind
    format: str  # pdf | xlsx
    body: bytes
    file_name: str  # for the download: "parent-report-2026-12-07.pdf", never a name
    pupil_key: str | None
    school_urn: str | None
    pages: int  # a PDF's pages; a workbook's rows

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    def audit_event(self, via: str) -> DocumentMade:
        return DocumentMade(
            kind=str(self.kind),
            format=self.format,
            pupil_key=self.pupil_key,
            school_urn=self.school_urn,
            pages=self.pages,
            via=via,
        )


def file_name(kind: DocumentKind, made_on: date, fmt: str, *, key: str | None = None) -> str:
    """A file name that says what the document is, with the pupil's key or the school's
    URN (never a child's name: a file name ends up in e-mail subjects and folders)."""
    tail = f"-{key}" if key else ""
    return f"{kind}{tail}-{made_on.isoformat()}.{fmt}"
