"""Shared synthetic trusts: generated once per test session, small enough to stay fast."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest

from empowered.synth import TrustSummary, generate_trust

SMALL = {"schools": 3, "pupils": 600, "seed": 7}


class Trust:
    """A generated trust with cached CSV access."""

    def __init__(self, summary: TrustSummary) -> None:
        self.summary = summary
        self.dir = summary.out_dir
        self.manifest: dict[str, Any] = json.loads(summary.manifest_path.read_text("utf-8"))
        self._cache: dict[str, list[dict[str, str]]] = {}

    def rows(self, entity: str) -> list[dict[str, str]]:
        if entity not in self._cache:
            with (self.dir / f"{entity}.csv").open(encoding="utf-8", newline="") as f:
                self._cache[entity] = list(csv.DictReader(f))
        return self._cache[entity]

    def patterns(self, kind: str) -> list[dict[str, Any]]:
        return [p for p in self.manifest["patterns"] if p["kind"] == kind]


@pytest.fixture(scope="session")
def synth_trust(tmp_path_factory: pytest.TempPathFactory) -> Trust:
    out = tmp_path_factory.mktemp("synth_trust")
    return Trust(generate_trust(out, **SMALL))


@pytest.fixture(scope="session")
def trust_3000(tmp_path_factory: pytest.TempPathFactory) -> Trust:
    """Large enough for prevalence figures to be judged against national ones."""
    out = tmp_path_factory.mktemp("trust_3000")
    return Trust(generate_trust(out, schools=4, pupils=3000, seed=11))


@pytest.fixture(scope="session")
def two_year_trust(tmp_path_factory: pytest.TempPathFactory) -> Trust:
    """Two academic years: leavers, a new intake and year-group changes."""
    out = tmp_path_factory.mktemp("two_year_trust")
    return Trust(generate_trust(out, schools=2, pupils=300, seed=5, years=2))


@pytest.fixture(params=["synth_trust", "two_year_trust"])
def any_trust(request: pytest.FixtureRequest) -> Trust:
    trust: Trust = request.getfixturevalue(request.param)
    return trust
