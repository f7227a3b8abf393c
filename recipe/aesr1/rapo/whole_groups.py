"""verl's RL train dataloader with :class:`WholeGroupSampler` in place of its random sampler.

verl 0.9.1's v1 trainer builds its train loader in ``_init_dataloader`` with
``create_rl_sampler(config.data, dataset)`` and offers no config key for another sampler; with
``rapo.group_key`` set, ``RapoTrainer`` calls :func:`use_whole_group_loader` after
``super()._init_dataloader()``: it replaces ``train_dataloader`` (same arguments as verl's loader, only
the sampler differs) and recomputes what verl derived from ``len(train_dataset)``: ``steps_per_epoch``,
``total_training_steps`` and the optimizer's LR-schedule horizon (trainer_base.py:765-786). A sampler
that keeps groups whole yields fewer batches than ``len(dataset) // train_batch_size`` whenever groups
are dropped, so verl's counts would run the schedule past the data and misnumber the epochs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from omegaconf import OmegaConf, open_dict
from torchdata.stateful_dataloader import StatefulDataLoader
from verl.utils.dataset.rl_dataset import collate_fn

from recipe.aesr1.rapo.scope import WholeGroupSampler, group_ids_from_extra_info

logger = logging.getLogger(__name__)


def whole_group_train_dataloader(dataset: Any, data_config: Mapping, group_key: str) -> StatefulDataLoader:
    """A train loader whose every ``data.train_batch_size`` prompts are whole groups.

    Args:
        dataset: verl's ``RLHFDataset`` (its ``dataframe`` holds the ``extra_info`` column).
        data_config: the ``data`` section (``train_batch_size``, ``gen_batch_size``, ``shuffle``,
            ``seed``, ``dataloader_num_workers``).
        group_key: key of ``extra_info`` naming the group.

    Raises:
        ValueError: a row without ``extra_info[group_key]``, or group sizes that fill no batch.
    """
    group_ids = group_ids_from_extra_info(dataset.dataframe["extra_info"], group_key)
    train_batch_size = int(data_config["train_batch_size"])
    sampler = WholeGroupSampler(
        group_ids,
        batch_size=train_batch_size,
        shuffle=bool(data_config.get("shuffle", True)),
        seed=int(data_config.get("seed") or 0),
    )
    return StatefulDataLoader(
        dataset=dataset,
        # verl fetches gen_batch_size prompts at a time; whole blocks of train_batch_size stay whole.
        batch_size=data_config.get("gen_batch_size") or train_batch_size,
        num_workers=data_config.get("dataloader_num_workers", 0),
        drop_last=True,
        collate_fn=collate_fn,
        sampler=sampler,
    )


def group_schedule(sampler: WholeGroupSampler, total_epochs: int) -> tuple[int, int]:
    """``(steps_per_epoch, total_training_steps)`` of ``total_epochs`` epochs of ``sampler``.

    Total: the batches the sampler really yields, summed over the epochs (ragged group sizes can make
    the count differ from one epoch to the next). Steps per epoch: the largest epoch, so that verl's
    epoch counter (``(step - 1) // steps_per_epoch``) never ends the run before the total is reached.
    """
    counts = [sampler.usage(epoch)["batches"] for epoch in range(total_epochs)]
    return max(counts, default=0), sum(counts)


def use_whole_group_loader(trainer: Any, group_key: str) -> dict[str, int]:
    """Swap ``trainer.train_dataloader`` for the whole-group loader and redo verl's step counts.

    ``trainer`` is a verl v1 trainer after its own ``_init_dataloader`` (it reads ``config``,
    ``train_dataset`` and ``parameter_sync_step`` and sets ``steps_per_epoch``,
    ``total_training_steps`` and ``actor_rollout_ref.actor.optim.total_training_steps`` /
    ``critic.optim.total_training_steps`` as verl does). ``trainer.total_training_steps`` set in the
    config still wins, as in verl. Returns the first epoch's :meth:`WholeGroupSampler.usage`, also logged.
    """
    config = trainer.config
    trainer.train_dataloader = whole_group_train_dataloader(trainer.train_dataset, config.data, group_key)
    trainer.train_dataloader_it = None
    sampler = trainer.train_dataloader.sampler
    usage = sampler.usage(0)
    logger.warning(
        "rapo.group_key=%s: each epoch uses %d of %d groups (%d images, %d dropped) in %d whole-group batches "
        "of %d",
        group_key, usage["groups_used"], usage["groups_used"] + usage["groups_dropped"], usage["images_used"],
        usage["images_dropped"], usage["batches"], sampler.batch_size,
    )  # fmt: skip
    trainer.steps_per_epoch, total = group_schedule(sampler, int(config.trainer.total_epochs))
    if config.trainer.get("total_training_steps") is not None:
        total = config.trainer.total_training_steps
    trainer.total_training_steps = total
    optim_total = total * trainer.parameter_sync_step  # verl: the LR schedule counts optimizer updates
    with open_dict(config):
        for section in ("actor_rollout_ref.actor.optim", "critic.optim"):
            if OmegaConf.select(config, section):
                OmegaConf.select(config, section).total_training_steps = optim_total
    return usage
