"""Aes-R1 as a reward: a batch of images in, one score in [0, 1] per image and an audit trail out.

``AestheticReward`` wraps any evaluation backend (``hf``, ``vllm`` in-process; ``openai`` for a
``vllm serve`` of an Aes-R1 checkpoint, the production path). What it adds for use inside a training
step:

* **deterministic by default**: greedy decoding (``temperature=0``) and one seed per image derived
  from the image's *content* (``image_inputs.content_key``), so the same picture gets the same
  samples in any batch, position or step; ``temperature`` and ``n`` are explicit settings, and
  ``n > 1`` gives the mean and the spread (population std) of the parsed samples;
* **batching and bounded concurrency**: images go to the backend ``batch_size`` at a time, at most
  ``concurrency`` batches in flight; in-process backends (``hf``, ``vllm``) hold one model and seed
  torch's global RNG, so their calls are serialised;
* **timeouts and retries**: a batch that raises or exceeds ``timeout_s`` is retried ``retries`` times
  with exponential back-off; when it still fails its images get ``failure_score`` and a status, counted
  in ``info["counts"]``. A failing *request* never raises into the caller; bad *input* (a tensor
  without a channel axis) does, since it is a bug in the caller.

Parsing is ``reward_fns.parse_answer`` through ``scoring.records.sample_record``, the critique is
``scoring.critique.critique_text`` and the verdict over ``n`` samples is ``summarize_samples`` (also
``aesr1-score``'s rows): nothing about reasoning or parsing is written twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import numpy as np
from PIL import Image

from data_prep.levels import score_level
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from recipe.aesr1.scoring.backends import (
    InferenceBackend,
    Sample,
    SamplingSettings,
    image_seed,
    make_backend,
)
from recipe.aesr1.scoring.critique import critique_text
from recipe.aesr1.scoring.image_inputs import content_key, to_pil_images
from recipe.aesr1.scoring.modes import get_mode
from recipe.aesr1.scoring.records import BACKEND_ERROR, sample_record

logger = logging.getLogger(__name__)

OK = "ok"  # at least one sample gave a score
NO_SCORE = "no_score"  # the judge answered, but no sample had a parseable score
TIMEOUT = "timeout"  # every attempt exceeded timeout_s
STATUSES = (OK, NO_SCORE, BACKEND_ERROR, TIMEOUT)

_SERIAL_BACKENDS = ("hf", "vllm")  # one in-process model and torch's global RNG: one call at a time


@dataclass(frozen=True)
class RewardSettings:
    """How the judge is asked and how failures are handled; recorded in every ``info``.

    ``max_new_tokens=None`` takes the mode's budget (1024 for ``reasoning``, 16 for ``score_only``).
    ``failure_score`` is what an image without a score gets (0.0: the reward floor, as Q-Insight and
    our RAPO reward give a parse failure); mask with ``info["failed"]`` to drop such images instead.
    """

    mode: str = "reasoning"
    temperature: float = 0.0
    n: int = 1
    top_p: float = 1.0
    seed: int = 0
    max_new_tokens: int | None = None
    batch_size: int = 8
    concurrency: int = 4
    timeout_s: float = 300.0
    retries: int = 2
    retry_backoff_s: float = 0.5
    failure_score: float = 0.0
    max_pixels: int = DEFAULT_MAX_PIXELS
    top_logprobs: int = 0  # >0: API backends return top-k log-probabilities (entropy in aesr1-eval)

    def __post_init__(self) -> None:
        get_mode(self.mode)
        self.sampling()  # validates temperature, top_p, n, max_new_tokens
        if self.batch_size < 1 or self.concurrency < 1 or self.retries < 0 or self.timeout_s <= 0:
            raise ValueError(f"batch_size, concurrency and timeout_s must be positive, retries >= 0: {self}")
        if not 0.0 <= self.failure_score <= 1.0:
            raise ValueError(f"failure_score must lie in [0, 1] like every score, got {self.failure_score}")

    @property
    def prompt(self) -> str:
        return get_mode(self.mode).prompt

    def sampling(self) -> SamplingSettings:
        budget = self.max_new_tokens or get_mode(self.mode).max_new_tokens
        return SamplingSettings(self.temperature, self.top_p, budget, self.n, self.seed, self.top_logprobs)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ImageScore:
    """The judge's verdict on one image.

    ``score`` is the mean over the parsed samples (None without any), ``spread`` their population std,
    ``samples`` the per-sample records of ``sample_record`` (text, score, format_ok, reason, ...).
    """

    score: float | None
    spread: float | None
    status: str
    seed: int
    samples: list[dict] = field(default_factory=list)
    error: str = ""

    @property
    def first_sample(self) -> dict | None:
        """The first scored sample, else the first sample, else None."""
        return next((s for s in self.samples if s["score"] is not None), self.samples[0] if self.samples else None)

    @property
    def n_scored(self) -> int:
        return sum(s["score"] is not None for s in self.samples)

    @property
    def reasoning(self) -> str:
        """The critique of ``first_sample``."""
        first = self.first_sample
        return critique_text(first["text"]) if first else ""

    @property
    def level(self) -> str:
        return score_level(self.score)


def summarize_samples(records: Sequence[dict], seed: int) -> ImageScore:
    """The verdict on one image from its ``n`` sample records: mean and spread of the parsed samples, status.

    The one place this is decided, for ``AestheticReward`` and for ``aesr1-score``'s rows.
    """
    scores = [r["score"] for r in records if r["score"] is not None]
    if scores:
        return ImageScore(float(np.mean(scores)), float(np.std(scores)), OK, seed, list(records))
    errors = sorted({r["error"] for r in records if r.get("error")})
    status = BACKEND_ERROR if records and all(r.get("error") for r in records) else NO_SCORE
    return ImageScore(None, None, status, seed, list(records), "; ".join(errors))


class AestheticReward:
    """Score images with an Aes-R1 judge; call it like a Flow-GRPO reward function.

    >>> reward = AestheticReward.from_backend("openai", "aes-r1", base_url="http://127.0.0.1:8000/v1")  # doctest: +SKIP
    >>> scores, info = reward(images, prompts, metadata)  # doctest: +SKIP
    """

    def __init__(self, backend: InferenceBackend, settings: RewardSettings | None = None):
        self.backend = backend
        self.settings = settings or RewardSettings()
        self._lock = threading.Lock() if getattr(backend, "name", "") in _SERIAL_BACKENDS else None
        # Own threads, a few spare: a timed-out call keeps its thread until it returns, and the
        # caller must not wait for it (asyncio.run would wait for the default executor's threads).
        self._pool = ThreadPoolExecutor(self.settings.concurrency + 2, thread_name_prefix="aesr1-reward")

    @classmethod
    def from_backend(
        cls, kind: str, model: str, settings: RewardSettings | None = None, **options
    ) -> AestheticReward:
        """Build the backend (``scoring.backends.make_backend``) and wrap it.

        For ``openai`` the project's one client retries each request (``settings.retries`` times, backoff
        from ``settings.retry_backoff_s``; a request that still fails comes back as a ``backend_error``
        sample, it does not raise), its timeout is ``settings.timeout_s``, and one backend call sends
        its ``batch_size`` requests at once: at most ``concurrency * batch_size`` requests are in flight.
        The batch-level retries of ``_score_batch`` are for backends that raise (hf, vllm).
        """
        settings = settings or RewardSettings()
        if kind == "openai":
            options = {
                "timeout_s": settings.timeout_s, "max_retries": settings.retries, "concurrency": settings.batch_size,
                "backoff_base_s": settings.retry_backoff_s, "backoff_max_s": max(settings.retry_backoff_s, 1.0), **options,
            }  # fmt: skip
        return cls(make_backend(kind, model, **options), settings)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _generate(self, images: list[Image.Image], seeds: list[int]) -> list[list]:
        settings = self.settings
        if self._lock is None:
            return self.backend.generate(images, settings.prompt, settings.sampling(), seeds)
        with self._lock:
            return self.backend.generate(images, settings.prompt, settings.sampling(), seeds)

    async def _score_batch(
        self, images: list[Image.Image], seeds: list[int], limit: asyncio.Semaphore
    ) -> list[ImageScore]:
        settings = self.settings
        status, error = BACKEND_ERROR, ""
        async with limit:
            loop = asyncio.get_running_loop()
            for attempt in range(settings.retries + 1):
                if attempt:
                    await asyncio.sleep(settings.retry_backoff_s * 2 ** (attempt - 1))
                call = loop.run_in_executor(self._pool, self._generate, images, seeds)
                try:
                    outputs = await asyncio.wait_for(call, settings.timeout_s)
                except TimeoutError:
                    status, error = TIMEOUT, f"no answer within {settings.timeout_s} s"
                except Exception as exc:  # noqa: BLE001 - any backend failure is this batch's outcome
                    status, error = BACKEND_ERROR, f"{type(exc).__name__}: {exc}"
                else:
                    if len(outputs) == len(images):
                        return [
                            summarize_samples([sample_record(s) for s in samples], seed)
                            for samples, seed in zip(outputs, seeds, strict=True)
                        ]
                    status, error = BACKEND_ERROR, f"backend returned {len(outputs)} results for {len(images)} images"
                logger.warning("reward batch of %d: attempt %d/%d failed: %s", len(images), attempt + 1,
                               settings.retries + 1, error)
        # Recorded as failed samples, as evaluation records an endpoint's refusal (reason backend_error)
        failed = [sample_record(Sample("", error=error))] * settings.n
        return [ImageScore(None, None, status, seed, list(failed), error) for seed in seeds]

    def content_seed(self, image: Image.Image) -> int:
        """The seed ``ascore`` gives an RGB image within the pixel budget: ``settings.seed`` and its pixels' SHA-256."""
        return image_seed(self.settings.seed, content_key(image))

    async def ascore(self, images: object, seeds: Sequence[int] | None = None) -> list[ImageScore]:
        """One ``ImageScore`` per image, in input order. ``seeds`` overrides the content seeds."""
        pils = to_pil_images(images, self.settings.max_pixels)
        if seeds is None:
            seeds = [self.content_seed(image) for image in pils]
        elif len(seeds) != len(pils):
            raise ValueError(f"{len(pils)} images but {len(seeds)} seeds")
        size = self.settings.batch_size
        limit = asyncio.Semaphore(self.settings.concurrency)
        batches = [
            self._score_batch(pils[i : i + size], list(seeds[i : i + size]), limit) for i in range(0, len(pils), size)
        ]
        return [result for batch in await asyncio.gather(*batches) for result in batch]

    def score(self, images: object, seeds: Sequence[int] | None = None) -> list[ImageScore]:
        """Synchronous ``ascore`` (also from inside a running event loop, via a helper thread)."""
        return _run_sync(self.ascore(images, seeds))

    def rewards(self, results: Sequence[ImageScore]) -> np.ndarray:
        """float32 scores in [0, 1], ``failure_score`` where there is none."""
        fill = self.settings.failure_score
        return np.array([fill if r.score is None else r.score for r in results], dtype=np.float32)

    def info(self, results: Sequence[ImageScore], elapsed_s: float) -> dict:
        """The audit trail: per-image reasoning, parse status, per-sample scores, counts, settings."""
        counts = Counter(r.status for r in results)
        return {
            "scores": [[s["score"] for s in r.samples] for r in results],
            "mean": [r.score for r in results],
            "spread": [r.spread for r in results],
            "status": [r.status for r in results],
            "parse_status": [[s["reason"] for s in r.samples] for r in results],
            "reasoning": [r.reasoning for r in results],
            "error": [r.error for r in results],
            "seeds": [r.seed for r in results],
            "failed": [r.score is None for r in results],
            "counts": {**dict.fromkeys(STATUSES, 0), **counts},  # plus e.g. "unreadable" for files
            "n_failed": sum(r.score is None for r in results),
            "settings": self.settings.to_json(),
            "elapsed_s": elapsed_s,
        }

    async def acall(self, images: object, prompts: Sequence[str] | None = None, metadata: object = None):
        """Async ``__call__``: ``(scores, info)``."""
        start = time.perf_counter()
        results = await self.ascore(images)
        return self.rewards(results), self.info(results, time.perf_counter() - start)

    def __call__(self, images: object, prompts: Sequence[str] | None = None, metadata: object = None):
        """Flow-GRPO's reward signature: ``(scores float32 (N,), info dict)``.

        ``prompts`` and ``metadata`` are accepted and not shown to the judge: Aes-R1 rates the
        picture alone (its training prompt has no caption).
        """
        return _run_sync(self.acall(images, prompts, metadata))


def _run_sync(coroutine):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1) as helper:  # a loop already runs in this thread: run ours beside it
        return helper.submit(asyncio.run, coroutine).result()
