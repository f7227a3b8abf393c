"""The three kinds of request of the pipeline: chat messages to send and how to read the replies.

``generate``: the expert critiques the image knowing its score (Appendix B construction prompt).
``alignment``: a judge reads the critique only and names its level (error type e_align, Sec. 3.2).
``factual``: a judge sees image and critique and lists unsupported claims (error type e_fact).
``leakage_judge`` (optional): a judge reads the critique only and says whether it gives the score away.
Each reader raises ValueError on a reply it cannot read; the client then retries the request.
"""

from __future__ import annotations

import json
import re
from typing import Any

from data_prep.prompts import IMAGE_PLACEHOLDER
from recipe.aesr1.aescot.levels import LEVELS
from recipe.aesr1.aescot.prompts import (
    ALIGNMENT_JUDGE_PROMPT,
    FACTUAL_JUDGE_PROMPT,
    LEAKAGE_JUDGE_PROMPT,
    construction_prompt,
)

_LEVEL_WORD = re.compile(r"\b(bad|fair|good)\b", re.IGNORECASE)
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_YES_NO = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def image_chat(text: str, image_url: str) -> list[dict[str, Any]]:
    """One user message: ``text`` with its single ``<image>`` replaced by an ``image_url`` part."""
    if text.count(IMAGE_PLACEHOLDER) != 1:
        raise ValueError(f"prompt must hold exactly one {IMAGE_PLACEHOLDER}: {text[:80]!r}...")
    before, after = text.split(IMAGE_PLACEHOLDER)
    parts: list[dict[str, Any]] = []
    if before.strip():
        parts.append({"type": "text", "text": before.rstrip()})
    parts.append({"type": "image_url", "image_url": {"url": image_url}})
    if after.strip():
        parts.append({"type": "text", "text": after.lstrip()})
    return [{"role": "user", "content": parts}]


def generation_messages(score: float, image_url: str, with_dimension_guide: bool = True) -> list[dict[str, Any]]:
    return image_chat(construction_prompt(score, with_dimension_guide), image_url)


def alignment_messages(critique: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": ALIGNMENT_JUDGE_PROMPT.format(critique=critique)}]


def factual_messages(critique: str, image_url: str) -> list[dict[str, Any]]:
    return image_chat(FACTUAL_JUDGE_PROMPT.format(critique=critique), image_url)


def leakage_messages(critique: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": LEAKAGE_JUDGE_PROMPT.format(critique=critique)}]


def parse_leak_verdict(reply: str) -> bool:
    """True when the leakage judge said yes; ValueError when it said neither or both.

    >>> parse_leak_verdict("No.")
    False
    """
    found = {match.lower() for match in _YES_NO.findall(reply)}
    if len(found) != 1:
        raise ValueError(f"expected exactly one of yes/no in the leakage-judge reply, got {reply[:120]!r}")
    return found.pop() == "yes"


def parse_level(reply: str) -> str:
    """The one level a judge named; ValueError when it names none or several different ones.

    >>> parse_level("Good.")
    'good'
    """
    found = {match.lower() for match in _LEVEL_WORD.findall(reply)}
    if len(found) != 1:
        raise ValueError(f"expected exactly one of {LEVELS} in the judge reply, got {reply[:120]!r}")
    return found.pop()


def parse_unsupported_claims(reply: str) -> list[str]:
    """The ``unsupported_claims`` list from a JSON reply (code fences and prose around it allowed).

    >>> parse_unsupported_claims('```json\\n{"unsupported_claims": []}\\n```')
    []
    """
    match = _JSON_OBJECT.search(reply)
    if match is None:
        raise ValueError(f"no JSON object in the factual-judge reply: {reply[:120]!r}")
    payload = json.loads(match.group(0))  # JSONDecodeError is a ValueError
    claims = payload.get("unsupported_claims") if isinstance(payload, dict) else None
    if not isinstance(claims, list) or not all(isinstance(claim, str) for claim in claims):
        raise ValueError(f"'unsupported_claims' must be a list of strings: {reply[:120]!r}")
    return [claim for claim in claims if claim.strip()]
