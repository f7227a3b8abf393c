"""The bad / fair / good score levels of Aes-R1 Appendix E.2 (bins 0-0.4, 0.4-0.7, 0.7-1.0)."""

from __future__ import annotations

LEVELS = ("bad", "fair", "good")
FAIR_FROM = 0.4  # Appendix E.2: bad is [0, 0.4)
GOOD_FROM = 0.7  # Appendix E.2: good is [0.7, 1.0]


def score_level(score: float | None) -> str:
    """Level of a normalised score in [0, 1]: ``bad`` [0, 0.4), ``fair`` [0.4, 0.7), ``good`` [0.7, 1].

    ``None`` (an image the judge gave no score) has no level: ``''``. A score outside [0, 1] or NaN
    raises ValueError: every score of the project is normalised, so one outside is a bug upstream.
    """
    if score is None:
        return ""
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"score must lie in [0, 1], got {score!r}")
    if score < FAIR_FROM:
        return "bad"
    if score < GOOD_FROM:
        return "fair"
    return "good"
