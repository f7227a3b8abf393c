"""The RAPO hook's whole surface on verl's batch store: the TransferQueue of verl 0.9.1's v1 trainer.

The hook (``rapo_trainer.RapoTrainer``) touches the batch in two ways, both here:

* :func:`read_rows`: fields of every row of a batch (``uid``, ``rm_scores``, ``reward_model``,
  ``extra_fields``, ``advantages`` ...), with the row keys and verl's padding flags;
* :func:`write_rm_scores`: the rewards, back into ``rm_scores``, before GRPO reads them.

The batch handle is verl's ``transfer_queue.KVBatchMeta``: ``keys`` (``{uid}_{session}_{index}``),
``tags`` (``is_padding`` on the rows verl appends to make the batch divisible) and ``partition_id``.
verl's master is replacing TransferQueue; a port changes this module and the type of the batch
handle the trainer passes around, nothing of the reward math (see recipe/aesr1/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import transfer_queue as tq
from tensordict import TensorDict
from transfer_queue import KVBatchMeta


@dataclass(frozen=True)
class BatchRows:
    """Fields of the M rows of one batch, in the order of ``keys``.

    Attributes:
        keys: verl's row keys, ``{uid}_{session}_{index}``.
        padding: (M,) bool, True for the copies verl appends to make the batch divisible.
        fields: the fields asked for, as the store returns them (tensors dense or jagged, the rest lists).
    """

    keys: list[str]
    padding: np.ndarray
    fields: TensorDict

    def tensor_rows(self, name: str) -> list[torch.Tensor]:
        """One tensor per row of a tensor field, whether the store kept it jagged or dense."""
        value = self.fields[name]
        return list(value.unbind()) if value.is_nested else list(value)


def read_rows(batch: KVBatchMeta, fields: Sequence[str]) -> BatchRows:
    """Read ``fields`` of every row of ``batch`` from the TransferQueue."""
    data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=list(fields))
    padding = np.array([bool(tag.get("is_padding", False)) for tag in batch.tags], dtype=bool)
    return BatchRows(list(batch.keys), padding, data)


def write_rm_scores(batch: KVBatchMeta, rm_scores: Sequence[torch.Tensor]) -> None:
    """Replace ``rm_scores`` of every row of ``batch``: one (response_len,) tensor per row, in key order.

    Stored jagged, as verl's agent loop stores it; the other fields of the rows are left as they are.
    """
    if len(rm_scores) != len(batch.keys):
        raise ValueError(f"write_rm_scores: {len(rm_scores)} tensors for a batch of {len(batch.keys)} rows")
    nested = torch.nested.as_nested_tensor(list(rm_scores), layout=torch.jagged)
    tq.kv_batch_put(
        keys=batch.keys,
        partition_id=batch.partition_id,
        fields=TensorDict({"rm_scores": nested}, batch_size=len(batch.keys)),
    )
