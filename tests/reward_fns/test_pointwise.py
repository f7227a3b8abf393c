"""Eq. 6 (absolute error reward) and Eq. 13 (binary reward) of Aes-R1."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reward_fns import binary_reward, error_reward

unit = st.floats(0.0, 1.0)


def test_error_reward_hand_computed():
    # |0.6 - 0.5| / 0.1 = 1  ->  exp(-0.5) + 1e-5
    assert error_reward(0.6, 0.5) == pytest.approx(math.exp(-0.5) + 1e-5)
    assert error_reward(0.5, 0.5) == pytest.approx(1.0 + 1e-5)
    # sigma = 0.2, d = 0.1 -> exp(-0.125); eps = 0
    assert error_reward(0.3, 0.4, sigma=0.2, eps=0.0) == pytest.approx(math.exp(-0.125))


def test_error_reward_missing_prediction_is_the_floor():
    out = error_reward(np.array([np.nan, 1.0]), 0.0)
    assert out[0] == 0.0  # a parse failure earns less than ...
    assert out[1] > 0.0  # ... the worst parsed prediction (exp(-50) + eps)


def test_error_reward_broadcasts_over_outputs():
    preds = np.array([[0.5, 0.6], [0.1, 0.3]])
    out = error_reward(preds, np.array([[0.5], [0.2]]))
    assert out.shape == (2, 2)
    assert out[1, 0] == pytest.approx(out[1, 1])  # both 0.1 away from 0.2


@given(unit, unit)
def test_error_reward_symmetric_and_bounded(a, b):
    assert error_reward(a, b) == pytest.approx(error_reward(b, a))
    assert 1e-5 <= error_reward(a, b) <= 1.0 + 1e-5


@given(unit, unit, unit)
def test_error_reward_monotone_in_distance(gt, a, b):
    near, far = sorted([a, b], key=lambda p: abs(p - gt))
    assert error_reward(near, gt) >= error_reward(far, gt)


def test_binary_reward_hand_computed():
    assert binary_reward(0.55, 0.5, threshold=0.1) == 1.0
    assert binary_reward(0.65, 0.5, threshold=0.1) == 0.0
    assert binary_reward(0.6, 0.5, threshold=0.1 + 1e-9) == 1.0  # strict "<" of Eq. 13, with float slack
    assert binary_reward(np.nan, 0.5) == 0.0
    # default: Q-Insight's 0.35 on a 1-5 scale = 0.0875 on [0, 1]
    assert binary_reward(0.58, 0.5) == 1.0 and binary_reward(0.59, 0.5) == 0.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: error_reward(0.5, 0.5, sigma=0.0),
        lambda: error_reward(0.5, 0.5, eps=-1.0),
        lambda: binary_reward(0.5, 0.5, threshold=0.0),
        lambda: error_reward(0.5, np.nan),  # a missing label is a data error, not a model error
        lambda: binary_reward(0.5, np.inf),
    ],
)
def test_bad_parameters_and_labels_raise(call):
    with pytest.raises(ValueError):
        call()
