"""Bootstrap intervals: seeded, covering the estimate, equal to a slow reference loop."""

import math

import numpy as np
import pytest

from recipe.aesr1.evaluation.bootstrap import bootstrap_ci, paired_bootstrap_test, resample_indices
from recipe.aesr1.evaluation.metrics import plcc, srcc


def _data(n=60, noise=0.15, seed=1):
    rng = np.random.default_rng(seed)
    label = rng.uniform(0, 1, n)
    return np.clip(label + rng.normal(0, noise, n), 0, 1), label


def test_seeded_interval_is_reproducible_and_covers_estimate():
    pred, label = _data()
    a = bootstrap_ci(pred, label, plcc, n_resamples=300, seed=7)
    b = bootstrap_ci(pred, label, plcc, n_resamples=300, seed=7)
    assert a == b
    assert a.low <= a.estimate <= a.high
    assert a.estimate == pytest.approx(plcc(pred, label))
    assert a.n_valid == 300


def test_interval_equals_slow_reference():
    pred, label = _data(n=25)
    got = bootstrap_ci(pred, label, srcc, n_resamples=200, confidence=0.9, seed=3)
    rng = np.random.default_rng(3)
    draws = []
    for _ in range(200):  # the obvious loop, one resample at a time, same generator stream
        idx = rng.integers(0, 25, size=25)
        draws.append(srcc(pred[idx], label[idx]))
    draws = np.array(draws)
    draws = draws[np.isfinite(draws)]
    assert (got.low, got.high) == pytest.approx(tuple(np.percentile(draws, [5, 95])))


def test_interval_narrows_with_more_images():
    small = bootstrap_ci(*_data(n=30), plcc, n_resamples=300)
    large = bootstrap_ci(*_data(n=600), plcc, n_resamples=300)
    assert large.high - large.low < small.high - small.low


def test_degenerate_resamples_are_counted_not_fatal():
    # two distinct labels only: many resamples draw one value and make SRCC undefined
    got = bootstrap_ci(np.array([0.1, 0.9, 0.5]), np.array([0.2, 0.8, 0.8]), srcc, n_resamples=100)
    assert got.n_valid < 100
    assert got.low <= got.high


def test_single_image_gives_nan_interval():
    got = bootstrap_ci(np.array([0.3]), np.array([0.4]), plcc)
    assert math.isnan(got.low) and math.isnan(got.high)


def test_resample_indices_shape_and_range():
    idx = resample_indices(10, 5, seed=0)
    assert idx.shape == (5, 10) and idx.min() >= 0 and idx.max() < 10


def test_paired_test_detects_a_clearly_better_checkpoint():
    pred_good, label = _data(n=200, noise=0.05)
    pred_bad, _ = _data(n=200, noise=0.6, seed=2)
    pred_bad = np.clip(label + (pred_bad - label), 0, 1)
    result = paired_bootstrap_test(pred_good, pred_bad, label, plcc, n_resamples=300)
    assert result.delta > 0
    assert result.interval.low > 0
    assert result.p_value < 0.01


def test_paired_test_of_identical_predictions_is_null():
    pred, label = _data()
    result = paired_bootstrap_test(pred, pred, label, srcc, n_resamples=100)
    assert result.delta == 0.0 and result.p_value == 1.0


def test_paired_test_rejects_different_image_sets():
    with pytest.raises(ValueError, match="same images"):
        paired_bootstrap_test(np.zeros(3), np.zeros(4), np.zeros(3), plcc)
