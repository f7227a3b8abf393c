"""Bootstrap intervals: seeded, covering the estimate, equal to a slow reference loop."""

import math

import numpy as np
import pytest

from recipe.aesr1.evaluation.bootstrap import (
    MIN_PAIRED_IMAGES,
    bootstrap_ci,
    format_p_value,
    paired_bootstrap_test,
    resample_indices,
)
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


def test_p_value_is_never_zero():
    # every resampled delta is positive: the p-value is 2 / (B + 1), not 0 (once printed as 0.000)
    pred_good, label = _data(n=200, noise=0.02)
    pred_bad = np.random.default_rng(9).uniform(0, 1, 200)
    result = paired_bootstrap_test(pred_good, pred_bad, label, plcc, n_resamples=199)
    assert result.interval.n_valid == 199
    assert result.p_value == pytest.approx(2 / 200) == result.p_floor
    assert format_p_value(result.p_value, 199) == "<= 0.01"
    assert format_p_value(0.0004, 9999) == "< 0.001" and format_p_value(0.0312, 1000) == "0.031"


def test_p_value_equals_slow_reference():
    pred_a, label = _data(n=40, noise=0.2, seed=4)
    pred_b, _ = _data(n=40, noise=0.25, seed=5)
    pred_b = np.clip(label + (pred_b - label), 0, 1)
    got = paired_bootstrap_test(pred_a, pred_b, label, srcc, n_resamples=150, seed=2)
    deltas = [srcc(pred_a[i], label[i]) - srcc(pred_b[i], label[i]) for i in resample_indices(40, 150, 2)]
    below, above = sum(d <= 0 for d in deltas), sum(d >= 0 for d in deltas)
    assert got.p_value == pytest.approx(min(1.0, 2 * (1 + min(below, above)) / 151))


def test_too_few_common_images_are_not_tested():
    # 3 images once gave p = 0.93 for a clear difference; now no test below MIN_PAIRED_IMAGES
    pred_good, label = _data(n=MIN_PAIRED_IMAGES - 1, noise=0.05)
    pred_bad = pred_good[::-1].copy()
    result = paired_bootstrap_test(pred_good, pred_bad, label, plcc, n_resamples=50)
    assert math.isnan(result.p_value) and result.interval.n_resamples == 0
    assert result.metric_a == pytest.approx(plcc(pred_good, label)) and result.n_images == MIN_PAIRED_IMAGES - 1
    pred_good, label = _data(n=MIN_PAIRED_IMAGES, noise=0.05)
    assert math.isfinite(paired_bootstrap_test(pred_good, pred_good[::-1], label, plcc, n_resamples=50).p_value)


@pytest.mark.parametrize("n_resamples,confidence", [(0, 0.95), (100, 1.0), (100, 0.0), (100, 95)])
def test_bad_bootstrap_settings_are_refused(n_resamples, confidence):
    pred, label = _data()
    with pytest.raises(ValueError, match="n_resamples|confidence"):
        bootstrap_ci(pred, label, plcc, n_resamples=n_resamples, confidence=confidence)
