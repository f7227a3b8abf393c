"""Thin adapters that let image-generation RL frameworks call ``AestheticReward`` their own way.

* **Flow-GRPO / DiffusionNFT** (``flow_grpo/rewards.py``): a factory returns
  ``_fn(images, prompts, metadata) -> (scores, info)``, images float ``(N, 3, H, W)`` in [0, 1] or uint8
  ``(N, H, W, 3)``; ``multi_score`` weights and sums the arrays. ``flow_grpo_reward``.
* **mm_grpo** (``gerl/utils/reward_score/scorer.py``): a ``Scorer`` whose ``__call__(images, prompts)``
  returns ``list[float]``, images float NCHW tensors; its trainer runs rewards asynchronously.
  ``MMGRPOScorer`` (with ``acall`` for an event loop).
* **verl-recipe ``dance_grpo``**: the judge is a separate server (its dependencies apart from the
  trainer's), checked once with ``/health``, and ``reward(image_paths, prompts)`` fills
  ``data.batch["rewards"]`` of shape ``[B]``. ``RemoteJudge`` talks to a ``vllm serve`` of the checkpoint.

``flow_grpo_reward`` and ``MMGRPOScorer`` take the in-process judge (``AestheticReward``) or the reward
service's client (``service_client.RewardServiceClient``): both answer ``__call__``/``acall`` the same way.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from data_prep.decode import decode_image
from recipe.aesr1.reward_model.service_client import RewardServiceClient
from recipe.aesr1.scoring.scorer import AestheticReward, ImageScore, RewardSettings

Judge = AestheticReward | RewardServiceClient  # in this process, or an aesr1-reward-server


def flow_grpo_reward(reward: Judge) -> Callable[..., tuple[np.ndarray, dict]]:
    """A Flow-GRPO reward function: ``fn(images, prompts, metadata) -> (float32 scores (N,), info)``.

    Register it in ``flow_grpo.rewards.multi_score``'s table, e.g. ``"aesr1": lambda device:
    flow_grpo_reward(RewardServiceClient("http://judge:18086"))`` (or an in-process ``AestheticReward``).
    """

    def _fn(images, prompts, metadata, **_unused):  # Flow-GRPO passes extras such as only_strict
        return reward(images, prompts, metadata)

    return _fn


class MMGRPOScorer:
    """mm_grpo's ``Scorer`` interface: ``__call__(images, prompts=None) -> list[float]``."""

    def __init__(self, reward: Judge):
        self.reward = reward
        self.last_info: dict = {}  # the audit trail of the last call (mm_grpo keeps only the floats)

    def __call__(self, images, prompts: Sequence[str] | None = None) -> list[float]:
        scores, self.last_info = self.reward(images, prompts)
        return scores.tolist()

    async def acall(self, images, prompts: Sequence[str] | None = None) -> list[float]:
        scores, self.last_info = await self.reward.acall(images, prompts)
        return scores.tolist()


def server_root(base_url: str) -> str:
    """``http://host:port`` of an OpenAI-style ``.../v1`` base URL (vLLM serves ``/health`` there)."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def check_health(base_url: str, timeout_s: float = 5.0) -> None:
    """Raise ``ConnectionError`` naming the URL unless ``GET /health`` answers 200."""
    url = server_root(base_url) + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            if response.status == 200:
                return
            raise ConnectionError(f"{url}: HTTP {response.status}")
    except (urllib.error.URLError, OSError) as error:
        raise ConnectionError(f"judge server not healthy at {url}: {error}") from None


class RemoteJudge:
    """The judge as a remote service, the way verl-recipe's ``dance_grpo`` calls its reward model.

    Args:
        base_url: the server's OpenAI-compatible endpoint, e.g. ``http://judge:8000/v1``.
        model: its served model name.
        settings: reward settings; ``timeout_s`` defaults to 60 s here, as dance_grpo's client.
        health_timeout_s: the start-up ``/health`` check, which raises when the server is down.
    """

    def __init__(self, base_url: str, model: str, settings: RewardSettings | None = None,
                 health_timeout_s: float = 5.0, **backend_options):
        check_health(base_url, health_timeout_s)
        self.scorer = AestheticReward.from_backend(
            "openai", model, settings or RewardSettings(timeout_s=60.0), base_url=base_url, **backend_options
        )
        self.last_info: dict = {}

    def reward(self, image_paths: Sequence[str | Path], prompts: Sequence[str] | None = None):
        """float32 ``torch`` tensor ``[B]`` for image files; an unreadable file gets ``failure_score``."""
        import torch

        start = time.perf_counter()
        loaded = [decode_image(p) for p in image_paths]
        usable = [i for i, item in enumerate(loaded) if item.usable]
        results = self.scorer.score([loaded[i].image for i in usable]) if usable else []
        by_index = dict(zip(usable, results, strict=True))
        merged = [by_index.get(i) or ImageScore(None, None, item.status, 0, [], item.detail)
                  for i, item in enumerate(loaded)]
        self.last_info = self.scorer.info(merged, time.perf_counter() - start)
        return torch.from_numpy(self.scorer.rewards(merged))
