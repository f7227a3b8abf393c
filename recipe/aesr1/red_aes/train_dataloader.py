"""verl's RL train dataloader with :class:`WholeGroupSampler` in place of its random sampler.

verl 0.9.1's v1 trainer builds its train loader in ``_init_dataloader`` with
``create_rl_sampler(config.data, dataset)`` and offers no config key for another sampler; a trainer
that wants whole source-edit groups per batch replaces ``self.train_dataloader`` after
``super()._init_dataloader()`` with :func:`whole_group_train_dataloader` (same arguments as verl's
loader, only the sampler differs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torchdata.stateful_dataloader import StatefulDataLoader
from verl.utils.dataset.rl_dataset import collate_fn

from recipe.aesr1.red_aes.group_batching import GROUP_KEY, WholeGroupSampler, group_ids_from_extra_info


def whole_group_train_dataloader(dataset: Any, data_config: Mapping, group_key: str = GROUP_KEY) -> StatefulDataLoader:
    """A train loader whose every ``data.train_batch_size`` prompts are whole groups.

    Args:
        dataset: verl's ``RLHFDataset`` (its ``dataframe`` holds the ``extra_info`` column).
        data_config: the ``data`` section (``train_batch_size``, ``gen_batch_size``, ``shuffle``,
            ``seed``, ``dataloader_num_workers``).
        group_key: key of ``extra_info`` naming the group.
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
