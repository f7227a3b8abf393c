"""Text normalisation before the leakage rules: every way of writing a number becomes ASCII digits.

A critique can hide the score from a regex in many spellings: non-ASCII digits ("٧", "７"), invisible
characters or thin spaces inside a number ("0.\u200b73"), a decimal comma ("0,73"), a middle dot or
the Arabic decimal separator, or words ("zero point seven three", "seven-point-three", "seventy-three", "seven tenths", "three
quarters", "the low seventies").
``normalise`` rewrites all of them as plain digits, so the rules of ``leakage.py`` see one form.
"""

from __future__ import annotations

import re
import unicodedata

_DIGIT_WORDS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9,
}
_TEEN_WORDS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS_WORDS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_FRACTION_WORDS = {
    "tenths": 10, "tenth": 10, "hundredths": 100, "hundredth": 100, "fifths": 5, "fifth": 5, "quarters": 4,
    "quarter": 4, "thirds": 3, "third": 3,
}

_SPACES_IN_NUMBER = re.compile(r"(?<=\d)[\u00a0\u2000-\u200a\u202f\u205f\u3000](?=\d)")
_DECIMAL_MARK = re.compile(r"(?<=\d)[\u00b7\u066b\u2027\u2219](?=\d)")  # middle dot, Arabic decimal separator
_DECIMAL_COMMA = re.compile(r"(?<![\d,.])(\d+),(\d{1,2})(?!\d|,\d)")  # 0,73 and 7,3 -- not 1,000
_DIGIT = "|".join(_DIGIT_WORDS)
_UNIT = "|".join(w for w in _DIGIT_WORDS if w not in ("zero", "oh"))
_TENS = "|".join(_TENS_WORDS)
_TEENS = "|".join(_TEEN_WORDS)
_INTEGER = rf"(?:(?:{_TENS})(?:[-\s]+(?:{_UNIT}))?|{_TEENS}|{_DIGIT})"
# "zero point seven three", "seven point three", "point nine", "seven-point-three"
_POINT_WORDS = re.compile(rf"\b(?:({_INTEGER})[\s-]+)?point[\s-]+((?:{_DIGIT})(?:[\s-]+(?:{_DIGIT}))*)\b",
                          re.IGNORECASE)
# "the low seventies" -> "the low 70s": decades of a hundred-point scale (and eras, which the rules tell apart).
_TENS_PLURAL = re.compile(r"\b(twent|thirt|fort|fift|sixt|sevent|eight|ninet)ies\b", re.IGNORECASE)
_HUNDRED_WORDS = re.compile(rf"\b(?:(a|one|{_DIGIT})\s+)hundred\b", re.IGNORECASE)
_COMPOUND_WORDS = re.compile(rf"\b({_TENS})[-\s]+({_UNIT})\b", re.IGNORECASE)
# "one" stays a word ("one of the best", "this one"); every other number word becomes digits.
_SINGLE_WORDS = re.compile(rf"\b({_TENS}|{_TEENS}|{'|'.join(w for w in _DIGIT_WORDS if w not in ('one', 'oh'))})\b",
                           re.IGNORECASE)
_FRACTION = re.compile(r"\b(\d+)[-\s]+(tenths?|hundredths?|fifths?|quarters?|thirds?)\b", re.IGNORECASE)
# "a quarter", "one third": a unit fraction ("a third of the image" stays a fraction of the image).
_UNIT_FRACTION = re.compile(r"\b(?:a|one)[-\s]+(quarter|third|fifth|tenth)\b", re.IGNORECASE)


def _integer_value(words: str) -> int:
    parts = [p.lower() for p in re.split(r"[-\s]+", words.strip()) if p]
    table = {**_DIGIT_WORDS, **_TEEN_WORDS, **_TENS_WORDS}
    return sum(table[p] for p in parts)


def _point_words(match: re.Match) -> str:
    whole = str(_integer_value(match.group(1))) if match.group(1) else "0"
    digits = "".join(str(_DIGIT_WORDS[p.lower()]) for p in re.split(r"[\s-]+", match.group(2)) if p)
    return f"{whole}.{digits}"


def _ascii_digits(text: str) -> str:
    """Every Unicode decimal digit (Arabic-Indic, Devanagari, full-width ...) as its ASCII digit."""
    return "".join(str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch for ch in text)


def normalise(text: str) -> str:
    """``text`` with invisible characters removed and every number in ASCII digits (see module docstring).

    >>> normalise("Zero point seven three, or 0,73, or \\uff10.\\uff17\\uff13, or seventy-three")
    '0.73, or 0.73, or 0.73, or 73'
    """
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")  # zero-width, BOM, soft hyphen
    text = _SPACES_IN_NUMBER.sub("", text)
    text = _ascii_digits(unicodedata.normalize("NFKC", text))
    text = _DECIMAL_MARK.sub(".", text)
    text = _DECIMAL_COMMA.sub(r"\1.\2", text)
    text = _POINT_WORDS.sub(_point_words, text)
    text = _TENS_PLURAL.sub(lambda m: f"{_TENS_WORDS[m.group(1).lower() + 'y']}s", text)
    text = _HUNDRED_WORDS.sub(lambda m: str(100 * (1 if m.group(1).lower() in ("a", "one") else _DIGIT_WORDS[
        m.group(1).lower()])), text)
    text = _COMPOUND_WORDS.sub(lambda m: str(_integer_value(m.group(0))), text)
    text = _SINGLE_WORDS.sub(lambda m: str(_integer_value(m.group(1))), text)
    text = _UNIT_FRACTION.sub(lambda m: f"1/{_FRACTION_WORDS[m.group(1).lower()]}", text)
    return _FRACTION.sub(lambda m: f"{m.group(1)}/{_FRACTION_WORDS[m.group(2).lower()]}", text)
