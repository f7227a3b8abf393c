"""Comparison groups named by an ``extra_info`` field, and batches that keep such groups whole.

A feature of the RAPO hook (``rapo.group_key``): the batch reward terms compare each image only with
the images whose ``extra_info[group_key]`` is the same (per-source, per-prompt, per-anything groups),
and every training batch holds whole groups. RED-Aes Stage 3 uses it with ``group_key: group_id``
(one source image and its edited variants, red-aes-paper.md Eq. 4; Table 2 "Consistent Batch"). Two
pieces make that happen on verl:

* :class:`WholeGroupSampler` orders the dataset indices so that every block of ``batch_size``
  consecutive indices (one verl training batch: the dataloader cuts the index stream into blocks,
  ``drop_last=True``) holds whole groups, never part of one;
* :func:`comparison_groups_by_key` maps the rows of a batch to their comparison groups (the images
  sharing a group id), or, for the shuffled-batch ablation of Table 2, to random groups of the same
  sizes drawn across the batch; :func:`group_batch_term_rewards` evaluates the batch reward terms of
  ``recipe.aesr1.rapo.batch_terms`` in each of them.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import numpy as np
from torch.utils.data import Sampler

from recipe.aesr1.rapo.batch_terms import BatchTermRewards, batch_term_rewards
from reward_fns import RewardSpec


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


def group_ids_from_extra_info(extra_infos: Sequence[Any], key: str) -> list[Hashable]:
    """The group id of each row from its ``extra_info`` dict; ValueError naming the first row without one."""
    ids = []
    for row, info in enumerate(extra_infos):
        if not isinstance(info, dict) or info.get(key) is None:
            raise ValueError(
                f"row {row}: extra_info has no {key!r} (rapo.group_key={key} needs it on every row); got {info!r}"
            )
        ids.append(str(info[key]))
    return ids


def comparison_groups_by_key(
    uids: Sequence[Hashable], keys: Sequence[Hashable], shuffled: bool = False, seed: int = 0
) -> list[list[str]]:
    """The images (uids) compared with each other by the consistency reward.

    Args:
        uids: (M,) image id per row (verl's ``uid``; the K outputs of an image share it).
        keys: (M,) group id per row (``extra_info[group_key]``); all rows of a uid must agree.
        shuffled: RED-Aes Table 2's shuffled-batch ablation: the batch's images are dealt at random
            into groups of the same sizes as the true groups, so each compares mostly unrelated
            content. Dealt within the batch only: with B groups of n images a dealt pair comes from
            one source with probability (n - 1) / (B n - 1), 7 / 31 = 22.6% for 4 groups of 8.
        seed: seed of that shuffle (use the training step for a new draw each step).

    Returns:
        Lists of distinct uids (as str), one per comparison group, in sorted order of group key.
    """
    if len(uids) != len(keys):
        raise ValueError(f"comparison_groups_by_key: {len(uids)} uids but {len(keys)} group keys")
    key_of: dict[str, str] = {}
    for uid, key in zip(uids, keys, strict=True):
        uid, key = str(uid), str(key)
        if key_of.setdefault(uid, key) != key:
            raise ValueError(f"image {uid!r} carries two group keys, {key_of[uid]!r} and {key!r}")
    members: dict[str, list[str]] = defaultdict(list)
    for uid in sorted(key_of):
        members[key_of[uid]].append(uid)
    groups = [members[k] for k in sorted(members)]
    if not shuffled:
        return groups
    dealt = [u for group in groups for u in group]
    dealt = [dealt[i] for i in np.random.default_rng(seed).permutation(len(dealt))]
    bounds = np.cumsum([0] + [len(g) for g in groups])
    return [dealt[bounds[i] : bounds[i + 1]] for i in range(len(groups))]


def group_batch_term_rewards(
    spec: RewardSpec,
    uids: Sequence[Hashable],
    keys: Sequence[Hashable],
    preds: Sequence[float | None],
    gt: Sequence[float],
    shuffled: bool = False,
    seed: int = 0,
) -> BatchTermRewards:
    """``rapo_batch_reward.batch_term_rewards`` evaluated within each comparison group of
    :func:`comparison_groups_by_key` (rows of other groups never enter a group's reward)."""
    m = len(uids)
    if not len(keys) == len(preds) == len(gt) == m:
        raise ValueError(
            f"group_batch_term_rewards: {m} uids, {len(keys)} keys, {len(preds)} predictions, {len(gt)} labels"
        )
    groups = comparison_groups_by_key(uids, keys, shuffled, seed)
    group_of = {uid: g for g, members in enumerate(groups) for uid in members}
    row_group = np.array([group_of[str(u)] for u in uids])
    preds_arr = np.array([np.nan if p is None else float(p) for p in preds], dtype=np.float64)
    gt_arr = np.asarray(gt, dtype=np.float64)
    total = np.zeros(m)
    components = {term: np.zeros(m) for term in spec.batch_terms}
    for g in range(len(groups)):
        rows = np.flatnonzero(row_group == g)
        part = batch_term_rewards(spec, [str(uids[r]) for r in rows], preds_arr[rows], gt_arr[rows], None)
        total[rows] = part.total
        for term, values in part.components.items():
            components[term][rows] = values
    return BatchTermRewards(total, components, len(groups))
