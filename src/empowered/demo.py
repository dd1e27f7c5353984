"""The demo: a small synthetic trust, imported through the real path and built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from empowered.sources.importer import ImportResult, import_canonical_folder
from empowered.synth import TrustSummary, generate_trust
from empowered.warehouse.build import build_duckdb
from empowered.warehouse.runner import BuildResult, ProgressCallback

DEMO_SCHOOLS = 3
DEMO_PUPILS = 1500
DEMO_YEARS = 1
DEMO_SEED = 2025


@dataclass(frozen=True)
class DemoResult:
    trust: TrustSummary
    imported: ImportResult
    build: BuildResult


def run_demo(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    *,
    pseudonym_secret: str,
    progress: ProgressCallback | None = None,
) -> DemoResult:
    trust = generate_trust(
        data_dir, schools=DEMO_SCHOOLS, pupils=DEMO_PUPILS, years=DEMO_YEARS, seed=DEMO_SEED
    )
    imported = import_canonical_folder(con, data_dir, pseudonym_secret=pseudonym_secret)
    build = build_duckdb(con, progress=progress)
    return DemoResult(trust, imported, build)
