"""Groups by an extra_info key (the RAPO hook's rapo.group_key): batches never split a group; the batch terms
stay within a group. RED-Aes Stage 3 is the user (group_id = source-edit group)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torchdata.stateful_dataloader import StatefulDataLoader

from recipe.aesr1.rapo.scope import (
    WholeGroupSampler,
    comparison_groups_by_key,
    group_batch_term_rewards,
    group_ids_from_extra_info,
    pack_groups,
)
from reward_fns import RewardSpec, consistency_reward


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=40), st.integers(8, 40))
def test_packing_makes_exact_batches_of_whole_groups(sizes, batch_size):
    groups = [f"g{i}" for i in range(len(sizes))]
    size_of = dict(zip(groups, sizes))
    batches, dropped = pack_groups(groups, size_of, batch_size)
    placed = [g for batch in batches for g in batch]
    assert all(sum(size_of[g] for g in batch) == batch_size for batch in batches)
    assert sorted(placed + dropped) == sorted(groups)  # every group once: in one batch or left out
    if len(set(sizes)) == 1 and batch_size % sizes[0] == 0:  # equal sizes dividing the batch: only a tail is left
        assert sum(size_of[g] for g in dropped) < batch_size


@pytest.mark.parametrize("batch_size", [32, 64, 256])
def test_ragged_groups_lose_little(batch_size):
    sizes = np.random.default_rng(0).integers(4, 9, 1000)  # 1 source + 3..7 variants that passed the judges
    groups = list(range(1000))
    batches, dropped = pack_groups(groups, dict(zip(groups, sizes)), batch_size)
    assert all(sum(sizes[g] for g in batch) == batch_size for batch in batches)
    assert sum(sizes[g] for g in dropped) < 2 * batch_size


def test_equal_groups_lose_only_the_tail():
    groups = [f"g{i}" for i in range(13)]
    batches, dropped = pack_groups(groups, {g: 8 for g in groups}, 32)
    assert batches == [groups[0:4], groups[4:8], groups[8:12]] and dropped == ["g12"]


def test_group_larger_than_a_batch_is_an_error():
    with pytest.raises(ValueError, match="more than data.train_batch_size=8"):
        pack_groups(["a"], {"a": 9}, 8)


def _rows(sizes):
    """group id per row, groups interleaved in the dataset the way a parquet need not keep them together"""
    ids = [f"g{g}" for g, n in enumerate(sizes) for _ in range(n)]
    return [ids[i] for i in np.random.default_rng(0).permutation(len(ids))]


@pytest.mark.parametrize("sizes, batch_size", [([8] * 12, 32), ([8, 7, 8, 6, 8, 8, 5, 8, 3, 8, 7, 1], 16)])
def test_dataloader_batches_hold_whole_groups(sizes, batch_size):
    ids = _rows(sizes)
    sampler = WholeGroupSampler(ids, batch_size, shuffle=True, seed=3)
    loader = StatefulDataLoader(list(range(len(ids))), batch_size=batch_size, sampler=sampler, drop_last=True)
    for epoch in range(2):
        seen = []
        for batch in loader:
            rows = batch.tolist()
            assert len(rows) == batch_size
            for group in {ids[r] for r in rows}:
                assert sum(ids[r] == group for r in rows) == sizes[int(group[1:])]  # the whole group
            seen.extend(rows)
        assert len(seen) == len(set(seen))
        dropped_rows = sum(sizes[int(g[1:])] for g in sampler.dropped) if epoch == 0 else None
        if epoch == 0:
            assert len(seen) + dropped_rows == len(ids)


def test_epochs_reshuffle_and_runs_are_reproducible():
    ids = _rows([8] * 8)
    first, again = WholeGroupSampler(ids, 16, seed=1), WholeGroupSampler(ids, 16, seed=1)
    epoch0, epoch1 = list(first), list(first)
    assert epoch0 == list(again) and epoch0 != epoch1 and sorted(epoch0) == sorted(epoch1)
    assert list(WholeGroupSampler(ids, 16, shuffle=False)) == list(WholeGroupSampler(ids, 16, shuffle=False))


def test_resume_from_state_dict_continues_the_same_order():
    ids = _rows([8] * 8)
    sampler = WholeGroupSampler(ids, 16, seed=5)
    full = list(WholeGroupSampler(ids, 16, seed=5))
    it = iter(sampler)
    head = [next(it) for _ in range(20)]
    resumed = WholeGroupSampler(ids, 16, seed=5)
    resumed.load_state_dict(sampler.state_dict())
    assert head + list(resumed) == full


def test_group_ids_come_from_extra_info():
    assert group_ids_from_extra_info([{"group_id": "a"}, {"group_id": 7}], "group_id") == ["a", "7"]
    assert group_ids_from_extra_info([{"prompt_id": "p1"}], "prompt_id") == ["p1"]  # any field names groups
    with pytest.raises(ValueError, match="row 1: extra_info has no 'group_id'"):
        group_ids_from_extra_info([{"group_id": "a"}, {"index": 3}], "group_id")


def test_comparison_groups_follow_the_key():
    uids = ["u1", "u1", "u2", "u3", "u3", "u4"]
    keys = ["b", "b", "a", "b", "b", "a"]
    assert comparison_groups_by_key(uids, keys) == [["u2", "u4"], ["u1", "u3"]]
    with pytest.raises(ValueError, match="two group keys"):
        comparison_groups_by_key(["u1", "u1"], ["a", "b"])


def test_shuffled_ablation_keeps_group_sizes_and_mixes_content():
    uids = [f"g{g}_i{i}" for g in range(6) for i in range(8)]
    keys = [u.split("_")[0] for u in uids]
    groups = comparison_groups_by_key(uids, keys, shuffled=True, seed=11)
    assert [len(g) for g in groups] == [8] * 6
    assert sorted(u for g in groups for u in g) == sorted(uids)
    assert any(len({u.split("_")[0] for u in g}) > 1 for g in groups)


def _batch(rng, n_groups=3, images=8, k=6):
    uids = [f"g{g}_i{i}" for g in range(n_groups) for i in range(images) for _ in range(k)]
    keys = [u.split("_")[0] for u in uids]
    gt = np.repeat(rng.uniform(0.2, 0.8, n_groups * images), k)
    preds = np.clip(gt + rng.normal(0, 0.1, gt.size), 0, 1)
    return uids, keys, preds, gt


def test_consistency_reward_of_a_group_ignores_the_other_groups():
    rng = np.random.default_rng(0)
    spec = RewardSpec.parse("consistency")
    uids, keys, preds, gt = _batch(rng)
    base = group_batch_term_rewards(spec, uids, keys, preds, gt).total
    in_g0 = np.array([k == "g0" for k in keys])
    other_preds, other_gt = preds.copy(), gt.copy()
    other_preds[~in_g0] = rng.uniform(0, 1, (~in_g0).sum())  # rewrite everything outside g0
    other_gt[~in_g0] = np.repeat(rng.uniform(0, 1, (~in_g0).sum() // 6), 6)
    changed = group_batch_term_rewards(spec, uids, keys, other_preds, other_gt).total
    np.testing.assert_allclose(changed[in_g0], base[in_g0])
    # reference: reward_fns.consistency_reward on g0's (images, K) arrays alone
    direct = consistency_reward(preds[in_g0].reshape(8, 6), np.ones((8, 6), bool), gt[in_g0].reshape(8, 6)[:, 0])
    np.testing.assert_allclose(base[in_g0], direct.ravel(), rtol=1e-6)


def test_consistency_reward_depends_on_within_group_order_only():
    rng = np.random.default_rng(1)
    spec = RewardSpec.parse("consistency")
    uids, keys, preds, gt = _batch(rng)
    base = group_batch_term_rewards(spec, uids, keys, preds, gt).total
    # a monotone change of one group's labels (same order, new gaps) and a row permutation of the batch
    rows = rng.permutation(len(uids))
    in_g1 = np.array([k == "g1" for k in keys])
    moved_gt = np.where(in_g1, gt * 0.5 + 0.1, gt)
    shuffled_rows = group_batch_term_rewards(
        spec, [uids[r] for r in rows], [keys[r] for r in rows], preds[rows], gt[rows]
    ).total
    np.testing.assert_allclose(shuffled_rows, base[rows], rtol=1e-6)
    # the other groups do not move when g1's labels change; flipping g1's label order lowers g1's reward
    relabelled = group_batch_term_rewards(spec, uids, keys, preds, moved_gt).total
    np.testing.assert_allclose(relabelled[~in_g1], base[~in_g1])
    flipped_gt = np.where(in_g1, 1 - gt, gt)
    flipped = group_batch_term_rewards(spec, uids, keys, preds, flipped_gt).total
    assert flipped[in_g1].mean() < base[in_g1].mean() - 0.2


def test_shuffled_ablation_compares_across_groups():
    rng = np.random.default_rng(2)
    spec = RewardSpec.parse("consistency")
    uids, keys, preds, gt = _batch(rng)
    consistent = group_batch_term_rewards(spec, uids, keys, preds, gt)
    shuffled = group_batch_term_rewards(spec, uids, keys, preds, gt, shuffled=True, seed=4)
    assert consistent.chunks == shuffled.chunks == 3
    assert not np.allclose(consistent.total, shuffled.total)


class _FakeRLDataset:
    """The two things the loader reads from verl's RLHFDataset: ``dataframe["extra_info"]`` and rows."""

    def __init__(self, group_ids):
        import datasets

        self.dataframe = datasets.Dataset.from_dict(
            {"extra_info": [{"group_id": g, "index": i} for i, g in enumerate(group_ids)]}
        )

    def __len__(self):
        return len(self.dataframe)

    def __getitem__(self, i):
        return {"extra_info": self.dataframe[i]["extra_info"]}


