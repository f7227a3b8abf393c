"""Prompts of the RED-Aes data engine and training stages, and the parsers of the engine's replies.

Appendix 0.B of our copy of the paper describes its prompts but lost their text, so every prompt
here is ours, written to the description: (1) aesthetic analysis + score + one targeted editing
instruction, (2) VIEScore edit verification (editing success, over-editing; naturalness,
artifacts), (3) pairwise comparison predicting the score difference with reasoning, (4) diverse
RL editing instructions from a set of edit categories; training prompts for PT-O1, PT-O2 (the
calibration and RL stages use the shared scoring prompt, ``data_prep.prompts.SCORING_PROMPT``, so
that RL rewards and evaluation parse the same answer format).

Scales: expert scores and judge differences are asked on a 10-point scale (as VIEScore and the
paper's figures use); the training targets are on the [0, 1] scale of the RL labels and benchmarks.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Categories the RL instruction prompt samples from (Sec. 3.1 names style transfer, object removal,
# colour grading; Sec. 4.4 content- vs quality-oriented edits). Ours beyond those.
RL_EDIT_CATEGORIES = (
    "style transfer",
    "object removal",
    "color grading",
    "lighting adjustment",
    "recomposition or cropping",
    "background replacement",
    "contrast or exposure change",
    "sharpness, blur or noise",
)

ANCHOR_PROMPT = (
    "You are an expert in photography and image aesthetics. Analyse the aesthetic quality of this image "
    "(composition, lighting, color, focus and sharpness, subject, emotional impact), then rate it on a "
    "scale from 1 (very poor) to 10 (excellent). Put your analysis inside <think>...</think> and only the "
    "number inside <answer>...</answer>."
)

INSTRUCTION_PROMPT = (
    "You are an expert photo editor. This image has an aesthetic score of {score:.1f} out of 10. Identify "
    "its main aesthetic deficiency and write ONE concrete editing instruction that would improve its "
    "aesthetics while keeping its content recognisable. Reply with JSON only: "
    '{{"analysis": "<the deficiencies you see>", "instruction": "<one imperative editing instruction>"}}'
)

RL_INSTRUCTION_PROMPT = (
    "You are an expert photo editor. This image has an aesthetic score of {score:.1f} out of 10. Write {n} "
    "diverse editing instructions for it, each from a different one of these categories where possible: "
    "{categories}. Some edits may improve and some may worsen its aesthetics. Reply with JSON only: "
    '{{"instructions": ["<instruction 1>", ...]}} with exactly {n} strings.'
)

VIESCORE_PROMPT = (
    "You are a professional digital artist. Two images are shown: the original first, then an AI-edited "
    'version made with the instruction: "{instruction}". Rate from 0 to 10: editing_success (how well the '
    "edit follows the instruction), over_editing (10 = no unnecessary change to the rest of the image, 0 = "
    "the image was changed far beyond the instruction), naturalness (10 = looks like a real photo) and "
    "artifacts (10 = no distortion, blur or watermark artifacts). Reply with JSON only: "
    '{{"editing_success": x, "over_editing": x, "naturalness": x, "artifacts": x, "reasoning": "..."}}'
)

JUDGE_PROMPT = (
    "You are an expert in image aesthetics. The first image is the original; the second was edited with "
    'the instruction: "{instruction}". Compare their aesthetic quality step by step (composition, '
    "lighting, color, sharpness, subject, artifacts) and estimate how much the aesthetic score on a 1-10 "
    "scale changed from the original to the edited image: positive if the edit improved it, negative if "
    "it made it worse. Put your comparison inside <think>...</think> and only the signed number (e.g. "
    "+1.5 or -0.8) inside <answer>...</answer>."
)

PT_O1_PROMPT = (
    "You are an aesthetic expert. The first image <image> is an original photo and the second image <image> "
    "is an edited version of it. Compare their aesthetics and predict the change of the aesthetic rating "
    "from the first to the second image, a signed float between -1 and 1 rounded to two decimal places "
    "(ratings lie between 0 and 1). Put your reasoning inside <think>...</think> and only the signed "
    "difference inside <answer>...</answer>."
)

PT_O2_PROMPT = (
    "You are an aesthetic expert. This is an original photo <image>. It will be edited with the instruction: "
    '"{instruction}". Without seeing the result, reason about how this edit will change the image\'s '
    "aesthetics and predict the change of its aesthetic rating, a signed float between -1 and 1 rounded to "
    "two decimal places (ratings lie between 0 and 1). Put your reasoning inside <think>...</think> and only "
    "the signed difference inside <answer>...</answer>."
)

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_ANSWER = re.compile(r"<answer>\s*([+-]?\d+(?:\.\d+)?)\s*</answer>", re.DOTALL)


def _think_and_number(text: str, what: str) -> tuple[str, float]:
    think, answer = _THINK.search(text), _ANSWER.search(text)
    if think is None or not think.group(1).strip():
        raise ValueError(f"{what}: no <think>...</think> reasoning in the reply")
    if answer is None:
        raise ValueError(f"{what}: no number inside <answer>...</answer>")
    return think.group(1).strip(), float(answer.group(1))


def parse_anchor(text: str) -> tuple[str, float]:
    """``(analysis, score in [1, 10])`` of an anchor expert; ValueError (the reply is retried) otherwise."""
    analysis, score = _think_and_number(text, "anchor score")
    if not 1.0 <= score <= 10.0:
        raise ValueError(f"anchor score {score} outside [1, 10]")
    return analysis, score


def parse_judgement(text: str) -> tuple[str, float]:
    """``(reasoning, difference in [-9, 9])`` of a pairwise judge (10-point scale)."""
    reasoning, difference = _think_and_number(text, "pairwise judgement")
    if not -9.0 <= difference <= 9.0:
        raise ValueError(f"judged difference {difference} outside [-9, 9]")
    return reasoning, difference


def _json_object(text: str, what: str) -> dict[str, Any]:
    """The JSON object of a reply, tolerating a ```json fence or text around it."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError(f"{what}: no JSON object in the reply")
    try:
        value = json.loads(text[start : end + 1])
    except json.JSONDecodeError as error:
        raise ValueError(f"{what}: invalid JSON ({error})") from error
    if not isinstance(value, dict):  # ValueError, not TypeError: the chat client retries malformed replies
        raise ValueError(f"{what}: expected a JSON object")  # noqa: TRY004
    return value


def parse_instruction(text: str) -> tuple[str, str]:
    """``(analysis, instruction)`` of the instruction expert."""
    value = _json_object(text, "editing instruction")
    instruction, analysis = value.get("instruction"), value.get("analysis", "")
    if not isinstance(instruction, str) or not instruction.strip():
        raise ValueError("editing instruction: missing or empty 'instruction'")
    return str(analysis).strip(), instruction.strip()


def parse_instruction_list(text: str, n: int) -> list[str]:
    """The ``n`` RL instructions (duplicates and empties rejected)."""
    value = _json_object(text, "RL instructions").get("instructions")
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("RL instructions: 'instructions' must be a list of non-empty strings")
    cleaned = [v.strip() for v in value]
    if len(cleaned) != n or len(set(cleaned)) != n:
        raise ValueError(
            f"RL instructions: expected {n} distinct instructions, got {len(cleaned)} ({len(set(cleaned))} distinct)"
        )
    return cleaned


VIESCORE_KEYS = ("editing_success", "over_editing", "naturalness", "artifacts")


def parse_viescore(text: str) -> float:
    """VIEScore overall ``O = sqrt(SC * PQ)`` with ``SC = min(editing_success, over_editing)`` and
    ``PQ = min(naturalness, artifacts)`` (Ku et al. 2024, each on [0, 10])."""
    value = _json_object(text, "VIEScore")
    scores = []
    for key in VIESCORE_KEYS:
        number = value.get(key)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 <= number <= 10:
            raise ValueError(f"VIEScore: {key!r} must be a number in [0, 10], got {number!r}")
        scores.append(float(number))
    return math.sqrt(min(scores[0], scores[1]) * min(scores[2], scores[3]))
