"""Sampling whose draws depend on the request, not on which batch it landed in: a seeded RL rollout on CPU.

``model.generate(do_sample=True)`` draws every row from torch's global generator, so a response depends on
the batch the request arrived in and its row there, which depend on timing. Here each request gets its
own ``torch.Generator``, seeded from (rollout seed, training step, the request's content, how many
identical requests came before it in that step), and sampling is the Gumbel-max trick on the warped
logits: ``argmax(logits / T + g)`` with g ~ Gumbel(0, 1) is an exact draw from ``softmax(logits / T)``
(restricted to the top-k / top-p set when those are on). ``generate`` then runs greedily with
``GumbelSampler`` as its last logits processor. A run with the same seed draws the same responses from
the same policy whatever the batching, which is what ``--rapo-seed`` needs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor, TopKLogitsWarper, TopPLogitsWarper


def request_digest(prompt_ids: Sequence[int], images: Sequence[Any] | None) -> bytes:
    """SHA-256 of a request's token ids and its images' sizes and pixels (what makes two requests equal)."""
    digest = hashlib.sha256(torch.as_tensor(list(prompt_ids), dtype=torch.int64).numpy().tobytes())
    for image in images or []:
        digest.update(f"{image.mode}:{image.width}x{image.height}".encode())
        digest.update(image.tobytes())
    return digest.digest()


def request_seed(seed: int, step: int | None, digest: bytes, draw: int) -> int:
    """A 63-bit seed for one draw of one request at one training step."""
    material = f"{seed}\0{step}\0{draw}\0".encode() + digest
    return int.from_bytes(hashlib.sha256(material).digest()[:8], "big") >> 1


class GumbelSampler(LogitsProcessor):
    """Temperature, top-k, top-p, then per-row Gumbel noise: greedy decoding over its output samples.

    Args:
        seeds: one seed per batch row.
        temperature: > 0.
        top_k: keep the k most likely tokens (0: all).
        top_p: keep the smallest set with this much probability (1.0: all).
    """

    def __init__(self, seeds: Sequence[int], temperature: float, top_k: int = 0, top_p: float = 1.0) -> None:
        if temperature <= 0:
            raise ValueError(f"sampling needs temperature > 0, got {temperature}")
        self.generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
        self.temperature = float(temperature)
        self.warpers = ([TopKLogitsWarper(top_k)] if top_k > 0 else []) + ([TopPLogitsWarper(top_p)] if top_p < 1.0 else [])

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if scores.shape[0] != len(self.generators):
            raise ValueError(f"{scores.shape[0]} rows but {len(self.generators)} seeds (num_return_sequences must be 1)")
        scores = scores.float() / self.temperature
        for warper in self.warpers:
            scores = warper(input_ids, scores)
        uniform = torch.stack([torch.rand(scores.shape[1], generator=g) for g in self.generators]).to(scores.device)
        gumbel = -torch.log(-torch.log(uniform.clamp(min=1e-20, max=1.0 - 1e-7)))
        return scores + gumbel