def test_whole_group_train_dataloader_with_verl_collate():
    from recipe.aesr1.rapo.whole_groups import whole_group_train_dataloader

    ids = _rows([8] * 6)
    loader = whole_group_train_dataloader(
        _FakeRLDataset(ids),
        {"train_batch_size": 16, "shuffle": True, "seed": 2, "dataloader_num_workers": 0},
        "group_id",
    )
    batches = list(loader)
    assert len(batches) == 3
    for batch in batches:
        groups = [info["group_id"] for info in batch["extra_info"]]
        assert len(groups) == 16 and all(groups.count(g) == 8 for g in set(groups))


def test_stateful_dataloader_checkpoint_resumes_mid_epoch():
    # verl saves train_dataloader.state_dict() with each checkpoint and loads it on resume
    ids = _rows([8] * 8)
    full = [b.tolist() for b in StatefulDataLoader(list(range(64)), batch_size=16, drop_last=True,
                                                   sampler=WholeGroupSampler(ids, 16, seed=9))]  # fmt: skip
    loader = StatefulDataLoader(
        list(range(64)), batch_size=16, drop_last=True, sampler=WholeGroupSampler(ids, 16, seed=9)
    )
    it = iter(loader)
    head = [next(it).tolist() for _ in range(2)]
    state = loader.state_dict()
    resumed = StatefulDataLoader(
        list(range(64)), batch_size=16, drop_last=True, sampler=WholeGroupSampler(ids, 16, seed=9)
    )
    resumed.load_state_dict(state)
    assert head + [b.tolist() for b in resumed] == full


