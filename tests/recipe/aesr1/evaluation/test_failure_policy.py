"""The parse-failure policy: failures are counted, then dropped or filled, never randomised."""

import numpy as np
import pytest

from recipe.aesr1.evaluation.failure_policy import ParseFailurePolicy, apply_policy

SAMPLES = [
    [0.2, 0.4],  # clean image, two samples
    [None, 0.6],  # one failed sample
    [None, None],  # every sample failed
    [],  # no output at all
]


def test_drop_leaves_failed_samples_and_images_out():
    got = apply_policy(SAMPLES, ParseFailurePolicy("drop"))
    np.testing.assert_allclose(got.pred, [0.3, 0.6])
    np.testing.assert_allclose(got.spread, [0.1, 0.0])
    assert got.kept.tolist() == [True, True, False, False]
    assert (got.failed_samples, got.failed_images, got.total_samples) == (3, 2, 6)
    assert got.empty_images == 1


def test_fill_counts_failures_as_the_documented_value():
    got = apply_policy(SAMPLES, ParseFailurePolicy("fill", fill_value=0.5))
    # every image stays in the metric, the one without any sample (unreadable) at the fill value too
    np.testing.assert_allclose(got.pred, [0.3, 0.55, 0.5, 0.5])
    assert got.kept.tolist() == [True, True, True, True]
    assert (got.failed_samples, got.failed_images, got.empty_images) == (3, 2, 1)


def test_fill_keeps_unreadable_images():
    got = apply_policy([[0.2], [None], []], ParseFailurePolicy("fill"))
    assert got.kept.tolist() == [True, True, True]
    np.testing.assert_array_equal(got.pred, [0.2, 0.5, 0.5])


def test_image_means_are_the_numbers_not_their_float_spellings():
    # 0.7 from two samples, from three (0.6999999999999998), and mean(0.6, 0.8) (0.7000000000000001)
    got = apply_policy([[0.7, 0.7], [0.7, 0.7, 0.7], [0.6, 0.8], [0.7, None, 0.7]], ParseFailurePolicy("drop"))
    assert got.pred.tolist() == [0.7, 0.7, 0.7, 0.7]


def test_policy_is_deterministic():
    a = apply_policy(SAMPLES, ParseFailurePolicy("fill"))
    b = apply_policy(SAMPLES, ParseFailurePolicy("fill"))
    np.testing.assert_array_equal(a.pred, b.pred)


@pytest.mark.parametrize("kind,fill", [("random", 0.5), ("fill", 1.5)])
def test_bad_policy_is_rejected(kind, fill):
    with pytest.raises(ValueError):
        ParseFailurePolicy(kind, fill)
