"""Reading documents back: their text, their tagged structure, a page as a picture.

A module of its own (test folders share the name ``conftest``, so tests cannot import from
it). Used by every document's tests: the sections are there, the figures are the view
services', every acronym is explained in the document, and the PDF is tagged (headings,
real tables, figures with alternative text)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from empowered.documents.acronyms import acronyms, explained

WORDS_HEADING = "Words used in this document"


def pdf_text(body: bytes) -> str:
    """Every page's text, in reading order, pages joined by a form feed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    return "\f".join(page.extract_text() or "" for page in reader.pages)


def flat(text: str) -> str:
    """Text with line breaks and repeated spaces made single spaces (a PDF breaks lines
    where the page is full, not where the sentence ends)."""
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Structure:
    tags: Counter[str]  # how many elements of each structure type (H1, P, Table, TH...)
    figure_alts: list[str | None]  # each Figure's /Alt (None: missing)
    lang: str | None
    marked: bool
    title: str | None
    pages: int


def structure(body: bytes) -> Structure:
    """The PDF's structure tree, as a screen reader meets it."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    root = reader.trailer["/Root"]
    tags: Counter[str] = Counter()
    alts: list[str | None] = []

    def walk(node: Any) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not hasattr(node, "get"):
            return
        kind = node.get("/S")
        if kind is not None:
            tags[str(kind).lstrip("/")] += 1
            if str(kind) == "/Figure":
                alt = node.get("/Alt")
                alts.append(str(alt) if alt is not None else None)
        kids = node.get("/K")
        if kids is not None:
            walk(kids)

    tree = root.get("/StructTreeRoot")
    if tree is not None:
        walk(tree.get_object().get("/K"))
    mark = root.get("/MarkInfo")
    meta = reader.metadata
    return Structure(
        tags=tags,
        figure_alts=alts,
        lang=str(root.get("/Lang")) if root.get("/Lang") is not None else None,
        marked=bool(mark and mark.get_object().get("/Marked")),
        title=meta.title if meta else None,
        pages=len(reader.pages),
    )


def assert_accessible(body: bytes) -> Structure:
    """Tagged, in English, titled, headings from H1, real tables with header cells, and
    alternative text on every figure."""
    s = structure(body)
    assert s.marked, "the PDF is not marked as tagged"
    assert s.lang == "en-GB", s.lang
    assert s.title, "the PDF has no title"
    assert s.tags["H1"] == 1, s.tags
    assert s.tags["H2"] >= 1, s.tags
    if s.tags["Table"]:
        assert s.tags["TH"] >= s.tags["Table"], "a table without header cells"
    assert all(alt and alt.strip() for alt in s.figure_alts), s.figure_alts
    return s


def unexplained_acronyms(text: str) -> set[str]:
    """Acronyms the document uses that neither the glossary explains nor the document's
    own "Words used in this document" lists."""
    body, _, words = flat(text).partition(WORDS_HEADING)
    used = acronyms(body)
    missing = used - explained()
    listed = {a for a in used if re.search(rf"(?<!\w){re.escape(a)}(?!\w)", words)}
    return missing | (used - listed)


def page_png(body: bytes, out: Path, *, page: int = 1, dpi: int = 60) -> Path:
    """One page drawn with pdftoppm, for a person to look at (``out`` without suffix)."""
    exe = shutil.which("pdftoppm")
    assert exe, "pdftoppm (Debian's poppler-utils) is needed to draw a page"
    pdf = out.with_suffix(".pdf")
    pdf.write_bytes(body)
    subprocess.run(
        [
            exe,
            "-png",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(out),
        ],
        check=True,
        timeout=60,
    )
    png = out.with_suffix(".png")
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
    return png