@pytest.mark.parametrize("sizes, batch_size", [([6] * 10, 32), ([10] * 7, 32), ([6, 9] * 4, 32)])
def test_group_sizes_that_fill_no_batch_fail_at_start_up(sizes, batch_size):
    # Table 6's 1+5 and 1+9 groups with the default train_batch_size of 32: no batch can be made
    with pytest.raises(ValueError, match=r"no batch of data.train_batch_size=32 can be made of whole groups"):
        WholeGroupSampler(_rows(sizes), batch_size)
    assert WholeGroupSampler(_rows(sizes), 30).usage(0)["batches"] > 0  # 30 = 5 x 6 = 3 x 10 = 6 + 6 + 9 + 9


def test_usage_counts_the_groups_and_images_of_an_epoch():
    sizes = [8] * 9 + [3]  # 9 full groups of 1 + 7 and one of 1 + 2
    sampler = WholeGroupSampler(_rows(sizes), 32, shuffle=False)
    usage = sampler.usage(0)
    assert usage == {"batches": 2, "groups_used": 8, "groups_dropped": 2, "images_used": 64, "images_dropped": 11}
    assert len(sampler) == usage["images_used"] and len(sampler.dropped) == usage["groups_dropped"]


def test_shuffled_ablation_within_a_batch_still_pairs_one_source_22_percent():
    # what README states: dealing 4 groups of 8 within the batch leaves (8 - 1) / (32 - 1) of pairs in one source
    uids = [f"g{g}_i{i}" for g in range(4) for i in range(8)]
    keys = [u.split("_")[0] for u in uids]
    same = total = 0
    for seed in range(400):
        for group in comparison_groups_by_key(uids, keys, shuffled=True, seed=seed):
            sources = [u.split("_")[0] for u in group]
            pairs = [(a, b) for i, a in enumerate(sources) for b in sources[i + 1 :]]
            same += sum(a == b for a, b in pairs)
            total += len(pairs)
    assert same / total == pytest.approx(7 / 31, abs=0.01)
