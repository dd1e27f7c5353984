"""The demo: a small synthetic trust, written as schools really hold it (MIS exports, a
Common Transfer File, a forms export, a provision tracker, canonical files) with some
planted mess, imported through the real readers and built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from empowered.imports import ImportOutcome, run_import
from empowered.synth import TrustSummary, generate_trust
from empowered.synth.school_formats import SchoolFormats, write_school_formats
from empowered.warehouse.runner import ProgressCallback

DEMO_SCHOOLS = 3
DEMO_PUPILS = 1500
DEMO_YEARS = 1
DEMO_SEED = 2025


@dataclass(frozen=True)
class DemoResult:
    trust: TrustSummary
    formats: SchoolFormats
    imported: ImportOutcome


def run_demo(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    *,
    pseudonym_secret: str,
    report_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> DemoResult:
    trust = generate_trust(
        data_dir / "canonical",
        schools=DEMO_SCHOOLS,
        pupils=DEMO_PUPILS,
        years=DEMO_YEARS,
        seed=DEMO_SEED,
    )
    formats = write_school_formats(data_dir / "canonical", data_dir / "schools", seed=DEMO_SEED)
    imported = run_import(
        con,
        [formats.folder],
        pseudonym_secret=pseudonym_secret,
        report_dir=report_dir,
        progress=progress,
    )
    return DemoResult(trust, formats, imported)
