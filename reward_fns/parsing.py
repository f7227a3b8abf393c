"""Parse the model's answer in the format of Aes-R1 Appendix B: ``<think>...</think><answer>0.73</answer>``.

The contract is strict about the *format flag* and forgiving about the *score*:

* The score is read from the **last** ``<answer>...</answer>`` block only (tags case-insensitive,
  whitespace inside the block ignored). A number written in the reasoning is never an answer, and an
  output without a closed answer block (e.g. truncated at the length limit) has no score.
* Inside the block, ``0.73``, ``.73``, ``0.730``, ``+0.73``, ``7.3e-1`` and ``1`` are read as numbers. A single
  number with surrounding words (``Rating: 0.73.``) is accepted. A percentage (``73%``) is divided by 100.
  Two or more numbers (``0.7 or 0.8``, ``7/10``) are ambiguous: no score.
* A score must be finite and lie in [0, 1]; NaN, inf and out-of-range values (``7``, ``1.2``, ``-0.1``)
  give no score. We never clip or rescale: a model answering on the wrong scale must be told so
  by the reward floor, not rewarded for an accidental match.
* ``format_ok`` is True only for exactly one non-empty ``<think>`` block followed by exactly one
  ``<answer>`` block holding a bare number in [0, 1], with nothing but whitespace outside them.

Every input, including ``None`` and non-strings, gets a defined outcome; nothing here raises.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Reason codes, in the order the checks run; "ok" is the clean case.
OK = "ok"
NOT_TEXT = "not_text"
NO_ANSWER = "no_answer_tag"
NO_NUMBER = "no_number"
AMBIGUOUS = "ambiguous_number"
NON_FINITE = "non_finite"
OUT_OF_RANGE = "out_of_range"
BAD_FORMAT = "bad_format"  # a score was read, but the output breaks the format of Appendix B

_ANSWER_BLOCK = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)
# A signed decimal with optional exponent, or the literal nan/inf words a model may write.
_NUMBER = re.compile(
    r"(?<![\w.])[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?:nan|inf(?:inity)?)(?![a-z]))(\s*%)?",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_WELL_FORMED = re.compile(
    r"\s*<think>(?P<think>.*?)</think>\s*<answer>(?P<answer>.*?)</answer>\s*", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"</?(?:think|answer)>", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedAnswer:
    """Outcome of parsing one model output.

    Attributes:
        score: the predicted score, a finite float in [0, 1], or None when no valid score was found.
        format_ok: True when the output follows Appendix B exactly (see module docstring).
        reason: ``"ok"`` for a clean output, else the first problem found (a module-level code).
    """

    score: float | None
    format_ok: bool
    reason: str

    @property
    def valid(self) -> bool:
        return self.score is not None


def parse_answer(text: object) -> ParsedAnswer:
    """Read the score and the format flag from one model output.

    >>> parse_answer("<think>Soft light, clean lines.</think><answer>0.73</answer>")
    ParsedAnswer(score=0.73, format_ok=True, reason='ok')
    >>> parse_answer("<think>...</think><answer>7</answer>").reason
    'out_of_range'
    """
    if not isinstance(text, str):
        return ParsedAnswer(None, False, NOT_TEXT)
    blocks = _ANSWER_BLOCK.findall(text)
    if not blocks:
        return ParsedAnswer(None, False, NO_ANSWER)
    answer = blocks[-1]
    numbers = list(_NUMBER.finditer(answer))
    if not numbers:
        return ParsedAnswer(None, False, NO_NUMBER)
    if len(numbers) > 1:
        return ParsedAnswer(None, False, AMBIGUOUS)
    match = numbers[0]
    value = float(match.group(0).rstrip("% \t\n").strip())
    if match.group(1):  # a percent sign
        value /= 100.0
    if not math.isfinite(value):
        return ParsedAnswer(None, False, NON_FINITE)
    if not 0.0 <= value <= 1.0:
        return ParsedAnswer(None, False, OUT_OF_RANGE)
    format_ok = _is_well_formed(text)
    return ParsedAnswer(value, format_ok, OK if format_ok else BAD_FORMAT)


def _is_well_formed(text: str) -> bool:
    """Exactly ``<think>non-empty</think><answer>bare number</answer>``, nothing else around them."""
    whole = _WELL_FORMED.fullmatch(text)
    if whole is None or len(_TAG.findall(text)) != 4:
        return False
    return bool(whole.group("think").strip()) and _BARE_NUMBER.fullmatch(whole.group("answer")) is not None
