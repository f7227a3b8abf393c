"""The environment and hydra overrides that put verl's SFT and PPO trainers on the CPU backend.

One place for them, used by the miniature pipeline, the CI tests and users who want a CPU run::

    env $(python -m recipe.aesr1.cpu.launch env) python -m recipe.aesr1.rapo.main +cpu=rapo ...

The hydra side lives in ``configs/cpu/{sft,rapo}.yaml`` (``+cpu=sft`` / ``+cpu=rapo``).
"""

from __future__ import annotations

import os
import sys

CPU_ENVIRONMENT = {
    # verl's external-module hook imports the CPU backend in every process that imports verl.
    "VERL_USE_EXTERNAL_MODULES": "recipe.aesr1.cpu.backend",
    "VERL_PLATFORM": "cpu",
    # The FSDP engine is registered for cuda/npu only (transformer_impl.py:1143); it is device-agnostic.
    "VERL_ENGINE_DEVICE": "cuda",
    # Tiny models: one intra-op thread per process is fastest, and the workers share 2 cores.
    "OMP_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "RAY_DEDUP_LOGS": "0",
    "WANDB_MODE": "disabled",
}


def cpu_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the CPU backend's variables set."""
    environment = dict(os.environ if base is None else base)
    environment.update(CPU_ENVIRONMENT)
    return environment


if __name__ == "__main__" and sys.argv[1:] == ["env"]:
    print(" ".join(f"{key}={value}" for key, value in CPU_ENVIRONMENT.items()))
