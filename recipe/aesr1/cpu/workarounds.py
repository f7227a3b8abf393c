"""The places where verl 0.9.1 cannot run on a CPU platform as it is, each answered in one shim.

Each shim names the verl line it answers. ``tests/recipe/aesr1/cpu/test_workarounds_on_cpu.py``
checks that verl still behaves that way, so a shim fails its test (and is removed) once verl is
fixed, instead of outliving its reason silently.

1. ``verl/utils/distributed.py:63`` (``initialize_global_process_group``, torchrun) and ``:89``
   (``initialize_global_process_group_ray``, Ray workers) build the backend string
   ``f"cpu:gloo,{device}:{backend}"``; with device ``cpu`` and backend ``gloo`` that is
   ``"cpu:gloo,cpu:gloo"``, which torch rejects ("Duplicate device type cpu").
   Shim: ``torch.distributed.init_process_group`` drops a repeated ``device:backend`` entry.
2. ``verl/workers/engine/fsdp/transformer_impl.py:462`` gives every forward-only (reference)
   FSDP2 engine ``CPUOffloadPolicy(pin_memory=True)``; pinning host memory needs an accelerator
   (``fully_shard`` fails at ``verl/utils/fsdp_utils.py:595``). Shim: torch's ``CPUOffloadPolicy``
   (which verl imports by name from ``torch.distributed.fsdp``) becomes a subclass that never pins
   memory. It must be applied before ``verl.utils.fsdp_utils`` is imported; the CPU backend is
   loaded by ``VERL_USE_EXTERNAL_MODULES`` while ``verl/__init__`` runs, which is before.
3. ``verl/workers/utils/padding.py:67`` nests Qwen2-VL's 3-D position ids ``(4, L_i)`` with
   ``torch.nested.as_nested_tensor``, which puts the ragged dimension where the sizes differ; when every
   sequence of the batch has the same length L it picks dim 1 (the 4), and then
   ``verl/utils/tensordict_utils.py:915`` (``maybe_fix_3d_position_ids``) declares dim 2 ragged, so the
   next ``unbind`` fails (``split_with_sizes expects split_sizes to sum exactly to L``) in the actor
   update. Tiny models on CPU write equal-length answers (all cut at the response length) every step.
   Shim: ``maybe_fix_3d_position_ids`` first re-nests such a tensor along dim 2. (A GPU run meets it
   too when a whole batch has equal lengths, which real models rarely produce.)
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass

import torch
import torch.distributed
import torch.distributed.fsdp


def dedupe_backend(backend: str | None) -> str | None:
    """``"cpu:gloo,cpu:gloo"`` -> ``"cpu:gloo"``: keep the first ``device:backend`` entry per device.

    Any other string (``"nccl"``, ``"cpu:gloo,cuda:nccl"``, None) comes back unchanged.
    """
    if not backend or "," not in backend:
        return backend
    entries, seen = [], set()
    for entry in backend.split(","):
        device = entry.split(":", 1)[0].strip() if ":" in entry else None
        if device is not None and device in seen:
            continue
        seen.add(device)
        entries.append(entry)
    return ",".join(entries)


def install_backend_dedupe() -> None:
    """Shim 1: wrap ``torch.distributed.init_process_group`` once (idempotent)."""
    original = torch.distributed.init_process_group
    if getattr(original, "_aesr1_dedupe", False):
        return

    @functools.wraps(original)
    def init_process_group(*args, **kwargs):
        if "backend" in kwargs:
            kwargs["backend"] = dedupe_backend(kwargs["backend"])
        elif args:
            args = (dedupe_backend(args[0]), *args[1:])
        return original(*args, **kwargs)

    init_process_group._aesr1_dedupe = True
    torch.distributed.init_process_group = init_process_group


@dataclass
class UnpinnedCPUOffloadPolicy(torch.distributed.fsdp.CPUOffloadPolicy):
    """torch's ``CPUOffloadPolicy`` that ignores ``pin_memory=True``: there is no device to pin for."""

    def __post_init__(self) -> None:
        self.pin_memory = False


def install_unpinned_offload() -> None:
    """Shim 2: verl's ``CPUOffloadPolicy(pin_memory=True)`` gets an unpinned policy."""
    if "verl.utils.fsdp_utils" in sys.modules:
        raise RuntimeError(
            "recipe.aesr1.cpu must be loaded before verl.utils.fsdp_utils "
            "(set VERL_USE_EXTERNAL_MODULES=recipe.aesr1.cpu.backend before Python imports verl)"
        )
    torch.distributed.fsdp.CPUOffloadPolicy = UnpinnedCPUOffloadPolicy


def renest_equal_length_position_ids(position_ids: torch.Tensor) -> torch.Tensor:
    """A 3-D jagged position-id tensor nested along dim 1 (equal lengths) -> the same rows nested along dim 2."""
    from verl.utils.tensordict_utils import nested_tensor_from_tensor_list

    if not (position_ids.is_nested and position_ids.dim() == 3 and getattr(position_ids, "_ragged_idx", 1) == 1):
        return position_ids
    values, total = position_ids.values(), int(position_ids.offsets()[-1])
    if values.shape[0] != total or values.shape[1] == total:  # already laid out along dim 2 (e.g. unpickled)
        return position_ids
    return nested_tensor_from_tensor_list(list(position_ids.unbind()), ragged_idx=2)


def install_position_ids_renest() -> None:
    """Shim 3: verl's ``maybe_fix_3d_position_ids`` re-nests equal-length position ids first."""
    import verl.utils.tensordict_utils as tensordict_utils

    original = tensordict_utils.maybe_fix_3d_position_ids
    if getattr(original, "_aesr1_renest", False):
        return
    if "verl.workers.engine_workers" in sys.modules:
        raise RuntimeError("recipe.aesr1.cpu.backend must be loaded before verl.workers.engine_workers")

    @functools.wraps(original)
    def maybe_fix_3d_position_ids(data):
        if "position_ids" in data.keys():
            data["position_ids"] = renest_equal_length_position_ids(data["position_ids"])
        return original(data)

    maybe_fix_3d_position_ids._aesr1_renest = True
    tensordict_utils.maybe_fix_3d_position_ids = maybe_fix_3d_position_ids


def install() -> None:
    install_backend_dedupe()
    install_unpinned_offload()
    install_position_ids_renest()
