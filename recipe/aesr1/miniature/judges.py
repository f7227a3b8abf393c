"""The miniature's rule-based judges of AesCoT's error types e_align and e_fact (Aes-R1 Sec. 3.2).

Both find the grammar's claim phrases (``critique_grammar.SLOTS``, plus hue names) anywhere in a text,
so they also read critiques that did not come from the expert. Text they do not recognise is opinion
to them: the alignment judge weighs only known phrases, the factual judge checks only known claims.

* Alignment (critique only): the sum of the phrases' polarities, the closing judgment counting
  ``VERDICT_WEIGHT`` times, read as bad (<= -``LEVEL_MARGIN``), good (>= ``LEVEL_MARGIN``) or fair.
  A critique whose dimensions contradict its judgment therefore reads as another level.
* Factual (image + critique): a claim is unsupported when the measured statistic lies outside the
  claimed bucket widened by ``TOLERANCE`` (measurement noise), or when a hue named in the text is not
  the picture's dominant hue. The judge must see the bytes the expert saw (the pipeline sends both the
  same data URL): re-encoding as JPEG quality 75 lowers ``grain`` by ~0.01 and would reject most grain
  claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recipe.aesr1.miniature.critique_grammar import SLOTS, TERSE
from recipe.aesr1.miniature.image_statistics import HUE_NAMES, ImageStatistics

VERDICT_WEIGHT = 3
LEVEL_MARGIN = 3
# Per statistic: how far outside its claimed bucket a measurement may fall and still support the claim.
TOLERANCE = {"contrast": 0.01, "subject_x": 0.04, "saturation": 0.02, "brightness": 0.02, "grain": 0.002}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Claim:
    sentence: str
    slot: str  # a SLOTS key, or "hue"
    bucket: str  # the bucket name, or the hue's name


def _phrase_pattern(phrase: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", re.IGNORECASE)


# Longest phrases first, so that a phrase inside a longer one is never matched on its own.
_PHRASES = sorted(
    {(phrase, slot, name)
     for slot, (_, buckets) in SLOTS.items() for name, bucket in buckets.items() for phrase in bucket.phrasings}
    | {(phrase, slot, name) for slot, phrases in TERSE.items() for name, phrase in phrases.items()},
    key=lambda item: (-len(item[0]), item),
)
_PATTERNS = [(_phrase_pattern(phrase), slot, name) for phrase, slot, name in _PHRASES]
_HUES = [(_phrase_pattern(hue), hue) for hue in HUE_NAMES]


def find_claims(text: str) -> list[Claim]:
    """Every claim phrase in ``text``, sentence by sentence, in order."""
    claims = []
    for sentence in _SENTENCE_END.split(text.strip()):
        found: list[tuple[int, Claim]] = []
        masked = sentence
        for pattern, slot, name in _PATTERNS:
            for match in pattern.finditer(masked):
                found.append((match.start(), Claim(sentence, slot, name)))
            masked = pattern.sub(lambda m: " " * len(m.group(0)), masked)
        for pattern, hue in _HUES:
            found += [(match.start(), Claim(sentence, "hue", hue)) for match in pattern.finditer(masked)]
        claims += [claim for _, claim in sorted(found, key=lambda item: item[0])]
    return claims


def implied_level(critique: str) -> str:
    """The level (bad/fair/good) a critique argues for; fair when it holds no evaluative phrase."""
    total = 0
    for claim in find_claims(critique):
        if claim.slot != "hue":
            weight = VERDICT_WEIGHT if claim.slot == "verdict" else 1
            total += weight * SLOTS[claim.slot][1][claim.bucket].polarity
    if total <= -LEVEL_MARGIN:
        return "bad"
    return "good" if total >= LEVEL_MARGIN else "fair"


def is_supported(claim: Claim, stats: ImageStatistics) -> bool:
    """Whether the picture's statistics support one claim (level claims are not facts: always True)."""
    if claim.slot == "hue":
        return claim.bucket == stats.hue
    statistic, buckets = SLOTS[claim.slot]
    if statistic is None:
        return True
    bucket, value, margin = buckets[claim.bucket], getattr(stats, statistic), TOLERANCE[statistic]
    return bucket.low - margin <= value < bucket.high + margin


def unsupported_claims(critique: str, stats: ImageStatistics) -> list[str]:
    """The sentences of ``critique`` holding at least one claim the statistics contradict, in order."""
    sentences: list[str] = []
    for claim in find_claims(critique):
        if not is_supported(claim, stats) and claim.sentence not in sentences:
            sentences.append(claim.sentence)
    return sentences
