"""Per-token entropy of a response, as the backends measure it (the averages are ``evaluation/entropy.py``).

H_t = -sum_v p_t(v) log p_t(v) in nats, p_t the softmax of the logits divided by the temperature
(transformers: exact); from the top-k log-probabilities of vLLM or an OpenAI-compatible endpoint, the
sum over those k tokens, a lower bound (``top_k``, never mixed with ``full_vocab`` figures).
"""

from __future__ import annotations

import numpy as np
import torch


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
