"""Programmatic score-leakage filter (Aes-R1 Sec. 3.2 error type e_leak; Appendix E.2).

The expert was told the score and told to keep it private (Appendix B). A critique leaks when it
writes the score or a rescaling of it, writes any rating on a numeric scale, ties rating words to
numbers, or refers to hidden information or to the instructions. Each rule has its own code so the
audit page shows why a critique was rejected. Known false positives, accepted because a lost critique
costs less than a leaking one: "one out of five people", a decimal equal to a rescaled score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Rule codes.
SCORE_VALUE = "score_value"  # the score or a rescaling: 0.73, .73, 7.3, 3.65, 73%
RATING_SCALE = "rating_scale"  # a number on a rating scale: 7/10, 7 out of 10, 73/100, "on a scale of"
RATING_NUMBER = "rating_number"  # rating words next to a number: "rated 8", "a rating of seven"
HIDDEN_REFERENCE = "hidden_reference"  # "the hidden score", "as instructed", "the rating provided"

# Scales a score may be rescaled to: [0, 1] itself, /10, /5, /100 (percent).
_SCALES = (1.0, 10.0, 5.0, 100.0)
# "one" is left out: "one of the best", "this one" are ordinary prose.
_NUMBER_WORDS = "zero|two|three|four|five|six|seven|eight|nine|ten|hundred"
_NUMBER = rf"(?:\d+(?:\.\d+)?|\.\d+|\b(?:{_NUMBER_WORDS})\b)"
_DENOMINATOR = r"(?:100|10|5|ten|five|(?:a\s+)?hundred)\b"

_DECIMAL_TOKEN = re.compile(r"(?<![\w.])(\d*\.\d+)(?![\w.]*\d)")
_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:%|per\s*cent\b)", re.IGNORECASE)
_SCALE_PATTERNS = (
    # 7/10, 7.3 / 10, 3.65/5 -- but not a shutter speed such as 1/100 s.
    re.compile(rf"{_NUMBER}\s*/\s*{_DENOMINATOR}(?!\s*(?:s|sec|secs|seconds?)\b)", re.IGNORECASE),
    re.compile(rf"\bout\s+of\s+{_DENOMINATOR}", re.IGNORECASE),
    re.compile(r"\b(?:on|using)\s+a\s+(?:\w+\s+)?scale\b|\b\d+\s*-?\s*point\s+scale\b", re.IGNORECASE),
)
_RATING_WORD = r"(?:scores?|scored|scoring|ratings?|(?<![-\w])rated?|grades?|graded)"
_RATING_NUMBER_PATTERNS = (
    # "rated it an 8", "a rating of seven", "score: 0.8" -- the number within four words after.
    re.compile(rf"\b{_RATING_WORD}\b(?:\W+\w+){{0,3}}?\W+{_NUMBER}", re.IGNORECASE),
    # "an 8 rating", "a seven score" -- the number within two words before.
    re.compile(rf"{_NUMBER}(?:\W+\w+){{0,2}}?\W+{_RATING_WORD}\b", re.IGNORECASE),
)
_HIDDEN_PATTERNS = (
    re.compile(
        r"\b(?:hidden|private|secret|confidential|undisclosed|concealed|withheld|given|provided|assigned|"
        r"supplied|true|actual|target)\s+(?:aesthetic\s+)?(?:scores?|ratings?|values?|numbers?|variables?|"
        r"information)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:score|rating)s?\s+(?:(?:that|which)\s+)?(?:was\s+|were\s+|is\s+)?(?:provided|given|"
               r"assigned|supplied|shared|mentioned)\b", re.IGNORECASE),
    re.compile(r"\binstruct(?:ed|ions?)\b|\bi\s+(?:was|have\s+been)\s+(?:told|asked)\b|\b(?:the|this|my|your)\s+prompt\b",
               re.IGNORECASE),
    re.compile(r"\b(?:reveal|disclose|mention|state)(?:s|d|ing)?\b(?:\W+\w+){0,3}?\W+(?:the\s+)?"
               r"(?:numeric(?:al)?\s+)?(?:scores?|ratings?|values?)\b", re.IGNORECASE),
)


@dataclass(frozen=True)
class LeakageFinding:
    """One piece of leaked text: the rule ``code`` and the ``text`` it matched."""

    code: str
    text: str


@dataclass(frozen=True)
class LeakageVerdict:
    """Outcome of the leakage filter for one critique; ``leaked`` iff there is at least one finding."""

    findings: tuple[LeakageFinding, ...]

    @property
    def leaked(self) -> bool:
        return bool(self.findings)

    @property
    def codes(self) -> list[str]:
        return sorted({finding.code for finding in self.findings})


def _matches_rescaled_score(token: str, score: float) -> bool:
    """True when ``token`` equals ``score`` on one of the scales, rounded to the token's decimals.

    ``score`` is first rounded to two decimals, as the expert saw it (Appendix B).
    """
    decimals = len(token.split(".")[1]) if "." in token else 0
    value = float(token)
    shown = round(score, 2)
    return any(abs(round(shown * scale, decimals) - value) < 1e-9 for scale in _SCALES)


def find_leakage(critique: str, score: float) -> LeakageVerdict:
    """Run every leakage rule on one critique.

    Args:
        critique: the expert's text.
        score: the true normalised score in [0, 1] the expert was shown.

    Returns:
        A verdict listing every finding (empty when the critique is clean).
    """
    findings: list[LeakageFinding] = []
    for match in _DECIMAL_TOKEN.finditer(critique):
        if _matches_rescaled_score(match.group(1), score):
            findings.append(LeakageFinding(SCORE_VALUE, match.group(0)))
    for match in _PERCENT.finditer(critique):
        if _matches_rescaled_score(match.group(1), score):
            findings.append(LeakageFinding(SCORE_VALUE, match.group(0)))
    for code, patterns in (
        (RATING_SCALE, _SCALE_PATTERNS),
        (RATING_NUMBER, _RATING_NUMBER_PATTERNS),
        (HIDDEN_REFERENCE, _HIDDEN_PATTERNS),
    ):
        for pattern in patterns:
            findings.extend(LeakageFinding(code, m.group(0)) for m in pattern.finditer(critique))
    return LeakageVerdict(tuple(findings))
