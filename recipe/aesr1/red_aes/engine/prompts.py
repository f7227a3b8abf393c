"""Prompts of the RED-Aes data engine and training stages, and the parsers of the engine's replies.

Appendix 0.B of our copy of the paper describes its prompts but lost their text, so every prompt
here is ours, written to the description. One departure: the paper's first prompt has one expert
analyse, score *and* write the editing instruction in a single call; we split it into
``ANCHOR_PROMPT`` (analysis + score, asked of every anchor expert) and ``INSTRUCTION_PROMPT`` (the
instruction expert's deficiency analysis and one instruction, given the *voted* score). This split is
the only mode: Sec. 3.1 says the consensus scores serve "as anchors for ... generating editing
instructions", which a single call made before the vote cannot do, and the two other experts need not
write instructions. The remaining prompts: VIEScore edit verification (editing success,
over-editing; naturalness, artifacts), pairwise comparison predicting the score difference with
reasoning, diverse RL editing instructions from a set of edit categories (each instruction names
its category, which tags the pair content- or quality-oriented for Table 3), and the training
prompts for PT-O1, PT-O2 (the calibration and RL stages use the shared scoring prompt,
``data_prep.prompts.SCORING_PROMPT``, so that RL rewards and evaluation parse the same answer format).

Scales: expert scores and judge differences are asked on a 10-point scale (as VIEScore and the
paper's figures use); the training targets are on the [0, 1] scale of the RL labels and benchmarks.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Edit categories the instruction prompts choose from, each tagged content- or quality-oriented
# (Sec. 4.4 / Table 3: content edits such as inpainting, quality edits such as colour enhancement).
# Sec. 3.1 names style transfer, object removal and colour grading; the others are ours. Every pair
# carries its category and type, so Table 3's edit-type ablation can filter the datasets.
CONTENT, QUALITY = "content", "quality"
EDIT_CATEGORIES: dict[str, str] = {
    "style transfer": CONTENT,
    "object removal": CONTENT,
    "recomposition or cropping": CONTENT,
    "background replacement": CONTENT,
    "color grading": QUALITY,
    "lighting adjustment": QUALITY,
    "contrast or exposure change": QUALITY,
    "sharpness, blur or noise": QUALITY,
}
RL_EDIT_CATEGORIES = tuple(EDIT_CATEGORIES)
CATEGORY_LIST = "; ".join(EDIT_CATEGORIES)  # ";" because one category contains a comma


def edit_type(category: str) -> str:
    """``content`` or ``quality`` for one of :data:`EDIT_CATEGORIES`; ValueError (the reply is retried) else."""
    key = category.strip().lower()
    if key not in EDIT_CATEGORIES:
        raise ValueError(f"edit category {category!r} is not one of: {CATEGORY_LIST}")
    return EDIT_CATEGORIES[key]


ANCHOR_PROMPT = (
    "You are an expert in photography and image aesthetics. Analyse the aesthetic quality of this image "
    "(composition, lighting, color, focus and sharpness, subject, emotional impact), then rate it on a "
    "scale from 1 (very poor) to 10 (excellent). Put your analysis inside <think>...</think> and only the "
    "number inside <answer>...</answer>."
)

INSTRUCTION_PROMPT = (
    "You are an expert photo editor. This image has an aesthetic score of {score:.1f} out of 10. Identify "
    "its main aesthetic deficiency and write ONE concrete editing instruction that would improve its "
    "aesthetics while keeping its content recognisable, and name its category, exactly one of: "
    "{categories}. Reply with JSON only: "
    '{{"analysis": "<the deficiencies you see>", "instruction": "<one imperative editing instruction>", '
    '"category": "<its category>"}}'
)

RL_INSTRUCTION_PROMPT = (
    "You are an expert photo editor. This image has an aesthetic score of {score:.1f} out of 10. Write {n} "
    "diverse editing instructions for it, each from a different one of these categories where possible: "
    "{categories}. Some edits may improve and some may worsen its aesthetics. Reply with JSON only: "
    '{{"instructions": [{{"instruction": "<instruction 1>", "category": "<its category>"}}, ...]}} with '
    "exactly {n} entries."
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


def _category(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what}: missing 'category' (one of: {CATEGORY_LIST})")
    edit_type(value)
    return value.strip().lower()


def parse_instruction(text: str) -> tuple[str, str, str]:
    """``(analysis, instruction, category)`` of the instruction expert (category of :data:`EDIT_CATEGORIES`)."""
    value = _json_object(text, "editing instruction")
    instruction, analysis = value.get("instruction"), value.get("analysis", "")
    if not isinstance(instruction, str) or not instruction.strip():
        raise ValueError("editing instruction: missing or empty 'instruction'")
    return str(analysis).strip(), instruction.strip(), _category(value.get("category"), "editing instruction")


def parse_instruction_list(text: str, n: int) -> list[tuple[str, str]]:
    """The ``n`` RL ``(instruction, category)`` pairs (duplicate or empty instructions rejected)."""
    value = _json_object(text, "RL instructions").get("instructions")
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError("RL instructions: 'instructions' must be a list of {instruction, category} objects")
    cleaned = []
    for i, entry in enumerate(value):
        instruction = entry.get("instruction")
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError(f"RL instructions: entry {i} has a missing or empty 'instruction'")
        cleaned.append((instruction.strip(), _category(entry.get("category"), f"RL instructions: entry {i}")))
    distinct = len({instruction for instruction, _ in cleaned})
    if len(cleaned) != n or distinct != n:
        raise ValueError(
            f"RL instructions: expected {n} distinct instructions, got {len(cleaned)} ({distinct} distinct)"
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
