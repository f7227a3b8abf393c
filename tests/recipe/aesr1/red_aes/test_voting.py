"""Appendix 0.A voting protocol: every cell of Table 7 on hand-computed inputs, plus properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recipe.aesr1.red_aes.voting import (
    STRATEGY_MATRIX,
    Consensus,
    Fusion,
    Outliers,
    VotingConfig,
    consensus_level,
    median_absolute_deviation,
    modified_z_scores,
    outlier_mask,
    tukey_biweight_location,
    vote,
    vote_many,
    weighted_median,
)

# One row per cell of Table 7 (default config: |z| > 3.5, sigma cut points 0.5 / 1.0).
# Hand computation in the comment: median, MAD, flagged z, sigma (ddof 0), expected fusion.
TABLE_7_CASES = [
    # med 7.1, MAD 0.1, z(7.5)=2.70 (kept); sigma 0.216 -> high; mean 7.2 (median would be 7.1)
    ([7.0, 7.1, 7.5], Consensus.HIGH, Outliers.NONE, Fusion.WEIGHTED_AVERAGE, 7.2),
    # med 6.1, MAD 0.1, z(7.0)=6.07; sigma 0.363; mean of 6.0, 6.1, 6.1, 6.3 = 6.125
    ([6.0, 6.1, 6.1, 6.3, 7.0], Consensus.HIGH, Outliers.ONE, Fusion.NORMAL_AVERAGE, 6.125),
    # med 5.01, MAD 0.01, z(5.5)=33, z(5.6)=40; sigma 0.247; uniform weighted median = 5.01
    ([5.0, 5.0, 5.0, 5.01, 5.02, 5.5, 5.6], Consensus.HIGH, Outliers.MULTIPLE, Fusion.WEIGHTED_MEDIAN, 5.01),
    # med 7.0, MAD 0.5, |z| <= 1.35; sigma 0.624 -> medium; mean 20.5 / 3
    ([6.0, 7.0, 7.5], Consensus.MEDIUM, Outliers.NONE, Fusion.WEIGHTED_AVERAGE, 20.5 / 3),
    # med 5.2, MAD 0.1, z(7.0)=12.1; sigma 0.747; mean of 5.0..5.3 = 5.15
    ([5.0, 5.1, 5.2, 5.3, 7.0], Consensus.MEDIUM, Outliers.ONE, Fusion.NORMAL_AVERAGE, 5.15),
    # med 5.1, MAD 0.1, z(6.5)=9.4, z(7.0)=12.8; sigma 0.780; median 5.1
    ([5.0, 5.0, 5.05, 5.1, 5.1, 6.5, 7.0], Consensus.MEDIUM, Outliers.MULTIPLE, Fusion.MEDIAN, 5.1),
    # med 6, MAD 1, |z| <= 1.35; sigma 1.247 -> low; (mean 17/3 + median 6) / 2 = 35/6
    ([4.0, 6.0, 7.0], Consensus.LOW, Outliers.NONE, Fusion.CONSERVATIVE_AVERAGE, 35 / 6),
    # med 6.2, MAD 0.2, z(3.0)=-10.8; sigma 1.321; median 6.2
    ([3.0, 6.0, 6.2, 6.4, 6.5], Consensus.LOW, Outliers.ONE, Fusion.MEDIAN, 6.2),
    # med 6.15, MAD 0.3, z(1.0)=-11.6, z(9.5)=7.5; sigma 2.50; biweight fixed point (see test below)
    ([1.0, 6.0, 6.1, 6.2, 6.6, 9.5], Consensus.LOW, Outliers.MULTIPLE, Fusion.ROBUST_MEDIAN, 6.218477),
]


def test_strategy_matrix_is_table_7():
    assert len(STRATEGY_MATRIX) == 9
    assert set(STRATEGY_MATRIX) == {(level, situation) for level in Consensus for situation in Outliers}
    # Row by row as printed in the paper.
    assert [STRATEGY_MATRIX[(Consensus.HIGH, o)] for o in Outliers] == [
        Fusion.WEIGHTED_AVERAGE,
        Fusion.NORMAL_AVERAGE,
        Fusion.WEIGHTED_MEDIAN,
    ]
    assert [STRATEGY_MATRIX[(Consensus.MEDIUM, o)] for o in Outliers] == [
        Fusion.WEIGHTED_AVERAGE,
        Fusion.NORMAL_AVERAGE,
        Fusion.MEDIAN,
    ]
    assert [STRATEGY_MATRIX[(Consensus.LOW, o)] for o in Outliers] == [
        Fusion.CONSERVATIVE_AVERAGE,
        Fusion.MEDIAN,
        Fusion.ROBUST_MEDIAN,
    ]


@pytest.mark.parametrize("scores, level, situation, method, expected", TABLE_7_CASES)
def test_every_cell_of_table_7(scores, level, situation, method, expected):
    result = vote(scores)
    assert result.consensus is level
    assert result.outlier_situation is situation
    assert result.method is method
    assert result.score == pytest.approx(expected, abs=1e-6)


def test_cases_cover_every_cell():
    assert {(c[1], c[2]) for c in TABLE_7_CASES} == set(STRATEGY_MATRIX)


def test_modified_z_scores_eq_10():
    # median 7.1, MAD 0.1 -> z = 0.6745 * (x - 7.1) / 0.1
    np.testing.assert_allclose(modified_z_scores([7.0, 7.1, 7.5]), [-0.6745, 0.0, 2.698], atol=1e-9)
    assert median_absolute_deviation([7.0, 7.1, 7.5]) == pytest.approx(0.1)


def test_mad_zero_follows_eq_10_by_default():
    # median 5, MAD 0: Eq. 10 gives z = inf for the score off the median, so it is an outlier
    np.testing.assert_array_equal(modified_z_scores([5.0, 5.0, 9.0]), [0, 0, np.inf])
    np.testing.assert_array_equal(modified_z_scores([1.0, 5.0, 5.0]), [-np.inf, 0, 0])
    assert outlier_mask([5.0, 5.0, 9.0]).tolist() == [False, False, True]
    # all equal: no deviation at all
    np.testing.assert_array_equal(modified_z_scores([3.0, 3.0, 3.0]), [0.0, 0.0, 0.0])


def test_mad_zero_mean_ad_fallback_on_request():
    # median 5, MAD 0, MeanAD = 4/3 -> z(9) = 4 / (1.253314 * 4/3) = 2.3937: not an outlier
    np.testing.assert_allclose(modified_z_scores([5.0, 5.0, 9.0], "mean_ad"), [0, 0, 2.3937], atol=1e-4)
    assert not outlier_mask([5.0, 5.0, 9.0], mad_zero="mean_ad").any()
    with pytest.raises(ValueError, match="mad_zero"):
        VotingConfig(mad_zero="zero")


@pytest.mark.parametrize(
    "scores, mad_zero, expected, method",
    [
        # two tied experts and an odd one: Eq. 10 flags the odd one, low consensus + one outlier -> median
        ([5.0, 5.0, 10.0], "infinite", 5.0, Fusion.MEDIAN),
        # the same with a 0.1 split of the tie: MAD = 0.1, z(10) = 33 -> the same cell, a close result
        ([5.0, 5.1, 10.0], "infinite", 5.1, Fusion.MEDIAN),
        # the fallback never flags the odd one of three (z = 2.394 < 3.5): conservative average
        ([5.0, 5.0, 10.0], "mean_ad", (20 / 3 + 5) / 2, Fusion.CONSERVATIVE_AVERAGE),
        ([5.0, 5.1, 10.0], "mean_ad", 5.1, Fusion.MEDIAN),
    ],
)
def test_tied_experts_and_an_odd_one(scores, mad_zero, expected, method):
    result = vote(scores, VotingConfig(mad_zero=mad_zero))
    assert result.score == pytest.approx(expected) and result.method is method


@pytest.mark.parametrize(
    "scores, expected, method",
    [
        ([6.0, 6.4], 6.2, Fusion.WEIGHTED_AVERAGE),  # 2 of 3 answered: |z| = 0.6745, never an outlier
        ([3.0, 8.0], 5.5, Fusion.CONSERVATIVE_AVERAGE),  # far apart: low consensus, still no outlier
        ([7.0], 7.0, Fusion.WEIGHTED_AVERAGE),  # 1 of 3 answered: that score is the vote
    ],
)
def test_fewer_experts_than_configured(scores, expected, method):
    result = vote(scores)
    assert result.score == pytest.approx(expected) and result.method is method and not result.outliers.any()


def test_consensus_levels_at_the_cut_points():
    assert consensus_level([5.0, 6.0]) is Consensus.HIGH  # sigma = 0.5 exactly
    assert consensus_level([5.0, 7.0]) is Consensus.MEDIUM  # sigma = 1.0 exactly
    assert consensus_level([5.0, 7.2]) is Consensus.LOW
    assert consensus_level([5.0, 7.0], sigma_high=1.0, sigma_low=2.0) is Consensus.HIGH


def test_configured_weights_change_weighted_methods():
    high = VotingConfig(weights={"high": [2.0, 1.0, 1.0]})
    assert vote([7.0, 7.1, 7.5], high).score == pytest.approx((14.0 + 7.1 + 7.5) / 4)  # 7.15
    # weighted median: sorted weights cumulate 1,2,3,4,5,10,15 of 15; the first reaching 7.5 is 5.5
    heavy_tail = VotingConfig(weights={"high": [1, 1, 1, 1, 1, 5, 5]})
    assert vote([5.0, 5.0, 5.0, 5.01, 5.02, 5.5, 5.6], heavy_tail).score == pytest.approx(5.5)


def test_biweight_first_step_by_hand_and_fixed_point():
    x = [1.0, 6.0, 6.1, 6.2, 6.6, 9.5]
    # M0 = 6.15, c * MAD = 1.8; 1.0 and 9.5 have |u| > 1 (weight 0); weights of 6.0, 6.1, 6.2, 6.6:
    # (1-0.0833^2)^2 = 0.98616, 0.99846, 0.99846, (1-0.25^2)^2 = 0.87891 -> M1 = 23.99876 / 3.86198
    assert tukey_biweight_location(x, max_iter=1) == pytest.approx(6.21410, abs=1e-4)
    m = tukey_biweight_location(x)
    u = (np.array(x) - m) / (6.0 * 0.3)
    w = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0)
    assert m == pytest.approx(np.dot(w, x) / w.sum(), abs=1e-8)


def _slow_weighted_median(values, integer_weights):
    """Reference: repeat each value by its integer weight and take the ordinary median."""
    return float(np.median(np.repeat(values, integer_weights)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(1, 4)), min_size=1, max_size=9))
def test_weighted_median_matches_repetition_reference(pairs):
    values = np.array([v / 4 for v, _ in pairs])
    weights = np.array([w for _, w in pairs])
    assert weighted_median(values, weights) == pytest.approx(_slow_weighted_median(values, weights))


score_lists = st.lists(st.floats(0, 10, allow_nan=False).map(lambda v: round(v, 2)), min_size=3, max_size=7)


@settings(max_examples=80, deadline=None)
@given(score_lists, st.randoms(use_true_random=False))
def test_vote_is_permutation_invariant(scores, rnd):
    shuffled = list(scores)
    rnd.shuffle(shuffled)
    assert vote(shuffled).score == pytest.approx(vote(scores).score, abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(score_lists, st.sampled_from([0.1, 0.5, 2.0, 10.0]), st.floats(-5, 5))
def test_vote_is_scale_and_shift_equivariant(scores, a, b):
    # Rescaling the scores and the sigma cut points together keeps every decision of the protocol.
    base = VotingConfig()
    scaled = VotingConfig(sigma_high=a * base.sigma_high, sigma_low=a * base.sigma_low)
    original, moved = vote(scores, base), vote([a * s + b for s in scores], scaled)
    if original.method is moved.method:  # exact cut-point ties may flip by rounding; skip those
        assert moved.score == pytest.approx(a * original.score + b, abs=1e-6)


@pytest.mark.parametrize("far", [12.0, 50.0, 5000.0])
def test_a_far_outlier_does_not_move_the_vote(far):
    inliers = [6.0, 6.2, 6.3, 6.4, 6.5]
    result = vote(inliers + [far])
    assert result.outliers.tolist() == [False] * 5 + [True]
    assert result.score == pytest.approx(np.median(inliers + [far]))  # low consensus, one outlier: median
    assert abs(result.score - np.median(inliers)) <= 0.1


def test_vote_many_and_bad_input():
    np.testing.assert_allclose(vote_many([[7.0, 7.1, 7.5], [4.0, 6.0, 7.0]]), [7.2, 35 / 6])
    with pytest.raises(ValueError, match="finite"):
        vote([1.0, float("nan"), 2.0])
    with pytest.raises(ValueError, match="non-empty"):
        vote([])
    with pytest.raises(ValueError, match="weights must be 3"):
        vote([7.0, 7.1, 7.5], VotingConfig(weights={"high": [1.0, 1.0]}))
    with pytest.raises(ValueError, match="unknown consensus levels"):
        VotingConfig(weights={"top": None})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(1, 10, allow_nan=False).map(lambda v: round(v, 2)), min_size=3, max_size=3))
def test_three_experts_flag_at_most_one_outlier(scores):
    # With n = 3 (the paper's setting) MAD is the smaller outer deviation, so the nearer outer score has
    # |z| = 0.6745 and Table 7's "multiple outliers" column can only be reached with n >= 4 experts.
    assert np.count_nonzero(outlier_mask(scores)) <= 1
