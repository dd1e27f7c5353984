"""The upload page's column mappings: a file whose headings are not all recognised waits
while the uploader says, heading by heading, what each holds; the choices are saved as
the school's mapping (``sources.saved_mappings``) and the file is imported with it.

The waiting file is kept beside the other uploads under a random token, for its uploader
only, and deleted once imported, cancelled, or a day old: like any upload it holds
pupils' data in clear, so it is not kept longer than the choice takes.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fastapi import FastAPI

from empowered.sources.errors import SourceError
from empowered.sources.importer import is_canonical
from empowered.sources.layouts import LayoutReader, layout_headings, load_layouts
from empowered.sources.mapping import Mapping
from empowered.sources.mapping_builder import likely_layout, unread_headings
from empowered.sources.presets import recognised_columns
from empowered.sources.registry import choose_reader
from empowered.sources.tabular import read_header
from empowered.web.import_runs import uploads_root

TABULAR = (".csv", ".txt", ".xlsx")
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_HELD = "held.json"
KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Held:
    token: str
    path: Path  # the uploaded file, waiting for its headings to be explained
    school: str  # the school chosen on the upload page ("" when none)


def _root(app: FastAPI) -> Path:
    return uploads_root(app) / "waiting"


def hold(app: FastAPI, user_id: int, school: str, name: str, body: BinaryIO) -> Held:
    """Keep an uploaded file until its uploader decides."""
    _sweep(app)
    token = secrets.token_hex(16)
    folder = _root(app) / token
    folder.mkdir(parents=True)
    path = folder / name
    with path.open("wb") as out:
        shutil.copyfileobj(body, out, 1 << 20)
    held = {"user_id": user_id, "school": school, "file": name}
    (folder / _HELD).write_text(json.dumps(held), encoding="utf-8")
    return Held(token, path, school)


def held(app: FastAPI, token: str, user_id: int) -> Held | None:
    """The file waiting under ``token``, if it is this user's."""
    if not _TOKEN.match(token):
        return None
    folder = _root(app) / token
    try:
        meta = json.loads((folder / _HELD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("user_id") != user_id:
        return None
    path = folder / Path(str(meta.get("file", ""))).name
    if not path.is_file():
        return None
    return Held(token, path, str(meta.get("school") or ""))


def release(item: Held) -> None:
    shutil.rmtree(item.path.parent, ignore_errors=True)


def _sweep(app: FastAPI) -> None:
    """Forget files left waiting for a day (their uploader went away)."""
    root = _root(app)
    if not root.is_dir():
        return
    cutoff = time.time() - KEEP_SECONDS
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Headings:
    base: Mapping | None  # the layout fitted from the headings, or None: none fits
    how: str  # how the file would be read, in words
    unread: list[str]  # the headings to ask about
    layout: str | None = None  # whose columns to offer (``mapping_builder.choices_for``)


def headings_to_ask(path: Path, school: str | None) -> Headings | None:
    """The headings of a spreadsheet that nothing reads, when a layout fitted from its
    headings leaves some unused or none fits; None when the file is a known format (a
    system's report, a CTF, a forms export...) or every heading is read."""
    if path.suffix.lower() not in TABULAR or is_canonical(path):
        return None
    try:
        reader = choose_reader(path, "auto", school=school or None)
        header = read_header(path, expected=recognised_columns() | layout_headings())
    except SourceError:
        return None
    if reader is not None and not isinstance(reader, LayoutReader):
        return None
    if isinstance(reader, LayoutReader):
        fitted = reader.fitted
        if fitted.mapping.attendance is not None:
            return None
        base: Mapping | None = fitted.mapping
        how = (
            f"EmpowerED+ read it as a {fitted.layout.description} from its headings, "
            f"using {fitted.used} of its {fitted.columns} columns."
        )
    else:
        base = None
        how = "EmpowerED+ did not recognise its headings."
    unread = unread_headings(header, base)
    if not unread:
        return None
    layout = likely_layout(header, base)
    if base is None and layout is not None:
        looks = next(x.description for x in load_layouts() if x.name == layout)
        how = f"EmpowerED+ did not recognise all its headings: it looks like a {looks}."
    return Headings(base, how, unread, layout)
