"""The reward service's request and response: Flow-GRPO's pickle dict, its JSON twin, and what we add.

Request (a pickled dict on ``POST /``, the same dict as JSON with base64 images on ``POST /score``)::

    {"images": [JPEG/PNG/... bytes],   # required, 1..max_images
     "prompts": [str, ...],            # optional; accepted and not shown to the judge
     "metadata": {...},                # optional; ignored (Flow-GRPO and verl-omni send {})
     "group_ids": [str | int, ...],    # ours, optional: one per image -> ranks within each group
     "seeds": [int, ...],              # ours, optional: one per image, replaces the content seed
     "return_reasoning": bool}         # ours, optional: the critique of each image

Response (pickled on ``/``, JSON on ``/score``), one entry per image, in input order::

    {"scores": [float],      # verl-omni reads this; failure_value where the judge gave no score
     "outputs": [float],     # the same list: Flow-GRPO's deqa/unifiedreward clients read "outputs"
     "status": [str],        # ok, no_score, backend_error, timeout, bad_image
     "raw": [float | None],  # the judge's score, None where there is none
     "spread": [float | None], "n_scored": [int], "detail": [str],
     "counts": {status: n}, "failure_value": float, "model": str, "mode": str,
     "ranks": [int | None], "groups": [GroupScore.to_json()]   # only with group_ids
     "reasoning": [str]}                                        # only with return_reasoning

A success never carries an ``error`` key: verl-omni's client treats any ``error`` key as a failed call.
A refused request is HTTP 4xx with ``{"error": "..."}`` (pickled on ``/``, JSON on ``/score``).
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from recipe.aesr1.scoring.groups import group_results
from recipe.aesr1.scoring.scorer import STATUSES, ImageScore

BAD_IMAGE = "bad_image"  # the bytes were not a decodable image within the limits: never sent to the judge
SERVICE_STATUSES = (*STATUSES, BAD_IMAGE)


class BadRequest(ValueError):
    """The request as a whole is malformed (HTTP 400); per-image problems are ``bad_image`` instead."""


@dataclass(frozen=True)
class ScoreRequest:
    """A validated request. ``images[i]`` is bytes, or a string saying why that entry is unusable."""

    images: list[bytes | str]
    group_ids: list[str | int] | None = None
    seeds: list[int] | None = None
    return_reasoning: bool = False


def _per_image_list(payload: dict, key: str, n: int) -> list | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise BadRequest(f"{key!r} must be a list, got {type(value).__name__}")
    if len(value) != n:
        raise BadRequest(f"{key!r} has {len(value)} entries for {n} images")
    return list(value)


def parse_request(payload: object, max_images: int, base64_images: bool = False) -> ScoreRequest:
    """Validate the top-level fields of a decoded request body (pickle or JSON).

    Only the fields read here are looked at (``metadata`` is never walked), so a large or deeply
    nested ``metadata`` costs nothing beyond its bytes.

    Raises:
        BadRequest: not a dict, no or too many images, a per-image field of the wrong length or type.
    """
    if not isinstance(payload, dict):
        raise BadRequest(f"the body must be a dict with an 'images' list, got {type(payload).__name__}")
    images = payload.get("images")
    if not isinstance(images, (list, tuple)) or not images:
        raise BadRequest("'images' must be a non-empty list of encoded images")
    if len(images) > max_images:
        raise BadRequest(f"{len(images)} images in one request; this service takes at most {max_images}")
    _per_image_list(payload, "prompts", len(images))  # checked for shape only: the judge rates the picture alone
    group_ids = _per_image_list(payload, "group_ids", len(images))
    if group_ids is not None and not all(isinstance(g, (str, int)) and not isinstance(g, bool) for g in group_ids):
        raise BadRequest("'group_ids' must hold strings or integers")
    seeds = _per_image_list(payload, "seeds", len(images))
    if seeds is not None and not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**63 for s in seeds):
        raise BadRequest("'seeds' must hold non-negative integers below 2**63")
    reasoning = payload.get("return_reasoning", False)
    if not isinstance(reasoning, bool):
        raise BadRequest("'return_reasoning' must be true or false")
    decoded = [_image_bytes(item, base64_images) for item in images]
    return ScoreRequest(decoded, group_ids, seeds, reasoning)


def _image_bytes(item: object, base64_images: bool) -> bytes | str:
    """The encoded image, or why this entry cannot be one (that image becomes ``bad_image``)."""
    if base64_images:
        if not isinstance(item, str):
            return f"expected a base64 string, got {type(item).__name__}"
        try:
            return base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            return "not valid base64"
    if isinstance(item, (bytes, bytearray)):
        return bytes(item)
    return f"expected bytes, got {type(item).__name__}"


def build_response(
    results: Sequence[ImageScore], request: ScoreRequest, failure_value: float, model: str, mode: str
) -> dict:
    """The response dict for ``results`` (one per image, ``bad_image`` ones included), see the module docstring."""
    raw = [r.score for r in results]
    scores = [failure_value if s is None else float(s) for s in raw]
    response = {
        "scores": scores,
        "outputs": list(scores),
        "status": [r.status for r in results],
        "raw": raw,
        "spread": [r.spread for r in results],
        "n_scored": [r.n_scored for r in results],
        "detail": [r.error for r in results],
        "counts": {**dict.fromkeys(SERVICE_STATUSES, 0), **Counter(r.status for r in results)},
        "failure_value": failure_value,
        "model": model,
        "mode": mode,
    }
    if request.group_ids is not None:
        groups = group_results(results, request.group_ids)
        ranks: list[int | None] = [None] * len(results)
        for group in groups:
            for index, rank in zip(group.indices, group.ranks, strict=True):
                ranks[index] = rank
        response["ranks"] = ranks
        response["groups"] = [group.to_json() for group in groups]
    if request.return_reasoning:
        response["reasoning"] = [r.reasoning for r in results]
    return response
