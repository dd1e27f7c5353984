"""Same arguments give byte-identical files; another seed gives another trust."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from empowered.synth import generate_trust


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_same_seed_same_bytes_for_every_file(synth_trust: Any, tmp_path: Path) -> None:
    again = generate_trust(tmp_path / "again", schools=3, pupils=600, seed=7)
    first, second = _files(synth_trust.dir), _files(again.out_dir)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name


def test_different_seed_gives_different_data(synth_trust: Any, tmp_path: Path) -> None:
    other = generate_trust(tmp_path / "other", schools=3, pupils=600, seed=8)
    first, second = _files(synth_trust.dir), _files(other.out_dir)
    for name in ("pupils.csv", "attendance.csv", "observations.csv", "manifest.json"):
        assert first[name] != second[name], name
    # The shared catalogues do not depend on the seed.
    assert first["strategies.csv"] == second["strategies.csv"]
    assert first["interventions.csv"] == second["interventions.csv"]


def test_first_academic_year_moves_the_calendar(tmp_path: Path) -> None:
    summary = generate_trust(
        tmp_path / "y2027", schools=2, pupils=200, seed=3, first_academic_year=2027, years=2
    )
    manifest = json.loads(summary.manifest_path.read_text("utf-8"))
    assert manifest["academic_years"] == ["2027/28", "2028/29"]
    terms = (summary.out_dir / "terms.csv").read_text("utf-8").splitlines()[1:]
    assert {line.split(",")[1] for line in terms} == {"2027/28", "2028/29"}
    attendance = (summary.out_dir / "attendance.csv").read_text("utf-8").splitlines()[1:]
    dates = sorted({line.split(",")[2] for line in attendance})
    assert dates[0].startswith("2027-09") and dates[-1].startswith("2029-07")


def test_tiny_trust_and_bad_arguments(tmp_path: Path) -> None:
    summary = generate_trust(tmp_path / "tiny", schools=1, pupils=10, seed=1)
    assert summary.schools == 1 and summary.pupils >= 10
    assert summary.counts["attendance.csv"] > 0
    for kwargs in ({"schools": 0}, {"pupils": 5}, {"years": 0}, {"seed": -1}):
        with pytest.raises(ValueError):
            generate_trust(tmp_path / "bad", **kwargs)
