"""rapo.group_key: training batches hold whole groups. The packing and the sampler (RED-Aes Stage 3 is
the user: group_id = source-edit group), and RapoTrainer's train loader with verl's step counts following it.

verl's own ``_init_dataloader`` runs here (its dataset factory returns an in-memory dataset of
``extra_info`` rows); what is checked is what verl derives from it: ``steps_per_epoch``,
``total_training_steps`` and the LR-schedule horizon ``actor_rollout_ref.actor.optim.total_training_steps``.
"""

import os

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hypothesis import given, settings
from hypothesis import strategies as st
from torchdata.stateful_dataloader import StatefulDataLoader

from recipe.aesr1.rapo.whole_groups import WholeGroupSampler, pack_groups

CONFIGS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "configs"))


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


def _trainer(monkeypatch, group_sizes, overrides=()):
    """A RapoTrainer with only what ``_init_dataloader`` reads (the rest of its __init__ needs Ray)."""
    import verl.trainer.ppo.v1.trainer_base as trainer_base

    import recipe.aesr1.rapo.trainer as rapo_trainer
    from recipe.aesr1.rapo.scope import ComparisonScope
    from recipe.aesr1.rapo.trainer import RapoTrainer

    # no model here: the start-up processor check has its own tests (test_rapo_start_up_checks.py)
    monkeypatch.setattr(rapo_trainer, "check_processor", lambda *args, **kwargs: 0)

    ids = [f"g{g}" for g, n in enumerate(group_sizes) for _ in range(n)]
    ids = [ids[i] for i in np.random.default_rng(0).permutation(len(ids))]
    monkeypatch.setattr(trainer_base, "create_rl_dataset", lambda *a, **k: _FakeRLDataset(ids))
    with initialize_config_dir(config_dir=CONFIGS, version_base=None):
        config = compose(
            "rapo_trainer",
            overrides=["+red_aes=stage3_grpo", "data.train_files=x", "data.val_files=y", *overrides],
        )
    trainer = RapoTrainer.__new__(RapoTrainer)
    trainer.config, trainer.tokenizer, trainer.processor = config, None, None
    trainer.trainer_mode, trainer.parameter_sync_step = "sync", 1
    trainer.scope = ComparisonScope.from_config(config.rapo)
    trainer._init_dataloader()
    return trainer, len(ids)


def _batches_per_epoch(trainer, epochs):
    counts = []
    for _ in range(epochs):
        counts.append(sum(1 for _ in trainer.train_dataloader))
    return counts


def test_steps_come_from_the_batches_the_group_sampler_yields(monkeypatch):
    # ragged groups (1 + 2..7 variants that passed the judges): the sampler drops groups it cannot
    # complete to 32 images, so len(dataset) // 32 overcounts the batches
    sizes = list(np.random.default_rng(1).integers(3, 9, 60))
    trainer, n_rows = _trainer(monkeypatch, sizes, ["trainer.total_epochs=3"])
    counts = _batches_per_epoch(trainer, 3)
    assert trainer.total_training_steps == sum(counts)
    assert trainer.steps_per_epoch == max(counts)
    assert trainer.config.actor_rollout_ref.actor.optim.total_training_steps == sum(counts)
    assert n_rows // 32 * 3 > sum(counts)  # what verl computed from len(dataset): more steps than batches
    for batch in trainer.train_dataloader:
        groups = [info["group_id"] for info in batch["extra_info"]]
        assert all(groups.count(g) == sizes[int(g[1:])] for g in set(groups))  # whole groups
        break


def test_total_training_steps_from_the_config_still_wins(monkeypatch):
    trainer, _ = _trainer(monkeypatch, [8] * 9, ["trainer.total_training_steps=5"])
    assert trainer.total_training_steps == 5 and trainer.steps_per_epoch == 2
    assert trainer.config.actor_rollout_ref.actor.optim.total_training_steps == 5


def test_group_sizes_that_fill_no_batch_stop_the_trainer_at_start_up(monkeypatch):
    # Table 6's 1+5 groups with the stage 3 default of 32 images a batch
    with pytest.raises(ValueError, match="group sizes {6: 10}"):
        _trainer(monkeypatch, [6] * 10)
    trainer, _ = _trainer(
        monkeypatch, [6] * 10, ["data.train_batch_size=30", "actor_rollout_ref.actor.ppo_mini_batch_size=30"]
    )
    assert trainer.steps_per_epoch == 2


def test_without_group_key_verl_keeps_its_own_loader(monkeypatch):
    trainer, n_rows = _trainer(monkeypatch, [8] * 9, ["rapo.group_key=null"])
    assert not isinstance(trainer.train_dataloader.sampler, WholeGroupSampler)
    assert trainer.steps_per_epoch == n_rows // 32
