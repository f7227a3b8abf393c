"""The cross-image part of the reward on verl's flat list of trajectories (no verl, no Ray).

verl hands the trainer a flat batch: one row per output, each with its image's ``uid``. The batch
terms of ``reward_fns`` (rank Eqs. 3-5 of Aes-R1, Thurstone, consistency) want an (N images, K
outputs) array. This module groups the rows by ``uid``, splits the images into comparison groups
(the whole batch, or chunks of ``rank_group_size`` images), evaluates the batch terms in each group
and scatters the weighted sum back to the rows.

Thread policy: the batch terms run with at most :data:`BATCH_TERM_THREADS` torch intra-op threads (see
there); every caller (the training hook, grouped batches, validation) goes through this module.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from reward_fns import RewardSpec, compute_rewards, group_by_id

# The hook runs in verl's driver process, next to the Ray actors of the same node (rollout servers, FSDP
# workers, reward workers): its cores are busy by design. torch's intra-op threads then contend with those
# processes, and a parallel region waits for its slowest thread, so one descheduled thread stalls every
# step of the kernel: rank reward at 512 images x K 4 took 4-7 ms on a quiet machine, 25-97 ms on a busy
# one with 2 threads, ~6.5 ms with 1 (issue 26). At the paper's batch sizes the O(N^2 K) term is ~1e6
# elements, milliseconds on one core, so a quiet machine loses little by the bound and a busy one keeps
# its quiet-time cost; benchmarks/bench_rewards.py measures both, under a load it makes itself.
BATCH_TERM_THREADS = 1


@contextmanager
def torch_threads(limit: int) -> Iterator[None]:
    """Run the block with at most ``limit`` torch intra-op threads (never more than the caller had), then
    restore the caller's count, also on an error."""
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, min(previous, limit)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class BatchTermRewards:
    """Batch terms of one training batch, in the order of the input rows.

    Attributes:
        total: (M,) weighted sum of the batch terms per row (0 when the reward has none).
        components: term -> (M,) unweighted value per row.
        chunks: number of comparison groups the images were split into.
    """

    total: np.ndarray
    components: dict[str, np.ndarray]
    chunks: int


def comparison_groups(uids: Sequence[Hashable], group_size: int | None) -> list[list[str]]:
    """Split the distinct image ids into the groups whose images are ranked against each other.

    ``group_size=None`` gives one group: the whole batch (Sec. 3.3's "mini training batch").
    Otherwise the ids are sorted (verl's uids are uuid4 strings, so the order is random and
    independent of sequence length or dataset order) and cut into chunks of ``group_size``; the last
    chunk holds the remainder, and an image alone in its chunk earns 0 from the batch terms.
    """
    ids = sorted({str(u) for u in uids})
    if group_size is None:
        return [ids]
    if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)) or group_size < 2:
        raise ValueError(f"rapo.rank_group_size must be null or an integer >= 2, got {group_size!r}")
    return [ids[i : i + group_size] for i in range(0, len(ids), group_size)]


def batch_term_rewards(
    spec: RewardSpec,
    uids: Sequence[Hashable],
    preds: Sequence[float | None],
    gt: Sequence[float],
    group_size: int | None = None,
) -> BatchTermRewards:
    """Weighted batch terms of ``spec`` for every row of a flat batch.

    Args:
        spec: the parsed reward; only its ``batch_terms`` are evaluated here.
        uids: (M,) image id per row (verl's ``uid``); rows of one image share a label.
        preds: (M,) parsed score per row, None or NaN where the answer did not parse.
        gt: (M,) label per row.
        group_size: None (compare across the whole batch) or images per comparison group.
    """
    m = len(uids)
    if len(preds) != m or len(gt) != m:
        raise ValueError(f"batch_term_rewards: {m} uids, {len(preds)} predictions and {len(gt)} labels")
    groups = comparison_groups(uids, group_size)
    total = np.zeros(m)
    components = {term: np.zeros(m) for term in spec.batch_terms}
    if not spec.batch_terms:
        return BatchTermRewards(total, components, len(groups))
    uid_str = [str(u) for u in uids]
    group_of = {uid: g for g, group in enumerate(groups) for uid in group}
    row_group = np.array([group_of[u] for u in uid_str])
    preds_arr = np.array([np.nan if p is None else float(p) for p in preds], dtype=np.float64)
    gt_arr = np.asarray(gt, dtype=np.float64)
    with torch_threads(BATCH_TERM_THREADS):
        for g in range(len(groups)):
            rows = np.flatnonzero(row_group == g)
            grouped = group_by_id([uid_str[r] for r in rows], preds_arr[rows], gt_arr[rows])
            breakdown = compute_rewards(spec, grouped.preds, grouped.valid, grouped.gt, scope="batch")
            total[rows] = grouped.to_flat(breakdown.total)
            for term, values in breakdown.components.items():
                components[term][rows] = grouped.to_flat(values)
    return BatchTermRewards(total, components, len(groups))
