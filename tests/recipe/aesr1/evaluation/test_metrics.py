"""Metrics against hand computations, scipy, and their edge cases."""

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from recipe.aesr1.evaluation.benchmark_table import score_benchmark
from recipe.aesr1.evaluation.failure_policy import ParseFailurePolicy
from recipe.aesr1.evaluation.metrics import (
    MIN_LOGISTIC_PAIRS,
    as_compared,
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
    # the definition: scipy on the raw values (PLCC) / on the numbers as compared (ranks)
    pred, label = (np.array(v) for v in zip(*pairs, strict=True))
    cp, cl = as_compared(pred), as_compared(label)
    if np.ptp(cp) == 0 or np.ptp(cl) == 0:
        return
    assert plcc(pred, label) == pytest.approx(scipy.stats.pearsonr(pred, label).statistic, abs=1e-12, nan_ok=True)
    assert srcc(pred, label) == pytest.approx(scipy.stats.spearmanr(cp, cl).statistic, abs=1e-12, nan_ok=True)
    assert krcc(pred, label) == pytest.approx(scipy.stats.kendalltau(cp, cl).statistic, abs=1e-12, nan_ok=True)
    assert -1 - 1e-9 <= plcc(pred, label) <= 1 + 1e-9


def test_random_scores_equal_scipy_exactly():
    # ordinary data: the rounding to SCORE_DECIMALS changes nothing
    rng = np.random.default_rng(0)
    for _ in range(200):
        pred, label = rng.uniform(0, 1, 50), rng.uniform(0, 1, 50)
        assert plcc(pred, label) == scipy.stats.pearsonr(pred, label).statistic
        assert srcc(pred, label) == scipy.stats.spearmanr(pred, label).statistic


def _constant_judge_samples(n=300, seed=0):
    """A model that always answers 0.7, with one of its 3 samples failing on half of the low-MOS images."""
    label = np.random.default_rng(seed).uniform(0, 1, n)
    low = np.flatnonzero(label < np.median(label))
    samples = [[0.7, 0.7, 0.7] for _ in range(n)]
    for i in low[::2]:
        samples[i] = [0.7, None, 0.7]
    return label, samples


def test_constant_model_has_no_correlation_whatever_parsed():
    # float means: 0.7 from two samples, 0.6999999999999998 from three -> once PLCC -0.28, SRCC -0.51
    label, samples = _constant_judge_samples()
    got = score_benchmark("ava", label, samples, ParseFailurePolicy("drop"), metric_names=("plcc", "srcc", "krcc"),
                          n_resamples=20)
    assert got.n_scored == 300
    for name in ("plcc", "srcc", "krcc"):
        assert math.isnan(got.values[name]), name
        assert math.isnan(got.intervals[name][0]) and math.isnan(got.intervals[name][1])


def test_float_spellings_of_one_number_are_one_number():
    label = np.array([0.1, 0.5, 0.9, 0.3])
    spellings = np.array([0.7, np.mean([0.7, 0.7, 0.7]), np.mean([0.6, 0.8]), 0.7])  # all the number 0.7
    for metric in (plcc, srcc, krcc):
        assert math.isnan(metric(spellings, label))
    # a tie stays a tie: mean([0.6, 0.8]) ranks with 0.7, not above it
    pred = np.array([np.mean([0.6, 0.8]), 0.7, 0.9, 0.2])
    assert srcc(pred, label) == pytest.approx(scipy.stats.spearmanr([0.7, 0.7, 0.9, 0.2], label).statistic)
    assert krcc(pred, label) == pytest.approx(scipy.stats.kendalltau([0.7, 0.7, 0.9, 0.2], label).statistic)


def test_logistic4_shape_by_hand():
    # midpoint beta3 gives the average of the two asymptotes; far right approaches beta1
    assert logistic4(np.array([0.5]), 1.0, 0.0, 0.5, 0.1)[0] == pytest.approx(0.5)
    assert logistic4(np.array([100.0]), 0.9, 0.1, 0.5, 0.1)[0] == pytest.approx(0.9)
    assert logistic4(np.array([-100.0]), 0.9, 0.1, 0.5, 0.1)[0] == pytest.approx(0.1)


def test_logistic_fit_recovers_known_curve_and_lifts_plcc():
    pred = np.linspace(0.0, 1.0, MIN_LOGISTIC_PAIRS + 1)
    true_params = (0.8, 0.2, 0.55, 0.07)
    label = logistic4(pred, *true_params)
    params = fit_logistic4(pred, label)
    assert params is not None
    np.testing.assert_allclose(logistic4(pred, *params), label, atol=1e-6)
    # raw PLCC is hurt by the S-shape; after the fit the map is exact
    assert plcc(pred, label) < 0.99
    assert plcc_logistic(pred, label) == pytest.approx(1.0, abs=1e-9)


def test_logistic_fit_needs_the_stated_minimum_of_pairs():
    # 4 free parameters fit noise: it once gave 0.991 at n = 4 and 0.920 on pure noise at n = 5
    rng = np.random.default_rng(5)
    for n in (4, 5, MIN_LOGISTIC_PAIRS - 1):
        pred, label = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
        assert fit_logistic4(pred, label) is None
        assert math.isnan(plcc_logistic(pred, label))


def test_logistic_fit_is_increasing_so_anticorrelation_stays_negative():
    rng = np.random.default_rng(1)
    label = rng.uniform(0, 1, 300)
    pred = np.clip(1.0 - label + rng.normal(0, 0.2, 300), 0, 1)
    raw = plcc(pred, label)
    assert raw < -0.8
    assert plcc_logistic(pred, label) <= 0.0  # an unconstrained fit flips it to about +0.85
    beta1, beta2, _, beta4 = fit_logistic4(pred, label)
    assert beta1 >= beta2 and beta4 > 0


def test_logistic_fit_on_noise_adds_little_at_the_minimum():
    # mean lift over raw PLCC on uncorrelated scores, at n = MIN_LOGISTIC_PAIRS (unconstrained: ~0.17)
    lifts = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        pred, label = rng.uniform(0, 1, MIN_LOGISTIC_PAIRS), rng.uniform(0, 1, MIN_LOGISTIC_PAIRS)
        lifts.append(plcc_logistic(pred, label) - plcc(pred, label))
    assert np.mean(lifts) < 0.1


def test_two_pairs_give_no_correlation():
    # two points always correlate at +-1: reported as undefined, not as a perfect model
    from recipe.aesr1.evaluation.metrics import krcc, plcc, srcc

    for metric in (plcc, srcc, krcc):
        assert math.isnan(metric(np.array([0.2, 0.7]), np.array([0.1, 0.9])))
    assert plcc(np.array([0.2, 0.7, 0.5]), np.array([0.1, 0.9, 0.4])) > 0.9
