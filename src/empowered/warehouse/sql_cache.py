"""Model SQL worked out once per content and kept on disk between processes.

Writing the staging SQL out from its declarations and reading every model's tables with
sqlglot costs about three seconds for all models, and every ``empowered build``, import,
server start and test process paid it. What comes out depends only on the text going in
and on the code that writes it, so each result is kept in a file named by a hash of both:
an edited model or a new version of this code or of sqlglot simply misses.

The files hold SQL and table names as JSON, never pickles: a cache is read, not run. Where
the folder cannot be written (a read-only home), everything is worked out as before.
``EMPOWERED_SQL_CACHE`` names the folder; ``off`` turns the cache off.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

# The modules whose code decides what a model's SQL becomes.
_WRITERS = (
    "staging_spec.py",
    "models.py",
    "checks.py",
    "sql_cache.py",
    "incremental.py",
    "uniqueness.py",
)


@functools.cache
def code_version() -> str:
    """A digest of the code that writes model SQL (and of sqlglot's version)."""
    here = Path(__file__).parent
    digest = hashlib.sha256(version("sqlglot").encode())
    for name in _WRITERS:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def cache_folder() -> Path | None:
    setting = os.environ.get("EMPOWERED_SQL_CACHE")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(home) / "empowered" / "model-sql"


def _key(kind: str, parts: tuple[str, ...]) -> str:
    digest = hashlib.sha256(f"{kind}\0{code_version()}".encode())
    for part in parts:
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


def kept(kind: str, parts: tuple[str, ...], work_out: Callable[[], Any]) -> Any:
    """``work_out()``, or what it gave last time for the same ``parts`` and code (a JSON
    value). Errors are raised, never kept."""
    folder = cache_folder()
    if folder is None:
        return work_out()
    path = folder / f"{kind}-{_key(kind, parts)}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    value = work_out()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Written whole then renamed: a process reading at the same time sees the old
        # file or the new one, never half of one.
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=folder, delete=False, suffix=".tmp"
        ) as out:
            json.dump(value, out)
        os.replace(out.name, path)
    except OSError:
        pass
    return value
