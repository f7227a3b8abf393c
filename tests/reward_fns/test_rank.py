"""Relative rank reward (Aes-R1 Eqs. 3-5) and VisualQuality-R1's Thurstone variant."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slow_rewards import phi, rank_reward_loop

from reward_fns import rank_reward, thurstone_reward


def test_two_images_hand_computed():
    preds = np.array([[0.6, 0.8], [0.2, 0.4]])
    valid = np.ones_like(preds, dtype=bool)
    gt = np.array([0.9, 0.1])
    # mu = (0.7, 0.3); unbiased variances 0.02 each; scale sqrt(0.04 + 1e-6)
    scale = math.sqrt(0.02 + 0.02 + 1e-6)
    expected = [
        [math.sqrt(phi((0.6 - 0.3) / scale)), math.sqrt(phi((0.8 - 0.3) / scale))],  # p_c = 1
        [math.sqrt(1 - phi((0.2 - 0.7) / scale)), math.sqrt(1 - phi((0.4 - 0.7) / scale))],  # p_c = 0
    ]
    np.testing.assert_allclose(rank_reward(preds, valid, gt), expected, atol=1e-6)


def test_tie_follows_eq5_by_default_and_half_for_thurstone():
    preds = np.array([[0.5], [0.5]])  # identical predictions: p = Phi(0) = 0.5
    valid = np.ones_like(preds, dtype=bool)
    gt = np.array([0.4, 0.4])
    # Eq. 5 (>=): p_c = 1 from both sides -> sqrt(0.5)
    np.testing.assert_allclose(rank_reward(preds, valid, gt), math.sqrt(0.5), atol=1e-6)
    # p_c = 0.5: sqrt(0.25 + 1e-6) + sqrt(0.25 + 1e-6)
    np.testing.assert_allclose(thurstone_reward(preds, valid, gt), 2 * math.sqrt(0.25 + 1e-6), atol=1e-6)


def test_missing_predictions():
    preds = np.array([[0.7, np.nan], [np.nan, np.nan], [0.2, 0.3]])
    valid = np.isfinite(preds)
    gt = np.array([0.8, 0.5, 0.1])
    out = rank_reward(preds, valid, gt)
    assert out[0, 1] == 0.0 and np.all(out[1] == 0.0)  # parse failures earn the floor
    # image 1 has no prediction: image 0 is compared with image 2 only (mu 0.25, var 0.005; var_0 = 0)
    assert out[0, 0] == pytest.approx(math.sqrt(phi((0.7 - 0.25) / math.sqrt(0.005 + 1e-6))), abs=1e-6)


def test_single_image_has_nothing_to_compare_with():
    assert np.all(rank_reward([[0.3, 0.5]], [[True, True]], [0.4]) == 0.0)


def _random_batch(rng, n, k, tie_rounding=None, p_invalid=0.2):
    preds = rng.uniform(0, 1, (n, k))
    valid = rng.uniform(size=(n, k)) > p_invalid
    preds[~valid] = np.nan
    gt = rng.uniform(0, 1, n)
    if tie_rounding is not None:
        gt = np.round(gt, tie_rounding)
    return preds, valid, gt


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("tie, fidelity_eps, ddof", [(1.0, 0.0, 1), (0.5, 1e-6, 1), (0.0, 0.0, 0), (0.3, 1e-3, 1)])
def test_fast_equals_loop_reference(seed, tie, fidelity_eps, ddof):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 12)), int(rng.integers(1, 6))
    preds, valid, gt = _random_batch(rng, n, k, tie_rounding=1)  # rounding to 0.1 makes ties common
    gamma = float(rng.choice([1e-6, 1e-2]))
    fast = rank_reward(preds, valid, gt, gamma=gamma, tie=tie, ddof=ddof, fidelity_eps=fidelity_eps)
    slow = rank_reward_loop(preds, valid, gt, gamma=gamma, tie=tie, ddof=ddof, fidelity_eps=fidelity_eps)
    np.testing.assert_allclose(fast, slow, atol=2e-5)


def test_thurstone_is_rank_with_peer_settings():
    rng = np.random.default_rng(0)
    preds, valid, gt = _random_batch(rng, 9, 4, tie_rounding=1)
    slow = rank_reward_loop(preds, valid, gt, tie=0.5, fidelity_eps=1e-6)
    np.testing.assert_allclose(thurstone_reward(preds, valid, gt), slow, atol=2e-5)


batches = st.integers(0, 2**32 - 1).map(lambda s: _random_batch(np.random.default_rng(s), 6, 4, tie_rounding=1))


@settings(max_examples=60, deadline=None)
@given(batches)
def test_bounded_in_unit_interval(batch):
    out = rank_reward(*batch)
    assert np.all(out >= 0.0) and np.all(out <= 1.0 + 1e-6)


@settings(max_examples=60, deadline=None)
@given(batches, st.integers(0, 2**32 - 1))
def test_invariant_to_image_and_output_order(batch, seed):
    preds, valid, gt = batch
    rng = np.random.default_rng(seed)
    images = rng.permutation(len(gt))
    outputs = rng.permutation(preds.shape[1])
    out = rank_reward(preds, valid, gt)
    shuffled = rank_reward(preds[images][:, outputs], valid[images][:, outputs], gt[images])
    np.testing.assert_allclose(shuffled, out[images][:, outputs], atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=2, max_size=10, unique=True))
def test_perfect_predictor_earns_the_maximum(levels):
    gt = np.array(levels) / 100.0
    preds = np.repeat(gt[:, None], 4, axis=1)  # every output says the true score
    out = rank_reward(preds, np.ones_like(preds, dtype=bool), gt)
    # distinct labels 0.01 apart, zero spread: z >= 0.01 / sqrt(1e-6) = 10, so Phi(z) = 1 - 8e-24
    np.testing.assert_allclose(out, 1.0, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.permutations(list(range(8))), st.integers(0, 7), st.integers(0, 7))
def test_swapping_a_discordant_pair_raises_the_reward(order, a, b):
    gt = np.arange(8) / 10.0  # distinct labels; image i's true rank is i
    preds = (np.array(order, dtype=float) / 10.0)[:, None]  # one output each, a permutation of the labels
    lo, hi = sorted((a, b))
    if not preds[lo, 0] > preds[hi, 0]:  # need gt[lo] < gt[hi] but pred[lo] > pred[hi]
        return
    valid = np.ones_like(preds, dtype=bool)
    before = rank_reward(preds, valid, gt).sum()
    preds[[lo, hi]] = preds[[hi, lo]]
    assert rank_reward(preds, valid, gt).sum() > before


@pytest.mark.parametrize(
    "kwargs", [{"gamma": -1.0}, {"tie": 1.5}, {"fidelity_eps": -1e-6}],
)
def test_bad_parameters_raise(kwargs):
    with pytest.raises(ValueError):
        rank_reward([[0.5], [0.6]], [[True], [True]], [0.1, 0.2], **kwargs)


@pytest.mark.parametrize(
    "preds, valid, gt",
    [
        ([0.5, 0.6], [True, True], [0.1, 0.2]),  # 1-D preds
        ([[0.5], [0.6]], [[True, True]], [0.1, 0.2]),  # mask shape differs
        ([[0.5], [0.6]], [[True], [True]], [0.1]),  # one label for two images
        ([[0.5], [0.6]], [[True], [True]], [0.1, np.nan]),  # missing label
    ],
)
def test_malformed_batches_raise_with_shapes(preds, valid, gt):
    with pytest.raises(ValueError, match="rank_reward"):
        rank_reward(preds, valid, gt)
