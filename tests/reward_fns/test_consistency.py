"""RED-Aes relative ranking consistency reward (Eq. 6 of red-aes-paper.md, as read in reward_fns.consistency)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slow_rewards import consistency_reward_loop

from reward_fns import consistency_reward


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_hand_computed():
    preds = np.array([[0.2, 0.3], [0.8, 0.7], [0.5, np.nan]])
    valid = np.isfinite(preds)
    gt = np.array([0.1, 0.9, 0.5])
    # output (0, 0): vs image 1 (mu 0.75, gap 0.8, lower) and image 2 (mu 0.5, gap 0.4, lower)
    expected = (0.8 * sigmoid((0.75 - 0.2) / 0.1) + 0.4 * sigmoid((0.5 - 0.2) / 0.1)) / 1.2
    out = consistency_reward(preds, valid, gt)
    assert out[0, 0] == pytest.approx(expected, abs=1e-6)
    assert out[2, 1] == 0.0  # parse failure


def test_ties_weigh_nothing():
    preds = np.array([[0.1], [0.9], [0.5]])
    out = consistency_reward(preds, np.ones_like(preds, dtype=bool), np.array([0.5, 0.5, 0.5]))
    assert np.all(out == 0.0)  # all pairs are ties: no information


@pytest.mark.parametrize("seed", range(30))
def test_fast_equals_loop_reference(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 10)), int(rng.integers(1, 7))
    preds = rng.uniform(0, 1, (n, k))
    valid = rng.uniform(size=(n, k)) > 0.2
    gt = np.round(rng.uniform(0, 1, n), 1)
    tau = float(rng.choice([0.05, 0.1, 0.5]))
    np.testing.assert_allclose(
        consistency_reward(preds, valid, gt, tau=tau), consistency_reward_loop(preds, valid, gt, tau=tau), atol=2e-5
    )


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_bounded_and_order_invariant(seed):
    rng = np.random.default_rng(seed)
    preds = rng.uniform(0, 1, (7, 3))
    valid = rng.uniform(size=(7, 3)) > 0.2
    gt = rng.uniform(0, 1, 7)
    out = consistency_reward(preds, valid, gt)
    assert np.all((out >= 0) & (out <= 1))
    perm = rng.permutation(7)
    np.testing.assert_allclose(consistency_reward(preds[perm], valid[perm], gt[perm]), out[perm], atol=1e-6)


def test_correct_direction_earns_more():
    valid = np.ones((3, 1), dtype=bool)
    gt = np.array([0.2, 0.5, 0.8])
    right = consistency_reward(np.array([[0.2], [0.5], [0.8]]), valid, gt)
    wrong = consistency_reward(np.array([[0.8], [0.5], [0.2]]), valid, gt)
    assert np.all(right > 0.9) and np.all(wrong[[0, 2]] < 0.1)


def test_bad_tau_raises():
    with pytest.raises(ValueError, match="tau"):
        consistency_reward([[0.5], [0.6]], [[True], [True]], [0.1, 0.2], tau=0.0)
