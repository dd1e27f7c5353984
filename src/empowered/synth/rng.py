"""Independent, reproducible random streams.

Every part of the generator draws from its own stream keyed by the seed and a name (and
a school or year index). Adding a draw in one part therefore never shifts the numbers
another part sees, and the output depends only on the arguments, never on Python's
per-process string hashing.
"""

from __future__ import annotations

import zlib

import numpy as np


def substream(seed: int, name: str, *indices: int) -> np.random.Generator:
    """A generator for one named part of the trust (e.g. ``("attendance", school)``)."""
    entropy = [seed, zlib.crc32(name.encode("utf-8")), *indices]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def weighted_choice(
    rng: np.random.Generator, weights: tuple[tuple[str, float], ...], size: int
) -> list[str]:
    """Draw ``size`` codes from (code, weight) pairs."""
    codes = [code for code, _ in weights]
    p = np.array([w for _, w in weights], dtype=float)
    picks = rng.choice(len(codes), size=size, p=p / p.sum())
    return [codes[i] for i in picks]


def quota(weights: tuple[tuple[str, float], ...], total: int) -> list[str]:
    """Exactly ``total`` codes split by the weights (largest remainder), in weight order.

    Used where a small school must still show the national mix: independent draws would
    let chance reorder the most common needs in a trust of a few hundred pupils.
    """
    if total <= 0:
        return []
    p = np.array([w for _, w in weights], dtype=float)
    exact = p / p.sum() * total
    counts = np.floor(exact).astype(int)
    remainder = total - int(counts.sum())
    # Stable sort so ties are broken by list order, not by floating-point noise.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:remainder]] += 1
    out: list[str] = []
    for (code, _), n in zip(weights, counts.tolist(), strict=True):
        out.extend([code] * n)
    return out
