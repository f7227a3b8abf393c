"""From verl's flat list of trajectories (one uid per prompt, K rollouts each, any order) to the
(N, K) batch interface and back. Groups may be ragged (K differs); padding is marked invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class GroupedBatch:
    """Flat trajectories arranged as (N images, K_max outputs).

    ``index[i, k]`` is the flat position of output ``k`` of image ``i`` (-1 for padding);
    ``ids`` lists the group ids in order of first appearance.
    """

    ids: list[Hashable]
    preds: np.ndarray  # (N, K_max) float64, NaN where missing
    valid: np.ndarray  # (N, K_max) bool
    gt: np.ndarray  # (N,) float64
    index: np.ndarray  # (N, K_max) int64

    def to_flat(self, values: ArrayLike) -> np.ndarray:
        """Scatter (N, K_max) values back to the flat order of the input (length M)."""
        values = np.asarray(values)
        if values.shape != self.index.shape:
            raise ValueError(f"to_flat: expected shape {self.index.shape}, got {values.shape}")
        out = np.empty(int((self.index >= 0).sum()), dtype=values.dtype)
        mask = self.index >= 0
        out[self.index[mask]] = values[mask]
        return out


def group_by_id(group_ids: Sequence[Hashable], scores: Sequence[float | None], gt: ArrayLike) -> GroupedBatch:
    """Group flat outputs by image id.

    Args:
        group_ids: length-M ids (verl's ``uid``), one per trajectory.
        scores: length-M parsed scores; None or NaN for an unparseable output.
        gt: length-M labels; all outputs of one id must carry the same label.
    """
    m = len(group_ids)
    scores = np.array([np.nan if s is None else s for s in scores], dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if scores.shape != (m,) or gt.shape != (m,):
        raise ValueError(f"group_by_id: {m} ids but {scores.shape[0]} scores and {gt.shape[0] if gt.ndim else 0} labels")
    if m == 0:
        raise ValueError("group_by_id: empty batch")
    keys, first, inverse = np.unique(np.asarray(group_ids, dtype=object).astype(str), return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # groups in order of first appearance
    rank_of = np.empty_like(order)
    rank_of[order] = np.arange(order.size)
    group = rank_of[inverse]
    counts = np.bincount(group)
    slot = np.empty(m, dtype=np.int64)  # position of each output inside its group, in input order
    sorter = np.argsort(group, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot[sorter] = np.arange(m) - np.repeat(starts, counts)
    n, k_max = counts.size, counts.max()
    index = np.full((n, k_max), -1, dtype=np.int64)
    index[group, slot] = np.arange(m)
    group_gt = gt[sorter[starts]]
    if not np.allclose(gt, group_gt[group], equal_nan=False):
        bad = int(np.flatnonzero(~np.isclose(gt, group_gt[group]))[0])
        raise ValueError(f"group_by_id: outputs of id {group_ids[bad]!r} carry different labels ({gt[bad]} vs {group_gt[group[bad]]})")
    preds = np.full((n, k_max), np.nan)
    preds[group, slot] = scores
    valid = np.zeros((n, k_max), dtype=bool)
    valid[group, slot] = np.isfinite(scores)
    return GroupedBatch([group_ids[i] for i in first[order]], preds, valid, group_gt, index)


def group_blocks(groups: Sequence[Hashable]) -> list[np.ndarray]:
    """Image indices of every comparison group, stacked by group size.

    Args:
        groups: (N,) one hashable group id per image.

    Returns:
        One (G_s, s) int64 array per distinct group size s: row g lists, in input order, the images of
        the g-th group of that size. ``preds[block]`` is then a (G_s, s, K) stack that a batch term
        evaluates in one call, so a batch costs one call per distinct size, not one per group.
    """
    codes: dict[Hashable, int] = {}
    code = np.fromiter((codes.setdefault(g, len(codes)) for g in groups), dtype=np.int64, count=len(groups))
    size = np.bincount(code)[code]  # size of each image's group
    order = np.lexsort((np.arange(code.size), code, size))  # by group size, then group, then input order
    blocks = []
    for s in np.unique(size):
        members = order[size[order] == s]
        blocks.append(members.reshape(-1, int(s)))
    return blocks
