"""Which images the batch terms compare (ComparisonScope, from rapo.rank_group_size / group_key /
shuffled_groups), and the batch terms on verl's flat rows: grouping by uid, scope, scatter back."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recipe.aesr1.rapo.scope import (
    BATCH_TERM_THREADS,
    ComparisonScope,
    batch_term_rewards,
    group_ids_from_extra_info,
    torch_threads,
)
from reward_fns import RewardSpec, consistency_reward, rank_reward

SPEC = RewardSpec.parse("error+rank")


def flat_batch(n, k, seed):
    rng = np.random.default_rng(seed)
    uids = [f"u{i:02d}" for i in range(n) for _ in range(k)]
    gt = np.repeat(rng.uniform(0, 1, n), k)
    preds = np.clip(gt + rng.normal(0, 0.15, n * k), 0, 1)
    order = rng.permutation(n * k)  # verl's rows arrive in any order
    return [uids[i] for i in order], preds[order], gt[order]


def members(uids, groups):
    """{group id: sorted distinct uids}: what each comparison group holds."""
    out = {}
    for uid, group in zip(uids, groups):
        out.setdefault(group, set()).add(uid)
    return {g: sorted(u) for g, u in out.items()}


# --- the scope: config keys -> a group id per row ---


def test_default_scope_is_the_whole_batch():
    assert ComparisonScope().group_ids(["c", "a", "c"]) == [0, 0, 0]


def test_chunks_follow_sorted_uids_and_keep_the_remainder():
    uids = ["c", "a", "b", "a", "e", "d"]
    assert sorted(members(uids, ComparisonScope(rank_group_size=2).group_ids(uids)).values()) == [
        ["a", "b"], ["c", "d"], ["e"]
    ]  # fmt: skip


def test_group_key_compares_the_images_sharing_it():
    uids = ["u1", "u1", "u2", "u3", "u3", "u4"]
    infos = [{"group_id": k} for k in ["b", "b", "a", "b", "b", "a"]]
    groups = ComparisonScope(group_key="group_id").group_ids(uids, infos)
    assert members(uids, groups) == {"b": ["u1", "u3"], "a": ["u2", "u4"]}
    with pytest.raises(ValueError, match="two group keys"):
        ComparisonScope(group_key="group_id").group_ids(["u1", "u1"], [{"group_id": "a"}, {"group_id": "b"}])
    with pytest.raises(ValueError, match="row 1: extra_info has no 'group_id'"):
        ComparisonScope(group_key="group_id").group_ids(["u1", "u2"], [{"group_id": "a"}, {"index": 3}])


def test_group_ids_come_from_extra_info():
    assert group_ids_from_extra_info([{"group_id": "a"}, {"group_id": 7}], "group_id") == ["a", "7"]
    assert group_ids_from_extra_info([{"prompt_id": "p1"}], "prompt_id") == ["p1"]  # any field names groups
    with pytest.raises(ValueError, match="row 1: extra_info has no 'group_id'"):
        group_ids_from_extra_info([{"group_id": "a"}, {"index": 3}], "group_id")


def _sources(n_groups=6, images=8):
    uids = [f"g{g}_i{i}" for g in range(n_groups) for i in range(images)]
    return uids, [{"group_id": u.split("_")[0]} for u in uids]


def test_shuffled_ablation_keeps_group_sizes_and_mixes_content():
    uids, infos = _sources()
    groups = members(uids, ComparisonScope(group_key="group_id", shuffled_groups=True).group_ids(uids, infos, step=11))
    assert sorted(len(g) for g in groups.values()) == [8] * 6
    assert sorted(u for g in groups.values() for u in g) == sorted(uids)
    assert any(len({u.split("_")[0] for u in g}) > 1 for g in groups.values())


def test_shuffled_ablation_deals_anew_each_step_and_repeats_a_step():
    uids, infos = _sources()
    scope = ComparisonScope(group_key="group_id", shuffled_groups=True)
    assert scope.group_ids(uids, infos, step=3) == scope.group_ids(uids, infos, step=3)
    assert scope.group_ids(uids, infos, step=3) != scope.group_ids(uids, infos, step=4)


def test_shuffled_ablation_within_a_batch_still_pairs_one_source_22_percent():
    # what README states: dealing 4 groups of 8 within the batch leaves (8 - 1) / (32 - 1) of pairs in one source
    uids, infos = _sources(n_groups=4)
    scope = ComparisonScope(group_key="group_id", shuffled_groups=True)
    same = total = 0
    for seed in range(400):
        for group in members(uids, scope.group_ids(uids, infos, step=seed)).values():
            sources = [u.split("_")[0] for u in group]
            pairs = [(a, b) for i, a in enumerate(sources) for b in sources[i + 1 :]]
            same += sum(a == b for a, b in pairs)
            total += len(pairs)
    assert same / total == pytest.approx(7 / 31, abs=0.01)


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"rank_group_size": 0}, "rank_group_size"),
        ({"rank_group_size": 1}, "rank_group_size"),
        ({"rank_group_size": -3}, "rank_group_size"),
        ({"rank_group_size": 2.5}, "rank_group_size"),
        ({"rank_group_size": True}, "rank_group_size"),  # a bool is not a size
        ({"rank_group_size": "8"}, "rank_group_size"),
        ({"group_key": ""}, "non-empty"),
        ({"shuffled_groups": "yes"}, "true or false"),
        ({"shuffled_groups": True}, "needs rapo.group_key"),  # nothing to shuffle
        ({"group_key": "group_id", "rank_group_size": 8}, "set one"),  # two scopes at once
    ],
)
def test_bad_config_keys_are_rejected_naming_the_key(keys, message):
    with pytest.raises(ValueError, match=message):
        ComparisonScope.from_config(keys)


def test_validation_compares_in_chunks_of_the_training_scope():
    assert ComparisonScope().for_validation(32) == ComparisonScope(rank_group_size=32)
    assert ComparisonScope(rank_group_size=8).for_validation(32) == ComparisonScope(rank_group_size=8)
    assert ComparisonScope(group_key="group_id", shuffled_groups=True).for_validation(16).rank_group_size == 16
    assert ComparisonScope().for_validation(1).rank_group_size == 2


# --- the batch terms on verl's flat rows ---


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
    assert set(out.components) == {"rank"}  # only batch terms here; error came from the reward loop


def test_chunks_rank_only_within_their_group():
    uids, preds, gt = flat_batch(6, 3, seed=1)
    groups = ComparisonScope(rank_group_size=2).group_ids(uids)
    chunked = batch_term_rewards(SPEC, uids, list(preds), list(gt), groups)
    assert len(set(groups)) == 3
    for group in set(groups):
        rows = [r for r, g in enumerate(groups) if g == group]
        alone = batch_term_rewards(SPEC, [uids[r] for r in rows], list(preds[rows]), list(gt[rows]))
        np.testing.assert_allclose(chunked.total[rows], alone.total, atol=1e-7)


def test_image_alone_in_its_chunk_earns_no_batch_reward():
    uids = ["a", "a", "b", "b", "c", "c"]
    groups = ComparisonScope(rank_group_size=2).group_ids(uids)
    out = batch_term_rewards(SPEC, uids, [0.1, 0.2, 0.5, 0.6, 0.9, 0.8], [0.1] * 2 + [0.5] * 2 + [0.9] * 2, groups)
    assert out.total[4:].tolist() == [0.0, 0.0]


def test_unparsed_outputs_earn_zero_and_do_not_break_the_batch():
    out = batch_term_rewards(SPEC, ["a", "a", "b", "b"], [0.2, None, 0.7, float("nan")], [0.2, 0.2, 0.8, 0.8])
    assert out.total[1] == 0.0 and out.total[3] == 0.0
    assert out.total[0] > 0.5 and out.total[2] > 0.5  # correctly ordered pair


def test_reward_without_batch_terms_adds_nothing():
    out = batch_term_rewards(RewardSpec.parse("error"), ["a", "b"], [0.2, 0.3], [0.2, 0.3])
    assert out.total.tolist() == [0.0, 0.0] and out.components == {}


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="3 uids"):
        batch_term_rewards(SPEC, ["a", "a", "b"], [0.1, 0.2], [0.1, 0.1, 0.5])
    with pytest.raises(ValueError, match="different group ids"):
        batch_term_rewards(SPEC, ["a", "a", "b"], [0.1, 0.2, 0.3], [0.1, 0.1, 0.5], [0, 1, 1])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 6), k=st.integers(1, 4), seed=st.integers(0, 10_000), size=st.sampled_from([None, 2, 3]))
def test_row_order_does_not_change_any_rows_reward(n, k, seed, size):
    uids, preds, gt = flat_batch(n, k, seed)
    scope = ComparisonScope(rank_group_size=size)
    out = batch_term_rewards(SPEC, uids, list(preds), list(gt), scope.group_ids(uids))
    flip = np.arange(len(uids))[::-1]
    flipped_uids = [uids[i] for i in flip]
    out_flipped = batch_term_rewards(SPEC, flipped_uids, list(preds[flip]), list(gt[flip]), scope.group_ids(flipped_uids))
    np.testing.assert_allclose(out_flipped.total, out.total[flip], atol=1e-6)


def _key_batch(rng, n_groups=3, images=8, k=6):
    uids = [f"g{g}_i{i}" for g in range(n_groups) for i in range(images) for _ in range(k)]
    infos = [{"group_id": u.split("_")[0]} for u in uids]
    gt = np.repeat(rng.uniform(0.2, 0.8, n_groups * images), k)
    preds = np.clip(gt + rng.normal(0, 0.1, gt.size), 0, 1)
    return uids, infos, preds, gt


def _by_key(spec, uids, infos, preds, gt, shuffled=False, step=0):
    scope = ComparisonScope(group_key="group_id", shuffled_groups=shuffled)
    return batch_term_rewards(spec, uids, preds, gt, scope.group_ids(uids, infos, step))


def test_consistency_reward_of_a_group_ignores_the_other_groups():
    rng = np.random.default_rng(0)
    spec = RewardSpec.parse("consistency")
    uids, infos, preds, gt = _key_batch(rng)
    base = _by_key(spec, uids, infos, preds, gt).total
    in_g0 = np.array([i["group_id"] == "g0" for i in infos])
    other_preds, other_gt = preds.copy(), gt.copy()
    other_preds[~in_g0] = rng.uniform(0, 1, (~in_g0).sum())  # rewrite everything outside g0
    other_gt[~in_g0] = np.repeat(rng.uniform(0, 1, (~in_g0).sum() // 6), 6)
    changed = _by_key(spec, uids, infos, other_preds, other_gt).total
    np.testing.assert_allclose(changed[in_g0], base[in_g0])
    # reference: reward_fns.consistency_reward on g0's (images, K) arrays alone
    direct = consistency_reward(preds[in_g0].reshape(8, 6), np.ones((8, 6), bool), gt[in_g0].reshape(8, 6)[:, 0])
    np.testing.assert_allclose(base[in_g0], direct.ravel(), rtol=1e-6)


def test_consistency_reward_depends_on_within_group_order_only():
    rng = np.random.default_rng(1)
    spec = RewardSpec.parse("consistency")
    uids, infos, preds, gt = _key_batch(rng)
    base = _by_key(spec, uids, infos, preds, gt).total
    # a monotone change of one group's labels (same order, new gaps) and a row permutation of the batch
    rows = rng.permutation(len(uids))
    in_g1 = np.array([i["group_id"] == "g1" for i in infos])
    moved_gt = np.where(in_g1, gt * 0.5 + 0.1, gt)
    shuffled_rows = _by_key(spec, [uids[r] for r in rows], [infos[r] for r in rows], preds[rows], gt[rows]).total
    np.testing.assert_allclose(shuffled_rows, base[rows], rtol=1e-6)
    # the other groups do not move when g1's labels change; flipping g1's label order lowers g1's reward
    relabelled = _by_key(spec, uids, infos, preds, moved_gt).total
    np.testing.assert_allclose(relabelled[~in_g1], base[~in_g1])
    flipped = _by_key(spec, uids, infos, preds, np.where(in_g1, 1 - gt, gt)).total
    assert flipped[in_g1].mean() < base[in_g1].mean() - 0.2


def test_shuffled_ablation_compares_across_groups():
    rng = np.random.default_rng(2)
    spec = RewardSpec.parse("consistency")
    uids, infos, preds, gt = _key_batch(rng)
    consistent = _by_key(spec, uids, infos, preds, gt)
    shuffled = _by_key(spec, uids, infos, preds, gt, shuffled=True, step=4)
    assert not np.allclose(consistent.total, shuffled.total)


def test_batch_terms_run_with_the_bounded_thread_count_and_restore_it(monkeypatch):
    """Issue 26: the hook runs next to busy Ray actors, where torch's intra-op threads made the rank kernel
    15x slower; the batch terms run with at most BATCH_TERM_THREADS threads, the caller's count is kept."""
    import torch

    import recipe.aesr1.rapo.scope as module

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
        batch_term_rewards(SPEC, uids, list(preds), list(gt), ComparisonScope(rank_group_size=3).group_ids(uids))
        assert seen == [BATCH_TERM_THREADS] and torch.get_num_threads() == 2  # one call for every group
        with pytest.raises(RuntimeError), torch_threads(1):  # restored on an error too
            raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
        with torch_threads(8):  # a bound, never a raise above the caller's count
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
