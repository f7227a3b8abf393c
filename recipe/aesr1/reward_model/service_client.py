"""The one client of the reward service, for trainers: JSON over HTTP, nothing unpickled on either side.

``RewardServiceClient`` has the call signatures of ``AestheticReward`` (``__call__``/``acall`` return
``(float32 scores (N,), info)``), so the Flow-GRPO and mm_grpo adapters and the verl-omni scorer take
either the in-process judge or the service. It speaks the JSON twin (``POST /score``) so that the
trainer never unpickles what a server sends back either.

Retries follow verl-omni's ``http_scorer_client``: HTTP 408, 429 and 5xx and connection failures are
retried ``max_retries`` times with a doubling back-off from ``retry_backoff_s``; each attempt has
``timeout_s`` (120 s, both Flow-GRPO's and verl-omni's). A refused request (other 4xx) raises at once.
A service that still cannot answer raises ``RewardServiceError``: filling a whole batch with a failure
value would train on noise. Per-image failures are values with a status, as in the service.

Only the standard library, numpy and Pillow are imported: the trainer's environment needs nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Hashable, Sequence

import numpy as np

from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from recipe.aesr1.scoring.image_inputs import to_pil_images

RETRYABLE = frozenset({408, 429})  # plus every 5xx


class RewardServiceError(RuntimeError):
    """The service refused the request, or did not answer within the retries."""


class RewardServiceClient:
    """Score images with an ``aesr1-reward-server``.

    Args:
        url: the server root, e.g. ``http://judge:18086``.
        token: bearer token, if the server requires one (kept out of ``repr``).
        timeout_s, max_retries, retry_backoff_s: per-attempt deadline and retry policy (see module docstring).
        image_format: ``png`` (lossless: the judge sees the trainer's pixels, as in-process scoring does)
            or ``jpeg`` (quality 95; smaller requests, what Flow-GRPO sends).
        max_images_per_request: larger calls are split (never inside a group).
        max_pixels: images are shrunk to the project's pixel budget before they are encoded.
    """

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 120.0, max_retries: int = 2,
                 retry_backoff_s: float = 0.5, image_format: str = "png", max_images_per_request: int = 64,
                 max_pixels: int = DEFAULT_MAX_PIXELS):
        if image_format not in ("png", "jpeg"):
            raise ValueError(f"image_format must be png or jpeg, got {image_format!r}")
        if max_retries < 0 or retry_backoff_s < 0 or timeout_s <= 0 or max_images_per_request < 1:
            raise ValueError("max_retries and retry_backoff_s must be >= 0, timeout_s and max_images_per_request > 0")
        self.url = url.rstrip("/")
        self._token = token
        self.timeout_s, self.max_retries, self.retry_backoff_s = timeout_s, max_retries, retry_backoff_s
        self.image_format, self.max_images_per_request, self.max_pixels = image_format, max_images_per_request, max_pixels
        self.last_info: dict = {}

    def __repr__(self) -> str:
        return f"RewardServiceClient({self.url!r}, token={'set' if self._token else None})"

    # --- HTTP ---------------------------------------------------------------------------------

    def _request(self, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        data = None if body is None else json.dumps(body).encode()
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.retry_backoff_s * 2 ** (attempt - 1))
            request = urllib.request.Request(self.url + path, data=data, headers=headers, method="GET" if data is None else "POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                detail = _error_detail(error)
                if error.code not in RETRYABLE and error.code < 500:
                    raise RewardServiceError(f"{self.url}{path}: HTTP {error.code}: {detail}") from None
                last = f"HTTP {error.code}: {detail}"
            except (urllib.error.URLError, OSError) as error:  # refused, reset, timed out
                last = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        raise RewardServiceError(f"{self.url}{path}: no answer after {self.max_retries + 1} attempts: {last}")

    def health(self) -> dict:
        """``GET /health``; raises ``RewardServiceError`` when the service is down."""
        return self._request("/health")

    # --- scoring ------------------------------------------------------------------------------

    def _encode(self, images: object) -> list[str]:
        encoded = []
        for image in to_pil_images(images, self.max_pixels):
            buffer = io.BytesIO()
            image.save(buffer, format="PNG") if self.image_format == "png" else image.save(buffer, format="JPEG", quality=95)
            encoded.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
        return encoded

    def score_request(self, images: object, group_ids: Sequence[Hashable] | None = None,
                      seeds: Sequence[int] | None = None, return_reasoning: bool = False) -> dict:
        """The service's response dict for ``images`` (anything ``to_pil_images`` takes), merged over requests.

        With ``group_ids`` all images go in one request, so each group is ranked whole.
        """
        encoded = self._encode(images)
        if group_ids is not None or len(encoded) <= self.max_images_per_request:
            chunks = [range(len(encoded))]
        else:
            step = self.max_images_per_request
            chunks = [range(i, min(i + step, len(encoded))) for i in range(0, len(encoded), step)]
        merged: dict = {}
        for chunk in chunks:
            body: dict = {"images": [encoded[i] for i in chunk], "return_reasoning": return_reasoning}
            if group_ids is not None:
                body["group_ids"] = list(group_ids)
            if seeds is not None:
                body["seeds"] = [int(seeds[i]) for i in chunk]
            part = self._request("/score", body)
            for key, value in part.items():
                if isinstance(value, list) and key != "groups":
                    merged.setdefault(key, []).extend(value)
                elif key == "counts":
                    counts = merged.setdefault("counts", {})
                    for status, n in value.items():
                        counts[status] = counts.get(status, 0) + n
                else:
                    merged[key] = value
        return merged

    async def ascore_request(self, images: object, group_ids: Sequence[Hashable] | None = None,
                             seeds: Sequence[int] | None = None, return_reasoning: bool = False) -> dict:
        """``score_request`` off the event loop (a thread), so concurrent callers overlap."""
        return await asyncio.to_thread(self.score_request, images, group_ids, seeds, return_reasoning)

    @staticmethod
    def _scores_and_info(response: dict) -> tuple[np.ndarray, dict]:
        info = {**response, "failed": [s is None for s in response["raw"]]}
        return np.asarray(response["scores"], dtype=np.float32), info

    def __call__(self, images: object, prompts: Sequence[str] | None = None, metadata: object = None):
        """Flow-GRPO's reward signature, as ``AestheticReward.__call__``: ``(float32 scores (N,), info)``."""
        scores, self.last_info = self._scores_and_info(self.score_request(images))
        return scores, self.last_info

    async def acall(self, images: object, prompts: Sequence[str] | None = None, metadata: object = None):
        """Async ``__call__``."""
        scores, self.last_info = self._scores_and_info(await self.ascore_request(images))
        return scores, self.last_info

    def score_groups(self, images: object, group_ids: Sequence[Hashable]) -> list[dict]:
        """Per group: scores, ranks (1 = best), spreads over the judge's samples, statuses, best (``GroupScore.to_json``)."""
        return self.score_request(images, group_ids)["groups"]


def _error_detail(error: urllib.error.HTTPError) -> str:
    try:
        body = error.read()
        return str(json.loads(body).get("error", body[:200]))
    except (ValueError, AttributeError, OSError):
        return error.reason if isinstance(error.reason, str) else "no detail"
