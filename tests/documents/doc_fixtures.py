"""The documents' tests' shared types (a module of its own: test folders share the name
``conftest``, so tests cannot import from it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DocTrust:
    path: Path  # the web app's copy
    school: str  # the school with the most plan reviews: the SENCo's and the DSL's
    other_school: str
    pupil: str  # at ``school``: a current plan, reviews held, provision (the richest record)
    ehc_pupil: str | None  # at ``school``: an EHC plan, if the trust has one there
    other_school_pupil: str
