"""Average token entropy of a policy's responses, the diagnostic of Aes-R1 Table 3 and Fig. 6.

What the paper reports: "the average token entropy of the starting policy" (Table 3) and of the
policy during training (Fig. 6). Training frameworks (verl's ``actor/entropy``) compute it as the
entropy of the full next-token distribution, H_t = -sum_v p_t(v) log p_t(v) in nats, with p_t the
softmax of the logits divided by the sampling temperature, averaged over all response tokens of a
batch (token-mean). That is what ``token_entropy_from_logits`` + ``average_token_entropy`` give.

What each backend can give:
* transformers: the full logits at every generated step -> the exact quantity above.
* vLLM / OpenAI-compatible: only the top-k log-probabilities of each step (k <= 20 typically).
  ``token_entropy_from_top_logprobs`` sums -p log p over those k tokens: a lower bound of the full
  entropy (every omitted term is >= 0), tight when the distribution is peaked. Reports label it
  ``top_k`` and never mix it with ``full_vocab`` numbers. vLLM's logprobs are of the raw model
  distribution (temperature 1) unless the engine is started with ``logprobs_mode`` set to processed
  logprobs; hosted APIs do not say.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch

from recipe.aesr1.evaluation.backends.base import Sample


def token_entropy_from_logits(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Entropy in nats of softmax(logits / temperature) at each position.

    Args:
        logits: shape (..., V), raw (unprocessed) next-token logits.
        temperature: the sampling temperature; 0 (greedy) is treated as 1, the model's own distribution.
    Returns:
        shape (...), each entry in [0, log V].
    """
    scale = temperature if temperature > 0 else 1.0
    log_p = torch.log_softmax(logits.float() / scale, dim=-1)
    # p * log p is 0 where p underflows to 0 (log_p = -inf); nan_to_num keeps that limit.
    return -(log_p.exp() * log_p).nan_to_num(0.0).sum(dim=-1)


def token_entropy_from_top_logprobs(top_logprobs: np.ndarray) -> np.ndarray:
    """Truncated entropy sum_k -p_k log p_k over the top-k tokens at each position (a lower bound).

    Args:
        top_logprobs: shape (T, k), natural-log probabilities of the k most likely tokens; -inf allowed.
    Returns:
        shape (T,), each entry in [0, full entropy].
    """
    lp = np.asarray(top_logprobs, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        terms = -np.exp(lp) * lp
    return np.nan_to_num(terms, nan=0.0).sum(axis=-1)


def average_token_entropy(samples: Iterable[Sample]) -> tuple[float, str | None, int]:
    """Token-mean entropy over all generated tokens of the samples that carry entropy.

    Returns ``(mean_entropy, kind, n_tokens)``; ``(nan, None, 0)`` when no sample has entropy.
    Mixing ``full_vocab`` with ``top_k`` samples raises: the two are not the same quantity.
    """
    total, tokens, kinds = 0.0, 0, set()
    for sample in samples:
        if sample.entropy_sum is None or sample.n_tokens == 0:
            continue
        total += sample.entropy_sum
        tokens += sample.n_tokens
        kinds.add(sample.entropy_kind)
    if len(kinds) > 1:
        raise ValueError(f"cannot average entropies of different kinds: {sorted(map(str, kinds))}")
    if tokens == 0:
        return math.nan, None, 0
    return total / tokens, kinds.pop(), tokens
