"""The worker side of the hf rollout: verl's ``BaseRollout`` in each actor worker of a replica.

verl builds it in the hybrid worker (``verl/workers/engine_workers.py``, ``get_rollout_class``) and
calls ``update_weights`` after every actor update with a generator of full HF-named tensors. Every
rank consumes the generator (un-sharding is collective); the replica's first rank sends the tensors
to its ``HFRolloutServer`` by Ray actor name.
"""

from __future__ import annotations

import os
from typing import Any, Generator, Optional

import ray
import torch
from verl.workers.rollout.base import BaseRollout

from recipe.aesr1.cpu.hf_server import server_name


class HFServerAdapter(BaseRollout):
    def __init__(self, config: Any, model_config: Any, device_mesh: Any, *args: Any, replica_rank: int = -1, **kwargs: Any) -> None:
        super().__init__(config, model_config, device_mesh)
        rank = int(os.environ.get("RANK", 0))
        world = self.config.tensor_model_parallel_size * self.config.data_parallel_size * self.config.pipeline_model_parallel_size
        self.replica_rank = rank // world if replica_rank == -1 else replica_rank
        self.is_sender = rank % world == 0
        self._server: Optional[ray.actor.ActorHandle] = None

    def _server_handle(self) -> ray.actor.ActorHandle:
        if self._server is None:  # launched after the workers: look it up on first use
            self._server = ray.get_actor(server_name(self.replica_rank))
        return self._server

    async def resume(self, tags: list[str]) -> None: ...

    async def release(self) -> None: ...

    @torch.no_grad()
    async def update_weights(
        self,
        weights: Generator[tuple[str, torch.Tensor], None, None],
        wire_format: str = "named_tensors",
        global_steps: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        if wire_format != "named_tensors":
            raise NotImplementedError(f"the hf rollout takes full tensors (named_tensors), not {wire_format!r}")
        named = {}
        for name, tensor in weights:  # every rank iterates: gathering a shard is a collective
            if hasattr(tensor, "full_tensor"):  # a DTensor shard: gather it (collective)
                tensor = tensor.full_tensor()
            if self.is_sender:
                named[name] = tensor.detach().to("cpu", copy=True)
        if self.is_sender:
            await self._server_handle().update_weights.remote(named, global_steps)
