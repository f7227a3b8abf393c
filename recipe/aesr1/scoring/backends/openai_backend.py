"""Any OpenAI-compatible chat endpoint: hosted baselines (GPT-4.1 in Table 1) or a vLLM server.

The image travels inline as a base64 data URL between the prompt's text halves, so the model sees the
same text/image/text message as in training. Requests run concurrently (bounded) through the project's
one client (``recipe.aesr1.endpoints.chat_client``), which owns retries, deadlines and redaction.
Endpoints that ignore ``n`` get topped up with single requests. ``seed`` is forwarded (honoured by
vLLM, best-effort on hosted APIs).

A vLLM server fills parameters the request leaves out from the checkpoint's
``generation_config.json`` (Qwen2.5-VL-Instruct: ``top_k=1``, ``repetition_penalty=1.05``, i.e. near
greedy), unlike the settings recorded here. Against vLLM pass
``extra_body={"top_k": -1, "repetition_penalty": 1.0}`` (CLI ``--extra-body``) or start the server with
``--generation-config vllm``; hosted APIs reject those keys, so they are not sent by default.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from recipe.aesr1.endpoints.chat_client import (
    ChatChoice,
    ChatEndpoint,
    FatalEndpointError,
)
from recipe.aesr1.endpoints.config import EndpointConfig
from recipe.aesr1.scoring.backends.base import Sample, SamplingSettings, split_prompt
from recipe.aesr1.scoring.token_entropy import token_entropy_from_top_logprobs


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
    """Chat-completions backend for one model name on one endpoint, through the project's one client.

    Requests go through ``recipe.aesr1.endpoints.chat_client.ChatEndpoint``, so evaluation and scoring share
    AesCoT's retry, deadline and redaction policy: 429/5xx/408/409, dropped connections, deadlines,
    unparsable or non-UTF-8 bodies, replies without choices and empty content are retried up to
    ``max_retries`` times; a 400 (content filter, image too large) or retries that run out become this
    image's ``backend_error`` samples with the (redacted) reason, and the run goes on; 401/403/404 raise
    ``FatalEndpointError``. Each image's samples are handed to ``on_done`` as soon as they arrive.

    Args:
        model: the model name the endpoint serves (e.g. ``gpt-4.1-2025-04-14`` or a vLLM served name).
        base_url: e.g. ``http://127.0.0.1:8000/v1``; None uses ``OPENAI_BASE_URL``, else the OpenAI API.
        api_key: None reads ``OPENAI_API_KEY``, else ``"EMPTY"`` (what local vLLM servers accept).
        concurrency: requests in flight at once.
        timeout_s: deadline of one attempt (whole reply), seconds.
        max_retries: retries after the first attempt.
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
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
    ):
        self.model = model
        self.image_format = image_format
        self.extra_body = extra_body or None
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.endpoint = EndpointConfig(
            base_url=base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1",
            model=model,
            api_key_env=None,
            max_concurrency=max(1, concurrency),
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            request_key_header=None,
        )

    def _messages(self, image: Image.Image, prompt: str) -> list[dict]:
        before, after = split_prompt(prompt)
        content = [
            {"type": "text", "text": before},
            {"type": "image_url", "image_url": {"url": image_data_url(image, self.image_format)}},
            {"type": "text", "text": after},
        ]
        return [{"role": "user", "content": content}]

    def _params(self, sampling: SamplingSettings, seed: int) -> dict:
        params = {"temperature": sampling.temperature, "top_p": sampling.top_p,
                  "max_tokens": sampling.max_new_tokens, "seed": seed}
        if sampling.top_logprobs > 0:
            params.update(logprobs=True, top_logprobs=sampling.top_logprobs)
        if self.extra_body:
            params["extra_body"] = self.extra_body
        return params

    async def _generate_one(
        self, endpoint: ChatEndpoint, image: Image.Image, prompt: str, sampling: SamplingSettings, seed: int
    ) -> list[Sample]:
        messages = self._messages(image, prompt)
        samples: list[Sample] = []
        while len(samples) < sampling.n:  # an endpoint ignoring n: one more request per missing sample
            missing = sampling.n - len(samples)
            result = await endpoint.complete(messages, n=missing, params=self._params(sampling, seed + len(samples)))
            if not result.ok:
                return samples + [Sample("", error=result.error)] * missing
            samples += [_sample_from_choice(choice) for choice in result.choices]
        return samples[: sampling.n]

    async def _generate_all(self, images, prompt, sampling, seeds, on_done) -> None:
        async with ChatEndpoint(self.endpoint, self.name, api_key=self.api_key) as endpoint:

            async def one(index: int) -> None:
                samples = await self._generate_one(endpoint, images[index], prompt, sampling, seeds[index])
                on_done(index, samples)  # no await before this: an accepted reply is recorded at once

            async with asyncio.TaskGroup() as group:
                for index in range(len(images)):
                    group.create_task(one(index))

    def generate_each(
        self,
        images: Sequence[Image.Image],
        prompt: str,
        sampling: SamplingSettings,
        seeds: Sequence[int],
        on_done: Callable[[int, list[Sample]], None],
    ) -> None:
        """Like ``generate``, but calls ``on_done(i, samples)`` for each image as soon as it is answered."""
        if len(images) != len(seeds):
            raise ValueError(f"{len(images)} images but {len(seeds)} seeds")
        try:
            asyncio.run(self._generate_all(list(images), prompt, sampling, list(seeds), on_done))
        except* FatalEndpointError as errors:
            raise errors.exceptions[0] from None

    def generate(
        self, images: Sequence[Image.Image], prompt: str, sampling: SamplingSettings, seeds: Sequence[int]
    ) -> list[list[Sample]]:
        results: dict[int, list[Sample]] = {}
        self.generate_each(images, prompt, sampling, seeds, results.__setitem__)
        return [results[i] for i in range(len(images))]


def _sample_from_choice(choice: ChatChoice) -> Sample:
    text = choice.text
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
