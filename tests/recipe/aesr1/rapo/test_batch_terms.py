"""Batch terms on verl's flat rows: grouping by uid, comparison scope, scatter back."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recipe.aesr1.rapo.batch_terms import batch_term_rewards, comparison_groups
from reward_fns import RewardSpec, rank_reward

SPEC = RewardSpec.parse("error+rank")


def flat_batch(n, k, seed):
    rng = np.random.default_rng(seed)
    uids = [f"u{i:02d}" for i in range(n) for _ in range(k)]
    gt = np.repeat(rng.uniform(0, 1, n), k)
    preds = np.clip(gt + rng.normal(0, 0.15, n * k), 0, 1)
    order = rng.permutation(n * k)  # verl's rows arrive in any order
    return [uids[i] for i in order], preds[order], gt[order]


def test_whole_batch_equals_rank_reward_on_the_n_by_k_array():
    uids, preds, gt = flat_batch(5, 4, seed=0)
    out = batch_term_rewards(SPEC, uids, list(preds), list(gt))
    by_uid = sorted(set(uids))
    p = np.array([[preds[r] for r in range(len(uids)) if uids[r] == u] for u in by_uid])
    g = np.array([gt[uids.index(u)] for u in by_uid])
    expected = rank_reward(p, np.ones_like(p, dtype=bool), g)
    for row, uid in enumerate(uids):
        i = by_uid.index(uid)
        slot = [r for r in range(len(uids)) if uids[r] == uid].index(row)
        assert out.total[row] == pytest.approx(expected[i, slot])
    assert out.chunks == 1 and set(out.components) == {"rank"}  # only batch terms here; error came from the reward loop


def test_chunks_rank_only_within_their_group():
    uids, preds, gt = flat_batch(6, 3, seed=1)
    chunked = batch_term_rewards(SPEC, uids, list(preds), list(gt), group_size=2)
    assert chunked.chunks == 3
    for group in comparison_groups(uids, 2):
        rows = [r for r, u in enumerate(uids) if u in group]
        alone = batch_term_rewards(SPEC, [uids[r] for r in rows], list(preds[rows]), list(gt[rows]))
        np.testing.assert_allclose(chunked.total[rows], alone.total)


def test_chunks_follow_sorted_uids_and_keep_the_remainder():
    assert comparison_groups(["c", "a", "b", "a", "e", "d"], 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert comparison_groups(["c", "a"], None) == [["a", "c"]]


def test_image_alone_in_its_chunk_earns_no_batch_reward():
    out = batch_term_rewards(
        SPEC, ["a", "a", "b", "b", "c", "c"], [0.1, 0.2, 0.5, 0.6, 0.9, 0.8], [0.1] * 2 + [0.5] * 2 + [0.9] * 2, 2
    )
    assert out.total[4:].tolist() == [0.0, 0.0]


def test_unparsed_outputs_earn_zero_and_do_not_break_the_batch():
    out = batch_term_rewards(SPEC, ["a", "a", "b", "b"], [0.2, None, 0.7, float("nan")], [0.2, 0.2, 0.8, 0.8])
    assert out.total[1] == 0.0 and out.total[3] == 0.0
    assert out.total[0] > 0.5 and out.total[2] > 0.5  # correctly ordered pair


def test_reward_without_batch_terms_adds_nothing():
    out = batch_term_rewards(RewardSpec.parse("error"), ["a", "b"], [0.2, 0.3], [0.2, 0.3])
    assert out.total.tolist() == [0.0, 0.0] and out.components == {}


@pytest.mark.parametrize("size", [0, 1, -3, 2.5, True, "8"])
def test_bad_group_size_is_rejected(size):
    with pytest.raises(ValueError, match="rank_group_size"):
        comparison_groups(["a", "b"], size)


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="3 uids"):
        batch_term_rewards(SPEC, ["a", "a", "b"], [0.1, 0.2], [0.1, 0.1, 0.5])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 6), k=st.integers(1, 4), seed=st.integers(0, 10_000), size=st.sampled_from([None, 2, 3]))
def test_row_order_does_not_change_any_rows_reward(n, k, seed, size):
    uids, preds, gt = flat_batch(n, k, seed)
    out = batch_term_rewards(SPEC, uids, list(preds), list(gt), size)
    flip = np.arange(len(uids))[::-1]
    out_flipped = batch_term_rewards(SPEC, [uids[i] for i in flip], list(preds[flip]), list(gt[flip]), size)
    np.testing.assert_allclose(out_flipped.total, out.total[flip], atol=1e-6)


def test_batch_terms_run_with_the_bounded_thread_count_and_restore_it(monkeypatch):
    """Issue 26: the hook runs next to busy Ray actors, where torch's intra-op threads made the rank kernel
    15x slower; the batch terms run with at most BATCH_TERM_THREADS threads, the caller's count is kept."""
    import torch

    import recipe.aesr1.rapo.batch_terms as module

    seen = []
    real = module.compute_rewards

    def recording(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "compute_rewards", recording)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        uids, preds, gt = flat_batch(6, 3, seed=2)
        module.batch_term_rewards(SPEC, uids, list(preds), list(gt), group_size=3)
        assert seen == [module.BATCH_TERM_THREADS] * 2 and torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), module.torch_threads(1):  # restored on an error too
            raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
        with module.torch_threads(8):  # a bound, never a raise above the caller's count
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
