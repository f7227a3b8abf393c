"""Which images the batch reward terms compare, and those terms on verl's flat rows.

The batch terms of ``reward_fns`` (rank Eqs. 3-5 of Aes-R1, Thurstone, RED-Aes consistency) compare an
output of image ``i`` with the other images of ``i``'s *comparison group*. Three keys of the ``rapo``
config section choose the groups; :class:`ComparisonScope` is built from them once and gives every row
of a batch its group id:

* nothing set (default): one group, the whole training batch (Sec. 3.3's "mini training batch");
* ``rapo.rank_group_size: n``: the batch's distinct uids, sorted (verl's uids are uuid4 strings, so the
  order is random and independent of sequence length or dataset order), cut into chunks of ``n``
  images; the last chunk holds the remainder (what the released Aes-R1 code does with ``n = 8``);
* ``rapo.group_key: <field>``: the images sharing ``extra_info[<field>]`` (RED-Aes Stage 3:
  ``group_id``, one source image and its edits, red-aes-paper.md Eq. 4). Training batches then hold
  whole groups (``recipe.aesr1.rapo.whole_groups``);
* ``rapo.shuffled_groups: true`` (with ``group_key``): RED-Aes Table 2's shuffled-batch ablation: the
  batch's images are dealt at random into groups of the same sizes as the true groups, a new deal each
  training step. Dealt within the batch only: with B groups of n images a dealt pair comes from one
  source with probability (n - 1) / (B n - 1), 7 / 31 = 22.6% for 4 groups of 8.

``rank_group_size`` and ``group_key`` exclude each other. An image alone in its group earns 0 from the
batch terms. Validation (``recipe.aesr1.rapo.validation``) compares within each data source in chunks of
``rank_group_size``, else of ``data.train_batch_size`` images (:meth:`ComparisonScope.for_validation`;
groups by key are a training-set notion). The reward bench uses the same scope on its simulated batches.

Thread policy: the batch terms run with at most :data:`BATCH_TERM_THREADS` torch intra-op threads (see
there); every caller (the training hook, validation) goes through :func:`batch_term_rewards`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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
class ComparisonScope:
    """The comparison groups of the batch terms, from the config keys of the same names (see the module).

    Construct with :meth:`from_config` (or directly); invalid combinations raise ValueError naming the
    config key at fault.
    """

    rank_group_size: int | None = None
    group_key: str | None = None
    shuffled_groups: bool = False

    def __post_init__(self) -> None:
        size, key, shuffled = self.rank_group_size, self.group_key, self.shuffled_groups
        if size is not None and (isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2):
            raise ValueError(f"config key rapo.rank_group_size must be null or an integer >= 2, got {size!r}")
        if key is not None and (not isinstance(key, str) or not key):
            raise ValueError(f"config key rapo.group_key must be null or a non-empty extra_info field name, got {key!r}")
        if not isinstance(shuffled, bool):
            raise ValueError(f"config key rapo.shuffled_groups must be true or false, got {shuffled!r}")
        if shuffled and key is None:
            raise ValueError("config key rapo.shuffled_groups=true needs rapo.group_key (the groups to shuffle)")
        if key is not None and size is not None:
            raise ValueError("config keys rapo.group_key and rapo.rank_group_size both set a comparison scope; set one")

    @classmethod
    def from_config(cls, rapo: Mapping) -> ComparisonScope:
        """From the ``rapo`` section of the config (``rank_group_size``, ``group_key``, ``shuffled_groups``)."""
        return cls(rapo.get("rank_group_size"), rapo.get("group_key"), rapo.get("shuffled_groups", False))

    def for_validation(self, train_batch_size: int) -> ComparisonScope:
        """Validation's scope: chunks of ``rank_group_size``, else of ``train_batch_size`` (at least 2) images."""
        return ComparisonScope(rank_group_size=max(2, int(self.rank_group_size or train_batch_size)))

    def group_ids(
        self, uids: Sequence[Hashable], extra_infos: Sequence[Any] | None = None, step: int = 0
    ) -> list[Hashable]:
        """The comparison-group id of every row of a batch.

        Args:
            uids: (M,) image id per row (verl's ``uid``; the K outputs of an image share it). Chunks follow
                their sorted order, so they must be mutually orderable (verl's are strings).
            extra_infos: (M,) ``extra_info`` dict per row; needed only with ``group_key``.
            step: the training step, the seed of the shuffled-groups deal (a new deal each step).

        Returns:
            (M,) hashable group ids; rows of one image always share one.

        Raises:
            ValueError: a row without ``extra_info[group_key]``, or an image whose rows carry two keys.
        """
        if self.group_key is not None:
            if extra_infos is None or len(extra_infos) != len(uids):
                raise ValueError(f"rapo.group_key={self.group_key}: need one extra_info per row for {len(uids)} rows")
            keys = group_ids_from_extra_info(extra_infos, self.group_key)
            group_of = _groups_by_key(uids, keys, self.shuffled_groups, step)
            return [group_of[uid] for uid in uids]
        if self.rank_group_size is None:
            return [0] * len(uids)
        chunk_of = {uid: i // self.rank_group_size for i, uid in enumerate(sorted(set(uids)))}
        return [chunk_of[uid] for uid in uids]


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


def _groups_by_key(uids: Sequence[Hashable], keys: Sequence[str], shuffled: bool, seed: int) -> dict[Hashable, Hashable]:
    """uid -> group: its key, or for the shuffled ablation the index of the dealt group it landed in.

    The deal: uids sorted within each group, groups in sorted key order, the concatenation permuted
    with ``np.random.default_rng(seed)`` and cut back into the true groups' sizes.
    """
    key_of: dict[Hashable, str] = {}
    for uid, key in zip(uids, keys, strict=True):
        if key_of.setdefault(uid, key) != key:
            raise ValueError(f"image {uid!r} carries two group keys, {key_of[uid]!r} and {key!r}")
    if not shuffled:
        return dict(key_of)
    members: dict[str, list[Hashable]] = defaultdict(list)
    for uid in sorted(key_of):
        members[key_of[uid]].append(uid)
    sizes = [len(members[k]) for k in sorted(members)]
    dealt = [uid for k in sorted(members) for uid in members[k]]
    dealt = [dealt[i] for i in np.random.default_rng(seed).permutation(len(dealt))]
    group = np.repeat(np.arange(len(sizes)), sizes)
    return {uid: int(g) for uid, g in zip(dealt, group, strict=True)}


@dataclass(frozen=True)
class BatchTermRewards:
    """Batch terms of one batch, in the order of the input rows.

    Attributes:
        total: (M,) weighted sum of the batch terms per row (0 when the reward has none).
        components: term -> (M,) unweighted value per row.
    """

    total: np.ndarray
    components: dict[str, np.ndarray]


def batch_term_rewards(
    spec: RewardSpec,
    uids: Sequence[Hashable],
    preds: Sequence[float | None],
    gt: Sequence[float],
    groups: Sequence[Hashable] | None = None,
) -> BatchTermRewards:
    """Weighted batch terms of ``spec`` for every row of a flat batch, each image compared within its group.

    Groups the rows by uid into ``reward_fns``' (N images, K outputs) interface, evaluates the batch
    terms with ``compute_rewards(..., groups=...)`` and scatters them back to the rows.

    Args:
        spec: the parsed reward; only its ``batch_terms`` are evaluated here.
        uids: (M,) image id per row (verl's ``uid``); rows of one image share a label.
        preds: (M,) parsed score per row, None or NaN where the answer did not parse.
        gt: (M,) label per row.
        groups: (M,) comparison-group id per row (:meth:`ComparisonScope.group_ids`); None: the whole batch.
    """
    m = len(uids)
    if len(preds) != m or len(gt) != m or (groups is not None and len(groups) != m):
        sizes = f"{len(preds)} predictions, {len(gt)} labels" + ("" if groups is None else f", {len(groups)} group ids")
        raise ValueError(f"batch_term_rewards: {m} uids, {sizes}")
    total = np.zeros(m)
    components = {term: np.zeros(m) for term in spec.batch_terms}
    if not spec.batch_terms or m == 0:
        return BatchTermRewards(total, components)
    preds_arr = np.array([np.nan if p is None else float(p) for p in preds], dtype=np.float64)
    grouped = group_by_id(list(uids), preds_arr, np.asarray(gt, dtype=np.float64))
    image_groups = None
    if groups is not None:
        image_groups = [groups[row] for row in grouped.index[:, 0]]  # the group of each image's first row
        row_image = grouped.to_flat(np.repeat(np.arange(len(image_groups))[:, None], grouped.index.shape[1], axis=1))
        split = [r for r in range(m) if groups[r] != image_groups[row_image[r]]]
        if split:
            raise ValueError(f"batch_term_rewards: the rows of image {uids[split[0]]!r} carry different group ids")
    with torch_threads(BATCH_TERM_THREADS):
        breakdown = compute_rewards(spec, grouped.preds, grouped.valid, grouped.gt, scope="batch", groups=image_groups)
    total[:] = grouped.to_flat(breakdown.total)
    for term, values in breakdown.components.items():
        components[term][:] = grouped.to_flat(values)
    return BatchTermRewards(total, components)
