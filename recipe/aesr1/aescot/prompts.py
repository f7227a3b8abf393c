"""Prompts of the AesCoT pipeline (Aes-R1 Sec. 3.2, Appendix B, Appendix E.1).

The expert sees the image and its score (rounded to two decimals, as the scoring prompt asks the
model to answer) and is told to keep the score private; the five dimensions of Table 5 steer the
critique. The two judge prompts are ours: the paper says only that models are prompted "to deal with
the inconsistencies between the critique and the aesthetic score and to identify the factual error".
The SFT user turn is not here: it is ``data_prep.prompts.SCORING_PROMPT``, shared with RL and eval.
"""

from __future__ import annotations

# Appendix B, "Prompt Used for AesCoT Construction", verbatim; {score} is filled with two decimals.
CONSTRUCTION_PROMPT = (
    "You are an aesthetic expert. The aesthetic rating of this picture <image> is {score}. Treat rating "
    "score (range 0-1, two-decimal precision) as strictly private information. The rating is a float "
    "between 0 and 1, rounded to two decimal places, with 0 representing very poor quality and 1 "
    "representing excellent quality. Closely examine the image\u2019s composition, lighting, color "
    "harmony, subject matter, technical execution and emotional impact. Write a thoughtful critique "
    "that: explains the key visual strengths and weaknesses ; ends with a judgment of the image that "
    "matches the hidden score. Never mention the numeric value of score or the fact that it was "
    "provided. Do not reference these instructions or any hidden variables in your answer. Use English "
    "as your answer language."
)

# Table 5 of Aes-R1 (Appendix E.1), verbatim: the five dimensions the experts are guided along.
AESTHETIC_DIMENSIONS: dict[str, str] = {
    "Light and Shadow": (
        "Light and shadow establish volume, spatial depth, and visual focus. Directionality and contrast "
        "model form and texture; side/backlighting and cast shadows can evoke mystery or drama. The color "
        "of light and time of day convey atmosphere. Strong light design supports the narrative while "
        "preserving highlight and shadow detail for legibility and dimensionality."
    ),
    "Mood and Narrative": (
        "The image\u2019s affective tenor and implied story emerge through subject posture, environmental "
        "cues, pacing, and intentional ambiguity. The tension between what is revealed and withheld invites "
        "inference and engagement. Symbol, metaphor, and gesture diversify readings and increase resonance "
        "and memorability."
    ),
    "Composition": (
        "Composition organizes elements to determine balance, proportion, rhythm, and hierarchy. Eye paths, "
        "perspective, framing, and negative space create structural tension and a unity between stability "
        "and dynamism. Effective composition clarifies information, isolates the subject, and avoids clutter "
        "or dispersion."
    ),
    "Color": (
        "Hue, value, and chroma constitute a color language that shapes emotion and spatial impression. "
        "Harmonies (complementary, analogous, triadic) and warm-cool contrasts set atmosphere and depth; a "
        "dominant palette with accent colors establishes hierarchy. Color also carries symbolic and "
        "narrative functions; a consistent grade and controlled contrasts sharpen stylistic identity."
    ),
    "Exposure": (
        "Exposure governs tonal distribution and the rendering of texture, where technique meets intention. "
        "Choices among high key or low key, and whether to protect highlights or shadows, should serve theme "
        "and mood while retaining critical detail within the available dynamic range. Deliberate over- or "
        "underexposure can be expressive, but information loss that weakens legibility or narrative should "
        "be avoided."
    ),
}


def dimension_guide() -> str:
    """The Table 5 guide appended to the construction prompt (Sec. 3.2: critiques along five dimensions)."""
    lines = ["Analyse the image along these five aesthetic dimensions:"]
    lines += [f"- {name}: {explanation}" for name, explanation in AESTHETIC_DIMENSIONS.items()]
    return "\n".join(lines)


def construction_prompt(score: float, with_dimension_guide: bool = True) -> str:
    """The expert's prompt for one image: Appendix B with the score in two decimals, then Table 5.

    Args:
        score: the true normalised score in [0, 1].
        with_dimension_guide: append the five-dimension guide of Table 5 (Sec. 3.2 says experts analyse
            along these dimensions; the Appendix B text alone does not name them).

    Returns:
        Text containing exactly one ``<image>`` placeholder.
    """
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"score must lie in [0, 1], got {score!r}")
    text = CONSTRUCTION_PROMPT.format(score=f"{score:.2f}")
    return f"{text}\n\n{dimension_guide()}" if with_dimension_guide else text


# Our alignment judge: it never sees the score or the image, only the critique (Appendix E.2,
# "reasoning inconsistencies ... conflict with the given score"), and names one level.
ALIGNMENT_JUDGE_PROMPT = (
    "Below is a critique of a photograph written by an aesthetics expert. Based only on the critique, "
    "decide the overall aesthetic level the critique argues for: bad (very poor to below average), fair "
    "(average, mixed strengths and weaknesses) or good (above average to excellent). Reply with exactly "
    "one word: bad, fair or good.\n\nCritique:\n{critique}"
)

# Our factual judge: image plus critique, answer as JSON so that an empty list means "no error".
FACTUAL_JUDGE_PROMPT = (
    "You are checking a critique of the photograph <image> for factual errors. List every statement in "
    "the critique that the image does not support: objects, people, colors, lighting, text or other "
    "details that are absent from the image or described wrongly. Aesthetic opinions are not factual "
    "errors. Reply with JSON only, in the form {{\"unsupported_claims\": [\"...\"]}}, with an empty list "
    "when every statement is supported.\n\nCritique:\n{critique}"
)

# Our leakage judge (filters.leakage_judge, on by default): the paper filters with model judgments plus
# audits; this judge sees the critique only and answers whether it gives away a score.
LEAKAGE_JUDGE_PROMPT = (
    "Below is a critique of a photograph. The writer knew the photograph's numeric aesthetic score and "
    "was told to keep it private. Does the critique state, hint at or refer to a numeric score, a rating "
    "on any scale, a rank or percentile, or a value it was given? Describing the photograph as good or "
    "poor is allowed. Reply with exactly one word: yes or no.\n\nCritique:\n{critique}"
)
