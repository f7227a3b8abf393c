"""The small grammar the miniature's rule-based expert writes its critiques in (Aes-R1 Table 5 dimensions).

A critique is six short sentences: one per dimension of Table 5 (light and shadow, mood and narrative,
composition, color, exposure) and a closing judgment, about 40-60 words from a vocabulary of a few
hundred words, so that a tiny model can learn to write them on a CPU. Three wordings (``WORDINGS``):
``varied`` picks among phrasings and templates, ``fixed`` always takes the first, and ``terse`` names
the same claims in one sentence of about 20 words (``TERSE``), the same five dimensions and judgment. Each sentence is a template whose
slots are filled with one of a few phrasings of a *claim*: a bucket of a measured statistic (light:
contrast; composition: where the subject is; color: saturation and dominant hue; exposure: brightness
and grain) or, for mood and the judgment, the level of the hidden score (Appendix B: the expert knows
it and ends with a judgment that matches it). Every claim phrase is unique in the grammar, so the
judges (``judges.py``) can find the claims in any text by phrase search.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

from recipe.aesr1.miniature.image_statistics import HUE_NAMES, ImageStatistics


@dataclass(frozen=True)
class Bucket:
    """One claim about a statistic: its value lies in [low, high); ``polarity`` is how it reads (-1, 0, +1)."""

    low: float
    high: float
    polarity: int
    phrasings: tuple[str, ...]


# slot -> (statistic, {bucket name: Bucket}); statistic None: the slot follows the score's level.
# Thresholds sit between the levels' typical values on data_prep.sample_release pictures.
SLOTS: dict[str, tuple[str | None, dict[str, Bucket]]] = {
    "contrast": ("contrast", {
        "flat": Bucket(-math.inf, 0.15, -1, ("Flat, soft light leaves weak shadows",
                                             "The light is flat and the shadows are faint")),
        "moderate": Bucket(0.15, 0.22, 0, ("Moderate contrast gives the forms some depth",
                                           "The light shows moderate contrast and gentle shadows")),
        "strong": Bucket(0.22, math.inf, 1, ("Strong contrast models the forms with clear shadows",
                                             "Bold light and deep shadows give real depth")),
    }),
    "mood": (None, {
        "bad": Bucket(0, 0, -1, ("The mood feels dull and the story stays unclear",
                                 "Little mood or story comes through")),
        "fair": Bucket(0, 0, 0, ("The mood is calm, with a simple story",
                                 "A quiet mood hints at a modest story")),
        "good": Bucket(0, 0, 1, ("A lively mood invites a closer look at the story",
                                 "The mood is rich and the story draws the eye in")),
    }),
    "subject": ("subject_x", {
        "left edge": Bucket(-math.inf, 0.25, -1, ("The subject is cramped against the left edge",
                                                  "Pushed to the left edge, the subject feels cramped")),
        "left third": Bucket(0.25, 0.42, 1, ("The subject sits on the left third, a balanced frame",
                                             "Placing the subject on the left third balances the frame")),
        "centre": Bucket(0.42, 0.58, 0, ("The subject sits in the centre, a static frame",
                                         "A centred subject makes the frame static")),
        "right third": Bucket(0.58, 0.75, 1, ("The subject sits on the right third, a balanced frame",
                                              "Placing the subject on the right third balances the frame")),
        "right edge": Bucket(0.75, math.inf, -1, ("The subject is cramped against the right edge",
                                                  "Pushed to the right edge, the subject feels cramped")),
    }),
    "saturation": ("saturation", {
        "muted": Bucket(-math.inf, 0.46, -1, ("Muted", "Pale, washed out")),
        "moderate": Bucket(0.46, 0.69, 0, ("Moderately rich", "Gently coloured")),
        "vivid": Bucket(0.69, math.inf, 1, ("Vivid", "Rich, saturated")),
    }),
    "brightness": ("brightness", {
        "dark": Bucket(-math.inf, 0.36, 0, ("The exposure is dark", "The exposure runs low")),
        "even": Bucket(0.36, 0.5, 0, ("The exposure is even", "The exposure is well balanced")),
        "bright": Bucket(0.5, math.inf, 0, ("The exposure is bright", "The exposure runs high")),
    }),
    "grain": ("grain", {
        "heavy": Bucket(0.029, math.inf, -1, ("heavy grain hides the detail", "noise blurs the detail")),
        "light": Bucket(0.015, 0.029, 0, ("light grain softens the detail", "some grain softens the edges")),
        "clean": Bucket(-math.inf, 0.015, 1, ("the detail is clean and crisp", "edges stay sharp and clean")),
    }),
    "verdict": (None, {
        "bad": Bucket(0, 0, -1, ("Overall, a weak picture", "In the end, the picture falls short")),
        "fair": Bucket(0, 0, 0, ("Overall, an ordinary picture with mixed strengths",
                                 "In the end, a decent but plain picture")),
        "good": Bucket(0, 0, 1, ("Overall, a strong and accomplished picture", "In the end, an excellent picture")),
    }),
}
# One short phrase per claim, for terse critiques (the saturation phrases are the buckets' first ones).
TERSE: dict[str, dict[str, str]] = {
    "contrast": {"flat": "flat light", "moderate": "moderate light", "strong": "strong light"},
    "mood": {"bad": "dull mood", "fair": "calm mood", "good": "lively mood"},
    "subject": {"left edge": "subject cramped left", "left third": "subject on the left third", "centre": "subject centred",
                "right third": "subject on the right third", "right edge": "subject cramped right"},
    "saturation": {name: bucket.phrasings[0].lower() for name, bucket in SLOTS["saturation"][1].items()},
    "brightness": {"dark": "dark exposure", "even": "even exposure", "bright": "bright exposure"},
    "grain": {"heavy": "heavy grain", "light": "light grain", "clean": "clean detail"},
    "verdict": {"bad": "a weak picture", "fair": "an ordinary picture", "good": "a strong picture"},
}
TERSE_TEMPLATE = "{contrast}, {mood}, {subject}, {saturation} {hue}, {brightness}, {grain}: {verdict}."
WORDINGS = ("varied", "fixed", "terse")

# Table 5 dimension -> sentence templates; {hue} is the dominant hue's name (HUE_NAMES).
SENTENCES: dict[str, tuple[str, ...]] = {
    "Light and Shadow": ("{contrast}.",),
    "Mood and Narrative": ("{mood}.",),
    "Composition": ("{subject}.",),
    "Color": ("{saturation} {hue} tones fill the frame.", "{saturation} {hue} tones set the palette."),
    "Exposure": ("{brightness}, and {grain}.",),
    "Judgment": ("{verdict}.",),
}


def bucket_of(slot: str, value: float) -> str:
    """The bucket of ``slot`` whose [low, high) holds ``value``."""
    _, buckets = SLOTS[slot]
    for name, bucket in buckets.items():
        if bucket.low <= value < bucket.high:
            return name
    raise ValueError(f"{slot}: no bucket holds {value!r}")


def claims_for(stats: ImageStatistics, level: str) -> dict[str, str]:
    """slot -> bucket the expert claims: measured buckets, and the level for mood and the judgment."""
    claims = {slot: bucket_of(slot, getattr(stats, statistic))
              for slot, (statistic, _) in SLOTS.items() if statistic is not None}
    return {**claims, "mood": level, "verdict": level}


def write_critique(stats: ImageStatistics, level: str, rng: random.Random, wording: str = "varied") -> str:
    """One critique of a picture with these statistics whose judgment matches ``level`` (bad/fair/good).

    ``varied``: ``rng`` picks the template and the phrasing of each claim, so critiques vary but a seeded
    run repeats. ``fixed``: the first of each (two critiques differ only in what they claim). ``terse``:
    the claims' ``TERSE`` phrases in one sentence.
    """
    if level not in SLOTS["verdict"][1]:
        raise ValueError(f"level must be one of {list(SLOTS['verdict'][1])}, got {level!r}")
    if wording not in WORDINGS:
        raise ValueError(f"wording must be one of {list(WORDINGS)}, got {wording!r}")
    claims = claims_for(stats, level)
    if wording == "terse":
        sentences = [TERSE_TEMPLATE.format(hue=stats.hue, **{slot: TERSE[slot][bucket] for slot, bucket in claims.items()})]
    else:
        pick = rng.choice if wording == "varied" else (lambda options: options[0])
        filled = {slot: pick(SLOTS[slot][1][bucket].phrasings) for slot, bucket in claims.items()}
        sentences = [pick(templates).format(hue=stats.hue, **filled) for templates in SENTENCES.values()]
    return " ".join(sentence[0].upper() + sentence[1:] for sentence in sentences)


def all_critique_texts() -> list[str]:
    """Every sentence the grammar can produce (a few hundred), e.g. for a tokenizer's vocabulary."""
    texts = set()
    for templates in SENTENCES.values():
        for template in templates:
            slots = [slot for slot in SLOTS if "{" + slot + "}" in template]
            options = [[p for bucket in SLOTS[slot][1].values() for p in bucket.phrasings] for slot in slots]
            for hue in HUE_NAMES:
                for chosen in itertools.product(*options):
                    text = template.format(hue=hue, **dict(zip(slots, chosen)))
                    texts.add(text[0].upper() + text[1:])
    texts.update(phrase[0].upper() + phrase[1:] for phrases in TERSE.values() for phrase in phrases.values())
    return sorted(texts)
