"""Native score scales and their normalisation to [0, 1] (Aes-R1 Sec. 4.1: "MOS normalised into [0, 1]").

Neither Aes-R1 nor its peers say how. Two rules are in use: min-max over the scale's range,
``(x - lo) / (hi - lo)``, and division by the maximum, ``x / hi``. PLCC/SRCC do not change, the
absolute-error reward and the bad/fair/good levels do, so the rule is a parameter recorded in the
manifest. Default for every dataset: ``minmax`` (the scale's lowest rating maps to 0, as "very poor
quality" does in the Appendix B prompt).
"""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("minmax", "max")
DEFAULT_METHOD = "minmax"


@dataclass(frozen=True)
class Scale:
    """A dataset's native rating range [lo, hi]."""

    lo: float
    hi: float


NATIVE_SCALES: dict[str, Scale] = {
    "ava": Scale(1.0, 10.0),  # votes 1..10
    "tad66k": Scale(1.0, 10.0),  # ratings 1..10 (seen 1.13-9.46); the authors' loader divides by 10
    "flickr_aes": Scale(1.0, 5.0),  # five AMT workers, ratings 1..5
    "para": Scale(1.0, 5.0),  # aestheticScore_mean, ratings 1..5
    "aadb": Scale(0.0, 1.0),  # released already as (mean rating - 1) / 4
}


def normalise_score(raw: float, scale: Scale, method: str = DEFAULT_METHOD) -> float:
    """Map a native score in [scale.lo, scale.hi] to [0, 1].

    ``minmax``: (raw - lo) / (hi - lo); ``max``: raw / hi. Raises ValueError on an unknown method;
    the caller checks the range (an out-of-range label is an issue, not a clipped value).
    """
    if method == "minmax":
        return (raw - scale.lo) / (scale.hi - scale.lo)
    if method == "max":
        return raw / scale.hi
    raise ValueError(f"unknown normalisation {method!r}; expected one of {METHODS}")


def describe(dataset: str, method: str) -> dict:
    """The manifest entry for a dataset's normalisation."""
    scale = NATIVE_SCALES[dataset]
    formula = "(x - lo) / (hi - lo)" if method == "minmax" else "x / hi"
    return {"method": method, "formula": formula, "lo": scale.lo, "hi": scale.hi}
