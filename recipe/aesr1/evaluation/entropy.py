"""Average token entropy of a policy's responses, the diagnostic of Aes-R1 Table 3 and Fig. 6.

What the paper reports: "the average token entropy of the starting policy" (Table 3) and of the
policy during training (Fig. 6). The per-token quantity is the entropy of the full next-token
distribution, H_t = -sum_v p_t(v) log p_t(v) in nats, p_t the softmax of the logits divided by the
temperature. Two averages over a batch of responses exist and both are reported:

* ``token_mean``: sum of H_t over all response tokens / number of tokens (long answers weigh more);
* ``seq_mean_token_mean``: the mean over responses of each response's own token-mean. This is
  verl's ``actor/entropy`` under this recipe's ``loss_agg_mode=seq-mean-token-mean`` (verl averages
  the entropy with the loss aggregation, ``agg_loss``), i.e. what the paper's Fig. 6 curves show, at
  the rollout temperature 1.0 on training prompts.

The number depends strongly on the temperature (Gaussian logits, std 3, V = 1000: 3.40 nats at
T = 1, 1.68 at T = 0.6) and on the prompts, so every figure carries both (``EntropyFigure``). ``aesr1-eval run``
measures at the evaluation's sampling temperature on test images; Table 3's quantity (the starting
policy at T = 1 on the RL training prompts) is ``aesr1-eval entropy`` (``policy_entropy.py``).

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
from dataclasses import asdict, dataclass

import numpy as np

from recipe.aesr1.scoring.backends.base import Sample


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


@dataclass(frozen=True)
class EntropyFigure:
    """An average token entropy with what it was measured on; ``label`` goes next to every number.

    Attributes:
        token_mean: nats, sum of per-token entropies / tokens (NaN when no sample has entropy).
        seq_mean_token_mean: nats, mean over responses of their token-mean (verl's ``actor/entropy``).
        kind: ``full_vocab``, ``top_k`` or None (no entropy available).
        n_tokens, n_sequences: what was averaged.
        temperature: the temperature of the distribution (0 = greedy is measured at 1, see above).
        prompt_set: which prompts, e.g. ``"test images"`` or ``"256 RL training prompts (train split)"``.
    """

    token_mean: float
    seq_mean_token_mean: float
    kind: str | None
    n_tokens: int
    n_sequences: int
    temperature: float
    prompt_set: str

    @property
    def label(self) -> str:
        temperature = self.temperature if self.temperature > 0 else 1.0
        return f"T={temperature:g}, {self.prompt_set}, {self.kind or 'not available'}"

    def to_json(self) -> dict:
        # "value" is the token-mean, kept under the name earlier metrics.json files used.
        return {"value": self.token_mean, **asdict(self), "label": self.label}


def entropy_figure(samples: Iterable[Sample], temperature: float, prompt_set: str) -> EntropyFigure:
    """Both averages of the samples' entropies, labelled with ``temperature`` and ``prompt_set``.

    Samples without entropy or tokens are skipped; mixing ``full_vocab`` with ``top_k`` raises.
    """
    samples = [s for s in samples if s.entropy_sum is not None and s.n_tokens > 0]
    token_mean, kind, tokens = average_token_entropy(samples)
    per_sequence = [s.entropy_sum / s.n_tokens for s in samples]
    seq_mean = float(np.mean(per_sequence)) if per_sequence else math.nan
    return EntropyFigure(token_mean, seq_mean, kind, tokens, len(per_sequence), float(temperature), prompt_set)
