"""Aesthetic levels of Aes-R1 Sec. 3.2 / Appendix E.2 and the AesCoT set sizes of Table 6."""

from __future__ import annotations

# The level bins and ``score_level`` are data_prep's: bad [0, 0.4), fair [0.4, 0.7), good [0.7, 1.0].
from data_prep.levels import LEVELS

# Table 6: final composition of the released sets (after filtering), per level.
AESCOT_SIZES: dict[str, dict[str, int]] = {
    "aescot-3k": {"bad": 1000, "fair": 1000, "good": 1000},
    "aescot-10k": {"bad": 2928, "fair": 3312, "good": 3660},
}


def balanced_sizes(total: int) -> dict[str, int]:
    """Split ``total`` over the three levels as evenly as possible; the remainder goes to bad, then fair."""
    if total < 0:
        raise ValueError(f"size must be >= 0, got {total}")
    base, extra = divmod(total, len(LEVELS))
    return {level: base + (1 if i < extra else 0) for i, level in enumerate(LEVELS)}


def target_sizes(preset: str | None, size: int | None) -> dict[str, int]:
    """Per-level target counts from a Table 6 preset name or a total size (exactly one must be given)."""
    if (preset is None) == (size is None):
        raise ValueError(f"give exactly one of sampling.preset ({preset!r}) and sampling.size ({size!r})")
    if preset is not None:
        if preset not in AESCOT_SIZES:
            raise ValueError(f"unknown sampling.preset {preset!r}; valid: {sorted(AESCOT_SIZES)}")
        return dict(AESCOT_SIZES[preset])
    return balanced_sizes(int(size))
