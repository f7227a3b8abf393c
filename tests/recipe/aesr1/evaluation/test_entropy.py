"""Token entropy from full logits and from top-k logprobs, and its token-mean average."""

import math

import numpy as np
import pytest
import torch

from recipe.aesr1.evaluation.backends.base import Sample
from recipe.aesr1.evaluation.entropy import (
    average_token_entropy,
    token_entropy_from_logits,
    token_entropy_from_top_logprobs,
)


def _slow_entropy(logits_row, temperature):
    z = [v / temperature for v in logits_row]
    top = max(z)
    weights = [math.exp(v - top) for v in z]
    total = sum(weights)
    return -sum(w / total * math.log(w / total) for w in weights if w > 0)


def test_uniform_and_one_hot_by_hand():
    uniform = torch.zeros(1, 8)
    assert token_entropy_from_logits(uniform).item() == pytest.approx(math.log(8))
    peaked = torch.tensor([[0.0, -1e9, -1e9]])  # all mass on one token
    assert token_entropy_from_logits(peaked).item() == pytest.approx(0.0, abs=1e-9)
    # two equal logits and one impossible: log 2
    assert token_entropy_from_logits(torch.tensor([[1.0, 1.0, -float("inf")]])).item() == pytest.approx(math.log(2))


def test_matches_slow_reference_and_temperature_sharpens():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(5, 17))
    for temperature in (1.0, 0.6, 2.0):
        got = token_entropy_from_logits(torch.tensor(logits), temperature).numpy()
        expected = [_slow_entropy(row, temperature) for row in logits]
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    hot = token_entropy_from_logits(torch.tensor(logits), 2.0)
    cold = token_entropy_from_logits(torch.tensor(logits), 0.5)
    assert (cold < hot).all()


def test_greedy_temperature_uses_model_distribution():
    logits = torch.randn(3, 10)
    torch.testing.assert_close(token_entropy_from_logits(logits, 0.0), token_entropy_from_logits(logits, 1.0))


def test_top_k_entropy_is_a_lower_bound_of_the_full_entropy():
    rng = np.random.default_rng(1)
    logits = torch.tensor(rng.normal(0, 2, size=(6, 50)))
    full = token_entropy_from_logits(logits).numpy()
    log_p = torch.log_softmax(logits, -1).numpy()
    for k in (1, 5, 20, 50):
        top = np.sort(log_p, axis=1)[:, ::-1][:, :k]
        truncated = token_entropy_from_top_logprobs(top)
        assert (truncated <= full + 1e-5).all()  # float32 entropy vs float64 logprobs
    np.testing.assert_allclose(token_entropy_from_top_logprobs(log_p), full, rtol=1e-5)  # k = V is exact


def test_average_is_token_mean_not_sample_mean():
    samples = [Sample("a", 1, 3.0, "full_vocab"), Sample("b", 3, 3.0, "full_vocab"), Sample("c")]
    value, kind, tokens = average_token_entropy(samples)
    assert (value, kind, tokens) == (6.0 / 4, "full_vocab", 4)  # sample-mean would be (3 + 1) / 2


def test_average_refuses_to_mix_kinds_and_handles_none():
    with pytest.raises(ValueError, match="different kinds"):
        average_token_entropy([Sample("a", 1, 1.0, "full_vocab"), Sample("b", 1, 1.0, "top_k")])
    value, kind, tokens = average_token_entropy([Sample("x")])
    assert math.isnan(value) and kind is None and tokens == 0
