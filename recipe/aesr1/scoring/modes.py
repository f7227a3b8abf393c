"""The two ways to ask the judge: with its critique (``reasoning``) or for the number only (``score_only``).

``reasoning`` is the training and evaluation prompt of Aes-R1 Appendix B (``data_prep.prompts``) with
Appendix C's 1024-token completion budget: the score comes with a critique to audit.

``score_only`` asks for the rating alone and caps the completion at a few tokens, as VisualQuality-R1's
README offers for reward use: far fewer generated tokens per image. It is *not* what Aes-R1 was trained
on: a checkpoint trained on critiques may still start one, which the token cap cuts before an
``<answer>``, so those images count as ``no_score`` (never as a silent zero score). Check on your
checkpoint, e.g. with ``benchmarks/bench_reward_model.py`` or ``aesr1-eval``, how well its score-only
scores agree with its reasoning scores before relying on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from data_prep.prompts import SCORING_PROMPT


@dataclass(frozen=True)
class ScoringMode:
    """A prompt (with one ``<image>``) and the completion budget that goes with it."""

    name: str
    prompt: str
    max_new_tokens: int


SCORE_ONLY_PROMPT = (
    "You are an aesthetic expert. What is your overall rating on the aesthetic of this picture "
    "<image> ? The rating should be a float between 0 and 1, rounded to two decimal places, with 0 "
    "representing very poor quality and 1 representing excellent quality. Do not explain: reply with "
    "the rating inside only one pair of <answer>...</answer> tags and nothing else. E.g. your response "
    "should be:<answer>0.50</answer>"
)

MODES = {
    "reasoning": ScoringMode("reasoning", SCORING_PROMPT, 1024),  # Appendix B prompt, Appendix C length
    # "<answer>0.73</answer>" is about 8 tokens for Qwen2's tokenizer; 16 leaves room for whitespace.
    "score_only": ScoringMode("score_only", SCORE_ONLY_PROMPT, 16),
}


def get_mode(name: str) -> ScoringMode:
    """The mode registered under ``name``; an unknown name fails and lists the valid ones."""
    if name not in MODES:
        raise ValueError(f"unknown scoring mode {name!r}; valid: {sorted(MODES)}")
    return MODES[name]
