"""Any OpenAI-compatible chat endpoint: hosted baselines (GPT-4.1 in Table 1) or a vLLM server.

The image travels inline as a base64 data URL between the prompt's text halves, so the model sees the
same text/image/text message as in training. Requests run concurrently (bounded); the ``openai``
client retries transient errors itself. Endpoints that ignore ``n`` get topped up with single
requests. ``seed`` is forwarded (honoured by vLLM, best-effort on hosted APIs).

A vLLM server fills parameters the request leaves out from the checkpoint's
``generation_config.json`` (Qwen2.5-VL-Instruct: ``top_k=1``, ``repetition_penalty=1.05``, i.e. near
greedy), unlike the settings recorded here. Against vLLM pass
``extra_body={"top_k": -1, "repetition_penalty": 1.0}`` (CLI ``--extra-body``) or start the server with
``--generation-config vllm``; hosted APIs reject those keys, so they are not sent by default.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from recipe.aesr1.evaluation.backends.base import Sample, SamplingSettings, split_prompt
from recipe.aesr1.evaluation.entropy import token_entropy_from_top_logprobs


def image_data_url(image: Image.Image, image_format: str = "jpeg", quality: int = 95) -> str:
    """``data:image/...;base64,...`` of the image as RGB; ``png`` is lossless, ``jpeg`` is smaller."""
    buffer = io.BytesIO()
    fmt = image_format.lower()
    if fmt == "png":
        image.convert("RGB").save(buffer, format="PNG")
    elif fmt in ("jpeg", "jpg"):
        fmt = "jpeg"
        image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    else:
        raise ValueError(f"image_format must be 'png' or 'jpeg', got {image_format!r}")
    return f"data:image/{fmt};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class OpenAIBackend:
    """Chat-completions client for one model name on one endpoint.

    Args:
        model: the model name the endpoint serves (e.g. ``gpt-4.1-2025-04-14`` or a vLLM served name).
        base_url: e.g. ``http://127.0.0.1:8000/v1``; None uses the client default / ``OPENAI_BASE_URL``.
        api_key: None reads ``OPENAI_API_KEY``, else ``"EMPTY"`` (what local vLLM servers accept).
        concurrency: requests in flight at once.
        extra_body: extra JSON fields for the endpoint (vLLM sampling keys such as ``top_k``).
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 8,
        image_format: str = "jpeg",
        timeout_s: float = 600.0,
        max_retries: int = 5,
        extra_body: dict | None = None,
    ):
        from openai import OpenAI

        self.model = model
        self.concurrency = concurrency
        self.image_format = image_format
        self.extra_body = extra_body or None
        self.client = OpenAI(
            base_url=base_url,
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def _messages(self, image: Image.Image, prompt: str) -> list[dict]:
        before, after = split_prompt(prompt)
        content = [
            {"type": "text", "text": before},
            {"type": "image_url", "image_url": {"url": image_data_url(image, self.image_format)}},
            {"type": "text", "text": after},
        ]
        return [{"role": "user", "content": content}]

    def _request(self, messages: list[dict], sampling: SamplingSettings, n: int, seed: int) -> list[Sample]:
        extra = {"logprobs": True, "top_logprobs": sampling.top_logprobs} if sampling.top_logprobs > 0 else {}
        response = self.client.chat.completions.create(
            model=self.model,
            messages=messages,
            n=n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_new_tokens,
            seed=seed,
            extra_body=self.extra_body,
            **extra,
        )
        return [_sample_from_choice(choice) for choice in response.choices]

    def _generate_one(self, image: Image.Image, prompt: str, sampling: SamplingSettings, seed: int) -> list[Sample]:
        from openai import BadRequestError

        messages = self._messages(image, prompt)
        try:
            samples = self._request(messages, sampling, sampling.n, seed)
        except BadRequestError as error:
            # A request the endpoint refuses for this image (content filter, image too large) will be
            # refused again: record it as this image's outcome. Transient errors are retried by the
            # client and, when retries run out, stop the run (which then resumes).
            return [Sample("", error=str(error.message))] * sampling.n
        while len(samples) < sampling.n:  # endpoint ignored n: one more request per missing sample
            samples += self._request(messages, sampling, 1, seed + len(samples))
        return samples[: sampling.n]

    def generate(
        self, images: Sequence[Image.Image], prompt: str, sampling: SamplingSettings, seeds: Sequence[int]
    ) -> list[list[Sample]]:
        if len(images) != len(seeds):
            raise ValueError(f"{len(images)} images but {len(seeds)} seeds")
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            return list(
                pool.map(
                    lambda args: self._generate_one(args[0], prompt, sampling, args[1]), zip(images, seeds, strict=True)
                )
            )


def _sample_from_choice(choice) -> Sample:
    text = choice.message.content or ""
    content = getattr(choice.logprobs, "content", None) if choice.logprobs is not None else None
    if not content:
        return Sample(text)
    width = max(len(token.top_logprobs or []) for token in content)
    if width == 0:
        return Sample(text, n_tokens=len(content))
    table = np.full((len(content), width), -np.inf)
    for row, token in enumerate(content):
        for col, alternative in enumerate(token.top_logprobs or []):
            table[row, col] = alternative.logprob
    return Sample(text, len(content), float(token_entropy_from_top_logprobs(table).sum()), "top_k")
