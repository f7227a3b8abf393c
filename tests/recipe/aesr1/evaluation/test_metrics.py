"""Metrics against hand computations, scipy, and their edge cases."""

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from recipe.aesr1.evaluation.metrics import (
    fit_logistic4,
    krcc,
    logistic4,
    mae,
    metric_by_name,
    plcc,
    plcc_logistic,
    srcc,
)


def test_plcc_matches_hand_computation():
    # pred = 1,2,3 ; label = 1,3,2: centred (-1,0,1) and (-1,1,0) -> cov 1, norms sqrt2*sqrt2 -> 0.5
    assert plcc(np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])) == pytest.approx(0.5)


def test_srcc_matches_hand_computation_with_ties():
    # ranks of pred (ties averaged): 1, 2.5, 2.5, 4 ; label ranks 1,2,3,4
    ranks = np.array([1.0, 2.5, 2.5, 4.0])
    expected = np.corrcoef(ranks, [1, 2, 3, 4])[0, 1]
    assert srcc(np.array([0.1, 0.5, 0.5, 0.9]), np.array([0.2, 0.3, 0.4, 0.5])) == pytest.approx(expected)


def test_perfect_and_reversed_order():
    label = np.array([0.1, 0.4, 0.35, 0.9])
    assert srcc(label**2, label) == pytest.approx(1.0)  # monotone map keeps the ranks
    assert krcc(-label, label) == pytest.approx(-1.0)
    assert plcc(2 * label + 1, label) == pytest.approx(1.0)  # linear map keeps Pearson


def test_mae_by_hand():
    assert mae(np.array([0.2, 0.8]), np.array([0.3, 0.5])) == pytest.approx((0.1 + 0.3) / 2)


@pytest.mark.parametrize(
    "pred,label",
    [
        ([0.5, 0.5, 0.5], [0.1, 0.2, 0.3]),  # model answers one constant: correlation undefined
        ([0.5], [0.1]),  # one image
        ([], []),  # nothing scored (all failures dropped)
    ],
)
def test_undefined_correlations_are_nan(pred, label):
    for metric in (plcc, srcc, krcc, plcc_logistic):
        assert math.isnan(metric(np.array(pred), np.array(label)))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="equal length"):
        plcc(np.array([0.1, 0.2]), np.array([0.1]))
    with pytest.raises(ValueError, match="finite"):
        srcc(np.array([0.1, np.nan]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="valid"):
        metric_by_name("rmse")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=3, max_size=30))
def test_metrics_equal_scipy(pairs):
    pred, label = (np.array(v) for v in zip(*pairs, strict=True))
    if np.ptp(pred) == 0 or np.ptp(label) == 0:
        return
    assert plcc(pred, label) == pytest.approx(scipy.stats.pearsonr(pred, label).statistic, abs=1e-12, nan_ok=True)
    assert srcc(pred, label) == pytest.approx(scipy.stats.spearmanr(pred, label).statistic, abs=1e-12, nan_ok=True)
    assert krcc(pred, label) == pytest.approx(scipy.stats.kendalltau(pred, label).statistic, abs=1e-12, nan_ok=True)
    assert -1 - 1e-9 <= plcc(pred, label) <= 1 + 1e-9


def test_logistic4_shape_by_hand():
    # midpoint beta3 gives the average of the two asymptotes; far right approaches beta1
    assert logistic4(np.array([0.5]), 1.0, 0.0, 0.5, 0.1)[0] == pytest.approx(0.5)
    assert logistic4(np.array([100.0]), 0.9, 0.1, 0.5, 0.1)[0] == pytest.approx(0.9)
    assert logistic4(np.array([-100.0]), 0.9, 0.1, 0.5, 0.1)[0] == pytest.approx(0.1)


def test_logistic_fit_recovers_known_curve_and_lifts_plcc():
    pred = np.linspace(0.0, 1.0, 41)
    true_params = (0.8, 0.2, 0.55, 0.07)
    label = logistic4(pred, *true_params)
    params = fit_logistic4(pred, label)
    assert params is not None
    np.testing.assert_allclose(logistic4(pred, *params), label, atol=1e-6)
    # raw PLCC is hurt by the S-shape; after the fit the map is exact
    assert plcc(pred, label) < 0.99
    assert plcc_logistic(pred, label) == pytest.approx(1.0, abs=1e-9)


def test_logistic_fit_needs_four_points():
    assert fit_logistic4(np.array([0.1, 0.2, 0.3]), np.array([0.3, 0.1, 0.2])) is None


def test_two_pairs_give_no_correlation():
    # two points always correlate at +-1: reported as undefined, not as a perfect model
    from recipe.aesr1.evaluation.metrics import krcc, plcc, srcc

    for metric in (plcc, srcc, krcc):
        assert math.isnan(metric(np.array([0.2, 0.7]), np.array([0.1, 0.9])))
    assert plcc(np.array([0.2, 0.7, 0.5]), np.array([0.1, 0.9, 0.4])) > 0.9
