"""RAPO's group-aware reward hook: verl's synchronous v1 PPO trainer plus the cross-image reward.

verl 0.9.1 scores each output alone in its reward loop (``recipe.aesr1.rapo.reward`` gives the
per-sample terms and the parsed score). The rank reward of Aes-R1 (Eqs. 3-5) compares an output with
the other images of the batch, so it can only be computed once every rollout of the batch is in.
:class:`RapoTrainer` overrides the one method that runs at that point, ``_compute_advantage``:

1. read ``uid``, ``rm_scores``, ``reward_model`` and ``extra_fields`` of the batch from verl's batch store;
2. add the weighted batch terms (Eq. 7: ``r = r_rank + r_abs``) to each output's reward, which verl
   keeps on the last response token of ``rm_scores``, and write ``rm_scores`` back;
3. log ``rapo/*`` metrics, then call verl's own ``_compute_advantage`` (GRPO, Eq. 9).

Both touches of the batch store (verl 0.9.1's TransferQueue) go through ``rapo.batch_store``.
Which images the batch terms compare is the run's :class:`recipe.aesr1.rapo.scope.ComparisonScope`.
It also adds the same batch terms to verl's validation reward (``rapo.validation``), checks the processor
at start-up (``processor_check``) and logs the prompts verl's dataset dropped (``rapo.dataset``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from omegaconf import DictConfig
from transfer_queue import KVBatchMeta
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync

from recipe.aesr1.rapo.batch_store import BatchRows, read_rows, write_rm_scores
from recipe.aesr1.rapo.config import check_rapo_config
from recipe.aesr1.rapo.metrics import advantage_image_means, rapo_step_metrics
from recipe.aesr1.rapo.processor_check import check_processor
from recipe.aesr1.rapo.reward import PRED_KEY
from recipe.aesr1.rapo.scope import ComparisonScope, batch_term_rewards
from recipe.aesr1.rapo.validation import add_validation_batch_terms
from recipe.aesr1.rapo.whole_groups import use_whole_group_loader
from reward_fns import RewardSpec

HOOK_FIELDS = ["uid", "rm_scores", "reward_model", "extra_fields"]


@dataclass(frozen=True)
class Trajectories:
    """What the hook needs from one batch of M rows, in the order of ``batch.keys``.

    ``scored[i]`` is True for the rows the batch terms are computed on: the last output of each
    rollout session (verl's GRPO reads only those; single-turn rollouts have one output per session),
    minus the synthetic rows verl appends to make the batch divisible (``tags[i]["is_padding"]``;
    they copy a real row's label and prediction under a new uid and must not act as an image).
    """

    uids: list[str]
    preds: np.ndarray  # (M,) parsed score, NaN where the answer did not parse
    gt: np.ndarray  # (M,) label
    sample_terms: dict[str, np.ndarray]  # term -> (M,) per-sample values from the reward loop
    rm_scores: list[torch.Tensor]  # M tensors of (response_len,), reward on the last token
    scored: np.ndarray  # (M,) bool


def final_outputs(keys: list[str]) -> np.ndarray:
    """(M,) bool: rows that are the last output of their session (key ``{uid}_{session}_{index}``)."""
    last: dict[str, tuple[int, int]] = {}
    for row, key in enumerate(keys):
        parts = key.rsplit("_", 2)
        if len(parts) != 3 or not parts[2].isdigit():
            raise ValueError(f"unexpected TransferQueue key {key!r}; verl writes '{{uid}}_{{session}}_{{index}}'")
        session, index = f"{parts[0]}_{parts[1]}", int(parts[2])
        if session not in last or last[session][0] < index:
            last[session] = (index, row)
    final = np.zeros(len(keys), dtype=bool)
    final[[row for _, row in last.values()]] = True
    return final


def read_trajectories(rows: BatchRows, spec: RewardSpec) -> Trajectories:
    """Unpack the hook's fields (``HOOK_FIELDS``) of one batch."""
    keys, data = rows.keys, rows.fields
    infos = []
    for key, extra in zip(keys, list(data["extra_fields"]), strict=True):
        info = extra.get("reward_extra_info") if isinstance(extra, dict) else None
        if not info or PRED_KEY not in info:
            raise ValueError(
                f"trajectory {key!r} has no reward_extra_info[{PRED_KEY!r}]: RAPO needs "
                "reward.custom_reward_function.path=pkg://recipe.aesr1.rapo.reward"
            )
        infos.append(info)
    rm_rows = [row.clone() for row in rows.tensor_rows("rm_scores")]
    return Trajectories(
        uids=[str(u) for u in list(data["uid"])],
        preds=np.array([info[PRED_KEY] for info in infos], dtype=np.float64),
        gt=np.array([float(r["ground_truth"]) for r in list(data["reward_model"])], dtype=np.float64),
        sample_terms={t: np.array([info[t] for info in infos], dtype=np.float64) for t in spec.sample_terms},
        rm_scores=rm_rows,
        scored=final_outputs(keys) & ~rows.padding,
    )


class RapoTrainer(PPOTrainerSync):
    """verl's synchronous PPO trainer with RAPO's batch-level reward added before the advantage."""

    def __init__(self, config: DictConfig):
        super().__init__(config)
        self.reward_spec = check_rapo_config(config)
        self.scope = ComparisonScope.from_config(config.rapo)

    def _init_dataloader(self) -> None:
        data = self.config.data
        check_processor(self.processor, self.config.actor_rollout_ref.model.path, data.get("image_patch_size") or 14)
        super()._init_dataloader()  # data.custom_cls (rapo.dataset.CountedRLHFDataset) counts and bounds the filter
        self.data_metrics = {}
        for split, dataset in (("train", self.train_dataset), ("val", self.val_dataset)):
            count = getattr(dataset, "filter_count", None)
            if count is not None:
                self.data_metrics |= count.metrics(split)
        if self.scope.group_key:  # every training batch holds whole groups; steps per epoch from that sampler
            use_whole_group_loader(self, self.scope.group_key)

    def _val_metrics_update(self, data_sources, sample_uids, reward_extra_infos_dict, sample_turns, **kwargs) -> dict:
        """verl's validation metrics, after adding the batch terms to the validation reward.

        The images are compared in the chunks of :meth:`ComparisonScope.for_validation`.
        """
        scope = self.scope.for_validation(self.config.data.train_batch_size)
        rapo = add_validation_batch_terms(self.reward_spec, data_sources, sample_uids, reward_extra_infos_dict, scope)
        verl = super()._val_metrics_update(data_sources, sample_uids, reward_extra_infos_dict, sample_turns, **kwargs)
        return verl | rapo

    def _compute_advantage(self, batch: KVBatchMeta, metrics: dict) -> KVBatchMeta:
        self._add_batch_terms(batch, metrics)
        batch = super()._compute_advantage(batch, metrics)
        self._log_advantage_check(batch, metrics)
        return batch

    def _log_advantage_check(self, batch: KVBatchMeta, metrics: dict) -> None:
        """``rapo/advantage/max_abs_image_mean`` from the advantages verl wrote (see rapo.metrics)."""
        read = read_rows(batch, ["uid", "advantages", "response_mask"])
        scored = final_outputs(read.keys) & ~read.padding
        rows, mask_rows = read.tensor_rows("advantages"), read.tensor_rows("response_mask")
        uids = [str(u) for u in list(read.fields["uid"])]
        values = [float(rows[i][mask_rows[i].bool()][0]) if mask_rows[i].any() else 0.0 for i in np.flatnonzero(scored)]
        metrics["rapo/advantage/max_abs_image_mean"] = advantage_image_means([uids[i] for i in np.flatnonzero(scored)], values)

    def _add_batch_terms(self, batch: KVBatchMeta, metrics: dict) -> None:
        """Add the weighted batch terms to ``rm_scores`` in verl's batch store and log ``rapo/*``."""
        read = read_rows(batch, HOOK_FIELDS + (["extra_info"] if self.scope.group_key else []))
        traj = read_trajectories(read, self.reward_spec)
        rows = np.flatnonzero(traj.scored)
        uids = [traj.uids[i] for i in rows]
        infos = [list(read.fields["extra_info"])[i] for i in rows] if self.scope.group_key else None
        step = getattr(self, "global_steps", 0)  # a new deal each step (shuffled-groups ablation)
        groups = self.scope.group_ids(uids, infos, step)
        added = batch_term_rewards(self.reward_spec, uids, traj.preds[rows], traj.gt[rows], groups)
        for row, value in zip(rows, added.total, strict=True):
            traj.rm_scores[row][-1] += float(value)
        if self.reward_spec.batch_terms:
            write_rm_scores(batch, traj.rm_scores)
        terms = {t: v[rows] for t, v in traj.sample_terms.items()} | added.components
        metrics.update(getattr(self, "data_metrics", {}))
        metrics.update(
            rapo_step_metrics(
                uids=uids,
                preds=traj.preds[rows],
                gt=traj.gt[rows],
                term_values=terms,
                total_reward=[float(traj.rm_scores[i].sum()) for i in rows],
                response_lengths=[traj.rm_scores[i].numel() for i in rows],
            )
        )
