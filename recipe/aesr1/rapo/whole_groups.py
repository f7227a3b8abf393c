"""Training batches that hold whole groups: :class:`WholeGroupSampler`, and verl's RL train dataloader
with it in place of its random sampler.

With ``rapo.group_key`` set (``recipe.aesr1.rapo.scope`` says what it compares), every training batch
must hold whole groups, or a group's images would be compared with fewer partners than it has. The
sampler orders the dataset indices so that every block of ``batch_size`` consecutive indices (one verl
training batch: the dataloader cuts the index stream into blocks, ``drop_last=True``) holds whole groups,
never part of one.

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
from collections import Counter, defaultdict, deque
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from omegaconf import OmegaConf, open_dict
from torch.utils.data import Sampler
from torchdata.stateful_dataloader import StatefulDataLoader
from verl.utils.dataset.rl_dataset import collate_fn

from recipe.aesr1.rapo.scope import group_ids_from_extra_info

logger = logging.getLogger(__name__)


def _exact_fill(pools: dict[int, deque], need: int) -> dict[int, int] | None:
    """How many groups of each size (from ``pools``: size -> queue of groups) sum to exactly ``need``;
    None when no combination does. Bounded subset sum on Python-int bitsets (binary-split counts)."""
    if need == 0:
        return {}
    items: list[tuple[int, int]] = []  # (size, multiplicity)
    for size, pool in pools.items():
        available, piece = min(len(pool), need // size), 1
        while available > 0:
            take = min(piece, available)
            items.append((size, take))
            available -= take
            piece *= 2
    mask = (1 << (need + 1)) - 1
    reachable = [1]
    for size, count in items:
        reachable.append((reachable[-1] | (reachable[-1] << (size * count))) & mask)
    if not (reachable[-1] >> need) & 1:
        return None
    counts: dict[int, int] = defaultdict(int)
    target = need
    for i in range(len(items) - 1, -1, -1):
        if (reachable[i] >> target) & 1:
            continue  # reachable without item i
        size, count = items[i]
        counts[size] += count
        target -= size * count
    return dict(counts)


def pack_groups(
    order: Sequence[Hashable], sizes: dict[Hashable, int], batch_size: int
) -> tuple[list[list[Hashable]], list[Hashable]]:
    """Cut groups, taken in ``order``, into batches of exactly ``batch_size`` images.

    Each batch starts from the first group not yet placed and is completed by an exact-sum choice of
    the earliest remaining groups of each size. A group that cannot be completed to ``batch_size``
    (ragged sizes, or the tail of the epoch) is left out of this epoch and returned in ``dropped``;
    with equal sizes dividing ``batch_size`` only the tail (fewer than batch_size / size groups) is.

    Raises:
        ValueError: when a group has more images than ``batch_size``.
    """
    sizes = {g: int(n) for g, n in sizes.items()}  # numpy ints would overflow the bitsets of _exact_fill
    batch_size = int(batch_size)
    too_big = [g for g in order if sizes[g] > batch_size]
    if too_big:
        raise ValueError(
            f"group {too_big[0]!r} has {sizes[too_big[0]]} images, more than data.train_batch_size={batch_size}; "
            "a batch must hold whole groups"
        )
    pools: dict[int, deque] = defaultdict(deque)
    for group in order:
        pools[sizes[group]].append(group)
    placed: set[Hashable] = set()
    batches, dropped = [], []
    for seed in order:
        if seed in placed:
            continue
        pools[sizes[seed]].popleft()  # the seed is the earliest remaining group of its size
        placed.add(seed)
        counts = _exact_fill({s: p for s, p in pools.items() if p}, batch_size - sizes[seed])
        if counts is None:
            dropped.append(seed)
            continue
        batch = [seed]
        for size, count in counts.items():
            for _ in range(count):
                batch.append(pools[size].popleft())
        placed.update(batch)
        batches.append(batch)
    return batches, dropped


class WholeGroupSampler(Sampler[int]):
    """Index sampler for verl's train dataloader whose every ``batch_size`` block holds whole groups.

    Args:
        group_ids: (len(dataset),) group id of each row.
        batch_size: verl's ``data.train_batch_size`` (images per training batch).
        shuffle: reshuffle the group order (and the rows within a group) every epoch.
        seed: base seed; epoch ``e`` uses ``seed + e``, so a run is reproducible and resumable.

    ``dropped`` lists the groups left out of the current epoch (see :func:`pack_groups`);
    :meth:`usage` counts the groups and images an epoch uses. Resumable with ``state_dict`` /
    ``load_state_dict`` (torchdata's StatefulDataLoader calls them).

    Raises:
        ValueError: at construction, when a group is larger than a batch or when the group sizes
            cannot fill a single batch (e.g. only groups of 6 and ``batch_size=32``: every group
            would be dropped); the message gives the sizes found.
    """

    def __init__(self, group_ids: Sequence[Hashable], batch_size: int, shuffle: bool = True, seed: int = 0):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"WholeGroupSampler: batch_size must be a positive integer, got {batch_size!r}")
        self.rows_of: dict[Hashable, list[int]] = defaultdict(list)
        for row, group in enumerate(group_ids):
            if group is None:
                raise ValueError(f"WholeGroupSampler: row {row} has no group id")
            self.rows_of[group].append(row)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self._resume_at = 0
        self._yielded = 0
        self._plan_cache: tuple[int, list[int], list[Hashable]] | None = None
        if self.usage(0)["batches"] == 0:  # fail at start-up, not after an empty epoch
            counts = Counter(len(rows) for rows in self.rows_of.values())
            raise ValueError(
                f"no batch of data.train_batch_size={self.batch_size} can be made of whole groups: group sizes "
                f"{dict(sorted(counts.items()))} (size: groups); every group would be dropped. Use a batch size "
                "that sums whole groups (e.g. a multiple of the group size)"
            )

    def _epoch_plan(self, epoch: int) -> tuple[list[int], list[Hashable]]:
        """(row indices in yield order, dropped groups) of ``epoch``; pure in (seed, epoch)."""
        groups = list(self.rows_of)
        rng = np.random.default_rng(self.seed + epoch)
        if self.shuffle:
            groups = [groups[i] for i in rng.permutation(len(groups))]
        batches, dropped = pack_groups(groups, {g: len(self.rows_of[g]) for g in groups}, self.batch_size)
        indices = []
        for batch in batches:
            for group in batch:
                rows = self.rows_of[group]
                indices.extend([rows[i] for i in rng.permutation(len(rows))] if self.shuffle else rows)
        return indices, dropped

    def _plan(self) -> tuple[list[int], list[Hashable]]:
        if self._plan_cache is None or self._plan_cache[0] != self.epoch:
            self._plan_cache = (self.epoch, *self._epoch_plan(self.epoch))
        return self._plan_cache[1], self._plan_cache[2]

    def usage(self, epoch: int) -> dict[str, int]:
        """Batches, groups and images that ``epoch`` uses and drops (ragged sizes change it per epoch)."""
        indices, dropped = self._epoch_plan(epoch)
        return {
            "batches": len(indices) // self.batch_size,
            "groups_used": len(self.rows_of) - len(dropped),
            "groups_dropped": len(dropped),
            "images_used": len(indices),
            "images_dropped": sum(len(self.rows_of[g]) for g in dropped),
        }

    @property
    def dropped(self) -> list[Hashable]:
        return self._plan()[1]

    def __len__(self) -> int:
        return len(self._plan()[0])

    def __iter__(self) -> Iterator[int]:
        indices, _ = self._plan()
        start, self._resume_at = self._resume_at, 0
        for position in range(start, len(indices)):
            self._yielded = position + 1
            yield indices[position]
        self.epoch += 1
        self._yielded = 0

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "yielded": self._yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self._resume_at = int(state["epoch"]), int(state["yielded"])



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
