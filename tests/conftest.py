"""Shared fixtures: a small synthetic trust, generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

# Small enough to keep the suite fast, big enough that every kind of planted pattern and
# every source file has rows.
SMALL_TRUST = {"schools": 3, "pupils": 600, "years": 1, "seed": 7}


@pytest.fixture(scope="session")
def small_trust(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from empowered.synth import generate_trust

    out = tmp_path_factory.mktemp("trust")
    generate_trust(out, **SMALL_TRUST)
    return out
