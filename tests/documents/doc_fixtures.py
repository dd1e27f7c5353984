"""The documents' tests' shared types (a module of its own: test folders share the name
``conftest``, so tests cannot import from it)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The web tests' helpers (signing in, forms' CSRF tokens): a module of their own in tests/web.
sys.path.insert(0, str(Path(__file__).parents[1] / "web"))

from web_fixtures import csrf_of  # noqa: E402


@dataclass(frozen=True)
class DocTrust:
    path: Path  # the web app's copy
    school: str  # the school with the most plan reviews: the SENCo's and the DSL's
    other_school: str
    pupil: str  # at ``school``: a current plan, reviews held, provision (the richest record)
    ehc_pupil: str | None  # at ``school``: an EHC plan, if the trust has one there
    other_school_pupil: str


def record_concern(client: Any, pupil: str, text: str) -> None:
    """A safeguarding concern about ``pupil``, recorded through the app's own form by the
    signed-in ``client`` (a member of staff), with ``text`` as what they saw or heard."""
    form = client.get(f"/concerns/new?pupil={pupil}")
    key = re.search(r'name="form_key" value="([^"]+)"', form.text)
    assert key, "the concern form carries its key"
    posted = client.post(
        "/concerns/new",
        data={
            "csrf": csrf_of(form.text),
            "pupil": pupil,
            "form_key": key.group(1),
            "category": "emotional",
            "concern_text": text,
            "people_present": "Nobody else",
            "place": "Playground",
        },
    )
    assert posted.status_code == 200, posted.text[:300]
