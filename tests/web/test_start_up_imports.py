"""Start-up cost: what importing the web app loads before the first request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _modules_loaded_by(statement: str) -> set[str]:
    """Top-level packages in sys.modules after ``statement`` runs in a fresh interpreter."""
    listing = "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    probe = f"import sys\n{statement}\n{listing}"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_importing_the_app_does_not_import_scipy() -> None:
    # scipy takes over a second to import; the analytics load it on first use instead.
    loaded = _modules_loaded_by("import empowered.web.app")
    assert "empowered" in loaded
    assert "scipy" not in loaded


def test_the_analytics_still_load_scipy_when_they_compute() -> None:
    loaded = _modules_loaded_by(
        "from empowered.analytics.rates import rate_ratio\n"
        "assert rate_ratio(3, 10.0, 4, 10.0).ratio > 0"
    )
    assert "scipy" in loaded
