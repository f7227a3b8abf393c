"""The CPU backend for verl 0.9.1: the platform, the hf rollout and the workarounds, registered on import.

Loaded only when asked for, in every process verl starts, by verl's own external-module hook::

    VERL_USE_EXTERNAL_MODULES=recipe.aesr1.cpu.backend VERL_PLATFORM=cpu python -m recipe.aesr1.rapo.main +cpu=rapo ...

(``recipe.aesr1.cpu.launch.cpu_environment()`` gives the full environment). Nothing else in the
project imports this module, so a GPU run never loads it. Importing it:

- registers ``CPUPlatform`` as ``cpu`` (``PlatformRegistry.register``; chosen by ``VERL_PLATFORM``);
- registers the ``hf`` rollout: ``HFReplica`` with ``RolloutReplicaRegistry.register`` (public API)
  and the worker-side ``HFServerAdapter`` in ``verl.workers.rollout.base._ROLLOUT_REGISTRY``
  (0.9.1 has no register function for it, only this dict: base.py:89);
- installs the workarounds of ``recipe.aesr1.cpu.workarounds`` (each names the verl line it answers)
  and, where torchvision cannot be imported, those of ``recipe.aesr1.cpu.no_torchvision``.

The FSDP engine is registered for cuda/npu only (transformer_impl.py:1143); the environment sets
``VERL_ENGINE_DEVICE=cuda`` (verl's own override, engine/base.py:405) to pick it, rather than a
second registration here, because importing the engine module this early would import verl's
trainer stack while ``verl/__init__`` is still running.
"""

from verl.workers.rollout.base import _ROLLOUT_REGISTRY
from verl.workers.rollout.replica import RolloutReplicaRegistry

from recipe.aesr1.cpu import no_torchvision, workarounds
from recipe.aesr1.cpu.platform import CPUPlatform

ROLLOUT_NAME = "hf"


def _load_replica() -> type:
    from recipe.aesr1.cpu.hf_server import HFReplica

    return HFReplica


RolloutReplicaRegistry.register(ROLLOUT_NAME, _load_replica)
_ROLLOUT_REGISTRY[(ROLLOUT_NAME, "async")] = "recipe.aesr1.cpu.hf_adapter.HFServerAdapter"
workarounds.install()
no_torchvision.install()

__all__ = ["CPUPlatform", "ROLLOUT_NAME"]
