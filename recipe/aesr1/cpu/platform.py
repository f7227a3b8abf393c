"""A CPU platform for verl 0.9.1, registered as ``cpu`` in verl's platform registry.

verl ships platforms for NVIDIA, Ascend and ROCm only; every device call goes through
``verl.plugin.platform.get_platform()``. This one answers those calls for a machine without an
accelerator: torch's ``cpu`` device, gloo for collectives, no-ops for caches, streams and profilers.

Ray's view: verl asks the platform for its Ray resource name and places each worker on a bundle of
that resource, and Ray refuses ``"CPU"`` as a custom resource inside ``resources``. The platform
therefore names ``GPU``, and the CPU launcher declares as many ``GPU`` slots as workers to Ray
(``ray_init.num_gpus``): a count for scheduling, no device behind it.
"""

from __future__ import annotations

import types
from contextlib import contextmanager
from typing import Any, Optional

import psutil
import torch
from verl.plugin.platform.platform_base import PlatformBase
from verl.plugin.platform.platform_manager import PlatformRegistry

NAME = "cpu"


def _memory_info() -> tuple[int, int]:
    memory = psutil.virtual_memory()
    return memory.available, memory.total


def _build_device_module() -> types.ModuleType:
    """A ``torch.cuda``-shaped namespace for the calls verl makes through ``get_torch_device()``."""
    module = types.ModuleType("aesr1_cpu_device", "torch.cuda-like calls answered on the CPU")
    zero = lambda *args, **kwargs: 0  # noqa: E731 - memory counters: nothing is allocated on a device
    none = lambda *args, **kwargs: None  # noqa: E731 - caches, streams and limits do not exist on CPU
    module.is_available = lambda: True
    module.device_count = lambda: 1
    module.current_device = lambda: "cpu"
    module.set_device = none
    module.synchronize = none
    module.empty_cache = none
    module.ipc_collect = none
    module.set_per_process_memory_fraction = none
    module.reset_peak_memory_stats = none
    module.memory_allocated = zero
    module.memory_reserved = zero
    module.max_memory_allocated = zero
    module.max_memory_reserved = zero
    module.mem_get_info = lambda *args, **kwargs: _memory_info()
    module.get_device_name = lambda *args, **kwargs: "cpu"
    module.manual_seed = torch.manual_seed
    module.manual_seed_all = torch.manual_seed
    module.get_rng_state = lambda *args, **kwargs: torch.get_rng_state()
    module.set_rng_state = lambda state, *args, **kwargs: torch.set_rng_state(state)
    module.Stream = torch.cpu.Stream
    module.Event = torch.cpu.Event if hasattr(torch.cpu, "Event") else torch.Event
    module.stream = torch.cpu.stream
    module.current_stream = torch.cpu.current_stream
    return module


@PlatformRegistry.register(platform=NAME)
class CPUPlatform(PlatformBase):
    """verl's platform interface answered by torch's CPU device (gloo collectives, no accelerator)."""

    _device_module = _build_device_module()

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self) -> types.ModuleType:
        return self._device_module

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check: bool = False) -> bool:
        # Never auto-detected: chosen only by VERL_PLATFORM=cpu.
        return False

    def current_device(self) -> str:
        # verl passes get_device_id() straight to torch as a device (``.to(get_device_id())``):
        # on a CPU that must be "cpu", since an integer means an accelerator's index to torch.
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        return None

    def synchronize(self, device_index: Optional[int] = None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0) -> tuple[Optional[int], Optional[int]]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        # Ray sets it for the declared GPU slots; nothing reads it on a CPU build of torch.
        return "CUDA_VISIBLE_DEVICES"

    @contextmanager
    def nvtx_range(self, msg: str):
        yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_resource_options(self, num_gpus: float) -> dict[str, Any]:
        return {"num_gpus": num_gpus}

    def ray_noset_envvars(self) -> list[str]:
        return ["RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES"]

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None
