"""Messages sent to the expert and judges, and how their replies are read."""

from __future__ import annotations

import pytest

from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.aescot.prompts import (
    AESTHETIC_DIMENSIONS,
    CONSTRUCTION_PROMPT,
    construction_prompt,
)
from recipe.aesr1.aescot.requests import (
    alignment_messages,
    generation_messages,
    image_chat,
    parse_level,
    parse_unsupported_claims,
)

LEVEL_REPLIES = [
    ("good", "good"),  # the expected one-word answer
    ("Good.", "good"),  # capitalised, with a full stop
    ("Level: fair", "fair"),  # with a label
    ("bad", "bad"),
    ("The critique argues for a good image; good.", "good"),  # repeated, but one level
]
UNREADABLE_LEVEL_REPLIES = [
    "fair to good",  # two levels
    "I cannot decide.",  # none
    "goodness knows",  # a word that merely starts like a level
]
CLAIM_REPLIES = [
    ('{"unsupported_claims": []}', []),  # clean
    ('```json\n{"unsupported_claims": ["a red car"]}\n```', ["a red car"]),  # in a code fence
    ('Here it is: {"unsupported_claims": ["x", "  "]}', ["x"]),  # prose around; blank claims dropped
]
UNREADABLE_CLAIM_REPLIES = [
    "No errors found.",  # no JSON
    '{"claims": []}',  # wrong key
    '{"unsupported_claims": "none"}',  # not a list
    '{"unsupported_claims": [1, 2]}',  # not strings
    '{"unsupported_claims": [',  # truncated
]


@pytest.mark.parametrize(("reply", "level"), LEVEL_REPLIES)
def test_parse_level(reply, level):
    assert parse_level(reply) == level


@pytest.mark.parametrize("reply", UNREADABLE_LEVEL_REPLIES)
def test_unreadable_level_raises(reply):
    with pytest.raises(ValueError):
        parse_level(reply)


@pytest.mark.parametrize(("reply", "claims"), CLAIM_REPLIES)
def test_parse_unsupported_claims(reply, claims):
    assert parse_unsupported_claims(reply) == claims


@pytest.mark.parametrize("reply", UNREADABLE_CLAIM_REPLIES)
def test_unreadable_claims_raise(reply):
    with pytest.raises(ValueError):
        parse_unsupported_claims(reply)


def test_construction_prompt_is_appendix_b_with_two_decimals_and_the_table5_guide():
    text = construction_prompt(0.7)
    assert text.startswith(CONSTRUCTION_PROMPT.format(score="0.70"))
    assert "The aesthetic rating of this picture <image> is 0.70." in text
    assert all(f"- {name}: " in text for name in AESTHETIC_DIMENSIONS)
    assert len(AESTHETIC_DIMENSIONS) == 5
    assert construction_prompt(0.7, with_dimension_guide=False) == CONSTRUCTION_PROMPT.format(score="0.70")
    with pytest.raises(ValueError):
        construction_prompt(1.5)


def test_image_goes_where_the_placeholder_was():
    messages = generation_messages(0.42, "data:image/png;base64,AAAA")
    parts = messages[0]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "text"]
    assert parts[0]["text"].endswith("of this picture")
    assert parts[2]["text"].startswith("is 0.42.")
    with pytest.raises(ValueError, match="exactly one"):
        image_chat("no placeholder", "data:,")


def test_alignment_judge_never_sees_score_or_image():
    content = alignment_messages("Soft light; a decent photograph.")[0]["content"]
    assert isinstance(content, str) and "Soft light" in content and "0." not in content


def test_sft_user_turn_is_the_shared_scoring_prompt():
    assert SCORING_PROMPT.count("<image>") == 1
