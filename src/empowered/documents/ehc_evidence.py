"""(Being written for issue 16.)"""

from __future__ import annotations

import duckdb

from empowered.documents.made import Made
from empowered.documents.registry import Ask


def make(con: duckdb.DuckDBPyConnection, ask: Ask) -> Made:
    raise NotImplementedError("ehc_evidence")
