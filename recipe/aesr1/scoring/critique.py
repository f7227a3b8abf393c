"""Cheap checks on the critiques a judge writes: a reward-hacking alarm, not a quality score.

Aes-R1 Fig. 5 shows Aes-R1-Zero (RL without the AesCoT cold start) scoring well while writing short,
generic critiques. These checks flag that drift from the predictions file alone:

* length of the ``<think>`` text in words;
* which of the five AesCoT dimensions (Appendix E.1: light and shadow, mood and narrative,
  composition, color, exposure) the critique mentions, by keyword;
* critique/score consistency: a clearly positive critique with a "bad" score (< 0.4) or a clearly
  negative one with a "good" score (>= 0.7), the levels of Appendix E.2, by counting opinion words.

Keyword lists are deliberately small and English-only; they give rates to compare checkpoints on the
same images, not a verdict on any single critique.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from data_prep.levels import FAIR_FROM, GOOD_FROM

_THINK = re.compile(r"<think>(.*?)</think>", re.IGNORECASE | re.DOTALL)
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")

DIMENSION_KEYWORDS: dict[str, tuple[str, ...]] = {
    "light_and_shadow": ("light", "lighting", "shadow", "shadows", "backlit", "backlighting", "highlights"),
    "mood_and_narrative": ("mood", "story", "narrative", "emotion", "emotional", "atmosphere", "feeling"),
    "composition": (
        "composition", "composed", "framing", "framed", "balance", "third", "thirds", "perspective", "lines",
        "subject", "horizon", "centered", "centred", "symmetry",
    ),
    "color": (
        "color", "colors", "colour", "colours", "palette", "hue", "hues", "saturation", "saturated", "tones",
        "muted", "vivid", "red", "orange", "yellow", "green", "teal", "blue", "purple", "magenta",
    ),
    "exposure": (
        "exposure", "exposed", "overexposed", "underexposed", "brightness", "dynamic", "clipped", "grain", "grainy",
        "noise", "noisy", "detail",
    ),
}  # fmt: skip
_CLAUSE_END = re.compile(r"(?<=[.;:,!?])\s+")  # punctuation then space: "f/2.8" and "1.5" stay whole

POSITIVE_WORDS = frozenset(
    "beautiful striking excellent stunning harmonious compelling vivid elegant strong pleasing balanced "
    "captivating impressive masterful evocative rich crisp sharp engaging appealing well-composed".split()
)
NEGATIVE_WORDS = frozenset(
    "poor dull cluttered blurry flat distracting awkward unbalanced weak bland noisy muddy harsh messy "
    "uninteresting lacking amateurish chaotic washed-out underwhelming grainy".split()
)

CLEAR_OPINION = 0.5  # |positive - negative| / (positive + negative) above which a critique has a clear tone


def critique_text(response: str) -> str:
    """The reasoning inside the last ``<think>...</think>`` block, or '' when there is none."""
    blocks = _THINK.findall(response or "")
    return blocks[-1].strip() if blocks else ""


@dataclass(frozen=True)
class CritiqueCheck:
    n_words: int
    dimensions: tuple[str, ...]
    tone: float | None  # in [-1, 1]; None without opinion words
    inconsistent: bool


def check_critique(response: str, score: float | None) -> CritiqueCheck:
    """Length, dimensions mentioned, tone, and whether tone and score disagree clearly."""
    words = _WORD.findall(critique_text(response).lower())
    present = set(words)
    dimensions = tuple(d for d, keys in DIMENSION_KEYWORDS.items() if present.intersection(keys))
    positive = sum(w in POSITIVE_WORDS for w in words)
    negative = sum(w in NEGATIVE_WORDS for w in words)
    tone = (positive - negative) / (positive + negative) if positive + negative else None
    inconsistent = bool(
        score is not None
        and tone is not None
        and ((tone >= CLEAR_OPINION and score < FAIR_FROM) or (tone <= -CLEAR_OPINION and score >= GOOD_FROM))
    )
    return CritiqueCheck(len(words), dimensions, tone, inconsistent)


def summarize_critiques(samples: Iterable[tuple[str, float | None]]) -> dict:
    """Rates over (response, score) pairs: mean words, share per dimension, inconsistency, empty critiques."""
    checks = [check_critique(text, score) for text, score in samples]
    n = len(checks)
    if n == 0:
        return {"n_samples": 0}
    return {
        "n_samples": n,
        "mean_words": sum(c.n_words for c in checks) / n,
        "empty_critique_rate": sum(c.n_words == 0 for c in checks) / n,
        "dimension_rate": {d: sum(d in c.dimensions for c in checks) / n for d in DIMENSION_KEYWORDS},
        "mean_dimensions": sum(len(c.dimensions) for c in checks) / n,
        "inconsistent_rate": sum(c.inconsistent for c in checks) / n,
    }


def critique_by_dimension(critique: str) -> dict[str, list[str]]:
    """The critique's clauses under the Table 5 dimension whose keywords they use (first match), the
    rest under ``"overall"``; every key of ``DIMENSION_KEYWORDS`` is present, in Table 5's order.

    >>> critique_by_dimension("Soft light, a calm mood, muted teal: a fair picture.")["color"]
    ['muted teal']
    """
    parts: dict[str, list[str]] = {name: [] for name in (*DIMENSION_KEYWORDS, "overall")}
    for piece in _CLAUSE_END.split((critique or "").strip()):
        clause = piece.strip().rstrip(".;:,!?").strip()
        if not clause:
            continue
        words = set(_WORD.findall(clause.lower()))
        name = next((d for d, keys in DIMENSION_KEYWORDS.items() if words.intersection(keys)), "overall")
        parts[name].append(clause)
    return parts
