"""Seeded, machine-independent selection: the 9:1 split and the mixture's draws.

Order is decided by ``sha256(f"{seed}:{salt}:{id}")``: ids sorted by that digest form a random
permutation that depends only on the ids, the seed and the salt — not on numpy's generator, the
platform, the input order or which other ids are present. The 9:1 split puts the first
``round(n * test_fraction)`` ids of that order in test, so the test share is exact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

DEFAULT_SEED = 42  # Aes-R1's authors' seed for FLICKR-AES and AADB
DEFAULT_TEST_FRACTION = 0.1  # Aes-R1 Appendix C: 9:1


def seeded_order(ids: Iterable[str], seed: int, salt: str = "") -> list[str]:
    """Return ``ids`` (unique strings) in the seeded pseudo-random order described above."""
    def key(item: str) -> tuple[bytes, str]:
        return hashlib.sha256(f"{seed}:{salt}:{item}".encode()).digest(), item

    return sorted(ids, key=key)


def seeded_test_ids(ids: Iterable[str], seed: int = DEFAULT_SEED, test_fraction: float = DEFAULT_TEST_FRACTION) -> set[str]:
    """The test part of a seeded split: ``round(n * test_fraction)`` ids, the rest is train."""
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    ordered = seeded_order(sorted(set(ids)), seed, salt="split")
    return set(ordered[: round(len(ordered) * test_fraction)])


def describe_seeded(seed: int, test_fraction: float) -> dict:
    """Manifest entry for a seeded split."""
    return {
        "kind": "seeded",
        "seed": seed,
        "test_fraction": test_fraction,
        "rule": "ids sorted by sha256('{seed}:split:{id}'); the first round(n * test_fraction) are test",
    }
