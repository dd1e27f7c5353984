"""Synthetic trust generator: realistic SEN data for a fictional multi-academy trust.

It writes every file of the canonical CSV format (docs/canonical-format.md) and a
``manifest.json`` describing the patterns it planted, so the analytics can be tested on
whether they find them. See docs/synthetic-trust.md.
"""

from empowered.synth.generate import MANIFEST_NAME, TrustSummary, generate_trust
from empowered.synth.writer import COLUMNS

__all__ = ["COLUMNS", "MANIFEST_NAME", "TrustSummary", "generate_trust"]
