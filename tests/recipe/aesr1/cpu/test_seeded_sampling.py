"""Gumbel-max sampling with a generator per request (recipe/aesr1/cpu/seeded_sampling.py)."""

import numpy as np
import pytest
import torch

from recipe.aesr1.cpu.seeded_sampling import GumbelSampler, request_digest, request_seed

LOGITS = torch.tensor([[2.0, 1.0, 0.5, -1.0, 0.0]])


def draws(temperature: float, top_k: int = 0, top_p: float = 1.0, n: int = 20000) -> np.ndarray:
    seeds = [request_seed(0, 1, b"image", draw) for draw in range(n)]
    scores = GumbelSampler(seeds, temperature, top_k, top_p)(torch.zeros((n, 1), dtype=torch.long), LOGITS.repeat(n, 1))
    return np.bincount(scores.argmax(-1).numpy(), minlength=LOGITS.shape[1]) / n


@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_argmax_of_gumbel_scores_samples_the_softmax(temperature):
    expected = torch.softmax(LOGITS[0] / temperature, -1).numpy()
    assert np.abs(draws(temperature) - expected).max() < 0.015  # ~4 standard errors at n = 20000


def test_top_k_and_top_p_sample_the_renormalised_head():
    probabilities = torch.softmax(LOGITS[0], -1).numpy()
    head = probabilities[:2] / probabilities[:2].sum()
    assert np.abs(draws(1.0, top_k=2)[:2] - head).max() < 0.015 and draws(1.0, top_k=2)[2:].sum() == 0
    # top_p = 0.75 keeps the two most likely tokens (0.57 + 0.21 >= 0.75)
    assert draws(1.0, top_p=0.75)[2:].sum() == 0


def test_seeds_depend_on_every_input():
    digest = request_digest([1, 2, 3], None)
    base = request_seed(0, 5, digest, 0)
    assert base == request_seed(0, 5, digest, 0)
    others = {request_seed(1, 5, digest, 0), request_seed(0, 6, digest, 0), request_seed(0, 5, digest, 1),
              request_seed(0, 5, request_digest([1, 2, 4], None), 0)}
    assert base not in others and len(others) == 4 and all(0 <= seed < 2**63 for seed in others)


def test_a_greedy_temperature_is_refused():
    with pytest.raises(ValueError, match="temperature > 0"):
        GumbelSampler([0], 0.0)
