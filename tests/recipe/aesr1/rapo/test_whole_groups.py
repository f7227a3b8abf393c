"""rapo.group_key: RapoTrainer's train loader keeps groups whole, and verl's step counts follow that loader.

verl's own ``_init_dataloader`` runs here (its dataset factory returns an in-memory dataset of
``extra_info`` rows); what is checked is what verl derives from it: ``steps_per_epoch``,
``total_training_steps`` and the LR-schedule horizon ``actor_rollout_ref.actor.optim.total_training_steps``.
"""

import os

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from test_scope import _FakeRLDataset  # what verl's loaders read from RLHFDataset

CONFIGS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "configs"))


def _trainer(monkeypatch, group_sizes, overrides=()):
    """A RapoTrainer with only what ``_init_dataloader`` reads (the rest of its __init__ needs Ray)."""
    import verl.trainer.ppo.v1.trainer_base as trainer_base

    import recipe.aesr1.rapo.trainer as rapo_trainer
    from recipe.aesr1.rapo.config import group_scope_from_config
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
    trainer.group_key, trainer.shuffled_groups = group_scope_from_config(config)
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
    from recipe.aesr1.rapo.scope import WholeGroupSampler

    trainer, n_rows = _trainer(monkeypatch, [8] * 9, ["rapo.group_key=null"])
    assert not isinstance(trainer.train_dataloader.sampler, WholeGroupSampler)
    assert trainer.steps_per_epoch == n_rows // 32
