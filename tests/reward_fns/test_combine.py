"""Rewards named by their terms: parsing a spec, weighting, per-sample vs batch evaluation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reward_fns import (
    RewardSpec,
    compute_rewards,
    error_reward,
    rank_reward,
    sample_rewards,
)

# Table 2 of Aes-R1 and the peers' rewards, as the configs name them.
ABLATIONS = ["binary", "error", "rank", "binary+rank", "error+rank", "thurstone", "consistency"]


@pytest.fixture
def batch():
    preds = np.array([[0.2, 0.35, np.nan], [0.8, 0.7, 0.75], [0.5, 0.45, 0.6]])
    return preds, np.isfinite(preds), np.array([0.25, 0.85, 0.5])


@pytest.mark.parametrize("name", ABLATIONS)
def test_every_ablation_parses_and_evaluates(name, batch):
    spec = RewardSpec.parse(name)
    out = compute_rewards(spec, *batch)
    assert set(out.components) == set(name.split("+"))
    assert out.total.shape == (3, 3)
    assert out.total[0, 2] == 0.0  # the parse failure earns the floor under every design


def test_rapo_total_is_eq7(batch):
    preds, valid, gt = batch
    out = compute_rewards(RewardSpec.parse("error+rank"), preds, valid, gt)
    expected = error_reward(np.where(valid, preds, np.nan), gt[:, None]) + rank_reward(preds, valid, gt)
    np.testing.assert_allclose(out.total, expected)


def test_weights_and_params_reach_the_terms(batch):
    preds, valid, gt = batch
    spec = RewardSpec.parse("error+rank", weights={"rank": 0.5}, params={"error": {"sigma": 0.2}})
    out = compute_rewards(spec, preds, valid, gt)
    np.testing.assert_allclose(out.components["error"], error_reward(np.where(valid, preds, np.nan), gt[:, None], sigma=0.2))
    np.testing.assert_allclose(out.total, out.components["error"] + 0.5 * out.components["rank"])


def test_scopes_split_the_total(batch):
    spec = RewardSpec.parse("error+rank")
    assert spec.sample_terms == ("error",) and spec.batch_terms == ("rank",)
    parts = [compute_rewards(spec, *batch, scope=s).total for s in ("sample", "batch")]
    np.testing.assert_allclose(parts[0] + parts[1], compute_rewards(spec, *batch).total)


def test_sample_rewards_match_the_batch_evaluation(batch):
    preds, valid, gt = batch
    spec = RewardSpec.parse("binary+format", weights={"format": 0.5})
    fmt = np.ones_like(valid)
    whole = compute_rewards(spec, preds, valid, gt, format_ok=fmt)
    one = sample_rewards(spec, float(preds[1, 0]), float(gt[1]), format_ok=True)
    assert one == {"binary": whole.components["binary"][1, 0], "format": 1.0, "score": whole.total[1, 0]}
    assert sample_rewards(spec, None, 0.5, format_ok=False) == {"binary": 0.0, "format": 0.0, "score": 0.0}
    assert sample_rewards(RewardSpec.parse("rank"), 0.4, 0.5) == {"score": 0.0}  # all of it comes from the hook


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("error+rnk", {}, "unknown reward term"),
        ("", {}, "non-empty"),
        ("error+error", {}, "twice"),
        ("error", {"weights": {"rank": 1.0}}, "does not contain"),
        ("error", {"params": {"error": {"sigm": 0.1}}}, "no parameter"),
        ("error", {"weights": {"error": float("nan")}}, "finite"),
    ],
)
def test_bad_specs_fail_at_parse_time(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        RewardSpec.parse(name, **kwargs)


def test_format_term_needs_the_flags(batch):
    with pytest.raises(ValueError, match="format_ok"):
        compute_rewards(RewardSpec.parse("error+format"), *batch)


# --- comparison groups: compute_rewards(..., groups=...) against the per-group loop it replaced ---


def per_group_loop(spec, preds, valid, gt, groups, scope="all"):
    """Slow reference: cut the batch into its groups and evaluate each group as a batch of its own."""
    groups = np.asarray(groups, dtype=object)
    total = np.zeros(preds.shape)
    for group in dict.fromkeys(groups.tolist()):
        rows = np.flatnonzero(groups == group)
        total[rows] = compute_rewards(spec, preds[rows], valid[rows], gt[rows], scope=scope).total
    return total


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["error+rank", "thurstone", "consistency", "binary+rank"]),
    n=st.integers(1, 24),
    k=st.integers(1, 5),
    n_groups=st.integers(1, 6),
    seed=st.integers(0, 10_000),
)
def test_grouped_batch_terms_equal_the_per_group_loop(name, n, k, n_groups, seed):
    rng = np.random.default_rng(seed)
    preds = rng.uniform(0, 1, (n, k))
    valid = rng.uniform(size=(n, k)) > 0.2  # some unparsed outputs, some images with none
    gt = np.round(rng.uniform(0, 1, n), 1)  # coarse labels: ties take Eq. 5's tie branch
    groups = [f"g{g}" for g in rng.integers(0, n_groups, n)]  # ragged sizes, singletons included
    spec = RewardSpec.parse(name)
    fast = compute_rewards(spec, preds, valid, gt, groups=groups).total
    np.testing.assert_allclose(fast, per_group_loop(spec, preds, valid, gt, groups), atol=1e-6)


def test_one_group_is_the_whole_batch(batch):
    spec = RewardSpec.parse("error+rank")
    whole = compute_rewards(spec, *batch).total
    np.testing.assert_allclose(compute_rewards(spec, *batch, groups=[7, 7, 7]).total, whole, atol=1e-7)


def test_groups_never_compare_across(batch):
    preds, valid, gt = batch
    spec = RewardSpec.parse("rank")
    out = compute_rewards(spec, preds, valid, gt, groups=["a", "b", "a"]).components["rank"]
    assert np.all(out[1] == 0)  # alone in its group: nothing to rank against
    np.testing.assert_allclose(out[[0, 2]], rank_reward(preds[[0, 2]], valid[[0, 2]], gt[[0, 2]]))


def test_groups_leave_per_sample_terms_alone(batch):
    spec = RewardSpec.parse("error")
    np.testing.assert_array_equal(
        compute_rewards(spec, *batch, groups=[0, 1, 2]).total, compute_rewards(spec, *batch).total
    )


def test_groups_of_the_wrong_length_are_rejected(batch):
    with pytest.raises(ValueError, match="one id per image"):
        compute_rewards(RewardSpec.parse("rank"), *batch, groups=["a", "b"])
