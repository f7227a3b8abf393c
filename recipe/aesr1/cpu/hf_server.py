"""An HF-transformers rollout server for verl 0.9.1's v1 trainer, for machines without vLLM/SGLang.

verl's trainer talks to rollout *servers* (Ray actors) through ``generate(prompt_ids, sampling_params,
request_id, image_data, ...) -> TokenOutput`` (the contract of ``vLLMHttpServer.generate``), and
launches them through a ``RolloutReplica`` found by ``actor_rollout_ref.rollout.name`` in
``RolloutReplicaRegistry`` (registered as ``hf`` by ``recipe.aesr1.cpu``). This server holds its own
copy of the HF model, receives the actor's weights from ``HFServerAdapter.update_weights`` after
every actor update (so rollouts come from the current policy), and batches the requests that arrive
together into one ``model.generate`` call per sampling setting. Its model inputs come from
``GenerationInputs``, the builder the evaluation's transformers backend uses: image tokens get the
same M-RoPE positions as in verl's actor, so the rollout samples from the policy being trained
(``training/rollout_actor_probs_pearson_corr`` >= 0.999 with ``rollout.calculate_log_probs``).

Only the hybrid mode is supported (rollout colocated with the actor workers, verl's default).
It is a correctness path for CPU runs and tests, not a fast one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

import ray
import torch
from transformers import LogitsProcessorList
from verl.workers.rollout.replica import RolloutMode, RolloutReplica, TokenOutput

from recipe.aesr1.cpu.seeded_sampling import GumbelSampler, request_digest, request_seed

logger = logging.getLogger(__name__)

SERVER_NAME = "hf_server_{replica_rank}_{node_rank}"
MAX_BATCH = 64
"""Requests generated together at most (they arrive in a burst: batch x n per step)."""


def server_name(replica_rank: int, node_rank: int = 0) -> str:
    return SERVER_NAME.format(replica_rank=replica_rank, node_rank=node_rank)


@dataclass
class _Request:
    prompt_ids: list[int]
    images: Optional[list[Any]]
    max_tokens: int
    seed: int
    done: asyncio.Future = field(repr=False)


class HFRolloutServer:
    """A Ray actor that generates with ``transformers`` (see the module docstring)."""

    def __init__(self, config: Any, model_config: Any, replica_rank: int = 0) -> None:
        from transformers import (
            AutoModelForImageTextToText,
            AutoProcessor,
            AutoTokenizer,
            GenerationConfig,
        )
        from verl.utils.config import omega_conf_to_dataclass
        from verl.workers.config import HFModelConfig
        from verl.workers.rollout.utils import get_vision_placeholder_token_ids

        from recipe.aesr1.scoring.backends.generation_inputs import GenerationInputs

        self.config = omega_conf_to_dataclass(config)  # as verl's own servers take them (vllm_async_server.py)
        self.replica_rank = replica_rank
        self.global_steps: Optional[int] = None
        path = omega_conf_to_dataclass(model_config, dataclass_type=HFModelConfig).local_path
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.processor = AutoProcessor.from_pretrained(path)
        self.model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32).eval()
        generation = GenerationConfig.from_model_config(self.model.config)
        self.eos_token_ids = self._eos_ids(generation)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_token_ids[0]
        self.inputs = GenerationInputs(self.model, self.tokenizer, self.processor.image_processor, pad)
        # A sampled <|image_pad|> has no image behind it and crashes get_rope_index downstream.
        self.suppressed = get_vision_placeholder_token_ids(self.processor)
        self._queues: dict[tuple, list[_Request]] = {}
        self._lock = asyncio.Lock()
        self._draws: Counter = Counter()  # (sampling key, request digest) -> draws so far in this step
        self._draws_step: Optional[int] = None

    def _eos_ids(self, generation: Any) -> list[int]:
        eos = generation.eos_token_id if generation.eos_token_id is not None else self.tokenizer.eos_token_id
        return [eos] if isinstance(eos, int) else list(eos)

    # --- verl's generate contract ----------------------------------------------------------------

    async def generate(
        self,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        request_id: str,
        image_data: Optional[list[Any]] = None,
        video_data: Optional[list[Any]] = None,
        **kwargs: Any,
    ) -> TokenOutput:
        if video_data:
            raise ValueError("the hf rollout server takes images only, got video_data")
        params = dict(sampling_params)
        max_tokens = params.pop("max_tokens", params.pop("max_new_tokens", None))
        if max_tokens is None:
            max_tokens = min(
                self.config.response_length, self.config.prompt_length + self.config.response_length - len(prompt_ids)
            )
        want_logprobs = bool(params.pop("logprobs", False))
        key = (
            float(params.get("temperature", self.config.temperature)),
            float(params.get("top_p", self.config.top_p)),
            int(params.get("top_k", self.config.top_k) or -1),
            want_logprobs,
        )
        loop = asyncio.get_running_loop()
        prompt_ids = list(map(int, prompt_ids))
        request = _Request(prompt_ids, image_data, max(1, int(max_tokens)), self._next_seed(prompt_ids, image_data, key),
                           loop.create_future())
        self._queues.setdefault(key, []).append(request)
        await asyncio.sleep(0.02)  # let the rest of the burst arrive, then one of them runs the batch
        async with self._lock:
            while not request.done.done():
                batch = self._queues[key][:MAX_BATCH]
                del self._queues[key][: len(batch)]
                results = await asyncio.to_thread(self._generate_batch, batch, key)
                for item, result in zip(batch, results):
                    item.done.set_result(result)
        token_ids, log_probs = request.done.result()
        return TokenOutput(
            token_ids=token_ids,
            log_probs=log_probs,
            stop_reason="completed",
            extra_fields={"global_steps": self.global_steps},
        )

    def _next_seed(self, prompt_ids: list[int], images: Optional[list[Any]], key: tuple) -> int:
        """The seed of this request's draw: the K copies of one prompt in a step get K different ones."""
        digest = request_digest(prompt_ids, images)
        if self._draws_step != self.global_steps:  # a new step counts its draws afresh
            self._draws, self._draws_step = Counter(), self.global_steps
        draw = self._draws[(key, digest)]
        self._draws[(key, digest)] += 1
        return request_seed(int(self.config.seed or 0) + self.replica_rank, self.global_steps, digest + repr(key).encode(), draw)

    @torch.no_grad()
    def _generate_batch(self, batch: list[_Request], key: tuple) -> list[tuple[list[int], Optional[list[float]]]]:
        temperature, top_p, top_k, want_logprobs = key
        inputs = self.inputs([item.prompt_ids for item in batch], [item.images for item in batch])
        width = inputs["input_ids"].shape[1]
        # Greedy search over seeded Gumbel-max scores (seeded_sampling.py): each request's draw depends on its
        # own seed, not on its batch. Every knob explicit: transformers would fill unset ones from the
        # checkpoint's generation_config.json or its global defaults (top_k = 50, a truncation verl did not ask for).
        sampling: dict[str, Any] = {"do_sample": False, "repetition_penalty": 1.0}
        if temperature > 0:
            sampling["logits_processor"] = LogitsProcessorList(
                [GumbelSampler([item.seed for item in batch], temperature, top_k=max(top_k, 0), top_p=top_p)]
            )
        output = self.model.generate(
            **inputs,
            **sampling,
            max_new_tokens=max(item.max_tokens for item in batch),
            eos_token_id=self.eos_token_ids,
            pad_token_id=self.inputs.pad_id,
            suppress_tokens=self.suppressed or None,
            output_logits=want_logprobs,
            return_dict_in_generate=True,
        )
        generated = output.sequences[:, width:]
        logprobs = None
        if want_logprobs:
            # Temperature-scaled, as verl asks vLLM for them (logprobs_mode "processed_logprobs") and as the
            # actor computes old_log_probs (logits / rollout.temperature); top-p/top-k renormalisation is
            # left out on both sides.
            logits = torch.stack(output.logits, dim=1).float()
            if temperature > 0:
                logits = logits / temperature
            logprobs = torch.log_softmax(logits, dim=-1).gather(-1, generated.unsqueeze(-1)).squeeze(-1)
        results = []
        for row, item in enumerate(batch):
            tokens = generated[row].tolist()[: item.max_tokens]
            for position, token in enumerate(tokens):
                if token in self.eos_token_ids:  # keep the stop token, drop the padding after it
                    tokens = tokens[: position + 1]
                    break
            row_logprobs = logprobs[row, : len(tokens)].tolist() if logprobs is not None else None
            results.append((tokens, row_logprobs))
        return results

    # --- weights from the actor ------------------------------------------------------------------

    def update_weights(self, named_tensors: dict[str, torch.Tensor], global_steps: Optional[int] = None) -> int:
        """Load the actor's full (unsharded) HF-named tensors; every model tensor must be among them."""
        own = self.model.state_dict()
        unknown = sorted(set(named_tensors) - set(own))
        if unknown:
            raise KeyError(f"hf rollout server: {len(unknown)} tensors from the actor are not in the model, e.g. {unknown[:5]}")
        missing = sorted(set(own) - set(named_tensors) - self._tied_names())
        if missing:
            raise KeyError(f"hf rollout server: the actor sent no values for {len(missing)} tensors, e.g. {missing[:5]}")
        self.model.load_state_dict(named_tensors, strict=False)
        if global_steps is not None:
            self.global_steps = global_steps
        return len(named_tensors)

    def _tied_names(self) -> set[str]:
        if getattr(self.model.config, "tie_word_embeddings", False) or getattr(
            getattr(self.model.config, "text_config", None), "tie_word_embeddings", False
        ):
            return {name for name in self.model.state_dict() if name.startswith("lm_head.")}
        return set()

    async def set_global_steps(self, global_steps: int) -> None:
        self.global_steps = global_steps

    # --- lifecycle calls verl makes on every server (nothing to free on a CPU) ---------------------

    def get_server_address(self) -> tuple[str, int]:
        return "127.0.0.1", 0  # no HTTP endpoint: token-in-token-out through the actor handle only

    async def wake_up(self, tags: Optional[list[str]] = None) -> None: ...

    async def sleep(self) -> None: ...

    async def clear_kv_cache(self) -> None: ...

    async def release_kv_cache(self) -> None: ...

    async def resume_kv_cache(self) -> None: ...

    async def abort_all_requests(self, reject_request: bool = False, **kwargs: Any) -> dict[str, Any]:
        return {}

    async def resume_generation(self) -> None: ...

    async def wait_for_requests_to_drain(self) -> None: ...

    async def start_profile(self, **kwargs: Any) -> None: ...

    async def stop_profile(self) -> None: ...


class HFReplica(RolloutReplica):
    """One ``HFRolloutServer`` per replica, on the node of the replica's first worker (hybrid mode)."""

    async def launch_servers(self) -> None:
        if self.rollout_mode != RolloutMode.HYBRID:
            raise NotImplementedError(f"the hf rollout supports the hybrid mode only, not {self.rollout_mode}")
        node_id = await self.workers[0].__ray_call__.remote(lambda worker: ray.get_runtime_context().get_node_id())
        server = (
            ray.remote(HFRolloutServer)
            .options(
                name=server_name(self.replica_rank),
                num_cpus=0,  # the workers hold the cores; generation runs between their steps
                max_concurrency=self.max_concurrency,
                scheduling_strategy=ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
            )
            .remote(config=self.config, model_config=self.model_config, replica_rank=self.replica_rank)
        )
        address, port = await server.get_server_address.remote()
        self.servers = [server]
        self._server_handle = server
        self._server_address = f"{address}:{port}"
