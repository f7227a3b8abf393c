"""The one interface every inference backend implements, and what it returns.

A backend is given images, the scoring prompt and sampling settings, and returns ``n`` sampled
responses per image. Each response carries the entropy statistics the backend can give (see
``recipe.aesr1.evaluation.entropy``): the transformers backend has the full-vocabulary logits; the
OpenAI-compatible and vLLM backends only return top-k log-probabilities.

The prompt is the training prompt (``data_prep.prompts.SCORING_PROMPT``). ``<image>`` marks where the
picture goes, exactly as verl's ``RLHFDataset`` splits it into a text/image/text chat message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from PIL import Image

from data_prep.prompts import IMAGE_PLACEHOLDER


@dataclass(frozen=True)
class SamplingSettings:
    """How responses are sampled; recorded with every prediction file so a run can be repeated.

    Defaults follow the Aes-R1 README's evaluation (temperature 0.6, one sample) and Appendix C's
    max completion length of 1024. ``temperature=0`` means greedy decoding. ``seed`` is the base seed;
    each image gets its own seed derived from it and the image's key (``image_seed``), so a resumed
    run samples the same responses as an uninterrupted one.
    """

    temperature: float = 0.6
    top_p: float = 1.0
    max_new_tokens: int = 1024
    n: int = 1
    seed: int = 0
    top_logprobs: int = 0  # >0 asks API backends for top-k logprobs (entropy estimate)

    def __post_init__(self) -> None:
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.max_new_tokens < 1 or self.n < 1:
            raise ValueError(f"invalid sampling settings: {self}")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Sample:
    """One sampled response.

    Attributes:
        text: the decoded response (special tokens removed).
        n_tokens: number of generated tokens (0 when the backend does not say).
        entropy_sum: sum over generated tokens of the per-token entropy in nats, or None.
        entropy_kind: ``"full_vocab"``, ``"top_k"`` (truncated lower bound) or None.
        error: why the backend produced no response for this sample (e.g. an endpoint refusing
            the request), else None; such a sample counts as a parse failure with reason
            ``backend_error``.
    """

    text: str
    n_tokens: int = 0
    entropy_sum: float | None = None
    entropy_kind: str | None = None
    error: str | None = None


class InferenceBackend(Protocol):
    """Anything that turns images into sampled responses to the scoring prompt."""

    name: str

    def generate(
        self, images: Sequence[Image.Image], prompt: str, sampling: SamplingSettings, seeds: Sequence[int]
    ) -> list[list[Sample]]:
        """Return ``sampling.n`` samples for each image; ``seeds[i]`` seeds image i's sampling."""
        ...


def generate_each(
    backend: InferenceBackend,
    images: Sequence[Image.Image],
    prompt: str,
    sampling: SamplingSettings,
    seeds: Sequence[int],
    on_done: Callable[[int, list[Sample]], None],
) -> None:
    """Call ``on_done(i, samples)`` for each image as soon as the backend has its samples.

    A backend answering images one by one (``openai``) defines ``generate_each`` and reports each
    reply as it arrives, so an interrupted batch loses none it already received; the batched backends
    (``hf``, ``vllm``) return the whole batch from ``generate``, which is then reported image by image.
    """
    own = getattr(backend, "generate_each", None)
    if own is not None:
        own(images, prompt, sampling, seeds, on_done)
        return
    for index, samples in enumerate(backend.generate(images, prompt, sampling, seeds)):
        on_done(index, samples)


def image_seed(base_seed: int, key: str) -> int:
    """A per-image seed in [0, 2**31) from the run's seed and a stable key such as ``"ava/12345"``."""
    digest = hashlib.sha256(f"{base_seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def split_prompt(prompt: str) -> tuple[str, str]:
    """Text before and after the single ``<image>`` of the prompt; a prompt without one fails."""
    if prompt.count(IMAGE_PLACEHOLDER) != 1:
        raise ValueError(f"the prompt must contain {IMAGE_PLACEHOLDER!r} exactly once, got: {prompt[:80]!r}...")
    before, after = prompt.split(IMAGE_PLACEHOLDER)
    return before, after
